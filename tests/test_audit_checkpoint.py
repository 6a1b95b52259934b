"""Signed log checkpoints kept outside the database (`flask audit checkpoint`, `flask audit
verify --checkpoints`): someone with database rights who deletes the newest operations and
rewrites the chain head, re-hashes the chain after an edit, or swaps in another database passes
`audit verify` alone, and is caught by a checkpoint written before. Edited, forged, malformed
or foreign checkpoint lines fail with a message and exit 1, never a traceback.
Runs on SQLite and PostgreSQL."""

import base64
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from admin_app.extensions import db
from admin_app.models import AuditCheckpoint, AuditOperation, AuditVerification
from admin_app.services import audit_checkpoint, audit_verify
from admin_app.services.audit import HASHED_OPERATION_FIELDS, operation_hash
from admin_app.services.audit_checkpoint import SIGNING_CONTEXT, CheckpointWatch, key_id
from admin_app.services.audit_verify import Head, Link, Problem, check_links
from tests.audit_support import append, build_log, customer_entries, entry_ids, snapshot, tamper

NOON = datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC)


def write_key(path, key=None) -> Ed25519PrivateKey:
    key = key or Ed25519PrivateKey.generate()
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return key


def write_public(path, key: Ed25519PrivateKey) -> str:
    path.write_text(audit_checkpoint.public_key_pem(key.public_key()))
    return str(path)


@pytest.fixture
def signing_key(app, tmp_path) -> Ed25519PrivateKey:
    """A key in tmp_path/signing.pem, set as AUDIT_SIGNING_KEY."""
    path = tmp_path / "signing.pem"
    key = write_key(path)
    app.config["AUDIT_SIGNING_KEY"] = str(path)
    return key


@pytest.fixture
def ledger(tmp_path) -> str:
    return str(tmp_path / "checkpoints.log")


def run(runner, *args):
    result = runner.invoke(args=["audit", *args])
    db.session.rollback()
    assert "Traceback" not in result.output
    # A clean exit or SystemExit from the command, never an exception escaping it.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def checkpoint(runner, ledger):
    result = run(runner, "checkpoint", "--out", ledger)
    assert result.exit_code == 0, result.output
    return result


def verify(runner, ledger, *public_keys):
    keys = [arg for path in public_keys for arg in ("--public-key", path)]
    return run(runner, "verify", "--checkpoints", ledger, *keys)


def lines_of(path) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return handle.read().splitlines()


def operation_row(operation_id: int) -> tuple[int, str]:
    db.session.rollback()
    return db.session.execute(
        sa.select(AuditOperation.id, AuditOperation.hash).where(AuditOperation.id == operation_id)
    ).one()


def delete_tail_and_rewrite_head(ids: list[int], keep: int) -> None:
    """What an attacker with database rights does: delete the newest operations and their
    entries, then point the chain head at the last one kept."""
    gone = ", ".join(str(i) for i in ids[keep:])
    last_id, last_hash = operation_row(ids[keep - 1])
    tamper(
        f"DELETE FROM audit_entries WHERE operation_id IN ({gone})",
        f"DELETE FROM audit_operations WHERE id IN ({gone})",
        f"UPDATE audit_chain_head SET last_operation_id = {last_id}, "
        f"last_hash = '{last_hash}', operation_count = {keep} WHERE id = 1",
    )


def assert_caught(result, operation_id: int, *phrases: str) -> None:
    assert result.exit_code == 1, result.output
    assert f"operation #{operation_id}: checkpoint mismatch." in result.output
    for phrase in phrases:
        assert phrase in result.output, result.output


# -- making a checkpoint ---------------------------------------------------------------------


