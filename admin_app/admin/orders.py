"""/admin/orders/: the order list, and the order form (clerk and up) that places orders
through services.orders, offering only active customers."""

from flask import flash
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.filters import (
    DateTimeGreaterFilter,
    DateTimeSmallerFilter,
    FilterEqual,
    FloatGreaterFilter,
    FloatSmallerFilter,
)
from flask_admin.model.ajax import DEFAULT_PAGE_SIZE
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_
from wtforms.validators import InputRequired

from admin_app.admin.customers import status_badge
from admin_app.admin.secure import SecureModelView
from admin_app.auth.session import current_actor
from admin_app.extensions import db
from admin_app.models import Customer, CustomerStatus, Order
from admin_app.roles import Permission
from admin_app.services import operation_text
from admin_app.services import orders as order_service
from admin_app.services.input_rules import escape_like, parse_id
from admin_app.services.labels import status_label
from admin_app.web import format_money

MAX_LOOKUP_RESULTS = 50
MAX_TERM_LENGTH = 100


BLOCKED_PREFIX = "blocked:"


class ActiveCustomerLoader(QueryAjaxModelLoader):
    """The order form's customer search, by code prefix or name.

    Code is matched as a prefix and name anywhere in it; results are ordered by code and
    capped, so a search stays cheap with 100,000 customers. Bad offsets, limits and ids are
    clamped or ignored rather than reaching the database. A frozen or deactivated customer is
    listed too, so it does not look missing, but as a blocked entry: its id is
    "blocked:<id>" (orders.js refuses to select it, and the form, which looks ids up with
    get_one, can never take it) and its label says its status and reason."""

    def __init__(self, name: str = "customer"):
        super().__init__(name, db, Customer, fields=("code", "name"))

    def format(self, model):
        if model is None:
            return None
        if model.status != CustomerStatus.ACTIVE.value:
            reason = operation_text.reason_labels().get(
                model.status_reason or "", model.status_reason
            )
            label = _(
                "%(code)s %(name)s — %(status)s: %(reason)s (cannot order)",
                code=model.code,
                name=model.name,
                status=status_label(model.status),
                reason=reason or _("no reason recorded"),
            )
            return f"{BLOCKED_PREFIX}{model.id}", label
        if model.is_over_credit:
            return model.id, _(
                "%(code)s — %(name)s (over credit limit)", code=model.code, name=model.name
            )
        return model.id, f"{model.code} — {model.name}"

    def get_one(self, pk):
        customer_id = parse_id(str(pk or ""))
        return None if customer_id is None else db.session.get(Customer, customer_id)

    def get_list(self, term, offset=0, limit=DEFAULT_PAGE_SIZE):
        term = (term or "").strip()[:MAX_TERM_LENGTH]
        offset = max(offset or 0, 0)
        limit = min(max(limit or DEFAULT_PAGE_SIZE, 1), MAX_LOOKUP_RESULTS)
        query = db.session.query(Customer)
        if term:
            escaped = escape_like(term)
            query = query.filter(
                or_(
                    Customer.code.ilike(f"{escaped}%", escape="\\"),
                    Customer.name.ilike(f"%{escaped}%", escape="\\"),
                )
            )
        return query.order_by(Customer.code).offset(offset).limit(limit).all()


def _format_customer_status(view, context, model, name):
    return status_badge(model.customer.status)


def _format_amount(view, context, model, name):
    return format_decimal(model.amount, "#,##0.00")


class OrderView(SecureModelView):
    required_permission = Permission.VIEW_CUSTOMERS
    edit_permission = Permission.EDIT_CUSTOMERS
    can_export = True
    column_list = ("number", "customer", "customer.status", "amount", "ordered_at")
    column_labels = {
        "number": _l("Order number"),
        "customer": _l("Customer"),
        "customer.status": _l("Customer status"),
        "customer.code": _l("Customer code"),
        "amount": _l("Amount"),
        "ordered_at": _l("Ordered at"),
        "created_at": _l("Recorded at"),
    }
    column_formatters = {"customer.status": _format_customer_status, "amount": _format_amount}
    column_formatters_export = {
        "customer.status": lambda view, context, model, name: model.customer.status,
        "amount": lambda view, context, model, name: model.amount,
    }
    column_default_sort = ("ordered_at", True)
    column_sortable_list = ("number", "amount", "ordered_at")
    column_searchable_list = ("number",)
    column_filters = (
        FilterEqual(Customer.code, _l("Customer code")),
        DateTimeGreaterFilter(Order.ordered_at, _l("Ordered at")),
        DateTimeSmallerFilter(Order.ordered_at, _l("Ordered at")),
        FloatGreaterFilter(Order.amount, _l("Amount")),
        FloatSmallerFilter(Order.amount, _l("Amount")),
    )
    named_filter_urls = True

    form_columns = ("customer", "amount")
    form_ajax_refs = {"customer": ActiveCustomerLoader()}
    form_args = {
        "customer": {
            "label": _l("Customer (only active customers can order)"),
            "validators": [InputRequired()],
        },
        "amount": {"label": _l("Amount"), "validators": [InputRequired()], "default": None},
    }
    form_widget_args = {
        "customer": {"data-placeholder": _l("Search active customers by code or name…")},
    }

    # Orders are placed, never edited: there is no service for changing one.
    can_edit = False
    refusal_status = True
    extra_js = ["/static/orders.js"]

    def __init__(self, model=Order, **kwargs):
        super().__init__(model, **kwargs)

    def record_name(self, model) -> str:
        return model.number

    def create_model(self, form):
        customer = form.customer.data
        placed = self.create_through_service(
            lambda: (
                order_service.place_order(customer.id, form.amount.data, actor=current_actor()).id
            ),
            form,
        )
        if placed is False:
            return False
        db.session.refresh(customer)
        if customer.is_over_credit:  # a warning, not a refusal: the order is placed
            flash(
                _(
                    "Customer %(code)s is over its credit limit (balance %(balance)s, limit "
                    "%(limit)s).",
                    code=customer.code,
                    balance=format_money(customer.balance),
                    limit=format_money(customer.credit_limit),
                ),
                "warning",
            )
        return placed
