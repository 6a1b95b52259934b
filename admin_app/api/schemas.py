"""The API's request and response shapes (marshmallow): they validate input and generate the
OpenAPI document (flask-smorest / apispec)."""

import marshmallow as ma
from marshmallow import validate

from admin_app.services.status_api import (
    CHECK_MAX_CODES,
    CODE_MAX_LENGTH,
    CURSOR_MAX,
    FEED_DEFAULT_LIMIT,
    FEED_MAX_LIMIT,
)


class ErrorSchema(ma.Schema):
    code = ma.fields.String(
        required=True,
        metadata={
            "description": "Machine-readable error code, e.g. invalid_input, unauthorized, "
            "not_found, too_large, rate_limited."
        },
    )
    message = ma.fields.String(
        required=True, metadata={"description": "What went wrong, in the client's Accept-Language."}
    )
    errors = ma.fields.Dict(metadata={"description": "Invalid input: the fields at fault."})


class ReasonSchema(ma.Schema):
    code = ma.fields.String(required=True)
    label = ma.fields.String(required=True)


def _status_fields(required: bool) -> dict:
    """A customer's status fields; required in a lookup, absent for an unknown code in a
    check."""
    return {
        "code": ma.fields.String(required=True),
        "name": ma.fields.String(required=required),
        "status": ma.fields.String(
            required=required, metadata={"enum": ["active", "frozen", "deactivated"]}
        ),
        "can_trade": ma.fields.Boolean(
            required=required,
            metadata={
                "description": "True only when the status is active: the customer may take orders."
            },
        ),
        "status_reason": ma.fields.Nested(
            ReasonSchema,
            required=required,
            allow_none=True,
            metadata={"description": "Why the status was last changed (null: never changed)."},
        ),
        "status_changed_at": ma.fields.DateTime(
            required=required,
            allow_none=True,
            metadata={"description": "When the status was last changed (ISO 8601, UTC)."},
        ),
        "pending_change": ma.fields.Dict(
            required=required,
            allow_none=True,
            metadata={
                "description": "The next scheduled status change not yet applied: "
                '{"action": "deactivate" | "freeze" | "reactivate", "due_at": ISO 8601 UTC}; '
                "null when none is pending."
            },
        ),
    }


CustomerStatusSchema = ma.Schema.from_dict(_status_fields(True), name="CustomerStatusSchema")
CheckResultSchema = ma.Schema.from_dict(
    {
        "found": ma.fields.Boolean(
            required=True,
            metadata={
                "description": "False for a code no customer has (then only `code` is given)."
            },
        ),
        **_status_fields(False),
    },
    name="CheckResultSchema",
)


class CodeList(ma.fields.List):
    """A list of customer codes, each checked in one pass (a String field per item made a
    1,000-code check spend more time validating than querying). Documented as List[String]."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise self.make_error("invalid")
        problems = {}
        for index, code in enumerate(value):
            if not isinstance(code, str):
                problems[index] = ["Not a valid string."]
            elif not 1 <= len(code) <= CODE_MAX_LENGTH:
                problems[index] = [f"Length must be between 1 and {CODE_MAX_LENGTH}."]
        if problems:
            raise ma.ValidationError(problems)
        return value


class CheckRequestSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    codes = CodeList(
        ma.fields.String(validate=validate.Length(min=1, max=CODE_MAX_LENGTH)),
        required=True,
        validate=validate.Length(min=1),
        metadata={
            "description": f"1 to {CHECK_MAX_CODES} customer codes (more: 413).",
            "maxItems": CHECK_MAX_CODES,
        },
    )


class CheckResponseSchema(ma.Schema):
    results = ma.fields.List(
        ma.fields.Nested(CheckResultSchema),
        required=True,
        metadata={"description": "One result per code asked for, in the same order."},
    )


class FeedQuerySchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    after = ma.fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=CURSOR_MAX),
        metadata={
            "description": "The cursor: the last `cursor` seen (0 or absent: from the start)."
        },
    )
    limit = ma.fields.Integer(
        load_default=FEED_DEFAULT_LIMIT, validate=validate.Range(min=1, max=FEED_MAX_LIMIT)
    )


class StatusChangeSchema(ma.Schema):
    cursor = ma.fields.Integer(
        required=True,
        metadata={"description": "The change's position in the log (its entry id); increasing."},
    )
    customer_code = ma.fields.String(required=True)
    from_status = ma.fields.String(data_key="from", allow_none=True, attribute="old_status")
    to_status = ma.fields.String(data_key="to", allow_none=True, attribute="new_status")
    operation_id = ma.fields.Integer(required=True)
    action = ma.fields.String(
        required=True, metadata={"description": "deactivate, freeze, reactivate or revert."}
    )
    reason_code = ma.fields.String(allow_none=True)
    changed_at = ma.fields.DateTime(required=True, metadata={"description": "ISO 8601, UTC."})


class FeedResponseSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(StatusChangeSchema), required=True)
    next = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Pass as `after` in the next call (the last cursor of this page, or "
            "the same `after` when the page is empty)."
        },
    )
