"""The periodic review: which active customers the enabled review rules propose for
deactivation, keeping a reviewed customer out of the queue until a date, and recording that a
review was completed.

A rule matches a customer when every condition it sets holds: its segment (or any segment),
no order for `inactivity_days` (a customer without orders counts from `created_at`), balance
over the credit limit, contract ended more than `contract_ended_days` ago. A **candidate** is
an active customer that matches at least one enabled rule and is not kept
(`review_kept_until` is empty or before today, UTC).

`candidates_select` is the one query behind the review page, its counts and
`flask customers review`; everything here is set-based SQL. `keep_in_review` and
`complete_review` are logged operations, one transaction each.
"""

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select, update

from admin_app.extensions import db
from admin_app.models import (
    AuditChainHead,
    AuditOperation,
    Customer,
    CustomerStatus,
    Reason,
    ReviewRule,
)
from admin_app.models.types import utcnow
from admin_app.services import input_rules
from admin_app.services.actions import OperationAction
from admin_app.services.audit import Actor, NewOperation, append_operation
from admin_app.services.errors import InvalidInput
from admin_app.services.selection_scope import ids_scope
from admin_app.services.transaction import write_transaction

REVIEW_COMPLETE = OperationAction.REVIEW_COMPLETE
REVIEW_KEEP = OperationAction.REVIEW_KEEP
MAX_KEEP_DAYS = 730
ID_CHUNK = 5000
STREAM_BATCH = 1000


@dataclass(frozen=True)
class Rule:
    """A review rule as plain data (safe to keep after the session ends)."""

    id: int
    name: str
    segment: str | None
    inactivity_days: int | None
    flag_over_credit: bool
    contract_ended_days: int | None
    reason_code: str | None
    enabled: bool
    name_zh: str | None = None  # the name in 简体中文 / 繁體中文 (None: show `name`)
    name_zh_hant: str | None = None

    @property
    def has_criterion(self) -> bool:
        return (
            self.inactivity_days is not None
            or self.flag_over_credit
            or self.contract_ended_days is not None
        )


def load_rules(*, enabled_only: bool = True) -> list[Rule]:
    """The review rules (by default only the enabled ones), ordered by id."""
    query = (
        select(ReviewRule, Reason.code)
        .outerjoin(Reason, Reason.id == ReviewRule.reason_id)
        .order_by(ReviewRule.id)
    )
    if enabled_only:
        query = query.where(ReviewRule.enabled.is_(True))
    return [
        Rule(
            rule.id,
            rule.name,
            rule.segment,
            rule.inactivity_days,
            rule.flag_over_credit,
            rule.contract_ended_days,
            reason_code,
            rule.enabled,
            rule.name_zh,
            rule.name_zh_hant,
        )
        for rule, reason_code in db.session.execute(query).all()
    ]


def rule_condition(rule: Rule, *, now: datetime) -> ColumnElement[bool]:
    """SQL that is true for a customer matching every condition the rule sets."""
    criteria: list[ColumnElement[bool]] = []
    if rule.inactivity_days is not None:
        last_activity = func.coalesce(Customer.last_order_at, Customer.created_at)
        criteria.append(last_activity < now - timedelta(days=rule.inactivity_days))
    if rule.flag_over_credit:
        criteria.append(Customer.balance > Customer.credit_limit)
    if rule.contract_ended_days is not None:
        ended_before = now.date() - timedelta(days=rule.contract_ended_days)
        criteria.append(Customer.contract_end < ended_before)
    if not criteria:
        return false()
    if rule.segment:
        criteria.insert(0, Customer.segment == rule.segment)
    return and_(*criteria)


def in_queue(*, today: date) -> ColumnElement[bool]:
    """Active and not kept out of the review until a date still to come."""
    return and_(
        Customer.status == CustomerStatus.ACTIVE.value,
        or_(Customer.review_kept_until.is_(None), Customer.review_kept_until < today),
    )


def candidate_condition(
    rules: Sequence[Rule], *, now: datetime, rule_id: int | None = None
) -> ColumnElement[bool]:
    """Candidates for any of `rules` (or only for the rule `rule_id`)."""
    chosen = [rule for rule in rules if rule_id is None or rule.id == rule_id]
    matches = [rule_condition(rule, now=now) for rule in chosen]
    return and_(in_queue(today=now.date()), or_(*matches) if matches else false())


def _flag(rule: Rule, now: datetime):
    return case((rule_condition(rule, now=now), 1), else_=0).label(f"rule_{rule.id}")


CANDIDATE_COLUMNS = (
    Customer.id,
    Customer.code,
    Customer.name,
    Customer.segment,
    Customer.balance,
    Customer.credit_limit,
    Customer.last_order_at,
    Customer.contract_end,
    Customer.created_at,
)
CANDIDATE_FIELDS = tuple(column.key for column in CANDIDATE_COLUMNS)


