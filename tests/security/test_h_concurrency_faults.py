"""H. Concurrency and faults (SECURITY.md T41–T45).

Covered elsewhere, on both databases:
- T41 overlapping concurrent bulk deactivations: tests/test_status_change_service.py::
  test_overlapping_concurrent_operations_log_each_customer_once (two threads, each customer
  logged once, every customer changed).
- T42 a stale edit form after a bulk change: tests/test_bulk_flow.py::test_stale_edit_form_
  does_not_undo_a_bulk_change ("changed by someone else", the customer stays inactive); the
  form shown again with status 409, and an edit without a valid version refused with 400:
  test_an_edit_without_a_valid_version_never_overwrites_a_concurrent_change below.
"""

import functools
import logging
import re
import threading

import pytest
import sqlalchemy as sa

from admin_app import create_app
from admin_app.extensions import db
from admin_app.services import customers, status_change
from admin_app.services.audit import Actor
from tests.conftest import (
    PASSWORD,
    TOKEN_RE,
    IsolatedClient,
    confirm_action,
    make_customers,
    start_action,
    statuses,
)
from tests.security.conftest import events, snapshot, text
from tests.security.servers import Client, app_spec, gunicorn

FAILED = re.compile(r"The operation failed; nothing was changed\. Reference: ([0-9a-f]{8})")


@pytest.fixture
def admin_client(client, login, reasons):
    login("admin")
    return client


def test_t43_sqlite_under_four_gunicorn_workers_never_says_locked(
    backend, staff, reasons, database_url, tmp_path
):
    """T43 — SQLite, 4 gunicorn workers, 20 concurrent step-2 requests on disjoint sets: no
    500 "database is locked"; each request succeeds (303) or answers 503 with Retry-After
    and changes nothing."""
    if backend != "sqlite":
        pytest.skip("SQLite's single writer")
    sets = [make_customers(5, start=1 + 10 * n) for n in range(20)]
    db.session.remove()
    with gunicorn(app_spec(database_url), tmp_path, workers=4) as server:
        browser = Client(server)
        assert browser.post("/login", {"username": "admin", "password": PASSWORD}).status == 302
        tokens = []
        for ids in sets:
            page = browser.post(
                "/admin/customers/action/", {"action": "deactivate", "rowid": [str(i) for i in ids]}
            )
            tokens.append(TOKEN_RE.search(page.body).group(1))
        barrier, replies = threading.Barrier(len(tokens)), {}

        def confirm(index):
            barrier.wait()
            replies[index] = Client(server, cookies=dict(browser.cookies)).post(
                "/admin/customers/confirm/", {"token": tokens[index], "reason": "customer_request"}
            )

        threads = [threading.Thread(target=confirm, args=(n,)) for n in range(len(tokens))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        workers = server.worker_pids_seen("/admin/customers/confirm/")
        logs = server.logs()
    assert len(workers) >= 2
    assert "database is locked" not in logs
    for index, ids in enumerate(sets):
        reply = replies[index]
        assert reply.status in (303, 503), (reply.status, reply.body[:300])
        if reply.status == 303:
            assert statuses(ids) == {i: "deactivated" for i in ids}
        else:
            assert reply.header("Retry-After")
            assert statuses(ids) == {i: "active" for i in ids}


def test_t43_write_transactions_begin_immediate(admin_client, backend):
    """T43 — on SQLite the confirm's write transaction starts with BEGIN IMMEDIATE, before
    any write (the SQL log of one confirm). (WAL and busy_timeout ≥ 5000 on every connection:
    tests/test_factory.py::test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys.)"""
    if backend != "sqlite":
        pytest.skip("SQLite transactions")
    ids = make_customers(2)
    _, token = start_action(admin_client, "deactivate", ids)
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.strip().split()[0:2])

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert confirm_action(admin_client, token).status_code == 303
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    first_write = next(
        n
        for n, words in enumerate(statements)
        if words[0].upper() in ("UPDATE", "INSERT", "DELETE")
    )
    begins = [words for words in statements[:first_write] if words[0].upper() == "BEGIN"]
    assert begins[-1] == ["BEGIN", "IMMEDIATE"]


def _dbapi_error(message: str) -> Exception:
    return db.engine.dialect.loaded_dbapi.OperationalError(message)


