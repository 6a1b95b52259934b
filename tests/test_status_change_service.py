"""The status change service: the rules, on SQLite and PostgreSQL."""

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import (
    AuditEntry,
    AuditOperation,
    Customer,
    StatusAction,
    StatusChangeRequest,
    StatusChangeRequestItem,
)
from admin_app.services import status_change
from admin_app.services.audit import Actor
from admin_app.services.errors import Conflict, Expired, InvalidInput, NotAllowed, TooLarge
from tests.conftest import make_customers, statuses

ALLOWED = {
    ("deactivate", "active"),
    ("deactivate", "frozen"),
    ("freeze", "active"),
    ("reactivate", "frozen"),
    ("reactivate", "deactivated"),
}


@pytest.fixture
def actor(staff):
    admin = staff["admin"]
    return Actor(id=admin.id, username=admin.username, role=admin.role)


def run(actor, action, ids, reason="customer_request", memo=""):
    request_id = status_change.create_request(action=StatusAction(action), actor=actor, ids=ids)
    return status_change.execute(request_id, actor=actor, reason_code=reason, memo=memo)


def entries():
    db.session.rollback()
    return db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars().all()


@pytest.mark.parametrize("action", ["deactivate", "freeze", "reactivate"])
@pytest.mark.parametrize("start", ["active", "frozen", "deactivated"])
def test_every_pair_of_the_status_machine(reasons, actor, action, start):
    ids = make_customers(2, status=start)
    result = run(actor, action, ids)
    target = StatusAction(action).target.value
    if (action, start) in ALLOWED:
        assert result.changed == 2 and result.skipped == {}
        assert statuses(ids) == {i: target for i in ids}
        assert [(e.entity_id, e.field, e.old_value, e.new_value) for e in entries()] == [
            (i, "status", start, target) for i in ids
        ]
    else:
        assert result.changed == 0
        expected = "already" if start == target else "not_allowed"
        assert result.skipped == {expected: 2}
        assert statuses(ids) == {i: start for i in ids}
        assert entries() == []


def test_one_operation_records_who_why_and_counts(reasons, actor):
    active = make_customers(3)
    gone = make_customers(1, status="deactivated", start=10)
    result = run(
        actor,
        "deactivate",
        active + gone + [999999],
        reason="fraud_suspected",
        memo="card skimming ring",
    )
    assert (result.changed, result.skipped) == (3, {"already": 1, "missing": 1})
    operation = db.session.get(AuditOperation, result.operation_id)
    assert (operation.action, operation.reason_code, operation.memo) == (
        "deactivate",
        "fraud_suspected",
        "card skimming ring",
    )
    assert (operation.actor_username, operation.actor_role) == ("admin", "admin")
    assert (operation.changed_count, operation.skipped_count) == (3, 2)
    assert {e.entity_id for e in entries()} == set(active)
    customer = db.session.get(Customer, active[0])
    assert (customer.status_reason, customer.status_changed_by) == ("fraud_suspected", actor.id)
    assert customer.status_changed_at is not None


def test_confirmation_runs_once(reasons, actor):
    ids = make_customers(2)
    request_id = status_change.create_request(action=StatusAction.FREEZE, actor=actor, ids=ids)
    status_change.execute(request_id, actor=actor, reason_code="customer_request")
    with pytest.raises(Conflict, match="already used"):
        status_change.execute(request_id, actor=actor, reason_code="customer_request")
    assert len(entries()) == 2


def test_another_users_confirmation_is_refused(reasons, actor, staff):
    ids = make_customers(1)
    request_id = status_change.create_request(action=StatusAction.FREEZE, actor=actor, ids=ids)
    manager = Actor(id=staff["manager"].id, username="manager", role="manager")
    with pytest.raises(NotAllowed):
        status_change.execute(request_id, actor=manager, reason_code="customer_request")
    assert statuses(ids) == {ids[0]: "active"}


def test_customer_changed_since_preview_is_skipped(reasons, actor):
    ids = make_customers(3)
    request_id = status_change.create_request(action=StatusAction.DEACTIVATE, actor=actor, ids=ids)
    run(actor, "freeze", ids[:1])
    result = status_change.execute(request_id, actor=actor, reason_code="customer_request")
    assert (result.changed, result.skipped) == (2, {"changed": 1})
    assert statuses(ids) == {ids[0]: "frozen", ids[1]: "deactivated", ids[2]: "deactivated"}