def test_checkpoint_line_states_the_newest_operation_and_its_counts(runner, signing_key):
    ids = build_log((2, 0, 3, 1))
    before = snapshot()
    with mock.patch("admin_app.services.audit_checkpoint.utcnow", return_value=NOON):
        result = run(runner, "checkpoint")

    assert result.exit_code == 0, result.output
    line = result.output.strip()
    document = json.loads(line)
    assert document["checkpoint"] == {
        "format": 1,
        "database": operation_row(ids[0])[1],
        "operation_id": ids[-1],
        "operation_hash": operation_row(ids[-1])[1],
        "operations": 4,
        "entries": 6,
        "created_at": "2026-11-25T12:00:00Z",
        "key_id": key_id(signing_key.public_key()),
    }
    signing_key.public_key().verify(
        base64.b64decode(document["signature"]),
        SIGNING_CONTEXT
        + json.dumps(document["checkpoint"], sort_keys=True, separators=(",", ":")).encode(),
    )
    assert snapshot() == before  # the log itself is not touched
    recorded = db.session.execute(sa.select(AuditCheckpoint)).scalars().all()
    assert [(r.operation_id, r.operation_count, r.entry_count, r.created_at) for r in recorded] == [
        (ids[-1], 4, 6, NOON.replace(microsecond=0))
    ]


def test_out_appends_one_line_per_checkpoint_and_stdout_prints_it_too(runner, signing_key, ledger):
    build_log((1,))
    quiet = checkpoint(runner, ledger)
    assert quiet.output == ""  # for cron: nothing to mail
    append(entries=customer_entries(2))
    both = run(runner, "checkpoint", "--out", ledger, "--stdout")
    assert both.exit_code == 0
    lines = lines_of(ledger)
    assert len(lines) == 2
    assert both.output == lines[1] + "\n"
    assert [json.loads(line)["checkpoint"]["operations"] for line in lines] == [1, 2]


def test_public_key_is_printed_as_pem(runner, signing_key):
    result = run(runner, "checkpoint", "--public-key")
    assert result.exit_code == 0
    assert result.output.startswith("-----BEGIN PUBLIC KEY-----")
    printed = serialization.load_pem_public_key(result.output.encode())
    assert key_id(printed) == key_id(signing_key.public_key())


def _rsa_pem() -> bytes:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _encrypted_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "AUDIT_SIGNING_KEY is not set"),
        (b"", "not a PEM private key"),
        (b"not a key at all", "not a PEM private key"),
        ("rsa", "not an Ed25519 key (RSA)"),
        ("encrypted", "the key is encrypted"),
        ("missing", "cannot read it (No such file or directory)"),
    ],
    ids=["unset", "empty", "garbage", "rsa", "encrypted", "missing"],
)
def test_unusable_signing_key_is_named_and_nothing_is_written(
    app, runner, tmp_path, ledger, content, message
):
    build_log((1,))
    path = tmp_path / "key.pem"
    if content is None:
        app.config["AUDIT_SIGNING_KEY"] = ""
    else:
        app.config["AUDIT_SIGNING_KEY"] = str(path)
        data = {"rsa": _rsa_pem, "encrypted": _encrypted_pem}.get(content, lambda: content)
        if content != "missing":
            path.write_bytes(data())
    for args in (("checkpoint", "--out", ledger), ("checkpoint", "--public-key")):
        result = run(runner, *args)
        assert result.exit_code == 1
        assert message in result.output
    assert not os.path.exists(ledger)
    assert db.session.execute(sa.select(sa.func.count()).select_from(AuditCheckpoint)).scalar() == 0


def test_a_key_others_can_read_is_warned_about(runner, signing_key, app):
    os.chmod(app.config["AUDIT_SIGNING_KEY"], 0o644)
    result = run(runner, "checkpoint")
    assert result.exit_code == 0
    assert "can be read by other users; chmod 600 it" in result.output


def test_no_checkpoint_of_a_log_whose_head_is_already_wrong(runner, signing_key, ledger):
    ids = build_log((1, 1, 1))
    tamper(
        f"DELETE FROM audit_entries WHERE operation_id = {ids[-1]}",
        f"DELETE FROM audit_operations WHERE id = {ids[-1]}",
    )
    result = run(runner, "checkpoint", "--out", ledger)
    assert result.exit_code == 1
    assert "The chain head does not match the newest operation" in result.output
    assert not os.path.exists(ledger)


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(
    app, runner, tmp_path
):
    path = tmp_path / "new.pem"
    result = run(runner, "keygen", str(path))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = audit_checkpoint.load_signing_key(str(path))
    assert f"key id {key_id(key.public_key())}" in result.output
    assert "-----BEGIN PUBLIC KEY-----" in result.output
    again = run(runner, "keygen", str(path))
    assert again.exit_code == 1
    assert "exists; not overwriting a key" in again.output
    assert key_id(audit_checkpoint.load_signing_key(str(path)).public_key()) == key_id(
        key.public_key()
    )


