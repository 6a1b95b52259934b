"""Read-only queries of the status API: one customer's status, many at once, the change feed.

Nothing here writes. The feed is derived from the append-only operation log: every status
change is an `audit_entries` row (entity `customer`, field `status`), and entry ids grow in
commit order (writers hold the chain-head lock from the id's assignment to the commit), so a
consumer that stores the last entry id it saw misses nothing and sees nothing twice.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import AuditEntry, AuditOperation, Customer, CustomerStatus, Reason

CODE_MAX_LENGTH = 64
CHECK_MAX_CODES = 1000
FEED_MAX_LIMIT = 1000
FEED_DEFAULT_LIMIT = 100
CURSOR_MAX = 2**62  # larger is no entry id; SQLite cannot even bind it


@dataclass(frozen=True)
class CustomerState:
    code: str
    name: str
    status: str
    status_reason: dict | None
    status_changed_at: datetime | None
    # Scheduled status changes do not exist yet: always None until they do.
    pending_change: dict | None = None

    @property
    def can_trade(self) -> bool:
        return self.status == CustomerStatus.ACTIVE


def _states_query():
    return (select(Customer.code, Customer.name, Customer.status, Customer.status_reason,
                   Customer.status_changed_at, Reason.label)
            .outerjoin(Reason, Reason.code == Customer.status_reason))


def _state(row) -> CustomerState:
    reason = ({"code": row.status_reason, "label": row.label or row.status_reason}
              if row.status_reason else None)
    return CustomerState(code=row.code, name=row.name, status=row.status,
                         status_reason=reason, status_changed_at=row.status_changed_at)


def customer_state(code: str) -> CustomerState | None:
    """The customer with exactly this code (codes are unique as stored), or None."""
    row = db.session.execute(_states_query().where(Customer.code == code)).first()
    return _state(row) if row else None


def customer_states(codes: Sequence[str]) -> dict[str, CustomerState]:
    """The customers among `codes`, by code, in one set-based query."""
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return {}
    rows = db.session.execute(_states_query().where(Customer.code.in_(wanted))).all()
    return {row.code: _state(row) for row in rows}


@dataclass(frozen=True)
class StatusChange:
    cursor: int
    customer_id: int | None
    customer_code: str
    old_status: str | None
    new_status: str | None
    operation_id: int
    action: str
    reason_code: str | None
    changed_at: datetime


def feed_query(after: int, limit: int, dialect: str):
    """Status entries after entry `after`, oldest first: a range scan of the entries' primary
    key (each row joined to its operation by primary key), stopped after `limit` rows."""
    entity = AuditEntry.entity
    if dialect == "sqlite":
        # `entity || ''`: SQLite would otherwise pick the index on entity over the key range,
        # then sort every customer entry of the log. (PostgreSQL chooses well from its
        # statistics, which the expression would hide from it.)
        entity = entity + ""
    return (
        select(AuditEntry.id, AuditEntry.entity_id, AuditEntry.entity_label,
               AuditEntry.old_value, AuditEntry.new_value, AuditEntry.operation_id,
               AuditOperation.action, AuditOperation.reason_code, AuditOperation.created_at)
        .join(AuditOperation, AuditOperation.id == AuditEntry.operation_id)
        .where(AuditEntry.id > after, entity == "customer",
               AuditEntry.field == "status")
        .order_by(AuditEntry.id)
        .limit(limit)
    )


def status_changes(after: int, limit: int) -> list[StatusChange]:
    dialect = db.session.get_bind().dialect.name
    rows = db.session.execute(feed_query(after, limit, dialect)).all()
    return [StatusChange(cursor=row.id, customer_id=row.entity_id,
                         customer_code=row.entity_label, old_status=row.old_value,
                         new_status=row.new_value, operation_id=row.operation_id,
                         action=row.action, reason_code=row.reason_code,
                         changed_at=row.created_at) for row in rows]
