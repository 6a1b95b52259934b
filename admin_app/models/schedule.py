"""Scheduled status changes: a deactivation, freeze or reactivation that takes effect later.

Rows are written by services.scheduling only. A row is `pending` until the runner applies it
(`done`), finds the customer's status no longer fits (`skipped`), or someone cancels it
(`cancelled`). `expected_status` is the status the customer must still have when the change
is due (its status when the change was scheduled, or the status an "until" change set)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.extensions import Model
from admin_app.models.customer import Customer
from admin_app.models.types import UTCDateTime, intpk, utcnow

SCHEDULE_STATUSES = ("pending", "done", "skipped", "cancelled")


class ScheduledChange(Model):
    __tablename__ = "scheduled_changes"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'done', 'skipped', 'cancelled')", name="status_known"
        ),
        CheckConstraint("action IN ('deactivate', 'freeze', 'reactivate')", name="action_known"),
        # The grid's "Scheduled" indicator and filter, the customer's page and the API: an
        # EXISTS per customer on the pending rows only (small, whatever the history).
        Index(
            "ix_scheduled_changes_pending_customer",
            "customer_id",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        # The runner (pending and due, in due order) and /admin/scheduled/ (status, due, action).
        Index("ix_scheduled_changes_status_due", "status", "due_at"),
        Index("ix_scheduled_changes_status_action_due", "status", "action", "due_at"),
        Index("ix_scheduled_changes_customer_id", "customer_id", "id"),
    )

    id: Mapped[intpk]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    action: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    expected_status: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str] = mapped_column(String(32))
    memo: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # The confirmation (snapshot) that scheduled it: the rows of one confirmation form a group.
    group_id: Mapped[str] = mapped_column(String(64), index=True)
    schedule_operation_id: Mapped[int] = mapped_column(ForeignKey("audit_operations.id"))
    result_operation_id: Mapped[int | None] = mapped_column(ForeignKey("audit_operations.id"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    skip_reason: Mapped[str | None] = mapped_column(String(16))

    customer: Mapped[Customer] = relationship(lazy="raise")


class ScheduleRun(Model):
    """One run of `flask schedule run`: when it ran, what time it treated as now, how many
    changes it applied and skipped (the dashboard warns when the newest is too old)."""

    __tablename__ = "schedule_runs"

    id: Mapped[intpk]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    applied_count: Mapped[int] = mapped_column(default=0)
    skipped_count: Mapped[int] = mapped_column(default=0)