# -- verifying: what `audit verify` alone misses ---------------------------------------------


def test_deleted_tail_with_rewritten_head_is_caught_only_with_the_checkpoint(
    runner, signing_key, ledger
):
    ids = build_log((2, 0, 3, 1, 2))
    checkpoint(runner, ledger)
    delete_tail_and_rewrite_head(ids, keep=3)

    alone = run(runner, "verify")
    assert alone.exit_code == 0
    assert alone.output == "3 operations verified, chain intact\n"

    result = verify(runner, ledger)
    assert_caught(
        result,
        ids[-1],
        "Checkpoint line 1 (",
        f"records this operation as the newest of 5, but the log ends at #{ids[2]} "
        "with 3 operations: the newest operations were deleted.",
    )
    recorded = db.session.execute(
        sa.select(AuditVerification).order_by(AuditVerification.id.desc()).limit(1)
    ).scalar_one()
    assert (recorded.intact, recorded.first_bad_operation_id) == (False, ids[-1])
    assert "checkpoint mismatch" in recorded.message


def test_deleted_tail_then_new_operations_is_caught(runner, signing_key, ledger):
    """After the deletion the app appends again: on PostgreSQL the checkpointed id is skipped
    (the sequence moved on), on SQLite it is reused by another operation. Both are caught."""
    ids = build_log((1, 1, 1, 1))
    checkpoint(runner, ledger)
    delete_tail_and_rewrite_head(ids, keep=2)
    append(action="login")
    append(action="login")
    append(action="login")
    assert run(runner, "verify").exit_code == 0

    result = verify(runner, ledger)
    assert result.exit_code == 1
    assert f"operation #{ids[-1]}: checkpoint mismatch." in result.output
    assert (
        "the log was rewritten up to this operation" in result.output
        or "it was deleted" in result.output
    ), result.output


def _rehash_from(operation_id: int) -> list[str]:
    """UPDATEs that re-hash every operation from `operation_id` on and point the chain head
    at the result: what someone who knows the (unkeyed) hash does after editing the log."""
    db.session.rollback()
    columns = [AuditOperation.__table__.c[name] for name in (*HASHED_OPERATION_FIELDS, "prev_hash")]
    rows = db.session.execute(
        sa.select(*columns).where(AuditOperation.id >= operation_id).order_by(AuditOperation.id)
    ).all()
    prev = rows[0]._mapping["prev_hash"]
    statements = []
    for row in rows:
        entries = [
            tuple(e)
            for e in db.session.execute(
                sa.text(
                    "SELECT entity, entity_id, entity_label, field, old_value, new_value "
                    f"FROM audit_entries WHERE operation_id = {row.id} ORDER BY id"
                )
            )
        ]
        digest = operation_hash(row._mapping, entries, prev)
        statements.append(
            f"UPDATE audit_operations SET prev_hash = '{prev}', hash = "
            f"'{digest}' WHERE id = {row.id}"
        )
        prev = digest
    statements.append(f"UPDATE audit_chain_head SET last_hash = '{prev}' WHERE id = 1")
    return statements


def test_edited_and_rehashed_history_is_caught_by_an_older_checkpoint(runner, signing_key, ledger):
    ids = build_log((1, 2, 1, 1))
    checkpoint(runner, ledger)
    victim = entry_ids(ids[1])[0]
    tamper(f"UPDATE audit_entries SET new_value = 'active' WHERE id = {victim}")
    tamper(*_rehash_from(ids[1]))
    assert run(runner, "verify").exit_code == 0  # the chain is consistent again

    result = verify(runner, ledger)
    assert_caught(result, ids[-1], "the log was rewritten up to this operation")


