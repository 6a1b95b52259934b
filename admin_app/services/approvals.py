"""Four-eyes (maker-checker) approval of large or sensitive status changes.

The policy (`needs_approval`): a confirmed status change waits for a second person when it
would change more than `APPROVAL_THRESHOLD` customers (0: no size rule) or its reason is marked
`requires_approval`. Then Confirm changes nothing: `request_approval` stores an
`ApprovalRequest` bound to the previewed snapshot and logs `approval_requested`.

A request is decided once. `approve`, `reject` and `cancel` each run in one
`write_transaction()` and claim the request with a conditional
`UPDATE approval_requests SET status = … WHERE id = … AND status = 'pending'`: of two deciders
at once exactly one wins, the other gets Conflict (409). `approve` then runs the stored
snapshot through `status_change.apply_request` — the same code and transaction shape as a
direct confirmation (customers changed since the request are skipped) — with the approver as
the operation's actor and the request, its requester and the `approval_requested` operation in
the operation's (hashed) scope. The requester can never decide their own request (checked by
user id; 403 and a security event); a request older than `APPROVAL_MAX_AGE_HOURS` expires.

Scheduled changes follow the same policy: `scheduling.confirm` refuses what needs approval, the
request keeps the confirmation's `effective_at` / `until`, and `approve` runs
`scheduling.apply_schedule` (the body of `scheduling.confirm`) in its transaction — an effective
time passed meanwhile means now; a reactivation time passed meanwhile refuses the approval.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Integer, Table, bindparam, func, select, update

from admin_app.extensions import db
from admin_app.models import ApprovalRequest, Reason, StatusAction
from admin_app.models.types import utcnow
from admin_app.roles import Permission, permissions_of
from admin_app.security_log import security_event
from admin_app.services import input_rules, revert, scheduling, status_change
from admin_app.services.actions import OperationAction
from admin_app.services.audit import Actor, NewOperation, append_operation
from admin_app.services.errors import Conflict, NotAllowed, NotFound
from admin_app.services.labels import label_list, reason_label
from admin_app.services.transaction import write_transaction

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
CANCELLED = "cancelled"
EXPIRED = "expired"
REVERT = "revert"  # the action of a request to revert an operation
# Core UPDATEs (conditional claims): the ORM's bulk-update bookkeeping has nothing to do here.
APPROVALS = cast(Table, ApprovalRequest.__table__)


class ApprovalRequired(Conflict):
    """A status change the policy says needs approval was sent to be executed directly."""


@dataclass(frozen=True)
class Policy:
    threshold: int  # 0: no size rule
    max_age_hours: int
    reasons: tuple[str, ...]  # labels (page's language) of the reasons that always need it


def policy() -> Policy:
    reasons = db.session.execute(
        select(Reason)
        .where(Reason.requires_approval.is_(True))
        .order_by(Reason.position, Reason.code)
    ).scalars()
    return Policy(
        threshold=_threshold(),
        max_age_hours=_max_age_hours(),
        reasons=tuple(reason_label(reason) for reason in reasons),
    )


def needs_approval(snapshot_id: str, reason: Reason | str | None) -> bool:
    """True when confirming snapshot `snapshot_id` with `reason` (a Reason already loaded, or
    a code) needs a second person: more than APPROVAL_THRESHOLD customers would change
    (counted from the snapshot, as `status_change.describe`/`execute` count them), or the
    reason requires approval."""
    if _reason_requires_approval(reason):
        return True
    if _threshold() == 0:  # no size rule: nothing to count
        return False
    return over_threshold(status_change.changing_count(snapshot_id))


def revert_needs_approval(operation_id: int, reason_code: str | None) -> bool:
    """The same policy for reverting operation `operation_id`: more than APPROVAL_THRESHOLD
    customers would go back now, or the reason requires approval."""
    if _reason_requires_approval(reason_code):
        return True
    threshold = _threshold()
    return threshold > 0 and revert.eligible_count(operation_id) > threshold


def _reason_requires_approval(reason: Reason | str | None) -> bool:
    """Whether `reason` (a loaded Reason, or a code to look up) always needs an approver."""
    if isinstance(reason, Reason):
        return reason.requires_approval
    return bool(
        reason
        and db.session.execute(
            select(Reason.requires_approval).where(Reason.code == reason)
        ).scalar()
    )


def over_threshold(changing: int) -> bool:
    """True when a change of `changing` customers needs approval whatever its reason."""
    threshold = _threshold()
    return threshold > 0 and changing > threshold


def confirmation_note(changing: int) -> str:
    """What the confirmation page says about approval before Confirm ("" when nothing)."""
    rules = policy()
    if over_threshold(changing):
        return ngettext(
            "More than %(num)d customer: Confirm sends this change for approval; nothing "
            "changes until another approver approves it.",
            "More than %(num)d customers: Confirm sends this change for approval; nothing "
            "changes until another approver approves it.",
            rules.threshold,
        )
    if rules.reasons:
        return _(
            "With one of these reasons Confirm sends the change for approval: %(reasons)s.",
            reasons=label_list(rules.reasons, style="or"),
        )
    return ""


def may_approve(actor_role: str | None) -> bool:
    return Permission.APPROVE_STATUS_CHANGES in permissions_of(actor_role)


def _threshold() -> int:
    return int(current_app.config.get("APPROVAL_THRESHOLD") or 0)


def _max_age_hours() -> int:
    return int(current_app.config.get("APPROVAL_MAX_AGE_HOURS") or 72)


def _max_age() -> timedelta:
    return timedelta(hours=_max_age_hours())


def is_expired(approval: ApprovalRequest) -> bool:
    return approval.status == PENDING and utcnow() - approval.created_at > _max_age()


def shown_status(approval: ApprovalRequest) -> str:
    """The status as shown: a pending request past its age is expired even before anyone
    tries to decide it (which records that)."""
    return EXPIRED if is_expired(approval) else approval.status


@dataclass(frozen=True)
class Requested:
    approval_id: int
    operation_id: int
    customers: int


def request_approval(
    snapshot_id: str,
    *,
    actor: Actor,
    reason_code: str | None,
    memo: str = "",
    effective_at: datetime | None = None,
    until: datetime | None = None,
) -> Requested:
    """Store an approval request for the snapshot `snapshot_id` (the confirmation its
    requester previewed) with the reason, memo and the confirmation's dates (`effective_at`,
    `until`: checked by scheduling.check_schedule), and log `approval_requested`. Changes no
    customer. Commits. Raises NotAllowed (another user's snapshot), InvalidInput (reason /
    memo / dates), ConfirmationUsed (already executed), Conflict (already sent for approval),
    Expired (snapshot gone)."""
    memo = memo or ""
    when = scheduling.When(effective_at, until)
    with write_transaction() as session:
        request = status_change.load_request(snapshot_id)
        if request.created_by != actor.id:
            raise NotAllowed(_("This confirmation belongs to another user."))
        status_change.ensure_unused(snapshot_id)
        existing = session.execute(
            select(ApprovalRequest.id).where(ApprovalRequest.snapshot_id == snapshot_id)
        ).scalar_one_or_none()
        _refuse_if_already_sent(existing)
        action = StatusAction(request.action)
        reason = status_change.validated_reason(action, reason_code, memo)
        scheduling.check_schedule(action, when, now=utcnow())
        customers = status_change.changing_count(snapshot_id)
        dates = {
            name: scheduling.scope_iso(value)
            for name, value in (("effective_at", effective_at), ("until", until))
            if value is not None
        }
        return _store_request(
            ApprovalRequest(
                snapshot_id=snapshot_id,
                action=action.value,
                effective_at=effective_at,
                until=until,
            ),
            actor=actor,
            reason=reason,
            memo=memo,
            customers=customers,
            scope={"selection": status_change._json(request.scope), **dates},
        )


def request_revert_approval(
    operation_id: int, *, actor: Actor, reason_code: str | None, memo: str = ""
) -> Requested:
    """Store an approval request for reverting operation `operation_id` and log
    `approval_requested`; changes no customer. Commits. Raises like `revert.execute`, and
    Conflict when a revert of that operation is already waiting for approval."""
    memo = memo or ""
    with write_transaction() as session:
        operation = revert._revertible_operation(operation_id, confirming=True)
        existing = session.execute(
            select(ApprovalRequest.id).where(
                ApprovalRequest.reverts_operation_id == operation_id,
                ApprovalRequest.status == PENDING,
            )
        ).scalar_one_or_none()
        _refuse_if_already_sent(existing)
        reason = status_change.validated_reason(None, reason_code, memo)
        customers = revert.eligible_count(operation_id)
        return _store_request(
            ApprovalRequest(action=REVERT, reverts_operation_id=operation.id),
            actor=actor,
            reason=reason,
            memo=memo,
            customers=customers,
            scope={"reverts": operation_id},
        )


def _refuse_if_already_sent(existing: int | None) -> None:
    if existing is not None:
        raise Conflict(
            _(
                "This change was already sent for approval (request #%(id)d). Nothing has changed.",
                id=existing,
            )
        )


def _store_request(
    approval: ApprovalRequest,
    *,
    actor: Actor,
    reason: Reason,
    memo: str,
    customers: int,
    scope: dict,
) -> Requested:
    """Fill in and store the pending `approval` (its action and target already set) and log
    its `approval_requested` operation, inside the caller's write transaction."""
    approval.status = PENDING
    approval.reason_code = reason.code
    approval.memo = memo
    approval.customer_count = customers
    approval.requested_by = actor.id
    approval.requested_by_name = actor.username
    approval.created_at = utcnow()
    approval.comment = ""
    db.session.add(approval)
    db.session.flush()
    operation = append_operation(
        NewOperation(
            actor=actor,
            action=OperationAction.APPROVAL_REQUESTED,
            reason_code=reason.code,
            memo=memo,
            scope={
                "approval_request": approval.id,
                "status_action": approval.action,
                "customers": customers,
                **scope,
            },
            changed_count=0,
        )
    )
    approval.request_operation_id = operation.id
    return Requested(approval.id, operation.id, customers)


