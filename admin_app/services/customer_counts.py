"""How many customers have each status.

The unfiltered counts come from `customer_status_counts`, which database triggers keep in step
with `customers` in the same transaction as every insert, status change and delete (migration
0004_perf): reading them costs the same at 100 or 10,000,000 customers. Counts under a search
or filter need a GROUP BY over the matching customers. Read-only; never commits.
"""

from sqlalchemy import Select, func, select

from admin_app.extensions import db
from admin_app.models import Customer, CustomerStatus, CustomerStatusCount


def _every_status(rows) -> dict[str, int]:
    counts = {status.value: 0 for status in CustomerStatus}
    counts.update({status: count for status, count in rows})
    return counts


def status_counts() -> dict[str, int]:
    """Customers per status, every status present (zero when none)."""
    return _every_status(db.session.execute(_STATUS_COUNTS).all())


# Built once (every grid page reads it). By primary key: three index lookups, however many dead
# row versions the busy little table holds between two vacuums.
_STATUS_COUNTS = select(CustomerStatusCount.status, CustomerStatusCount.count).where(
    CustomerStatusCount.status.in_([status.value for status in CustomerStatus])
)


def matching_status_counts(matching: Select) -> dict[str, int]:
    """Customers per status among those `matching` selects (a SELECT of customers)."""
    matched = matching.order_by(None).with_only_columns(Customer.status).subquery()
    return _every_status(
        db.session.execute(select(matched.c.status, func.count()).group_by(matched.c.status)).all()
    )
