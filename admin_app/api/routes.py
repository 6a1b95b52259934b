"""/api/v1/ endpoints: thin — authenticate, parse, ask services.status_api, serialise."""

import json
import math
import re
import time

from flask import current_app, g, render_template, request
from flask_babel import gettext as _
from flask_smorest import Blueprint
from limits import parse as parse_limit
from markupsafe import Markup, escape
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser

from admin_app.api.errors import ApiError
from admin_app.api.schemas import (
    CheckRequestSchema,
    CheckResponseSchema,
    CustomerStatusSchema,
    ErrorSchema,
    FeedQuerySchema,
    FeedResponseSchema,
)
from admin_app.extensions import limiter
from admin_app.services import api_tokens, status_api
from admin_app.services.status_api import CHECK_MAX_CODES, CODE_MAX_LENGTH


class ApiParser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400  # invalid input is a 400 here, as every other API error
    # An unknown query parameter (a misspelt `after`) is an error, not silently ignored.
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": RAISE,
        "querystring": RAISE,
    }


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = ApiParser()


bp = ApiBlueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Customer status and status changes (read-only).",
)


def _unauthorized(presented: bool) -> ApiError:
    # RFC 6750: no error code when no credentials were sent at all.
    challenge = 'Bearer realm="api"' + (', error="invalid_token"' if presented else "")
    return ApiError(
        401,
        "unauthorized",
        _('A valid API token is required: send "Authorization: Bearer <token>".'),
        headers={"WWW-Authenticate": challenge},
    )


