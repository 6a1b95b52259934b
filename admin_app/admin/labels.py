"""Display labels for stored codes (status, segment, action), translated per request."""

from flask_babel import lazy_gettext as _l

from admin_app.services.actions import ACTIONS, ActionGroup, OperationAction, actions_in

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
# The status actions' labels, from the one registry of actions.
ACTION_LABELS = {code: ACTIONS[OperationAction(code)].label
                 for code in actions_in(ActionGroup.STATUS_CHANGE)}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def reason_label(reason) -> str:
    """The reason's label in the page's language (Chinese when a translation is stored)."""
    from flask_babel import get_locale

    locale = get_locale()
    if locale is not None and locale.language == "zh" and getattr(reason, "label_zh", None):
        return reason.label_zh
    return reason.label