def test_deleted_entries_change_the_counts_up_to_a_checkpoint(runner, signing_key, ledger):
    ids = build_log((1, 3, 1))
    checkpoint(runner, ledger)
    tamper(f"DELETE FROM audit_entries WHERE id = {entry_ids(ids[1])[0]}")
    result = verify(runner, ledger)
    assert result.exit_code == 1
    assert f"operation #{ids[1]}: edited." in result.output  # the walk's own finding first
    assert_caught(
        result, ids[-1], "counts 3 operations and 5 entries up to it, the log now holds 3 and 4"
    )


def test_checkpoint_from_another_database_is_named(runner, signing_key, ledger):
    """The checkpoint was made on one database; the log now checked is another one (a
    restored or swapped database whose own chain is perfectly intact)."""
    ids = build_log((1, 1))
    checkpoint(runner, ledger)
    every = ", ".join(str(i) for i in ids)
    tamper(
        f"DELETE FROM audit_entries WHERE operation_id IN ({every})",
        f"DELETE FROM audit_operations WHERE id IN ({every})",
        "UPDATE audit_chain_head SET last_operation_id = NULL, "
        f"last_hash = '{'0' * 64}', operation_count = 0 WHERE id = 1",
    )
    build_log((2, 1, 1))
    assert run(runner, "verify").exit_code == 0

    result = verify(runner, ledger)
    assert_caught(result, ids[-1], "Checkpoint line 1 (", "was made on another database")


def test_emptied_log_is_caught(runner, signing_key, ledger):
    ids = build_log((1, 1))
    checkpoint(runner, ledger)
    every = ", ".join(str(i) for i in ids)
    tamper(
        f"DELETE FROM audit_entries WHERE operation_id IN ({every})",
        f"DELETE FROM audit_operations WHERE id IN ({every})",
        "UPDATE audit_chain_head SET last_operation_id = NULL, "
        f"last_hash = '{'0' * 64}', operation_count = 0 WHERE id = 1",
    )
    assert run(runner, "verify").exit_code == 0
    assert_caught(verify(runner, ledger), ids[-1], "but the log is empty")


# -- verifying: intact logs ----------------------------------------------------------------


def test_checkpoints_along_a_growing_log_all_match_in_small_batches(
    runner, signing_key, ledger, monkeypatch
):
    """Counts up to each checkpoint are right however the streams are batched (the entry
    stream reads one row ahead)."""
    checkpoint(runner, ledger)  # the empty log
    for counts in ((2, 0), (3,), (0, 0, 1), (5, 1)):
        build_log(counts)
        checkpoint(runner, ledger)
    checkpoint(runner, ledger)  # nothing new: states the same as the one before
    append(entries=customer_entries(4))  # after the newest checkpoint
    monkeypatch.setattr(audit_verify, "STREAM_BATCH", 2)

    result = verify(runner, ledger)

    assert result.exit_code == 0, result.output
    assert result.output == (
        "9 operations verified, chain intact; 6 checkpoint(s) match, "
        "the newest up to operation #8\n"
    )


def test_a_checkpoint_of_the_empty_log_matches(runner, signing_key, ledger):
    checkpoint(runner, ledger)
    assert json.loads(lines_of(ledger)[0])["checkpoint"]["operation_id"] is None
    assert verify(runner, ledger).exit_code == 0
    build_log((1,))
    assert verify(runner, ledger).exit_code == 0


def test_syslog_prefixes_are_ignored(runner, signing_key, ledger, tmp_path):
    build_log((1, 2))
    line = run(runner, "checkpoint").output.strip()
    journal = tmp_path / "journal.txt"
    journal.write_text(f"Dec 06 05:00:01 erp customer-admin[4242]: {line}\n\n")
    result = verify(runner, str(journal))
    assert result.exit_code == 0, result.output
    assert "1 checkpoint(s) match" in result.output


