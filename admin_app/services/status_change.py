"""Bulk status changes: deactivate, freeze and reactivate customers.

Two steps, each one transaction:

1. `create_request` snapshots the selection (ids, or every customer matching a filter) with
   each customer's status and version into a StatusChangeRequest; `describe` tells what would
   change.
2. `execute` applies the action to exactly that snapshot: one set-based UPDATE per chunk of the
   snapshot (only customers still in an allowed status and unchanged since the preview), then
   one operation and its entries in the log. All or nothing; a confirmation runs once.

With `services.revert` (which puts an operation's customers back, the same way), the only code
that changes a customer's status.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import cast

from flask_babel import gettext as _
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    any_,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.types import ARRAY

from admin_app.extensions import db
from admin_app.models import (
    ApprovalRequest,
    AuditOperation,
    Customer,
    Reason,
    StatusAction,
    StatusChangeRequest,
    StatusChangeRequestItem,
)
from admin_app.models.customer import over_credit
from admin_app.models.types import utcnow
from admin_app.services import input_rules
from admin_app.services.actions import OperationAction
from admin_app.services.audit import (
    Actor,
    NewOperation,
    append_operation,
    append_operation_from_select,
    canonical_json,
)
from admin_app.services.errors import ConfirmationUsed, Expired, InvalidInput, NotAllowed
from admin_app.services.input_rules import MAX_ID, parse_rowids
from admin_app.services.transaction import write_transaction

ID_CHUNK = 5000
RECENT_ORDER_DAYS = 30
REQUEST_RETENTION = timedelta(days=1)

# Warnings of the confirmation page: what makes stopping a customer costly. They concern the
# actions that stop a customer (not reactivation); each names the rows it is about.
WARN_OPEN_BALANCE = "open_balance"
WARN_RECENT_ORDERS = "recent_orders"
WARNING_ACTIONS = frozenset({StatusAction.DEACTIVATE, StatusAction.FREEZE})

SKIP_ALREADY = "already"
SKIP_NOT_ALLOWED = "not_allowed"
SKIP_CHANGED = "changed"
SKIP_MISSING = "missing"


def parse_action(value: str | None) -> StatusAction:
    if not value:
        raise InvalidInput(_("Choose an action."), field="action")
    try:
        return StatusAction(value)
    except ValueError:
        raise InvalidInput(_("Unknown action."), field="action") from None


@dataclass(frozen=True)
class PreviewRow:
    id: int
    code: str
    name: str
    status: str
    current_status: str
    balance: Decimal
    credit_limit: Decimal
    last_order_at: datetime | None
    skip: str | None = None

    @property
    def is_over_credit(self) -> bool:
        return over_credit(self.balance, self.credit_limit)


@dataclass
class Preview:
    request_id: str
    action: StatusAction
    created_by: int | None  # None for a snapshot made from the command line
    selected: int
    missing: int
    eligible: int
    skipped: dict[str, int]
    rows: list[PreviewRow]
    skipped_rows: list[PreviewRow]
    with_open_balance: int
    with_recent_orders: int
    return_url: str
    scope: dict = field(default_factory=dict)
    only: str | None = None  # the warning whose rows `rows` lists (None: every changing row)
    offset: int = 0  # the position of rows[0] among those rows
    listed: int = 0  # how many rows there are to list (all pages)

    @property
    def warnings(self) -> dict[str, int]:
        """The warnings that apply, with how many changing customers each concerns."""
        found = {
            WARN_OPEN_BALANCE: self.with_open_balance,
            WARN_RECENT_ORDERS: self.with_recent_orders,
        }
        return {name: count for name, count in found.items() if count}

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


@dataclass(frozen=True)
class OperationResult:
    operation_id: int
    action: StatusAction
    changed: int
    skipped: dict[str, int]

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def create_request(
    *,
    action: StatusAction,
    actor: Actor,
    ids: Sequence[int] | None = None,
    matching: Select | None = None,
    scope: dict | None = None,
    return_url: str = "",
) -> str:
    """Snapshot the selection — explicit `ids`, or the ids selected by `matching` — with each
    customer's status and version. Commits. Returns the request id for `describe`/`execute`."""
    if (ids is None) == (matching is None):
        raise ValueError("pass exactly one of ids / matching")
    request_id = uuid.uuid4().hex
    with write_transaction() as session:
        _purge_old_requests(session)
        session.execute(
            insert(StatusChangeRequest).values(
                id=request_id,
                created_by=actor.id,
                action=action.value,
                created_at=utcnow(),
                scope=canonical_json(scope or {}),
                return_url=return_url[:2000],
            )
        )
        if ids is not None:
            selected = _snapshot_ids(session, request_id, ids)
            missing = len(ids) - selected
        elif matching is not None:
            selected = _snapshot_query(session, request_id, matching, offset=0)
            missing = 0
        session.execute(
            update(StatusChangeRequest)
            .where(StatusChangeRequest.id == request_id)
            .values(selected_count=selected + missing, missing_count=missing)
        )
    return request_id


