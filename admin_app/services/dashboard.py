"""Read models for the dashboard."""

from dataclasses import dataclass

from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import AuditOperation, AuditVerification, Customer, CustomerStatus
from admin_app.services import audit_verify


@dataclass(frozen=True)
class DashboardSummary:
    status_counts: dict[str, int]
    total_customers: int
    recent_operations: list[AuditOperation]
    last_verification: AuditVerification | None = None


def status_counts() -> dict[str, int]:
    """Customers per status, every status present (zero when none)."""
    rows = db.session.execute(
        select(Customer.status, func.count()).group_by(Customer.status)
    ).all()
    counts = {status.value: 0 for status in CustomerStatus}
    counts.update({status: count for status, count in rows})
    return counts


def summary(recent: int = 10) -> DashboardSummary:
    counts = status_counts()
    operations = db.session.execute(
        select(AuditOperation).order_by(AuditOperation.id.desc()).limit(recent)
    ).scalars().all()
    return DashboardSummary(counts, sum(counts.values()), list(operations),
                            last_verification=audit_verify.last_verification())
