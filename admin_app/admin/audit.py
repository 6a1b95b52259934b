"""/admin/audit/: the operation log, read-only for everyone."""

from flask_admin.contrib.sqla.filters import DateTimeGreaterFilter, DateTimeSmallerFilter
from flask_babel import lazy_gettext as _l

from admin_app.admin.secure import SecureModelView
from admin_app.auth.roles import Permission
from admin_app.models import AuditOperation


class AuditOperationView(SecureModelView):
    required_permission = Permission.VIEW_AUDIT
    can_export = True
    simple_list_pager = True
    column_list = ("id", "created_at", "actor_username", "actor_role", "action", "reason_code",
                   "changed_count", "skipped_count", "source", "memo")
    column_labels = {"id": "#", "created_at": _l("When (UTC)"), "actor_username": _l("Actor"),
                     "actor_role": _l("Role"), "action": _l("Action"),
                     "reason_code": _l("Reason"), "changed_count": _l("Changed"),
                     "skipped_count": _l("Skipped"), "source": _l("Source"), "memo": _l("Memo")}
    column_default_sort = ("id", True)
    column_sortable_list = ("id", "created_at")
    column_searchable_list = ("memo",)
    column_filters = (
        "actor_username",
        "action",
        "reason_code",
        DateTimeGreaterFilter(AuditOperation.created_at, _l("When (UTC)")),
        DateTimeSmallerFilter(AuditOperation.created_at, _l("When (UTC)")),
    )
    column_details_list = ("id", "created_at", "actor_id", "actor_username", "actor_role",
                           "action", "reason_code", "memo", "scope", "changed_count",
                           "skipped_count", "source", "client_ip", "user_agent", "request_id",
                           "reverts_operation_id", "prev_hash", "hash")
