"""I. Tampering with the operation log (SECURITY.md T46, T47). SECURITY.md's `audit_log` is
`audit_operations` + `audit_entries` here.

Covered elsewhere:
- T47, the table owner: UPDATE / DELETE refused by the append-only triggers on both databases,
  TRUNCATE on PostgreSQL: tests/test_migrations.py::test_database_refuses_to_change_the_log
  and ::test_postgres_refuses_truncate_of_the_log (the tests connect as the owner).
- T47, superuser / SQLite with the triggers dropped, then `flask audit verify`:
  tests/test_audit_verify.py (edited, inserted, deleted and reordered operations and entries,
  a rewritten link, a deleted tail and a rewritten, re-hashed newest operation against the
  chain head), on both databases.
"""

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.services import audit_verify
from admin_app.services import staff as staff_service
from admin_app.services.audit import Actor
from tests.security.conftest import events, snapshot


def test_t46_the_log_cannot_be_changed_over_http_even_by_an_admin(client, login, caplog):
    """T46 — as admin: POST /admin/audit/new/, /edit/?id=1, /delete/, /action/ (delete),
    /ajax/update/ and GET /edit/?id=1: 403 each (not a silent 302); every row and the hash
    chain unchanged; one security event per attempt."""
    login("admin")  # the login itself is operation #1
    staff_service.create_user(
        "zoe", role="clerk", password="long-enough-password", actor=Actor.cli()
    )
    before = snapshot()
    assert len(before["operations"]) == 2
    attempts = [
        ("POST", "/admin/audit/new/", {"action": "login", "actor_username": "mallory"}),
        ("POST", "/admin/audit/edit/?id=1", {"memo": "nothing happened"}),
        ("POST", "/admin/audit/delete/", {"id": "1"}),
        ("POST", "/admin/audit/action/", {"action": "delete", "rowid": ["1", "2"]}),
        ("POST", "/admin/audit/ajax/update/", {"list_form_pk": "1", "memo": "x"}),
        ("GET", "/admin/audit/edit/?id=1", None),
    ]
    for number, (method, path, data) in enumerate(attempts, 1):
        response = client.open(path, method=method, data=data)
        assert response.status_code == 403, (path, response.status_code)
        assert len(events(caplog, "access_denied")) == number, path
    assert snapshot() == before


def _as(url: str, statement: str) -> str:
    """Run `statement` on its own connection; return the database's error message."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(statement))
    except sa.exc.DBAPIError as exc:
        return f"{getattr(exc.orig, 'sqlstate', '')} {exc.orig}"
    finally:
        engine.dispose()
    return "succeeded"


@pytest.fixture
def app_role_url(request, app, backend) -> str:
    """A log with one operation, and the URL of the app's restricted role (PostgreSQL)."""
    if backend != "postgresql":
        pytest.skip("database roles are PostgreSQL's")
    staff_service.create_user(
        "zoe", role="clerk", password="long-enough-password", actor=Actor.cli()
    )
    db.session.remove()
    return request.getfixturevalue("pg_app_role")[1]


@pytest.mark.parametrize(
    "statement, error",
    [
        (
            "UPDATE audit_operations SET actor_username = 'x'",
            "42501 permission denied for table audit_operations",
        ),
        ("DELETE FROM audit_operations", "42501 permission denied for table audit_operations"),
        (
            "UPDATE audit_entries SET new_value = 'x'",
            "42501 permission denied for table audit_entries",
        ),
        ("DELETE FROM audit_entries", "42501 permission denied for table audit_entries"),
        ("TRUNCATE audit_operations CASCADE", "42501 permission denied for table audit_operations"),
        ("TRUNCATE audit_entries", "42501 permission denied for table audit_entries"),
        (
            "ALTER TABLE audit_operations DISABLE TRIGGER ALL",
            "42501 must be owner of table audit_operations",
        ),
        (
            "SET session_replication_role = replica",
            '42501 permission denied to set parameter "session_replication_role"',
        ),
    ],
)
def test_t47_the_app_role_cannot_change_the_log(app_role_url, statement, error):
    """T47 — direct SQL as the app's own PostgreSQL role (SELECT and INSERT on the audit
    tables only): UPDATE, DELETE, TRUNCATE → permission denied (42501); DISABLE TRIGGER →
    must be owner; session_replication_role → permission denied. Nothing changed."""
    before = snapshot()
    assert _as(app_role_url, statement) == error
    assert snapshot() == before


def test_t47_the_app_role_reads_and_appends(app_role_url):
    """T47 — the same role has what the app needs on the log, and no more: SELECT and INSERT,
    not UPDATE, DELETE or TRUNCATE."""
    engine = sa.create_engine(app_role_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_operations")).scalar() == 1
        for table in ("audit_operations", "audit_entries"):
            privileges = {
                p: conn.execute(
                    sa.text("SELECT has_table_privilege(current_user, :t, :p)"),
                    {"t": table, "p": p},
                ).scalar()
                for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
            }
            assert privileges == {
                "SELECT": True,
                "INSERT": True,
                "UPDATE": False,
                "DELETE": False,
                "TRUNCATE": False,
            }, table
    engine.dispose()


def test_t47_forged_rows_are_caught_by_the_verifier(app_role_url):
    """T47 — the app role may INSERT (the app appends), so a row forged with an explicit id
    (seq) and its own hash goes in; the hash chain names it."""
    assert audit_verify.verify_chain().intact
    forged = _as(
        app_role_url,
        (
            "INSERT INTO audit_operations (id, created_at, actor_username, actor_role, action, "
            "memo, scope, changed_count, skipped_count, source, prev_hash, hash) VALUES (999, "
            "now(), 'mallory', 'admin', 'deactivate', '', '{}', 0, 0, 'web', repeat('0', 64), "
            "repeat('f', 64))"
        ),
    )
    assert forged == "succeeded"
    db.session.remove()
    result = audit_verify.verify_chain()
    assert not result.intact
    assert (result.first_bad_operation_id, result.problem) == (999, "inserted")
