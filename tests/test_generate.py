"""The benchmark data generator: exact sizes, a hash chain that verifies, a log that replays to
the customers' current rows, and counts in step. On SQLite and PostgreSQL."""

import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditChainHead, AuditEntry, AuditOperation, Customer
from admin_app.services import customer_counts
from benchmarks.chain import status_replay_problems, verify_chain
from benchmarks.generate import generate


def count(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def test_generated_log_verifies_and_replays_to_the_customers(app):
    result = generate(customers=400, entries=4000, seed=5, orders_per_customer=1)
    db.session.rollback()
    assert (count(Customer), count(AuditEntry)) == (400, 4000)
    assert count(AuditOperation) == result.operations > 100
    assert verify_chain() == (True, f"{result.operations} operations verified, chain intact")
    head = db.session.get(AuditChainHead, 1)
    assert (head.operation_count, head.last_operation_id) == (result.operations, result.operations)
    assert status_replay_problems() == []
    counts = customer_counts.status_counts()
    assert sum(counts.values()) == 400 and counts["active"] > 200 and counts["frozen"] > 0
    # Every edited field ends where its last entry says.
    last_phone = db.session.execute(
        sa.select(AuditEntry.entity_id, AuditEntry.new_value)
        .where(AuditEntry.field == "phone")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).one()
    assert db.session.get(Customer, last_phone[0]).phone == last_phone[1]
    actions = set(db.session.execute(sa.select(AuditOperation.action)).scalars())
    assert {"login", "customer_edit", "deactivate", "freeze", "reactivate"} <= actions


def test_a_tampered_generated_log_is_detected(app, backend):
    generate(customers=50, entries=300, seed=2, orders_per_customer=0)
    db.session.rollback()
    # Simulate tampering the way a superuser could: bypass the append-only trigger.
    if backend == "postgresql":
        db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    else:
        db.session.execute(sa.text("DROP TRIGGER audit_entries_no_update"))
    db.session.execute(
        sa.text(
            "UPDATE audit_entries SET new_value = 'active' WHERE id = "
            "(SELECT min(id) FROM audit_entries WHERE field = 'status')"
        )
    )
    db.session.commit()
    intact, message = verify_chain()
    assert not intact and "operation #" in message
    assert status_replay_problems() != []
