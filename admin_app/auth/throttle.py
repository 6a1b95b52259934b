"""Login throttling and lockout, kept in Flask-Limiter's storage.

- Every POST /login counts against the client IP and against the username tried
  (`LOGIN_RATE_LIMIT`, Flask-Limiter decorators on the route).
- Lockout: at most `LOGIN_LOCKOUT_THRESHOLD` attempts per username within
  `LOGIN_LOCKOUT_DURATION` unless one succeeds (success clears the count). Each attempt is
  counted *before* the password is checked, atomically, so concurrent attempts cannot slip
  past the threshold, and a locked username is refused even with the right password.

Both live in the limiter's storage, keyed by the normalised username whether or not such a
user exists, so known and unknown usernames behave the same. With several workers set
RATELIMIT_STORAGE_URI to a shared store (Redis); memory storage counts per process.
"""

import importlib.util
import time
from datetime import timedelta

from flask import current_app, request
from flask_limiter import RequestLimit
from limits import RateLimitItemPerSecond

from admin_app.extensions import limiter
from admin_app.security_log import security_event

REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://", "redis+sentinel://", "redis+cluster://")


def require_storage_client(storage_uri: str) -> None:
    """Refuse to start when RATELIMIT_STORAGE_URI names Redis but the `redis` client (the
    optional extra `customer-admin[redis]`) is not installed."""
    if storage_uri.startswith(REDIS_SCHEMES) and importlib.util.find_spec("redis") is None:
        raise SystemExit(
            "RATELIMIT_STORAGE_URI is a Redis address, but the redis client is not installed: "
            "pip install 'customer-admin[redis]' (or use memory:// for a single process)."
        )


def normalise_username(username: str | None) -> str:
    return (username or "").strip().lower()[:64]


def login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def username_key() -> str:
    return "login-user:" + normalise_username(request.form.get("username"))


def log_rate_limit_breach(limit: RequestLimit) -> None:
    """on_breach of the route's limits: one security event per refused request."""
    by = "username" if limit.key and "login-user:" in limit.key else "ip"
    security_event(
        "login_throttled",
        by=by,
        limit=str(limit.limit),
        username=normalise_username(request.form.get("username")),
    )


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True)) and limiter.enabled


def _lockout_item() -> RateLimitItemPerSecond:
    config = current_app.config
    duration = config["LOGIN_LOCKOUT_DURATION"]
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else duration
    return RateLimitItemPerSecond(int(config["LOGIN_LOCKOUT_THRESHOLD"]), max(1, int(seconds)))


def _identifiers(username: str) -> tuple[str, ...]:
    return (
        current_app.config.get("RATELIMIT_KEY_PREFIX", ""),
        "login-lockout",
        normalise_username(username),
    )


def take_attempt(username: str) -> bool:
    """Count one login attempt for `username`; False when it is locked out (refuse it)."""
    if not _enabled():
        return True
    return limiter.limiter.hit(_lockout_item(), *_identifiers(username))


def retry_after(username: str) -> int:
    """Seconds until a locked-out `username` may try again."""
    reset_at, _remaining = limiter.limiter.get_window_stats(
        _lockout_item(), *_identifiers(username)
    )
    return max(1, int(reset_at - time.time()) + 1)


def clear_attempts(username: str) -> None:
    """A successful login: the username's count starts again."""
    if _enabled():
        limiter.limiter.clear(_lockout_item(), *_identifiers(username))
