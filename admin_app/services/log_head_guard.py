"""A log that went back is never silently extended.

After every committed write the app records the operation log's head (newest operation id and
hash, and the first operation's hash, which identifies the database) in a small file outside
the database (`LOG_HEAD_MARKER`, default `instance/log-head.json`). Before appending, it
compares: if the database's log is now behind that mark, or the marked operation's hash
changed, the database was restored from an older copy (or rewritten). Writing is then refused
until an operator runs `flask --app wsgi backup acknowledge-restore`, which logs that the log
went back and from where. Reads keep working.

A brand-new (empty) database or another database (a different first operation) is not a
restore: the mark simply follows it.
"""

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models.audit import AuditChainHead, AuditOperation
from admin_app.services.errors import LogWentBack

SESSION_KEY = "log_head_mark"
FIRST_HASH_KEY = "log_first_hash"


@dataclass(frozen=True)
class HeadMark:
    operation_id: int
    hash: str
    first_hash: str


def marker_path() -> Path | None:
    configured = current_app.config.get("LOG_HEAD_MARKER")
    return Path(configured) if configured else None


def read_mark(path: Path) -> HeadMark | None:
    try:
        return HeadMark(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def check_before_append() -> None:
    """Called with the chain head locked: refuse to extend a log that went back."""
    db.session.info.pop(FIRST_HASH_KEY, None)
    path = marker_path()
    mark = read_mark(path) if path else None
    if mark is None:
        return
    problem, first_hash = _compare(mark)
    if problem:
        raise LogWentBack(problem)
    db.session.info[FIRST_HASH_KEY] = first_hash  # for remember_appended, in this transaction


def went_back(mark: HeadMark) -> str | None:
    """Why the database's log is behind `mark`, or None when it is not."""
    return _compare(mark)[0]


def _compare(mark: HeadMark) -> tuple[str | None, str | None]:
    """(why the log is behind `mark` or None, the first operation's hash), in one round trip:
    the first operation's hash, the head, and the marked operation's hash now."""
    first_hash, head_id, marked_hash = db.session.execute(
        select(
            _first_hash_query().scalar_subquery(),
            select(AuditChainHead.last_operation_id)
            .where(AuditChainHead.id == 1)
            .scalar_subquery(),
            select(AuditOperation.hash)
            .where(AuditOperation.id == mark.operation_id)
            .scalar_subquery(),
        )
    ).one()
    if first_hash is None or first_hash != mark.first_hash:
        return None, first_hash  # a new or another database
    head_id = head_id or 0
    if head_id >= mark.operation_id and marked_hash == mark.hash:
        return None, first_hash
    return _(
        "The operation log went back: this server last saw operation #%(seen)s, the database "
        "now ends at #%(now)s (restored from an older copy?). Nothing was changed, and no "
        "change can be saved until an administrator runs "
        '"flask --app wsgi backup acknowledge-restore".',
        seen=mark.operation_id,
        now=head_id,
    ), first_hash


def _first_hash_query():
    return select(AuditOperation.hash).order_by(AuditOperation.id).limit(1)


def _first_hash() -> str | None:
    return db.session.scalar(_first_hash_query())


def remember_appended(operation_id: int, operation_hash: str, prev_is_genesis: bool) -> None:
    """Note the new head on the session; `record_committed` writes it after the commit. The
    first operation's hash is the one `check_before_append` read in this transaction, if any."""
    if marker_path() is None:
        return
    first_hash: str | None = operation_hash
    if not prev_is_genesis:
        first_hash = db.session.info.get(FIRST_HASH_KEY) or _first_hash()
    db.session.info[SESSION_KEY] = HeadMark(operation_id, operation_hash, first_hash or "")


def record_committed(session) -> None:
    session.info.pop(FIRST_HASH_KEY, None)
    mark = session.info.pop(SESSION_KEY, None)
    path = marker_path()
    if mark is None or path is None:
        return
    try:
        write_mark(path, mark)
    except OSError:
        current_app.logger.exception("could not record the log head in %s", path)


def forget_pending(session) -> None:
    session.info.pop(FIRST_HASH_KEY, None)
    session.info.pop(SESSION_KEY, None)


def write_mark(path: Path, mark: HeadMark) -> None:
    """Replace the file atomically (a reader never sees half a mark)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".log-head-")
    with os.fdopen(handle, "w") as out:
        json.dump(asdict(mark), out)
    os.replace(temporary, path)


def current_head() -> HeadMark | None:
    head = db.session.execute(
        select(AuditChainHead.last_operation_id, AuditChainHead.last_hash).where(
            AuditChainHead.id == 1
        )
    ).one_or_none()
    if head is None or not head.last_operation_id:
        return None
    return HeadMark(head.last_operation_id, head.last_hash, _first_hash() or "")