def test_snapshot_is_exact_new_matching_customers_are_not_touched(reasons, actor):
    make_customers(3)
    request_id = status_change.create_request(
        action=StatusAction.FREEZE,
        actor=actor,
        matching=sa.select(Customer.id).where(Customer.status == "active"),
    )
    late = make_customers(2, start=50)
    result = status_change.execute(request_id, actor=actor, reason_code="customer_request")
    assert result.changed == 3
    assert statuses(late) == {i: "active" for i in late}


def test_old_previews_are_purged_with_every_item_of_their_snapshot(app_clock, reasons, actor):
    """Items have no foreign key to their request (migration 0015): the purge itself removes
    them with it, so no snapshot is left behind half-deleted."""
    ids = make_customers(5)
    old = status_change.create_request(action=StatusAction.FREEZE, actor=actor, ids=ids)
    app_clock.advance(days=2)  # past the preview retention
    new = status_change.create_request(action=StatusAction.FREEZE, actor=actor, ids=ids[:2])
    item = StatusChangeRequestItem
    kept = db.session.execute(
        sa.select(item.request_id, sa.func.count()).group_by(item.request_id)
    ).all()
    assert dict(kept) == {new: 2}
    assert db.session.get(StatusChangeRequest, old) is None
    with pytest.raises(Expired):
        status_change.describe(old)


def test_warnings_count_only_the_customers_that_will_change(reasons, actor):
    """A customer skipped (already frozen) is not counted in "have an open balance"."""
    owing = {"balance": Decimal("50.00")}
    ids = make_customers(2, **owing) + make_customers(1, start=10, status="frozen", **owing)
    request_id = status_change.create_request(action=StatusAction.FREEZE, actor=actor, ids=ids)
    preview = status_change.describe(request_id)
    assert (preview.eligible, preview.with_open_balance) == (2, 2)


def test_large_selection_is_processed_in_chunks_as_one_operation(reasons, actor):
    ids = make_customers(30)
    request_id = status_change.create_request(action=StatusAction.FREEZE, actor=actor, ids=ids)
    result = status_change.execute(
        request_id, actor=actor, reason_code="customer_request", chunk_size=7
    )
    assert result.changed == 30
    assert (
        db.session.execute(
            sa.select(sa.func.count())
            .select_from(AuditOperation)
            .where(AuditOperation.action == "freeze")
        ).scalar()
        == 1
    )
    assert sorted(e.entity_id for e in entries()) == sorted(ids)


@pytest.mark.parametrize(
    "reason, memo, message",
    [
        (None, "", "Choose a reason"),
        ("no_such_reason", "", "cannot be used"),
        ("issue_resolved", "", "cannot be used"),  # a reactivation reason, used to freeze
        ("fraud_suspected", "  ", "requires a memo"),
        ("customer_request", "bad\x00memo", "invalid characters"),
        ("customer_request", "x" * 1001, "too long"),
    ],
)
def test_bad_reason_or_memo_changes_nothing(reasons, actor, reason, memo, message):
    ids = make_customers(2)
    request_id = status_change.create_request(action=StatusAction.FREEZE, actor=actor, ids=ids)
    with pytest.raises(InvalidInput, match=message):
        status_change.execute(request_id, actor=actor, reason_code=reason, memo=memo)
    assert statuses(ids) == {i: "active" for i in ids}
    assert entries() == []