def _fail_on(statement_start: str, nth: int = 1):
    """A before_cursor_execute hook raising a driver OperationalError on the nth statement
    that starts with `statement_start` (or whose leading CTE does: PostgreSQL's chunk UPDATE
    is `WITH changed AS (UPDATE customers …) INSERT …`)."""
    seen = []

    def hook(conn, cursor, statement, parameters, context, executemany):
        text = re.sub(r"^WITH\s+\w+\s+AS\s*\(\s*", "", statement.lstrip().upper())
        if text.startswith(statement_start):
            seen.append(statement)
            if len(seen) == nth:
                raise _dbapi_error("injected failure: disk I/O error")

    return hook


@pytest.mark.parametrize("where", ["second_customer_update", "audit_insert", "commit"])
def test_t44_a_database_failure_changes_nothing_and_shows_a_reference(
    app, admin_client, where, monkeypatch, caplog
):
    """T44 — an OperationalError on the 2nd chunk's customer UPDATE, on the audit INSERT, or
    on COMMIT: 0 customers changed, 0 audit rows, the op token not consumed (a retry works
    once); the answer is 500 "The operation failed; nothing was changed. Reference: …" with
    no SQL, driver text or traceback, and the error is logged with the same reference."""
    ids = make_customers(5)
    _, token = start_action(admin_client, "deactivate", ids)
    before = snapshot()
    monkeypatch.setattr(
        status_change, "execute", functools.partial(status_change.execute, chunk_size=2)
    )
    hook = None
    if where == "commit":

        def failing_commit(dbapi_connection):
            raise _dbapi_error("injected failure: disk I/O error")

        monkeypatch.setattr(db.engine.dialect, "do_commit", failing_commit)
    else:
        hook = (
            _fail_on("UPDATE CUSTOMERS", nth=2)
            if where == "second_customer_update"
            else _fail_on("INSERT INTO AUDIT_OPERATIONS")
        )
        sa.event.listen(db.engine, "before_cursor_execute", hook)
    try:
        response = confirm_action(admin_client, token)
    finally:
        if hook:
            sa.event.remove(db.engine, "before_cursor_execute", hook)
        monkeypatch.undo()
    assert response.status_code == 500
    body = text(response)
    reference = FAILED.search(body).group(1)
    for leak in ("injected", "UPDATE", "INSERT", "SQL", "Traceback", "OperationalError"):
        assert leak not in body
    logged = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and f"reference {reference}" in r.getMessage()
    ]
    assert len(logged) == 1 and logged[0].exc_info
    assert snapshot() == before
    assert confirm_action(admin_client, token).status_code == 303
    assert confirm_action(admin_client, token).status_code == 409
    assert statuses(ids) == {i: "deactivated" for i in ids}


def test_t44_a_killed_connection_between_the_steps_recovers(admin_client, backend, database_url):
    """T44 — the PostgreSQL connections are killed between step 1 and step 2:
    pool_pre_ping replaces them and the confirm works."""
    if backend != "postgresql":
        pytest.skip("pg_terminate_backend")
    ids = make_customers(2)
    _, token = start_action(admin_client, "deactivate", ids)
    db.session.remove()
    killer = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with killer.connect() as conn:
        killed = conn.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    killer.dispose()
    assert killed >= 1
    assert confirm_action(admin_client, token).status_code == 303
    assert statuses(ids) == {i: "deactivated" for i in ids}


@pytest.fixture
def audit_insert_refused(request, backend, database_url):
    """(app to use, refuse(), allow()): refuse() takes the audit INSERT privilege away —
    REVOKE from the app's restricted role on PostgreSQL, a trigger on SQLite."""
    if backend == "postgresql":
        role, role_url = request.getfixturevalue("pg_app_role")
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=role_url)
        app.test_client_class = IsolatedClient
        admin_engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")

        def refuse():
            with admin_engine.connect() as conn:
                conn.execute(sa.text(f"REVOKE INSERT ON audit_operations FROM {role}"))

        def allow():
            with admin_engine.connect() as conn:
                conn.execute(sa.text(f"GRANT INSERT ON audit_operations TO {role}"))

        yield app, refuse, allow
        allow()
        admin_engine.dispose()
        with app.app_context():
            db.engine.dispose()
        return

    def refuse():
        db.session.rollback()  # a fresh transaction: the old snapshot could not write
        db.session.execute(
            sa.text(
                "CREATE TRIGGER test_refuse_audit_insert BEFORE INSERT ON audit_operations "
                "BEGIN SELECT RAISE(ABORT, 'permission denied for table audit_operations'); END"
            )
        )
        db.session.commit()

    def allow():
        db.session.rollback()
        db.session.execute(sa.text("DROP TRIGGER IF EXISTS test_refuse_audit_insert"))
        db.session.commit()

    yield None, refuse, allow


