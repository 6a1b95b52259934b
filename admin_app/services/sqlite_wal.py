"""SQLite: copy a write's log pages into the database file after the user has the answer.

In WAL mode a commit appends the changed pages to the `-wal` file and syncs it; a
*checkpoint* later copies them into the database file and syncs that. SQLite's default is to
checkpoint inside whichever commit takes the log past 1,000 pages. A confirmation of 500
customers scattered through a large table dirties about 700 pages (table leaves, index
leaves, the log's tail), so almost every bulk confirmation paid for a checkpoint before it
answered: at 100,000 customers 15-20 ms of a ~50 ms confirmation (benchmarks/RESULTS.md).

Here a write transaction (services.transaction) asks for its checkpoint when it commits:

- in a web request, once the response has been sent (Werkzeug's `call_on_close`, which
  gunicorn calls after writing the body), so the user does not wait for it;
- anywhere else (CLI, scripts), at once.

SQLite still checkpoints on its own past AUTOCHECKPOINT_PAGES, a net for writers that do not
go through write_transaction. Durability does not change: each commit syncs the log before it
returns (synchronous=FULL), and a crash before the checkpoint leaves the pages in the log,
which SQLite replays when the database is next opened.
"""

import logging
import sqlite3
from collections.abc import Iterable

from flask import after_this_request, has_request_context, request
from sqlalchemy.engine import Engine

AUTOCHECKPOINT_PAGES = 10_000  # 40 MB of log with 4 KB pages, ~14 bulk confirmations of 500
_PENDING = "customer_admin.sqlite_checkpoints"  # the request's engines, in its WSGI environ

log = logging.getLogger(__name__)


def configure_connection(cursor: sqlite3.Cursor) -> None:
    """On each new SQLite connection: checkpoint by itself only past the net."""
    cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")


def checkpoint_after_commit(engine: Engine) -> None:
    """A write transaction on `engine` committed: checkpoint after the response, or now
    outside a request. Nothing for PostgreSQL or an in-memory SQLite database."""
    if not _has_log_file(engine):
        return
    if not has_request_context():
        checkpoint(engine)
        return
    pending: set[Engine] | None = request.environ.get(_PENDING)
    if pending is None:
        pending = request.environ[_PENDING] = set()

        @after_this_request
        def _after_the_response(response):
            response.call_on_close(lambda: checkpoint_all(pending))
            return response

    pending.add(engine)


def checkpoint_all(engines: Iterable[Engine]) -> None:
    for engine in engines:
        checkpoint(engine)


def checkpoint(engine: Engine) -> None:
    """Copy what the log holds into the database file, as far as readers allow. PASSIVE:
    never waits for another connection; a checkpoint that cannot finish now is finished by a
    later one, and a failed one loses nothing (the pages stay in the log)."""
    try:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            cursor.close()
        finally:
            connection.close()
    except Exception as error:  # noqa: BLE001 - runs after the response: log, never raise
        log.warning("SQLite checkpoint skipped: %s", error)


def _has_log_file(engine: Engine) -> bool:
    url = engine.url
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
