"""/admin/reasons/ (admins): reasons for status changes. Created and edited through
services.reasons; never deleted (only disabled), and the page says so."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup

from admin_app.admin.secure import SecureModelView
from admin_app.auth.session import current_actor
from admin_app.models import Reason
from admin_app.roles import Permission
from admin_app.services import approvals
from admin_app.services import reasons as reason_service
from admin_app.services.labels import FIELD_LABELS, label_list, reason_label


def _usage_counts(usage) -> tuple[str, str, str]:
    return (
        ngettext("%(num)d operation", "%(num)d operations", usage.operations),
        ngettext("%(num)d customer", "%(num)d customers", usage.customers),
        ngettext("%(num)d review rule", "%(num)d review rules", usage.rules),
    )


def usage_text(usage) -> str:
    """What refers to a reason, in words: "1 operation, 2 customers and 0 review rules" (the
    list's "Used by" column and the edit page say it the same way)."""
    return label_list(_usage_counts(usage))


def _format_usage(view, context, model, name):
    usage = (context.get("reason_usage") or {}).get(model.code)
    if usage is None or not usage.in_use:
        return Markup('<span class="text-muted">{}</span>').format(_("not used"))
    # A count keeps its measure word on its line ("50 位客戶"); the list wraps between them.
    counts = [Markup('<span class="text-nowrap">{}</span>').format(c) for c in _usage_counts(usage)]
    return Markup('<span class="reason-usage" data-code="{}">{}</span>').format(
        model.code,
        Markup(label_list(counts)),  # the list's words are plain text
    )


class ReasonView(SecureModelView):
    required_permission = Permission.MANAGE_SETTINGS
    edit_permission = Permission.MANAGE_SETTINGS
    can_view_details = False
    list_template = "admin/reasons/list.html"
    create_template = "admin/reasons/create.html"
    edit_template = "admin/reasons/edit.html"
    column_list = (
        "code",
        "label",
        "label_zh",
        "label_zh_hant",
        "for_deactivate",
        "for_freeze",
        "for_reactivate",
        "memo_required",
        "requires_approval",
        "enabled",
        "usage",
    )
    column_labels = {
        **{name: FIELD_LABELS[name] for name in reason_service.CREATE_FIELDS},
        "usage": _l("Used by"),
    }
    column_descriptions = {
        "usage": _l(
            "Operations, customers (current status reason) and review rules that "
            "refer to this reason. A reason is never deleted; disable it instead."
        ),
    }
    column_formatters = {"usage": _format_usage}
    column_default_sort = ("position", False)
    column_sortable_list = ("code", "label", "enabled")
    form_columns = reason_service.CREATE_FIELDS
    form_args = {
        "code": {"description": _l("Lowercase letters, digits and _; fixed once created.")},
        "label_zh": {"description": _l("Optional; empty: the English label is shown.")},
        "label_zh_hant": {"description": _l("Optional; empty: the English label is shown.")},
        "enabled": {
            "description": _l("Only enabled reasons are offered on the confirmation page.")
        },
        "requires_approval": {
            "description": _l(
                "A status change with this reason waits for a second person's approval, "
                "whatever its size."
            )
        },
    }

    def __init__(self, model=Reason, **kwargs):
        super().__init__(model, **kwargs)

    def record_name(self, model) -> str:
        return reason_label(model)

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        del form["code"]  # the log and customers refer to reasons by code
        return form

    def render(self, template, **kwargs):
        if template in (self.list_template, self.edit_template):
            kwargs["reason_usage"] = reason_service.usage()
            kwargs["usage_text"] = usage_text
        if template == self.list_template:
            kwargs["policy"] = approvals.policy()
        return super().render(template, **kwargs)

    def create_model(self, form):
        fields = {name: form[name].data for name in reason_service.CREATE_FIELDS if name in form}
        return self.create_through_service(
            lambda: reason_service.create_reason(fields, actor=current_actor()), form
        )

    def update_model(self, form, model):
        changes = {name: form[name].data for name in reason_service.EDITABLE_FIELDS if name in form}
        return self.update_through_service(
            lambda: reason_service.update_reason(model.id, changes, actor=current_actor()), form
        )
