"""Signed checkpoints of the operation log, kept outside the database.

The chain head row lives in the database it vouches for: whoever can delete the newest
operations can rewrite the head too (or restore an old backup), and `audit verify` alone cannot
tell. A checkpoint is one line of JSON stating the newest operation's id and hash, how many
operations and entries the log held up to it, when, and which database (the hash of the log's
first operation), signed with an Ed25519 key that is not in the database (`AUDIT_SIGNING_KEY`).
The lines go to a file or to syslog, somewhere the database's users cannot rewrite; later,
`CheckpointWatch` rides along `audit_verify.verify_chain` and checks that the log still holds
every checkpointed operation, unchanged, with the same counts up to it.

This module owns the signing key (load, generate, fingerprint), the line format (take, sign,
read, check) and that comparison. It never changes the log; it writes only `audit_checkpoints`,
a record of checkpoints written, for the dashboard (not a trust anchor).
"""

import base64
import binascii
import hashlib
import json
import os
import stat
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask_babel import gettext as _
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import AuditCheckpoint, AuditEntry, AuditOperation
from admin_app.models.types import utcnow
from admin_app.services.audit_verify import Finding, Link, Problem, read_head
from admin_app.services.errors import CheckpointError
from admin_app.services.transaction import snapshot_session, write_transaction

FORMAT = 1
# Signed before the payload, so a signature made with the same key for anything else can
# never pass as a checkpoint.
SIGNING_CONTEXT = b"customer-admin audit checkpoint\n"
PAYLOAD_FIELDS = (
    "created_at",
    "database",
    "entries",
    "format",
    "key_id",
    "operation_hash",
    "operation_id",
    "operations",
)
KEY_ID_LENGTH = 16  # hex digits of the public key's SHA-256


# -- keys -------------------------------------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    """The key's fingerprint: the first 16 hex digits of the SHA-256 of its raw 32 bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:KEY_ID_LENGTH]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _read_key_file(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CheckpointError(
            _(
                "%(what)s %(path)s: cannot read it (%(error)s).",
                what=what,
                path=path,
                error=exc.strerror,
            )
        ) from None


def load_signing_key(path: str | None) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file `path` (AUDIT_SIGNING_KEY).

    Raises CheckpointError, saying what is wrong, when `path` is empty, the file cannot be
    read, is not an unencrypted PEM private key, or holds another kind of key."""
    if not path:
        raise CheckpointError(
            _(
                "AUDIT_SIGNING_KEY is not set: give the path of an Ed25519 private key (PEM). "
                "Create one with `flask --app wsgi audit keygen FILE` or "
                "`openssl genpkey -algorithm ed25519 -out FILE`."
            )
        )
    data = _read_key_file(path, "AUDIT_SIGNING_KEY")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise CheckpointError(
            _(
                "AUDIT_SIGNING_KEY %(path)s: the key is encrypted; give an unencrypted key and "
                "protect the file instead (readable by the job's user only).",
                path=path,
            )
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise CheckpointError(
            _(
                "AUDIT_SIGNING_KEY %(path)s: not a PEM private key "
                "(expected -----BEGIN PRIVATE KEY-----).",
                path=path,
            )
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(
            _(
                "AUDIT_SIGNING_KEY %(path)s: not an Ed25519 key (%(kind)s); checkpoints are "
                "signed with Ed25519.",
                path=path,
                kind=_kind(key),
            )
        )
    return key


def signing_key_is_exposed(path: str) -> bool:
    """True when the key file can be read by its group or by everyone."""
    try:
        return bool(os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except OSError:
        return False


def load_public_key(path: str) -> Ed25519PublicKey:
    """The Ed25519 public key in the PEM file `path` (as `audit checkpoint --public-key` or
    `openssl pkey -pubout` print it). Raises CheckpointError saying what is wrong."""
    data = _read_key_file(path, _("Public key"))
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        if b"PRIVATE KEY" in data:
            raise CheckpointError(
                _(
                    "Public key %(path)s: this is a private key; give the public key "
                    "(`flask --app wsgi audit checkpoint --public-key` prints it).",
                    path=path,
                )
            ) from None
        raise CheckpointError(
            _(
                "Public key %(path)s: not a PEM public key (expected -----BEGIN PUBLIC KEY-----).",
                path=path,
            )
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(
            _(
                "Public key %(path)s: not an Ed25519 key (%(kind)s); checkpoints are signed "
                "with Ed25519.",
                path=path,
                kind=_kind(key),
            )
        )
    return key


def generate_signing_key(path: str) -> Ed25519PrivateKey:
    """Create a new Ed25519 private key in the new file `path` (PEM, mode 0600).

    Never overwrites: raises CheckpointError when the file exists or cannot be written."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CheckpointError(_("%(path)s exists; not overwriting a key.", path=path)) from None
    except OSError as exc:
        raise CheckpointError(
            _("%(path)s: cannot create it (%(error)s).", path=path, error=exc.strerror)
        ) from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return key