def candidates_select(
    rules: Sequence[Rule],
    *,
    now: datetime,
    rule_id: int | None = None,
    segment: str | None = None,
) -> Select:
    """The review query: candidates with their columns and one 0/1 column per rule saying
    whether it matched, ordered by code. The review page, its counts and the CLI use it."""
    query = (
        select(*CANDIDATE_COLUMNS, *[_flag(rule, now) for rule in rules])
        .where(candidate_condition(rules, now=now, rule_id=rule_id))
        .order_by(Customer.code)
    )
    if segment:
        query = query.where(Customer.segment == segment)
    return query


@dataclass(frozen=True)
class Candidate:
    id: int
    code: str
    name: str
    segment: str
    balance: Decimal
    credit_limit: Decimal
    last_order_at: datetime | None
    contract_end: date | None
    created_at: datetime
    rules: tuple[Rule, ...]

    @property
    def matched_text(self) -> str:
        return "; ".join(rule.name for rule in self.rules)

    @property
    def reason_code(self) -> str | None:
        """The reason to preselect: that of the first matched rule that names one."""
        return next((rule.reason_code for rule in self.rules if rule.reason_code), None)


def _candidate(row, rules: Sequence[Rule]) -> Candidate:
    width = len(CANDIDATE_COLUMNS)
    flags = row[width:]
    return Candidate(
        **dict(zip(CANDIDATE_FIELDS, row[:width], strict=True)),
        rules=tuple(rule for rule, hit in zip(rules, flags, strict=True) if hit),
    )


def iter_candidates(
    rules: Sequence[Rule] | None = None,
    *,
    now: datetime | None = None,
    rule_id: int | None = None,
    segment: str | None = None,
) -> Iterator[Candidate]:
    """Stream every candidate (ordered by code) without loading them all at once."""
    rules = load_rules() if rules is None else list(rules)
    now = now or utcnow()
    if not rules:
        return
    query = candidates_select(rules, now=now, rule_id=rule_id, segment=segment)
    result = db.session.execute(query.execution_options(yield_per=STREAM_BATCH))
    for row in result:
        yield _candidate(row, rules)


def matched_rules(
    ids: Sequence[int], rules: Sequence[Rule], *, now: datetime
) -> dict[int, Candidate]:
    """The candidates among `ids` (a page of the review list) with the rules each matched."""
    if not ids or not rules:
        return {}
    query = candidates_select(rules, now=now).where(Customer.id.in_(list(ids))).order_by(None)
    return {row[0]: _candidate(row, rules) for row in db.session.execute(query)}


@dataclass(frozen=True)
class QueueCounts:
    total: int
    per_rule: dict[int, int]


def count_candidates(
    rules: Sequence[Rule] | None = None, *, now: datetime | None = None
) -> QueueCounts:
    """How many candidates there are, and how many each rule matches, in ONE query (one
    conditional COUNT per rule over the customers in the queue)."""
    rules = load_rules() if rules is None else list(rules)
    now = now or utcnow()
    if not rules:
        return QueueCounts(0, {})
    conditions = [rule_condition(rule, now=now) for rule in rules]
    query = select(
        func.count(case((or_(*conditions), 1))),
        *[func.count(case((condition, 1))) for condition in conditions],
    ).where(in_queue(today=now.date()))
    total, *per_rule = db.session.execute(query).one()
    return QueueCounts(total, {rule.id: count for rule, count in zip(rules, per_rule, strict=True)})


def count_by_rule_ids(rule_ids: Sequence[int], *, now: datetime | None = None) -> dict[int, int]:
    """How many customers in the queue each of these rules (enabled or not) matches now
    (`current_counts`: reused within the minute while the log has not moved)."""
    wanted = set(rule_ids)
    rules = [rule for rule in load_rules(enabled_only=False) if rule.id in wanted]
    return current_counts(rules, now=now).per_rule


# The counts the pages show (dashboard, review queue, rules page): one scan of the active
# customers (80 ms at 100,000 customers on PostgreSQL, growing with the table), so a page reuses
# the last result while nothing it depends on can have changed:
# - the rules, compared field by field (a Rule is plain, hashable data);
# - the customers: every change the app makes to a customer (status, edit, order, keep in
#   review, revert...) appends an operation to the log, so the chain head (newest operation
#   id and hash) moves with it. A change made outside the app is seen at the next minute;
# - the time: the minute of `now` (inactivity is measured to the second; a customer crossing a
#   rule's threshold shows up in the next minute, and the day-based conditions at midnight).
# Kept per app and per process (gunicorn worker), at most COUNT_CACHE_SIZE results.
COUNT_CACHE_SIZE = 16
_count_cache_lock = threading.Lock()


def _log_head() -> tuple:
    return tuple(
        db.session.execute(
            select(AuditChainHead.last_operation_id, AuditChainHead.last_hash).where(
                AuditChainHead.id == 1
            )
        ).first()
        or ()
    )


