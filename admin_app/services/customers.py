"""Creating customers and editing their details (never their status: see status_change).

Each call is one logged operation with one entry per changed field.
"""

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from admin_app.models import SEGMENTS, Customer
from admin_app.models.types import utcnow
from admin_app.roles import Permission, permissions_of
from admin_app.services import input_rules
from admin_app.services.actions import OperationAction
from admin_app.services.audit import (
    Actor,
    NewOperation,
    append_operation,
    changed_fields,
    field_entries,
)
from admin_app.services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from admin_app.services.input_rules import audit_text
from admin_app.services.transaction import write_transaction

# Money fields: only roles with Permission.EDIT_CREDIT may set them (a clerk edits contacts).
CREDIT_FIELDS = ("credit_limit", "balance")


def may_edit_credit(actor: Actor) -> bool:
    """True when `actor` may change balances and credit limits (the system/CLI actor may)."""
    return actor.id is None or Permission.EDIT_CREDIT in permissions_of(actor.role)


def _refuse_credit_changes(names, actor: Actor) -> None:
    if not may_edit_credit(actor) and set(names) & set(CREDIT_FIELDS):
        raise NotAllowed(_("You are not allowed to change balances or credit limits."))


RULES: dict[str, input_rules.Rule] = {
    "code": input_rules.Text(_l("Code"), max_length=32, required=True),
    "name": input_rules.Text(_l("Name"), max_length=200, required=True),
    "email": input_rules.Text(
        _l("Email"),
        max_length=254,
        pattern=input_rules.EMAIL_ADDRESS,
        pattern_message=_l("Email must be an address such as name@example.com."),
    ),
    "phone": input_rules.Text(_l("Phone"), max_length=40),
    "segment": input_rules.Choice(
        SEGMENTS, _l("Segment must be one of: %(names)s."), placeholder="names"
    ),
    "credit_limit": input_rules.Money(_l("Credit limit"), not_negative=True),
    "balance": input_rules.Money(_l("Balance")),
    "contract_end": input_rules.OptionalDate(_l("Contract end")),
}
EDITABLE_FIELDS = tuple(RULES)


def _ensure_code_free(session, code: str, customer_id: int | None = None) -> None:
    query = select(Customer.id).where(func.lower(Customer.code) == code.lower())
    if customer_id is not None:
        query = query.where(Customer.id != customer_id)
    if session.execute(query).first():
        raise Conflict(_("Another customer already has the code %(code)s.", code=code))


def create_customer(fields: dict[str, Any], *, actor: Actor) -> int:
    """Create an active customer and log it. Commits. Returns the new id."""
    cleaned = input_rules.clean(fields, RULES)
    if not cleaned.get("code") or not cleaned.get("name"):
        raise InvalidInput(_("Code and name are required."))
    _refuse_credit_changes([name for name in CREDIT_FIELDS if cleaned.get(name)], actor)
    with write_transaction() as session:
        _ensure_code_free(session, cleaned["code"])
        customer = Customer(**cleaned, status="active")
        session.add(customer)
        session.flush()
        append_operation(
            NewOperation(
                actor=actor,
                action=OperationAction.CUSTOMER_CREATE,
                entries=[
                    ("customer", customer.id, customer.code, name, None, audit_text(value))
                    for name, value in cleaned.items()
                    if value is not None
                ],
                changed_count=1,
            )
        )
        return customer.id


def _version(value: Any) -> int:
    """The version an edit form was filled from (an int, or its digits as the form sends it)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if type(value) is not int:
        raise InvalidInput(
            _(
                "This form has no valid version of the customer, so it could "
                "overwrite someone else's change. Nothing was saved: open the "
                "customer again and repeat your edit."
            )
        )
    return value


def update_details(
    customer_id: int,
    changes: dict[str, Any],
    *,
    expected_version: int | str | None,
    actor: Actor,
) -> int:
    """Apply `changes` to the customer's details and log one entry per changed field, only if
    the customer is still at `expected_version` (the version the form was filled from).

    Commits. Returns how many fields changed (0: nothing written, nothing logged). Raises
    NotFound, InvalidInput (also for a missing or non-integer version), or Conflict when the
    customer changed since `expected_version`.
    """
    expected_version = _version(expected_version)
    cleaned = input_rules.clean(changes, RULES)
    with write_transaction() as session:
        customer = session.execute(
            select(Customer).where(Customer.id == customer_id).with_for_update()
        ).scalar_one_or_none()
        if customer is None:
            raise NotFound(_("This customer no longer exists."))
        if customer.version != expected_version:
            raise Conflict(_("This customer was changed by someone else. Reload and try again."))
        if "code" in cleaned:
            _ensure_code_free(session, cleaned["code"], customer_id)
        diff = changed_fields(customer, cleaned)
        if not diff:
            return 0
        _refuse_credit_changes(diff, actor)
        entries = field_entries("customer", customer, customer.code, diff)
        session.execute(
            update(Customer)
            .where(Customer.id == customer_id, Customer.version == customer.version)
            .values(**diff, version=Customer.version + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        append_operation(
            NewOperation(
                actor=actor, action=OperationAction.CUSTOMER_EDIT, entries=entries, changed_count=1
            )
        )
        return len(diff)
