"""GET/POST /login and POST /logout."""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_fresh, login_user, logout_user

from admin_app.auth import bp
from admin_app.auth.forms import LoginForm
from admin_app.auth.redirects import local_or
from admin_app.auth.session import current_actor
from admin_app.extensions import limiter
from admin_app.services import authentication


def _login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _username_key() -> str:
    return "login-user:" + (request.form.get("username") or "").strip().lower()[:64]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
@limiter.limit(_login_rate_limit, methods=["POST"], key_func=_username_key)
def login():
    default_target = url_for("admin.index")
    if current_user.is_authenticated and login_fresh():
        return redirect(default_target)
    form = LoginForm(next=request.args.get("next", ""))
    status = 200
    if session.pop("idle_expired", False):
        flash(_("Your session expired after a period of inactivity. Please log in again."),
              "info")
    if form.validate_on_submit():
        result = authentication.authenticate(
            form.username.data,
            form.password.data,
            client=current_actor(),
            lockout_threshold=current_app.config["LOGIN_LOCKOUT_THRESHOLD"],
            lockout_duration=current_app.config["LOGIN_LOCKOUT_DURATION"],
        )
        if result.user is not None:
            locale = session.get("locale")
            session.clear()  # no session fixation: a fresh session for the new login
            if locale:
                session["locale"] = locale
            login_user(result.user, remember=form.remember.data)
            return redirect(local_or(form.next.data, default_target))
        if result.locked:
            flash(_("Too many failed attempts. Try again later."), "danger")
            status = 429
        else:
            flash(_("Invalid username or password."), "danger")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        authentication.logout(current_user._get_current_object(), client=current_actor())
        logout_user()
    session.clear()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))
