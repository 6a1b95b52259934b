"""Who the request is from: the Flask-Login user loader, session revocation, idle timeout.

The session stores "<user id>:<session token>". Logging out, disabling a user or changing
their role rotates the token in the database, so every existing session and remember-me
cookie stops working on its next request (Flask-Login's "alternative tokens").
"""

import uuid

from flask import Flask, g, request, session
from flask_login import current_user

from admin_app.extensions import db, login_manager
from admin_app.models import StaffUser
from admin_app.models.types import utcnow
from admin_app.services.audit import Actor


def init_session(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.refresh_view = "auth.login"
    login_manager.needs_refresh_message = "Please log in again to confirm this operation."
    login_manager.needs_refresh_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_user)
    app.before_request(_assign_request_id)
    app.before_request(_expire_idle_session)


def load_user(user_id: str) -> StaffUser | None:
    numeric_id, _, token = user_id.partition(":")
    if not numeric_id.isdigit() or not token:
        return None
    user = db.session.get(StaffUser, int(numeric_id))
    if user is None or not user.is_active or user.session_token != token:
        return None
    return user


def _assign_request_id() -> None:
    g.request_id = uuid.uuid4().hex


def _expire_idle_session() -> None:
    """Log out a session idle for longer than IDLE_TIMEOUT (checked before loading the user)."""
    from flask import current_app

    now = int(utcnow().timestamp())
    last_seen = session.get("last_seen")
    idle_limit = current_app.config["IDLE_TIMEOUT"].total_seconds()
    if "_user_id" in session and isinstance(last_seen, int) and now - last_seen > idle_limit:
        session.clear()
        session["idle_expired"] = True
        return
    if "_user_id" in session:
        session["last_seen"] = now


def client_ip() -> str | None:
    return request.remote_addr


def current_actor(source: str = "web") -> Actor:
    """The logged-in user as an audit actor, with this request's IP, user agent and id."""
    user = current_user if current_user.is_authenticated else None
    return Actor(
        id=user.id if user else None,
        username=user.username if user else "anonymous",
        role=user.role if user else "anonymous",
        source=source,
        client_ip=client_ip(),
        user_agent=(request.user_agent.string or "")[:256] or None,
        request_id=getattr(g, "request_id", None),
    )
