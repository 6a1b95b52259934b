"""/admin/customers/: the customer grid, details and edit form (never the status directly).

The view is put together from its parts: grid.py (columns, filters, formatters, status tabs
and counts, the edit form), status_flow.py (the bulk status flow: action POST → confirmation
page → confirm POST), details.py (history, orders and scheduled changes on the details page),
and admin/select_by_list.py (the select-by-list page)."""

from admin_app.admin.customers.details import CustomerDetailsMixin
from admin_app.admin.customers.grid import (
    _CustomerGrid,
    _format_money_pair,
    _format_segment,
    status_badge,
)
from admin_app.admin.customers.status_flow import (
    StatusChangeMixin,
    done_message,
    skip_messages,
    warning_messages,
)
from admin_app.admin.select_by_list import SelectByListMixin

__all__ = [
    "CustomerView",
    "StatusChangeMixin",
    "_format_money_pair",
    "_format_segment",
    "done_message",
    "skip_messages",
    "status_badge",
    "warning_messages",
]


class CustomerView(SelectByListMixin, StatusChangeMixin, CustomerDetailsMixin, _CustomerGrid):
    extra_js = ["/static/customers.js"]
    details_template = "admin/customers/details.html"
