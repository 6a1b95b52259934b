"""Durability and refused writes: SQLite syncs every commit by default; a database that is
full or read-only answers 503 with Retry-After, changes nothing, and keeps serving reads."""

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from admin_app import create_app
from admin_app.extensions import db
from admin_app.models import AuditOperation
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
