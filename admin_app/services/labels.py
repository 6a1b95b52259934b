"""Display labels for stored codes (status, segment, action), translated per request."""

import re
from typing import Literal

from babel.lists import format_list
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from admin_app.i18n import localized, written_without_spaces
from admin_app.services.actions import ACTIONS, ActionGroup, OperationAction, actions_in
from admin_app.services.authentication import UNKNOWN_ROLE

STATUS_LABELS = {
    "active": _l("Active"),
    "frozen": _l("Frozen"),
    "deactivated": _l("Deactivated"),
}
SEGMENT_LABELS = {
    "retail": _l("Retail"),
    "wholesale": _l("Wholesale"),
    "distributor": _l("Distributor"),
}
# Staff roles, and "system" for what the command line does without a staff user.
ROLE_LABELS = {
    "admin": _l("Administrator"),
    "manager": _l("Manager"),
    "clerk": _l("Clerk"),
    "auditor": _l("Auditor"),
    "system": _l("System"),
}
# The status actions' labels, from the one registry of actions.
ACTION_LABELS = {
    code: ACTIONS[OperationAction(code)].label for code in actions_in(ActionGroup.STATUS_CHANGE)
}

# The operation log's entities and fields (stored as codes; shown in the page's language).
ENTITY_LABELS = {
    "customer": _l("Customer"),
    "order": _l("Order"),
    "reason": _l("Reason"),
    "review_rule": _l("Review rule"),
    "staff_user": _l("Staff user"),
    "api_token": _l("API token"),
}
FIELD_LABELS = {
    "status": _l("Status"),
    "scheduled_status": _l("Scheduled status"),
    "code": _l("Code"),
    "name": _l("Name"),
    "name_zh": _l("Name (Simplified Chinese)"),
    "name_zh_hant": _l("Name (Traditional Chinese)"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "segment": _l("Segment"),
    "credit_limit": _l("Credit limit"),
    "balance": _l("Balance"),
    "contract_end": _l("Contract end"),
    "last_order_at": _l("Last order"),
    "review_kept_until": _l("Keep until"),
    "number": _l("Order number"),
    "customer": _l("Customer"),
    "amount": _l("Amount"),
    "ordered_at": _l("Ordered at"),
    "label": _l("Label (English)"),
    "label_zh": _l("Label (Simplified Chinese)"),
    "label_zh_hant": _l("Label (Traditional Chinese)"),
    "for_deactivate": _l("For deactivation"),
    "for_freeze": _l("For freezing"),
    "for_reactivate": _l("For reactivation"),
    "memo_required": _l("Memo required"),
    "requires_approval": _l("Requires approval"),
    "enabled": _l("Enabled"),
    "position": _l("Position in lists"),
    "inactivity_days": _l("Inactive for (days)"),
    "flag_over_credit": _l("Over credit limit"),
    "contract_ended_days": _l("Contract ended (days ago)"),
    "reason": _l("Reason"),
    "role": _l("Role"),
    "is_active": _l("Enabled"),
    "password": _l("Password"),
    "expires_at": _l("Expires"),
    "revoked_at": _l("Revoked"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def role_label(role: str) -> str:
    if role == UNKNOWN_ROLE:
        return "—"
    return str(ROLE_LABELS.get(role, role))


def customer_status_labels() -> dict[str, str]:
    """Every status's label in the page's language (for a table of many rows)."""
    return {status: str(label) for status, label in STATUS_LABELS.items()}


def reason_label(reason) -> str:
    """The reason's label in the page's language (English when none is stored for it)."""
    return localized(reason, "label")


# A Latin letter or digit just before / after Chinese's list words 和 / 或 (CLDR writes
# "{0}和{1}"), also when the label is markup ending or starting with a tag.
_BEFORE_LIST_WORD = re.compile(r"([0-9A-Za-z](?:</\w+>)*)(?=[和或])")
_AFTER_LIST_WORD = re.compile(r"(?<=[和或])((?:<\w[^>]*>)*[0-9A-Za-z])")


def label_list(labels, style: Literal["standard", "or"] = "standard") -> str:
    """Labels joined as the page's language lists words ("A, B, and C"; "A、B和C"). In
    Chinese a number or Latin word beside 和 / 或 is set off by a space, as the catalogs space
    them ("已冻结：3 和已停用：2", not "3和已停用")."""
    text = format_list([str(label) for label in labels], style=style, locale=get_locale() or "en")
    if not written_without_spaces():
        return text
    return _AFTER_LIST_WORD.sub(r" \1", _BEFORE_LIST_WORD.sub(r"\1 ", text))


def enumeration(items) -> str:
    """Items one after another with the language's separator ("A, B, …"; "A、B、…"): for
    codes, names and lists that go on, where label_list's "and" does not belong."""
    return ("、" if written_without_spaces() else ", ").join(items)


def rule_name(rule) -> str:
    """A review rule's name in the page's language (English when none is stored for it)."""
    return localized(rule, "name")