def _snapshot_ids(session, request_id: str, ids: Sequence[int]) -> int:
    taken = 0
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        taken += _snapshot_where(session, request_id, _id_in(session, chunk), offset=taken)
    return taken


def _id_in(session, ids: Sequence[int]):
    if session.get_bind().dialect.name == "postgresql":
        # One array parameter: binds and plans much faster than IN with thousands of values.
        return Customer.id == any_(literal(list(ids), ARRAY(BigInteger)))
    return Customer.id.in_(ids)


def _snapshot_query(session, request_id: str, matching: Select, *, offset: int) -> int:
    """INSERT ... SELECT the matching customers into the snapshot; returns how many."""
    matched_ids = matching.order_by(None).subquery()
    return _snapshot_where(
        session, request_id, Customer.id.in_(select(matched_ids.c.id)), offset=offset
    )


def _snapshot_where(session, request_id: str, condition, *, offset: int) -> int:
    """INSERT ... SELECT the customers meeting `condition` into the snapshot, numbered from
    offset + 1 in id order; returns how many."""
    rows = select(
        literal(request_id),
        (func.row_number().over(order_by=Customer.id) + offset),
        Customer.id,
        Customer.status,
        Customer.version,
    ).where(condition)
    session.execute(
        insert(StatusChangeRequestItem).from_select(
            ["request_id", "seq", "customer_id", "status", "version"], rows
        )
    )
    # Counted, not taken from rowcount: drivers disagree on INSERT ... SELECT rowcounts.
    return (
        session.execute(
            select(func.count()).where(StatusChangeRequestItem.request_id == request_id)
        ).scalar_one()
        - offset
    )


def matches_snapshot(request_id: str, posted_ids: Sequence[str]) -> bool:
    """True when `posted_ids` name exactly the customers of the request's snapshot."""
    try:
        posted = set(parse_rowids(posted_ids, limit=MAX_ID))
    except InvalidInput:
        return False
    snapshot = set(
        db.session.execute(
            select(StatusChangeRequestItem.customer_id).where(
                StatusChangeRequestItem.request_id == request_id
            )
        ).scalars()
    )
    return posted == snapshot


def _purge_old_requests(session) -> None:
    # A snapshot waiting for approval stays until its request is decided (services.approvals).
    awaiting_approval = select(ApprovalRequest.snapshot_id).where(
        ApprovalRequest.status == "pending", ApprovalRequest.snapshot_id.is_not(None)
    )
    stale = select(StatusChangeRequest.id).where(
        StatusChangeRequest.created_at < utcnow() - REQUEST_RETENTION,
        StatusChangeRequest.id.not_in(awaiting_approval),
    )
    session.execute(
        delete(StatusChangeRequestItem).where(StatusChangeRequestItem.request_id.in_(stale))
    )
    session.execute(delete(StatusChangeRequest).where(StatusChangeRequest.id.in_(stale)))


