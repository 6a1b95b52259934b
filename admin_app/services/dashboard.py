"""Read models for the dashboard."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, select

from admin_app.extensions import db
from admin_app.i18n import localized
from admin_app.models import AuditCheckpoint, AuditOperation, AuditVerification
from admin_app.models.types import utcnow
from admin_app.services import audit_checkpoint, audit_verify, customer_counts, review
from admin_app.services.actions import CHART_ACTIONS, is_sign_in


@dataclass(frozen=True)
class DashboardSummary:
    status_counts: dict[str, int]
    total_customers: int
    recent_operations: list[AuditOperation]
    last_verification: AuditVerification | None = None


def summary(recent: int = 10) -> DashboardSummary:
    """Customers per status, and the `recent` newest business operations (sign-ins apart;
    none when `recent` is 0: for roles that may not read the log)."""
    counts = customer_counts.status_counts()
    operations = (
        db.session.execute(
            select(AuditOperation)
            .where(is_sign_in(AuditOperation.action, sign_in=False))
            .order_by(AuditOperation.id.desc())
            .limit(recent)
        )
        .scalars()
        .all()
        if recent
        else []
    )
    return DashboardSummary(
        counts,
        sum(counts.values()),
        list(operations),
        last_verification=audit_verify.last_verification(),
    )


# -- the periodic review card -------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewStatus:
    candidates: int
    last_completed_at: datetime | None
    last_operation_id: int | None
    interval_days: int
    due_at: datetime | None  # None: never reviewed, due now
    # (rule id, name in the page's language, candidates) of each enabled rule
    per_rule: list[tuple[int, str, int]]

    @property
    def overdue(self) -> bool:
        return self.due_at is None or self.due_at <= utcnow()


def review_status(interval_days: int) -> ReviewStatus:
    """Candidates waiting now, when the review was last completed, and whether it is overdue
    (no review yet, or the last one is more than `interval_days` old)."""
    last = review.last_completed_review()
    last_at = last.created_at if last is not None else None
    rules = review.load_rules()
    counts = review.current_counts(rules)
    return ReviewStatus(
        candidates=counts.total,
        last_completed_at=last_at,
        last_operation_id=last.id if last is not None else None,
        interval_days=interval_days,
        due_at=last_at + timedelta(days=interval_days) if last_at is not None else None,
        per_rule=[(rule.id, localized(rule, "name"), counts.per_rule[rule.id]) for rule in rules],
    )


# -- status changes per week ------------------------------------------------------------------


@dataclass(frozen=True)
class WeeklyChanges:
    week_starts: list[date]  # Mondays (UTC), oldest first
    counts: dict[str, list[int]]  # action -> customers changed per week

    @property
    def totals(self) -> list[int]:
        return [sum(column) for column in zip(*self.counts.values(), strict=True)]


def weekly_status_changes(weeks: int = 12, *, now: datetime | None = None) -> WeeklyChanges:
    """Customers changed per ISO week (Monday, UTC) and action, for the last `weeks` weeks
    including this one, summed from audit_operations.changed_count in ONE GROUP BY query."""
    now = now or utcnow()
    this_monday = now.date() - timedelta(days=now.weekday())
    starts = [this_monday - timedelta(weeks=weeks - 1 - index) for index in range(weeks)]
    bounds = [datetime.combine(day, time.min, tzinfo=UTC) for day in starts]
    created = AuditOperation.created_at
    # Bucket index by comparing with each Monday: portable SQL (no date_trunc / strftime).
    bucket = case(
        *[(created < bound, index - 1) for index, bound in enumerate(bounds[1:], start=1)],
        else_=weeks - 1,
    ).label("bucket")
    # Grouped in an outer query, so GROUP BY names a column instead of repeating the CASE
    # (whose parameters a driver might bind differently in SELECT and GROUP BY).
    recent = (
        select(bucket, AuditOperation.action, AuditOperation.changed_count)
        .where(created >= bounds[0], AuditOperation.action.in_(CHART_ACTIONS))
        .subquery()
    )
    rows = db.session.execute(
        select(recent.c.bucket, recent.c.action, func.sum(recent.c.changed_count)).group_by(
            recent.c.bucket, recent.c.action
        )
    ).all()
    counts = {action: [0] * weeks for action in CHART_ACTIONS}
    for index, action, total in rows:
        counts[action][int(index)] = int(total or 0)
    return WeeklyChanges(starts, counts)


# -- the last log checkpoint ------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointStatus:
    last: AuditCheckpoint | None  # None: no checkpoint written yet
    operations_since: int  # operations appended after the last checkpoint


def checkpoint_status() -> CheckpointStatus:
    """The last checkpoint `flask audit checkpoint` wrote out, and how far the log has grown
    since (from the chain head's count)."""
    last = audit_checkpoint.last_checkpoint()
    since = audit_verify.chain_length() - last.operation_count if last is not None else 0
    return CheckpointStatus(last, max(since, 0))
