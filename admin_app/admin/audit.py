"""/admin/audit/: the operation log, read-only for everyone who may see it.

Newest first, no COUNT(*) per page (simple pager), filters by actor, action, reason, day range
and customer code, search in memos, a details page with the operation's entries paged, and CSV
exports of the operations (Flask-Admin's) and of one operation's entries (streamed).
"""

import csv
import json
from datetime import UTC, datetime, time

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, request, stream_with_context
from flask_admin import expose
from flask_admin.contrib.sqla.filters import (
    BaseSQLAFilter,
    DateBetweenFilter,
    DateTimeGreaterFilter,
    DateTimeSmallerFilter,
    FilterEqual,
    FilterLike,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_babel.speaklater import LazyString
from flask_login import current_user, login_fresh
from markupsafe import Markup, escape

from admin_app.admin import confirmation
from admin_app.admin.forms import ConfirmStatusChangeForm, reason_choices, show_field_error
from admin_app.admin.secure import (
    SecureModelView,
    deny,
    list_tabs,
    operation_link,
    sent_for_approval,
)
from admin_app.auth.session import current_actor, reauthenticate
from admin_app.extensions import db
from admin_app.models import AuditOperation
from admin_app.roles import Permission
from admin_app.services import approvals, history, operation_text, revert, status_change
from admin_app.services import reasons as reasons_service
from admin_app.services.actions import ACTIONS, SIGN_IN_ACTIONS, action_label, is_sign_in
from admin_app.services.audit import HASHED_OPERATION_FIELDS
from admin_app.services.errors import InvalidInput, NotAllowed
from admin_app.services.input_rules import parse_id
from admin_app.services.labels import role_label
from admin_app.spreadsheet import escape_spreadsheet_formula
from admin_app.timefmt import local_time, page_times, time_zone_label

# Each row carries its operation's when / who / what / why, so the file reads on its own: the
# stored codes, then the same in words (the labels in the exporting user's language).
ENTRY_EXPORT_COLUMNS = (
    "operation_id",
    "created_at",
    "actor",
    "action",
    "reason_code",
    "memo",
    "entry_id",
    "entity",
    "entity_id",
    "entity_label",
    "field",
    "old_value",
    "new_value",
    "action_label",
    "reason_label",
    "customer_name",
    "field_label",
    "old_value_label",
    "new_value_label",
)
_LIST_MEMO_CHARS = 80
TAB_OPERATIONS, TAB_SIGN_INS, TAB_ALL = "operations", "sign_ins", "all"
# Left out of the sign-ins tab: always empty or zero there. (The sortable columns come first,
# so leaving these out moves no sort link's column number.)
OPERATION_ONLY_COLUMNS = ("reason_code", "changed_count", "skipped_count", "memo")
LOG_TABS = {TAB_OPERATIONS: _l("Operations"), TAB_SIGN_INS: _l("Sign-ins"), TAB_ALL: _l("All")}


def _action_filtered() -> bool:
    """An Action filter is set: it decides which actions show, whatever the tab."""
    return any(
        key.startswith("flt") and "_action_" in key and value for key, value in request.args.items()
    )


class _TypedEqualsFilter(BaseSQLAFilter):
    """ "equals" a text the reader types (trimmed, 1 to 200 characters)."""

    def validate(self, value) -> bool:
        return 0 < len(value.strip()) <= 200

    def clean(self, value: str) -> str:
        return value.strip()

    def operation(self):
        return _l("equals")


class CustomerCodeFilter(_TypedEqualsFilter):
    """Operations with an entry for the customer with this code, in any letter case."""

    def apply(self, query, value, alias=None):
        return query.filter(AuditOperation.id.in_(history.operations_of_customer_code(value)))


class ReasonFilter(_TypedEqualsFilter):
    """Operations with the reason the reader names: its code or its label in any language (the
    log stores codes; a reader types what the pages show)."""

    def apply(self, query, value, alias=None):
        return query.filter(reasons_service.named_by(AuditOperation.reason_code, value))


class DayRangeFilter(DateBetweenFilter):
    """`YYYY-MM-DD to YYYY-MM-DD` (UTC), both days included, on a timestamp column."""

    def apply(self, query, value, alias=None):
        start, end = value
        column = self.get_column(alias)
        return query.filter(
            column >= datetime.combine(start, time.min, UTC),
            column <= datetime.combine(end, time.max, UTC),
        )


def _format_when(view, context, model, name):
    return local_time(model.created_at)


def _format_action(view, context, model, name):
    return action_label(model.action)


def _format_reason(view, context, model, name):
    """The reason's label; its stored code on hover."""
    if not model.reason_code:
        return ""
    label = operation_text.operation_reason(model, operation_text.reason_labels())
    return Markup('<span title="{}">{}</span>').format(model.reason_code, label)


def _format_actor(view, context, model, name):
    return operation_text.actor_name(model)


def _format_role(view, context, model, name):
    return role_label(model.actor_role)


def _format_source(view, context, model, name):
    return operation_text.source_label(model.source)


def _format_memo_short(view, context, model, name):
    memo = model.memo or ""
    return memo if len(memo) <= _LIST_MEMO_CHARS else memo[: _LIST_MEMO_CHARS - 1] + "…"


def _format_id_link(view, context, model, name):
    return Markup('<a href="{}">#{}</a>').format(
        view.get_url(".details_view", id=model.id), model.id
    )


def _format_scope(view, context, model, name):
    return Markup('<span id="operation-scope">{}</span>').format(
        operation_text.describe_scope(model)
    )


def scope_json(model) -> str:
    """The stored scope, pretty-printed, for the technical details."""
    try:
        return json.dumps(json.loads(model.scope), indent=2, sort_keys=True, ensure_ascii=False)
    except ValueError:  # stored text that is not JSON is shown as it is
        return model.scope


def _format_reverts(view, context, model, name):
    if model.reverts_operation_id is None:
        return ""
    return Markup('<a href="{}">#{}</a>').format(
        view.get_url(".details_view", id=model.reverts_operation_id), model.reverts_operation_id
    )


def _memo(key, label):
    """A cell renderer that formats each distinct `key(model)` once per page."""
    seen: dict = {}

    def render(model):
        value = key(model)
        if value not in seen:
            seen[value] = label(value)
        return seen[value]

    return render


# From how many skipped rows a log page is read by id first on PostgreSQL: at 100,000
# customers page 1,000 of the Operations tab took 14.4 ms instead of 22.8, page 100 12.2
# instead of 12.9, and page 5 12.0 instead of 11.1 (the extra statement work is not yet paid
# back). SQLite already reads a row only once it is on the page: 0.4 ms slower at any depth.
ID_FIRST_FROM = 1000


def _rows_by_id_first(page_query):
    """The same page, found as its ids first: PostgreSQL then skips the earlier rows in the
    tab's index alone (an index-only scan of migration 0018's index) instead of reading each
    skipped row from the table (page 1,000: 17-24 ms of SQL before, 7-8 ms after)."""
    ids = page_query.with_entities(AuditOperation.id).subquery()
    return page_query.limit(None).offset(None).filter(AuditOperation.id.in_(sa.select(ids.c.id)))


def _without(columns, names) -> list:
    return [(name, label) for name, label in columns if name not in names]


def _sign_in_details(columns, *, has_scope: bool) -> list:
    """A sign-in's page: no reason, counts or memo; its scope, if any, says why it failed and
    is headed "Result"."""
    left_out = OPERATION_ONLY_COLUMNS if has_scope else (*OPERATION_ONLY_COLUMNS, "scope")
    return [
        (name, _("Result") if name == "scope" else label)
        for name, label in _without(columns, left_out)
    ]


# Shown folded under "Technical details" on an operation's page.
TECHNICAL_DETAILS = (
    "actor_id",
    "client_ip",
    "user_agent",
    "request_id",
    "confirmation_id",
    "prev_hash",
    "hash",
)


class AuditOperationView(SecureModelView):
    required_permission = Permission.VIEW_AUDIT
    can_export = True
    simple_list_pager = True
    named_filter_urls = True
    list_template = "admin/audit/list.html"
    details_template = "admin/audit/details.html"
    column_list = (
        "id",
        "created_at",
        "actor_username",
        "actor_role",
        "action",
        "reason_code",
        "changed_count",
        "skipped_count",
        "source",
        "memo",
    )
    column_labels = {
        "id": "#",
        # The list shows times in the reader's zone (its filters take UTC, and say so).
        "created_at": LazyString(lambda: _("When (%(zone)s)", zone=time_zone_label())),
        "actor_id": _l("Actor id"),
        "actor_username": _l("Actor"),
        "actor_role": _l("Role"),
        "action": _l("Action"),
        "reason_code": _l("Reason"),
        "changed_count": _l("Changed"),
        "skipped_count": _l("Skipped"),
        "source": _l("Source"),
        "memo": _l("Memo"),
        "scope": _l("Scope"),
        "client_ip": _l("Client IP"),
        "user_agent": _l("User agent"),
        "request_id": _l("Request id"),
        "reverts_operation_id": _l("Reverts"),
        "confirmation_id": _l("Confirmation id"),
        "action_label": "action_label",
        "reason_label": "reason_label",
        "scope_text": "scope_text",
        "prev_hash": _l("Previous hash"),
        "hash": _l("Hash"),
    }
    column_default_sort = ("id", True)
    column_sortable_list = ("id", "created_at")
    column_searchable_list = ("memo",)
    column_filters = (
        FilterEqual(AuditOperation.actor_username, _l("Actor")),
        FilterLike(AuditOperation.actor_username, _l("Actor")),
        FilterEqual(
            AuditOperation.action,
            _l("Action"),
            options=[(action.value, info.label) for action, info in ACTIONS.items()],
        ),
        ReasonFilter(AuditOperation.reason_code, _l("Reason")),
        DayRangeFilter(AuditOperation.created_at, _l("Day (UTC)")),
        DateTimeGreaterFilter(AuditOperation.created_at, _l("When (UTC)")),
        DateTimeSmallerFilter(AuditOperation.created_at, _l("When (UTC)")),
        CustomerCodeFilter(AuditOperation.id, _l("Customer code")),
    )
    column_formatters = {
        "id": _format_id_link,
        "created_at": _format_when,
        "action": _format_action,
        "reason_code": _format_reason,
        "actor_username": _format_actor,
        "actor_role": _format_role,
        "source": _format_source,
        "memo": _format_memo_short,
    }
    technical_details_list = TECHNICAL_DETAILS
    # The hashed columns but the technical ones.
    column_details_list = tuple(
        name for name in HASHED_OPERATION_FIELDS if name not in TECHNICAL_DETAILS
    )
    column_formatters_detail = {
        "created_at": _format_when,
        "action": _format_action,
        "reason_code": _format_reason,
        "actor_role": _format_role,
        "actor_username": _format_actor,
        "source": _format_source,
        "scope": _format_scope,
        "reverts_operation_id": _format_reverts,
    }
    # The hashed columns (but the confirmation id), the hashes, then the codes in words.
    column_export_list = (
        *(name for name in HASHED_OPERATION_FIELDS if name != "confirmation_id"),
        "prev_hash",
        "hash",
        "action_label",
        "reason_label",
        "scope_text",
    )
    # The stored codes as they are, then the same in words (the exporting user's language).
    column_formatters_export = {
        "created_at": lambda view, context, model, name: model.created_at.isoformat(),
        "action_label": lambda view, context, model, name: action_label(model.action),
        "reason_label": lambda view, context, model, name: operation_text.operation_reason(
            model, operation_text.reason_labels()
        ),
        "scope_text": lambda view, context, model, name: operation_text.describe_scope(model),
    }

    def get_export_columns(self):
        # The export's times are UTC (ISO 8601), whatever zone the list shows.
        return [
            (name, _l("When (UTC)") if name == "created_at" else label)
            for name, label in super().get_export_columns()
        ]

    def list_cell_renderers(self) -> dict:
        """The list's cells as the formatters above give them, with each label looked up
        once per page and the times through one PageTimes (admin/list_rows.py)."""
        times = page_times()
        details = str(escape(self.get_url(".details_view"))) + "?id="
        reasons = operation_text.reason_labels()

        def id_link(model):
            return Markup(f'<a href="{details}{model.id}">#{model.id}</a>')

        def reason(key):
            code, period_ended = key
            if not code:
                return ""
            label = operation_text.reason_text(code, reasons, period_ended=period_ended)
            return Markup(f'<span title="{escape(code)}">{escape(label)}</span>')

        return {
            "id": id_link,
            "created_at": lambda model: times.tag(model.created_at),
            "action": _memo(lambda model: model.action, action_label),
            "actor_role": _memo(lambda model: model.actor_role, role_label),
            "source": _memo(lambda model: model.source, operation_text.source_label),
            "reason_code": _memo(
                lambda model: (model.reason_code, operation_text.ends_a_period(model)), reason
            ),
            "actor_username": lambda model: operation_text.actor_name(model),
            "memo": lambda model: _format_memo_short(self, None, model, "memo"),
        }

    # -- tabs: business operations by default, sign-ins apart -----------------------------------

    def _tab(self) -> str:
        tab = request.args.get("tab", TAB_OPERATIONS)
        return tab if tab in LOG_TABS else TAB_OPERATIONS

    def get_query(self):
        query = super().get_query()
        tab = self._tab()
        if tab == TAB_SIGN_INS:
            return query.filter(is_sign_in(AuditOperation.action))
        if tab == TAB_OPERATIONS and not _action_filtered():
            return query.filter(is_sign_in(AuditOperation.action, sign_in=False))
        return query

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        count, query = super().get_list(
            page, sort_column, sort_desc, search, filters, execute=False, page_size=page_size
        )
        skipped = (page or 0) * (page_size or self.page_size)
        if skipped >= ID_FIRST_FROM and db.engine.dialect.name == "postgresql":
            query = _rows_by_id_first(query)
        return count, query.all() if execute else query

    def log_tabs(self) -> list[dict]:
        current = self._tab()
        tabs = [
            {"value": None if tab == TAB_OPERATIONS else tab, "label": label, "tab": tab}
            for tab, label in LOG_TABS.items()
        ]
        return list_tabs(self, "tab", None if current == TAB_OPERATIONS else current, tabs)

    def render(self, template, **kwargs):
        if template == self.list_template:
            kwargs["log_tabs"] = self.log_tabs()
            if self._tab() == TAB_SIGN_INS:  # a sign-in has no reason, customers or memo
                kwargs["list_columns"] = _without(kwargs["list_columns"], OPERATION_ONLY_COLUMNS)
        if template == self.details_template:
            page = request.args.get("entries_page", 0, type=int)
            operation = kwargs["model"]
            summary = kwargs["summary"] = operation_text.summarise(operation)
            if operation.action in SIGN_IN_ACTIONS:
                kwargs["details_columns"] = _sign_in_details(
                    kwargs["details_columns"], has_scope=bool(summary.scope)
                )
            kwargs["entries"] = history.entries_page(operation.id, page)
            kwargs["entry_rows"] = operation_text.describe_entries(kwargs["entries"].entries)
            kwargs["technical_details"] = [
                (self.column_labels[name], getattr(operation, name))
                for name in self.technical_details_list
            ] + [(_("Scope (stored)"), scope_json(operation))]
            kwargs["reverted_by"] = history.reverted_by(operation.id)
            kwargs["approval"] = approvals.for_operation(operation.id)
            kwargs["can_revert"] = (
                self.can(Permission.REVERT_OPERATIONS)
                and revert.can_be_reverted(operation)
                and kwargs["reverted_by"] is None
            )
        return super().render(template, **kwargs)

    # -- revert: the same two-step confirmation as the bulk actions ----------------------------

    @expose("/revert/", methods=("POST",))
    def revert_view(self):
        """Step 1: the confirmation page for reverting operation `id`; changes nothing."""
        if not self.can(Permission.REVERT_OPERATIONS):
            return deny(_("You are not allowed to revert operations."))
        return self._revert_page(request.form.get("id"))

    def _revert_page(self, operation_id: str | None):
        operation = self.get_one(operation_id)
        if operation is None:
            abort(404)
        token = confirmation.sign(
            confirmation.ConfirmationClaim(f"revert:{operation.id}", current_user.id, "revert")
        )
        form = ConfirmStatusChangeForm(
            token=token, formdata=None, url=self.get_url(".details_view", id=operation.id)
        )
        return self._render_revert(operation.id, form)

    @expose("/revert/preview/", methods=("GET",))
    def revert_preview_view(self):
        """The revert confirmation page again, by GET (Back and reload land here); like step 1
        it changes nothing and signs a token (tokens never travel in URLs)."""
        if not self.can(Permission.REVERT_OPERATIONS):
            return deny(_("You are not allowed to revert operations."))
        return self._revert_page(request.args.get("id"))

    def _revert_claim(self, token: str | None) -> tuple[int, int]:
        """The operation a revert token names and the user it was issued to, when that is
        this user."""
        claim = confirmation.verify(token)
        kind, _sep, operation_id = claim.request_id.partition(":")
        if kind != "revert" or claim.action != "revert" or parse_id(operation_id) is None:
            raise InvalidInput(_("This confirmation is not valid. Please start again."))
        if claim.user_id != current_user.id:
            raise NotAllowed(_("This confirmation belongs to another user."))
        return int(operation_id), claim.user_id

    @expose("/revert/confirm/", methods=("POST",))
    def revert_confirm_view(self):
        """Step 2: revert, once, what is still revertible; then show the new operation."""
        if not self.can(Permission.REVERT_OPERATIONS):
            return deny(_("You are not allowed to revert operations."))
        form = ConfirmStatusChangeForm()
        revert_id, confirmed_by = self._revert_claim(form.token.data)
        operation_id = str(revert_id)
        if not login_fresh():
            return reauthenticate(self.get_url(".details_view", id=int(operation_id)))
        form.reason.choices = _reason_choices()
        if not form.validate():
            return self._render_revert(int(operation_id), form, status=422, confirming=True)
        if approvals.revert_needs_approval(int(operation_id), form.reason.data):
            return self._request_revert_approval(int(operation_id), form)
        try:
            result = revert.execute(
                int(operation_id),
                actor=current_actor(),
                confirmed_by=confirmed_by,
                reason_code=form.reason.data,
                memo=form.memo.data or "",
            )
        except InvalidInput as error:
            if not show_field_error(form, error):
                raise
            return self._render_revert(int(operation_id), form, status=422, confirming=True)
        message = ngettext(
            "Reverted %(num)d customer", "Reverted %(num)d customers", result.changed
        )
        if result.skipped:
            message += _(", skipped %(num)d", num=result.skipped_total)
        flash(operation_link(message, result.operation_id), "success")
        return redirect(self.get_url(".details_view", id=result.operation_id), code=303)

    def _request_revert_approval(self, operation_id: int, form):
        """Four-eyes: the policy applies to this revert, so Confirm changes nothing; it stores
        an approval request (services.approvals) and shows it."""
        try:
            requested = approvals.request_revert_approval(
                operation_id,
                actor=current_actor(),
                reason_code=form.reason.data,
                memo=form.memo.data or "",
            )
        except InvalidInput as error:
            if not show_field_error(form, error):
                raise
            return self._render_revert(operation_id, form, status=422, confirming=True)
        return sent_for_approval(requested.approval_id)

    def _render_revert(self, operation_id: int, form, status: int = 200, confirming: bool = False):
        preview = revert.preview(operation_id, max_rows=100, confirming=confirming)
        form.reason.choices = reason_choices(status_change.reasons_for(None), _("Choose a reason…"))
        body = self.render(
            "admin/audit/revert_confirm.html",
            preview=preview,
            form=form,
            skip_messages=REVERT_SKIP_MESSAGES,
            approval_note=approvals.confirmation_note(preview.eligible),
            for_approval=approvals.over_threshold(preview.eligible),
            page_url=self.get_url(".revert_preview_view", id=operation_id),
            cancel_url=self.get_url(".details_view", id=operation_id),
        )
        return body, status, {"Cache-Control": "no-store"}

    @expose("/entries/export/csv/")
    def export_entries_csv(self):
        """One operation's entries as CSV, streamed; spreadsheet formulas escaped."""
        operation = self.get_one(request.args.get("id"))
        if operation is None:
            abort(404)
        operation_id = operation.id
        about = [
            escape_spreadsheet_formula(value)
            for value in (
                operation_id,
                operation.created_at.isoformat(),
                operation.actor_username,
                operation.action,
                operation.reason_code,
                operation.memo,
            )
        ]
        summary = operation_text.summarise(operation)
        about_labels = [summary.action, summary.reason]
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(ENTRY_EXPORT_COLUMNS)
            for batch in history.iter_entry_batches(operation_id):
                for entry, shown in zip(batch, operation_text.describe_entries(batch), strict=True):
                    yield writer.writerow(
                        [
                            escape_spreadsheet_formula(value)
                            for value in (
                                *about,
                                *entry,
                                *about_labels,
                                shown.name,
                                shown.field_name,
                                shown.old_text,
                                shown.new_text,
                            )
                        ]
                    )

        return Response(
            stream_with_context(rows()),
            mimetype="text/csv",
            headers={
                "Content-Disposition": f"attachment; filename=operation-{operation_id}-entries.csv"
            },
        )


REVERT_SKIP_MESSAGES = {
    revert.SKIP_STATUS_MOVED: _l("status is no longer what the operation set"),
    revert.SKIP_LATER_CHANGE: _l("changed by a later operation"),
    revert.SKIP_GONE: _l("no longer exist"),
}


def _reason_choices() -> list[tuple]:
    return reason_choices(status_change.reasons_for(None))


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value