def load_request(request_id: str) -> StatusChangeRequest:
    """The snapshot `request_id`; raises Expired when it is gone (or could never exist)."""
    request = db.session.get(StatusChangeRequest, request_id) if len(request_id) <= 64 else None
    if request is None:
        raise Expired(_("This confirmation has expired. Please start again."))
    return request


def changing_count(request_id: str) -> int:
    """How many customers of the snapshot the action applies to (as `describe` and `execute`
    count them: by the status each had when the snapshot was taken)."""
    request = load_request(request_id)
    return _snapshot_breakdown(request, StatusAction(request.action))[0]


def _warning_conditions() -> dict:
    recent = utcnow() - timedelta(days=RECENT_ORDER_DAYS)
    return {
        WARN_OPEN_BALANCE: Customer.balance > 0,
        WARN_RECENT_ORDERS: Customer.last_order_at >= recent,
    }


def changed_since(request_id: str) -> int:
    """How many customers the snapshot's action would apply to have changed (or are gone)
    since the snapshot: `execute` skips them."""
    request = load_request(request_id)
    item = StatusChangeRequestItem
    allowed = [s.value for s in StatusAction(request.action).allowed_from]
    unchanged = (
        select(func.count())
        .select_from(item)
        .join(Customer, Customer.id == item.customer_id)
        .where(item.request_id == request_id, item.status.in_(allowed))
        .where(Customer.version == item.version)
    )
    return changing_count(request_id) - db.session.execute(unchanged).scalar_one()


def owned_request_action(request_id: str, *, user_id: int, max_age_seconds: int) -> StatusAction:
    """The action of request `request_id` when `user_id` created it less than
    `max_age_seconds` ago (how long its confirmation token lives); raises Expired (gone or
    too old) or NotAllowed (another user's)."""
    request = db.session.get(StatusChangeRequest, request_id) if len(request_id) <= 64 else None
    if request is None:
        raise Expired(_("This confirmation has expired. Please start again."))
    if request.created_by != user_id:
        raise NotAllowed(_("This confirmation belongs to another user."))
    created_at = request.created_at
    if created_at.tzinfo is None:  # SQLite returns naive UTC
        created_at = created_at.replace(tzinfo=utcnow().tzinfo)
    if utcnow() - created_at > timedelta(seconds=max_age_seconds):
        raise Expired(_("This confirmation has expired. Please start again."))
    return StatusAction(request.action)


def describe(
    request_id: str, *, max_rows: int = 100, offset: int = 0, only: str | None = None
) -> Preview:
    """What executing the request would do now: counts, warnings, and one page of rows of
    each kind (`max_rows` from position `offset` of the changing rows, in code order; with
    `only`, just the changing rows that warning concerns)."""
    request = load_request(request_id)
    action = StatusAction(request.action)
    allowed = StatusChangeRequestItem.status.in_([s.value for s in action.allowed_from])

    eligible, skipped = _snapshot_breakdown(request, action)
    joined = _snapshot_customers(request_id)
    conditions = _warning_conditions() if action in WARNING_ACTIONS else {}
    warnings = {name: 0 for name in (WARN_OPEN_BALANCE, WARN_RECENT_ORDERS)}
    if conditions:
        counts = db.session.execute(
            joined.with_only_columns(
                *(func.count(case((condition, 1))) for condition in conditions.values())
            ).where(allowed)
        ).one()
        warnings.update(zip(conditions, counts, strict=True))
    if only not in conditions:
        only = None
    changing = joined.where(allowed)
    if only is not None:
        changing = changing.where(conditions[only])
    listed = warnings[only] if only is not None else eligible
    offset = max(0, min(offset, max(listed - 1, 0)))
    return Preview(
        request_id=request_id,
        action=action,
        created_by=request.created_by,
        selected=request.selected_count,
        missing=request.missing_count,
        eligible=eligible,
        skipped=skipped,
        rows=_preview_rows(changing, max_rows, action, offset=offset),
        # Rows skipped by their snapshot status, read only when the snapshot's counts have any.
        skipped_rows=(
            _preview_rows(joined.where(~allowed), max_rows, action)
            if skipped.get(SKIP_ALREADY) or skipped.get(SKIP_NOT_ALLOWED)
            else []
        ),
        with_open_balance=warnings[WARN_OPEN_BALANCE],
        with_recent_orders=warnings[WARN_RECENT_ORDERS],
        return_url=request.return_url,
        scope=_json(request.scope),
        only=only,
        offset=offset,
        listed=listed,
    )


