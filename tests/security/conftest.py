"""Helpers for the SECURITY.md cases: CSRF tokens, database snapshots ("nothing changed"),
security events from the log, a clock for signed tokens, and a WHATWG URL resolver."""

import hashlib
import json
import os
import re
import shutil
import subprocess

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import (
    AuditChainHead,
    AuditEntry,
    AuditOperation,
    Customer,
    StaffUser,
    StatusChangeRequest,
)

CSRF_RE = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*>')
VALUE_RE = re.compile(r'\bvalue="([^"]+)"')


def text(response) -> str:
    return response.get_data(as_text=True)


def csrf_from(response) -> str:
    field = CSRF_RE.search(text(response))
    assert field, "no csrf_token field on the page"
    return VALUE_RE.search(field.group(0)).group(1)


def page_csrf(client, path: str = "/login") -> str:
    """The CSRF token a page renders for this client's session."""
    return csrf_from(client.get(path))


def snapshot() -> dict:
    """Everything "nothing changed" compares: customers byte for byte, the log (rows, hashes,
    chain head), pending confirmations and staff users."""
    db.session.rollback()

    def rows(statement):
        return [tuple(row) for row in db.session.execute(statement).all()]

    return {
        "customers": rows(sa.select(*Customer.__table__.c).order_by(Customer.id)),
        "operations": rows(
            sa.select(AuditOperation.id, AuditOperation.hash).order_by(AuditOperation.id)
        ),
        "entries": rows(
            sa.select(AuditEntry.id, AuditEntry.operation_id, AuditEntry.new_value).order_by(
                AuditEntry.id
            )
        ),
        "head": rows(sa.select(*AuditChainHead.__table__.c)),
        "pending": rows(sa.select(StatusChangeRequest.id).order_by(StatusChangeRequest.id)),
        "staff": rows(
            sa.select(
                StaffUser.id, StaffUser.role, StaffUser.is_active, StaffUser.password_hash
            ).order_by(StaffUser.id)
        ),
    }


def events(caplog, event_type: str | None = None) -> list[dict]:
    """The security events logged so far (optionally of one type)."""
    found = [
        record.security_event for record in caplog.records if hasattr(record, "security_event")
    ]
    return [event for event in found if event_type is None or event["type"] == event_type]


@pytest.fixture
def clock(monkeypatch):
    """clock(seconds) moves the clock of every itsdangerous-signed token (CSRF tokens,
    confirmation tokens) that many seconds ahead."""
    from itsdangerous.timed import TimestampSigner

    real = TimestampSigner.get_timestamp

    def advance(seconds: int) -> None:
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + seconds)

    return advance


def _node() -> str | None:
    try:
        from playwright._impl._driver import compute_driver_executable

        node = compute_driver_executable()[0]
        if os.path.exists(node):
            return node
    except Exception:  # noqa: BLE001 - fall back to a system node
        pass
    return shutil.which("node")


@pytest.fixture(scope="session")
def whatwg_resolve():
    """resolve(locations, base) -> the hosts a browser would go to, via `new URL(l, base)`
    (the WHATWG URL parser browsers use), in Node."""
    node = _node()
    if node is None:
        pytest.skip("no Node.js to run the WHATWG URL parser")
    script = (
        "const [base, ...ls] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "console.log(JSON.stringify(ls.map(l => { const u = new URL(l, base);"
        " return u.protocol + '//' + u.host; })));"
    )

    def resolve(locations: list[str], base: str = "http://localhost/") -> list[str]:
        result = subprocess.run(
            [node, "-e", script],
            input=json.dumps([base, *locations]),
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return json.loads(result.stdout)

    return resolve


APP_ROLE_GRANTS = """
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
REVOKE UPDATE, DELETE ON audit_operations, audit_entries FROM {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}
"""


@pytest.fixture(scope="session")
def pg_app_role(postgres_url, worker_id):
    """A PostgreSQL login role for the app, as README's deployment section grants it: rows of
    the ordinary tables, but only SELECT and INSERT on the audit tables (no UPDATE, DELETE,
    TRUNCATE, no ownership). Returns (role name, database URL as that role)."""
    # Roles are the cluster's, not the database's: the database in the name keeps two test
    # runs on one server (CI beside a developer's run) from dropping each other's role.
    database = sa.engine.make_url(postgres_url).database or ""
    role = f"ca_app_{hashlib.sha256(database.encode()).hexdigest()[:12]}_{worker_id}".lower()
    # A new connection each time: a test that terminates the database's backends must not
    # leave this fixture's teardown a dead pooled connection.
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        for statement in APP_ROLE_GRANTS.format(role=role).split(";"):
            conn.exec_driver_sql(statement)
    url = sa.engine.make_url(postgres_url).set(username=role, password=None)
    yield role, url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :role"),
            {"role": role},
        )
        conn.exec_driver_sql(f"DROP OWNED BY {role}")
        conn.exec_driver_sql(f"DROP ROLE {role}")
    admin.dispose()
