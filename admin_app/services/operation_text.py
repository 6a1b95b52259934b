"""Operations and their entries in words, for people: labels instead of stored codes.

Read-only. Everything here turns what the log stores (action, reason and status codes, field
and entity names, the scope's JSON) into text in the request's language; the stored values stay
what they are (they are hashed). Returns plain strings: templates escape them, so a customer
name with markup shows as text.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl

from flask import g, has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import AuditOperation, Customer, Reason, ReviewRule
from admin_app.services import labels
from admin_app.services.actions import ActionGroup, OperationAction, action_group, action_label
from admin_app.services.api_tokens import NEVER_EXPIRES
from admin_app.services.authentication import UNKNOWN_USERNAME
from admin_app.services.labels import (
    SEGMENT_LABELS,
    enumeration,
    reason_label,
    role_label,
    status_label,
)
from admin_app.services.staff import PASSWORD_CHANGED
from admin_app.timefmt import local_text

SCOPE_NAMES_SHOWN = 5
TIME_FORMAT = "yyyy-MM-dd HH:mm:ss"

# The log's sentences use the labels of services/labels.py, a few worded for a sentence.
FIELD_LABELS = {
    **labels.FIELD_LABELS,
    "status_reason": _l("Status reason"),
    "review_kept_until": _l("Kept out of review until"),
    "username": _l("Username"),
    "label": _l("Label"),
    "label_zh": _l("Chinese label"),
}
LOGIN_OUTCOMES = {
    "ok": "",
    "unknown_user": _l("Unknown username"),
    "bad_password": _l("Wrong password"),
    "inactive": _l("Account disabled"),
}
SOURCE_LABELS = {"web": _l("Web"), "cli": _l("Command line"), "api": _l("API")}
# Grid query parameters that are not a filter the user chose.
_NOT_FILTERS = {"page", "page_size", "sort", "desc", "url"}


def log_time(value) -> str:
    """The one format of timestamps in the log's pages (UTC unless a time zone is chosen)."""
    return local_text(value, TIME_FORMAT)


def source_label(source: str) -> str:
    return str(SOURCE_LABELS.get(source, source))


def actor_name(operation: AuditOperation) -> str:
    """Who, as shown. A failed login with an unknown username logged before usernames were
    hashed holds what was typed (often a password): it shows as the marker new rows store.
    The stored row is not changed (it is hashed); its CSV export still carries it."""
    if operation.actor_username == UNKNOWN_USERNAME or (
        operation.action == OperationAction.LOGIN_FAILED.value
        and _scope(operation).get("outcome") == "unknown_user"
    ):
        return _("(unknown user)")
    return operation.actor_username


def field_label(field: str) -> str:
    return str(FIELD_LABELS.get(field, field))


def entity_label(entity: str) -> str:
    return str(labels.ENTITY_LABELS.get(entity, entity))


def reason_labels(codes: Iterable[str | None] = ()) -> dict[str, str]:
    """Every reason code's label in the request's language (the reasons table is small: read
    once per request); a code not in the table maps to itself."""
    labels = g.get("_reason_labels") if has_app_context() else None
    if labels is None:
        labels = {reason.code: reason_label(reason) for reason in db.session.execute(_REASONS)}
        if has_app_context():
            g._reason_labels = labels
    return {**{code: code for code in codes if code}, **labels}


# reason_labels' statement, built once (every log page reads it).
_REASONS = select(Reason.code, Reason.label, Reason.label_zh, Reason.label_zh_hant)


def value_label(field: str, value: str | None, reasons: dict[str, str] | None = None) -> str:
    """A logged value as shown: statuses, reasons, segments and roles by their labels."""
    if value is None or value == "":
        return "—"
    if field in ("status", "scheduled_status"):
        return status_label(value)
    if field == "status_reason":
        return (reasons or reason_labels([value])).get(value, value)
    if field == "segment":
        return str(SEGMENT_LABELS.get(value, value))
    if field == "role":
        return role_label(value)
    if field in YES_NO_FIELDS:
        return _("Yes") if value.lower() in ("true", "1") else _("No")
    if field == "reason":  # a review rule's reason, by code
        return (reasons or reason_labels([value])).get(value, value)
    if field == "password" and value == PASSWORD_CHANGED:
        return _("(changed)")
    if field in TIME_FIELDS:
        return _time_value(value)
    return value


