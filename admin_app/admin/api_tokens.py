"""/admin/api-tokens/: list, create (the token is shown once) and revoke API tokens; admins
only (Permission.MANAGE_API_TOKENS). Every change goes through services.api_tokens."""

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from admin_app.admin.secure import AdminForm, SecureBaseView
from admin_app.auth.session import current_actor
from admin_app.models.types import utcnow
from admin_app.roles import Permission
from admin_app.services import api_tokens
from admin_app.services.errors import ServiceError

STATE_LABELS = {"active": _l("Active"), "revoked": _l("Revoked"), "expired": _l("Expired")}


class CreateTokenForm(AdminForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=api_tokens.NAME_MAX_LENGTH)],
        description=_l("Which system uses it, e.g. shop or invoicing. Unique."),
    )
    expires_days = IntegerField(
        _l("Expires after (days)"),
        validators=[Optional(), NumberRange(min=1, max=api_tokens.MAX_EXPIRES_DAYS)],
        description=_l("Empty: never expires (revoke it when it is no longer used)."),
    )


class RevokeTokenForm(AdminForm):
    name = HiddenField(validators=[DataRequired()])


class ApiTokenView(SecureBaseView):
    required_permission = Permission.MANAGE_API_TOKENS

    def _list(self, form: CreateTokenForm, created=None, status: int = 200):
        now = utcnow()
        tokens = [(row, row.state(now)) for row in api_tokens.list_tokens()]
        return self.render(
            "admin/api_tokens/list.html",
            tokens=tokens,
            form=form,
            created=created,
            state_labels=STATE_LABELS,
            revoke_form=RevokeTokenForm(),
        ), status

    @expose("/")
    def index(self):
        return self._list(CreateTokenForm(formdata=None))

    @expose("/create/", methods=("POST",))
    def create_view(self):
        form = CreateTokenForm()
        if not form.validate():
            return self._list(form, status=422)
        try:
            created = api_tokens.create_token(
                form.name.data, expires_days=form.expires_days.data, actor=current_actor()
            )
        except ServiceError as exc:
            form.name.errors = [*form.name.errors, exc.message]
            return self._list(form, status=422)
        # Shown in this response only (no redirect, no flash, not stored): "Cache-Control:
        # no-store" keeps it out of caches.
        return self._list(CreateTokenForm(formdata=None), created=created)

    @expose("/revoke/", methods=("GET", "POST"))
    def revoke_view(self):
        if request.method == "GET":
            name = request.args.get("name", "")
            token = next((row for row in api_tokens.list_tokens() if row.name == name), None)
            if token is None or token.revoked_at is not None:
                flash(_("No active API token is named %(name)s.", name=name), "error")
                return redirect(url_for(".index"))
            return self.render(
                "admin/api_tokens/revoke_confirm.html", token=token, form=RevokeTokenForm(name=name)
            )
        form = RevokeTokenForm()
        if not form.validate():
            flash(_("Choose the token to revoke."), "error")
            return redirect(url_for(".index"))
        try:
            operation_id = api_tokens.revoke_token(form.name.data, actor=current_actor())
        except ServiceError as exc:
            flash(exc.message, "error")
            return redirect(url_for(".index"))
        flash(
            _(
                "Revoked the API token %(name)s (operation #%(id)s). It is refused from now on.",
                name=form.name.data,
                id=operation_id,
            ),
            "success",
        )
        return redirect(url_for(".index"))
