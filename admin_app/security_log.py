"""Security events, and log lines that user input cannot split.

`security_event` writes one JSON object per security-relevant decision (a refused login, a
403, a CSRF failure, invalid input, a rejected session, ...) to the `admin_app.security`
logger: its type, the user id, client IP, endpoint, method and request id, plus the fields of
the event. JSON escapes CR, LF and every other control character, so a value cannot forge a
second log line. Never pass passwords, cookies or tokens; fields with such names are dropped.

`EscapeLineBreaks` does the same for the app's ordinary log lines (`current_app.logger`).
"""

import json
import logging
import uuid

from flask import Flask, g, has_request_context, request
from flask_login import AnonymousUserMixin
from sqlalchemy import inspect as sa_inspect

logger = logging.getLogger("admin_app.security")
logger.setLevel(logging.INFO)

SECRET_FIELDS = frozenset(
    {
        "password",
        "new_password",
        "csrf_token",
        "token",
        "session",
        "cookie",
        "remember_token",
        "password_hash",
    }
)


def security_event(event_type: str, *, level: int = logging.WARNING, **fields) -> dict:
    """Log one security event; returns the logged record (a dict). `user_id` is the user
    Flask-Login already loaded for this request, unless the caller passes one."""
    record: dict = {
        "type": event_type,
        "user_id": None,
        "ip": None,
        "endpoint": None,
        "method": None,
        "request_id": None,
    }
    if has_request_context():
        record.update(
            user_id=_user_id(),
            ip=request.remote_addr,
            endpoint=request.endpoint,
            method=request.method,
            request_id=request_id(),
        )
    record.update({name: value for name, value in fields.items() if name not in SECRET_FIELDS})
    logger.log(
        level,
        "security_event %s",
        json.dumps(record, default=str),
        extra={"security_event": record},
    )
    return record


def request_id() -> str:
    """This request's id (the same in its security events and its operation log rows)."""
    return g.setdefault("request_id", uuid.uuid4().hex)


def _user_id() -> int | None:
    # Only what Flask-Login already loaded: asking current_user here could run the user
    # loader, which itself reports rejected sessions through this function. And the id from
    # the identity map, without touching the database: the event may be about a failed
    # transaction, in which an expired attribute could not be reloaded.
    user = g.get("_login_user")
    if user is None or isinstance(user, AnonymousUserMixin):
        return None
    identity = sa_inspect(user, raiseerr=False)
    if identity is not None and identity.identity:
        return identity.identity[0]
    return None


def escape_line_breaks(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


class EscapeLineBreaks(logging.Filter):
    """Escape CR/LF in a log record's message, so one call writes exactly one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "\r" in message or "\n" in message:
            record.msg, record.args = escape_line_breaks(message), ()
        return True


def init_security_log(app: Flask) -> None:
    if not any(isinstance(f, EscapeLineBreaks) for f in app.logger.filters):
        app.logger.addFilter(EscapeLineBreaks())
