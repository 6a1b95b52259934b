"""The status API under /api/v1/: read-only JSON for the rest of the ERP (sales orders,
invoicing, shop, CRM) with its own bearer tokens (services.api_tokens).

- No session: /api/ requests neither read nor write the session cookie, and never load a
  staff user; exempt from CSRF (nothing here writes, and no cookie authenticates).
- Every error is JSON `{"code", "message"}` (api.errors; web.py routes /api/ errors there).
- Rate limit per token (`API_RATE_LIMIT`, Flask-Limiter's storage), 429 with Retry-After.
- The OpenAPI document at /api/v1/openapi.json is generated from the code by flask-smorest;
  /api/v1/docs renders it as a page (no external assets).
"""

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from flask_smorest import Api

from admin_app.api.errors import API_PATH_PREFIX, ApiError, api_error
from admin_app.api.schemas import ErrorSchema

API_SPEC_DEFAULTS = {
    "API_TITLE": "Customer Admin status API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "info": {
            "description": "Read-only customer status and status-change feed. "
            "Send `Authorization: Bearer <token>`."
        },
        "security": [{"bearerAuth": []}],
    },
}


class StatusApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        """Not flask-smorest's app-wide HTTPException handler: it would answer the admin's
        pages with JSON too. web.py sends /api/ errors to api.errors instead."""


class ApiSessionInterface(SecureCookieSessionInterface):
    """The cookie session, except under /api/: an empty session, never saved (no
    Set-Cookie), so a browser's admin cookie neither authenticates nor changes anything."""

    def open_session(self, app, request):
        if request.path.startswith(API_PATH_PREFIX):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if request.path.startswith(API_PATH_PREFIX):
            return None
        return super().save_session(app, session, response)


def init_api(app: Flask) -> StatusApi:
    from admin_app.api.routes import bp, code_spans, docs_page
    from admin_app.extensions import csrf

    for key, value in API_SPEC_DEFAULTS.items():
        app.config.setdefault(key, value)
    app.session_interface = ApiSessionInterface()
    api = StatusApi(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    csrf.exempt(bp)
    api.register_blueprint(bp)
    app.register_error_handler(ApiError, api_error)
    app.add_url_rule("/api/v1/docs", "api_docs_page", docs_page)
    app.add_template_filter(code_spans, "code_spans")
    app.extensions["status_api"] = api
    return api
