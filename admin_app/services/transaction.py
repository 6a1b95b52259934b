"""One all-or-nothing write transaction per public service call.

Writers run one at a time, always taking the same lock first, so a read-then-write cannot
race another writer and two writers cannot deadlock:
- SQLite: the transaction starts with BEGIN IMMEDIATE (the database's writer lock); waiting
  writers queue on the busy timeout instead of failing half-way with "database is locked".
- PostgreSQL: the first statement locks the audit chain head row (SELECT ... FOR UPDATE).
  Every write appends to the operation log, which needs that lock anyway.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask_babel import gettext as _
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from admin_app.extensions import db
from admin_app.services.errors import Busy

SQLITE_BUSY_TIMEOUT_MS = 5000
_begin_immediate: ContextVar[bool] = ContextVar("begin_immediate", default=False)


@event.listens_for(Engine, "connect")
def _configure_sqlite_connection(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event (below) emit BEGIN, so we choose DEFERRED or IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite_transaction(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _begin_immediate.get() else "BEGIN")


@contextmanager
def write_transaction() -> Iterator[Session]:
    """Run the block in one new write transaction; commit on success, roll back on error.

    The request's read transaction (if any) is ended first, so callers must not leave
    unflushed changes in the session. A locked SQLite database or a PostgreSQL
    deadlock / serialization failure becomes `Busy` (HTTP 503, "retry").
    """
    session = db.session
    session.rollback()
    token = _begin_immediate.set(True)
    try:
        if session.connection().dialect.name == "postgresql":
            session.execute(text("SELECT id FROM audit_chain_head WHERE id = 1 FOR UPDATE"))
    except OperationalError as exc:
        session.rollback()
        _raise_busy_if_contended(exc)
        raise
    finally:
        _begin_immediate.reset(token)
    try:
        yield session
        session.commit()
    except DBAPIError as exc:
        session.rollback()
        _raise_busy_if_contended(exc)
        raise
    except BaseException:
        session.rollback()
        raise


def _raise_busy_if_contended(exc: DBAPIError) -> None:
    text = str(exc.orig).lower() if exc.orig is not None else ""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if "database is locked" in text or sqlstate in {"40001", "40P01", "55P03"}:
        raise Busy(_("The database is busy. Nothing was changed; please try again.")) from exc
