"""Request-wide wiring: locale, error pages, security headers, health check."""

import base64
import hashlib
import secrets
import time
import uuid
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

from flask import (
    Flask,
    current_app,
    g,
    has_request_context,
    jsonify,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape
from sqlalchemy import text
from werkzeug.datastructures import iter_multi_items
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from admin_app.api.errors import API_PATH_PREFIX
from admin_app.auth.redirects import local_or
from admin_app.auth.session import SIGNED_OUT_LOCALE
from admin_app.extensions import db
from admin_app.i18n import speed_up_babel_lookups, written_without_spaces
from admin_app.security_log import init_security_log, security_event
from admin_app.services.errors import ConfirmationUsed, InvalidInput, NotAllowed, ServiceError
from admin_app.services.transaction import reads_outside_a_transaction
from admin_app.timefmt import (
    date_formatter,
    is_time_zone,
    local_date,
    local_text,
    local_time,
    select_time_zone,
    time_zone_choices,
    time_zone_label,
    times_caption,
    zone_explanation,
)

LANGUAGE_NAMES = {"en": "English", "zh_Hans_CN": "简体中文", "zh_Hant_TW": "繁體中文"}
LANGUAGE_CODES = tuple(LANGUAGE_NAMES)
HTML_LANG = {"en": "en", "zh_Hans_CN": "zh-Hans-CN", "zh_Hant_TW": "zh-Hant-TW"}

ERROR_TITLES = {
    400: _l("Bad request"),
    401: _l("Please log in"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    410: _l("Expired"),
    413: _l("Request too large"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
    503: _l("Busy, try again"),
}
# What a reader is told beside the title where the error itself says nothing more.
ERROR_EXPLANATIONS = {
    404: _l("There is no page at this address, or what it showed no longer exists."),
    405: _l("This address only takes a form sent from its page; it cannot be opened by itself."),
}


# The app.extensions key of the admin view that renders pages outside the menu.
OUTSIDE_MENU = "admin_app.outside_menu"


def select_locale() -> str:
    """The staff user's chosen language, else the browser's, else English (CLI: English)."""
    if not has_request_context():  # the CLI, or a second app built inside another's context
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    if is_api_request():  # no session, no staff user: the client's Accept-Language only
        return browser_locale(request.accept_languages, languages)
    chosen = session.get("locale")
    if isinstance(chosen, str) and chosen in languages:
        return chosen
    user_locale = getattr(current_user, "locale", None) if current_user else None
    if isinstance(user_locale, str) and user_locale in languages:
        return user_locale
    signed_out = session.get(SIGNED_OUT_LOCALE)  # the pages' language before a logout
    if isinstance(signed_out, str) and signed_out in languages:
        return signed_out
    return browser_locale(request.accept_languages, languages)


# Chinese written in these regions is Traditional when the browser names no script.
TRADITIONAL_REGIONS = frozenset({"tw", "hk", "mo"})


def browser_locale(accepted: Iterable[tuple[str, float]], languages=LANGUAGE_CODES) -> str:
    """The first supported language in an Accept-Language list (best quality first):
    zh-TW / zh-HK / zh-MO / zh-Hant(-*) are Traditional, every other zh (zh, zh-CN, zh-SG,
    zh-Hans-*) Simplified, en-* English; nothing supported: English."""
    for value, quality in accepted:
        subtags = value.lower().replace("_", "-").split("-")
        if quality <= 0 or subtags[0] not in ("en", "zh"):
            continue
        locale = "en"
        if subtags[0] == "zh":
            rest = set(subtags[1:])
            traditional = "hant" in rest or ("hans" not in rest and rest & TRADITIONAL_REGIONS)
            locale = "zh_Hant_TW" if traditional else "zh_Hans_CN"
        if locale in languages:
            return locale
    return "en"


def html_lang() -> str:
    """The BCP 47 tag for `<html lang>` (zh-Hant-TW, zh-Hans-CN, en)."""
    return HTML_LANG.get(str(get_locale()), "en")


def sentences(*parts) -> Markup:
    """Sentences one after another as the page's language writes them: a space after an
    English full stop, none after a Chinese one ("。" already ends the sentence)."""
    gap = "" if written_without_spaces() else " "
    return Markup(gap).join(escape(part) for part in parts if part)


def widget_texts() -> dict | None:
    """The words of Flask-Admin's date pickers and search boxes in the page's language
    (static/widgets.js gives them to the libraries, whose own are English: None for English)."""
    locale = get_locale()
    if locale is None or locale.language == "en":
        return None
    days = locale.days["stand-alone"]["narrow"]  # Babel: 0 = Monday
    months = locale.months["format"]["abbreviated"]
    return {
        "apply": _("Apply"),
        "cancel": _("Cancel"),
        "from": _("From"),
        "to": _("To"),
        "daysOfWeek": [days[(index + 6) % 7] for index in range(7)],  # from Sunday
        "monthNames": [months[number] for number in range(1, 13)],
        "firstDay": (locale.first_week_day + 1) % 7,  # 0 = Sunday
        "noMatches": _("No matches found"),
        "inputTooShort": _("Type {num} more characters"),
        "loadingMore": _("Loading more results…"),
        "searching": _("Searching…"),
    }


def init_web(app: Flask, babel) -> None:
    init_security_log(app)
    if app.config.get("TRUSTED_PROXIES"):
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way
            app.wsgi_app, x_for=hops, x_proto=hops
        )
    translations = Path(__file__).parent / "translations"
    speed_up_babel_lookups()
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_time_zone,
        default_translation_directories=str(translations),
    )
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.globals["sentences"] = sentences
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.after_request(_security_headers)
    app.after_request(_add_html_lang)
    if app.config.get("SERVER_TIMING"):
        app.before_request(_start_timer)
        app.after_request(_server_timing)
    app.before_request(_reads_outside_a_transaction)
    app.add_url_rule("/healthz", "healthz", _healthz)
    app.add_url_rule("/", "root", lambda: _redirect_home())
    app.add_url_rule("/locale", "set_locale", _set_locale, methods=["POST"])
    app.add_url_rule("/preferences", "preferences", _preferences, methods=["GET", "POST"])
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.globals["admin_static_url"] = admin_static_url
    app.jinja_env.globals["page_part_key"] = page_part_key
    app.jinja_env.globals["kept_page_part"] = kept_page_part
    app.jinja_env.globals["keep_page_part"] = keep_page_part
    app.jinja_env.globals["time_zone_label"] = time_zone_label
    app.jinja_env.globals["widget_texts"] = widget_texts
    app.jinja_env.globals["times_caption"] = times_caption
    app.jinja_env.globals["zone_explanation"] = zone_explanation
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_text"] = local_text
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.globals["money_formatter"] = money_formatter
    app.jinja_env.globals["date_formatter"] = date_formatter
    app.jinja_env.filters["number"] = format_number


def format_money(value) -> str:
    return _grouped(value or 0, 2)


def money_formatter():
    """format_money with the page's locale looked up once (for the many amounts of a list)."""
    symbols = _number_symbols()

    def format(value) -> str:
        return _grouped(value or 0, 2, symbols)

    return format


def format_number(value) -> str:
    return _grouped(value or 0, 0)


# The locale's group, decimal and minus signs (e.g. ",", ".", "-"), per locale code.
_NUMBER_SYMBOLS: dict[str, tuple[str, str, str]] = {}


def _number_symbols() -> tuple[str, str, str] | None:
    locale = get_locale()
    if locale is None:
        return None
    key = str(locale)
    symbols = _NUMBER_SYMBOLS.get(key)
    if symbols is None:
        from babel import numbers

        symbols = _NUMBER_SYMBOLS[key] = (
            numbers.get_group_symbol(locale),
            numbers.get_decimal_symbol(locale),
            numbers.get_minus_sign_symbol(locale),
        )
    return symbols


def _grouped(value, places: int, symbols: tuple[str, str, str] | None = None) -> str:
    """format_decimal(value, "#,##0" or "#,##0.00") in the page's locale, without Babel's
    pattern machinery on every call (a grid formats two amounts per row): Python groups by
    three and rounds half to even as Babel does; the locale's symbols replace ",", "." and "-"."""
    symbols = symbols or _number_symbols()
    if symbols is None:
        return format_decimal(value, "#,##0.00" if places else "#,##0")
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    text = f"{number:,.{places}f}"
    if symbols != (",", ".", "-"):
        table: dict[str, str | int | None] = {",": symbols[0], ".": symbols[1], "-": symbols[2]}
        text = text.translate(str.maketrans(table))
    return text


def _set_locale():
    """POST /locale: switch the interface language (kept in the session and on the user)."""
    from flask import abort, redirect, url_for
    from flask_login import current_user

    from admin_app.auth.redirects import local_or
    from admin_app.services import preferences

    locale = request.form.get("locale", "")
    if locale not in current_app.config["LANGUAGES"]:
        abort(400, description=_("Unknown language."))
    session["locale"] = locale
    if current_user.is_authenticated:
        preferences.set_locale(current_user.id, locale)
    return redirect(local_or(request.form.get("next"), url_for("admin.index")))


def _preferences():
    """GET/POST /preferences: the signed-in user's time zone (NULL: the app's APP_TIMEZONE)."""
    from flask import abort, flash, redirect

    from admin_app.services import preferences

    if not current_user.is_authenticated:
        abort(401)
    message = None
    status = 200
    typed = current_user.time_zone or ""
    if request.method == "POST":
        typed = (request.form.get("time_zone_other") or request.form.get("time_zone") or "").strip()
        if typed == "default":
            preferences.set_time_zone(current_user.id, None)
            flash(_("Times are shown in the default time zone."), "success")
            return redirect(url_for("preferences"))
        if not is_time_zone(typed):
            message = _(
                "Unknown time zone: %(name)s. Use an IANA name such as Asia/Taipei.", name=typed
            )
            status = 400
        else:
            preferences.set_time_zone(current_user.id, typed)
            flash(_("Times are shown in %(zone)s.", zone=time_zone_label(typed)), "success")
            return redirect(url_for("preferences"))
    current = current_user.time_zone
    context = dict(
        message=message,
        typed=typed,
        choices=time_zone_choices(current),
        current=current,
        default_zone=current_app.config["APP_TIMEZONE"],
    )
    return render_outside_menu("admin/preferences.html", **context), status


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


def render_error(status: int, message: str, reference: str | None = None, **context):
    """The error page: inside the admin layout (menu, user, language switch) for a signed-in
    user, else the plain layout of the login page. A 5xx always gets the plain page: it must
    render even when the database is what failed."""
    title = str(ERROR_TITLES.get(status, _("Error")))
    context.update(status=status, title=title, message=message, reference=reference)
    if status < 500 and current_user and current_user.is_authenticated:
        body = _render_in_admin_layout(context)
        if body is not None:
            return body, status
    return render_template("errors/error.html", **context), status


def render_outside_menu(template: str, **context) -> str:
    """`template` in the admin layout for a page that is no menu item (preferences, error
    pages): the menu shows with no item highlighted (the dashboard's view would light up
    "Dashboard"). The view is admin/__init__.OutsideMenuView."""
    return current_app.extensions[OUTSIDE_MENU].render(template, **context)


def _render_in_admin_layout(context: dict) -> str | None:
    if OUTSIDE_MENU not in current_app.extensions:
        return None
    try:
        return render_outside_menu("errors/admin_error.html", **context)
    except Exception:  # noqa: BLE001 - an error page must not fail; fall back to the plain one
        current_app.logger.exception("the admin error page failed; showing the plain one")
        return None


def is_api_request() -> bool:
    """A request to the JSON API: its errors are JSON, it has no session (admin_app.api)."""
    return has_request_context() and request.path.startswith(API_PATH_PREFIX)


def _http_error(exc: HTTPException):
    if exc.code is None or exc.code < 400:
        return exc
    if is_api_request():
        from admin_app.api.errors import http_error

        return http_error(exc)
    if isinstance(exc, CSRFError):
        return _csrf_error(exc)
    message = (
        (exc.description or "")
        if exc.code in (400, 403, 409, 410)
        else str(ERROR_EXPLANATIONS.get(exc.code) or ERROR_TITLES.get(exc.code, _("Error")))
    )
    if exc.code == 400:
        security_event("validation_failure", reason=exc.description)
    if exc.code == 413:
        message = _("Request too large.")
    if exc.code == 429:
        message = _("Too many attempts, try again later.")
    context = {}
    if exc.code == 405 and request.method == "GET":
        context["restart_url"] = _form_page_of(request.path)
    response, status = render_error(exc.code, message, **context)
    headers = {}
    allowed = getattr(exc, "valid_methods", None)
    if exc.code == 405 and allowed:
        headers["Allow"] = ", ".join(allowed)
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    return response, status, headers


def _form_page_of(path: str) -> str | None:
    """The page of the admin view whose form posts to `path` (GET /admin/api-tokens/create/
    → /admin/api-tokens/): the address a form left in the address bar when it was shown again
    with an error, opened later. None when no admin view takes a POST there."""
    adapter = current_app.create_url_adapter(request)
    if adapter is None:
        return None
    try:
        endpoint, _values = adapter.match(path, method="POST")
    except HTTPException:
        return None
    view_endpoint = endpoint.rpartition(".")[0]
    admins = current_app.extensions.get("admin") or []
    for view in admins[0]._views if admins else ():
        if view.endpoint == view_endpoint and view.is_accessible():
            return url_for(f"{view.endpoint}.{view._default_view}")
    return None


# Flask-WTF's reasons for refusing a form (English only), in the reader's language.
CSRF_REASONS = {
    "The CSRF token is missing.": _l("The CSRF token is missing."),
    "The CSRF session token is missing.": _l("The CSRF session token is missing."),
    "The CSRF token has expired.": _l("The CSRF token has expired."),
    "The CSRF token is invalid.": _l("The CSRF token is invalid."),
    "The CSRF tokens do not match.": _l("The CSRF tokens do not match."),
    "The referrer header is missing.": _l("The referrer header is missing."),
    "The referrer does not match the host.": _l("The referrer does not match the host."),
}


def _csrf_error(exc: CSRFError):
    """400 with Flask-WTF's reason, logged, and a way back to where the user can start again."""
    user = current_user if current_user.is_authenticated else None
    security_event("csrf_failure", reason=exc.description, user_id=user.id if user else None)
    restart_url = local_or(request.form.get("url"), url_for("admin.index"))
    return render_error(
        400,
        str(CSRF_REASONS.get(exc.description, exc.description)),
        restart_url=restart_url,
        hint=_(
            "Nothing was changed. The form was too old or not sent from this site; "
            "open the page again and repeat the step."
        ),
    )


def _service_error(exc: ServiceError):
    if is_api_request():
        from admin_app.api.errors import service_error

        return service_error(exc)
    current_app.logger.info("refused %s: %s", type(exc).__name__, exc.message)
    if isinstance(exc, InvalidInput):
        security_event("validation_failure", reason=exc.message)
    elif isinstance(exc, ConfirmationUsed):
        security_event("confirmation_replayed", operation_id=exc.operation_id)
    elif isinstance(exc, NotAllowed):
        security_event("access_denied", reason=exc.message)
    response, status = render_error(exc.http_status, exc.message)
    retry_after = getattr(exc, "retry_after_seconds", None)
    if retry_after:
        return response, status, {"Retry-After": str(retry_after)}
    return response, status


def _unexpected_error(exc: Exception):
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    if is_api_request():
        from admin_app.api.errors import unexpected_error

        return unexpected_error(exc)
    reference = uuid.uuid4().hex[:8]
    db.session.rollback()
    current_app.logger.exception("unexpected error, reference %s", reference)
    return render_error(
        500,
        _("The operation failed; nothing was changed. Reference: %(ref)s", ref=reference),
        reference,
    )


# -- response headers ------------------------------------------------------------------------


def csp_nonce() -> str:
    """This request's CSP nonce (Flask-Admin puts it on every <script> and <link> it renders)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def inline_handler_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


def allow_inline_handlers(app: Flask, sources: Iterable[str]) -> None:
    """Allow these exact inline event handlers (e.g. Flask-Admin's `onclick="return
    modelActions.execute('freeze');"`) through the CSP, by hash ('unsafe-hashes')."""
    hashes = {inline_handler_hash(source) for source in sources}
    app.config["CSP_HANDLER_HASHES"] = tuple(
        sorted(set(app.config.get("CSP_HANDLER_HASHES", ())) | hashes)
    )


def content_security_policy(nonce: str, handler_hashes: Iterable[str] = ()) -> str:
    script_src = ["'self'", f"'nonce-{nonce}'"]
    if handler_hashes:
        script_src += ["'unsafe-hashes'", *handler_hashes]
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(script_src),
        # Bootstrap and Flask-Admin set style attributes; styles cannot run code.
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


# -- fragments of the admin layout rendered once -----------------------------------------------

_FRAGMENTS = "customer_admin.fragments"
_MAX_FRAGMENTS = 1024


# Werkzeug's query encoding (werkzeug.urls._urlencode): the characters it leaves as they are.
_QUERY_SAFE = "!$'()*,/:;?@"


def view_url(endpoint: str, **values) -> str:
    """url_for(endpoint, **values), the same text, for the many links of one page to the same
    address with other query arguments (sort, pager, filters): the path is built once per
    request and endpoint, the query encoded as Werkzeug encodes unknown arguments. An
    endpoint with path variables, defaults or more than one rule, and url_for's own options
    (_external, ...), go to url_for."""
    if not values or any(name.startswith("_") for name in values):
        return url_for(endpoint, **values)
    paths = g.setdefault("_view_paths", {})
    if endpoint not in paths:
        paths[endpoint] = _fixed_path(endpoint)
    path = paths[endpoint]
    if path is None:
        return url_for(endpoint, **values)
    query = urlencode(
        [item for item in iter_multi_items(values) if item[1] is not None], safe=_QUERY_SAFE
    )
    return f"{path}?{query}" if query else path


def _fixed_path(endpoint: str) -> str | None:
    """The one address of `endpoint` when it has no path variables (None otherwise)."""
    name = endpoint
    if name.startswith("."):  # relative to the request's blueprint, as url_for resolves it
        name = f"{request.blueprint}{name}" if request.blueprint else name[1:]
    rules = list(current_app.url_map.iter_rules(name)) if name in current_app.view_functions else []
    if len(rules) != 1 or rules[0].arguments or rules[0].defaults:
        return None
    return url_for(endpoint)


def admin_static_url(admin_endpoint: str, **values) -> str:
    """url_for of one of Flask-Admin's static files, kept per app and script root (the
    address of a file and version never changes while the app runs)."""
    key = ("static-url", request.script_root, admin_endpoint, *sorted(values.items()))
    url = page_fragment(key)
    if url is None:
        url = keep_page_fragment(key, url_for(f"{admin_endpoint}.static", **values))
    return url


def page_fragment(key):
    """A fragment kept by keep_page_fragment (None: render it)."""
    if key is None:
        return None
    return current_app.extensions.get(_FRAGMENTS, {}).get(key)


def keep_page_fragment(key, html):
    """Keep `html` under `key` for this app's later pages; returns it."""
    if key is not None:
        fragments = current_app.extensions.setdefault(_FRAGMENTS, {})
        if len(fragments) >= _MAX_FRAGMENTS:
            fragments.clear()
        fragments[key] = html
    return html


# Where the request's CSP nonce was in a kept fragment (a nonce is URL-safe base64: never this).
_NONCE_HOLE = "\x00nonce\x00"


def page_part_key(admin_view, part: str) -> tuple:
    """The key of a part of an admin page that is the same for every page of this view, role
    and language but for the CSP nonce: its navbar menu (which views the role may open,
    admin_app/roles.py; the page's view highlighted), stylesheet and script tags, the list's
    scripts and filter definitions (each the same HTML as Flask-Admin renders; see
    app_base.html). The address the app is mounted at is part of it."""
    role = current_user.role if current_user.is_authenticated else None
    return ("page-part", part, admin_view.endpoint, role, str(get_locale()), request.script_root)


def kept_page_part(key):
    """A part kept by keep_page_part, with this request's nonce (None: render it)."""
    kept = page_fragment(key)
    return None if kept is None else Markup(kept.replace(_NONCE_HOLE, csp_nonce()))


def keep_page_part(key, html) -> Markup:
    """Keep `html` (rendered with this request's nonce) for later pages; returns it."""
    nonce = csp_nonce()
    if nonce and _NONCE_HOLE not in html:
        keep_page_fragment(key, str(html).replace(nonce, _NONCE_HOLE))
    return Markup(html)


def _reads_outside_a_transaction() -> None:
    """A GET or HEAD reads outside a transaction (transaction.reads_outside_a_transaction);
    static files and unknown addresses (404) never touch the database."""
    endpoint = request.endpoint
    if request.method in ("GET", "HEAD") and endpoint and not endpoint.endswith("static"):
        reads_outside_a_transaction()


def _start_timer() -> None:
    g.request_started = time.perf_counter()


def _server_timing(response):
    started = g.get("request_started")
    if started is not None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = f"app;dur={elapsed_ms:.1f}"
    return response


def _security_headers(response):
    config = current_app.config
    response.headers.setdefault(
        "Content-Security-Policy",
        content_security_policy(csp_nonce(), config.get("CSP_HANDLER_HASHES", ())),
    )
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if config.get("HSTS_SECONDS"):
        response.headers.setdefault(
            "Strict-Transport-Security", f"max-age={config['HSTS_SECONDS']}; includeSubDomains"
        )
    if request.endpoint not in STATIC_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    response.headers.pop("X-Powered-By", None)
    return response


def _add_html_lang(response):
    """Flask-Admin's admin/base.html opens with a bare `<html>` and no block around it: give
    its pages the same `lang` as ours (screen readers, fonts: zh-Hant and zh-Hans differ)."""
    if response.mimetype != "text/html" or response.direct_passthrough or response.is_streamed:
        return response
    head = response.get_data()[:200]
    if b"<html>" in head:
        lang = f'<html lang="{html_lang()}">'.encode()
        response.set_data(head.replace(b"<html>", lang, 1) + response.get_data()[200:])
    return response


STATIC_ENDPOINTS = frozenset({"static", "admin.static"})