# Logged fields whose values are true / false, and those logged as ISO 8601 times.
YES_NO_FIELDS = frozenset(
    {
        "is_active",
        "enabled",
        "for_deactivate",
        "for_freeze",
        "for_reactivate",
        "memo_required",
        "requires_approval",
        "flag_over_credit",
    }
)
TIME_FIELDS = frozenset({"ordered_at", "last_order_at", "expires_at", "revoked_at"})


def _time_value(value: str) -> str:
    """A logged time in the reader's zone and language ("never": a token that does not
    expire); anything else as it was logged."""
    if value == NEVER_EXPIRES:
        return _("Never")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return local_text(moment)


@dataclass(frozen=True)
class EntryView:
    """One entry as a person reads it; `code`, `field` and the raw values stay for titles."""

    id: int
    entity: str
    entity_name: str
    entity_id: int | None
    code: str
    name: str
    field: str
    field_name: str
    old_value: str | None
    new_value: str | None
    old_text: str
    new_text: str


def describe_entries(entries: list) -> list[EntryView]:
    """`entries` (rows with id, entity, entity_id, entity_label, field, old_value, new_value)
    with labels, and each customer's name (one query for the page)."""
    customer_ids = {
        row.entity_id for row in entries if row.entity == "customer" and row.entity_id is not None
    }
    names = (
        dict(
            db.session.execute(
                select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids))
            ).all()
        )
        if customer_ids
        else {}
    )
    reasons = reason_labels(
        value
        for row in entries
        if row.field == "status_reason"
        for value in (row.old_value, row.new_value)
    )
    rules = _rule_names({row.entity_id for row in entries if row.entity == "review_rule"})

    def name_of(row) -> str:
        """The record's name as the reader reads it today (a rule's and a reason's in their
        language; the log keeps the code or English name it had)."""
        if row.entity == "customer":
            return names.get(row.entity_id, "")
        if row.entity == "reason":
            return reasons.get(row.entity_label, "")
        if row.entity == "review_rule":
            return rules.get(row.entity_id, "")
        return ""

    return [
        EntryView(
            id=row.id,
            entity=row.entity,
            entity_name=entity_label(row.entity),
            entity_id=row.entity_id,
            code=row.entity_label,
            name=name_of(row),
            field=row.field,
            field_name=field_label(row.field),
            old_value=row.old_value,
            new_value=row.new_value,
            old_text=value_label(row.field, row.old_value, reasons),
            new_text=value_label(row.field, row.new_value, reasons),
        )
        for row in entries
    ]


def _rule_names(rule_ids: set) -> dict[int, str]:
    """Review rules' names in the reader's language, by id (one query)."""
    rule_ids.discard(None)
    if not rule_ids:
        return {}
    rows = db.session.execute(select(ReviewRule).where(ReviewRule.id.in_(rule_ids))).scalars()
    return {rule.id: labels.rule_name(rule) for rule in rows}


def _scope(operation: AuditOperation) -> dict:
    try:
        scope = json.loads(operation.scope or "{}")
    except ValueError:
        return {}
    return scope if isinstance(scope, dict) else {}


def _customer_names(ids: list[int]) -> str:
    """`C000006 Pearl Textiles, C000008 …` for the first few of `ids`."""
    shown = ids[:SCOPE_NAMES_SHOWN]
    rows = dict(
        (row.id, f"{row.code} {row.name}")
        for row in db.session.execute(
            select(Customer.id, Customer.code, Customer.name).where(Customer.id.in_(shown))
        )
    )
    names = [rows[customer_id] for customer_id in shown if customer_id in rows]
    if len(ids) > len(shown):
        names.append("…")
    return enumeration(names)


def _filter_words(query_string: str) -> str:
    """The grid's filter in words: `status Frozen, search “lotus”`."""
    if not isinstance(query_string, str):
        return ""
    words = []
    for name, value in parse_qsl(query_string):
        if name in _NOT_FILTERS or not value:
            continue
        if name == "status":
            words.append(_("status %(status)s", status=status_label(value)))
        elif name == "search":
            words.append(_("search “%(text)s”", text=value))
        elif name.startswith("flt"):
            words.append(_filter_phrase(name.split("_", 1)[-1], value))
    return enumeration(words)


