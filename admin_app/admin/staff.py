"""/admin/staff/: staff users, for admins only. Create, change role, disable and re-enable,
reset password; every change goes through services.staff (logged, last admin protected)."""

from flask import flash
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from admin_app.admin.secure import AdminForm, SecureModelView
from admin_app.auth.session import current_actor
from admin_app.models import StaffUser
from admin_app.roles import ROLES, Permission, Role
from admin_app.services import staff
from admin_app.services.labels import ROLE_LABELS, role_label

ROLE_CHOICES = [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES]
PASSWORD_RULES = _l(
    "At least 12 and at most 128 characters; not the username; not a common password."
)
NEW_PASSWORD = {"autocomplete": "new-password"}


class StaffCreateForm(AdminForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    # The least powerful role unless chosen: a slip must not create an administrator.
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=Role.CLERK.value)
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired()],
        description=PASSWORD_RULES,
        render_kw=NEW_PASSWORD,
    )


class StaffEditForm(AdminForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    is_active = BooleanField(
        _l("Enabled"),
        description=_l("A disabled user cannot log in; their open sessions end at once."),
    )
    new_password = PasswordField(
        _l("New password"),
        render_kw=NEW_PASSWORD,
        description=_l("Leave empty to keep the current password. %(rules)s", rules=PASSWORD_RULES),
    )
    confirm_disable = BooleanField(
        _l("Yes, disable this user"),
        description=_l("Needed only to disable an active user: tick it to confirm."),
    )


def _format_role(view, context, model, name):
    return role_label(model.role)


class StaffView(SecureModelView):
    required_permission = Permission.MANAGE_SETTINGS
    edit_permission = Permission.MANAGE_SETTINGS
    can_view_details = False
    column_list = (
        "username",
        "role",
        "is_active",
        "last_login_at",
        "failed_login_count",
        "created_at",
    )
    column_labels = {
        "username": _l("Username"),
        "role": _l("Role"),
        "is_active": _l("Enabled"),
        "last_login_at": _l("Last login"),
        "failed_login_count": _l("Failed logins"),
        "created_at": _l("Created"),
    }
    column_formatters = {"role": _format_role}
    column_default_sort = ("username", False)
    column_searchable_list = ("username",)
    column_filters = (
        FilterEqual(
            StaffUser.role, _l("Role"), options=[(role, ROLE_LABELS[role]) for role in ROLES]
        ),
        "is_active",
    )
    column_export_exclude_list = ("password_hash", "session_token")

    def __init__(self, **kwargs):
        super().__init__(StaffUser, **kwargs)

    def get_create_form(self):
        return StaffCreateForm

    def get_edit_form(self):
        return StaffEditForm

    def create_model(self, form):
        return self.create_through_service(
            lambda: staff.create_user(
                form.username.data,
                role=form.role.data,
                password=form.password.data,
                actor=current_actor(),
            ),
            form,
        )

    def saved_message(self, model, *, created: bool) -> str:
        if created:
            return _("Staff user %(name)s created.", name=model.username)
        return _("Staff user %(name)s saved.", name=model.username)

    def update_model(self, form, model):
        if model.is_active and not form.is_active.data and not form.confirm_disable.data:
            # Disabling ends the user's sessions at once: it must be asked for twice.
            form.confirm_disable.errors = [
                _(
                    'Disabling %(name)s ends their sessions at once. Tick "Yes, disable this '
                    'user" and save again to confirm.',
                    name=model.username,
                )
            ]
            flash(form.confirm_disable.errors[0], "warning")
            return False
        return self.update_through_service(
            lambda: staff.update_user(
                model.id,
                role=form.role.data,
                is_active=form.is_active.data,
                new_password=form.new_password.data or None,
                actor=current_actor(),
            ),
            form,
        )
