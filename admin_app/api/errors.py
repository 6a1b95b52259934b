"""JSON errors for everything under /api/: `{"code": ..., "message": ...}` (plus `errors`
with the fields at fault for invalid input). web.py's error handlers send /api/ requests here,
so the HTML error pages never answer an API client."""

import uuid

from flask import current_app, jsonify
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from admin_app.extensions import db
from admin_app.services.errors import ServiceError

API_PATH_PREFIX = "/api/"  # requests under it are API requests: JSON errors, no session

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "busy",
}


class ApiError(Exception):
    """Raised by the API's views and hooks; answered as JSON with this status and code."""

    def __init__(self, status: int, code: str, message: str, *, headers=None, errors=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.errors = errors


def json_error(status: int, code: str, message: str, *, headers=None, errors=None):
    body = {"code": code, "message": str(message)}
    if errors is not None:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _default_message(status: int) -> str:
    messages = {
        400: _("The request is not valid."),
        401: _('A valid API token is required: send "Authorization: Bearer <token>".'),
        403: _("This token may not do this."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        413: _("The request is too large."),
        415: _("Send the request body as application/json."),
        429: _("Too many requests for this token; try again later."),
        500: _("Something went wrong."),
        503: _("Busy, try again."),
    }
    return messages.get(status, _("Error %(status)s.", status=status))


def _describe(messages) -> str:
    """Webargs/marshmallow's error dict as one line: `codes.3: Not a valid string.`"""
    parts = []

    def walk(value, path):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(
                    inner,
                    path
                    if key in ("json", "query", "querystring", "view_args")
                    else [*path, str(key)],
                )
        elif isinstance(value, list | tuple):
            for inner in value:
                walk(inner, path)
        else:
            parts.append(f"{'.'.join(path) or 'body'}: {value}")

    walk(messages, [])
    return "; ".join(parts[:5])


def http_error(exc: HTTPException):
    status = exc.code or 500
    headers = {}
    allowed = getattr(exc, "valid_methods", None)
    if status == 405 and allowed:
        headers["Allow"] = ", ".join(allowed)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if status == 400 and messages:
        return json_error(
            400,
            "invalid_input",
            _("The request is not valid: %(details)s", details=_describe(messages)),
            errors=messages,
            headers=headers,
        )
    return json_error(
        status, ERROR_CODES.get(status, "error"), _default_message(status), headers=headers
    )


def api_error(exc: ApiError):
    return json_error(exc.status, exc.code, exc.message, headers=exc.headers, errors=exc.errors)


def service_error(exc: ServiceError):
    status = exc.http_status
    headers = {"Retry-After": "2"} if status == 503 else {}
    return json_error(status, ERROR_CODES.get(status, "error"), exc.message, headers=headers)


def unexpected_error(exc: Exception):
    reference = uuid.uuid4().hex[:8]
    db.session.rollback()
    current_app.logger.exception("unexpected API error, reference %s", reference)
    return json_error(
        500, "internal_error", _("Something went wrong. Reference: %(ref)s", ref=reference)
    )
