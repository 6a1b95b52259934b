"""Durability and refused writes: SQLite syncs every commit by default and copies a write's
log into the database file after the answer; a database that is full or read-only answers 503
with Retry-After, changes nothing, and keeps serving reads."""

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import request
from sqlalchemy import event

from admin_app import create_app
from admin_app.extensions import db
from admin_app.models import AuditOperation, Customer
from admin_app.services import sqlite_wal
from admin_app.services.transaction import reads_outside_a_transaction, write_transaction
from tests.conftest import confirm_action, make_customers, start_action, statuses

SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def _synchronous(app) -> str:
    with app.app_context():
        level = db.session.execute(sa.text("PRAGMA synchronous")).scalar_one()
        db.session.remove()
        db.engine.dispose()
    return SYNCHRONOUS[level]


def test_sqlite_commits_are_durable_by_default(tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'a.db'}")
    assert _synchronous(app) == "FULL"


def test_sqlite_synchronous_is_configurable(tmp_path):
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'a.db'}",
        SQLITE_SYNCHRONOUS="normal",
    )
    assert _synchronous(app) == "NORMAL"


def test_an_unknown_synchronous_level_refuses_to_start(tmp_path):
    with pytest.raises(SystemExit, match="SQLITE_SYNCHRONOUS must be one of NORMAL, FULL, EXTRA"):
        create_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'a.db'}",
            SQLITE_SYNCHRONOUS="OFF",
        )


def _database_file(backend: str) -> Path:
    """The SQLite database file (not its -wal log), its log copied in up to now."""
    if backend != "sqlite":
        pytest.skip("SQLite pragmas")
    db.session.rollback()  # the test's own read would hold the copy back to its snapshot
    sqlite_wal.checkpoint(db.engine)
    return Path(db.engine.url.database or "")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_confirmation_reaches_the_database_file_after_its_answer_not_before(
    backend, client, login, reasons
):
    ids = make_customers(300)
    login("admin")
    _page, token = start_action(client, "deactivate", ids)
    database_file = _database_file(backend)
    before = _digest(database_file)

    response = confirm_action(client, token)

    assert response.status_code == 303
    assert set(statuses(ids).values()) == {"deactivated"}  # committed: in the log
    assert _digest(database_file) == before  # the answer did not wait for the copy
    response.close()  # gunicorn closes a response once it has sent it
    assert _digest(database_file) != before
    assert set(statuses(ids).values()) == {"deactivated"}


def test_outside_a_request_a_write_reaches_the_database_file_at_once(app, backend):
    (customer_id,) = make_customers(1)
    database_file = _database_file(backend)
    before = _digest(database_file)

    with write_transaction() as session:
        session.execute(
            sa.update(Customer).where(Customer.id == customer_id).values(name="Renamed Ltd")
        )

    assert _digest(database_file) != before


def test_sqlite_checkpoints_by_itself_only_past_a_large_log(app, backend):
    _database_file(backend)
    pages = db.session.execute(sa.text("PRAGMA wal_autocheckpoint")).scalar_one()
    assert pages == sqlite_wal.AUTOCHECKPOINT_PAGES > 1000


def _refuse_writes(app, backend: str) -> None:
    """From now on every new connection of the app refuses to grow or to write."""

    def sqlite_full(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count={pages}")
        cursor.close()

    def postgres_read_only(dbapi_connection, _record):
        dbapi_connection.execute("SET default_transaction_read_only = on")
        dbapi_connection.commit()

    db.session.remove()
    db.engine.dispose()
    event.listen(db.engine, "connect", sqlite_full if backend == "sqlite" else postgres_read_only)


def test_a_full_or_read_only_database_answers_503_and_changes_nothing(
    app, backend, client, login, reasons
):
    ids = make_customers(400)
    login("admin")
    _response, token = start_action(client, "deactivate", ids)
    assert token
    db.session.rollback()
    operations_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditOperation))
    _refuse_writes(app, backend)

    response = confirm_action(client, token)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert "cannot store changes right now" in response.get_data(as_text=True)
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert set(statuses(ids).values()) == {"active"}
    db.session.rollback()
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(AuditOperation))
        == operations_before
    )
    grid = client.get("/admin/customers/")
    assert grid.status_code == 200
    assert "T00001" in grid.get_data(as_text=True)


def _postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("reads outside a transaction are PostgreSQL's")


def test_a_page_reads_outside_a_transaction_and_a_form_post_inside_one(
    app, backend, client, login, reasons
):
    _postgresql_only(backend)
    from psycopg.pq import TransactionStatus

    seen: dict[str, TransactionStatus] = {}

    @app.after_request
    def _note_transaction_status(response):
        connection = db.session.connection().connection.dbapi_connection
        seen[request.method] = connection.info.transaction_status
        return response

    ids = make_customers(2)
    login("admin")
    assert client.get("/admin/customers/").status_code == 200
    assert seen["GET"] == TransactionStatus.IDLE  # no BEGIN: nothing to roll back
    page, _token = start_action(client, "freeze", ids)
    assert page.status_code == 200
    assert seen["POST"] == TransactionStatus.INTRANS


def test_a_write_during_a_page_is_still_all_or_nothing(app, backend):
    _postgresql_only(backend)
    ids = make_customers(2)
    with app.test_request_context("/admin/customers/"):
        db.session.rollback()  # as at the start of a request
        reads_outside_a_transaction()
        customer = db.session.get(Customer, ids[0])
        customer.name = "Changed outside a write transaction"
        with pytest.raises(RuntimeError, match="outside write_transaction"):
            db.session.flush()
        db.session.rollback()
        reads_outside_a_transaction()
        db.session.execute(sa.update(Customer).values(status="deactivated"))  # a stray write
        db.session.rollback()  # the end of the request: discarded, as inside a transaction
        with pytest.raises(ZeroDivisionError), write_transaction() as session:
            session.execute(sa.update(Customer).values(status="frozen"))
            1 / 0  # noqa: B018 - fails half-way
    assert statuses(ids) == {i: "active" for i in ids}
    assert db.session.get(Customer, ids[0]).name != "Changed outside a write transaction"