def _kind(key) -> str:
    return type(key).__name__.replace("PrivateKey", "").replace("PublicKey", "") or "unknown"


# -- the checkpoint and its line --------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint states about the log. `operation_id` is None for an empty log."""

    operation_id: int | None
    operation_hash: str | None
    operations: int
    entries: int
    database: str | None  # the hash of the log's first operation
    created_at: datetime
    key_id: str

    def payload(self) -> dict:
        return {
            "format": FORMAT,
            "database": self.database,
            "operation_id": self.operation_id,
            "operation_hash": self.operation_hash,
            "operations": self.operations,
            "entries": self.entries,
            "created_at": self.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "key_id": self.key_id,
        }

    @property
    def when(self) -> str:
        return self.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    line: str  # the JSON line, without a newline
    line_number: int = 0  # where it was read from; 0 when just made


def _canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sign(checkpoint: Checkpoint, signing_key: Ed25519PrivateKey) -> SignedCheckpoint:
    payload = checkpoint.payload()
    signature = signing_key.sign(SIGNING_CONTEXT + _canonical(payload))
    line = json.dumps(
        {"checkpoint": payload, "signature": base64.b64encode(signature).decode()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return SignedCheckpoint(checkpoint, line)


def take_checkpoint(signing_key: Ed25519PrivateKey) -> SignedCheckpoint:
    """Read the newest operation, the counts up to it and the first operation's hash in one
    consistent snapshot, and sign them. Changes nothing (see `record_checkpoint`).

    Raises CheckpointError when the chain head does not match the newest operation stored (a
    checkpoint must not vouch for a log that is already broken: run `audit verify`)."""
    session = snapshot_session()
    try:
        head = read_head(session)
        newest = session.execute(
            select(AuditOperation.id, AuditOperation.hash)
            .order_by(AuditOperation.id.desc())
            .limit(1)
        ).first()
        first = session.execute(
            select(AuditOperation.hash).order_by(AuditOperation.id).limit(1)
        ).scalar()
        entries = 0
        if newest is not None:
            entries = session.execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.operation_id <= newest.id)
            ).scalar_one()
    finally:
        session.rollback()
    head_newest = (head.last_operation_id, head.last_hash) if head is not None else None
    if newest is None and (head is None or head.last_operation_id is None):
        operations = 0
    elif head is None or tuple(newest or ()) != head_newest:
        raise CheckpointError(
            _(
                "The chain head does not match the newest operation in the log, so no checkpoint "
                "was made: run `flask --app wsgi audit verify`."
            )
        )
    else:
        operations = head.operation_count
    checkpoint = Checkpoint(
        operation_id=newest.id if newest is not None else None,
        operation_hash=newest.hash if newest is not None else None,
        operations=operations,
        entries=entries,
        database=first,
        created_at=utcnow().replace(microsecond=0),
        key_id=key_id(signing_key.public_key()),
    )
    return sign(checkpoint, signing_key)


def append_line(path: str, line: str) -> None:
    """Append `line` and a newline to the file `path` (created if missing) and flush it to
    disk. Raises CheckpointError when the file cannot be written."""
    try:
        with open(path, "a", encoding="ascii") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise CheckpointError(
            _("%(path)s: cannot append the checkpoint (%(error)s).", path=path, error=exc.strerror)
        ) from None


def record_checkpoint(checkpoint: Checkpoint) -> None:
    """Remember that `checkpoint` was written out (for the dashboard). Commits."""
    with write_transaction() as session:
        session.add(
            AuditCheckpoint(
                created_at=checkpoint.created_at,
                operation_id=checkpoint.operation_id,
                operation_hash=checkpoint.operation_hash,
                operation_count=checkpoint.operations,
                entry_count=checkpoint.entries,
                key_id=checkpoint.key_id,
            )
        )