def iter_preview_rows(request_id: str, *, batch: int = 1000):
    """Every customer of the request's snapshot, changing ones first, each in code order, as
    PreviewRow (`skip` says why one would be skipped); streamed in batches. Raises Expired
    (request gone) at once, not when iterated."""
    request = load_request(request_id)
    action = StatusAction(request.action)
    allowed = StatusChangeRequestItem.status.in_([s.value for s in action.allowed_from])
    joined = _snapshot_customers(request_id)
    return _iter_rows((joined.where(allowed), joined.where(~allowed)), action, batch)


def _iter_rows(queries, action: StatusAction, batch: int):
    for query in queries:
        offset = 0
        while True:
            rows = _preview_rows(query, batch, action, offset=offset)
            yield from rows
            if len(rows) < batch:
                break
            offset += batch


def _snapshot_customers(request_id: str) -> Select:
    """The snapshot's customers joined to their rows now: the columns a PreviewRow shows (plain
    rows, not ORM objects: a preview page or an export reads many)."""
    item = StatusChangeRequestItem
    return (
        select(
            Customer.id,
            Customer.code,
            Customer.name,
            item.status.label("snapshot_status"),
            item.version.label("snapshot_version"),
            Customer.status,
            Customer.version,
            Customer.balance,
            Customer.credit_limit,
            Customer.last_order_at,
        )
        .join(Customer, Customer.id == item.customer_id)
        .where(item.request_id == request_id)
    )


def _preview_rows(
    query: Select, limit: int, action: StatusAction, offset: int = 0
) -> list[PreviewRow]:
    rows = []
    ordered = query.order_by(Customer.code, Customer.id).offset(offset).limit(limit)
    for row in db.session.execute(ordered):
        skip = None
        if row.snapshot_status == action.target.value:
            skip = SKIP_ALREADY
        elif row.snapshot_status not in action.allowed_from:
            skip = SKIP_NOT_ALLOWED
        elif row.version != row.snapshot_version:
            skip = SKIP_CHANGED
        rows.append(
            PreviewRow(
                id=row.id,
                code=row.code,
                name=row.name,
                status=row.snapshot_status,
                current_status=row.status,
                balance=row.balance,
                credit_limit=row.credit_limit,
                last_order_at=row.last_order_at,
                skip=skip,
            )
        )
    return rows


def _json(text: str) -> dict:
    import json

    try:
        return json.loads(text or "{}")
    except ValueError:
        return {}


def reasons_for(action: StatusAction | None) -> list[Reason]:
    """Enabled reasons that apply to `action` (None: every enabled reason), in order."""
    query = select(Reason).where(Reason.enabled.is_(True))
    if action is not None:
        query = query.where(getattr(Reason, f"for_{action.value}").is_(True))
    return list(db.session.execute(query.order_by(Reason.position, Reason.label)).scalars())


