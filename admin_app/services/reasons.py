"""Reasons for status changes: creating and editing them (admins), and where each is used.

Each create or edit is one logged operation (`reason_create` / `reason_update`) with one entry
per changed field on entity `reason`. A reason is never deleted: the operation log, customers'
`status_reason` and review rules refer to it, so it can only be disabled. Its code is fixed
once created, for the same reason.
"""

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update

from admin_app.extensions import db
from admin_app.models import AuditOperation, Customer, Reason, ReviewRule
from admin_app.models.types import utcnow
from admin_app.services import input_rules
from admin_app.services.actions import OperationAction
from admin_app.services.audit import (
    Actor,
    NewOperation,
    append_operation,
    changed_fields,
    field_entries,
)
from admin_app.services.errors import Conflict, InvalidInput, NotFound
from admin_app.services.input_rules import audit_text
from admin_app.services.transaction import write_transaction

CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")
ACTION_FLAGS = ("for_deactivate", "for_freeze", "for_reactivate")
BOOLEAN_FIELDS = (*ACTION_FLAGS, "memo_required", "requires_approval", "enabled")
EDITABLE_FIELDS = ("label", "label_zh", "label_zh_hant", *BOOLEAN_FIELDS, "position")
CREATE_FIELDS = ("code", *EDITABLE_FIELDS)
MAX_POSITION = 10_000


RULES: dict[str, input_rules.Rule] = {
    "code": input_rules.Text(
        _l("Code"),
        max_length=32,
        required=True,
        pattern=CODE_PATTERN,
        pattern_message=_l("Code: 1 to 32 lowercase letters, digits or _, starting with a letter."),
    ),
    "label": input_rules.Text(_l("Label"), required=True),
    "label_zh": input_rules.Text(_l("Simplified Chinese label")),
    "label_zh_hant": input_rules.Text(_l("Traditional Chinese label")),
    **{name: bool for name in BOOLEAN_FIELDS},
    "position": input_rules.WholeNumber(_l("Position in lists"), 0, MAX_POSITION, empty=0),
}


def _ensure_applies_to_an_action(values: dict[str, Any]) -> None:
    if not any(values.get(flag) for flag in ACTION_FLAGS):
        raise InvalidInput(_("A reason must apply to at least one action."))


def create_reason(fields: dict[str, Any], *, actor: Actor) -> int:
    """Create a reason and log it (one entry per field). Commits. Returns its id.
    Raises InvalidInput, or Conflict when the code is taken."""
    cleaned = input_rules.clean(fields, RULES, only=CREATE_FIELDS)
    if "code" not in cleaned or "label" not in cleaned:
        raise InvalidInput(_("Code and label are required."))
    values = {
        "for_deactivate": True,
        "for_freeze": True,
        "for_reactivate": False,
        "memo_required": False,
        "requires_approval": False,
        "enabled": True,
        "position": 0,
        "label_zh": None,
        "label_zh_hant": None,
        **cleaned,
    }
    _ensure_applies_to_an_action(values)
    with write_transaction() as session:
        taken = session.execute(
            select(Reason.id).where(func.lower(Reason.code) == values["code"].lower())
        ).first()
        if taken:
            raise Conflict(
                _("A reason with the code %(code)s already exists.", code=repr(values["code"]))
            )
        reason = Reason(**values)
        session.add(reason)
        session.flush()
        append_operation(
            NewOperation(
                actor=actor,
                action=OperationAction.REASON_CREATE,
                entries=[
                    ("reason", reason.id, reason.code, name, None, audit_text(values[name]))
                    for name in CREATE_FIELDS
                    if values[name] is not None
                ],
                changed_count=1,
            )
        )
        return reason.id


def update_reason(reason_id: int, changes: dict[str, Any], *, actor: Actor) -> int:
    """Apply `changes` (never the code) and log one entry per changed field. Commits.
    Returns how many fields changed (0: nothing written, nothing logged).
    Raises NotFound or InvalidInput."""
    cleaned = input_rules.clean(changes, RULES, only=EDITABLE_FIELDS)
    with write_transaction() as session:
        reason = session.execute(
            select(Reason).where(Reason.id == reason_id).with_for_update()
        ).scalar_one_or_none()
        if reason is None:
            raise NotFound(_("This reason does not exist."))
        diff = changed_fields(reason, cleaned)
        if not diff:
            return 0
        _ensure_applies_to_an_action(
            {flag: diff.get(flag, getattr(reason, flag)) for flag in ACTION_FLAGS}
        )
        entries = field_entries("reason", reason, reason.code, diff)
        session.execute(
            update(Reason)
            .where(Reason.id == reason_id)
            .values(**diff, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        append_operation(
            NewOperation(
                actor=actor, action=OperationAction.REASON_UPDATE, entries=entries, changed_count=1
            )
        )
        return len(diff)


@dataclass(frozen=True)
class ReasonUsage:
    operations: int = 0
    customers: int = 0
    rules: int = 0

    @property
    def in_use(self) -> bool:
        return bool(self.operations or self.customers or self.rules)


def usage() -> dict[str, ReasonUsage]:
    """For each reason code: how many operations, customers (status_reason) and review rules
    refer to it. Three GROUP BY queries, whatever the number of reasons."""
    operations = dict(
        db.session.execute(
            select(AuditOperation.reason_code, func.count())
            .where(AuditOperation.reason_code.is_not(None))
            .group_by(AuditOperation.reason_code)
        ).all()
    )
    customers = dict(
        db.session.execute(
            select(Customer.status_reason, func.count())
            .where(Customer.status_reason.is_not(None))
            .group_by(Customer.status_reason)
        ).all()
    )
    rules = dict(
        db.session.execute(
            select(Reason.code, func.count(ReviewRule.id))
            .join(ReviewRule, ReviewRule.reason_id == Reason.id)
            .group_by(Reason.code)
        ).all()
    )
    codes = {code for code in (*operations, *customers, *rules) if code}
    return {
        code: ReasonUsage(operations.get(code, 0), customers.get(code, 0), rules.get(code, 0))
        for code in codes
    }


def named_by(code_column, text: str):
    """A condition on a column of reason codes: the reason `text` names, by its code or a
    label in any language, in any letter case (what a reader types in a filter is what they
    read; a code no longer in the table still matches itself)."""
    wanted = text.strip().lower()
    names = (Reason.code, Reason.label, Reason.label_zh, Reason.label_zh_hant)
    named = select(Reason.code).where(or_(*(func.lower(name) == wanted for name in names)))
    return or_(code_column == wanted, code_column.in_(named))
