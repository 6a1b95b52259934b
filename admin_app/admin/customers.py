"""/admin/customers/: the customer grid, details and edit form (never the status)."""

from flask import flash
from flask_admin.contrib.sqla.filters import (
    BaseSQLAFilter,
    DateBetweenFilter,
    DateSmallerFilter,
    DateGreaterFilter,
    DateTimeGreaterFilter,
    DateTimeSmallerFilter,
    FilterEqual,
)
from flask_babel import format_decimal, lazy_gettext as _l
from markupsafe import Markup
from wtforms import HiddenField, SelectField

from admin_app.admin.labels import SEGMENT_LABELS, STATUS_LABELS
from admin_app.admin.secure import SecureModelView, badge
from admin_app.auth.roles import Permission
from admin_app.auth.session import current_actor
from admin_app.models import SEGMENTS, Customer, CustomerStatus
from admin_app.services import customers as customer_service
from admin_app.services.errors import ServiceError

STATUS_BADGES = {"active": "success", "frozen": "info", "deactivated": "secondary"}


def status_badge(status: str) -> Markup:
    return badge(STATUS_LABELS.get(status, status), STATUS_BADGES.get(status, "light"))


class OverCreditFilter(BaseSQLAFilter):
    def apply(self, query, value, alias=None):
        over = Customer.balance > Customer.credit_limit
        return query.filter(over if value == "1" else ~over)

    def operation(self):
        return _l("is")


def _format_status(view, context, model, name):
    return status_badge(model.status)


def _format_money_pair(view, context, model, name):
    text = f"{format_decimal(model.balance, '#,##0.00')} / {format_decimal(model.credit_limit, '#,##0.00')}"
    if model.is_over_credit:
        return Markup('<span class="text-danger font-weight-bold" title="{}">{}</span>').format(
            _l("Over credit limit"), text)
    return text


def _format_segment(view, context, model, name):
    return SEGMENT_LABELS.get(model.segment, model.segment)


class CustomerView(SecureModelView):
    required_permission = Permission.VIEW_CUSTOMERS
    edit_permission = Permission.EDIT_CUSTOMERS
    can_export = True

    column_list = ("code", "name", "segment", "status", "balance", "last_order_at",
                   "contract_end")
    column_labels = {
        "code": _l("Code"), "name": _l("Name"), "email": _l("Email"), "phone": _l("Phone"),
        "segment": _l("Segment"), "status": _l("Status"), "balance": _l("Balance / credit limit"),
        "credit_limit": _l("Credit limit"), "last_order_at": _l("Last order"),
        "contract_end": _l("Contract end"), "status_reason": _l("Status reason"),
        "status_changed_at": _l("Status changed"), "created_at": _l("Created"),
        "updated_at": _l("Updated"),
    }
    column_sortable_list = ("code", "name", "segment", "status", "balance", "last_order_at",
                            "contract_end")
    column_default_sort = ("code", False)
    column_searchable_list = ("code", "name", "email")
    column_details_list = ("code", "name", "email", "phone", "segment", "status",
                           "status_reason", "status_changed_at", "balance", "credit_limit",
                           "contract_end", "last_order_at", "created_at", "updated_at")
    column_export_list = ("code", "name", "email", "phone", "segment", "status",
                          "balance", "credit_limit", "contract_end", "last_order_at")
    column_formatters = {
        "status": _format_status,
        "balance": _format_money_pair,
        "segment": _format_segment,
    }
    column_filters = (
        FilterEqual(Customer.status, _l("Status"),
                    options=[(s.value, STATUS_LABELS[s]) for s in CustomerStatus]),
        FilterEqual(Customer.segment, _l("Segment"),
                    options=[(s, SEGMENT_LABELS[s]) for s in SEGMENTS]),
        DateTimeSmallerFilter(Customer.last_order_at, _l("Last order")),
        DateTimeGreaterFilter(Customer.last_order_at, _l("Last order")),
        DateSmallerFilter(Customer.contract_end, _l("Contract end")),
        DateGreaterFilter(Customer.contract_end, _l("Contract end")),
        DateBetweenFilter(Customer.contract_end, _l("Contract end")),
        OverCreditFilter(Customer.balance, _l("Over credit limit"),
                         options=[("1", _l("Yes")), ("0", _l("No"))]),
    )
    named_filter_urls = True

    form_columns = (*customer_service.EDITABLE_FIELDS, "version")
    form_overrides = {"segment": SelectField}
    form_args = {"segment": {"choices": [(s, SEGMENT_LABELS[s]) for s in SEGMENTS]}}
    form_extra_fields = {"version": HiddenField()}

    details_template = "admin/customers/details.html"

    def __init__(self, **kwargs):
        super().__init__(Customer, **kwargs)

    def render(self, template, **kwargs):
        # The customer's history is part of the operation log: only for those who may see it.
        from admin_app.services import history

        if template == self.details_template and self.can(Permission.VIEW_AUDIT):
            kwargs["history"] = history.customer_history(kwargs["model"].id)
        return super().render(template, **kwargs)

    def on_form_prefill(self, form, id):
        form.version.data = self.get_one(id).version

    def create_model(self, form):
        try:
            new_id = customer_service.create_customer(self._form_changes(form),
                                                      actor=current_actor())
        except ServiceError as exc:
            flash(exc.message, "error")
            return False
        return self.get_one(str(new_id))

    def update_model(self, form, model):
        version = form.version.data
        try:
            changed = customer_service.update_details(
                model.id,
                self._form_changes(form),
                expected_version=int(version) if str(version).isdigit() else None,
                actor=current_actor(),
            )
        except ServiceError as exc:
            flash(exc.message, "error")
            return False
        if not changed:
            flash(_l("Nothing changed."), "info")
        return True

    def _form_changes(self, form) -> dict:
        return {name: form[name].data for name in customer_service.EDITABLE_FIELDS
                if name in form}
