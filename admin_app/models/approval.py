"""Four-eyes approval requests: a status change that waits for a second person.

The request is bound to the previewed snapshot (`status_change_requests`); approving it runs
that snapshot through the same service and transaction as a direct confirmation."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.extensions import Model
from admin_app.models.types import UTCDateTime, created_ts, intpk

APPROVAL_STATUSES = ("pending", "approved", "rejected", "cancelled", "expired")


class ApprovalRequest(Model):
    __tablename__ = "approval_requests"

    id: Mapped[intpk]
    # pending → approved | rejected | cancelled | expired, changed only by a conditional
    # UPDATE ... WHERE status = 'pending' (services/approvals.py): decided once.
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    # The previewed snapshot; NULL once it is purged after the decision.
    snapshot_id: Mapped[str | None] = mapped_column(
        ForeignKey("status_change_requests.id", ondelete="SET NULL"), unique=True
    )
    action: Mapped[str] = mapped_column(String(16))  # a status action, or "revert"
    # A revert waiting for approval: the operation it reverts (no snapshot: a revert reads the
    # operation's entries when it runs).
    reverts_operation_id: Mapped[int | None] = mapped_column(ForeignKey("audit_operations.id"))
    reason_code: Mapped[str] = mapped_column(String(32))
    memo: Mapped[str] = mapped_column(Text, default="")
    customer_count: Mapped[int] = mapped_column(default=0)  # changing when requested
    # The confirmation's dates (services.scheduling), when it had any: approving schedules the
    # change at `effective_at` (applies it now once that has passed) and the reactivation at
    # `until`. NULL: the change runs when approved / never ends on its own.
    effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    requested_by_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[created_ts]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    decided_by_name: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str] = mapped_column(Text, default="")
    # The log: the approval_requested operation, the decision's operation (approved, rejected,
    # cancelled) and, once approved, the status change it made.
    request_operation_id: Mapped[int | None] = mapped_column(ForeignKey("audit_operations.id"))
    decision_operation_id: Mapped[int | None] = mapped_column(ForeignKey("audit_operations.id"))
    result_operation_id: Mapped[int | None] = mapped_column(ForeignKey("audit_operations.id"))
