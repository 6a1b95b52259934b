"""/admin/customers/: the customer grid, details and edit form (never the status)."""

from contextvars import ContextVar
from typing import TYPE_CHECKING

from flask import current_app, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import (
    BaseSQLAFilter,
    DateBetweenFilter,
    DateGreaterFilter,
    DateSmallerFilter,
    DateTimeGreaterFilter,
    DateTimeSmallerFilter,
    FilterEqual,
)
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_fresh
from markupsafe import Markup
from wtforms import HiddenField, SelectField

from admin_app.admin import confirmation
from admin_app.admin.exports import csv_response
from admin_app.admin.forms import ConfirmStatusChangeForm, reason_choices, show_field_error
from admin_app.admin.secure import SecureModelView, badge, deny, list_tabs
from admin_app.admin.select_by_list import SelectByListMixin
from admin_app.auth.redirects import local_or
from admin_app.auth.session import current_actor, reauthenticate
from admin_app.extensions import db
from admin_app.models import SEGMENTS, Customer, CustomerStatus, StatusAction
from admin_app.roles import Permission
from admin_app.services import (
    approvals,
    customer_counts,
    customer_search,
    scheduling,
    status_change,
)
from admin_app.services import customers as customer_service
from admin_app.services import orders as order_service
from admin_app.services.errors import Conflict, InvalidInput, NotAllowed
from admin_app.services.labels import ACTION_LABELS, SEGMENT_LABELS, STATUS_LABELS, status_label
from admin_app.timefmt import local_text, select_time_zone
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
    """A pending scheduled change of this grid row (see StatusChangeMixin.get_list): when, on
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
    form_args = {"segment": {"choices": [(s, SEGMENT_LABELS[s]) for s in SEGMENTS]}}
    form_extra_fields = {"version": HiddenField()}
    refusal_status = True

    details_template = "admin/customers/details.html"

    def __init__(self, **kwargs):
        super().__init__(Customer, **kwargs)

    def render(self, template, **kwargs):
        # The customer's history is part of the operation log: only for those who may see it.
        from admin_app.services import history, operation_text

        if template == self.details_template and self.can(Permission.VIEW_AUDIT):
            kwargs["history"] = history.customer_history(kwargs["model"].id)
            kwargs["history_rows"] = operation_text.describe_history(kwargs["history"].items)
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
        over_credit = str(_l("Over credit limit"))
        money = money_formatter()

        def status(model):
            if model.status not in badges:
                badges[model.status] = status_badge(model.status)
            return badges[model.status] + _scheduled_badge(model.id)

        def segment(model):
            if model.segment not in segments:
                segments[model.segment] = str(_format_segment(self, None, model, "segment"))
            return segments[model.segment]

        def balance(model):
            text = f"{money(model.balance)} / {money(model.credit_limit)}"
            if model.is_over_credit:
                return Markup(
                    '<span class="text-danger font-weight-bold" title="{}">{}</span>'
                ).format(over_credit, text)
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
            )
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
            )
        )

    def _form_changes(self, form) -> dict:
        return {name: form[name].data for name in customer_service.EDITABLE_FIELDS if name in form}


ALREADY_MESSAGES = {
    StatusAction.DEACTIVATE: _l("already deactivated"),
    StatusAction.FREEZE: _l("already frozen"),
    StatusAction.REACTIVATE: _l("already active"),
}
SKIP_MESSAGES = {
    status_change.SKIP_NOT_ALLOWED: _l("deactivated, so they cannot be frozen"),
    status_change.SKIP_CHANGED: _l("changed since the preview"),
    status_change.SKIP_MISSING: _l("no longer exist"),
}


def skip_messages(action_name: StatusAction) -> dict:
    return {status_change.SKIP_ALREADY: ALREADY_MESSAGES[action_name], **SKIP_MESSAGES}


def warning_messages(preview) -> dict[str, str]:
    """The warnings of a confirmation page that apply, as sentences naming their counts."""
    counts = preview.warnings
    sentences = {
        status_change.WARN_OPEN_BALANCE: lambda n: ngettext(
            "%(num)s customer has an open balance.", "%(num)s customers have an open balance.", n
        ),
        status_change.WARN_RECENT_ORDERS: lambda n: ngettext(
            "%(num)s customer ordered in the last 30 days.",
            "%(num)s customers ordered in the last 30 days.",
            n,
        ),
    }
    return {name: sentences[name](count) for name, count in counts.items()}


DENIED_MESSAGES: dict[str, object] = {
    StatusAction.DEACTIVATE: _l("You are not allowed to deactivate customers."),
    StatusAction.FREEZE: _l("You are not allowed to freeze customers."),
    StatusAction.REACTIVATE: _l("You are not allowed to reactivate customers."),
}


def done_message(action_name: StatusAction, count: int) -> str:
    if action_name == StatusAction.DEACTIVATE:
        return ngettext("Deactivated %(num)d customer", "Deactivated %(num)d customers", count)
    if action_name == StatusAction.FREEZE:
        return ngettext("Froze %(num)d customer", "Froze %(num)d customers", count)
    return ngettext("Reactivated %(num)d customer", "Reactivated %(num)d customers", count)


# Mixins are typed as the grid they are mixed into (their methods use its attributes); at run
# time they are plain classes, so the view's MRO stays SelectByList → StatusChange → grid.
if TYPE_CHECKING:
    _GridBase = _CustomerGrid
else:
    _GridBase = object


class StatusChangeMixin(_GridBase):
    """The bulk flow of the customer grid: action POST → confirmation page → confirm POST."""

    list_template = "admin/customers/list.html"

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
        if template == self.details_template and kwargs.get("model") is not None:
            kwargs["status_actions"] = self.status_actions_for(kwargs["model"])
            kwargs["details_url"] = self.get_url(".details_view", id=kwargs["model"].id)
        return super().render(template, **kwargs)

    def status_actions_for(self, customer) -> list[dict]:
        """The status actions the user may run on this one customer, from the status machine:
        they post to the bulk flow with its id, so the same confirmation page follows."""
        if not self.can(Permission.CHANGE_STATUS):
            return []
        return [
            {"name": name.value, "label": ACTION_LABELS[name.value]}
            for name in StatusAction
            if customer.status in name.allowed_from
        ]

    # -- step 1: the action POST answers with the confirmation page ----------------------------

    def is_action_allowed(self, name: str) -> bool:
        if name in StatusAction._value2member_map_ and not self.can(Permission.CHANGE_STATUS):
            return False
        return super().is_action_allowed(name)

    def action_denied_message(self, name: str):
        return DENIED_MESSAGES.get(name)

    @action("deactivate", _l("Deactivate"))
    def action_deactivate(self, ids):
        return self._preview(StatusAction.DEACTIVATE, ids)

    @action("freeze", _l("Freeze"))
    def action_freeze(self, ids):
        return self._preview(StatusAction.FREEZE, ids)

    @action("reactivate", _l("Reactivate"))
    def action_reactivate(self, ids):
        return self._preview(StatusAction.REACTIVATE, ids)

    def _preview(self, action_name: StatusAction, ids: list[str]):
        return_url = get_redirect_target() or self.get_url(".index_view")
        actor = current_actor()
        if request.form.get("select_all") == "1":
            matching = self._matching_query().with_entities(Customer.id).statement
            scope: dict[str, object] = {
                "mode": "filter",
                "filter": request.query_string.decode()[:1000],
            }
            request_id = status_change.create_request(
                action=action_name,
                actor=actor,
                matching=matching,
                scope=scope,
                return_url=return_url,
            )
        else:
            customer_ids = status_change.parse_rowids(
                ids, limit=current_app.config["MAX_CHECKED_IDS"]
            )
            scope = {"mode": "ids", "count": len(customer_ids)}
            if len(customer_ids) <= 1000:
                scope["ids"] = customer_ids
            request_id = status_change.create_request(
                action=action_name,
                actor=actor,
                ids=customer_ids,
                scope=scope,
                return_url=return_url,
            )
        return self.confirmation_response(action_name, request_id, return_url)

    def confirmation_response(self, action_name: StatusAction, request_id: str, return_url: str):
        """The confirmation page of a snapshot made by status_change.create_request (also
        for the snapshots of admin.select_by_list)."""
        current_app.logger.info(
            "status change preview user=%s action=%s request=%s",
            current_user.username,
            action_name.value,
            request_id,
        )
        token = confirmation.sign(
            confirmation.ConfirmationClaim(request_id, current_user.id, action_name.value)
        )
        # A caller (e.g. the review queue) may pre-select the reason with `preset_reason`.
        form = ConfirmStatusChangeForm(
            token=token, url=return_url, formdata=None, reason=request.form.get("preset_reason", "")
        )
        return self._render_confirmation(request_id, form)

    @expose("/preview/<request_id>/", methods=("GET",))
    def preview_view(self, request_id: str):
        """The confirmation page again, by GET (the browser's Back and reload land here): the
        same snapshot, its owner only, while its confirmation could still be used. The address
        names the snapshot, never a token (tokens stay out of URLs); the page signs a new one
        for the same claim."""
        action_name = self._owned_request(request_id)
        asked = request.args.get("page", "")
        page = int(asked) if asked.isdigit() and len(asked) < 7 else 0
        token = confirmation.sign(
            confirmation.ConfirmationClaim(request_id, current_user.id, action_name.value)
        )
        form = ConfirmStatusChangeForm(
            token=token, url="", formdata=None, reason=request.args.get("reason", "")
        )
        return self._render_confirmation(
            request_id, form, page=page, only=request.args.get("show") or None
        )

    def _owned_request(self, request_id: str) -> StatusAction:
        if not self.can(Permission.CHANGE_STATUS):
            raise NotAllowed(_("You are not allowed to change customer status."))
        return status_change.owned_request_action(
            request_id,
            user_id=current_user.id,
            max_age_seconds=current_app.config["CONFIRMATION_MAX_AGE_SECONDS"],
        )

    @expose("/preview/<request_id>/export/", methods=("GET",))
    def preview_export_view(self, request_id: str):
        """Every customer of a confirmation's selection as CSV: what would change, what would
        be skipped and why (spreadsheet formulas escaped)."""
        action_name = self._owned_request(request_id)
        rows = status_change.iter_preview_rows(request_id)
        messages = skip_messages(action_name)
        header = [
            _("Customer ID"),
            _("Code"),
            _("Name"),
            _("Status"),
            _("Status code"),
            _("Will change"),
            _("Why skipped"),
            _("Balance"),
            _("Credit limit"),
            _("Last order"),
        ]

        def values(row):
            return [
                row.id,
                row.code,
                row.name,
                STATUS_LABELS.get(row.status, row.status),
                row.status,
                _("No") if row.skip else _("Yes"),
                str(messages[row.skip]) if row.skip else "",
                row.balance,
                row.credit_limit,
                row.last_order_at.isoformat() if row.last_order_at else "",
            ]

        return csv_response(
            header, (values(row) for row in rows), f"confirmation-{action_name.value}.csv"
        )

    def _render_confirmation(
        self, request_id: str, form, status: int = 200, page: int = 0, only: str | None = None
    ):
        size = current_app.config["CONFIRMATION_PREVIEW_ROWS"]
        preview = status_change.describe(request_id, max_rows=size, offset=page * size, only=only)
        form.url.data = form.url.data or preview.return_url
        reasons = status_change.reasons_for(preview.action)
        form.reason.choices = reason_choices(reasons, _("Choose a reason…"))
        memo_required = [reason.code for reason in reasons if reason.memo_required]
        body = self.render(
            "admin/customers/confirm.html",
            preview=preview,
            form=form,
            memo_required=memo_required,
            action_label=ACTION_LABELS[preview.action.value],
            skip_messages=skip_messages(preview.action),
            warning_messages=warning_messages(preview),
            approval_note=approvals.confirmation_note(preview.eligible),
            long_running=preview.eligible >= current_app.config["LONG_OPERATION_CUSTOMERS"],
            show_url=lambda show: self.get_url(".preview_view", request_id=request_id, show=show),
            pager=self._pager(preview, size),
            export_url=self.get_url(".preview_export_view", request_id=request_id),
            cancel_url=local_or(preview.return_url, self.get_url(".index_view")),
            page_url=self.get_url(
                ".preview_view",
                request_id=request_id,
                show=preview.only,
                page=(preview.offset // size) or None,
            ),
        )
        return body, status, {"Cache-Control": "no-store"}

    def _pager(self, preview, size: int) -> dict:
        page = preview.offset // size

        def url(number):
            return self.get_url(
                ".preview_view",
                request_id=preview.request_id,
                show=preview.only,
                page=number or None,
            )

        return {
            "first": preview.offset + 1 if preview.rows else 0,
            "last": preview.offset + len(preview.rows),
            "total": preview.listed,
            "prev_url": url(page - 1) if page > 0 else None,
            "next_url": url(page + 1) if preview.offset + size < preview.listed else None,
        }

    # -- step 2: the confirmation POST runs the service once ----------------------------------

    @expose("/confirm/", methods=("POST",))
    def confirm_view(self):
        if not self.can(Permission.CHANGE_STATUS):
            return deny(_("You are not allowed to change customer status."))
        form = ConfirmStatusChangeForm()
        claim = confirmation.verify(form.token.data)
        if claim.user_id != current_user.id:
            raise NotAllowed(_("This confirmation belongs to another user."))
        if not login_fresh():
            return reauthenticate(local_or(form.url.data, self.get_url(".index_view")))
        status_change.ensure_unused(claim.request_id)  # a replay, even with a bad form
        self._refuse_edited_selection(claim.request_id)
        self._prepare_reason_choices(claim.action, form)
        if not form.validate():
            return self._render_confirmation(claim.request_id, form, status=422)
        try:
            # Dates (effective_at / until) go to services.scheduling; none: the change runs now.
            when = scheduling.parse_schedule(
                form.effective_at.data, form.until.data, time_zone=select_time_zone()
            )
            if approvals.needs_approval(claim.request_id, form.reason.data):
                return self._request_approval(claim.request_id, form, when)  # with the dates
            if not when.is_now:
                return self._confirm_scheduled(claim.request_id, form, when)
            result = status_change.execute(
                claim.request_id,
                actor=current_actor(),
                reason_code=form.reason.data,
                memo=form.memo.data or "",
            )
        except InvalidInput as error:
            # The service is the authority on reason and memo: its refusal goes next to the
            # field, on the same page, with the same (unused) token.
            if not show_field_error(form, error):
                raise
            return self._render_confirmation(claim.request_id, form, status=422)
        current_app.logger.info(
            "status change done user=%s action=%s operation=%d changed=%d memo=%s",
            current_user.username,
            result.action.value,
            result.operation_id,
            result.changed,
            (form.memo.data or "")[:200],
        )
        flash(self._result_message(result), "success")
        return redirect(local_or(form.url.data, self.get_url(".index_view")), code=303)

    def _request_approval(self, request_id: str, form, when):
        """Four-eyes: the policy applies, so Confirm changes nothing; it stores an approval
        request for this snapshot, with its dates, and shows it (services.approvals)."""
        try:
            requested = approvals.request_approval(
                request_id,
                actor=current_actor(),
                reason_code=form.reason.data,
                memo=form.memo.data or "",
                effective_at=when.effective_at,
                until=when.until,
            )
        except InvalidInput as error:
            if not show_field_error(form, error):
                raise
            return self._render_confirmation(request_id, form, status=422)
        current_app.logger.info(
            "status change sent for approval user=%s request=%d",
            current_user.username,
            requested.approval_id,
        )
        flash(
            _(
                "Sent for approval (request #%(id)d); nothing has changed yet.",
                id=requested.approval_id,
            ),
            "info",
        )
        return redirect(
            url_for("approvals.details_view", approval_id=requested.approval_id), code=303
        )

    def _confirm_scheduled(self, request_id: str, form, when):
        """The confirmation with an effective date and/or an end date (services.scheduling:
        its refusals, like the reason's, come back beside their field)."""
        outcome = scheduling.confirm(
            request_id,
            actor=current_actor(),
            reason_code=form.reason.data,
            memo=form.memo.data or "",
            effective_at=when.effective_at,
            until=when.until,
        )
        if outcome.applied is not None:
            text = self._result_message(outcome.applied)
            if outcome.scheduled:
                text += Markup(" ") + ngettext(
                    "Reactivation of %(num)d customer scheduled for %(when)s.",
                    "Reactivation of %(num)d customers scheduled for %(when)s.",
                    outcome.scheduled,
                    when=local_text(outcome.until, "short"),
                )
        else:
            text = Markup('{} <a href="{}">{}</a>').format(
                ngettext(
                    "%(action)s %(num)d customer scheduled for %(when)s.",
                    "%(action)s %(num)d customers scheduled for %(when)s.",
                    outcome.scheduled,
                    action=ACTION_LABELS[outcome.action.value],
                    when=local_text(outcome.effective_at, "short"),
                ),
                url_for("audit.details_view", id=outcome.operation_id),
                _("Operation #%(id)d", id=outcome.operation_id),
            )
        flash(text, "success")
        return redirect(local_or(form.url.data, self.get_url(".index_view")), code=303)

    def _refuse_edited_selection(self, request_id: str) -> None:
        """The selection is bound to the token; posted row ids may only repeat it."""
        posted = request.form.getlist("rowid")
        if posted and not status_change.matches_snapshot(request_id, posted):
            raise Conflict(_("Selection changed; please review again."))

    def _prepare_reason_choices(self, action_name: str, form) -> None:
        reasons = status_change.reasons_for(status_change.parse_action(action_name))
        form.reason.choices = reason_choices(reasons)

    def _result_message(self, result) -> Markup:
        text = done_message(result.action, result.changed)
        if result.skipped:
            messages = skip_messages(result.action)
            details = ", ".join(
                f"{count} {messages[reason]}" for reason, count in result.skipped.items()
            )
            text += _(", skipped %(num)d (%(details)s)", num=result.skipped_total, details=details)
        link = url_for("audit.details_view", id=result.operation_id)
        return Markup('{}. <a href="{}">{}</a>').format(
            text, link, _("Operation #%(id)d", id=result.operation_id)
        )


def _scheduled_rows(changes) -> list[dict]:
    """A customer's pending changes with their labels (action → status, reason)."""
    from admin_app.services import operation_text

    reasons = operation_text.reason_labels()
    return [
        {
            "id": change.id,
            "due_at": change.due_at,
            "action": ACTION_LABELS[change.action],
            "status": status_label(StatusAction(change.action).target.value),
            "reason": reasons.get(change.reason_code, change.reason_code),
            "memo": change.memo,
        }
        for change in changes
    ]


class CustomerView(SelectByListMixin, StatusChangeMixin, _CustomerGrid):
    extra_js = ["/static/customers.js"]
    details_template = "admin/customers/details.html"

    def render(self, template, **kwargs):
        model = kwargs.get("model")
        if template == self.details_template and model is not None:
            # Orders stay visible whatever the customer's status.
            kwargs["customer_orders"] = order_service.recent_orders(model.id)
            kwargs["customer_orders_url"] = url_for(
                "orders.index_view", flt0_customer_code_equals=model.code
            )
            kwargs["scheduled_changes"] = _scheduled_rows(scheduling.pending_for_customer(model.id))
            kwargs["can_cancel_scheduled"] = self.can(Permission.CHANGE_STATUS)
        return super().render(template, **kwargs)
