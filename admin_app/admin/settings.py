"""Admin-only settings: reasons, review rules (staff users: admin/staff.py)."""

from flask_babel import lazy_gettext as _l

from admin_app.admin.secure import SecureModelView
from admin_app.auth.roles import Permission


class ReasonView(SecureModelView):
    required_permission = Permission.MANAGE_SETTINGS
    column_list = ("code", "label", "label_zh", "for_deactivate", "for_freeze",
                   "for_reactivate", "memo_required", "enabled")
    column_labels = {"code": _l("Code"), "label": _l("Label"), "label_zh": _l("Label (Chinese)"),
                     "for_deactivate": _l("Deactivate"), "for_freeze": _l("Freeze"),
                     "for_reactivate": _l("Reactivate"), "memo_required": _l("Memo required"),
                     "enabled": _l("Enabled")}
    column_default_sort = ("position", False)


class ReviewRuleView(SecureModelView):
    required_permission = Permission.MANAGE_SETTINGS
    column_list = ("name", "segment", "inactivity_days", "flag_over_credit",
                   "contract_ended_days", "reason", "enabled")
    column_labels = {"name": _l("Name"), "segment": _l("Segment"),
                     "inactivity_days": _l("Inactive for (days)"),
                     "flag_over_credit": _l("Over credit limit"),
                     "contract_ended_days": _l("Contract ended (days ago)"),
                     "reason": _l("Reason"), "enabled": _l("Enabled")}
