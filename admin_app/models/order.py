"""Orders: the transaction that a customer's status can block."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.extensions import Model
from admin_app.models.customer import Customer
from admin_app.models.types import UTCDateTime, created_ts, intpk, money, utcnow


class Order(Model):
    __tablename__ = "orders"

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount: Mapped[money]
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[created_ts]

    customer: Mapped[Customer] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<Order {self.number}>"