@dataclass(frozen=True)
class Decision:
    approval_id: int
    status: str
    operation_id: int  # the decision's operation (approval_approved / _rejected / _cancelled)
    result: status_change.OperationResult | None = None  # approved: the status change made
    # approved with dates: what was scheduled (`scheduled.applied` is `result`, if any)
    scheduled: scheduling.ScheduleResult | None = None


def _locked(session, approval_id: int) -> ApprovalRequest:
    approval = session.execute(
        select(ApprovalRequest)
        .where(ApprovalRequest.id == approval_id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if approval is None:
        raise NotFound(_("This approval request does not exist."))
    return approval


def _refuse_own(approval: ApprovalRequest, actor: Actor) -> None:
    if approval.requested_by is not None and approval.requested_by == actor.id:
        security_event(
            "approval_own_request",
            level=logging.WARNING,
            approval_id=approval.id,
            actor_id=actor.id,
        )
        raise NotAllowed(
            _("You cannot decide on your own request; another approver must. Nothing changed.")
        )


def _not_pending_message(status: str, approval_id: int) -> str:
    if status == APPROVED:
        return _("Request #%(id)d was already approved. Nothing was changed again.", id=approval_id)
    if status == REJECTED:
        return _("Request #%(id)d was already rejected. Nothing was changed.", id=approval_id)
    if status == CANCELLED:
        return _(
            "Request #%(id)d was cancelled by its requester. Nothing was changed.", id=approval_id
        )
    return _(
        "Request #%(id)d has expired and can no longer be approved. Nothing was changed.",
        id=approval_id,
    )


def _claim(session, approval: ApprovalRequest, status: str, actor: Actor, comment: str) -> bool:
    """Move the request from pending to `status` with one conditional UPDATE: True when this
    transaction won it (the writers' lock is held, so exactly one decider can)."""
    values = {"status": status, "decided_at": utcnow(), "comment": comment}
    if status in (APPROVED, REJECTED):
        values.update(decided_by=actor.id, decided_by_name=actor.username)
    claimed = session.execute(
        update(APPROVALS)
        .where(ApprovalRequest.id == approval.id, ApprovalRequest.status == PENDING)
        .values(**values)
    )
    return claimed.rowcount == 1


def _decide(approval_id: int, status: str, *, actor: Actor, comment: str) -> Decision:
    """The one path of every decision: lock, check, claim, act, log — in one transaction.
    An expired request is marked expired (committed) and then refused."""
    expired_id = None
    with write_transaction() as session:
        approval = _locked(session, approval_id)
        if status == CANCELLED:
            if approval.requested_by is None or approval.requested_by != actor.id:
                raise NotAllowed(_("Only the requester can cancel a request."))
        else:
            if not may_approve(actor.role):
                raise NotAllowed(_("You are not allowed to approve status changes."))
            _refuse_own(approval, actor)
        if is_expired(approval) and status != CANCELLED:
            _claim(session, approval, EXPIRED, actor, "")
            expired_id = approval.id
        else:
            if not _claim(session, approval, status, actor, comment):
                raise Conflict(_not_pending_message(approval.status, approval.id))
            return _act(session, approval, status, actor=actor, comment=comment)
    raise Conflict(_not_pending_message(EXPIRED, expired_id))


def _act(session, approval: ApprovalRequest, status: str, *, actor: Actor, comment: str):
    link = {
        "approval_request": approval.id,
        "requested_by": approval.requested_by,
        "requested_by_name": approval.requested_by_name,
        "request_operation": approval.request_operation_id,
    }
    result = scheduled = None
    if status == APPROVED and approval.action == REVERT:
        result = revert.apply_revert(
            session,
            approval.reverts_operation_id or 0,
            actor=actor,
            reason_code=approval.reason_code,
            memo=approval.memo,
            scope={"approval": link},
        )
        link["operation"] = result.operation_id
    elif status == APPROVED:
        if approval.snapshot_id is None:
            raise Conflict(_not_pending_message(EXPIRED, approval.id))
        request = status_change.load_request(approval.snapshot_id)
        status_change.ensure_unused(approval.snapshot_id)
        reason = session.execute(
            select(Reason).where(Reason.code == approval.reason_code)
        ).scalar_one()
        when = _dates_now(approval)
        if when.is_now:
            result = status_change.apply_request(
                session,
                request,
                actor=actor,
                reason=reason,
                memo=approval.memo,
                chunk_size=current_app.config.get(
                    "STATUS_CHANGE_CHUNK_SIZE", status_change.ID_CHUNK
                ),
                scope={"approval": link},
            )
            link["operation"] = result.operation_id
        else:
            # The same path as a direct confirmation with dates, with the approver as actor.
            scheduled = scheduling.apply_schedule(
                session,
                request,
                actor=actor,
                reason=reason,
                memo=approval.memo,
                when=when,
                scope={"approval": dict(link)},
            )
            result = scheduled.applied
            link["operation"] = scheduled.operation_id
    action = {
        APPROVED: OperationAction.APPROVAL_APPROVED,
        REJECTED: OperationAction.APPROVAL_REJECTED,
        CANCELLED: OperationAction.APPROVAL_CANCELLED,
    }[status]
    operation = append_operation(
        NewOperation(
            actor=actor,
            action=action,
            reason_code=approval.reason_code,
            memo=comment,
            scope=link,
            changed_count=0,
        )
    )
    session.execute(
        update(APPROVALS)
        .where(ApprovalRequest.id == approval.id)
        .values(
            decision_operation_id=operation.id,
            result_operation_id=link.get("operation"),
        )
    )
    return Decision(approval.id, status, operation.id, result, scheduled)


def _dates_now(approval: ApprovalRequest) -> scheduling.When:
    """The request's dates as of now, when it is approved: an effective time that has passed
    means now (the change applies at once); a reactivation time that has passed refuses the
    approval (Conflict: the change would be over before it began)."""
    now = utcnow()
    effective_at, until = approval.effective_at, approval.until
    if until is not None and until <= now:
        raise Conflict(
            _(
                "Request #%(id)d can no longer be approved: its automatic reactivation date "
                "has passed. Nothing was changed.",
                id=approval.id,
            )
        )
    if effective_at is not None and effective_at <= now:
        effective_at = None
    return scheduling.When(effective_at, until)


def approve(approval_id: int, *, actor: Actor, comment: str = "") -> Decision:
    """Approve request `approval_id` and run its snapshot (see the module docstring). Commits
    once: the request's status, the customers, the status change's operation and the
    `approval_approved` operation together. Raises NotAllowed (own request, or no
    permission: 403 with a security event), Conflict (decided already, cancelled, expired),
    NotFound."""
    return _decide(
        approval_id, APPROVED, actor=actor, comment=input_rules.comment(comment, required=False)
    )


def reject(approval_id: int, *, actor: Actor, comment: str) -> Decision:
    """Reject request `approval_id`; the comment is required (InvalidInput on field
    "comment"). Logs `approval_rejected`. Commits. Same refusals as `approve`."""
    return _decide(
        approval_id, REJECTED, actor=actor, comment=input_rules.comment(comment, required=True)
    )


def cancel(approval_id: int, *, actor: Actor) -> Decision:
    """Cancel request `approval_id` (its requester only; NotAllowed otherwise). Logs
    `approval_cancelled`. Commits. Conflict when it was decided already."""
    return _decide(approval_id, CANCELLED, actor=actor, comment="")


# -- reading --------------------------------------------------------------------------------


def impact(snapshot_id: str, *, max_rows: int, offset: int = 0) -> status_change.Preview:
    """What approving now would do: `status_change.describe` of the snapshot, with the
    customers changed since the request (which approval skips) counted as skipped."""
    preview = status_change.describe(snapshot_id, max_rows=max_rows, offset=offset)
    changed = status_change.changed_since(snapshot_id)
    if changed:
        preview.eligible -= changed
        preview.skipped[status_change.SKIP_CHANGED] = changed
    return preview


def get(approval_id: int) -> ApprovalRequest:
    approval = db.session.get(ApprovalRequest, approval_id)
    if approval is None:
        raise NotFound(_("This approval request does not exist."))
    return approval


def list_requests(
    *, requested_by: int | None = None, limit: int = 50, offset: int = 0
) -> list[ApprovalRequest]:
    """Pending requests first, then the others, each newest first (by decision, else request
    time); `limit` of them from `offset`; with `requested_by`, only that user's."""
    query = select(ApprovalRequest).where(*_of_requester(requested_by))
    pending_first = (ApprovalRequest.status != PENDING).label("decided")
    query = query.order_by(
        pending_first,
        func.coalesce(ApprovalRequest.decided_at, ApprovalRequest.created_at).desc(),
        ApprovalRequest.id.desc(),
    )
    return list(db.session.execute(query.limit(limit).offset(offset)).scalars())


def count_requests(*, requested_by: int | None = None) -> int:
    """How many requests list_requests pages through."""
    query = select(func.count()).select_from(ApprovalRequest)
    return db.session.execute(query.where(*_of_requester(requested_by))).scalar_one()


def _of_requester(requested_by: int | None) -> tuple:
    return () if requested_by is None else (ApprovalRequest.requested_by == requested_by,)


def _live_pending(cutoff=None) -> tuple:
    """Pending and not yet past their age (made after `cutoff`, by default now less the age)."""
    return (
        ApprovalRequest.status == PENDING,
        ApprovalRequest.created_at >= (utcnow() - _max_age() if cutoff is None else cutoff),
    )


def pending_count() -> int:
    """Pending requests not yet past their age: one COUNT on the status index."""
    return db.session.execute(
        select(func.count()).select_from(ApprovalRequest).where(*_live_pending())
    ).scalar_one()


def pending_ids(limit: int) -> list[int]:
    """Up to `limit` pending requests not yet past their age (the navigation's badge: an
    index range on status, no COUNT on any page)."""
    cutoff = utcnow() - _max_age()
    return list(db.session.execute(_LIVE_PENDING_IDS, {"cutoff": cutoff, "limit": limit}).scalars())


# pending_ids' statement, built once (it runs on every page an approver opens).
_LIVE_PENDING_IDS = (
    select(ApprovalRequest.id)
    .where(*_live_pending(bindparam("cutoff", type_=ApprovalRequest.created_at.type)))
    .limit(bindparam("limit", type_=Integer))
)


def for_operation(operation_id: int) -> ApprovalRequest | None:
    """The approval request an operation belongs to (its request, decision or result)."""
    return db.session.execute(
        select(ApprovalRequest).where(
            (ApprovalRequest.request_operation_id == operation_id)
            | (ApprovalRequest.decision_operation_id == operation_id)
            | (ApprovalRequest.result_operation_id == operation_id)
        )
    ).scalar_one_or_none()
