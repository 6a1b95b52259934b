"""Verifying the operation log's hash chain, and the record of each verification.

`verify_chain` owns the walk: it streams every operation (by id) and every entry (by operation
id, then id) in two ordered, server-side-cursor result sets merged as it goes, so memory stays
flat however long the log is. For each operation it recomputes the hash with
`services.audit.operation_hash`, checks the link to the previous operation, and finally compares
the newest operation with the `audit_chain_head` row, which catches a deleted tail. It names the
first bad operation and what is wrong with it, and records the outcome in
`audit_verifications`. It never changes the log itself.

A `LinkWatcher` (services/audit_checkpoint.py's `CheckpointWatch`) can ride along the same walk:
it sees every link as it streams past and adds its own findings, so signed checkpoints kept
outside the database are checked without a second pass or more memory.
"""

import enum
import hashlib
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby, islice
from operator import itemgetter
from queue import Full, Queue
from typing import Protocol

from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import AuditChainHead, AuditEntry, AuditOperation, AuditVerification
from admin_app.models.audit import GENESIS_HASH
from admin_app.models.types import UTCDateTime
from admin_app.services.audit import (
    ENTRY_FIELDS,
    HASHED_OPERATION_FIELDS,
    canonical_json,
    entry_lines,
)
from admin_app.services.transaction import snapshot_session, write_transaction

STREAM_BATCH = 2000  # operations per fetch
ENTRY_FETCH = 20_000  # entries per fetch (one round trip on PostgreSQL)
HASH_CHUNK = 1000  # entries encoded and hashed at a time (memory stays flat for huge operations)
LOOK_BACK = 32  # how far back an "inserted" operation is recognised
REPORTED_FINDINGS = 5  # at most this many findings in the message (the first is the walk's)

_operations = AuditOperation.__table__.c
_entries = AuditEntry.__table__.c
_OPERATION_COLUMNS = [_operations[name] for name in (*HASHED_OPERATION_FIELDS, "prev_hash", "hash")]
_HASHED_COUNT = len(HASHED_OPERATION_FIELDS)
# Hashed as ISO 8601 text, as services.audit._canonical_value writes them.
_DATETIME_INDEXES = tuple(
    index
    for index, column in enumerate(_OPERATION_COLUMNS[:_HASHED_COUNT])
    if isinstance(column.type, UTCDateTime)
)

Progress = Callable[[int], None]


class Problem(enum.StrEnum):
    EDITED = "edited"  # the stored hash does not match the operation's content and entries
    DELETED = "deleted"  # operations before this one are missing
    LINK_BROKEN = "link broken"  # prev_hash does not match the previous operation's hash
    INSERTED = "inserted"  # an operation (or entries) that the chain never contained
    REORDERED = "reordered"  # the operation links to one stored after it
    HEAD_MISMATCH = "head mismatch"  # the newest operation is not the one the chain head holds
    CHECKPOINT = "checkpoint mismatch"  # differs from what a signed checkpoint recorded


@dataclass(frozen=True)
class Link:
    """One stored operation: its hashes, and the hash recomputed from what is stored now."""

    id: int
    prev_hash: str
    stored_hash: str
    computed_hash: str
    # Entries met before this operation whose own operation does not exist: (its id, count).
    orphans: tuple[int, int] | None = None
    # Entries read from the start of the log up to and including this operation's.
    entries_through: int = 0


@dataclass(frozen=True)
class Head:
    last_operation_id: int | None
    last_hash: str
    operation_count: int


@dataclass(frozen=True)
class Finding:
    operation_id: int | None
    problem: Problem
    detail: str

    def message(self) -> str:
        where = f"operation #{self.operation_id}" if self.operation_id is not None else "the log"
        return f"Chain broken at {where}: {self.problem}. {self.detail}"


class LinkWatcher(Protocol):
    """Something that checks the stored operations as the walk streams them past."""

    def watch(self, links: Iterable[Link]) -> Iterator[Link]:
        """Yield `links` unchanged, looking at each on the way."""

    def findings(self) -> list[Finding]:
        """What it found wrong, once the walk is over."""

    def summary(self) -> str:
        """What it checked, when it found nothing wrong."""


