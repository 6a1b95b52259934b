"""Appending to the operation log, and the hash chain that makes it tamper-evident.

`append_operation` is the only writer of `audit_operations` / `audit_entries`. It runs inside
the caller's write transaction (it never commits, and refuses to run outside one): that
transaction holds the writers' lock, so appends are serialised and the chain cannot fork. It
computes the operation's hash over its canonical content,
its entries and the previous hash, and inserts the operation and its entries set-based.
"""

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Select,
    String,
    Table,
    Text,
    bindparam,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError

from admin_app.extensions import db
from admin_app.models import AuditChainHead, AuditEntry, AuditOperation
from admin_app.models.audit import GENESIS_HASH
from admin_app.models.types import utcnow
from admin_app.security_log import security_event
from admin_app.services import log_head_guard
from admin_app.services.actions import OperationAction
from admin_app.services.input_rules import audit_text
from admin_app.services.transaction import in_write_transaction

ENTRIES_TABLE = cast(Table, AuditEntry.__table__)
ENTRY_INSERT_BATCH = 2000
ENTRY_ARRAY_BATCH = 20_000
ENTRY_STREAM_BATCH = 20_000  # entries per fetch when hashing entries a SELECT yields
_ENTRY_TYPES = {
    "entity": String,
    "entity_id": Integer,
    "entity_label": String,
    "field": String,
    "old_value": Text,
    "new_value": Text,
}

# The operation columns covered by its hash, in canonical order.
HASHED_OPERATION_FIELDS = (
    "id",
    "created_at",
    "actor_id",
    "actor_username",
    "actor_role",
    "action",
    "reason_code",
    "memo",
    "scope",
    "changed_count",
    "skipped_count",
    "source",
    "client_ip",
    "user_agent",
    "request_id",
    "confirmation_id",
    "reverts_operation_id",
)
ENTRY_FIELDS = ("entity", "entity_id", "entity_label", "field", "old_value", "new_value")


@dataclass(frozen=True)
class Actor:
    """Who performs an operation, as they were at that moment."""

    id: int | None
    username: str
    role: str
    source: str = "web"
    client_ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None

    @classmethod
    def cli(cls, user=None) -> "Actor":
        if user is None:
            return cls(id=None, username="system", role="system", source="cli")
        return cls(id=user.id, username=user.username, role=user.role, source="cli")


@dataclass
class NewOperation:
    """An operation about to be appended. `entries` are tuples in ENTRY_FIELDS order."""

    actor: Actor
    action: OperationAction  # a registered action (its stored text is accepted and converted)
    entries: Sequence[tuple] = ()
    reason_code: str | None = None
    memo: str = ""
    scope: dict[str, Any] = field(default_factory=dict)
    changed_count: int | None = None
    skipped_count: int = 0
    confirmation_id: str | None = None
    reverts_operation_id: int | None = None

    def __post_init__(self) -> None:
        # Only registered actions are logged: an unknown one is a programming error.
        self.action = OperationAction(self.action)


@dataclass(frozen=True)
class AppendedOperation:
    id: int
    hash: str
    created_at: datetime


# Built once: json.dumps with non-default options builds a new encoder on every call.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
)


def canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


def _entry_encoder() -> Callable[[Any], str]:
    """`_CANONICAL.encode`, without building a new C encoder on every call (most of its cost
    for a short list): the hash of a 100,000-customer operation encodes 100,000 entries. Used
    only if it gives byte-identical output; otherwise (another Python) the plain encode."""
    try:
        from json.encoder import (  # type: ignore[attr-defined]  # CPython's C encoder
            c_make_encoder,
            encode_basestring,
        )

        encoder = c_make_encoder(
            None,
            _CANONICAL.default,
            encode_basestring,
            None,
            _CANONICAL.key_separator,
            _CANONICAL.item_separator,
            _CANONICAL.sort_keys,
            _CANONICAL.skipkeys,
            _CANONICAL.allow_nan,
        )
    except (ImportError, TypeError):
        return _CANONICAL.encode

    def encode(value: Any) -> str:
        return "".join(encoder(value, 0))

    sample = [
        "customer",
        12,
        'C"1\\\n é\u2028',
        "status",
        None,
        "1.50",
        2.5,
        True,
        {"b": 1, "a": [None]},
    ]
    return encode if encode(sample) == _CANONICAL.encode(sample) else _CANONICAL.encode


# The canonical JSON of one entry (a tuple or list in ENTRY_FIELDS order), as operation_hash
# writes it.
_encode_entry = _entry_encoder()