@bp.before_request
def authenticate():
    """Every endpoint needs a valid token; then the token's rate limit is taken."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    token_id = api_tokens.authenticate(token.strip()) if scheme.lower() == "bearer" else None
    if token_id is None:
        raise _unauthorized(presented=bool(header))
    g.api_token_id = token_id
    _take_rate_limit(token_id)


def _take_rate_limit(token_id: int) -> None:
    config = current_app.config
    if not (config.get("RATELIMIT_ENABLED", True) and limiter.enabled):
        return
    item = parse_limit(config["API_RATE_LIMIT"])
    keys = (config.get("RATELIMIT_KEY_PREFIX", ""), "api-token", str(token_id))
    if not limiter.limiter.hit(item, *keys):
        reset_at, _remaining = limiter.limiter.get_window_stats(item, *keys)
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise ApiError(
            429,
            "rate_limited",
            _("Too many requests for this token; try again in %(seconds)s s.", seconds=retry_after),
            headers={"Retry-After": str(retry_after)},
        )


ERRORS = {
    400: "Invalid input (JSON error with `errors`).",
    401: "Missing, invalid, revoked or expired token.",
    429: "Rate limit of the token reached; see Retry-After.",
}


def _document_errors(*statuses):
    def decorate(view):
        for status in statuses:
            view = bp.alt_response(status, schema=ErrorSchema, description=ERRORS.get(status, ""))(
                view
            )
        return view

    return decorate


@bp.route("/customers/<code>", methods=["GET"])
@bp.response(200, CustomerStatusSchema)
@bp.alt_response(404, schema=ErrorSchema, description="No customer has this code.")
@_document_errors(400, 401, 429)
def get_customer(code: str):
    """One customer's status: may this customer trade?

    `can_trade` is true only for an active customer. Codes are matched exactly."""
    if len(code) > CODE_MAX_LENGTH:
        raise ApiError(
            400,
            "invalid_input",
            _("A customer code has at most %(max)s characters.", max=CODE_MAX_LENGTH),
        )
    state = status_api.customer_state(code)
    if state is None:
        raise ApiError(404, "not_found", _("No customer has the code %(code)s.", code=code))
    return _json(_state_json(state))


@bp.route("/customers/check", methods=["POST"])
@bp.arguments(CheckRequestSchema)
@bp.response(200, CheckResponseSchema)
@bp.alt_response(413, schema=ErrorSchema, description="More than 1,000 codes.")
@_document_errors(401, 429)
def check_customers(body: dict):
    """Many customers at once: one result per code (unknown codes: `found` false)."""
    codes = body["codes"]
    if len(codes) > CHECK_MAX_CODES:
        raise ApiError(
            413,
            "too_large",
            _(
                "At most %(max)s codes per request; %(n)s were sent.",
                max=CHECK_MAX_CODES,
                n=len(codes),
            ),
        )
    found = status_api.customer_states(codes)
    return _json(
        {
            "results": [
                {"code": code, "found": False}
                if state is None
                else {"found": True, **_state_json(state)}
                for code, state in ((code, found.get(code)) for code in codes)
            ]
        }
    )


# The three endpoints build their JSON here rather than through the marshmallow schemas
# (which document them, and which tests/test_status_api.py loads every answer with): dumping
# 1,000 nested objects through marshmallow took longer than the query. Keys stay in this order.


def _json(payload: dict):
    """Every value is already JSON (str, int, bool, None, dict, list): the C encoder as is."""
    return current_app.response_class(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n",
        mimetype="application/json",
    )


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _state_json(row) -> dict:
    code, name, status, reason_code, reason_label, changed_at, pending, due_at = row
    reason = {"code": reason_code, "label": reason_label or reason_code} if reason_code else None
    return {
        "code": code,
        "name": name,
        "status": status,
        "can_trade": status_api.can_trade(status),
        "status_reason": reason,
        "status_changed_at": _iso(changed_at),
        # The next pending scheduled change (services.scheduling), or null.
        "pending_change": {"action": pending, "due_at": _iso(due_at)} if pending else None,
    }


def _change_json(row) -> dict:
    cursor, customer_code, old, new, operation_id, action, reason_code, changed_at = row
    return {
        "cursor": cursor,
        "customer_code": customer_code,
        "from": old,
        "to": new,
        "operation_id": operation_id,
        "action": action,
        "reason_code": reason_code,
        "changed_at": _iso(changed_at),
    }


@bp.route("/status-changes", methods=["GET"])
@bp.arguments(FeedQuerySchema, location="query")
@bp.response(200, FeedResponseSchema)
@_document_errors(401, 429)
def status_changes(query: dict):
    """Status changes in log order, after the cursor `after`.

    Store `next` and pass it as `after` next time: you miss nothing and see nothing twice."""
    changes = status_api.status_changes(query["after"], query["limit"])
    return _json(
        {
            "items": [_change_json(change) for change in changes],
            "next": changes[-1].cursor if changes else query["after"],
        }
    )


def docs_page():
    """/api/v1/docs: a readable page of the OpenAPI document, rendered here (no external
    scripts or styles); public like the document itself."""
    spec = current_app.extensions["status_api"].spec.to_dict()
    return render_template(
        "api/docs.html", spec=spec, response_text=_response_text(spec), type_name=_type_name
    )


_CODE_SPAN = re.compile(r"`([^`]+)`")


def code_spans(text) -> Markup:
    """The `code` spans of the API's descriptions (Markdown) as <code>, the rest escaped."""
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", str(escape(text or ""))))


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _response_text(spec: dict):
    """A response's description, through its `$ref` to the shared responses when it has one."""
    shared = spec.get("components", {}).get("responses", {})

    def text(response: dict) -> str:
        if "$ref" in response:
            response = shared.get(_ref_name(response["$ref"]), {})
        return response.get("description") or ""

    return text


def _type_name(definition: dict) -> str:
    """A schema property's type in a word: its type, the schema it refers to, or the first of
    its alternatives (a nullable reference is `anyOf` the schema and null)."""
    if "$ref" in definition:
        return _ref_name(definition["$ref"])
    if definition.get("type") == "array" and isinstance(definition.get("items"), dict):
        return f"array of {_type_name(definition['items'])}"
    if definition.get("type"):
        return definition["type"]
    for choice in definition.get("anyOf") or definition.get("allOf") or ():
        if choice.get("$ref") or choice.get("type"):
            return _type_name(choice)
    return ""
