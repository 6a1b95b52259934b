"""Helpers for the operation-log tests: append operations, and tamper with the log the way an
attacker with direct database access would (append-only triggers out of the way)."""

import sqlite3

import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditChainHead, AuditEntry, AuditOperation
from admin_app.services.audit import Actor, NewOperation, append_operation
from admin_app.services.transaction import write_transaction

ACTOR = Actor(id=None, username="tester", role="admin", source="cli")
SQLITE_TRIGGERS = (
    "audit_operations_no_update",
    "audit_operations_no_delete",
    "audit_entries_no_update",
    "audit_entries_no_delete",
)


def append(action: str = "customer_edit", entries=(), **fields) -> int:
    """Append one operation through the service (committed); returns its id."""
    with write_transaction():
        return append_operation(
            NewOperation(
                actor=fields.pop("actor", ACTOR), action=action, entries=list(entries), **fields
            )
        ).id


def customer_entries(
    count: int,
    *,
    start: int = 1,
    field: str = "status",
    old: str | None = "active",
    new: str | None = "frozen",
) -> list[tuple]:
    return [
        ("customer", number, f"T{number:05d}", field, old, new)
        for number in range(start, start + count)
    ]


def build_log(entry_counts=(2, 0, 3, 1, 2)) -> list[int]:
    """One operation per item, with that many customer entries; returns the ids."""
    ids, start = [], 1
    for count in entry_counts:
        ids.append(append(entries=customer_entries(count, start=start)))
        start += count
    return ids


def tamper(*statements: str) -> None:
    """Run SQL against the log as someone with database access who got past the triggers:
    on SQLite a plain sqlite3 connection (foreign keys off, as in the sqlite3 shell) with the
    triggers dropped; on PostgreSQL a superuser with `session_replication_role = replica`."""
    db.session.rollback()
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database)
        try:
            for trigger in SQLITE_TRIGGERS:
                conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            for statement in statements:
                conn.execute(statement)
            conn.commit()
        finally:
            conn.close()
        return
    with db.engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for statement in statements:
            conn.exec_driver_sql(statement)


def snapshot() -> tuple:
    """Every operation's id and hash, the entry count and the chain head, as stored now."""
    db.session.rollback()
    operations = db.session.execute(
        sa.select(AuditOperation.id, AuditOperation.hash).order_by(AuditOperation.id)
    ).all()
    entries = db.session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar()
    head = db.session.execute(
        sa.select(
            AuditChainHead.last_operation_id,
            AuditChainHead.last_hash,
            AuditChainHead.operation_count,
        )
    ).all()
    return tuple(operations), entries, tuple(head)


def entry_ids(operation_id: int) -> list[int]:
    db.session.rollback()
    return list(
        db.session.execute(
            sa.select(AuditEntry.id)
            .where(AuditEntry.operation_id == operation_id)
            .order_by(AuditEntry.id)
        ).scalars()
    )
