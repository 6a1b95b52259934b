"""`flask audit verify`: an intact chain passes; each kind of tampering by someone with direct
database access (triggers out of the way) fails with exit 1 and names the first bad operation.
Runs on SQLite and PostgreSQL."""

import itertools
import threading
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditOperation, AuditVerification
from admin_app.models.audit import GENESIS_HASH
from admin_app.services import audit_verify, customers, staff
from admin_app.services.audit import HASHED_OPERATION_FIELDS, operation_hash
from admin_app.services.audit_verify import Head, Link, Problem, check_links, read_ahead
from tests.audit_support import ACTOR, append, build_log, customer_entries, entry_ids, tamper


def _verify(runner):
    result = runner.invoke(args=["audit", "verify"])
    db.session.rollback()
    return result


def _last_verification() -> AuditVerification:
    db.session.rollback()
    return db.session.execute(
        sa.select(AuditVerification).order_by(AuditVerification.id.desc()).limit(1)
    ).scalar_one()


def _operation_count() -> int:
    db.session.rollback()
    return db.session.execute(sa.select(sa.func.count()).select_from(AuditOperation)).scalar()


def _assert_fails_at(result, operation_id: int, problem: str) -> None:
    assert result.exit_code == 1, result.output
    assert f"operation #{operation_id}: {problem}." in result.output
    recorded = _last_verification()
    assert (recorded.intact, recorded.first_bad_operation_id) == (False, operation_id)
    assert problem in recorded.message


# -- an intact chain ------------------------------------------------------------------------


def test_intact_log_from_every_writer_verifies_with_exit_0(runner, login):
    login("admin")  # a login operation
    user = staff.create_user("zoe", role="clerk", password="long-enough-password", actor=ACTOR)
    customer_id = customers.create_customer(
        {
            "code": "C1",
            "name": "Acme",
            "credit_limit": "1500.5",
            "contract_end": date(2027, 1, 31),
            "email": "a@example.com",
        },
        actor=ACTOR,
    )
    customers.update_details(
        customer_id,
        {"name": "Acme Ltd", "balance": Decimal("12.30"), "contract_end": None},
        expected_version=1,
        actor=ACTOR,
    )
    append(
        action="deactivate",
        entries=customer_entries(2500),
        memo="bulk, über 中文 'quoted'",
        reason_code="duplicate",
        scope={"ids": [1, 2], "filter": {"status": "active"}},
        skipped_count=3,
    )
    assert user.id and customer_id
    count = _operation_count()
    assert count == 5

    result = _verify(runner)

    assert result.exit_code == 0, result.output
    assert result.output == f"{count} operations verified, chain intact\n"
    recorded = _last_verification()
    assert (recorded.intact, recorded.operations_checked, recorded.first_bad_operation_id) == (
        True,
        count,
        None,
    )


def test_streams_in_small_batches_give_the_same_answer(app, monkeypatch):
    build_log((0, 5, 1, 0, 7, 3))
    monkeypatch.setattr(audit_verify, "STREAM_BATCH", 2)
    monkeypatch.setattr(audit_verify, "ENTRY_FETCH", 3)  # fetches end inside an operation
    monkeypatch.setattr(audit_verify, "HASH_CHUNK", 2)  # an operation hashed in pieces
    seen = []
    result = audit_verify.verify_chain(progress=seen.append)
    assert (result.intact, result.operations_checked, result.entries_checked) == (True, 6, 16)
    assert sum(seen) == 6


@pytest.mark.parametrize("hash_chunk", [1, 2, 1000])
def test_entry_values_that_look_like_json_separators_verify(app, monkeypatch, hash_chunk):
    """The walk encodes a group of entries in one call and splits it at "],[": values holding
    that very text (or quotes, newlines, non-ASCII) must hash exactly as appending did."""
    monkeypatch.setattr(audit_verify, "HASH_CHUNK", hash_chunk)
    append(
        entries=[
            ("customer", 1, "C1", "name", "a],[b", '"],["x'),
            ("customer", 2, "C2", "name", None, "line\nbreak 中文 \u2028 \\ ]"),
            ("customer", 3, "C3", "memo", "[1,2]", "],["),
        ]
    )
    build_log((2, 1))
    result = audit_verify.verify_chain()
    assert (result.intact, result.operations_checked, result.entries_checked) == (True, 3, 6)


