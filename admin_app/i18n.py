"""Data labels per language: a reason's label and a review rule's name are stored in English
(required) and optionally in each Chinese variant; pages show the one of the page's language,
else English."""

from pathlib import Path
from types import SimpleNamespace

import flask_babel
from flask.globals import _cv_app
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


# Flask-Babel's own lookup, kept to compare with ours (tests/test_i18n.py).
flask_babel_context = flask_babel._get_current_context


def _babel_context() -> SimpleNamespace | None:
    """Flask-Babel's per-request state (`g._flask_babel`), read from Flask's context variable
    in one step; None outside an app context, as Flask-Babel's own lookup answers."""
    app_context = _cv_app.get(None)
    if app_context is None:
        return None
    app_globals = app_context.g
    try:
        return app_globals._flask_babel
    except AttributeError:
        app_globals._flask_babel = SimpleNamespace()
        return app_globals._flask_babel


def speed_up_babel_lookups() -> None:
    """Give Flask-Babel a faster way to its per-request state (Flask-Babel 4.0).

    Every gettext, get_locale and format_* call finds that state up to three times, each
    time through `g`, a Werkzeug proxy, three times over: about 10 us per gettext, and a list
    page makes a couple of hundred such calls (0.8 ms of a 9 ms log page; issue 19). This
    reads the same object straight from Flask's context variable. Flask-Babel's functions
    look the helper up by name at each call, so replacing it here changes them all; the
    state, force_locale and the selectors are Flask-Babel's, unchanged. A test compares the
    two lookups (tests/test_i18n.py) so that an upgrade that renames either fails there."""
    if flask_babel._get_current_context is not _babel_context:
        flask_babel._get_current_context = _babel_context