def last_checkpoint() -> AuditCheckpoint | None:
    """The newest checkpoint written, or None when none ever was."""
    return db.session.execute(
        select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)
    ).scalar_one_or_none()


# -- reading checkpoint lines ---------------------------------------------------------------


@dataclass(frozen=True)
class LineProblem:
    line_number: int
    message: str

    def __str__(self) -> str:
        return f"Checkpoint line {self.line_number}: {self.message}"


class _BadLine(Exception):
    pass


def read_checkpoints(
    lines: Iterable[bytes | str], public_keys: Sequence[Ed25519PublicKey]
) -> tuple[list[SignedCheckpoint], list[LineProblem]]:
    """Parse and verify checkpoint lines (blank lines skipped; anything before the first `{`,
    such as a syslog prefix, ignored). Returns the checkpoints whose signature verifies with
    one of `public_keys`, and a problem for every other line. Never raises on bad input."""
    keys = {key_id(key): key for key in public_keys}
    checkpoints, problems = [], []
    for number, raw in enumerate(lines, start=1):
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if not text.strip():
            continue
        try:
            checkpoints.append(SignedCheckpoint(_parse_line(text, keys), text.strip(), number))
        except _BadLine as exc:
            problems.append(LineProblem(number, str(exc)))
    return checkpoints, problems


def _parse_line(text: str, keys: dict[str, Ed25519PublicKey]) -> Checkpoint:
    start = text.find("{")
    if start < 0:
        raise _BadLine("not a checkpoint (no JSON object).")
    try:
        document = json.loads(text[start:])
    except (ValueError, RecursionError):
        raise _BadLine("not a checkpoint (not valid JSON).") from None
    payload = document.get("checkpoint") if isinstance(document, dict) else None
    signature = document.get("signature") if isinstance(document, dict) else None
    if not isinstance(payload, dict) or not isinstance(signature, str):
        raise _BadLine('not a checkpoint (needs "checkpoint" and "signature").')
    signer = payload.get("key_id")
    if not isinstance(signer, str):
        raise _BadLine('not a checkpoint (no "key_id").')
    key = keys.get(signer)
    if key is None:
        known = ", ".join(sorted(keys)) or "none"
        raise _BadLine(
            f"signed by key {signer[:KEY_ID_LENGTH]!r}, which is not among the "
            f"public keys given ({known})."
        )
    try:
        key.verify(
            base64.b64decode(signature, validate=True), SIGNING_CONTEXT + _canonical(payload)
        )
    except (binascii.Error, ValueError, InvalidSignature):
        raise _BadLine(
            f"the signature does not match (key {signer}): the line was edited or forged."
        ) from None
    return _checkpoint_from(payload)


