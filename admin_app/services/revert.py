"""Reverting a status operation: customers it changed go back to their previous status.

Only customers whose status is still what the operation set, and whose status no later
operation touched, go back; the others are skipped and reported. The revert is a new
operation referencing the original (`reverts_operation_id`, unique: an operation is reverted
at most once). Preview and execution both read the current state; execution is one
transaction with the writers' lock held, so what it changes is exactly what it checked.
"""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Select, exists, select, update
from sqlalchemy.orm import aliased

from admin_app.extensions import db
from admin_app.models import AuditEntry, AuditOperation, Customer, StatusAction
from admin_app.models.types import utcnow
from admin_app.services import history
from admin_app.services.actions import REVERTIBLE_ACTIONS, OperationAction
from admin_app.services.audit import Actor, NewOperation, append_operation
from admin_app.services.errors import ConfirmationUsed, Conflict, InvalidInput, NotAllowed, NotFound
from admin_app.services.status_change import (
    ID_CHUNK,
    OperationResult,
    PreviewRow,
    status_columns,
    validated_reason,
)
from admin_app.services.transaction import write_transaction

SKIP_STATUS_MOVED = "status_moved"  # the customer's status is no longer what the op set
SKIP_LATER_CHANGE = "later_change"  # a later operation changed the customer's status
SKIP_GONE = "gone"


@dataclass
class RevertPreview:
    operation: AuditOperation
    eligible: int
    skipped: dict[str, int]
    rows: list[PreviewRow]

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def can_be_reverted(operation: AuditOperation) -> bool:
    return operation.action in REVERTIBLE_ACTIONS and operation.changed_count > 0


def _revertible_operation(operation_id: int, *, confirming: bool = False) -> AuditOperation:
    operation = db.session.get(AuditOperation, operation_id)
    if operation is None:
        raise NotFound(_("This operation does not exist."))
    if not can_be_reverted(operation):
        raise InvalidInput(_("Only status changes that changed customers can be reverted."))
    reverted_by = history.reverted_by(operation_id)
    if reverted_by is not None:
        message = _("This operation was already reverted by operation #%(id)d.", id=reverted_by)
        if confirming:  # a revert confirmation sent again (or a second one)
            raise ConfirmationUsed(message, operation_id=reverted_by)
        raise Conflict(message)
    return operation


def _status_entries(operation_id: int) -> Select:
    """The operation's status entries with the customer as it is now, and whether each
    customer can go back (`eligible`) or why not."""
    later = aliased(AuditEntry)
    touched_later = exists().where(
        later.entity == "customer",
        later.entity_id == AuditEntry.entity_id,
        later.field == "status",
        later.operation_id > operation_id,
    )
    return (
        select(
            AuditEntry.entity_id,
            AuditEntry.entity_label,
            AuditEntry.old_value,
            AuditEntry.new_value,
            Customer,
            touched_later.label("touched_later"),
        )
        .outerjoin(Customer, Customer.id == AuditEntry.entity_id)
        .where(
            AuditEntry.operation_id == operation_id,
            AuditEntry.entity == "customer",
            AuditEntry.field == "status",
        )
    )


def _why_skipped(row) -> str | None:
    if row.Customer is None:
        return SKIP_GONE
    if row.touched_later:
        return SKIP_LATER_CHANGE
    if row.Customer.status != row.new_value:
        return SKIP_STATUS_MOVED
    return None


def preview(operation_id: int, *, max_rows: int = 100, confirming: bool = False) -> RevertPreview:
    """What reverting would do now; changes nothing. Raises like `execute`; with `confirming`
    (step 2's page shown again), an operation already reverted is ConfirmationUsed."""
    operation = _revertible_operation(operation_id, confirming=confirming)
    eligible = 0
    skipped: dict[str, int] = {}
    rows: list[PreviewRow] = []
    for row in db.session.execute(
        _status_entries(operation_id).order_by(AuditEntry.id).execution_options(yield_per=ID_CHUNK)
    ):
        why = _why_skipped(row)
        if why is None:
            eligible += 1
        else:
            skipped[why] = skipped.get(why, 0) + 1
        if len(rows) < max_rows and row.Customer is not None:
            rows.append(
                PreviewRow(
                    id=row.entity_id,
                    code=row.entity_label,
                    name=row.Customer.name,
                    status=row.old_value,
                    current_status=row.Customer.status,
                    balance=row.Customer.balance,
                    credit_limit=row.Customer.credit_limit,
                    last_order_at=row.Customer.last_order_at,
                    skip=why,
                )
            )
    return RevertPreview(operation, eligible, skipped, rows)


