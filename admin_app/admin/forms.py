"""Forms of the admin pages that are not Flask-Admin model forms."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from admin_app.i18n import TranslatedForm
from admin_app.services.input_rules import COMMENT_MAX_LENGTH, MEMO_MAX_LENGTH


class ConfirmStatusChangeForm(TranslatedForm):
    token = HiddenField()
    url = HiddenField()
    reason = SelectField(
        _l("Reason"), validators=[DataRequired(_l("Choose a reason."))], validate_choice=True
    )
    memo = TextAreaField(_l("Memo"), validators=[Length(max=MEMO_MAX_LENGTH)])
    # Optional (services.scheduling reads and checks them): empty = now / never.
    effective_at = StringField(_l("Takes effect"), validators=[Length(max=40)])
    until = StringField(_l("Reactivate automatically on"), validators=[Length(max=40)])


class KeepInReviewForm(TranslatedForm):
    """Keep the checked review candidates out of the queue until a date (row ids are posted
    as repeated `rowid` fields, as in Flask-Admin's action form)."""

    url = HiddenField()
    until = StringField(_l("Keep until"), validators=[DataRequired(_l("Choose a date."))])
    memo = StringField(_l("Memo"), validators=[Length(max=MEMO_MAX_LENGTH)])


class CompleteReviewForm(TranslatedForm):
    url = HiddenField()
    memo = StringField(_l("Memo"), validators=[Length(max=MEMO_MAX_LENGTH)])


def reason_choices(reasons, placeholder: str = "") -> list[tuple]:
    """Choices for a `reason` select: (code, label, attributes). Reasons that require a memo
    say so in their label and carry `data-memo-required` (confirm.js then makes the memo
    required); the service still checks it."""
    from admin_app.services.labels import reason_label

    choices: list[tuple] = [("", placeholder, {})]
    for reason in reasons:
        if reason.memo_required:
            choices.append(
                (
                    reason.code,
                    _("%(label)s · memo required", label=reason_label(reason)),
                    {"data-memo-required": "1"},
                )
            )
        else:
            choices.append((reason.code, reason_label(reason), {}))
    return choices


def show_field_error(form, error) -> bool:
    """Put a service's InvalidInput next to the form field it names; False when it names none
    of this form's fields (the caller then lets it become an error page)."""
    field = getattr(error, "field", None)
    if field is None or field not in form:
        return False
    form[field].errors = [*form[field].errors, error.message]
    return True


class ApprovalDecisionForm(TranslatedForm):
    """A request's decision: `decision` = approve | reject (the two buttons), `comment`
    (required to reject; the service checks it)."""

    decision = HiddenField()
    comment = TextAreaField(_l("Comment"), validators=[Length(max=COMMENT_MAX_LENGTH)])


class CancelApprovalForm(TranslatedForm):
    pass