def _checkpoint_from(payload: dict) -> Checkpoint:
    """The checkpoint a correctly signed payload states (checked all the same: a key might
    have signed a line of another format)."""
    if payload.get("format") != FORMAT or set(payload) != set(PAYLOAD_FIELDS):
        raise _BadLine(f"unsupported checkpoint format {payload.get('format')!r}.")
    operation_id, operation_hash = payload["operation_id"], payload["operation_hash"]
    counts = (payload["operations"], payload["entries"])
    valid = (
        all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts)
        and (operation_id is None) == (operation_hash is None) == (payload["database"] is None)
        and (
            operation_id is None
            or (
                isinstance(operation_id, int)
                and isinstance(operation_hash, str)
                and isinstance(payload["database"], str)
            )
        )
    )
    try:
        created_at = datetime.strptime(payload["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=UTC
        )
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise _BadLine("the checkpoint's fields are not valid.")
    return Checkpoint(
        operation_id,
        operation_hash,
        counts[0],
        counts[1],
        payload["database"],
        created_at,
        payload["key_id"],
    )


# -- checking checkpoints against the log as it is walked ---------------------------------------


@dataclass
class _Group:
    """Checkpoints stating the same thing (a job run often while nothing happened)."""

    first: SignedCheckpoint
    lines: int = 1

    @property
    def checkpoint(self) -> Checkpoint:
        return self.first.checkpoint

    def names(self) -> str:
        text = f"Checkpoint line {self.first.line_number} ({self.checkpoint.when})"
        if self.lines > 1:
            text += f" and {self.lines - 1} more line(s) stating the same"
        return text


class CheckpointWatch:
    """A `LinkWatcher` for `audit_verify.verify_chain`: compares each checkpoint with the
    stored operation it names as the walk streams past it. Holds the checkpoints (not the
    log) in memory."""

    def __init__(self, checkpoints: Iterable[SignedCheckpoint]) -> None:
        groups: dict[tuple, _Group] = {}
        for signed in checkpoints:
            c = signed.checkpoint
            key = (c.database, c.operation_id, c.operation_hash, c.operations, c.entries)
            if key in groups:
                groups[key].lines += 1
            else:
                groups[key] = _Group(signed)
        self._groups = sorted(
            groups.values(), key=lambda g: (g.checkpoint.operation_id or 0, g.first.line_number)
        )
        self.lines = sum(group.lines for group in self._groups)
        self._findings: list[Finding] = []
        self._pending: deque[_Group] = deque()
        self._walked_to_end = False
        self._operations = 0
        self._last_id: int | None = None

    def watch(self, links: Iterable[Link]) -> Iterator[Link]:
        # A checkpoint of an empty log holds whatever was appended since.
        pending = deque(g for g in self._groups if g.checkpoint.operation_id is not None)
        count, last_id = 0, None
        for link in links:
            count += 1
            if count == 1:
                pending = self._same_database(pending, link.stored_hash)
            while pending and (pending[0].checkpoint.operation_id or 0) < link.id:
                self._missing(pending.popleft(), last_id, link.id)
            while pending and pending[0].checkpoint.operation_id == link.id:
                self._compare(pending.popleft(), link, count)
            last_id = link.id
            yield link
        self._pending, self._operations, self._last_id = pending, count, last_id
        self._walked_to_end = True

    def findings(self) -> list[Finding]:
        """Mismatches met during the walk; and, when the walk reached the end of the log,
        every checkpointed operation past that end."""
        findings = list(self._findings)
        if self._walked_to_end:
            findings += [self._past_the_end(group) for group in self._pending]
        return findings

    def summary(self) -> str:
        newest = max(
            (g.checkpoint for g in self._groups),
            key=lambda c: (c.operation_id or 0, c.created_at),
            default=None,
        )
        if newest is None or newest.operation_id is None:
            return f"{self.lines} checkpoint(s) match"
        return (
            f"{self.lines} checkpoint(s) match, the newest up to operation #{newest.operation_id}"
        )

    def _same_database(self, pending: deque[_Group], first_hash: str) -> deque[_Group]:
        kept: deque[_Group] = deque()
        for group in pending:
            if group.checkpoint.database == first_hash:
                kept.append(group)
                continue
            self._findings.append(
                Finding(
                    group.checkpoint.operation_id,
                    Problem.CHECKPOINT,
                    f"{group.names()} was made on another database: the first operation it "
                    f"records has hash {(group.checkpoint.database or '')[:12]}…, this log's "
                    f"first has "
                    f"{first_hash[:12]}… (or this log was rewritten from its first operation).",
                )
            )
        return kept

    def _compare(self, group: _Group, link: Link, operations: int) -> None:
        c = group.checkpoint
        if link.stored_hash != c.operation_hash:
            detail = (
                f"{group.names()} records its hash as {(c.operation_hash or '')[:12]}…, the log "
                f"now holds {link.stored_hash[:12]}…: the log was rewritten up to this "
                "operation."
            )
        elif (operations, link.entries_through) != (c.operations, c.entries):
            detail = (
                f"{group.names()} counts {c.operations} operations and {c.entries} "
                f"entries up to it, the log now holds {operations} and "
                f"{link.entries_through}: operations or entries before it were deleted "
                "or inserted."
            )
        else:
            return
        self._findings.append(Finding(link.id, Problem.CHECKPOINT, detail))

    def _missing(self, group: _Group, before: int | None, after: int) -> None:
        where = f"goes from #{before} to #{after}" if before is not None else f"starts at #{after}"
        self._findings.append(
            Finding(
                group.checkpoint.operation_id,
                Problem.CHECKPOINT,
                f"{group.names()} records this operation, but the log {where}: it was deleted.",
            )
        )

    def _past_the_end(self, group: _Group) -> Finding:
        c = group.checkpoint
        if self._last_id is None:
            now = "the log is empty"
        else:
            now = f"the log ends at #{self._last_id} with {self._operations} operations"
        return Finding(
            c.operation_id,
            Problem.CHECKPOINT,
            f"{group.names()} records this operation as the newest of "
            f"{c.operations}, but {now}: the newest operations were deleted.",
        )
