"""Checks of the operation log for benchmarks and load tests.

`verify_chain()` uses the app's own verifier (`services.audit_verify`, behind
`flask audit verify`) when this tree has it, and otherwise recomputes every hash with
`services.audit.operation_hash` itself. `status_replay_problems()` checks that each customer's
status is what replaying its status entries gives.
"""

from collections.abc import Iterator

import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditChainHead, AuditEntry, AuditOperation, Customer
from admin_app.models.audit import GENESIS_HASH
from admin_app.services.audit import ENTRY_FIELDS, HASHED_OPERATION_FIELDS, operation_hash

BATCH = 2000


def verify_chain() -> tuple[bool, str]:
    """(intact, message) for the whole chain, up to and including the chain head."""
    try:
        from admin_app.services import audit_verify
    except ImportError:
        return _recompute_chain()
    result = audit_verify.verify_chain()
    return result.intact, result.message


def _entries_by_operation() -> Iterator[tuple[int, tuple]]:
    table = AuditEntry.__table__.c
    columns = [table.operation_id, *(table[name] for name in ENTRY_FIELDS)]
    for row in db.session.execute(
        sa.select(*columns)
        .order_by(table.operation_id, table.id)
        .execution_options(yield_per=BATCH)
    ):
        yield row[0], tuple(row[1:])


def _recompute_chain() -> tuple[bool, str]:
    table = AuditOperation.__table__.c
    columns = [table[name] for name in (*HASHED_OPERATION_FIELDS, "prev_hash", "hash")]
    entries = _entries_by_operation()
    pending = next(entries, None)
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = None
    for row in db.session.execute(
        sa.select(*columns).order_by(table.id).execution_options(yield_per=BATCH)
    ):
        operation = row._mapping
        own = []
        while pending is not None and pending[0] <= operation["id"]:
            if pending[0] < operation["id"]:
                return False, f"entries of missing operation #{pending[0]}"
            own.append(pending[1])
            pending = next(entries, None)
        if operation["prev_hash"] != expected_prev:
            return False, f"link broken at operation #{operation['id']}"
        if operation_hash(operation, own, operation["prev_hash"]) != operation["hash"]:
            return False, f"hash mismatch at operation #{operation['id']}"
        expected_prev = operation["hash"]
        last_id = operation["id"]
        checked += 1
    if pending is not None:
        return False, f"entries of missing operation #{pending[0]}"
    head = db.session.execute(sa.select(AuditChainHead).where(AuditChainHead.id == 1)).scalar_one()
    if (head.last_operation_id, head.last_hash, head.operation_count) != (
        last_id,
        expected_prev,
        checked,
    ):
        return False, (
            f"chain head ({head.last_operation_id}, {head.operation_count} "
            f"operations) does not match the log ({last_id}, {checked})"
        )
    return True, f"{checked} operations verified, chain intact"


def status_replay_problems(initial: dict[int, str] | None = None) -> list[str]:
    """Customers whose status differs from the replay of their status entries, entries whose
    old value is not the status before them, and customers logged twice by one operation.

    `initial` maps customer ids to their status before the first logged change (default:
    every customer with status entries started `active`).
    """
    problems = []
    entry = AuditEntry
    replayed: dict[int, str] = {}
    for customer_id, old, new, operation_id in db.session.execute(
        sa.select(entry.entity_id, entry.old_value, entry.new_value, entry.operation_id)
        .where(entry.entity == "customer", entry.field == "status")
        .order_by(entry.operation_id, entry.id)
        .execution_options(yield_per=BATCH)
    ):
        before = replayed.get(customer_id, (initial or {}).get(customer_id, "active"))
        if old != before:
            problems.append(
                f"customer {customer_id}: operation #{operation_id} logged "
                f"{old!r} -> {new!r} but the status was {before!r}"
            )
        replayed[customer_id] = new
    current = dict(db.session.execute(sa.select(Customer.id, Customer.status)).all())
    for customer_id, status in current.items():
        expected = replayed.get(customer_id, (initial or {}).get(customer_id, status))
        if status != expected:
            problems.append(f"customer {customer_id}: status {status!r}, log says {expected!r}")
    twice = db.session.execute(
        sa.select(entry.operation_id, entry.entity_id, entry.field, sa.func.count())
        .where(entry.entity == "customer")
        .group_by(entry.operation_id, entry.entity_id, entry.field)
        .having(sa.func.count() > 1)
    ).all()
    problems += [
        f"customer {customer_id}: logged {count} times for {field} by operation #{operation_id}"
        for operation_id, customer_id, field, count in twice
    ]
    return problems
