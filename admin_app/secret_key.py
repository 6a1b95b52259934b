"""The signing key of an app started without SECRET_KEY (development: `make run`, `make serve`).

No key written in the source tree may sign sessions or confirmations: anyone can read it. So the
first start makes a random key and keeps it in a file only its owner may read (mode 0600,
`instance/secret_key` by default); later starts, and every gunicorn worker, reuse it, so
sessions survive a restart. Production has no key file and refuses to start without SECRET_KEY.
"""

import contextlib
import os
import secrets
import stat
from pathlib import Path

MIN_LENGTH = 32


def load_or_create(path: Path) -> str:
    """The key kept in `path`, made first if the file does not exist. Raises SystemExit when
    the file holds no usable key or others may read it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        _create(path)
    return _read(path)


def _create(path: Path) -> None:
    # Workers that start together each write a complete file under a name of their own and
    # link it into place: linking fails when another worker was first, and all read its key.
    # No process can read a half-written key.
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            os.fchmod(file.fileno(), 0o600)
            file.write(secrets.token_hex(32) + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)


def _read(path: Path) -> str:
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise SystemExit(
            f"{path} may be read by other users: `chmod 600 {path}`, or delete "
            "it to make a new key (everyone is logged out)."
        )
    key = path.read_text().strip()
    if len(key) < MIN_LENGTH:
        raise SystemExit(
            f"{path} holds no usable key: delete it to make a new one, or set SECRET_KEY."
        )
    return key
