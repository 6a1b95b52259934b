"""/admin/orders/: the order list."""

from flask_admin.contrib.sqla.filters import (
    DateTimeGreaterFilter,
    DateTimeSmallerFilter,
    FloatGreaterFilter,
    FloatSmallerFilter,
)
from flask_babel import lazy_gettext as _l

from admin_app.admin.secure import SecureModelView
from admin_app.auth.roles import Permission
from admin_app.models import Order


class OrderView(SecureModelView):
    required_permission = Permission.VIEW_CUSTOMERS
    can_export = True
    column_list = ("number", "customer", "amount", "ordered_at")
    column_labels = {"number": _l("Order number"), "customer": _l("Customer"),
                     "amount": _l("Amount"), "ordered_at": _l("Ordered at")}
    column_default_sort = ("ordered_at", True)
    column_sortable_list = ("number", "amount", "ordered_at")
    column_searchable_list = ("number",)
    column_filters = (
        DateTimeGreaterFilter(Order.ordered_at, _l("Ordered at")),
        DateTimeSmallerFilter(Order.ordered_at, _l("Ordered at")),
        FloatGreaterFilter(Order.amount, _l("Amount")),
        FloatSmallerFilter(Order.amount, _l("Amount")),
    )
