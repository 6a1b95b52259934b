"""Customers and their status machine."""

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.extensions import Model
from admin_app.models.types import UTCDateTime, created_ts, intpk, money, updated_ts


class CustomerStatus(enum.StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"
    DEACTIVATED = "deactivated"


class StatusAction(enum.StrEnum):
    DEACTIVATE = "deactivate"
    FREEZE = "freeze"
    REACTIVATE = "reactivate"

    @property
    def target(self) -> CustomerStatus:
        return _ACTION_TARGET[self]

    @property
    def allowed_from(self) -> tuple[CustomerStatus, ...]:
        return _ACTION_FROM[self]


_ACTION_TARGET = {
    StatusAction.DEACTIVATE: CustomerStatus.DEACTIVATED,
    StatusAction.FREEZE: CustomerStatus.FROZEN,
    StatusAction.REACTIVATE: CustomerStatus.ACTIVE,
}
_ACTION_FROM = {
    StatusAction.DEACTIVATE: (CustomerStatus.ACTIVE, CustomerStatus.FROZEN),
    StatusAction.FREEZE: (CustomerStatus.ACTIVE,),
    StatusAction.REACTIVATE: (CustomerStatus.FROZEN, CustomerStatus.DEACTIVATED),
}

SEGMENTS = ("retail", "wholesale", "distributor")


def over_credit(balance: Decimal | None, credit_limit: Decimal | None) -> bool:
    """A balance above the credit limit (a missing amount counts as zero): the mark on the
    grid and the confirmation page, the order form's warning."""
    return (balance or Decimal(0)) > (credit_limit or Decimal(0))


class Customer(Model):
    __tablename__ = "customers"
    # No index contains a column that a status change writes (status, version, status_*,
    # updated_at), and PostgreSQL leaves half of each page free: a bulk status change is then
    # a HOT update that touches no index (migration 0004_perf). Per-status counts come from
    # CustomerStatusCount instead of an index on status.
    __table_args__ = (
        CheckConstraint("status IN ('active', 'frozen', 'deactivated')", name="status_known"),
        {"postgresql_with": {"fillfactor": 50}},
    )

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    segment: Mapped[str] = mapped_column(String(20), index=True, default="retail")
    credit_limit: Mapped[money]
    balance: Mapped[money]
    contract_end: Mapped[date | None] = mapped_column(Date, index=True)
    last_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(16), default=CustomerStatus.ACTIVE.value)
    status_reason: Mapped[str | None] = mapped_column(String(32))
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_changed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    review_kept_until: Mapped[date | None] = mapped_column(Date)
    # Bumped by every write (bulk updates included) so a stale edit form is detected.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[created_ts]
    updated_at: Mapped[updated_ts]

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_over_credit(self) -> bool:
        return over_credit(self.balance, self.credit_limit)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def __repr__(self) -> str:
        return f"<Customer {self.code} {self.status}>"


class CustomerStatusCount(Model):
    """How many customers have each status. Kept by database triggers on `customers`
    (migration 0004_perf) in the same transaction as every insert, status change and delete,
    so the grid's status tabs need no scan of the customers."""

    __tablename__ = "customer_status_counts"

    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int]