def entry_lines(entries: Sequence[Sequence]) -> str:
    """ "\n" + the canonical JSON of each entry (tuples in ENTRY_FIELDS order): the text
    operation_hash hashes for them, one after the other.

    Encoded in ONE call as the JSON array of the entries, `[[…],[…]]`, which is then split at
    its "],[" separators: an entry holds scalars only, so there are exactly len(entries) - 1 of
    them unless a text value contains "],[" itself, in which case each entry is encoded on its
    own. No entries: no text."""
    if not entries:
        return ""
    lines = _encode_entry(entries)[1:-1]
    if lines.count("],[") == len(entries) - 1:
        return "\n" + lines.replace("],[", "]\n[")
    return "\n" + "\n".join(_encode_entry(entry) for entry in entries)


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def changed_fields(row: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """The `values` that differ from `row`'s attributes, compared as the log writes them."""
    return {
        name: value
        for name, value in values.items()
        if audit_text(getattr(row, name)) != audit_text(value)
    }


def field_entries(entity: str, row: Any, label: str, diff: Mapping[str, Any]) -> list[tuple]:
    """One log entry per field in `diff`: `row`'s value before and the new one, as text."""
    return [
        (entity, row.id, label, name, audit_text(getattr(row, name)), audit_text(value))
        for name, value in diff.items()
    ]


def operation_hash(row: dict[str, Any], entries: Iterable[Sequence], prev_hash: str) -> str:
    """SHA-256 over the operation's hashed fields, each entry, and the previous hash."""
    digest = _operation_digest(row, prev_hash)
    encode = _encode_entry
    for entry in entries:
        digest.update(b"\n")
        digest.update(encode(list(entry)).encode())
    return digest.hexdigest()


def _chain_head_hash() -> str:
    """The newest hash. The caller is inside `write_transaction()`, which already holds the
    writers' lock (the head row on PostgreSQL, BEGIN IMMEDIATE on SQLite)."""
    head = select(AuditChainHead.last_hash).where(AuditChainHead.id == 1)
    last_hash = db.session.execute(head).scalar_one_or_none()
    if last_hash is None:  # the migration creates the row; this only heals a wiped table
        db.session.execute(insert(AuditChainHead).values(id=1, last_hash=GENESIS_HASH))
        last_hash = db.session.execute(head).scalar_one()
    return last_hash


def _next_operation_id() -> int:
    bind = db.session.get_bind()
    if bind.dialect.name == "postgresql":
        return db.session.execute(
            text("SELECT nextval(pg_get_serial_sequence('audit_operations', 'id'))")
        ).scalar_one()
    # SQLite: the writer lock is held (BEGIN IMMEDIATE), so MAX+1 cannot race.
    return (db.session.execute(select(func.max(AuditOperation.id))).scalar() or 0) + 1


def append_operation(new: NewOperation) -> AppendedOperation:
    """Append one operation and its entries to the chain. Does not commit.

    A database error here means the change cannot be audited: it is logged at CRITICAL
    (`audit_write_failed`) and re-raised, so the caller's transaction rolls back."""
    return _append(new, lambda prev_hash: _insert(new, prev_hash))


def _append(new: NewOperation, write: Callable[[str], AppendedOperation]) -> AppendedOperation:
    """The head both appends share: check the lock and the log head guard, `write` the
    operation after the chain head's hash, log a database error as `audit_write_failed`."""
    if not in_write_transaction():
        raise RuntimeError("append_operation runs inside write_transaction(), which holds the lock")
    prev_hash = _chain_head_hash()
    log_head_guard.check_before_append()
    try:
        appended = write(prev_hash)
    except DBAPIError as exc:
        security_event(
            "audit_write_failed",
            level=logging.CRITICAL,
            action=new.action.value,
            error=type(exc.orig or exc).__name__,
        )
        raise
    log_head_guard.remember_appended(appended.id, appended.hash, prev_hash == GENESIS_HASH)
    return appended


def append_operation_from_select(new: NewOperation, entries: Select) -> AppendedOperation:
    """PostgreSQL: append one operation whose entries `entries` selects, without ever holding
    them all in memory (a million-customer status change). Does not commit.

    `entries` selects the ENTRY_FIELDS columns, ordered as the entries are to be stored;
    `new.changed_count` must be given (new.entries is ignored). The hash streams the selected
    rows (a server-side cursor, ENTRY_STREAM_BATCH at a time), then one INSERT … SELECT stores
    them in the same order, so their ids follow the order they were hashed in, as
    `append_operation` stores them."""
    if new.changed_count is None:
        raise ValueError("append_operation_from_select needs changed_count")
    changed_count = new.changed_count

    def write(prev_hash: str) -> AppendedOperation:
        row = _operation_row(new, changed_count)
        digest = _operation_digest(row, prev_hash)
        result = db.session.execute(entries.execution_options(yield_per=ENTRY_STREAM_BATCH))
        for rows in result.partitions():
            digest.update(entry_lines([tuple(entry) for entry in rows]).encode())
        row["prev_hash"] = prev_hash
        row["hash"] = digest.hexdigest()
        db.session.execute(insert(AuditOperation), [row])
        db.session.execute(
            insert(ENTRIES_TABLE).from_select(
                [*ENTRY_FIELDS, "operation_id"],
                entries.add_columns(literal(row["id"], Integer)),
            )
        )
        return _advance_head(row)

    return _append(new, write)


def _operation_digest(row: dict[str, Any], prev_hash: str):
    """The operation's SHA-256 fed with what precedes its entries (see operation_hash)."""
    digest = hashlib.sha256(prev_hash.encode())
    digest.update(b"\n")
    digest.update(
        canonical_json([_canonical_value(row[name]) for name in HASHED_OPERATION_FIELDS]).encode()
    )
    return digest


def _insert(new: NewOperation, prev_hash: str) -> AppendedOperation:
    entries = [tuple(entry) for entry in new.entries]
    row = _operation_row(new, len(entries) if new.changed_count is None else new.changed_count)
    row["prev_hash"] = prev_hash
    row["hash"] = operation_hash(row, entries, prev_hash)
    db.session.execute(insert(AuditOperation), [row])
    _insert_entries(row["id"], entries)
    return _advance_head(row)


def _operation_row(new: NewOperation, changed_count: int) -> dict[str, Any]:
    return {
        "id": _next_operation_id(),
        "created_at": utcnow(),
        "actor_id": new.actor.id,
        "actor_username": new.actor.username,
        "actor_role": new.actor.role,
        "action": new.action.value,
        "reason_code": new.reason_code,
        "memo": new.memo or "",
        "scope": canonical_json(new.scope),
        "changed_count": changed_count,
        "skipped_count": new.skipped_count,
        "source": new.actor.source,
        "client_ip": new.actor.client_ip,
        "user_agent": (new.actor.user_agent or "")[:256] or None,
        "request_id": new.actor.request_id,
        "confirmation_id": new.confirmation_id,
        "reverts_operation_id": new.reverts_operation_id,
    }


def _advance_head(row: dict[str, Any]) -> AppendedOperation:
    db.session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .values(
            last_operation_id=row["id"],
            last_hash=row["hash"],
            operation_count=AuditChainHead.operation_count + 1,
        )
    )
    return AppendedOperation(id=row["id"], hash=row["hash"], created_at=row["created_at"])