@dataclass(frozen=True)
class VerifyResult:
    intact: bool
    operations_checked: int
    entries_checked: int
    first_bad_operation_id: int | None
    problem: Problem | None
    message: str
    verification_id: int
    verified_at: datetime


def verify_chain(
    progress: Progress | None = None, *, watcher: LinkWatcher | None = None
) -> VerifyResult:
    """Walk the whole chain in one consistent snapshot and record the outcome.

    `progress(n)` is called with the number of operations verified since its previous call.
    `watcher` (optional) sees the same stream and adds its findings after the walk's own.
    Reads in its own transaction (REPEATABLE READ on PostgreSQL, one read transaction on
    SQLite), then commits one `audit_verifications` row. Returns what it found; raises only
    on database errors.
    """
    session = snapshot_session()
    try:
        head = read_head(session)
        stream = _LinkStream(session)
        links = watcher.watch(stream) if watcher is not None else stream
        checked, finding = check_links(links, head, progress=progress)
        if finding is None and stream.trailing_orphans is not None:
            finding = _entries_without_operation(*stream.trailing_orphans)
        entries_checked = stream.entries_read
    finally:
        session.rollback()
    findings = [finding] if finding is not None else []
    if watcher is not None:
        findings += watcher.findings()
    finding = findings[0] if findings else None
    if finding is None:
        message = f"{checked} operations verified, chain intact"
        if watcher is not None:
            message += f"; {watcher.summary()}"
    else:
        message = _findings_message(findings)
    verification_id, verified_at = _record(finding, checked, message)
    return VerifyResult(
        intact=finding is None,
        operations_checked=checked,
        entries_checked=entries_checked,
        first_bad_operation_id=finding.operation_id if finding else None,
        problem=finding.problem if finding else None,
        message=message,
        verification_id=verification_id,
        verified_at=verified_at,
    )


def _findings_message(findings: list[Finding]) -> str:
    lines = [finding.message() for finding in findings[:REPORTED_FINDINGS]]
    if len(findings) > REPORTED_FINDINGS:
        lines.append(f"… and {len(findings) - REPORTED_FINDINGS} more problem(s).")
    return "\n".join(lines)


def chain_length() -> int:
    """How many operations the chain head says the log holds (for a progress bar)."""
    count = db.session.execute(
        select(AuditChainHead.operation_count).where(AuditChainHead.id == 1)
    ).scalar()
    return count or 0


def last_verification() -> AuditVerification | None:
    """The newest recorded verification, or None when the log was never verified."""
    return db.session.execute(
        select(AuditVerification).order_by(AuditVerification.id.desc()).limit(1)
    ).scalar_one_or_none()


def check_links(
    links: Iterable[Link], head: Head | None, *, progress: Progress | None = None
) -> tuple[int, Finding | None]:
    """Check stored operations in id order against each other and the chain head.

    Returns how many operations passed before the first problem, and that problem (None when
    the chain is intact). Pure: reads nothing but its arguments.
    """
    links = iter(links)
    recent: deque[tuple[int, str]] = deque(maxlen=LOOK_BACK)  # (id, hash) of checked links
    expected_prev = GENESIS_HASH
    checked = 0
    link = next(links, None)
    while link is not None:
        following = next(links, None)
        finding = _check_link(link, following, head, expected_prev, recent)
        if finding is not None:
            return checked, finding
        recent.append((link.id, link.stored_hash))
        expected_prev = link.stored_hash
        checked += 1
        if progress is not None and checked % STREAM_BATCH == 0:
            progress(STREAM_BATCH)
        link = following
    if progress is not None and checked % STREAM_BATCH:
        progress(checked % STREAM_BATCH)
    last = recent[-1] if recent else None
    return checked, _check_head(last, checked, head)


