"""Forms of the admin pages that are not Flask-Admin model forms."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from admin_app.i18n import TranslatedForm
from admin_app.services.status_change import MEMO_MAX_LENGTH


class ConfirmStatusChangeForm(TranslatedForm):
    token = HiddenField()
    url = HiddenField()
    reason = SelectField(_l("Reason"), validators=[DataRequired(_l("Choose a reason."))],
                         validate_choice=True)
    memo = TextAreaField(_l("Memo"), validators=[Length(max=MEMO_MAX_LENGTH)])


class KeepInReviewForm(TranslatedForm):
    """Keep the checked review candidates out of the queue until a date (row ids are posted
    as repeated `rowid` fields, as in Flask-Admin's action form)."""

    url = HiddenField()
    until = StringField(_l("Keep until"), validators=[DataRequired(_l("Choose a date."))])
    memo = StringField(_l("Memo"), validators=[Length(max=MEMO_MAX_LENGTH)])


class CompleteReviewForm(TranslatedForm):
    url = HiddenField()
    memo = StringField(_l("Memo"), validators=[Length(max=MEMO_MAX_LENGTH)])
