"""`backup create` / `backup verify`: a consistent copy, checked by verifying its log."""

import sqlalchemy as sa

from tests.conftest import confirm_action, make_customers, start_action


def _deactivate_three(client, login):
    ids = make_customers(3)
    login("admin")
    _response, token = start_action(client, "deactivate", ids)
    assert confirm_action(client, token).status_code == 303


def test_a_backup_verifies_and_reports_its_counts(app, runner, client, login, reasons, tmp_path):
    _deactivate_three(client, login)
    target = tmp_path / "copy.backup"

    created = runner.invoke(args=["backup", "create", str(target)])
    assert created.exit_code == 0, created.output
    assert f"Backup written to {target}" in created.output
    checked = runner.invoke(args=["backup", "verify", str(target)])

    assert checked.exit_code == 0, checked.output
    assert "3 customers, 2 operations, 3 entries." in checked.output  # login + deactivation
    assert "2 operations verified, chain intact" in checked.output


def test_a_tampered_backup_fails_verification(
    app, backend, runner, client, login, reasons, tmp_path
):
    if backend != "sqlite":
        return  # tampering with a pg_dump archive is not a file edit; the SQLite case covers it
    _deactivate_three(client, login)
    target = tmp_path / "copy.db"
    assert runner.invoke(args=["backup", "create", str(target)]).exit_code == 0
    copy = sa.create_engine(f"sqlite:///{target}")
    with copy.begin() as conn:
        triggers = [
            name
            for (name,) in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_operations'"
            )
        ]
        for name in triggers:
            conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        conn.exec_driver_sql(
            "UPDATE audit_operations SET memo = 'rewritten' "
            "WHERE id = (SELECT max(id) FROM audit_operations)"
        )
    copy.dispose()

    checked = runner.invoke(args=["backup", "verify", str(target)])

    assert checked.exit_code == 1, checked.output
    assert "Chain broken at operation #2: edited." in checked.output


def test_an_existing_target_is_never_overwritten(app, runner, tmp_path):
    target = tmp_path / "exists.db"
    target.write_bytes(b"keep me")

    result = runner.invoke(args=["backup", "create", str(target)])

    assert result.exit_code == 1
    assert "already exists" in result.output
    assert target.read_bytes() == b"keep me"


def test_a_file_that_is_no_backup_is_a_clear_error(app, runner, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")

    result = runner.invoke(args=["backup", "verify", str(junk)])

    assert result.exit_code == 1
    assert "neither a SQLite database nor a pg_dump custom-format file" in result.output
    assert "Traceback" not in result.output
    missing = runner.invoke(args=["backup", "verify", str(tmp_path / "missing.db")])
    assert missing.exit_code == 1 and "Cannot read" in missing.output
