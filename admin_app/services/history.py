"""Reading the operation log: a customer's history, and one operation's entries.

Read-only; nothing here writes or commits. Every query is bounded (a limit, a page, or a
streamed cursor) and runs on an index: (entity, entity_id, operation_id) for a customer's
history, (operation_id, id) for an operation's entries.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    CompoundSelect,
    Select,
    and_,
    case,
    func,
    literal_column,
    select,
    union,
)

from admin_app.extensions import db
from admin_app.models import AuditEntry, AuditOperation, Customer
from admin_app.services import customer_search
from admin_app.services.actions import OperationAction
from admin_app.services.operation_text import ENDS_A_PERIOD_MARK

ENTRIES_PER_PAGE = 100
EXPORT_BATCH = 2000


@dataclass(frozen=True)
class HistoryItem:
    """One change to a customer, with the operation it was part of."""

    operation_id: int
    created_at: datetime
    actor_username: str
    actor_role: str
    action: str
    reason_code: str | None
    memo: str
    field: str
    old_value: str | None
    new_value: str | None
    scope: str  # an automatic reactivation's scope (operation_text.ends_a_period), else "{}"


@dataclass(frozen=True)
class CustomerHistory:
    items: list[HistoryItem]
    truncated: bool  # more entries exist than `items` holds


@dataclass(frozen=True)
class EntriesPage:
    entries: list  # rows with id, entity, entity_id, entity_label, field, old_value, new_value
    page: int  # 0-based, clamped to the pages that exist
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_number(self) -> int:
        return self.page * self.per_page + 1 if self.entries else 0

    @property
    def last_number(self) -> int:
        return self.page * self.per_page + len(self.entries)


_ENTRY_COLUMNS = (
    AuditEntry.id,
    AuditEntry.entity,
    AuditEntry.entity_id,
    AuditEntry.entity_label,
    AuditEntry.field,
    AuditEntry.old_value,
    AuditEntry.new_value,
)


# Only an automatic reactivation's scope is read (operation_text.ends_a_period): a bulk
# operation's scope can list a thousand ids, and a history has up to 200 rows.
_ENDS_A_PERIOD = and_(
    AuditOperation.action == OperationAction.REACTIVATE.value,
    AuditOperation.scope.contains(ENDS_A_PERIOD_MARK),
)


def customer_history(customer_id: int, limit: int = 200) -> CustomerHistory:
    """The customer's audit entries with their operations, newest first, at most `limit`."""
    rows = db.session.execute(
        select(
            AuditEntry.operation_id,
            AuditOperation.created_at,
            AuditOperation.actor_username,
            AuditOperation.actor_role,
            AuditOperation.action,
            AuditOperation.reason_code,
            AuditOperation.memo,
            AuditEntry.field,
            AuditEntry.old_value,
            AuditEntry.new_value,
            case((_ENDS_A_PERIOD, AuditOperation.scope), else_="{}").label("scope"),
        )
        .join(AuditOperation, AuditOperation.id == AuditEntry.operation_id)
        .where(AuditEntry.entity == "customer", AuditEntry.entity_id == customer_id)
        .order_by(AuditEntry.operation_id.desc(), AuditEntry.id.desc())
        .limit(limit + 1)
    ).all()
    return CustomerHistory(
        [HistoryItem(**row._asdict()) for row in rows[:limit]], len(rows) > limit
    )


def entries_page(operation_id: int, page: int = 0, per_page: int = ENTRIES_PER_PAGE) -> EntriesPage:
    """One page of an operation's entries in id order; `page` is clamped to those that exist."""
    total = db.session.execute(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.operation_id == operation_id)
    ).scalar_one()
    page = min(max(page, 0), max(0, (total - 1) // per_page))
    entries = db.session.execute(
        select(*_ENTRY_COLUMNS)
        .where(AuditEntry.operation_id == operation_id)
        .order_by(AuditEntry.id)
        .offset(page * per_page)
        .limit(per_page)
    ).all()
    return EntriesPage(list(entries), page, per_page, total)


def iter_entries(operation_id: int) -> Iterator:
    """Every entry of the operation in id order, streamed (rows as in `entries_page`)."""
    yield from db.session.execute(
        select(*_ENTRY_COLUMNS)
        .where(AuditEntry.operation_id == operation_id)
        .order_by(AuditEntry.id)
        .execution_options(yield_per=EXPORT_BATCH)
    )


def iter_entry_batches(operation_id: int, size: int = EXPORT_BATCH) -> Iterator[list]:
    """`iter_entries` in lists of at most `size` rows (to label a batch with one query)."""
    batch = []
    for row in iter_entries(operation_id):
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def operations_of_customer_code(code: str) -> Select:
    """The ids of operations with an entry for the customer `code` (as the entry was labelled
    when written), in any letter case. By index, whatever the size of the log: the customers
    that ever had the code (today's, or a former one from the few entries that change a code,
    migration 0017), then their entries (ix_audit_entries_entity) that carry that label."""
    code = code.strip().lower()
    dialect = db.session.get_bind().dialect.name
    code_changes = (
        # Literal, not bound: the partial indexes' condition must be visible to the planner.
        AuditEntry.entity == literal_column("'customer'"),
        AuditEntry.field == literal_column("'code'"),
    )
    had_the_code: CompoundSelect = union(
        select(Customer.id).where(customer_search.code_is(code, dialect=dialect)),
        select(AuditEntry.entity_id).where(*code_changes, func.lower(AuditEntry.old_value) == code),
        select(AuditEntry.entity_id).where(*code_changes, func.lower(AuditEntry.new_value) == code),
    )
    return select(AuditEntry.operation_id).where(
        AuditEntry.entity == "customer",
        AuditEntry.entity_id.in_(had_the_code),
        func.lower(AuditEntry.entity_label) == code,
    )


def reverted_by(operation_id: int) -> int | None:
    """The id of the operation that reverted `operation_id`, if any."""
    return db.session.execute(
        select(AuditOperation.id).where(AuditOperation.reverts_operation_id == operation_id)
    ).scalar_one_or_none()