def _insert_entries(operation_id: int, entries: list[tuple]) -> None:
    """Insert `entries` in list order, so their ids follow the order they were hashed in."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        for start in range(0, len(entries), ENTRY_ARRAY_BATCH):
            connection.execute(
                _entries_from_arrays(operation_id, entries[start : start + ENTRY_ARRAY_BATCH])
            )
        return
    # SQLite: one compiled INSERT, executed for every batch of rows (the driver's executemany).
    insert_entry = insert(ENTRIES_TABLE)
    for start in range(0, len(entries), ENTRY_INSERT_BATCH):
        batch = entries[start : start + ENTRY_INSERT_BATCH]
        connection.execute(
            insert_entry,
            [
                dict(zip(ENTRY_FIELDS, entry, strict=True), operation_id=operation_id)
                for entry in batch
            ],
        )


def _entries_from_arrays(operation_id: int, entries: list[tuple]):
    """PostgreSQL: INSERT ... SELECT FROM unnest(arrays) WITH ORDINALITY, ordered by position:
    one statement whatever the number of rows, no per-row placeholders to render, parse or
    bind. A field with the same value in every entry (a bulk change's entity, field and new
    value) is sent once, not as an array."""
    constant: dict[str, Any] = {}
    varying: dict[str, Any] = {}
    for name, values in zip(ENTRY_FIELDS, zip(*entries, strict=True), strict=True):
        if all(value == values[0] for value in values):
            constant[name] = literal(values[0], _ENTRY_TYPES[name])
        else:
            varying[name] = bindparam(
                f"entry_{name}", list(values), type_=ARRAY(_ENTRY_TYPES[name])
            )
    if not varying:  # unnest() needs an array: number the rows with one of positions
        varying["position_only"] = bindparam(
            "entry_positions", list(range(len(entries))), type_=ARRAY(Integer)
        )
    arrays = (
        func.unnest(*varying.values())
        .table_valued(*varying, with_ordinality="position")
        .render_derived("entries")
    )
    rows = (
        select(
            literal(operation_id, Integer),
            *(constant[name] if name in constant else arrays.c[name] for name in ENTRY_FIELDS),
        )
        .select_from(arrays)
        .order_by(arrays.c.position)
    )
    return insert(ENTRIES_TABLE).from_select(["operation_id", *ENTRY_FIELDS], rows)
