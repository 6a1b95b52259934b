"""Where the app may send a browser back to: local paths only."""

import re
from urllib.parse import urlsplit

_CONTROL_OR_BACKSLASH = re.compile(r"[\x00-\x1f\x7f\\]")


def is_local_path(target: str | None) -> bool:
    """True for "/path?query" on this site; False for anything a browser could take elsewhere
    (`//host`, `/\\host`, `http:/host`, `javascript:`, control characters, ...)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if _CONTROL_OR_BACKSLASH.search(target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def local_or(target: str | None, default: str) -> str:
    return target if target is not None and is_local_path(target) else default
