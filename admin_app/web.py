"""Request-wide wiring: locale, error pages, security headers, health check."""

import time
import uuid
from pathlib import Path

from flask import Flask, current_app, g, jsonify, render_template, request, session
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from admin_app.extensions import db
from admin_app.services.errors import ServiceError

ERROR_TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Expired",
    413: "Request too large",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Busy, try again",
}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    user_locale = getattr(current_user, "locale", None) if current_user else None
    if user_locale in languages:
        return user_locale
    best = request.accept_languages.best_match(["en", "zh_Hans_CN", "zh_CN", "zh"])
    return "zh_Hans_CN" if best and best.startswith("zh") else "en"


def init_web(app: Flask, babel) -> None:
    if app.config.get("TRUSTED_PROXIES"):
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    translations = Path(__file__).parent / "translations"
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(translations))
    app.jinja_env.globals["get_locale"] = get_locale
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.after_request(_security_headers)
    if app.config.get("SERVER_TIMING"):
        app.before_request(_start_timer)
        app.after_request(_server_timing)
    app.add_url_rule("/healthz", "healthz", _healthz)
    app.add_url_rule("/", "root", lambda: _redirect_home())


def _redirect_home():
    from flask import redirect, url_for

    return redirect(url_for("admin.index"))


def _healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        current_app.logger.exception("health check failed")
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


def render_error(status: int, message: str, reference: str | None = None):
    title = _(ERROR_TITLES.get(status, "Error"))
    return render_template("errors/error.html", status=status, title=title, message=message,
                           reference=reference), status


def _http_error(exc: HTTPException):
    if exc.code is None or exc.code < 400:
        return exc
    message = exc.description if exc.code in (400, 403, 409, 410) else _(
        ERROR_TITLES.get(exc.code, "Error"))
    if exc.code == 413:
        message = _("Request too large.")
    response, status = render_error(exc.code, message)
    if exc.code == 405 and exc.valid_methods:
        return response, status, {"Allow": ", ".join(exc.valid_methods)}
    return response, status


def _service_error(exc: ServiceError):
    current_app.logger.info("refused %s: %s", type(exc).__name__, exc.message.encode(
        "unicode_escape").decode())
    response, status = render_error(exc.http_status, exc.message)
    if exc.http_status == 503:
        return response, status, {"Retry-After": "2"}
    return response, status


def _unexpected_error(exc: Exception):
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    reference = uuid.uuid4().hex[:8]
    db.session.rollback()
    current_app.logger.exception("unexpected error, reference %s", reference)
    return render_error(
        500, _("The operation failed; nothing was changed. Reference: %(ref)s", ref=reference),
        reference)


def _start_timer() -> None:
    g.request_started = time.perf_counter()


def _server_timing(response):
    started = g.get("request_started")
    if started is not None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = f"app;dur={elapsed_ms:.1f}"
    return response


def _security_headers(response):
    # Flask-Admin's templates use inline event handlers, so scripts need 'unsafe-inline';
    # everything is still limited to this origin and nothing may frame the app.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self' 'unsafe-inline'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    )
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith(("/admin", "/login")) and not request.path.startswith(
        "/admin/static"
    ):
        response.headers["Cache-Control"] = "no-store"
    return response