def test_failure_in_the_audit_insert_rolls_everything_back(reasons, actor):
    ids = make_customers(4)
    request_id = status_change.create_request(action=StatusAction.DEACTIVATE, actor=actor, ids=ids)

    def explode(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_ENTRIES"):
            raise RuntimeError("disk full")

    sa.event.listen(db.engine, "before_cursor_execute", explode)
    try:
        with pytest.raises(RuntimeError):
            status_change.execute(request_id, actor=actor, reason_code="customer_request")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", explode)
    assert statuses(ids) == {i: "active" for i in ids}
    assert entries() == []
    # The token was not consumed: the same confirmation still works once.
    result = status_change.execute(request_id, actor=actor, reason_code="customer_request")
    assert result.changed == 4


@pytest.mark.parametrize(
    "values, message",
    [
        ([], "Select at least one customer"),
        (["abc"], "Invalid customer id: 'abc'"),
        (["1", "2", "abc"], "Invalid customer id"),
        (["-1"], "Invalid customer id"),
        (["0"], "Invalid customer id"),
        (["1.0"], "Invalid"),
        (["1e3"], "Invalid"),
        (["0x10"], "Invalid"),
        ([""], "Invalid"),
        (["１２"], "Invalid"),
        (["١٢٣"], "Invalid"),
        ([" 7 "], "Invalid"),
        (["+5"], "Invalid"),
        (["1_000"], "Invalid"),
        (["007"], "Invalid"),
        (["2147483648"], "Invalid"),  # past the INTEGER id columns
        (["9223372036854775808"], "Invalid"),
        (["99999999999999999999"], "Invalid"),
    ],
)
def test_rowids_are_parsed_strictly(values, message):
    with pytest.raises(InvalidInput, match=message):
        status_change.parse_rowids(values, limit=10_000)


def test_rowids_collapse_duplicates_and_are_capped():
    assert status_change.parse_rowids(["5", "5", "5", "2147483647"], limit=10) == [5, 2147483647]
    with pytest.raises(TooLarge, match="At most 3"):
        status_change.parse_rowids(["1", "2", "3", "4"], limit=3)


def test_overlapping_concurrent_operations_log_each_customer_once(reasons, actor, app):
    ids = make_customers(100)
    first = status_change.create_request(action=StatusAction.DEACTIVATE, actor=actor, ids=ids[:60])
    second = status_change.create_request(action=StatusAction.DEACTIVATE, actor=actor, ids=ids[39:])
    results, errors = {}, []
    barrier = threading.Barrier(2)

    def worker(request_id):
        with app.app_context():
            barrier.wait()
            try:
                results[request_id] = status_change.execute(
                    request_id, actor=actor, reason_code="customer_request"
                )
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(r,)) for r in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert results[first].changed + results[second].changed == 100
    assert statuses(ids) == {i: "deactivated" for i in ids}
    logged = [e.entity_id for e in entries()]
    assert sorted(logged) == sorted(ids)


def test_stored_hash_matches_the_entries_the_database_holds(reasons, actor):
    """The entries are inserted set-based in the database; the hash computed beforehand in
    Python must cover exactly those rows, in id order."""
    from admin_app.services.audit import ENTRY_FIELDS, HASHED_OPERATION_FIELDS, operation_hash

    ids = make_customers(12)
    make_customers(3, status="frozen", start=40)
    shuffled = ids[6:] + ids[:6] + [999]
    result = run(actor, "freeze", shuffled)
    operation = db.session.get(AuditOperation, result.operation_id)
    rows = [tuple(getattr(e, name) for name in ENTRY_FIELDS) for e in entries()]
    assert [r[1] for r in rows] == sorted(ids)
    row = {name: getattr(operation, name) for name in HASHED_OPERATION_FIELDS}
    assert operation_hash(row, rows, operation.prev_hash) == operation.hash


def test_a_chunked_execution_logs_entries_in_id_order_and_the_chain_verifies(reasons, actor):
    """Several chunks, some customers changed since the preview and some not allowed: the
    entries (streamed from the database and hashed as they pass on PostgreSQL) are stored in
    customer id order, their count is the operation's, and the log verifies."""
    from admin_app.services import audit_verify

    ids = make_customers(25)
    frozen = make_customers(3, status="deactivated", start=100)
    request_id = status_change.create_request(
        action=StatusAction.FREEZE, actor=actor, ids=list(reversed(ids + frozen))
    )
    db.session.execute(  # changed since the preview: skipped as "changed"
        sa.update(Customer).where(Customer.id == ids[4]).values(version=Customer.version + 1)
    )
    db.session.commit()
    result = status_change.execute(
        request_id, actor=actor, reason_code="customer_request", chunk_size=4
    )
    assert result.changed == 24
    assert result.skipped == {"not_allowed": 3, "changed": 1}
    changed = [i for i in ids if i != ids[4]]
    assert [(e.entity_id, e.old_value, e.new_value) for e in entries()] == [
        (i, "active", "frozen") for i in sorted(changed)
    ]
    operation = db.session.get(AuditOperation, result.operation_id)
    assert (operation.changed_count, operation.skipped_count) == (24, 4)
    verified = audit_verify.verify_chain()
    assert (verified.intact, verified.entries_checked) == (True, 24), verified.message