def test_without_checkpoints_verify_is_unchanged(runner, signing_key, tmp_path):
    build_log((1,))
    assert run(runner, "verify").output == "1 operations verified, chain intact\n"
    public = write_public(tmp_path / "p.pem", signing_key)
    result = run(runner, "verify", "--public-key", public)
    assert result.exit_code == 1
    assert "--public-key needs --checkpoints FILE" in result.output


# -- verifying: bad checkpoint lines and keys ------------------------------------------------


@pytest.mark.parametrize(
    "field", ["operation_id", "entries", "operation_hash", "created_at", "signature"]
)
def test_a_line_edited_by_one_character_fails_its_signature(runner, signing_key, ledger, field):
    build_log((2, 1, 12))
    checkpoint(runner, ledger)
    line = lines_of(ledger)[0]
    document = json.loads(line)
    value = document["signature"] if field == "signature" else document["checkpoint"][field]
    position = line.index(f'"{field}":') + len(field) + 3 + len(json.dumps(value)) // 2
    changed = "0" if line[position] != "0" else "1"
    if field == "signature":
        changed = "A" if line[position] != "A" else "B"
    edited = line[:position] + changed + line[position + 1 :]
    assert len(edited) == len(line) and edited != line
    with open(ledger, "w") as handle:
        handle.write(edited + "\n")

    result = verify(runner, ledger)

    assert result.exit_code == 1
    assert (
        f"Checkpoint line 1: the signature does not match (key "
        f"{key_id(signing_key.public_key())}): the line was edited or forged."
    ) in result.output
    assert "3 operations verified, chain intact" in result.output  # the log itself is fine


def test_a_checkpoint_forged_with_another_key_is_refused(
    runner, signing_key, ledger, tmp_path, app
):
    """Someone who rewrote the log signs a matching checkpoint with a key of their own (and
    even puts the real key's id in it): neither verifies with the published key."""
    ids = build_log((1, 1, 1))
    published = write_public(tmp_path / "published.pem", signing_key)
    delete_tail_and_rewrite_head(ids, keep=2)
    forger = write_key(tmp_path / "forger.pem")
    app.config["AUDIT_SIGNING_KEY"] = str(tmp_path / "forger.pem")
    checkpoint(runner, ledger)
    own_id = lines_of(ledger)[0]
    real_id = own_id.replace(key_id(forger.public_key()), key_id(signing_key.public_key()))
    with open(ledger, "a") as handle:
        handle.write(real_id + "\n")

    result = verify(runner, ledger, published)

    assert result.exit_code == 1
    assert (
        f"Checkpoint line 1: signed by key '{key_id(forger.public_key())}', which is not "
        f"among the public keys given ({key_id(signing_key.public_key())})."
    ) in result.output
    assert "Checkpoint line 2: the signature does not match" in result.output


def test_key_rotation_verifies_with_every_public_key_given(runner, app, tmp_path, ledger):
    old = write_key(tmp_path / "old.pem")
    new = write_key(tmp_path / "new.pem")
    old_public = write_public(tmp_path / "old.pub", old)
    new_public = write_public(tmp_path / "new.pub", new)
    app.config["AUDIT_SIGNING_KEY"] = str(tmp_path / "old.pem")
    build_log((1, 2))
    checkpoint(runner, ledger)
    app.config["AUDIT_SIGNING_KEY"] = str(tmp_path / "new.pem")  # rotated
    build_log((3,))
    checkpoint(runner, ledger)

    both = verify(runner, ledger, old_public, new_public)
    assert both.exit_code == 0, both.output
    assert "2 checkpoint(s) match" in both.output

    only_new = verify(runner, ledger, new_public)
    assert only_new.exit_code == 1
    assert (
        f"Checkpoint line 1: signed by key '{key_id(old.public_key())}', which is not "
        f"among the public keys given ({key_id(new.public_key())})."
    ) in only_new.output
    assert "Checkpoint line 2" not in only_new.output
    assert "1 checkpoint(s) match" in only_new.output

    default = verify(runner, ledger)  # the public half of AUDIT_SIGNING_KEY: the new key
    assert default.exit_code == 1
    assert "Checkpoint line 1: signed by key" in default.output