def validated_reason(action: StatusAction | None, reason_code: str | None, memo: str) -> Reason:
    """The enabled reason `reason_code` if it may be used for `action` (None: any action)
    with this memo; raises InvalidInput otherwise."""
    if not reason_code:
        raise InvalidInput(_("Choose a reason."), field="reason")
    reason = db.session.execute(
        select(Reason).where(Reason.code == reason_code)
    ).scalar_one_or_none()
    if (
        reason is None
        or not reason.enabled
        or (action is not None and not reason.applies_to(action.value))
    ):
        raise InvalidInput(_("This reason cannot be used for this action."), field="reason")
    memo = input_rules.memo(memo)
    if reason.memo_required and not memo.strip():
        raise InvalidInput(_("This reason requires a memo."), field="memo")
    return reason


def ensure_unused(request_id: str) -> None:
    """Raise ConfirmationUsed when the confirmation `request_id` already ran (checked again,
    under the writers' lock, by `execute`)."""
    used = db.session.execute(
        select(AuditOperation.id).where(AuditOperation.confirmation_id == request_id)
    ).scalar_one_or_none()
    if used is not None:
        raise ConfirmationUsed(
            _(
                "This confirmation was already used (operation #%(id)d). Nothing was changed.",
                id=used,
            ),
            operation_id=used,
        )  # noqa: E501


def execute(
    request_id: str,
    *,
    actor: Actor,
    reason_code: str | None,
    memo: str = "",
    chunk_size: int = ID_CHUNK,
    on_applied: Callable[..., None] | None = None,
) -> OperationResult:
    """Apply the previewed action to the request's snapshot and log it, in one transaction.

    Customers no longer in an allowed status, or changed since the preview, are skipped.
    Raises NotAllowed (another user's confirmation), InvalidInput (reason / memo),
    ConfirmationUsed (already executed), Expired (request gone). Commits once; on any error
    nothing changes. `on_applied(session, request, action, reason, operation, changed)` runs
    in the same transaction after the operation is logged (services.scheduling schedules an
    automatic reactivation there).
    """
    memo = memo or ""
    with write_transaction() as session:
        request, reason = checked_request(
            request_id, actor=actor, reason_code=reason_code, memo=memo
        )
        return apply_request(
            session,
            request,
            actor=actor,
            reason=reason,
            memo=memo,
            chunk_size=chunk_size,
            on_applied=on_applied,
        )


def checked_request(
    request_id: str, *, actor: Actor, reason_code: str | None, memo: str
) -> tuple[StatusChangeRequest, Reason]:
    """Inside the caller's write transaction, the checks every confirmation of snapshot
    `request_id` passes (now, or with dates): the actor's own snapshot, not used yet, a reason
    valid for its action with this memo, and no four-eyes approval needed. Returns the snapshot
    and the reason; raises NotAllowed, ConfirmationUsed, InvalidInput, ApprovalRequired,
    Expired."""
    request = load_request(request_id)
    if request.created_by != actor.id:
        raise NotAllowed(_("This confirmation belongs to another user."))
    ensure_unused(request_id)
    reason = validated_reason(StatusAction(request.action), reason_code, memo)
    _refuse_when_approval_required(request_id, reason)
    return request, reason


def _refuse_when_approval_required(request_id: str, reason: Reason) -> None:
    from admin_app.services import approvals  # approvals builds on this module

    if approvals.needs_approval(request_id, reason):
        raise approvals.ApprovalRequired(
            _("This change needs a second person's approval; send it for approval instead.")
        )


