"""Placing orders: the one way an order is created (admin form, CLI, any future API).

A customer whose status is not `active` can take no new order: `place_order` refuses it with
`CustomerNotActive`, logs a warning line, and writes nothing (a refused order is not a change,
so it is not an operation in the log). A placed order is one logged operation `order_create`
(entries on entity `order`, plus the customer's `last_order_at`), in one transaction that also
moves the customer's `last_order_at` forward and bumps its version.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update

from admin_app.extensions import db
from admin_app.models import Customer, CustomerStatus, Order
from admin_app.models.types import utcnow
from admin_app.services import input_rules
from admin_app.services.actions import OperationAction
from admin_app.services.audit import Actor, NewOperation, append_operation
from admin_app.services.errors import CustomerNotActive, NotFound
from admin_app.services.transaction import write_transaction

NUMBER_PREFIX = "SO"
RECENT_ORDERS = 20


def _refused_message(status: str, code: str) -> str:
    if status == CustomerStatus.FROZEN.value:
        return _("Customer %(code)s is frozen and cannot take new orders.", code=code)
    if status == CustomerStatus.DEACTIVATED.value:
        return _("Customer %(code)s is deactivated and cannot take new orders.", code=code)
    return _("Customer %(code)s is not active and cannot take orders.", code=code)


@dataclass(frozen=True)
class PlacedOrder:
    id: int
    number: str
    customer_id: int
    customer_code: str
    amount: Decimal
    ordered_at: datetime
    operation_id: int


def _next_number(session) -> str:
    """The next free order number. The caller holds the chain-head lock, so writers are
    serialised and the number cannot be taken between this read and the insert."""
    candidate = (session.execute(select(func.max(Order.id))).scalar() or 0) + 1
    while True:
        number = f"{NUMBER_PREFIX}{candidate:08d}"
        if session.execute(select(Order.id).where(Order.number == number)).first() is None:
            return number
        candidate += 1


ORDER_RULES: dict[str, input_rules.Rule] = {
    "amount": input_rules.Money(_l("Amount"), positive=True)
}


def place_order(customer_id: int, amount, *, actor: Actor) -> PlacedOrder:
    """Create an order for an active customer and log it. Commits once.

    Also sets the customer's `last_order_at` (never moving it backwards) and bumps its version,
    so an edit form opened before the order is detected as stale. Raises InvalidInput (amount),
    NotFound (no such customer) or CustomerNotActive (frozen / deactivated; nothing written).
    """
    amount = input_rules.clean({"amount": amount}, ORDER_RULES)["amount"]
    with write_transaction() as session:
        customer = session.execute(
            select(Customer).where(Customer.id == customer_id).with_for_update()
        ).scalar_one_or_none()
        if customer is None:
            raise NotFound(_("This customer does not exist."))
        if customer.status != CustomerStatus.ACTIVE.value:
            current_app.logger.warning(
                "order refused: customer %s (id %s) is %s; actor=%s source=%s amount=%s",
                customer.code,
                customer.id,
                customer.status,
                actor.username,
                actor.source,
                amount,
            )
            raise CustomerNotActive(_refused_message(customer.status, customer.code))
        now = utcnow()
        number = _next_number(session)
        order_id = session.execute(
            insert(Order)
            .values(
                number=number,
                customer_id=customer.id,
                amount=amount,
                ordered_at=now,
                created_by=actor.id,
                created_at=now,
            )
            .returning(Order.id)
        ).scalar_one()
        old_last = customer.last_order_at
        new_last = max(old_last, now) if old_last is not None else now
        session.execute(
            update(Customer)
            .where(Customer.id == customer.id, Customer.version == customer.version)
            .values(last_order_at=new_last, version=Customer.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        operation = append_operation(
            NewOperation(
                actor=actor,
                action=OperationAction.ORDER_CREATE,
                entries=[
                    ("order", order_id, number, "number", None, number),
                    ("order", order_id, number, "customer", None, customer.code),
                    ("order", order_id, number, "amount", None, str(amount)),
                    ("order", order_id, number, "ordered_at", None, now.isoformat()),
                    (
                        "customer",
                        customer.id,
                        customer.code,
                        "last_order_at",
                        old_last.isoformat() if old_last else None,
                        new_last.isoformat(),
                    ),
                ],
                scope={"customer_id": customer.id, "order_id": order_id},
                changed_count=1,
            )
        )
        result = PlacedOrder(
            order_id, number, customer.id, customer.code, amount, now, operation.id
        )
    return result


def find_customer_id(code: str) -> int:
    """The id of the customer with this code (case-insensitive); raises NotFound."""
    customer_id = db.session.execute(
        select(Customer.id).where(func.lower(Customer.code) == code.strip().lower())
    ).scalar_one_or_none()
    if customer_id is None:
        raise NotFound(_("No customer has the code %(code)s.", code=repr(code.strip())))
    return customer_id


@dataclass(frozen=True)
class CustomerOrders:
    total: int
    recent: list[Order]


def recent_orders(customer_id: int, limit: int = RECENT_ORDERS) -> CustomerOrders:
    """A customer's newest orders and how many it has, whatever its status."""
    total = db.session.execute(
        select(func.count()).select_from(Order).where(Order.customer_id == customer_id)
    ).scalar_one()
    recent = (
        db.session.execute(
            select(Order)
            .where(Order.customer_id == customer_id)
            .order_by(Order.ordered_at.desc(), Order.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
    return CustomerOrders(total, list(recent))
