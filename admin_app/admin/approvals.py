"""/admin/approvals/: four-eyes approval requests (services.approvals).

Everyone who may change statuses sees their own requests and can cancel them; approvers
(Permission.APPROVE_STATUS_CHANGES) see every request, pending first, and decide others'
requests on a page that shows the same impact as the confirmation page, re-evaluated now."""

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_fresh
from markupsafe import Markup

from admin_app.admin.audit import REVERT_SKIP_MESSAGES
from admin_app.admin.confirmation import asked_page, page_links, preview_pager
from admin_app.admin.customers import done_message, skip_messages
from admin_app.admin.customers.status_flow import skipped_text
from admin_app.admin.forms import ApprovalDecisionForm, CancelApprovalForm, show_field_error
from admin_app.admin.secure import SecureBaseView, deny, operation_link
from admin_app.auth.session import current_actor, reauthenticate
from admin_app.roles import Permission
from admin_app.services import approvals, revert
from admin_app.services.actions import action_label
from admin_app.services.errors import Conflict, Expired, InvalidInput, NotAllowed, ServiceError
from admin_app.services.input_rules import parse_id
from admin_app.services.labels import ACTION_LABELS
from admin_app.services.operation_text import reason_labels
from admin_app.timefmt import local_text

STATUS_LABELS = {
    approvals.PENDING: _l("Pending"),
    approvals.APPROVED: _l("Approved"),
    approvals.REJECTED: _l("Rejected"),
    approvals.CANCELLED: _l("Cancelled"),
    approvals.EXPIRED: _l("Expired"),
}
STATUS_BADGES = {
    approvals.PENDING: "warning",
    approvals.APPROVED: "success",
    approvals.REJECTED: "danger",
    approvals.CANCELLED: "secondary",
    approvals.EXPIRED: "secondary",
}


BADGE_MAX = 99
LIST_PAGE_SIZE = 50


def pending_badge() -> str:
    """The navigation's count of pending requests ("99+" past 99), for approvers only ("" for
    the rest)."""
    if not current_user.is_authenticated or not approvals.may_approve(current_user.role):
        return ""
    pending = len(approvals.pending_ids(BADGE_MAX + 1))
    if not pending:
        return ""
    return f"{BADGE_MAX}+" if pending > BADGE_MAX else str(pending)