def _check_link(
    link: Link,
    following: Link | None,
    head: Head | None,
    expected_prev: str,
    recent: deque[tuple[int, str]],
) -> Finding | None:
    previous_id = recent[-1][0] if recent else None
    if link.orphans is not None:
        missing_id, count = link.orphans
        if link.prev_hash != expected_prev:
            return Finding(
                link.id,
                Problem.DELETED,
                f"Its prev_hash does not match the operation before it; "
                f"operation #{missing_id} is missing but {count} of its entries "
                "remain.",
            )
        return _entries_without_operation(missing_id, count)
    if head is not None and link.id > (head.last_operation_id or 0):
        newest = f"#{head.last_operation_id}" if head.last_operation_id else "none"
        return Finding(
            link.id,
            Problem.INSERTED,
            f"It is newer than the newest operation the chain head records ({newest}).",
        )
    hash_ok = link.computed_hash == link.stored_hash
    link_ok = link.prev_hash == expected_prev
    if hash_ok and link_ok:
        return None
    if not link_ok:
        for position, (recent_id, recent_hash) in enumerate(recent):
            if recent_hash == link.prev_hash:  # it skips back over the links after that one
                inserted_id = recent[position + 1][0]
                return Finding(
                    inserted_id,
                    Problem.INSERTED,
                    f"Operation #{link.id} links back to #{recent_id}, so the "
                    f"operation(s) from #{inserted_id} on were not in the chain.",
                )
        if following is not None and link.prev_hash == following.stored_hash:
            return Finding(
                link.id,
                Problem.REORDERED,
                f"It links to operation #{following.id}, which is stored after it.",
            )
    if following is not None and following.prev_hash == expected_prev:
        return Finding(
            link.id,
            Problem.INSERTED,
            f"Operation #{following.id} links past it to the operation before it.",
        )
    if not hash_ok:
        return Finding(
            link.id,
            Problem.EDITED,
            "Its stored hash does not match its content and entries: the operation "
            "or one of its entries was changed.",
        )
    after = f"#{previous_id}" if previous_id is not None else "the start of the log"
    if link.id > (previous_id or 0) + 1:
        first_missing = (previous_id or 0) + 1
        missing = (
            f"#{first_missing}"
            if first_missing == link.id - 1
            else f"#{first_missing}–#{link.id - 1}"
        )
        return Finding(
            link.id,
            Problem.DELETED,
            f"Its prev_hash does not match {after}; operation(s) {missing} are missing.",
        )
    return Finding(
        link.id, Problem.LINK_BROKEN, f"Its prev_hash does not match the hash of {after}."
    )


def _entries_without_operation(missing_id: int, count: int) -> Finding:
    return Finding(
        missing_id,
        Problem.INSERTED,
        f"{count} entries belong to operation #{missing_id}, which does not exist.",
    )


def _check_head(last: tuple[int, str] | None, checked: int, head: Head | None) -> Finding | None:
    if head is None:
        if last is None:
            return None
        return Finding(last[0], Problem.HEAD_MISMATCH, "The chain head row is missing.")
    if last is None:
        if head.last_operation_id is None and head.operation_count == 0:
            return None
        return Finding(
            head.last_operation_id,
            Problem.HEAD_MISMATCH,
            f"The chain head records operation #{head.last_operation_id} and "
            f"{head.operation_count} operations, but the log is empty.",
        )
    last_id, last_hash = last
    if last_id < (head.last_operation_id or 0):
        return Finding(
            head.last_operation_id,
            Problem.HEAD_MISMATCH,
            f"The chain head records operation #{head.last_operation_id} as the "
            f"newest, but the log ends at #{last_id}: the newest operation(s) were "
            "deleted.",
        )
    if last_hash != head.last_hash:
        return Finding(
            last_id,
            Problem.HEAD_MISMATCH,
            "Its hash differs from the one the chain head records: it was rewritten.",
        )
    if checked != head.operation_count:
        return Finding(
            last_id,
            Problem.HEAD_MISMATCH,
            f"The chain head counts {head.operation_count} operations, the log holds {checked}.",
        )
    return None


def read_head(session) -> Head | None:
    """The chain head row (last operation id, its hash, the operation count), or None."""
    row = session.execute(
        select(
            AuditChainHead.last_operation_id,
            AuditChainHead.last_hash,
            AuditChainHead.operation_count,
        ).where(AuditChainHead.id == 1)
    ).first()
    return Head(*row) if row is not None else None