def apply_request(
    session,
    request: StatusChangeRequest,
    *,
    actor: Actor,
    reason: Reason,
    memo: str,
    chunk_size: int = ID_CHUNK,
    scope: dict | None = None,
    on_applied: Callable[..., None] | None = None,
) -> OperationResult:
    """The body of `execute`, inside the caller's write transaction (lock held, checks made):
    apply the snapshot's action and append its operation (`scope` adds to the logged scope).
    Also runs an approved request (services.approvals). Does not commit."""
    action = StatusAction(request.action)
    if on_applied is None and _streams(session, request, chunk_size):
        return _execute_streamed(
            session, request.id, request, action, reason, actor, memo, chunk_size, scope
        )
    changed = _apply_in_chunks(session, request, action, reason, actor, chunk_size)
    eligible, skipped = _snapshot_breakdown(request, action)
    if eligible > len(changed):
        skipped[SKIP_CHANGED] = eligible - len(changed)
    changed.sort()
    target = action.target.value
    operation = append_operation(
        NewOperation(
            actor=actor,
            action=OperationAction(action.value),
            entries=[("customer", cid, code, "status", old, target) for cid, code, old in changed],
            reason_code=reason.code,
            memo=memo,
            scope={**_json(request.scope), "selected": request.selected_count, **(scope or {})},
            changed_count=len(changed),
            skipped_count=sum(skipped.values()),
            confirmation_id=request.id,
        )
    )
    if on_applied is not None:
        on_applied(session, request, action, reason, operation, changed)
    return OperationResult(operation.id, action, len(changed), skipped)