class ApprovalView(SecureBaseView):
    # Requesters (who may change statuses) see their own requests; approvers see all.
    required_permission = Permission.CHANGE_STATUS

    def is_accessible(self) -> bool:
        return self.can(Permission.CHANGE_STATUS) or self.can(Permission.APPROVE_STATUS_CHANGES)

    def _approver(self) -> bool:
        return self.can(Permission.APPROVE_STATUS_CHANGES)

    @expose("/")
    def index(self):
        requested_by = None if self._approver() else current_user.id
        total = approvals.count_requests(requested_by=requested_by)
        last_page = max(total - 1, 0) // LIST_PAGE_SIZE  # a page past the end shows the last
        offset = min(asked_page(), last_page) * LIST_PAGE_SIZE
        rows = approvals.list_requests(
            requested_by=requested_by, limit=LIST_PAGE_SIZE, offset=offset
        )

        def url(number):
            return self.get_url(".index", page=number or None)

        return self.render(
            "admin/approvals/list.html",
            rows=rows,
            pager=page_links(offset, len(rows), total, LIST_PAGE_SIZE, url),
            shown_status=approvals.shown_status,
            status_labels=STATUS_LABELS,
            status_badges=STATUS_BADGES,
            action_labels={code: action_label(code) for code in (*ACTION_LABELS, "revert")},
            reasons=reason_labels(),
            policy=approvals.policy(),
        )

    def _visible(self, approval_id: int):
        approval = approvals.get(approval_id)
        if not self._approver() and approval.requested_by != current_user.id:
            return None
        return approval

    @expose("/<int:approval_id>/", methods=("GET",))
    def details_view(self, approval_id: int):
        approval = self._visible(approval_id)
        if approval is None:
            return deny(_("This request belongs to another user."), approval_id=approval_id)
        return self._render_details(approval, ApprovalDecisionForm(formdata=None))

    def _render_details(self, approval, form, status: int = 200, error: str | None = None):
        shown = approvals.shown_status(approval)
        size = current_app.config["CONFIRMATION_PREVIEW_ROWS"]
        page = asked_page()
        preview = revert_preview = None
        if shown == approvals.PENDING and approval.action == approvals.REVERT:
            try:
                revert_preview = revert.preview(approval.reverts_operation_id or 0, max_rows=0)
            except ServiceError:
                revert_preview = None  # reverted meanwhile: approving it will say so
        elif shown == approvals.PENDING and approval.snapshot_id:
            try:
                preview = approvals.impact(approval.snapshot_id, max_rows=size, offset=page * size)
            except Expired:
                preview = None
        own = approval.requested_by is not None and approval.requested_by == current_user.id
        pending = shown == approvals.PENDING
        pager = None
        if preview is not None:

            def url(number):
                return self.get_url(".details_view", approval_id=approval.id, page=number or None)

            pager = preview_pager(preview, size, url)
        body = self.render(
            "admin/approvals/details.html",
            approval=approval,
            shown=shown,
            preview=preview,
            revert_preview=revert_preview,
            revert_skip_messages=REVERT_SKIP_MESSAGES,
            pager=pager,
            form=form,
            cancel_form=CancelApprovalForm(formdata=None),
            error=error,
            can_decide=pending and self._approver() and not own,
            can_cancel=pending and own,
            own=own,
            status_labels=STATUS_LABELS,
            status_badges=STATUS_BADGES,
            action_label=action_label(approval.action),
            reason=reason_labels([approval.reason_code]).get(approval.reason_code, ""),
            skip_messages=skip_messages(preview.action) if preview else {},
        )
        return body, status, {"Cache-Control": "no-store"}

    def _posted_id(self) -> int:
        approval_id = parse_id(request.form.get("id"))
        if approval_id is None:
            abort(404)
        return approval_id

    @expose("/decide/", methods=("POST",))
    def decide_view(self):
        """A decision on request `id` (form field): `decision` = approve | reject, `comment`."""
        approval_id = self._posted_id()
        if not self._approver():
            return deny(
                _("You are not allowed to approve status changes."), approval_id=approval_id
            )
        approval = approvals.get(approval_id)
        if not login_fresh():  # as for a direct confirmation: a remembered session signs in again
            return reauthenticate(self.get_url(".details_view", approval_id=approval_id))
        form = ApprovalDecisionForm()
        decision = form.decision.data
        if decision not in ("approve", "reject") or not form.validate():
            form.decision.errors = [_("Choose approve or reject.")]
            return self._render_details(approval, form, status=422)
        try:
            if decision == "approve":
                result = approvals.approve(
                    approval_id, actor=current_actor(), comment=form.comment.data or ""
                )
            else:
                result = approvals.reject(
                    approval_id, actor=current_actor(), comment=form.comment.data or ""
                )
        except InvalidInput as error:
            if not show_field_error(form, error):
                raise
            return self._render_details(approvals.get(approval_id), form, status=422)
        except Conflict as error:
            # Decided by someone else meanwhile (or expired): say so on the request's page.
            return self._render_conflict(approval_id, error)
        except NotAllowed:
            raise
        flash(self._decided_message(result), "success" if decision == "approve" else "info")
        return redirect(self.get_url(".details_view", approval_id=approval_id), code=303)

    def _render_conflict(self, approval_id: int, error: Conflict):
        """The request's page again, with why the decision or cancel was refused (409)."""
        return self._render_details(
            approvals.get(approval_id),
            ApprovalDecisionForm(formdata=None),
            status=409,
            error=error.message,
        )

    def _decided_message(self, decision: approvals.Decision) -> Markup:
        scheduled = decision.scheduled
        if scheduled is not None and decision.result is None:  # approved for a later date
            text = _("Request #%(id)d approved.", id=decision.approval_id) + " "
            text += ngettext(
                "%(action)s %(num)d customer scheduled for %(when)s.",
                "%(action)s %(num)d customers scheduled for %(when)s.",
                scheduled.scheduled,
                action=ACTION_LABELS[scheduled.action.value],
                when=local_text(scheduled.effective_at, "short"),
            )
            return Markup('{} <a href="{}">{}</a>').format(
                text,
                url_for("audit.details_view", id=scheduled.operation_id),
                _("Operation #%(id)d", id=scheduled.operation_id),
            )
        if decision.result is None:
            return Markup("{}").format(
                _("Request #%(id)d rejected. Nothing was changed.", id=decision.approval_id)
            )
        result = decision.result
        text = _("Request #%(id)d approved.", id=decision.approval_id) + " "
        if approvals.get(decision.approval_id).action == approvals.REVERT:
            text += ngettext(
                "Reverted %(num)d customer", "Reverted %(num)d customers", result.changed
            )
        else:
            text += done_message(result.action, result.changed)
        if result.skipped and approvals.get(decision.approval_id).action == approvals.REVERT:
            text += _(", skipped %(num)d", num=result.skipped_total)
        else:
            text += skipped_text(result)
        message = operation_link(text, result.operation_id)
        if scheduled is not None and scheduled.scheduled:  # applied now, reactivation later
            message += Markup(" ") + ngettext(
                "Reactivation of %(num)d customer scheduled for %(when)s.",
                "Reactivation of %(num)d customers scheduled for %(when)s.",
                scheduled.scheduled,
                when=local_text(scheduled.until, "short"),
            )
        return message

    @expose("/cancel/", methods=("POST",))
    def cancel_view(self):
        """Cancel request `id` (form field); its requester only."""
        approval_id = self._posted_id()
        CancelApprovalForm().validate()  # CSRF (global CSRFProtect already checked it)
        try:
            approvals.cancel(approval_id, actor=current_actor())
        except Conflict as error:
            return self._render_conflict(approval_id, error)
        flash(
            _("Request #%(id)d cancelled. Nothing was changed.", id=approval_id),
            "info",
        )
        return redirect(self.get_url(".details_view", approval_id=approval_id), code=303)