def test_empty_log_verifies(runner):
    result = _verify(runner)
    assert result.exit_code == 0
    assert result.output == "0 operations verified, chain intact\n"


def test_progress_bar_only_on_a_terminal(runner, monkeypatch):
    build_log((1, 1))
    plain = _verify(runner)
    assert "Verifying" not in plain.output
    monkeypatch.setattr("admin_app.cli._stdout_is_tty", lambda: True)
    with_bar = _verify(runner)
    assert with_bar.exit_code == 0
    assert "Verifying operations" in with_bar.output
    assert with_bar.output.rstrip().endswith("2 operations verified, chain intact")


# -- tampering ------------------------------------------------------------------------------


def test_edited_operation_row_is_named(runner):
    ids = build_log()
    tamper(f"UPDATE audit_operations SET memo = 'nothing happened' WHERE id = {ids[2]}")
    _assert_fails_at(_verify(runner), ids[2], "edited")


def test_edited_entry_names_its_operation(runner):
    ids = build_log()
    victim = entry_ids(ids[3])[0]
    tamper(f"UPDATE audit_entries SET new_value = 'active' WHERE id = {victim}")
    _assert_fails_at(_verify(runner), ids[3], "edited")


def test_entry_moved_to_another_operation_is_detected(runner):
    ids = build_log()
    moved = entry_ids(ids[0])[0]
    tamper(f"UPDATE audit_entries SET operation_id = {ids[1]} WHERE id = {moved}")
    _assert_fails_at(_verify(runner), ids[0], "edited")


def test_deleted_middle_operation_breaks_the_next_link(runner):
    ids = build_log()
    tamper(
        f"DELETE FROM audit_entries WHERE operation_id = {ids[2]}",
        f"DELETE FROM audit_operations WHERE id = {ids[2]}",
    )
    result = _verify(runner)
    _assert_fails_at(result, ids[3], "deleted")
    assert f"#{ids[2]} are missing" in result.output


def test_deleted_operation_whose_entries_remain_is_named(runner):
    ids = build_log()
    tamper(f"DELETE FROM audit_operations WHERE id = {ids[2]}")  # foreign keys not enforced
    result = _verify(runner)
    _assert_fails_at(result, ids[3], "deleted")
    assert f"operation #{ids[2]} is missing but 3 of its entries remain" in result.output


def test_deleted_first_operation_is_detected(runner):
    ids = build_log()
    tamper(
        f"DELETE FROM audit_entries WHERE operation_id = {ids[0]}",
        f"DELETE FROM audit_operations WHERE id = {ids[0]}",
    )
    _assert_fails_at(_verify(runner), ids[1], "deleted")


def test_deleted_last_operation_is_a_head_mismatch(runner):
    ids = build_log()
    tamper(
        f"DELETE FROM audit_entries WHERE operation_id = {ids[-1]}",
        f"DELETE FROM audit_operations WHERE id = {ids[-1]}",
    )
    result = _verify(runner)
    _assert_fails_at(result, ids[-1], "head mismatch")
    assert f"the log ends at #{ids[-2]}" in result.output


def _forge_after(last_id: int, *, correct_hash: bool) -> int:
    """Insert a copy of operation `last_id` as a new, newer operation; returns its id."""
    db.session.rollback()
    last = (
        db.session.execute(
            sa.select(
                *(AuditOperation.__table__.c[name] for name in (*HASHED_OPERATION_FIELDS, "hash"))
            ).where(AuditOperation.id == last_id)
        )
        .one()
        ._mapping
    )
    forged = {
        **last,
        "id": last_id + 1,
        "memo": "forged",
        "confirmation_id": None,
        "reverts_operation_id": None,
    }
    digest = operation_hash(forged, [], last["hash"]) if correct_hash else "f" * 64
    columns = ", ".join(HASHED_OPERATION_FIELDS)
    values = ", ".join(
        {
            "id": str(forged["id"]),
            "memo": "'forged'",
            "confirmation_id": "NULL",
            "reverts_operation_id": "NULL",
        }.get(name, name)
        for name in HASHED_OPERATION_FIELDS
    )
    tamper(
        f"INSERT INTO audit_operations ({columns}, prev_hash, hash) "
        f"SELECT {values}, '{last['hash']}', '{digest}' FROM audit_operations "
        f"WHERE id = {last_id}"
    )
    return forged["id"]


