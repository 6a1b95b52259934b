"""Display labels for stored codes (status, segment, action), translated per request."""

from flask_babel import lazy_gettext as _l

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
ACTION_LABELS = {
    "deactivate": _l("Deactivate"),
    "freeze": _l("Freeze"),
    "reactivate": _l("Reactivate"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def reason_label(reason) -> str:
    """The reason's label in the page's language (Chinese when a translation is stored)."""
    from flask_babel import get_locale

    locale = get_locale()
    if locale is not None and locale.language == "zh" and getattr(reason, "label_zh", None):
        return reason.label_zh
    return reason.label
