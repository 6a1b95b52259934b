"""Review rules: creating and editing them (admins). How many customers each matches lives in
services.review (the same SQL as the review queue).

Each create or edit is one logged operation (`review_rule_create` / `review_rule_update`) with
one entry per changed field on entity `review_rule`; the reason is logged by its code. Rules
are disabled, never deleted, so the review history keeps making sense.
"""

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from admin_app.models import SEGMENTS, Reason, ReviewRule
from admin_app.models.types import utcnow
from admin_app.services.actions import OperationAction
from admin_app.services.audit import Actor, NewOperation, append_operation, lock_chain_head
from admin_app.services.errors import InvalidInput, NotFound
from admin_app.services.reasons import audit_text
from admin_app.services.transaction import write_transaction

FIELDS = (
    "name",
    "name_zh",
    "name_zh_hant",
    "segment",
    "inactivity_days",
    "flag_over_credit",
    "contract_ended_days",
    "reason_id",
    "enabled",
)
NAME_MAX_LENGTH = 120
MAX_DAYS = 3650


def _days(label: str, value: Any, *, minimum: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(_("%(field)s must be a whole number of days.", field=label)) from None
    if not minimum <= days <= MAX_DAYS:
        raise InvalidInput(
            _(
                "%(field)s must be between %(min)d and %(max)d days.",
                field=label,
                min=minimum,
                max=MAX_DAYS,
            )
        )
    return days


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise InvalidInput(
            _("These fields cannot be changed: %(fields)s.", fields=", ".join(sorted(unknown)))
        )
    cleaned: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "name":
            text = str(value or "").strip()
            if not text or len(text) > NAME_MAX_LENGTH or not text.isprintable():
                raise InvalidInput(
                    _("Name: 1 to %(max)d printable characters.", max=NAME_MAX_LENGTH)
                )
            cleaned[name] = text
        elif name in ("name_zh", "name_zh_hant"):
            text = str(value or "").strip()
            if len(text) > NAME_MAX_LENGTH or not text.isprintable():
                raise InvalidInput(
                    _("Name: 1 to %(max)d printable characters.", max=NAME_MAX_LENGTH)
                )
            cleaned[name] = text or None
        elif name == "segment":
            segment = str(value or "").strip() or None
            if segment is not None and segment not in SEGMENTS:
                raise InvalidInput(
                    _(
                        "Segment must be empty (all) or one of: %(segments)s.",
                        segments=", ".join(SEGMENTS),
                    )
                )
            cleaned[name] = segment
        elif name == "inactivity_days":
            cleaned[name] = _days(_("Inactive for"), value, minimum=1)
        elif name == "contract_ended_days":
            cleaned[name] = _days(_("Contract ended"), value, minimum=0)
        elif name in ("flag_over_credit", "enabled"):
            cleaned[name] = bool(value)
        elif name == "reason_id":
            if value in (None, ""):
                cleaned[name] = None
            else:
                try:
                    cleaned[name] = int(value)
                except (TypeError, ValueError):
                    raise InvalidInput(_("Unknown reason.")) from None
    return cleaned


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
        **_clean(fields),
    }
    if "name" not in values:
        raise InvalidInput(_("Name is required."))
    with write_transaction() as session:
        lock_chain_head()
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
    cleaned = _clean(changes)
    with write_transaction() as session:
        lock_chain_head()
        rule = session.execute(
            select(ReviewRule).where(ReviewRule.id == rule_id).with_for_update(of=ReviewRule)
        ).scalar_one_or_none()
        if rule is None:
            raise NotFound(_("This review rule does not exist."))
        diff = {name: value for name, value in cleaned.items() if getattr(rule, name) != value}
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
