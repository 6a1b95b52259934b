"""Logging staff in and out: credential checks and the login/logout log entries.

A wrong password, an unknown username and a disabled account all look the same to the
caller's user; only the operation log (and the returned `reason`) says which it was.
Throttling and lockout happen before this service is called (see `auth.throttle`).
"""

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from admin_app.models import StaffUser
from admin_app.models.types import utcnow
from admin_app.models.user import new_session_token
from admin_app.services.actions import OperationAction
from admin_app.services.audit import Actor, NewOperation, append_operation
from admin_app.services.transaction import write_transaction


def _dummy_hash() -> str:
    """Checked against when the username is unknown, so both paths cost one password hash
    (of the app's method: the same cost as a stored one)."""
    return _dummy_hash_for(current_app.config["PASSWORD_HASH_METHOD"])


@functools.cache
def _dummy_hash_for(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


# Logged instead of an unknown username: what was typed is often a password in the wrong box.
UNKNOWN_USERNAME = "(unknown)"
UNKNOWN_ROLE = "?"  # the role logged with UNKNOWN_USERNAME


@dataclass(frozen=True)
class LoginResult:
    user: StaffUser | None
    reason: str = "ok"  # ok, unknown_user, inactive, bad_password
    logged_username: str = ""  # as written to the log: the username, or UNKNOWN_USERNAME


def typed_username_digest(typed: str) -> str:
    """A keyed hash (HMAC-SHA-256 under a key derived from SECRET_KEY) of an unknown username
    as typed, case-folded: repeated attempts with the same text correlate, the text is not
    recoverable without the key."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else str(secret).encode()
    key = hmac.new(secret, b"customer-admin/unknown-username", hashlib.sha256).digest()
    return hmac.new(key, typed.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


def authenticate(username: str, password: str, *, client: Actor) -> LoginResult:
    """Check the credentials, count a failure on the account and log the attempt. Commits.

    `client` carries the request's IP, user agent and request id (its id/role are ignored).
    """
    username = username.strip()
    with write_transaction() as session:
        user = session.execute(
            select(StaffUser).where(func.lower(StaffUser.username) == username.lower())
        ).scalar_one_or_none()
        if user is None:
            check_password_hash(_dummy_hash(), password)
            return _refused(
                client,
                UNKNOWN_USERNAME,
                None,
                UNKNOWN_ROLE,
                "unknown_user",
                typed_digest=typed_username_digest(username),
            )
        password_ok = user.check_password(password)
        if not user.is_active:
            return _refused(client, user.username, user.id, user.role, "inactive")
        if not password_ok:
            session.execute(
                update(StaffUser)
                .where(StaffUser.id == user.id)
                .values(failed_login_count=StaffUser.failed_login_count + 1)
            )
            return _refused(client, user.username, user.id, user.role, "bad_password")
        user.failed_login_count = 0
        user.last_login_at = utcnow()
        _log_login(client, user.username, user.id, user.role, OperationAction.LOGIN, "ok")
    return LoginResult(user)


def _refused(
    client: Actor, username: str, user_id, role: str, reason: str, typed_digest: str | None = None
) -> LoginResult:
    _log_login(
        client,
        username,
        user_id,
        role,
        OperationAction.LOGIN_FAILED,
        reason,
        typed_digest=typed_digest,
    )
    return LoginResult(None, reason, logged_username=username)


def logout(user: StaffUser, *, client: Actor) -> None:
    """Rotate the user's session token, so every copy of their cookies stops working; log it."""
    with write_transaction() as session:
        session.execute(
            update(StaffUser)
            .where(StaffUser.id == user.id)
            .values(session_token=new_session_token())
        )
        _log_login(client, user.username, user.id, user.role, OperationAction.LOGOUT, "ok")


def _log_login(
    client: Actor,
    username: str,
    user_id,
    role: str,
    action: OperationAction,
    outcome: str,
    typed_digest: str | None = None,
):
    actor = Actor(
        id=user_id,
        username=username,
        role=role,
        source=client.source,
        client_ip=client.client_ip,
        user_agent=client.user_agent,
        request_id=client.request_id,
    )
    scope = {"outcome": outcome}
    if typed_digest is not None:
        scope["username_hmac"] = typed_digest
    append_operation(NewOperation(actor=actor, action=action, scope=scope, changed_count=0))