@pytest.mark.parametrize("correct_hash", [True, False], ids=["rehashed", "bogus-hash"])
def test_inserted_forged_operation_is_named(runner, correct_hash):
    ids = build_log((1, 0, 2))
    forged_id = _forge_after(ids[-1], correct_hash=correct_hash)
    _assert_fails_at(_verify(runner), forged_id, "inserted")


def test_inserted_forged_entry_names_its_operation(runner):
    ids = build_log()
    tamper(
        "INSERT INTO audit_entries (operation_id, entity, entity_id, entity_label, field, "
        f"old_value, new_value) VALUES ({ids[1]}, 'customer', 99, 'T00099', 'status', "
        "'active', 'deactivated')"
    )
    _assert_fails_at(_verify(runner), ids[1], "edited")


def test_entries_of_an_operation_that_never_existed_are_inserted(runner):
    ids = build_log()
    ghost = ids[-1] + 50
    tamper(
        "INSERT INTO audit_entries (operation_id, entity, entity_id, entity_label, field, "
        f"old_value, new_value) VALUES ({ghost}, 'customer', 9, 'T00009', 'status', "
        "'active', 'deactivated')"
    )
    _assert_fails_at(_verify(runner), ghost, "inserted")


def test_swapped_operations_are_reordered(runner):
    ids = build_log((1, 1, 1, 1))
    a, b = ids[1], ids[2]
    tamper(
        f"UPDATE audit_entries SET operation_id = -1 WHERE operation_id = {a}",
        f"UPDATE audit_operations SET id = -1 WHERE id = {a}",
        f"UPDATE audit_entries SET operation_id = {a} WHERE operation_id = {b}",
        f"UPDATE audit_operations SET id = {a} WHERE id = {b}",
        f"UPDATE audit_entries SET operation_id = {b} WHERE operation_id = -1",
        f"UPDATE audit_operations SET id = {b} WHERE id = -1",
    )
    _assert_fails_at(_verify(runner), a, "reordered")


def test_rewritten_link_is_a_broken_link(runner):
    """prev_hash edited and the row re-hashed over it: only the link is wrong."""
    ids = build_log((1, 1, 1))
    db.session.rollback()
    row = (
        db.session.execute(
            sa.select(
                *(AuditOperation.__table__.c[name] for name in HASHED_OPERATION_FIELDS)
            ).where(AuditOperation.id == ids[1])
        )
        .one()
        ._mapping
    )
    entries = [
        tuple(e)
        for e in db.session.execute(
            sa.text(
                "SELECT entity, entity_id, entity_label, field, old_value, new_value FROM audit_entries "
                f"WHERE operation_id = {ids[1]} ORDER BY id"
            )
        )
    ]
    fake_prev = "a" * 64
    rehashed = operation_hash(row, entries, fake_prev)
    tamper(
        f"UPDATE audit_operations SET prev_hash = '{fake_prev}', hash = '{rehashed}' "
        f"WHERE id = {ids[1]}"
    )
    _assert_fails_at(_verify(runner), ids[1], "link broken")


