"""Snapshots of previewed status changes: what the confirmation page showed, bound by a
signed token to one user and one action, and executed exactly as previewed."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.extensions import Model
from admin_app.models.types import UTCDateTime, utcnow


class StatusChangeRequest(Model):
    __tablename__ = "status_change_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))  # None: CLI
    action: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    selected_count: Mapped[int] = mapped_column(default=0)
    missing_count: Mapped[int] = mapped_column(default=0)
    scope: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    return_url: Mapped[str] = mapped_column(String(2000), default="")


class StatusChangeRequestItem(Model):
    """One previewed customer: its status and version when the preview was made.

    No foreign key to the snapshot's request: items are written only by
    `status_change.create_request`, in the transaction that inserts their request, and deleted
    with it (`_purge_old_requests`). A per-row key check was most of the time a large preview
    took (migration 0015)."""

    __tablename__ = "status_change_request_items"

    request_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    customer_id: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int]