def _streams(session, request: StatusChangeRequest, chunk_size: int) -> bool:
    """PostgreSQL streams a snapshot of more than one chunk through the database, in memory
    that does not grow with it. One chunk is cheaper held in Python: no temporary table to
    create and drop, no second pass over the changed rows."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    return request.selected_count - request.missing_count > chunk_size


def _execute_streamed(
    session, request_id, request, action, reason, actor, memo, chunk_size, scope=None
):
    """PostgreSQL: `execute` in memory that does not grow with the selection (1,000,000
    customers in one confirmation). Each chunk's UPDATE … RETURNING feeds, in the same
    statement, a temporary table of the changed customers (id, code, old status) instead of
    Python; the operation's entries are then hashed from that table as they stream past and
    inserted from it with one INSERT … SELECT, in customer id order, as `execute` logs them."""
    changed_table = _changed_table(session)
    total = request.selected_count - request.missing_count
    now = utcnow()
    for start in range(0, total, chunk_size):
        in_chunk = _chunk_condition(request, action, start, chunk_size)
        change = (
            _chunk_update(in_chunk, action, reason, actor, now)
            .returning(Customer.id, Customer.code, StatusChangeRequestItem.status)
            .cte("changed")
        )
        session.execute(
            insert(changed_table).from_select(
                ["customer_id", "code", "old_status"], select(*change.c)
            )
        )
    changed_count = session.execute(select(func.count()).select_from(changed_table)).scalar_one()
    eligible, skipped = _snapshot_breakdown(request, action)
    if eligible > changed_count:
        skipped[SKIP_CHANGED] = eligible - changed_count
    c = changed_table.c
    entries = select(
        literal("customer", String),
        c.customer_id,
        c.code,
        literal("status", String),
        c.old_status,
        literal(action.target.value, String),
    ).order_by(c.customer_id)
    operation = append_operation_from_select(
        NewOperation(
            actor=actor,
            action=OperationAction(action.value),
            reason_code=reason.code,
            memo=memo,
            scope={**_json(request.scope), "selected": request.selected_count, **(scope or {})},
            changed_count=changed_count,
            skipped_count=sum(skipped.values()),
            confirmation_id=request_id,
        ),
        entries,
    )
    return OperationResult(operation.id, action, changed_count, skipped)


# A temporary table (dropped at the end of the transaction) for the changed customers. Defined
# once, so the statements that name it are compiled once (SQLAlchemy's cache keys tables by
# identity).
_CHANGED_TABLE = Table(
    "status_change_changed",
    MetaData(),
    Column("customer_id", Integer, primary_key=True),
    Column("code", String),
    Column("old_status", String),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


def _changed_table(session) -> Table:
    _CHANGED_TABLE.create(session.connection())
    return _CHANGED_TABLE


def _apply_in_chunks(session, request, action, reason, actor, chunk_size):
    """UPDATE the snapshot chunk by chunk; returns (id, code, old status) of each change
    (PostgreSQL streams a larger snapshot: `_streams`).

    A customer changes only if its version is still the previewed one (so its old status is
    the snapshot's) and its status allows the action. Each chunk is one UPDATE ... FROM the
    snapshot by a range of its positions: no id lists travel to the database. PostgreSQL's
    UPDATE returns the changed rows with the snapshot's status. SQLite's RETURNING cannot name
    the snapshot, so there the changed rows are read with the same condition first; the
    transaction holds the writer lock (see services.transaction), so nothing can change a row
    between that read and the UPDATE.
    """
    item = StatusChangeRequestItem
    total = request.selected_count - request.missing_count  # the snapshot's seq runs 1..total
    returning = session.get_bind().dialect.name == "postgresql"
    now = utcnow()
    changed: list[tuple[int, str, str]] = []
    for start in range(0, total, chunk_size):
        in_chunk = _chunk_condition(request, action, start, chunk_size)
        update_chunk = _chunk_update(in_chunk, action, reason, actor, now)
        if returning:
            rows = session.execute(
                update_chunk.returning(Customer.id, Customer.code, item.status)
            ).all()
        else:
            rows = session.execute(
                select(Customer.id, Customer.code, item.status).where(*in_chunk)
            ).all()
            if rows:
                session.execute(update_chunk)
        changed.extend(tuple(row) for row in rows)
    return changed


def _chunk_condition(request, action: StatusAction, start: int, chunk_size: int) -> tuple:
    """The snapshot's customers at positions start+1 … start+chunk_size that may still change:
    at the previewed version and in a status the action applies to."""
    item = StatusChangeRequestItem
    return (
        Customer.id == item.customer_id,
        item.request_id == request.id,
        item.seq > start,
        item.seq <= start + chunk_size,
        Customer.version == item.version,
        Customer.status.in_([s.value for s in action.allowed_from]),
    )


def status_columns(status: str, reason_code: str | None, actor_id: int | None, now) -> dict:
    """What a status change writes on a customer row, for every writer (a confirmation, the
    schedule runner, a revert): the status, why, when, by whom, and a new version."""
    return {
        "status": status,
        "status_reason": reason_code,
        "status_changed_at": now,
        "status_changed_by": actor_id,
        "version": Customer.version + 1,
        "updated_at": now,
    }


def _chunk_update(in_chunk: tuple, action: StatusAction, reason, actor, now):
    # A Core UPDATE: the ORM's bulk-update bookkeeping has nothing to do here.
    return (
        update(cast(Table, Customer.__table__))
        .where(*in_chunk)
        .values(status_columns(action.target.value, reason.code, actor.id, now))
    )


def _snapshot_breakdown(request, action: StatusAction) -> tuple[int, dict[str, int]]:
    """How many snapshot customers the action applies to, and how many it skips, by why."""
    by_status = _snapshot_statuses(request.id)
    eligible = sum(n for status, n in by_status.items() if status in action.allowed_from)
    skipped = {
        SKIP_ALREADY: by_status.get(action.target.value, 0),
        SKIP_NOT_ALLOWED: sum(
            n
            for status, n in by_status.items()
            if status not in action.allowed_from and status != action.target
        ),
        SKIP_MISSING: request.missing_count,
    }
    return eligible, {reason: n for reason, n in skipped.items() if n}


def _snapshot_statuses(request_id: str) -> dict[str, int]:
    """The snapshot's customers counted by the status each had when it was taken: one GROUP BY,
    kept for the session. A snapshot never changes once taken, so the approval check, the
    execution and its report on one confirmation share one count."""
    counted = db.session.info.setdefault("snapshot_statuses", {})
    if request_id not in counted:
        item = StatusChangeRequestItem
        counted[request_id] = dict(
            db.session.execute(
                select(item.status, func.count())
                .where(item.request_id == request_id)
                .group_by(item.status)
            ).all()
        )
    return counted[request_id]