# The customer grid's filters as its links name them (`flt0_segment_equals`: the column, then
# Flask-Admin's operation), in words; a filter not known here is shown as it is named.
_FILTER_COLUMNS = {
    "status": _l("Status"),
    "segment": _l("Segment"),
    "last_order": _l("Last order"),
    "contract_end": _l("Contract end"),
    "over_credit_limit": _l("Over credit limit"),
    "scheduled": _l("Scheduled"),
}
_FILTER_OPERATIONS = {
    "equals": _l("equals"),
    "smaller_than": _l("smaller than"),
    "greater_than": _l("greater than"),
    "between": _l("between"),
    "is": _l("is"),
}


def _filter_phrase(argument: str, value: str) -> str:
    """`segment_equals` = `retail` as "Segment equals “Retail”"."""
    for operation, operation_label in _FILTER_OPERATIONS.items():
        column = argument.removesuffix("_" + operation)
        if column != argument and column in _FILTER_COLUMNS:
            if column in ("over_credit_limit", "scheduled"):  # yes / no filters: "1" or "0"
                value = _("Yes") if value == "1" else _("No")
            elif operation == "between":  # Flask-Admin's "2026-01-01 to 2026-01-31"
                value = value.replace(" to ", " – ")
            else:
                value = value_label(column, value)
            words = f"{_FILTER_COLUMNS[column]} {operation_label}"
            return _("%(filter)s “%(value)s”", filter=words, value=value)
    return _("%(filter)s “%(value)s”", filter=argument.replace("_", " "), value=value)


def describe_scope(operation: AuditOperation) -> str:
    """What the operation applied to, in a sentence; "" when there is nothing to add."""
    scope = _scope(operation)
    group = action_group(operation.action)
    if operation.reverts_operation_id is not None:
        return _("Revert of operation #%(id)d", id=operation.reverts_operation_id)
    if group is ActionGroup.STATUS_CHANGE and scope.get("mode") == "scheduled":
        if ends_a_period(operation):
            return _(
                "Reactivated automatically on the date set by operation %(ids)s (%(when)s)",
                ids=enumeration(f"#{value}" for value in scope["ends"]),
                when=_scope_time(scope.get("due_at")),
            )
        return _(
            "Scheduled change due %(when)s (scheduled by operation %(ids)s)",
            when=_scope_time(scope.get("due_at")),
            ids=enumeration(f"#{value}" for value in scope.get("scheduled_by", [])),
        )
    if operation.action == OperationAction.SCHEDULE_CREATED.value:
        return _schedule_words(scope, operation.changed_count)
    if operation.action == OperationAction.SCHEDULE_CANCELLED.value:
        return ngettext(
            "%(num)d scheduled change cancelled",
            "%(num)d scheduled changes cancelled",
            scope.get("count", operation.changed_count),
        )
    if group is ActionGroup.STATUS_CHANGE:
        count = (
            scope.get("selected")
            or scope.get("count")
            or (operation.changed_count + operation.skipped_count)
        )
        if scope.get("mode") == "filter":
            words = _filter_words(scope.get("filter", ""))
            if not words:
                return ngettext("All %(num)d customer", "All %(num)d customers", count)
            return ngettext(
                "All %(num)d customer matching: %(filter)s",
                "All %(num)d customers matching: %(filter)s",
                count,
                filter=words,
            )
        ids = [value for value in scope.get("ids", []) if isinstance(value, int)]
        if ids:
            return ngettext(
                "%(num)d selected customer: %(names)s",
                "%(num)d selected customers: %(names)s",
                count,
                names=_customer_names(ids),
            )
        return ngettext("%(num)d selected customer", "%(num)d selected customers", count)
    if operation.action == "review_keep":
        return ngettext(
            "%(num)d customer kept out of review until %(day)s",
            "%(num)d customers kept out of review until %(day)s",
            scope.get("count", operation.changed_count),
            day=str(scope.get("until", ""))[:10],
        )
    if operation.action == "review_complete":
        return ngettext(
            "%(num)d candidate at the time of the review",
            "%(num)d candidates at the time of the review",
            scope.get("candidates", 0),
        )
    if operation.action == "seed_demo":
        return _(
            "%(customers)s demo customers, %(orders)s orders",
            customers=scope.get("customers", 0),
            orders=scope.get("orders", 0),
        )
    if group is ActionGroup.SIGN_IN:
        return str(LOGIN_OUTCOMES.get(scope.get("outcome", ""), ""))
    if group is ActionGroup.APPROVAL:
        return _approval_words(operation.action, scope)
    return ""


