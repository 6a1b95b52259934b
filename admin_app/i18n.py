"""Data labels per language: a reason's label and a review rule's name are stored in English
(required) and optionally in each Chinese variant; pages show the one of the page's language,
else English."""

from pathlib import Path

from flask_babel import Domain, get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path

# The column suffix holding each locale's text (label -> label_zh, label_zh_hant).
LABEL_SUFFIXES = {"zh_Hans_CN": "_zh", "zh_Hant_TW": "_zh_hant"}


def localized(obj, field: str, locale=None) -> str:
    """`obj.<field>` in `locale` (default: the request's), falling back to English."""
    locale = locale if locale is not None else get_locale()
    suffix = LABEL_SUFFIXES.get(str(locale)) if locale is not None else None
    text = getattr(obj, field + suffix, None) if suffix else None
    return text or getattr(obj, field)


def written_without_spaces(locale=None) -> bool:
    """True for the page's Chinese: sentences follow "。" with no space, and items of a list
    are separated by "、" (English: a space, and ", ")."""
    locale = locale if locale is not None else get_locale()
    return str(locale or "en").startswith("zh")


# WTForms' messages ("This field is required."): its bundled catalogs first, then ours, which
# win (flask_babel merges directories in order). Ours add zh_Hant_TW: gettext would otherwise
# fall back from zh_Hant_TW to WTForms' "zh", which is Simplified.
TRANSLATIONS = str(Path(__file__).resolve().parent / "translations")
wtforms_domain = Domain([messages_path(), TRANSLATIONS], domain="wtforms")


class WTFormsTranslations:
    """WTForms' translations object (Meta.get_translations) for our forms."""

    def gettext(self, string: str) -> str:
        return wtforms_domain.get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return wtforms_domain.get_translations().ungettext(singular, plural, n)


class TranslatedForm(FlaskForm):
    """FlaskForm whose built-in validation messages follow the page's language."""

    class Meta:
        def get_translations(self, form):
            return WTFormsTranslations()
