"""Pending approval requests and scheduled changes on a generated database, through the app's
own services, so that bench_pages.py measures the approvals and scheduled pages full.

    DATABASE_URL=postgresql://postgres@127.0.0.1/ca_perf_bench \\
        .venv/bin/python benchmarks/seed_workflows.py [--requests 300] [--schedules 200]
        [--batch 100]

--requests: pending approval requests by the generator's `manager`, of --batch active
customers each (more than the approval threshold of this run, so each needs approval);
--schedules: confirmations scheduled for the coming 30 days, --batch customers each, by
`admin`. Customers are taken in id order past those used already; nothing is executed.
"""

import argparse
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from admin_app.extensions import db  # noqa: E402
from admin_app.models import Customer, ScheduledChange, StaffUser, StatusAction  # noqa: E402
from admin_app.models.types import utcnow  # noqa: E402
from admin_app.services import approvals, scheduling, status_change  # noqa: E402
from admin_app.services.audit import Actor  # noqa: E402
from benchmarks.common import database_url, migrated_app  # noqa: E402


def actor(username: str) -> Actor:
    user = db.session.execute(
        sa.select(StaffUser).where(StaffUser.username == username)
    ).scalar_one()
    return Actor(id=user.id, username=user.username, role=user.role, source="web")


def active_batches(count: int, size: int, *, skip: int):
    ids = db.session.execute(
        sa.select(Customer.id)
        .where(Customer.status == "active", ~scheduling.has_pending_condition())
        .order_by(Customer.id)
        .offset(skip)
        .limit(count * size)
    ).scalars()
    ids = list(ids)
    return [ids[start : start + size] for start in range(0, len(ids) - size + 1, size)]


def seed_requests(count: int, size: int) -> None:
    manager = actor("manager")
    for batch in active_batches(count, size, skip=0):
        snapshot = status_change.create_request(
            action=StatusAction.FREEZE, actor=manager, ids=batch
        )
        approvals.request_approval(snapshot, actor=manager, reason_code="non_payment")


def seed_schedules(count: int, size: int, *, skip: int) -> None:
    admin, now = actor("admin"), utcnow()
    for number, batch in enumerate(active_batches(count, size, skip=skip)):
        snapshot = status_change.create_request(action=StatusAction.FREEZE, actor=admin, ids=batch)
        due = now + timedelta(days=1 + number % 30, hours=number % 24)
        scheduling.confirm(snapshot, actor=admin, reason_code="non_payment", effective_at=due)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--schedules", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    # Every request of --batch customers needs approval; a schedule by an admin does not.
    app = migrated_app(database_url(), APPROVAL_THRESHOLD=args.batch - 1)
    with app.app_context():
        seed_requests(args.requests, args.batch)
        app.config["APPROVAL_THRESHOLD"] = 0
        seed_schedules(args.schedules, args.batch, skip=args.requests * args.batch)
        pending = db.session.execute(
            sa.select(sa.func.count()).where(ScheduledChange.status == scheduling.PENDING)
        ).scalar_one()
        print(f"pending approval requests: {approvals.pending_count()}; scheduled: {pending}")


if __name__ == "__main__":
    main()
