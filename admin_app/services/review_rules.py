"""Review rules: creating and editing them (admins). How many customers each matches lives in
services.review (the same SQL as the review queue).

Each create or edit is one logged operation (`review_rule_create` / `review_rule_update`) with
one entry per changed field on entity `review_rule`; the reason is logged by its code. Rules
are disabled, never deleted, so the review history keeps making sense.
"""

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from admin_app.models import SEGMENTS, Reason, ReviewRule
from admin_app.models.types import utcnow
from admin_app.services import input_rules
from admin_app.services.actions import OperationAction
from admin_app.services.audit import Actor, NewOperation, append_operation, changed_fields
from admin_app.services.errors import InvalidInput, NotFound
from admin_app.services.input_rules import audit_text
from admin_app.services.transaction import write_transaction

NAME_MAX_LENGTH = 120
MAX_DAYS = 3650


RULES: dict[str, input_rules.Rule] = {
    "name": input_rules.Text(_l("Name"), max_length=NAME_MAX_LENGTH, required=True),
    "name_zh": input_rules.Text(_l("Name (Simplified Chinese)"), max_length=NAME_MAX_LENGTH),
    "name_zh_hant": input_rules.Text(_l("Name (Traditional Chinese)"), max_length=NAME_MAX_LENGTH),
    "segment": input_rules.Choice(
        SEGMENTS,
        _l("Segment must be empty (all) or one of: %(segments)s."),
        optional=True,
        placeholder="segments",
    ),
    "inactivity_days": input_rules.WholeNumber(_l("Inactive for"), 1, MAX_DAYS, days=True),
    "flag_over_credit": bool,
    "contract_ended_days": input_rules.WholeNumber(_l("Contract ended"), 0, MAX_DAYS, days=True),
    "reason_id": input_rules.OptionalId(_l("Unknown reason.")),
    "enabled": bool,
}
FIELDS = tuple(RULES)


def _check(session, values: dict[str, Any]) -> str | None:
    """Validate the rule as a whole; returns the reason's code (for the log)."""
    if (
        values.get("inactivity_days") is None
        and not values.get("flag_over_credit")
        and values.get("contract_ended_days") is None
    ):
        raise InvalidInput(
            _("Set at least one condition: inactivity, over credit limit or contract ended.")
        )
    if values.get("reason_id") is None:
        return None
    code = session.execute(
        select(Reason.code).where(Reason.id == values["reason_id"])
    ).scalar_one_or_none()
    if code is None:
        raise InvalidInput(_("Unknown reason."))
    return code


def _reason_codes(session) -> dict[int, str]:
    return dict(session.execute(select(Reason.id, Reason.code)).all())


def _logged(name: str, value: Any, codes: dict[int, str]) -> str | None:
    if name == "reason_id":
        return codes.get(value) if value is not None else None
    return audit_text(value)


def _field_name(name: str) -> str:
    return "reason" if name == "reason_id" else name


def create_rule(fields: dict[str, Any], *, actor: Actor) -> int:
    """Create a review rule and log it (one entry per set field). Commits. Returns its id.
    Raises InvalidInput."""
    values = {
        "name_zh": None,
        "name_zh_hant": None,
        "segment": None,
        "inactivity_days": None,
        "flag_over_credit": False,
        "contract_ended_days": None,
        "reason_id": None,
        "enabled": True,
        **input_rules.clean(fields, RULES),
    }
    if "name" not in values:
        raise InvalidInput(_("Name is required."))
    with write_transaction() as session:
        _check(session, values)
        codes = _reason_codes(session)
        rule = ReviewRule(**values)
        session.add(rule)
        session.flush()
        append_operation(
            NewOperation(
                actor=actor,
                action=OperationAction.REVIEW_RULE_CREATE,
                entries=[
                    (
                        "review_rule",
                        rule.id,
                        rule.name,
                        _field_name(name),
                        None,
                        _logged(name, values[name], codes),
                    )
                    for name in FIELDS
                    if values[name] is not None
                ],
                changed_count=1,
            )
        )
        return rule.id


def update_rule(rule_id: int, changes: dict[str, Any], *, actor: Actor) -> int:
    """Apply `changes` and log one entry per changed field. Commits. Returns how many fields
    changed (0: nothing written, nothing logged). Raises NotFound or InvalidInput."""
    cleaned = input_rules.clean(changes, RULES)
    with write_transaction() as session:
        rule = session.execute(
            select(ReviewRule).where(ReviewRule.id == rule_id).with_for_update(of=ReviewRule)
        ).scalar_one_or_none()
        if rule is None:
            raise NotFound(_("This review rule does not exist."))
        diff = changed_fields(rule, cleaned)
        if not diff:
            return 0
        _check(session, {name: diff.get(name, getattr(rule, name)) for name in FIELDS})
        codes = _reason_codes(session)
        entries = [
            (
                "review_rule",
                rule.id,
                rule.name,
                _field_name(name),
                _logged(name, getattr(rule, name), codes),
                _logged(name, value, codes),
            )
            for name, value in diff.items()
        ]
        session.execute(
            update(ReviewRule)
            .where(ReviewRule.id == rule_id)
            .values(**diff, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        append_operation(
            NewOperation(
                actor=actor,
                action=OperationAction.REVIEW_RULE_UPDATE,
                entries=entries,
                changed_count=1,
            )
        )
        return len(diff)