@pytest.mark.parametrize(
    "line, message",
    [
        (b"hello", "not a checkpoint (no JSON object)."),
        (b'{"checkpoint": {"operation_id": 1', "not a checkpoint (not valid JSON)."),
        (b"{}", 'not a checkpoint (needs "checkpoint" and "signature").'),
        (b"[1, 2]", "not a checkpoint (no JSON object)."),
        (
            b'{"checkpoint": 7, "signature": "x"}',
            'not a checkpoint (needs "checkpoint" and "signature").',
        ),
        (b'{"checkpoint": {}, "signature": "x"}', 'not a checkpoint (no "key_id").'),
        (b"\xff\xfe{\x00\x00", "not a checkpoint (not valid JSON)."),
        (b"[" * 100_000, "not a checkpoint (no JSON object)."),
        (b'{"a":' * 100_000, "not a checkpoint (not valid JSON)."),
    ],
    ids=[
        "text",
        "truncated",
        "empty-object",
        "array",
        "not-an-object",
        "no-key",
        "binary",
        "deep-array",
        "deep-object",
    ],
)
def test_a_malformed_line_is_named_without_a_traceback(runner, signing_key, ledger, line, message):
    build_log((1,))
    checkpoint(runner, ledger)
    with open(ledger, "ab") as handle:
        handle.write(line + b"\n")
    result = verify(runner, ledger)
    assert result.exit_code == 1
    assert f"Checkpoint line 2: {message}\n" in result.output
    assert "1 checkpoint(s) match" in result.output


def test_a_correctly_signed_line_of_an_unknown_format_is_refused(runner, signing_key, ledger):
    payload = {"format": 2, "what": "something else", "key_id": key_id(signing_key.public_key())}
    signature = signing_key.sign(
        SIGNING_CONTEXT + json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    )
    with open(ledger, "w") as handle:
        handle.write(
            json.dumps({"checkpoint": payload, "signature": base64.b64encode(signature).decode()})
            + "\n"
        )
    result = verify(runner, ledger)
    assert result.exit_code == 1
    assert "Checkpoint line 1: unsupported checkpoint format 2." in result.output


def test_wrong_public_key_fails_every_line(runner, signing_key, ledger, tmp_path):
    build_log((1,))
    for _ in range(12):
        checkpoint(runner, ledger)
    stranger = write_public(tmp_path / "stranger.pub", Ed25519PrivateKey.generate())
    result = verify(runner, ledger, stranger)
    assert result.exit_code == 1
    assert result.output.count("which is not among the public keys given") == 10
    assert "… and 2 more bad checkpoint line(s)." in result.output