def current_counts(
    rules: Sequence[Rule] | None = None, *, now: datetime | None = None
) -> QueueCounts:
    """`count_candidates` for a page: the result of an earlier call is reused when the rules,
    the operation log's head and the minute of `now` are the same (see above); otherwise the
    queue is counted again. Read-only."""
    rules = load_rules() if rules is None else list(rules)
    now = now or utcnow()
    key = (tuple(rules), _log_head(), now.replace(second=0, microsecond=0))
    cache: OrderedDict = current_app.extensions.setdefault("review_queue_counts", OrderedDict())
    with _count_cache_lock:
        counts = cache.get(key)
        if counts is not None:
            cache.move_to_end(key)
            return counts
    counts = count_candidates(rules, now=now)
    with _count_cache_lock:
        cache[key] = counts
        while len(cache) > COUNT_CACHE_SIZE:
            cache.popitem(last=False)
    return counts


# -- keeping reviewed customers out of the queue ------------------------------------------------


@dataclass(frozen=True)
class KeepResult:
    operation_id: int | None
    until: date
    changed: int
    skipped: int


def parse_keep_date(value: str | None, *, today: date | None = None) -> date:
    """A keep-until date: ISO format, after today, at most MAX_KEEP_DAYS ahead."""
    today = today or utcnow().date()
    try:
        until = date.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput(_("Enter the keep-until date as YYYY-MM-DD.")) from None
    if until <= today:
        raise InvalidInput(_("The keep-until date must be after today."))
    if until > today + timedelta(days=MAX_KEEP_DAYS):
        raise InvalidInput(_("Keep a customer for at most %(max)d days.", max=MAX_KEEP_DAYS))
    return until


def keep_in_review(
    customer_ids: Sequence[int],
    until: date,
    *,
    actor: Actor,
    memo: str = "",
    today: date | None = None,
) -> KeepResult:
    """Keep the active customers among `customer_ids` out of the review queue until `until`
    (inclusive): set `review_kept_until`, bump their version, log one `review_keep` operation
    with one entry per customer. Commits once. Customers that are not active, do not exist or
    are already kept until that date are skipped; when none changes nothing is logged.
    Raises InvalidInput (date, memo)."""
    today = today or utcnow().date()
    if until <= today or until > today + timedelta(days=MAX_KEEP_DAYS):
        raise InvalidInput(
            _("The keep-until date must be after today and within %(max)d days.", max=MAX_KEEP_DAYS)
        )
    memo = (memo or "").strip()
    memo = input_rules.memo(memo)
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        raise InvalidInput(_("Select at least one customer."))
    entries: list[tuple] = []
    with write_transaction() as session:
        now = utcnow()
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start : start + ID_CHUNK]
            rows = session.execute(
                select(Customer.id, Customer.code, Customer.review_kept_until)
                .where(
                    Customer.id.in_(chunk),
                    Customer.status == CustomerStatus.ACTIVE.value,
                    or_(Customer.review_kept_until.is_(None), Customer.review_kept_until != until),
                )
                .order_by(Customer.id)
                .with_for_update()
            ).all()
            if not rows:
                continue
            session.execute(
                update(Customer)
                .where(Customer.id.in_([row.id for row in rows]))
                .values(review_kept_until=until, version=Customer.version + 1, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            entries.extend(
                (
                    "customer",
                    row.id,
                    row.code,
                    "review_kept_until",
                    row.review_kept_until.isoformat() if row.review_kept_until else None,
                    until.isoformat(),
                )
                for row in rows
            )
        if not entries:
            return KeepResult(None, until, 0, len(ids))
        scope = ids_scope(ids, until=until.isoformat())
        operation = append_operation(
            NewOperation(
                actor=actor,
                action=REVIEW_KEEP,
                entries=entries,
                memo=memo,
                scope=scope,
                changed_count=len(entries),
                skipped_count=len(ids) - len(entries),
            )
        )
    return KeepResult(operation.id, until, len(entries), len(ids) - len(entries))


# -- completing a review ------------------------------------------------------------------------


@dataclass(frozen=True)
class CompletedReview:
    operation_id: int
    candidates: int
    per_rule: dict[int, int]


def complete_review(*, actor: Actor, memo: str = "") -> CompletedReview:
    """Record that the review was done: one `review_complete` operation whose scope holds the
    candidate count now and each enabled rule's count. Changes no customer. Commits once."""
    memo = (memo or "").strip()
    memo = input_rules.memo(memo)
    with write_transaction():
        now = utcnow()
        rules = load_rules()
        counts = count_candidates(rules, now=now)
        scope = {
            "as_of": now.isoformat(),
            "candidates": counts.total,
            "rules": [
                {"id": rule.id, "name": rule.name, "matched": counts.per_rule[rule.id]}
                for rule in rules
            ],
        }
        operation = append_operation(
            NewOperation(
                actor=actor,
                action=REVIEW_COMPLETE,
                memo=memo,
                scope=scope,
                changed_count=0,
            )
        )
    return CompletedReview(operation.id, counts.total, counts.per_rule)


def last_completed_review() -> AuditOperation | None:
    """The newest `review_complete` operation, or None."""
    return db.session.execute(
        select(AuditOperation)
        .where(AuditOperation.action == REVIEW_COMPLETE)
        .order_by(AuditOperation.created_at.desc(), AuditOperation.id.desc())
        .limit(1)
    ).scalar_one_or_none()