def execute(
    operation_id: int, *, actor: Actor, confirmed_by: int, reason_code: str | None, memo: str = ""
) -> OperationResult:
    """Revert the operation now, in one transaction, and log the revert. Commits.

    `confirmed_by` is the user the confirmation was issued to; only that user may use it.
    Raises NotAllowed (another user's confirmation), NotFound, InvalidInput (not revertible,
    reason, memo) or ConfirmationUsed (already reverted)."""
    if actor.id is None or confirmed_by != actor.id:
        raise NotAllowed(_("This confirmation belongs to another user."))
    memo = memo or ""
    with write_transaction() as session:
        _revertible_operation(operation_id, confirming=True)
        reason = validated_reason(None, reason_code, memo)
        _refuse_when_approval_required(operation_id, reason.code)
        return apply_revert(session, operation_id, actor=actor, reason_code=reason.code, memo=memo)


def _refuse_when_approval_required(operation_id: int, reason_code: str) -> None:
    from admin_app.services import approvals  # approvals builds on this module

    if approvals.revert_needs_approval(operation_id, reason_code):
        raise approvals.ApprovalRequired(
            _("This change needs a second person's approval; send it for approval instead.")
        )


def eligible_count(operation_id: int) -> int:
    """How many customers reverting the operation would put back now."""
    return sum(
        1 for row in db.session.execute(_status_entries(operation_id)) if _why_skipped(row) is None
    )


def apply_revert(
    session,
    operation_id: int,
    *,
    actor: Actor,
    reason_code: str,
    memo: str,
    scope: dict | None = None,
) -> OperationResult:
    """The body of `execute`, inside the caller's write transaction (lock held, checks made):
    put the customers back and append the revert (`scope` adds to the logged scope). Also runs
    an approved revert (services.approvals). Does not commit."""
    operation = _revertible_operation(operation_id, confirming=True)
    going_back: list[tuple] = []
    skipped: dict[str, int] = {}
    for row in session.execute(_status_entries(operation_id).order_by(AuditEntry.id)):
        why = _why_skipped(row)
        if why is None:
            going_back.append((row.entity_id, row.entity_label, row.new_value, row.old_value))
        else:
            skipped[why] = skipped.get(why, 0) + 1
    _apply(session, going_back, reason_code, actor)
    going_back.sort()
    appended = append_operation(
        NewOperation(
            actor=actor,
            action=OperationAction.REVERT,
            entries=[
                ("customer", cid, code, "status", now, back) for cid, code, now, back in going_back
            ],
            reason_code=reason_code,
            memo=memo,
            scope={
                "reverts": operation_id,
                "original_action": operation.action,
                **(scope or {}),
            },
            changed_count=len(going_back),
            skipped_count=sum(skipped.values()),
            reverts_operation_id=operation_id,
        )
    )
    return OperationResult(appended.id, StatusAction(operation.action), len(going_back), skipped)


def _apply(session, going_back, reason_code: str, actor: Actor) -> None:
    """One UPDATE per previous status (and chunk of customers)."""
    now = utcnow()
    by_target: dict[str, list[int]] = {}
    for customer_id, _code, _current, previous in going_back:
        by_target.setdefault(previous, []).append(customer_id)
    for target, ids in by_target.items():
        for start in range(0, len(ids), ID_CHUNK):
            session.execute(
                update(Customer)
                .where(Customer.id.in_(ids[start : start + ID_CHUNK]))
                .values(status_columns(target, reason_code, actor.id, now))
                .execution_options(synchronize_session=False)
            )
