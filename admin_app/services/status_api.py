"""Read-only queries of the status API: one customer's status, many at once, the change feed.

Nothing here writes. The feed is derived from the append-only operation log: every status
change is an `audit_entries` row (entity `customer`, field `status`), and entry ids grow in
commit order (writers hold the chain-head lock from the id's assignment to the commit), so a
consumer that stores the last entry id it saw misses nothing and sees nothing twice.
"""

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Row, String, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from admin_app.extensions import db
from admin_app.models import AuditEntry, AuditOperation, Customer, CustomerStatus, Reason

CODE_MAX_LENGTH = 64
CHECK_MAX_CODES = 1000
FEED_MAX_LIMIT = 1000
FEED_DEFAULT_LIMIT = 100
CURSOR_MAX = 2**62  # larger is no entry id; SQLite cannot even bind it


def can_trade(status: str) -> bool:
    """Only an active customer may take orders (the order service enforces the same)."""
    return status == CustomerStatus.ACTIVE


def _states_query():
    from admin_app.services import scheduling

    # The next pending scheduled change (action, due time): index lookups per customer.
    pending_action, pending_due_at = scheduling.next_pending_subquery(Customer.id)
    return select(
        Customer.code,
        Customer.name,
        Customer.status,
        Customer.status_reason,
        Reason.label.label("reason_label"),
        Customer.status_changed_at,
        pending_action.label("pending_action"),
        pending_due_at.label("pending_due_at"),
    ).outerjoin(Reason, Reason.code == Customer.status_reason)


def _storable(code: str) -> bool:
    """No stored code holds a NUL character (PostgreSQL text cannot), so such a code is simply
    unknown; sending it to PostgreSQL would be an error, not an answer."""
    return "\x00" not in code


def customer_state(code: str) -> Row | None:
    """The customer with exactly this code (codes are unique as stored), or None. The row has
    code, name, status, status_reason, reason_label, status_changed_at, pending_action,
    pending_due_at."""
    if not _storable(code):
        return None
    return db.session.execute(_states_query().where(Customer.code == code)).first()


def customer_states(codes: Sequence[str]) -> dict[str, Row]:
    """The customers among `codes`, by code, in one set-based query (rows as above)."""
    wanted = [code for code in dict.fromkeys(codes) if _storable(code)]
    if not wanted:
        return {}
    if db.session.get_bind().dialect.name == "postgresql":
        # one array parameter rather than 1,000 placeholders to render, send and parse
        matches = Customer.code == func.any(bindparam("codes", wanted, type_=ARRAY(String)))
    else:
        matches = Customer.code.in_(wanted)
    rows = db.session.execute(_states_query().where(matches)).all()
    return {row.code: row for row in rows}


def feed_query(after: int, limit: int, dialect: str):
    """Status entries after entry `after`, oldest first: a range scan of the entries' primary
    key (each row joined to its operation by primary key), stopped after `limit` rows."""
    entity: ColumnElement[str] = AuditEntry.entity.expression
    if dialect == "sqlite":
        # `entity || ''`: SQLite would otherwise pick the index on entity over the key range,
        # then sort every customer entry of the log. (PostgreSQL chooses well from its
        # statistics, which the expression would hide from it.)
        entity = entity + ""
    return (
        select(
            AuditEntry.id.label("cursor"),
            AuditEntry.entity_label.label("customer_code"),
            AuditEntry.old_value.label("old_status"),
            AuditEntry.new_value.label("new_status"),
            AuditEntry.operation_id,
            AuditOperation.action,
            AuditOperation.reason_code,
            AuditOperation.created_at.label("changed_at"),
        )
        .join(AuditOperation, AuditOperation.id == AuditEntry.operation_id)
        .where(AuditEntry.id > after, entity == "customer", AuditEntry.field == "status")
        .order_by(AuditEntry.id)
        .limit(limit)
    )


def status_changes(after: int, limit: int) -> Sequence[Row]:
    """Rows of cursor, customer_code, old_status, new_status, operation_id, action,
    reason_code, changed_at."""
    dialect = db.session.get_bind().dialect.name
    return db.session.execute(feed_query(after, limit, dialect)).all()