class _LinkStream:
    """Yields a Link per stored operation, merging the operation and entry streams.

    The tight loop of `audit verify`: the entries come straight from the driver as plain tuples
    (a server-side cursor on PostgreSQL, ENTRY_FETCH rows per round trip), are grouped by
    operation with itertools.groupby, encoded with the canonical entry encoder and hashed with
    hashlib in one update per group of HASH_CHUNK entries: no ORM row, dict or generator per
    entry. The bytes hashed are exactly those of services.audit.operation_hash (tests compare
    both on every kind of operation)."""

    def __init__(self, session) -> None:
        self._session = session
        self.entries_read = 0
        self.trailing_orphans: tuple[int, int] | None = None

    def __iter__(self) -> Iterator[Link]:
        operations = self._session.execute(
            select(*_OPERATION_COLUMNS)
            .order_by(_operations.id)
            .execution_options(yield_per=STREAM_BATCH)
        )
        groups = groupby(_entry_rows(self._session), key=itemgetter(0))
        group = next(groups, None)
        sha256, hashed = hashlib.sha256, _HASHED_COUNT
        for row in operations:
            values = list(row)
            operation_id, prev_hash, stored_hash = values[0], values[hashed], values[hashed + 1]
            del values[hashed:]
            for index in _DATETIME_INDEXES:
                if values[index] is not None:
                    values[index] = values[index].isoformat()
            orphans: tuple[int, int] | None = None
            while group is not None and group[0] < operation_id:  # entries of no operation
                count = sum(1 for _ in group[1])
                self.entries_read += count
                orphans = (group[0], count) if orphans is None else (orphans[0], orphans[1] + count)
                group = next(groups, None)
            digest = sha256(f"{prev_hash}\n{canonical_json(values)}".encode())
            if group is not None and group[0] == operation_id:
                rows = group[1]
                while chunk := [entry[1:] for entry in islice(rows, HASH_CHUNK)]:
                    digest.update(entry_lines(chunk).encode())
                    self.entries_read += len(chunk)
                group = next(groups, None)
            yield Link(
                operation_id,
                prev_hash,
                stored_hash,
                digest.hexdigest(),
                orphans,
                self.entries_read,
            )
        trailing: tuple[int, int] | None = None
        while group is not None:
            count = sum(1 for _ in group[1])
            self.entries_read += count
            trailing = (group[0], count) if trailing is None else (trailing[0], trailing[1] + count)
            group = next(groups, None)
        self.trailing_orphans = trailing


def _entry_rows(session) -> Iterator[tuple]:
    """Every entry as a tuple (operation_id, *ENTRY_FIELDS), by operation id then id, read
    with the session's connection (so in its snapshot) but without SQLAlchemy's row handling:
    the columns are plain text and integers on both databases."""
    columns = ", ".join(("operation_id", *ENTRY_FIELDS))
    statement = f"SELECT {columns} FROM audit_entries ORDER BY operation_id, id"  # noqa: S608
    connection = session.connection()
    driver_connection = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        cursor = driver_connection.cursor(name="audit_verify_entries")  # server-side
    else:
        cursor = driver_connection.cursor()
    batches: Iterator[list] = iter(())
    try:
        cursor.execute(statement)
        batches = iter(lambda: cursor.fetchmany(ENTRY_FETCH), [])
        if connection.dialect.name == "postgresql":
            # The next batch is fetched while this one is hashed: psycopg waits for the server
            # without the GIL. (One connection, so one snapshot; psycopg serialises its use.)
            batches = read_ahead(batches)
        for rows in batches:
            yield from rows
    finally:
        if isinstance(batches, Generator):
            batches.close()  # stops the reading thread before its cursor closes
        cursor.close()


def read_ahead(batches: Iterator[list], depth: int = 2) -> Generator[list]:
    """`batches`, read on a second thread up to `depth` ahead of the consumer. An error on
    that thread is raised here; closing this generator early stops the thread."""
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def offer(item) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.05)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in batches:
                if not offer(batch):
                    return
        except BaseException as error:  # noqa: BLE001 - raised again by the consumer
            offer(error)
            return
        offer(done)

    reader = threading.Thread(target=produce, name="audit-verify-read-ahead", daemon=True)
    reader.start()
    try:
        while (item := queue.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


def _record(finding: Finding | None, checked: int, message: str) -> tuple[int, datetime]:
    with write_transaction() as session:
        row = AuditVerification(
            intact=finding is None,
            operations_checked=checked,
            first_bad_operation_id=finding.operation_id if finding else None,
            message=message,
        )
        session.add(row)
        session.flush()
        return row.id, row.verified_at
