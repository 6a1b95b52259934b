"""Who the request is from: the Flask-Login user loader, session revocation, timeouts.

The session and the remember-me cookie both store "<user id>:<session token>" (the user's
`get_id()`). Logging out, disabling a user, changing their role or resetting their password
rotates the token in the database, so every existing session and remember-me cookie stops
working on its next request (Flask-Login's "alternative tokens").

A session ends after IDLE_TIMEOUT without a request and ABSOLUTE_SESSION_LIFETIME after its
login, however active; both also drop the remember-me cookie, as does a logged-in session
without both clocks (which no login of this app makes). A session restored from the
remember-me cookie is not "fresh": the confirm step sends it to log in again first.
"""

import logging

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, user_loaded_from_cookie

from admin_app.extensions import db, login_manager
from admin_app.models import StaffUser
from admin_app.models.types import utcnow
from admin_app.security_log import request_id, security_event
from admin_app.services.audit import Actor
from admin_app.services.input_rules import parse_id


def init_session(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.refresh_view = "auth.login"
    login_manager.needs_refresh_message = "Please log in again to confirm this operation."
    login_manager.needs_refresh_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_user)
    user_loaded_from_cookie.connect(_restored_from_cookie, app)
    app.before_request(_assign_request_id)
    app.before_request(_expire_session)


def load_user(user_id: str) -> StaffUser | None:
    staff_id, token = _claimed(user_id)
    if staff_id is None or not token:
        _reject("malformed")
        return None
    user = db.session.get(StaffUser, staff_id)
    if user is None:
        _reject("unknown_user")
        return None
    if not user.is_active:
        _reject("inactive", user.id)
        return None
    if user.session_token != token:
        _reject("revoked", user.id)
        return None
    return user


def _claimed(session_user_id) -> tuple[int | None, str]:
    """The staff id (None unless a valid row id) and token of a session's "<id>:<token>"."""
    numeric_id, _, token = str(session_user_id).partition(":")
    return parse_id(numeric_id), token


def _reject(reason: str, user_id: int | None = None) -> None:
    """A session or remember-me cookie that names no valid login: forget both."""
    session.pop("_user_id", None)
    session["_remember"] = "clear"
    security_event("session_rejected", reason=reason, claimed_user_id=user_id)


def _now() -> int:
    return int(utcnow().timestamp())


def start_session() -> None:
    """Call right after login_user(): the session's clocks start now."""
    now = _now()
    session["login_at"] = now
    session["last_seen"] = now


def _restored_from_cookie(app, user=None, **_kwargs) -> None:
    # Flask-Login does not record the session identifier for a session restored from the
    # remember-me cookie; "strong" session protection would then end it on its next request.
    session["_id"] = login_manager._session_identifier_generator()
    start_session()
    security_event("session_restored", level=logging.INFO, restored_user_id=user.id)


def _assign_request_id() -> None:
    request_id()  # (a before_request hook must return None, so not request_id itself)


def _expire_session() -> None:
    """End a session idle past IDLE_TIMEOUT or older than ABSOLUTE_SESSION_LIFETIME (checked
    before the user is loaded); the remember-me cookie goes with it."""
    if "_user_id" not in session:
        return
    config = current_app.config
    now = _now()
    claimed_id, _token = _claimed(session["_user_id"])
    last_seen, login_at = session.get("last_seen"), session.get("login_at")
    if type(last_seen) is not int or type(login_at) is not int:
        # Every login starts both clocks: a session without them was not made by this app's
        # login, and fresh clocks would make it last forever.
        security_event("session_rejected", reason="no_clocks", claimed_user_id=claimed_id)
        end_session()
        return
    idle = now - last_seen > config["IDLE_TIMEOUT"].total_seconds()
    too_old = now - login_at > config["ABSOLUTE_SESSION_LIFETIME"].total_seconds()
    if idle or too_old:
        security_event(
            "session_expired",
            level=logging.INFO,
            reason="idle" if idle else "absolute_lifetime",
            user_id=claimed_id,
        )
        end_session(_language_of(claimed_id))
        session["idle_expired" if idle else "lifetime_expired"] = True
        return
    session["last_seen"] = now


def end_session(language: str | None = None) -> None:
    """Forget the login and drop the remember-me cookie with it. `language`, the one the pages
    were read in, is kept for the login page that follows (`SIGNED_OUT_LOCALE`: a reader of
    Chinese whose browser asks for English was sent to an English login page); it is not
    carried into the next login, where that user's own language applies."""
    session.clear()
    session["_remember"] = "clear"
    if language in current_app.config["LANGUAGES"]:
        session[SIGNED_OUT_LOCALE] = language


def _language_of(staff_id: int | None) -> str | None:
    """The language an expiring session's pages were in: chosen in the menu, else the staff
    user's own (read without logging the user in: this runs before the user is loaded)."""
    chosen = session.get("locale")
    if chosen:
        return chosen
    user = db.session.get(StaffUser, staff_id) if staff_id is not None else None
    return user.locale if user is not None else None


SIGNED_OUT_LOCALE = "signed_out_locale"


def reauthenticate(next_url: str):
    """Send a non-fresh session (restored from remember-me) to log in again, then to
    `next_url` (a local page to start over from, never the POST-only endpoint)."""
    security_event("reauthentication_required", level=logging.INFO)
    flash(_("Please log in again to confirm this operation."), "info")
    return redirect(url_for("auth.login", next=next_url))


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
