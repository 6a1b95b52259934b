"""Admin-only settings: staff users. (Reasons: admin/reasons.py; review rules: admin/rules.py.)"""

from flask_babel import lazy_gettext as _l

from admin_app.admin.secure import SecureModelView
from admin_app.auth.roles import Permission


class StaffView(SecureModelView):
    required_permission = Permission.MANAGE_SETTINGS
    can_view_details = False
    column_list = ("username", "role", "is_active", "last_login_at", "created_at")
    column_labels = {"username": _l("Username"), "role": _l("Role"),
                     "is_active": _l("Active"), "last_login_at": _l("Last login"),
                     "created_at": _l("Created")}
    column_default_sort = ("username", False)
    column_searchable_list = ("username",)
    column_filters = ("role", "is_active")

