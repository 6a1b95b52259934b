"""The customer grid of /admin/customers/: columns, filters, formatters, search, the status
tabs and their counts, the edit form (never the status)."""

from contextvars import ContextVar
from typing import TYPE_CHECKING

from flask import g, request
from flask_admin.contrib.sqla.filters import (
    BaseSQLAFilter,
    DateBetweenFilter,
    DateGreaterFilter,
    DateSmallerFilter,
    DateTimeGreaterFilter,
    DateTimeSmallerFilter,
    FilterEqual,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import HiddenField, SelectField

from admin_app.admin.secure import SecureModelView, badge, list_tabs
from admin_app.auth.session import current_actor
from admin_app.extensions import db
from admin_app.models import SEGMENTS, Customer, CustomerStatus
from admin_app.roles import Permission
from admin_app.services import customer_counts, customer_search, scheduling
from admin_app.services import customers as customer_service
from admin_app.services.labels import SEGMENT_LABELS, STATUS_LABELS, status_label
from admin_app.timefmt import local_text
from admin_app.web import format_money, money_formatter

# While set, get_query() leaves out the status tab (to count every tab under the same filters).
_IGNORE_STATUS_TAB: ContextVar[bool] = ContextVar("ignore_status_tab", default=False)

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
    return status_badge(model.status) + _scheduled_badge(model.id)


def _scheduled_badge(customer_id: int) -> Markup:
    """A pending scheduled change of this grid row (see _CustomerGrid.get_list): when, on
    hover; nothing without one."""
    due = g.get("scheduled_customers", {}).get(customer_id)
    if due is None:
        return Markup("")
    return Markup(' <span class="badge badge-warning scheduled-badge" title="{}">{}</span>').format(
        _("Next scheduled change: %(when)s", when=local_text(due, "short")), _("Scheduled")
    )


class ScheduledFilter(BaseSQLAFilter):
    """Customers with (or without) a pending scheduled change: EXISTS on the partial index."""

    def apply(self, query, value, alias=None):
        pending = scheduling.has_pending_condition()
        return query.filter(pending if value == "1" else ~pending)

    def operation(self):
        return _l("is")


def _format_money_pair(view, context, model, name):
    text = f"{format_money(model.balance)} / {format_money(model.credit_limit)}"
    if model.is_over_credit:
        return Markup('<span class="text-danger font-weight-bold" title="{}">{}</span>').format(
            _l("Over credit limit"), text
        )
    return text


def _format_segment(view, context, model, name):
    return SEGMENT_LABELS.get(model.segment, model.segment)


def _format_status_reason(view, context, model, name):
    """The reason's label in the user's language; its stored code on hover."""
    from admin_app.services import operation_text

    if not model.status_reason:
        return ""
    label = operation_text.reason_labels().get(model.status_reason, model.status_reason)
    return Markup('<span title="{}">{}</span>').format(model.status_reason, label)


class _CustomerGrid(SecureModelView):
    required_permission = Permission.VIEW_CUSTOMERS
    edit_permission = Permission.EDIT_CUSTOMERS
    can_export = True

    column_list = ("code", "name", "segment", "status", "balance", "last_order_at", "contract_end")
    column_labels = {
        "code": _l("Code"),
        "name": _l("Name"),
        "email": _l("Email"),
        "phone": _l("Phone"),
        "segment": _l("Segment"),
        "status": _l("Status"),
        "status_code": _l("Status code"),
        "balance": _l("Balance / credit limit"),
        "credit_limit": _l("Credit limit"),
        "last_order_at": _l("Last order"),
        "contract_end": _l("Contract end"),
        "status_reason": _l("Status reason"),
        "status_changed_at": _l("Status changed"),
        "created_at": _l("Created"),
        "updated_at": _l("Updated"),
    }
    column_sortable_list = (
        "code",
        "name",
        "segment",
        "status",
        "balance",
        "last_order_at",
        "contract_end",
    )
    column_default_sort = ("code", False)
    column_searchable_list = ("code", "name", "email")  # see _apply_search
    column_details_list = (
        "code",
        "name",
        "email",
        "phone",
        "segment",
        "status",
        "status_reason",
        "status_changed_at",
        "balance",
        "credit_limit",
        "contract_end",
        "last_order_at",
        "created_at",
        "updated_at",
    )
    # Plain values: the status as its label (and its code), money as two numbers.
    column_export_list = (
        "code",
        "name",
        "email",
        "phone",
        "segment",
        "status",
        "status_code",
        "balance",
        "credit_limit",
        "contract_end",
        "last_order_at",
    )
    column_formatters_export = {
        "status": lambda view, context, model, name: status_label(model.status),
        "status_code": lambda view, context, model, name: model.status,
        "segment": lambda view, context, model, name: str(
            SEGMENT_LABELS.get(model.segment, model.segment)
        ),
    }
    column_formatters = {
        "status": _format_status,
        "balance": _format_money_pair,
        "segment": _format_segment,
        "status_reason": _format_status_reason,
    }
    column_filters = (
        FilterEqual(
            Customer.status,
            _l("Status"),
            options=[(s.value, STATUS_LABELS[s]) for s in CustomerStatus],
        ),
        FilterEqual(
            Customer.segment, _l("Segment"), options=[(s, SEGMENT_LABELS[s]) for s in SEGMENTS]
        ),
        DateTimeSmallerFilter(Customer.last_order_at, _l("Last order")),
        DateTimeGreaterFilter(Customer.last_order_at, _l("Last order")),
        DateSmallerFilter(Customer.contract_end, _l("Contract end")),
        DateGreaterFilter(Customer.contract_end, _l("Contract end")),
        DateBetweenFilter(Customer.contract_end, _l("Contract end")),
        OverCreditFilter(
            Customer.balance, _l("Over credit limit"), options=[("1", _l("Yes")), ("0", _l("No"))]
        ),
        ScheduledFilter(Customer.id, _l("Scheduled"), options=[("1", _l("Yes")), ("0", _l("No"))]),
    )
    named_filter_urls = True

    form_columns = (*customer_service.EDITABLE_FIELDS, "version")
    form_overrides = {"segment": SelectField}
    form_args = {
        "segment": {"choices": [(s, SEGMENT_LABELS[s]) for s in SEGMENTS]},
        "balance": {"label": _l("Balance")},  # the list column is the pair "Balance / credit limit"
    }
    form_extra_fields = {"version": HiddenField()}
    refusal_status = True

    details_template = "admin/customers/details.html"
    list_template = "admin/customers/list.html"

    def __init__(self, **kwargs):
        super().__init__(Customer, **kwargs)

    # -- the grid: status tabs and "select all matching" -------------------------------------

    def _status_tab(self) -> str | None:
        status = request.args.get("status")
        return status if status in CustomerStatus._value2member_map_ else None

    # The status counts table covers this view's base query (every customer). A subclass whose
    # get_query() narrows the customers must set this to False.
    status_counts_from_table = True

    def get_query(self):
        return self._with_status_tab(super().get_query())

    def get_count_query(self):
        # No COUNT(*): get_list() takes the total from the status tab counts.
        return None

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        _, rows = super().get_list(
            page, sort_column, sort_desc, search, filters, execute=execute, page_size=page_size
        )
        if execute:  # the "Scheduled" badges of this page: one query on the pending rows
            g.scheduled_customers = scheduling.customers_with_pending([row.id for row in rows])
        counts = self.status_counts()
        status = self._status_tab()
        return (counts[status] if status else sum(counts.values())), rows

    def _with_status_tab(self, query):
        status = self._status_tab()
        if status and not _IGNORE_STATUS_TAB.get():
            query = query.filter(Customer.status == status)
        return query

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """Case-insensitive prefix search on code, name or email (index-backed); a leading
        '*' asks for a slower "contains" search instead."""
        condition = customer_search.condition(search, dialect=db.engine.dialect.name)
        if condition is None:
            return query, count_query, joins, count_joins
        query = query.filter(condition)
        if count_query is not None:
            count_query = count_query.filter(condition)
        return query, count_query, joins, count_joins

    def search_placeholder(self):
        return _("Code, name or email starts with… (*word: contains)")

    def _matching_query(self, *, with_status_tab: bool = True):
        """The grid's query under the request's filters and search, unpaged and unsorted."""
        view_args = self._get_list_extra_args()
        token = _IGNORE_STATUS_TAB.set(not with_status_tab)
        try:
            query = self.get_query()
            joins: dict = {}
            if view_args.search and self._search_supported:
                query, _, joins, _ = self._apply_search(query, None, joins, {}, view_args.search)
            if view_args.filters and self._filters:
                query, _, joins, _ = self._apply_filters(query, None, joins, {}, view_args.filters)
        finally:
            _IGNORE_STATUS_TAB.reset(token)
        return query

    def status_counts(self) -> dict[str, int]:
        """Customers per status under the request's search and filters (not its status tab),
        computed once per request: one GROUP BY, or no scan at all when nothing narrows the
        grid (the counts table)."""
        cache = request.environ.setdefault("customer_admin.status_counts", {})  # per request
        if self.endpoint not in cache:
            if self.status_counts_from_table and not self._narrowed():
                cache[self.endpoint] = customer_counts.status_counts()
            else:
                cache[self.endpoint] = customer_counts.matching_status_counts(
                    self._matching_query(with_status_tab=False).statement
                )
        return cache[self.endpoint]

    def _narrowed(self) -> bool:
        view_args = self._get_list_extra_args()
        searched = (
            view_args.search
            and customer_search.condition(view_args.search, dialect=db.engine.dialect.name)
            is not None
        )
        return bool(searched or view_args.filters)

    def status_tabs(self) -> list[dict]:
        counts = self.status_counts()
        tabs = [{"value": None, "label": _("All"), "count": sum(counts.values())}]
        tabs += [
            {
                "value": status.value,
                "label": STATUS_LABELS[status],
                "count": counts.get(status.value, 0),
                "status": status.value,
            }
            for status in CustomerStatus
        ]
        return list_tabs(self, "status", self._status_tab(), tabs)

    def render(self, template, **kwargs):
        if template == self.list_template:
            kwargs["status_tabs"] = self.status_tabs()
        return super().render(template, **kwargs)

    def saved_message(self, model, *, created: bool) -> str:
        if created:
            return _("Customer %(code)s created.", code=model.code)
        return _("Customer %(code)s saved.", code=model.code)

    def list_cell_renderers(self) -> dict:
        """The grid's formatted cells with each label and badge made once per page (the
        formatters above, which the details page and the review queue also use, translate
        per call); see admin/list_rows.py."""
        badges: dict[str, Markup] = {}
        segments: dict[str, str] = {}
        over_credit = escape(_l("Over credit limit"))
        money = money_formatter()

        scheduled = g.get("scheduled_customers", {})

        def status(model):
            if model.status not in badges:
                badges[model.status] = status_badge(model.status)
            if model.id in scheduled:
                return badges[model.status] + _scheduled_badge(model.id)
            return badges[model.status]

        def segment(model):
            if model.segment not in segments:
                segments[model.segment] = str(_format_segment(self, None, model, "segment"))
            return segments[model.segment]

        def balance(model):
            text = f"{money(model.balance)} / {money(model.credit_limit)}"
            if model.is_over_credit:
                return Markup(
                    f'<span class="text-danger font-weight-bold" title="{over_credit}">'
                    f"{escape(text)}</span>"
                )
            return text

        return {"status": status, "segment": segment, "balance": balance}

    def get_export_columns(self):
        # In the grid one column shows "balance / credit limit"; an export has two.
        return [
            (name, _l("Balance") if name == "balance" else label)
            for name, label in super().get_export_columns()
        ]

    def create_form(self, obj=None):
        return self._without_credit_fields(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._without_credit_fields(super().edit_form(obj))

    def _without_credit_fields(self, form):
        """A role without Permission.EDIT_CREDIT gets no balance / credit limit fields (the
        service refuses such changes anyway)."""
        if not self.can(Permission.EDIT_CREDIT):
            for name in customer_service.CREDIT_FIELDS:
                if name in form:
                    del form[name]
        return form

    def on_form_prefill(self, form, id):
        form.version.data = self.get_one(id).version

    def create_model(self, form):
        return self.create_through_service(
            lambda: customer_service.create_customer(
                self._form_changes(form), actor=current_actor()
            ),
            form,
        )

    def update_model(self, form, model):
        # What was posted, never the model's own version (the field's data when none was).
        posted = form.version.raw_data or []
        return self.update_through_service(
            lambda: customer_service.update_details(
                model.id,
                self._form_changes(form),
                expected_version=posted[0] if len(posted) == 1 else None,
                actor=current_actor(),
            ),
            form,
        )

    def _form_changes(self, form) -> dict:
        return {name: form[name].data for name in customer_service.EDITABLE_FIELDS if name in form}


# Mixins are typed as the grid they are mixed into (their methods use its attributes); at run
# time they are plain classes, so the view's MRO stays SelectByList → StatusChange → Details → grid.
if TYPE_CHECKING:
    GridMixin = _CustomerGrid
else:
    GridMixin = object
