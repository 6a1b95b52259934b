"""Logging staff in and out: credential checks, lockout, and the login/logout log entries.

A wrong password, an unknown username, a disabled account and a locked account all look the
same to the caller's user; only the operation log says which it was.
"""

import functools
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from admin_app.models import StaffUser
from admin_app.models.types import utcnow
from admin_app.models.user import new_session_token
from admin_app.services.audit import Actor, NewOperation, append_operation
from admin_app.services.transaction import write_transaction



@functools.cache
def _dummy_hash() -> str:
    """Checked against when the username is unknown, so both paths cost one password hash."""
    return generate_password_hash(secrets.token_hex(16))


@dataclass(frozen=True)
class LoginResult:
    user: StaffUser | None
    locked: bool = False


def authenticate(
    username: str,
    password: str,
    *,
    client: Actor,
    lockout_threshold: int,
    lockout_duration: timedelta,
) -> LoginResult:
    """Check the credentials, update the failure counter and log the attempt. Commits.

    `client` carries the request's IP, user agent and request id (its id/role are ignored).
    """
    username = username.strip()
    with write_transaction() as session:
        user = session.execute(
            select(StaffUser).where(func.lower(StaffUser.username) == username.lower())
        ).scalar_one_or_none()
        now = utcnow()
        if user is None:
            check_password_hash(_dummy_hash(), password)
            _log_login(client, username[:64], None, "?", "login_failed", "unknown_user")
            return LoginResult(None)
        password_ok = user.check_password(password)
        if user.locked_until is not None and user.locked_until > now:
            _log_login(client, user.username, user.id, user.role, "login_failed", "locked")
            return LoginResult(None, locked=True)
        if not user.is_active:
            _log_login(client, user.username, user.id, user.role, "login_failed", "inactive")
            return LoginResult(None)
        if not password_ok:
            user.failed_login_count += 1
            locked = user.failed_login_count >= lockout_threshold
            if locked:
                user.locked_until = now + lockout_duration
                user.failed_login_count = 0
            _log_login(client, user.username, user.id, user.role, "login_failed",
                       "locked_out" if locked else "bad_password")
            return LoginResult(None, locked=locked)
        user.failed_login_count = 0
        user.locked_until = None
        user.last_login_at = now
        _log_login(client, user.username, user.id, user.role, "login", "ok")
    return LoginResult(user)


def logout(user: StaffUser, *, client: Actor) -> None:
    """Rotate the user's session token, so every copy of their cookies stops working; log it."""
    with write_transaction() as session:
        session.execute(
            update(StaffUser)
            .where(StaffUser.id == user.id)
            .values(session_token=new_session_token())
        )
        _log_login(client, user.username, user.id, user.role, "logout", "ok")


def _log_login(client: Actor, username: str, user_id, role: str, action: str, outcome: str):
    actor = Actor(
        id=user_id,
        username=username,
        role=role,
        source=client.source,
        client_ip=client.client_ip,
        user_agent=client.user_agent,
        request_id=client.request_id,
    )
    append_operation(
        NewOperation(actor=actor, action=action, scope={"outcome": outcome}, changed_count=0)
    )
