"""The bulk status flow of /admin/customers/: action POST → confirmation page (and its GET,
pages and CSV export) → confirm POST, and the sentences it shows."""

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_fresh
from markupsafe import Markup

from admin_app.admin import confirmation
from admin_app.admin.customers.grid import GridMixin
from admin_app.admin.exports import csv_response
from admin_app.admin.forms import ConfirmStatusChangeForm, reason_choices, show_field_error
from admin_app.admin.secure import deny, operation_link, sent_for_approval
from admin_app.auth.redirects import local_or
from admin_app.auth.session import current_actor, reauthenticate
from admin_app.models import Customer, StatusAction
from admin_app.roles import Permission
from admin_app.services import approvals, scheduling, selection_scope, status_change
from admin_app.services.errors import Conflict, InvalidInput, NotAllowed
from admin_app.services.labels import ACTION_LABELS, STATUS_LABELS, label_list
from admin_app.timefmt import local_text, select_time_zone
from admin_app.web import format_number

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


def _dated_confirmation(form, when: scheduling.When) -> dict:
    """The confirm form's answers, with its dates, as the dated services take them."""
    return {
        "actor": current_actor(),
        "reason_code": form.reason.data,
        "memo": form.memo.data or "",
        "effective_at": when.effective_at,
        "until": when.until,
    }


def skipped_text(result: status_change.OperationResult) -> str:
    """ ", skipped N (counts and why)" after a status change's sentence, or "" if none was."""
    if not result.skipped:
        return ""
    messages = skip_messages(result.action)
    details = label_list(
        counted_skip(messages[reason], count) for reason, count in result.skipped.items()
    )
    return _(", skipped %(num)d (%(details)s)", num=result.skipped_total, details=details)


def counted_skip(message, count: int) -> str:
    """ "already frozen: 3": why some customers are skipped, and how many (a count before the
    words needs a measure word in Chinese; after a colon it reads in every language)."""
    return _("%(reason)s: %(num)s", reason=message, num=format_number(count))


class StatusChangeMixin(GridMixin):
    """The bulk flow of the customer grid: action POST → confirmation page → confirm POST."""

    # -- the details page: the status actions of one customer --------------------------------

    def render(self, template, **kwargs):
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
            selection = {
                "matching": self._matching_query().with_entities(Customer.id).statement,
                "scope": selection_scope.filter_scope(request.query_string.decode()),
            }
        else:
            customer_ids = status_change.parse_rowids(
                ids, limit=current_app.config["MAX_CHECKED_IDS"]
            )
            selection = {
                "ids": customer_ids,
                "scope": selection_scope.ids_scope(customer_ids, mode="ids"),
            }
        request_id = status_change.create_request(
            action=action_name, actor=actor, return_url=return_url, **selection
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
        page = confirmation.asked_page()
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
            for_approval=approvals.over_threshold(preview.eligible),
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
        def url(number):
            return self.get_url(
                ".preview_view",
                request_id=preview.request_id,
                show=preview.only,
                page=number or None,
            )

        return confirmation.preview_pager(preview, size, url)

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
            requested = approvals.request_approval(request_id, **_dated_confirmation(form, when))
        except InvalidInput as error:
            if not show_field_error(form, error):
                raise
            return self._render_confirmation(request_id, form, status=422)
        current_app.logger.info(
            "status change sent for approval user=%s request=%d",
            current_user.username,
            requested.approval_id,
        )
        return sent_for_approval(requested.approval_id)

    def _confirm_scheduled(self, request_id: str, form, when):
        """The confirmation with an effective date and/or an end date (services.scheduling:
        its refusals, like the reason's, come back beside their field)."""
        outcome = scheduling.confirm(request_id, **_dated_confirmation(form, when))
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
        text = done_message(result.action, result.changed) + skipped_text(result)
        return operation_link(text, result.operation_id)
