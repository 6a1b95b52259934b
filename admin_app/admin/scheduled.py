"""/admin/scheduled/: pending scheduled status changes, their filters and bulk cancel; and the
Cancel button of a customer's page (POST /admin/scheduled/cancel/). Cancelling goes through
services.scheduling (logged, permission change_status)."""

from flask import flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, DateTimeBetweenFilter, FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from admin_app.admin.secure import SecureModelView, deny
from admin_app.auth.redirects import local_or
from admin_app.auth.session import current_actor
from admin_app.models import Customer, ScheduledChange, StatusAction
from admin_app.roles import Permission
from admin_app.services import scheduling
from admin_app.services.input_rules import parse_id
from admin_app.services.labels import ACTION_LABELS
from admin_app.timefmt import local_time


class CustomerCodeFilter(BaseSQLAFilter):
    """Changes of the customer with this code (the unique index on customers.code)."""

    def apply(self, query, value, alias=None):
        return query.filter(
            ScheduledChange.customer_id.in_(
                select(Customer.id).where(Customer.code == value.strip())
            )
        )

    def operation(self):
        return _l("equals")


def _format_customer(view, context, model, name):
    customer = model.customer
    return Markup('<a href="{}">{}</a> {}').format(
        view.get_url("customers.details_view", id=customer.id), customer.code, customer.name
    )


def _format_action(view, context, model, name):
    return ACTION_LABELS.get(model.action, model.action)


def _format_reason(view, context, model, name):
    from admin_app.services import operation_text

    return operation_text.reason_labels().get(model.reason_code, model.reason_code)


class ScheduledChangeView(SecureModelView):
    required_permission = Permission.VIEW_CUSTOMERS
    can_view_details = False
    column_display_actions = False  # no details or edit page: no icons, no empty column
    can_export = False
    list_template = "admin/scheduled/list.html"
    column_list = ("customer_id", "action", "due_at", "reason_code", "memo", "created_at")
    column_labels = {
        "customer_id": _l("Customer"),
        "action": _l("Action"),
        "due_at": _l("Due"),
        "reason_code": _l("Reason"),
        "memo": _l("Memo"),
        "created_at": _l("Scheduled at"),
    }
    column_sortable_list = ("due_at", "action", "created_at")
    column_default_sort = [("due_at", False), ("id", False)]
    column_formatters = {
        "customer_id": _format_customer,
        "action": _format_action,
        "reason_code": _format_reason,
        "due_at": lambda view, context, model, name: local_time(model.due_at, "short"),
        "created_at": lambda view, context, model, name: local_time(model.created_at, "short"),
    }
    # Each filter is on an index: (status, action, due_at), (status, due_at), customers.code.
    column_filters = (
        FilterEqual(
            ScheduledChange.action,
            _l("Action"),
            options=[(a.value, ACTION_LABELS[a.value]) for a in StatusAction],
        ),
        DateTimeBetweenFilter(ScheduledChange.due_at, _l("Due")),
        CustomerCodeFilter(ScheduledChange.customer_id, _l("Customer code")),
    )
    named_filter_urls = True

    def __init__(self, **kwargs):
        super().__init__(ScheduledChange, **kwargs)

    def get_query(self):
        return (
            super()
            .get_query()
            .filter(ScheduledChange.status == scheduling.PENDING)
            .options(joinedload(ScheduledChange.customer))
        )

    def get_count_query(self):
        return super().get_count_query().filter(ScheduledChange.status == scheduling.PENDING)

    def is_action_allowed(self, name: str) -> bool:
        if name == "cancel" and not self.can(Permission.CHANGE_STATUS):
            return False
        return super().is_action_allowed(name)

    def action_denied_message(self, name: str):
        return _("You are not allowed to change customer status.")

    @action(
        "cancel",
        _l("Cancel the scheduled change"),
        _l("Cancel the selected scheduled changes?"),
    )
    def action_cancel(self, ids):
        change_ids = [number for number in (parse_id(i) for i in ids) if number is not None]
        cancelled = scheduling.cancel(change_ids, actor=current_actor())
        flash(_cancelled_message(cancelled), "success")
        return redirect(self.get_url(".index_view"), code=303)

    @expose("/cancel/", methods=("POST",))
    def cancel_view(self):
        """The Cancel button of a customer's page: one pending change, then back."""
        if not self.can(Permission.CHANGE_STATUS):
            return deny(_("You are not allowed to change customer status."))
        change_id = parse_id(request.form.get("change_id"))
        cancelled = scheduling.cancel([change_id] if change_id else [], actor=current_actor())
        flash(_cancelled_message(cancelled), "success" if cancelled else "info")
        return redirect(local_or(request.form.get("url"), self.get_url(".index_view")), code=303)


def _cancelled_message(count: int) -> str:
    if not count:
        return _("Nothing to cancel: the change is no longer pending.")
    return ngettext(
        "Cancelled %(num)d scheduled change.", "Cancelled %(num)d scheduled changes.", count
    )
