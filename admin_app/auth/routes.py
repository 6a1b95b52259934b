"""GET/POST /login and POST /logout."""

import logging

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_fresh, login_user, logout_user
from werkzeug.exceptions import TooManyRequests

from admin_app.auth import bp, throttle
from admin_app.auth.forms import LoginForm
from admin_app.auth.redirects import local_or
from admin_app.auth.session import current_actor, end_session, start_session
from admin_app.extensions import limiter
from admin_app.security_log import security_event
from admin_app.services import authentication


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    throttle.login_rate_limit, methods=["POST"], on_breach=throttle.log_rate_limit_breach
)
@limiter.limit(
    throttle.login_rate_limit,
    methods=["POST"],
    key_func=throttle.username_key,
    on_breach=throttle.log_rate_limit_breach,
)
def login():
    default_target = url_for("admin.index")
    if current_user.is_authenticated and login_fresh():
        return redirect(default_target)
    form = LoginForm(next=request.args.get("next", ""))
    status = 200
    if session.pop("idle_expired", False):
        flash(_("Your session expired after a period of inactivity. Please log in again."), "info")
    if session.pop("lifetime_expired", False):
        flash(_("Your session reached its longest allowed time. Please log in again."), "info")
    if form.validate_on_submit():
        username = form.username.data
        if not throttle.take_attempt(username):
            security_event(
                "login_throttled", by="lockout", username=throttle.normalise_username(username)
            )
            raise TooManyRequests(retry_after=throttle.retry_after(username))
        result = authentication.authenticate(username, form.password.data, client=current_actor())
        if result.user is not None:
            throttle.clear_attempts(username)
            locale = session.get("locale")
            session.clear()  # no session fixation: a fresh session for the new login
            if locale:
                session["locale"] = locale
            login_user(result.user, remember=form.remember.data)
            start_session()
            security_event("login_succeeded", level=logging.INFO)
            return redirect(local_or(form.next.data, default_target))
        security_event(
            "login_failed",
            reason=result.reason,
            username=throttle.normalise_username(result.logged_username),
        )
        flash(_("Invalid username or password."), "danger")
        status = 401
    elif request.method == "POST":
        flash(_("Invalid username or password."), "danger")
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    language = str(get_locale())  # the login page that follows stays in it
    if current_user.is_authenticated:
        authentication.logout(current_user._get_current_object(), client=current_actor())
        security_event("logout", level=logging.INFO)
        logout_user()
    end_session(language)
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))