@pytest.mark.parametrize(
    "kind, message",
    [
        ("private", "this is a private key; give the public key"),
        ("rsa", "not an Ed25519 key (RSA)"),
        ("garbage", "not a PEM public key"),
        ("missing", "cannot read it (No such file or directory)"),
    ],
)
def test_unusable_public_key_is_named(runner, signing_key, ledger, tmp_path, app, kind, message):
    build_log((1,))
    checkpoint(runner, ledger)
    path = tmp_path / "public.pem"
    if kind == "private":
        path.write_bytes(Path(app.config["AUDIT_SIGNING_KEY"]).read_bytes())
    elif kind == "rsa":
        path.write_bytes(
            serialization.load_pem_private_key(_rsa_pem(), None)
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    elif kind == "garbage":
        path.write_text("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    result = verify(runner, ledger, str(path))
    assert result.exit_code == 1
    assert f"Error: Public key {path}: {message}" in result.output


def test_unreadable_or_empty_checkpoint_file_is_named(runner, signing_key, tmp_path):
    missing = run(runner, "verify", "--checkpoints", str(tmp_path / "nope.log"))
    assert missing.exit_code == 1
    assert "cannot read it (No such file or directory)" in missing.output
    empty = tmp_path / "empty.log"
    empty.write_text("\n\n")
    result = run(runner, "verify", "--checkpoints", str(empty))
    assert result.exit_code == 1
    assert f"Checkpoints {empty}: no checkpoint in it." in result.output


def test_no_key_at_all_is_named(runner, app, ledger, tmp_path):
    (tmp_path / "checkpoints.log").write_text("{}\n")
    app.config["AUDIT_SIGNING_KEY"] = ""
    result = run(runner, "verify", "--checkpoints", ledger)
    assert result.exit_code == 1
    assert "AUDIT_SIGNING_KEY is not set" in result.output
    assert "Or give the public key: --public-key FILE." in result.output


# -- the watcher alone (no database) -----------------------------------------------------------


def _links(ids, entries_each=1) -> list[Link]:
    links, prev = [], "0" * 64
    for position, number in enumerate(ids, 1):
        digest = f"{number:064x}"
        links.append(Link(number, prev, digest, digest, None, position * entries_each))
        prev = digest
    return links


def _signed(operation_id, operations, entries, *, database=f"{10:064x}", line=1):
    c = audit_checkpoint.Checkpoint(
        operation_id, f"{operation_id:064x}", operations, entries, database, NOON, "k"
    )
    return audit_checkpoint.SignedCheckpoint(c, "", line)


def test_watcher_names_a_checkpointed_operation_missing_from_the_middle():
    stored = _links([10, 20, 40])  # 30 was deleted and the rest re-linked
    watch = CheckpointWatch([_signed(30, 3, 3)])
    checked, finding = check_links(watch.watch(stored), Head(40, f"{40:064x}", 3))
    assert (checked, finding) == (3, None)
    [found] = watch.findings()
    assert (found.operation_id, found.problem) == (30, Problem.CHECKPOINT)
    assert "the log goes from #20 to #40: it was deleted." in found.detail


def test_watcher_reports_nothing_past_where_the_walk_stopped():
    stored = _links([10, 20, 30])
    watch = CheckpointWatch([_signed(99, 9, 9)])
    links = watch.watch(stored)
    next(links)  # the walk stopped at a bad link
    assert watch.findings() == []


def test_watcher_groups_lines_stating_the_same():
    stored = _links([10])
    watch = CheckpointWatch([_signed(10, 5, 1, line=n) for n in (3, 4, 5)])
    list(watch.watch(stored))
    [found] = watch.findings()
    assert (
        "Checkpoint line 3 (2026-11-25 12:00:00 UTC) and 2 more line(s) stating the same"
        in found.detail
    )


# -- the dashboard ---------------------------------------------------------------------------


def test_an_admin_is_told_the_checkpoint_command_with_a_real_path(client, login):
    login("admin")
    html = client.get("/admin/").get_data(as_text=True)
    assert (
        "<code>flask --app wsgi audit checkpoint --out /var/lib/customer-admin/checkpoints.log"
        "</code>"
    ) in html


def test_dashboard_shows_the_last_checkpoint_to_roles_that_see_the_log(
    client, login, runner, signing_key, ledger, app
):
    build_log((1, 1))
    login("auditor")
    html = client.get("/admin/").get_data(as_text=True)
    assert "No log checkpoint written yet." in html
    assert "An administrator writes them on the server." in html and "--out" not in html
    with mock.patch("admin_app.services.audit_checkpoint.utcnow", return_value=NOON):
        checkpoint(runner, ledger)
    build_log((1, 1))
    html = client.get("/admin/").get_data(as_text=True)
    assert (
        'Last log checkpoint at <time datetime="2026-11-25T12:00:00Z" title="2026-11-25 12:00 UTC">'
        "Nov 25, 2026, 12:00:00\u202fPM</time>, up to operation #3"
    ) in html
    assert "(2 operations since)" in html  # the auditor's login was operation #1
    assert f"signed with key {key_id(signing_key.public_key())}" in html

    clerk = app.test_client()
    clerk.post("/login", data={"username": "clerk", "password": "correct-horse-battery"})
    assert 'id="log-checkpoint"' not in clerk.get("/admin/").get_data(as_text=True)
