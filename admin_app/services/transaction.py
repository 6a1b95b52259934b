"""One all-or-nothing write transaction per public service call.

Writers run one at a time, always taking the same lock first, so a read-then-write cannot
race another writer and two writers cannot deadlock:
- SQLite: the transaction starts with BEGIN IMMEDIATE (the database's writer lock); waiting
  writers queue on the busy timeout instead of failing half-way with "database is locked".
- PostgreSQL: the first statement locks the audit chain head row (SELECT ... FOR UPDATE).
  Every write appends to the operation log, which needs that lock anyway.
This is the only place that takes the lock: `audit.append_operation` refuses to run outside a
write transaction instead of locking on its own.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask_babel import gettext as _
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session

from admin_app.extensions import db
from admin_app.services import log_head_guard, sqlite_wal
from admin_app.services.errors import Busy, ConnectionLost, StorageUnavailable

SQLITE_BUSY_TIMEOUT_MS = 5000
_begin_immediate: ContextVar[bool] = ContextVar("begin_immediate", default=False)
_writing: ContextVar[bool] = ContextVar("writing", default=False)


def in_write_transaction() -> bool:
    """True inside the block of `write_transaction()` (so the writers' lock is held)."""
    return _writing.get()


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
    sqlite_wal.configure_connection(cursor)
    cursor.close()


SQLITE_SYNCHRONOUS_LEVELS = ("NORMAL", "FULL", "EXTRA")


def configure_sqlite_durability(engine: Engine, level: str) -> None:
    """Set `PRAGMA synchronous` on every new SQLite connection of `engine`.

    FULL (the default) syncs the write-ahead log at every commit, so an operation the user saw
    committed survives a power cut. NORMAL syncs only at checkpoints: faster commits, but the
    last transactions before a power loss can vanish (never corrupt, but gone).
    """
    if engine.dialect.name != "sqlite":
        return
    level = level.upper()
    if level not in SQLITE_SYNCHRONOUS_LEVELS:
        raise SystemExit(
            f"SQLITE_SYNCHRONOUS must be one of {', '.join(SQLITE_SYNCHRONOUS_LEVELS)}; "
            f"got {level!r}."
        )

    @event.listens_for(engine, "connect")
    def _set_synchronous(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA synchronous={level}")
        cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite_transaction(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _begin_immediate.get() else "BEGIN")


def snapshot_session() -> scoped_session:
    """The session in a fresh read transaction that sees one snapshot of the database
    (REPEATABLE READ, read-only on PostgreSQL; SQLite's read transaction is one already)."""
    session = db.session
    session.rollback()  # a fresh transaction, so the snapshot options below apply
    if session.get_bind().dialect.name == "postgresql":
        session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
    return session


_READS_ONLY = "customer_admin.reads_outside_a_transaction"  # key in Session.info


def reads_outside_a_transaction() -> None:
    """PostgreSQL: the request's statements run outside a transaction (autocommit).

    At READ COMMITTED, PostgreSQL's default, every statement of a transaction already sees the
    data committed when it starts, so a page's reads see what they would inside one; without it
    the page saves the BEGIN and ROLLBACK round trips, two of a list page's eight. The mode
    ends with the session's transaction: `write_transaction` begins with a rollback, which
    returns the connection to the pool, which restores its isolation level. A page that wrote
    through the ORM without it would commit statement by statement, so until then the session
    refuses to flush; a statement that needs a transaction ends the mode first. For GET
    requests (web.py); SQLite's BEGIN costs no round trip."""
    session = db.session
    if session.get_bind().dialect.name != "postgresql":
        return
    try:
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    except DBAPIError:
        # No database now: the page's own first statement meets the same error where the
        # page handles it (/healthz answers 503), not in this hook.
        session.rollback()
        return
    session.info[_READS_ONLY] = True


@event.listens_for(Session, "before_flush")
def _refuse_writes_outside_a_transaction(session, _flush_context, _instances) -> None:
    if session.info.get(_READS_ONLY) and (session.new or session.dirty or session.deleted):
        raise RuntimeError("a write outside write_transaction() during a read-only request")


@event.listens_for(Session, "do_orm_execute")
def _transaction_when_needed(state) -> None:
    """A statement that needs a transaction ends the mode first: a server-side cursor
    (yield_per: the exports, a revert's preview), a row lock, or a write made without
    write_transaction (which, as before this mode, the end of the request rolls back). The
    rollback expires what the session loaded; it is read again when next used."""
    if not state.session.info.get(_READS_ONLY):
        return
    options = state.execution_options
    if (
        options.get("yield_per")
        or options.get("stream_results")
        or state.is_insert
        or state.is_update
        or state.is_delete
        or getattr(state.statement, "_for_update_arg", None) is not None
    ):
        state.session.rollback()


@event.listens_for(Session, "after_transaction_end")
def _end_reads_outside_a_transaction(session, transaction) -> None:
    # The connection went back to the pool, which restored its isolation level.
    if transaction.parent is None:
        session.info.pop(_READS_ONLY, None)


@contextmanager
def write_transaction() -> Iterator[scoped_session]:
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
    except DBAPIError as exc:
        session.rollback()
        _raise_for_refused_write(exc)
        raise
    finally:
        _begin_immediate.reset(token)
    writing = _writing.set(True)
    try:
        yield session
        session.commit()
    except DBAPIError as exc:
        session.rollback()
        log_head_guard.forget_pending(session)
        _raise_for_refused_write(exc)
        raise
    except BaseException:
        session.rollback()
        log_head_guard.forget_pending(session)
        raise
    finally:
        _writing.reset(writing)
    log_head_guard.record_committed(session)
    sqlite_wal.checkpoint_after_commit(session.get_bind().engine)


# SQLite's messages and PostgreSQL's SQLSTATEs for "the write cannot happen now".
_CONTENDED_SQLSTATES = {"40001", "40P01", "55P03"}
_CONNECTION_SQLSTATES = {"57P01", "57P02", "57P03"}  # terminated, crash, cannot connect now
_STORAGE_SQLSTATES = {"53100", "53000", "25006"}  # disk full, out of resources, read-only
_STORAGE_MESSAGES = ("database or disk is full", "readonly database")


def _raise_for_refused_write(exc: DBAPIError) -> None:
    """A contended lock becomes `Busy`, a dropped connection `ConnectionLost`, a full disk or
    a read-only database `StorageUnavailable`: each a 503 with Retry-After, after a rollback."""
    text = str(exc.orig).lower() if exc.orig is not None else ""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if "database is locked" in text or sqlstate in _CONTENDED_SQLSTATES:
        raise Busy(_("The database is busy. Nothing was changed; please try again.")) from exc
    if (
        exc.connection_invalidated
        or sqlstate in _CONNECTION_SQLSTATES
        or (sqlstate or "").startswith("08")
    ):
        raise ConnectionLost(
            _(
                "The connection to the database was lost before the change was confirmed. "
                "Please try again: a change that did go through is never applied twice."
            )
        ) from exc
    if sqlstate in _STORAGE_SQLSTATES or any(m in text for m in _STORAGE_MESSAGES):
        raise StorageUnavailable(
            _(
                "The database cannot store changes right now (it is full or read-only). "
                "Nothing was changed; please try again later."
            )
        ) from exc
