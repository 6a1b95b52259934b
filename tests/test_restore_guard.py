"""A database restored from an older copy is noticed before its log is extended: writes are
refused (503, nothing changed, reads still work) until an operator acknowledges the restore,
which is itself logged."""

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditOperation
from tests.audit_support import tamper
from tests.conftest import confirm_action, make_customers, start_action, statuses


@pytest.fixture
def marker(app, tmp_path):
    path = tmp_path / "instance" / "log-head.json"
    app.config["LOG_HEAD_MARKER"] = str(path)
    return path


def _restore_to(operation_id: int) -> None:
    """What restoring a copy taken right after `operation_id` does to the log."""
    tamper(
        f"DELETE FROM audit_entries WHERE operation_id > {operation_id}",
        f"DELETE FROM audit_operations WHERE id > {operation_id}",
        "UPDATE audit_chain_head SET last_operation_id = o.id, last_hash = o.hash, "
        "operation_count = (SELECT count(*) FROM audit_operations) "
        f"FROM audit_operations o WHERE o.id = {operation_id}",
    )


def _newest_operation() -> tuple[int, str]:
    db.session.rollback()
    return db.session.execute(
        sa.select(AuditOperation.id, AuditOperation.action)
        .order_by(AuditOperation.id.desc())
        .limit(1)
    ).one()


def test_a_restored_log_refuses_writes_until_acknowledged(
    app, client, login, reasons, marker, runner
):
    ids = make_customers(4)
    login("admin")  # operation 1: the login
    _response, token = start_action(client, "deactivate", ids[:2])
    assert confirm_action(client, token).status_code == 303  # operation 2
    assert '"operation_id": 2' in marker.read_text()
    _restore_to(1)

    _response, token = start_action(client, "freeze", ids[2:])
    refused = confirm_action(client, token)

    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "300"
    page = refused.get_data(as_text=True)
    assert "The operation log went back: this server last saw operation #2" in page
    assert "backup acknowledge-restore" in page
    assert statuses(ids[2:]) == {ids[2]: "active", ids[3]: "active"}
    assert _newest_operation()[0] == 1
    assert client.get("/admin/customers/").status_code == 200

    acknowledged = runner.invoke(args=["backup", "acknowledge-restore"])

    assert acknowledged.exit_code == 0, acknowledged.output
    assert "went back from operation #2 to #1" in acknowledged.output
    assert _newest_operation()[1] == "restore_acknowledged"
    assert confirm_action(client, token).status_code == 303
    assert statuses(ids[2:]) == {ids[2]: "frozen", ids[3]: "frozen"}
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_a_rewritten_head_is_refused_too(app, client, login, reasons, marker):
    ids = make_customers(2)
    login("admin")
    _response, token = start_action(client, "deactivate", ids[:1])
    assert confirm_action(client, token).status_code == 303
    # Another first hex digit, whatever it was ('f' || ... left a hash starting with f as it
    # was: 1 run in 16 tampered with nothing).
    tamper(
        "UPDATE audit_operations SET hash = CASE WHEN substr(hash, 1, 1) = 'f' THEN '0' "
        "ELSE 'f' END || substr(hash, 2) WHERE id = 2"
    )

    _response, token = start_action(client, "deactivate", ids[1:])

    assert confirm_action(client, token).status_code == 503
    assert statuses(ids[1:]) == {ids[1]: "active"}


def test_a_new_empty_database_is_not_a_restore(app, runner, marker):
    marker.parent.mkdir(parents=True)
    marker.write_text('{"operation_id": 40, "hash": "ab", "first_hash": "cd"}')

    result = runner.invoke(
        args=["users", "create", "dora", "--role", "clerk", "--password", "a-long-passphrase-9"]
    )

    assert result.exit_code == 0, result.output
    assert '"operation_id": 1' in marker.read_text()


def test_nothing_to_acknowledge_when_the_log_did_not_go_back(app, runner, marker, client, login):
    login("admin")

    result = runner.invoke(args=["backup", "acknowledge-restore"])

    assert result.exit_code == 0
    assert "nothing to acknowledge" in result.output
    assert _newest_operation()[1] == "login"
