"""Read models for the dashboard."""

from dataclasses import dataclass

from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import AuditOperation, Customer, CustomerStatus
from admin_app.services import customer_counts


@dataclass(frozen=True)
class DashboardSummary:
    status_counts: dict[str, int]
    total_customers: int
    recent_operations: list[AuditOperation]


def status_counts() -> dict[str, int]:
    """Customers per status, every status present (zero when none)."""
    return customer_counts.status_counts()


def summary(recent: int = 10) -> DashboardSummary:
    counts = status_counts()
    operations = db.session.execute(
        select(AuditOperation).order_by(AuditOperation.id.desc()).limit(recent)
    ).scalars().all()
    return DashboardSummary(counts, sum(counts.values()), list(operations))