def test_rewritten_and_rehashed_newest_operation_is_a_head_mismatch(runner):
    """The newest operation edited and re-hashed over its own prev_hash, nothing else
    touched: every link checks out, only the chain head's hash tells."""
    ids = build_log((1, 2, 1))
    db.session.rollback()
    newest = ids[-1]
    row = dict(
        db.session.execute(
            sa.select(
                *(
                    AuditOperation.__table__.c[name]
                    for name in (*HASHED_OPERATION_FIELDS, "prev_hash")
                )
            ).where(AuditOperation.id == newest)
        )
        .one()
        ._mapping
    )
    entries = [
        tuple(e)
        for e in db.session.execute(
            sa.text(
                "SELECT entity, entity_id, entity_label, field, old_value, new_value FROM audit_entries "
                f"WHERE operation_id = {newest} ORDER BY id"
            )
        )
    ]
    row["memo"] = "nothing happened"
    rehashed = operation_hash(row, entries, row["prev_hash"])
    tamper(
        f"UPDATE audit_operations SET memo = 'nothing happened', hash = '{rehashed}' "
        f"WHERE id = {newest}"
    )
    result = _verify(runner)
    _assert_fails_at(result, newest, "head mismatch")
    assert "it was rewritten" in result.output


def test_tampered_log_can_be_verified_again_with_the_same_answer(runner):
    ids = build_log()
    tamper(f"UPDATE audit_operations SET actor_username = 'someone' WHERE id = {ids[0]}")
    first, second = _verify(runner), _verify(runner)
    assert first.output == second.output
    db.session.rollback()
    assert (
        db.session.execute(sa.select(sa.func.count()).select_from(AuditVerification)).scalar() == 2
    )


# -- the checker alone (no database) -----------------------------------------------------------


def _chain(ids) -> list[Link]:
    links, prev = [], GENESIS_HASH
    for number in ids:
        digest = f"{number:064x}"
        links.append(Link(number, prev, digest, digest))
        prev = digest
    return links


def _head(links) -> Head:
    return Head(links[-1].id, links[-1].stored_hash, len(links))


def test_checker_names_an_operation_squeezed_into_an_id_gap():
    genuine = _chain([10, 20, 30, 40])
    forged = Link(15, genuine[0].stored_hash, "e" * 64, "e" * 64)  # links to 10, hash valid
    stored = [genuine[0], forged, *genuine[1:]]
    checked, finding = check_links(stored, _head(genuine))
    assert (checked, finding.operation_id, finding.problem) == (2, 15, Problem.INSERTED)


def test_checker_names_a_squeezed_in_operation_with_a_bad_hash():
    genuine = _chain([10, 20, 30])
    forged = Link(15, genuine[0].stored_hash, "e" * 64, "d" * 64)
    checked, finding = check_links([genuine[0], forged, *genuine[1:]], _head(genuine))
    assert (checked, finding.operation_id, finding.problem) == (1, 15, Problem.INSERTED)


def test_checker_reports_an_intact_chain_and_counts_it():
    links = _chain(range(1, 5001))
    seen = []
    assert check_links(links, _head(links), progress=seen.append) == (5000, None)
    assert sum(seen) == 5000


def test_checker_needs_the_head_to_match_the_count():
    links = _chain([1, 2, 3])
    _, finding = check_links(links, Head(3, links[-1].stored_hash, 4))
    assert (finding.operation_id, finding.problem) == (3, Problem.HEAD_MISMATCH)


def test_checker_reports_a_missing_head_row():
    _, finding = check_links(_chain([1, 2]), None)
    assert finding.problem == Problem.HEAD_MISMATCH


def test_read_ahead_keeps_order_raises_the_readers_error_and_stops_when_closed():
    assert list(read_ahead(iter([[1], [2, 3], [4]]))) == [[1], [2, 3], [4]]

    def failing():
        yield [1]
        raise RuntimeError("connection lost")

    with pytest.raises(RuntimeError, match="connection lost"):
        list(read_ahead(failing()))

    produced = []

    def endless():
        for number in itertools.count():
            produced.append(number)
            yield [number]

    batches = read_ahead(endless(), depth=2)
    assert next(batches) == [0]
    batches.close()  # the reader stops: no thread is left waiting to hand over a batch
    assert not any(t.name == "audit-verify-read-ahead" for t in threading.enumerate())
    assert len(produced) <= 4
