"""Backups that can be trusted: a consistent copy taken while the app serves, and a check that
a copy opens and that its operation log still verifies.

SQLite: SQLite's online backup API copies the database page by page inside one read
transaction, so writers keep working and the copy is one consistent moment. PostgreSQL:
`pg_dump --format=custom` (one snapshot), checked by restoring it into a throwaway database.
"""

import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from admin_app.extensions import db
from admin_app.services import log_head_guard
from admin_app.services.actions import OperationAction
from admin_app.services.audit import Actor, NewOperation, append_operation
from admin_app.services.errors import InvalidInput
from admin_app.services.transaction import write_transaction

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


@dataclass(frozen=True)
class BackupCheck:
    intact: bool
    message: str
    customers: int
    operations: int
    entries: int


def create_backup(target: Path) -> None:
    """Write a consistent copy of the app's database to `target` (which must not exist)."""
    if target.exists():
        raise InvalidInput(_("%(path)s already exists; choose a new file name.", path=target))
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(Path(url.database or ""), target)
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), _libpq(url)])


def verify_backup(source: Path) -> BackupCheck:
    """Open a copy of `source` beside the app (never the file itself: checking writes a
    verification record) and verify its operation log."""
    try:
        magic = source.read_bytes()[:16] if source.stat().st_size else b""
    except OSError as exc:
        raise InvalidInput(
            _("Cannot read %(path)s: %(error)s.", path=source, error=exc.strerror)
        ) from exc
    if magic.startswith(SQLITE_MAGIC):
        with tempfile.TemporaryDirectory() as folder:
            scratch = Path(folder) / "check.db"
            _sqlite_copy(source, scratch)
            return _check(f"sqlite:///{scratch}")
    if magic.startswith(PG_DUMP_MAGIC):
        return _check_pg_dump(source)
    raise InvalidInput(
        _("%(path)s is neither a SQLite database nor a pg_dump custom-format file.", path=source)
    )


def _sqlite_copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _check_pg_dump(dump: Path) -> BackupCheck:
    url = db.engine.url
    if url.get_backend_name() != "postgresql":
        raise InvalidInput(
            _(
                "A pg_dump file is checked against a PostgreSQL server: "
                "set DATABASE_URL to one (a throwaway database is created there)."
            )
        )
    scratch = url.set(database=f"backup_check_{uuid.uuid4().hex[:12]}")
    # The client tools quote the database name themselves: no SQL is built here.
    maintenance = f"--maintenance-db={_libpq(url.set(database='postgres'))}"
    _run(["createdb", maintenance, scratch.database or ""])
    try:
        _run(
            ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", _libpq(scratch), str(dump)]
        )
        return _check(scratch.render_as_string(hide_password=False))
    finally:
        _run(["dropdb", "--if-exists", "--force", maintenance, scratch.database or ""])


def _check(url: str) -> BackupCheck:
    from admin_app import create_app
    from admin_app.models import AuditEntry, AuditOperation, Customer
    from admin_app.services import audit_verify

    app = create_app(
        current_app.config["CONFIG_NAME"],
        SQLALCHEMY_DATABASE_URI=url,
        SECRET_KEY=current_app.config["SECRET_KEY"],
    )
    with app.app_context():
        try:
            counts = [
                db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
                for model in (Customer, AuditOperation, AuditEntry)
            ]
            result = audit_verify.verify_chain()
        except sa.exc.DBAPIError as exc:
            raise InvalidInput(
                _("The copy does not open as this app's database: %(error)s", error=exc.orig)
            ) from exc
        finally:
            db.session.remove()
            db.engine.dispose()
    return BackupCheck(result.intact, result.message, *counts)


def _libpq(url: sa.engine.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise InvalidInput(
            _("%(command)s is not installed (PostgreSQL client tools).", command=command[0])
        )
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise InvalidInput(
            _("%(command)s failed: %(error)s", command=command[0], error=done.stderr.strip()[:500])
        )


@dataclass(frozen=True)
class Acknowledged:
    operation_id: int
    last_seen_operation_id: int
    head_operation_id: int


def acknowledge_restore(actor: Actor) -> Acknowledged | None:
    """Accept that the log went back (after a deliberate restore): the mark follows the
    database again, and a `restore_acknowledged` operation records from where to where.
    None when there is nothing to acknowledge."""
    path = log_head_guard.marker_path()
    if path is None:
        raise InvalidInput(_("LOG_HEAD_MARKER is off: there is no record of the log head."))
    seen = log_head_guard.read_mark(path)
    with write_transaction():
        head = log_head_guard.current_head()
    if seen is None or head is None or log_head_guard.went_back(seen) is None:
        return None
    log_head_guard.write_mark(path, head)
    with write_transaction():
        appended = append_operation(
            NewOperation(
                actor=actor,
                action=OperationAction.RESTORE_ACKNOWLEDGED,
                scope={
                    "last_seen_operation_id": seen.operation_id,
                    "last_seen_hash": seen.hash,
                    "head_operation_id": head.operation_id,
                    "head_hash": head.hash,
                },
                changed_count=0,
            )
        )
    return Acknowledged(appended.id, seen.operation_id, head.operation_id)
