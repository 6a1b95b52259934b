"""The operation log: append-only operations, their entries, and the chain head.

The database refuses UPDATE and DELETE on `audit_operations` and `audit_entries` (triggers
created by the migration). Each operation's `hash` covers its content, its entries and
`prev_hash`, so any later edit, deletion or insertion breaks the chain.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.extensions import Model
from admin_app.models.types import UTCDateTime, intpk, utcnow

GENESIS_HASH = "0" * 64


class AuditOperation(Model):
    __tablename__ = "audit_operations"
    __table_args__ = (
        Index("ix_audit_operations_actor_created", "actor_id", "created_at"),
        # changed_count too: the dashboard's weekly chart is an index-only scan (0014).
        Index("ix_audit_operations_action_created", "action", "created_at", "changed_count"),
    )

    id: Mapped[intpk]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None]
    actor_username: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    reason_code: Mapped[str | None] = mapped_column(String(32), index=True)
    memo: Mapped[str] = mapped_column(Text, default="")
    scope: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    changed_count: Mapped[int] = mapped_column(default=0)
    skipped_count: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(String(8), default="web")
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    request_id: Mapped[str | None] = mapped_column(String(36))
    # A confirmation token can be used once: the second insert with it fails.
    confirmation_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # An operation can be reverted once: the second revert with it fails.
    reverts_operation_id: Mapped[int | None] = mapped_column(
        ForeignKey("audit_operations.id"), unique=True
    )
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    entries: Mapped[list["AuditEntry"]] = relationship(
        back_populates="operation", lazy="raise", order_by="AuditEntry.id"
    )

    def __str__(self) -> str:
        return f"#{self.id} {self.action}"


class AuditEntry(Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_entity", "entity", "entity_id", "operation_id"),
        Index("ix_audit_entries_operation_id_id", "operation_id", "id"),
    )

    id: Mapped[intpk]
    # On PostgreSQL a statement trigger checks this key once per INSERT (migration 0016).
    operation_id: Mapped[int] = mapped_column(ForeignKey("audit_operations.id"))
    entity: Mapped[str] = mapped_column(String(16))  # customer, staff_user, reason, review_rule
    entity_id: Mapped[int | None]
    entity_label: Mapped[str] = mapped_column(String(200), default="")  # code / username
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)

    operation: Mapped[AuditOperation] = relationship(back_populates="entries", lazy="raise")


class AuditChainHead(Model):
    """One row: the newest operation. Writers lock it, so the chain cannot fork; verify
    compares it with the newest row, so a deleted tail is detected."""

    __tablename__ = "audit_chain_head"

    id: Mapped[intpk]
    last_operation_id: Mapped[int | None]
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    operation_count: Mapped[int] = mapped_column(default=0)


class AuditVerification(Model):
    __tablename__ = "audit_verifications"

    id: Mapped[intpk]
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    intact: Mapped[bool]
    operations_checked: Mapped[int] = mapped_column(default=0)
    first_bad_operation_id: Mapped[int | None]
    message: Mapped[str] = mapped_column(Text, default="")


class AuditCheckpoint(Model):
    """A signed checkpoint that `flask audit checkpoint` wrote out, kept for the dashboard.

    Not a trust anchor: the signed line outside the database is. Anyone who can rewrite the
    log can rewrite this table too; it only says when the last checkpoint was written."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[intpk]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    operation_id: Mapped[int | None]
    operation_hash: Mapped[str | None] = mapped_column(String(64))
    operation_count: Mapped[int] = mapped_column(default=0)
    entry_count: Mapped[int] = mapped_column(default=0)
    key_id: Mapped[str] = mapped_column(String(32))