def test_t45_an_unwritable_audit_log_rolls_the_change_back(
    app, staff, reasons, audit_insert_refused, caplog
):
    """T45 — the audit INSERT privilege is revoked (PostgreSQL: from the app's own role):
    the deactivation is rolled back (no unaudited change), 500 with a reference, and a
    CRITICAL audit_write_failed event."""
    role_app, refuse, allow = audit_insert_refused
    client = (role_app or app).test_client()
    assert (
        client.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 302
    )
    ids = make_customers(3)
    _, token = start_action(client, "deactivate", ids)
    refuse()
    before = snapshot()
    response = confirm_action(client, token)
    assert response.status_code == 500
    assert FAILED.search(text(response))
    assert "permission denied" not in text(response)
    assert snapshot() == before
    [alert] = events(caplog, "audit_write_failed")
    assert alert["action"] == "deactivate"
    assert [r.levelno for r in caplog.records if getattr(r, "security_event", None) is alert] == [
        logging.CRITICAL
    ]
    allow()
    assert confirm_action(client, token).status_code == 303
    assert statuses(ids) == {i: "deactivated" for i in ids}


# -- the edit form's optimistic version ------------------------------------------------------


EDIT_FORM = {
    "code": "T00001",
    "name": "Renamed by a stale form",
    "segment": "retail",
    "credit_limit": "1",
    "balance": "0",
}


def _edited_by_someone_else() -> int:
    """A customer whose details another user changed (version 1 → 2)."""
    [customer_id] = make_customers(1)
    customers.update_details(
        customer_id,
        {"name": "Renamed by someone else"},
        expected_version=1,
        actor=Actor(id=None, username="other", role="manager"),
    )
    return customer_id


@pytest.mark.parametrize(
    "version",
    [None, "", "abc", "1.0", "-1", "+2", "1e3", "٢", "99999999999", ["2", "2"]],
    ids=[
        "missing",
        "empty",
        "text",
        "decimal",
        "negative",
        "plus",
        "exponent",
        "arabic-digit",
        "too-long",
        "twice",
    ],
)
def test_an_edit_without_a_valid_version_never_overwrites_a_concurrent_change(
    client, login, staff, version
):
    """Someone else edited the customer (version 1 → 2) while this form was open. Posting the
    form without its `version`, or with anything but one integer, is refused with 400 and the
    edit form again with the reason; nothing is saved over the other change (with a missing
    version the form used to take the customer's current version and save)."""
    customer_id = _edited_by_someone_else()
    login("clerk")
    before = snapshot()
    data = dict(EDIT_FORM) if version is None else {**EDIT_FORM, "version": version}
    response = client.post(f"/admin/customers/edit/?id={customer_id}", data=data)
    assert response.status_code == 400
    assert "This form has no valid version of the customer" in text(response)
    assert 'name="name"' in text(response)  # the edit form again
    assert snapshot() == before


def test_an_edit_with_a_stale_version_is_409_with_the_form(client, login, staff):
    customer_id = _edited_by_someone_else()
    login("clerk")
    before = snapshot()
    response = client.post(
        f"/admin/customers/edit/?id={customer_id}", data={**EDIT_FORM, "version": "1"}
    )
    assert response.status_code == 409
    assert "This customer was changed by someone else." in text(response)
    assert 'name="name"' in text(response)
    assert snapshot() == before
    saved = client.post(
        f"/admin/customers/edit/?id={customer_id}", data={**EDIT_FORM, "version": "2"}
    )
    assert saved.status_code == 302
    assert snapshot()["customers"] != before["customers"]
