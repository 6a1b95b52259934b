"""Data labels per language: a reason's label and a review rule's name are stored in English
(required) and optionally in each Chinese variant; pages show the one of the page's language,
else English."""

from flask_babel import get_locale

# The column suffix holding each locale's text (label -> label_zh, label_zh_hant).
LABEL_SUFFIXES = {"zh_Hans_CN": "_zh", "zh_Hant_TW": "_zh_hant"}


def localized(obj, field: str, locale=None) -> str:
    """`obj.<field>` in `locale` (default: the request's), falling back to English."""
    locale = locale if locale is not None else get_locale()
    suffix = LABEL_SUFFIXES.get(str(locale)) if locale is not None else None
    text = getattr(obj, field + suffix, None) if suffix else None
    return text or getattr(obj, field)