def _approval_words(action: str, scope: dict) -> str:
    request_id = scope.get("approval_request", 0)
    if action == OperationAction.APPROVAL_REQUESTED.value:
        return ngettext(
            "Request #%(id)s: %(action)s %(num)d customer",
            "Request #%(id)s: %(action)s %(num)d customers",
            scope.get("customers", 0),
            id=request_id,
            action=action_label(str(scope.get("status_action", ""))),
        )
    if scope.get("operation"):
        return _(
            "Request #%(id)s by %(name)s; status change: operation #%(operation)s",
            id=request_id,
            name=scope.get("requested_by_name", ""),
            operation=scope.get("operation"),
        )
    return _("Request #%(id)s by %(name)s", id=request_id, name=scope.get("requested_by_name", ""))


def _scope_time(value) -> str:
    """A UTC time stored in a scope (ISO 8601), in the log's format and the user's zone."""
    from datetime import datetime

    try:
        return log_time(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return str(value or "")


def _schedule_words(scope: dict, count: int) -> str:
    action = action_label(str(scope.get("action", "")))
    text = ngettext(
        "%(action)s %(num)d customer on %(when)s",
        "%(action)s %(num)d customers on %(when)s",
        scope.get("count", count),
        action=action,
        when=_scope_time(scope.get("due_at")),
    )
    if scope.get("until"):
        text += _(", reactivate on %(when)s", when=_scope_time(scope.get("until")))
    if scope.get("after_operation"):
        text += _(" (after operation #%(id)d)", id=scope["after_operation"])
    return text


@dataclass(frozen=True)
class OperationSummary:
    """An operation's headline fields as shown in the log's pages."""

    action: str
    reason: str  # the label; "" without a reason
    reason_code: str
    scope: str
    when: str
    role: str
    actor: str


# What the scope of a reactivation that ends a period holds (scheduling writes "ends": [ids]);
# looked for as text first, here and in SQL (history.customer_history), before any JSON parsing.
ENDS_A_PERIOD_MARK = '"ends":'


def ends_a_period(operation) -> bool:
    """A reactivation the schedule runner made because a freeze or deactivation confirmed
    "until" a date reached it: its reason is the one that change was made for."""
    return (
        operation.action == OperationAction.REACTIVATE.value
        and ENDS_A_PERIOD_MARK in (operation.scope or "")
        and bool(_scope(operation).get("ends"))
    )


def reason_text(code: str | None, reasons: dict[str, str], *, period_ended: bool = False) -> str:
    """An operation's reason as read: its label; after an automatic reactivation, that the
    period set for this reason ended ("Period ended · Overdue payment")."""
    if not code:
        return ""
    label = reasons.get(code, code)
    return _("Period ended · %(reason)s", reason=label) if period_ended else label


def operation_reason(operation, reasons: dict[str, str]) -> str:
    """The reason of an operation (or of a history item, which carries its operation's action,
    reason and scope) as read."""
    return reason_text(operation.reason_code, reasons, period_ended=ends_a_period(operation))


def summarise(operation: AuditOperation, reasons: dict[str, str] | None = None) -> OperationSummary:
    if reasons is None:
        reasons = reason_labels([operation.reason_code])
    code = operation.reason_code or ""
    return OperationSummary(
        action=action_label(operation.action),
        reason=operation_reason(operation, reasons),
        reason_code=code,
        scope=describe_scope(operation),
        when=log_time(operation.created_at),
        role=role_label(operation.actor_role),
        actor=actor_name(operation),
    )


@dataclass(frozen=True)
class HistoryRow:
    """One change in a customer's history as shown on its page."""

    item: object  # services.history.HistoryItem, for the operation id, actor and memo
    when: str
    role: str
    action: str
    reason: str
    reason_code: str
    field_name: str
    old_text: str
    new_text: str


def describe_history(items: list) -> list[HistoryRow]:
    reasons = reason_labels()
    return [
        HistoryRow(
            item=item,
            when=log_time(item.created_at),
            role=role_label(item.actor_role),
            action=action_label(item.action),
            reason=operation_reason(item, reasons),
            reason_code=item.reason_code or "",
            field_name=field_label(item.field),
            old_text=value_label(item.field, item.old_value, reasons),
            new_text=value_label(item.field, item.new_value, reasons),
        )
        for item in items
    ]
