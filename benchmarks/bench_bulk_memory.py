"""Select all matching, in-process, on data already generated (PostgreSQL): time and the
Python memory peak (tracemalloc) of `status_change.execute`, alternating with the same
execution through another copy of services/status_change.py (e.g. the one before a change),
in ONE run, so their ratio holds on a busy machine.

    DATABASE_URL=postgresql://postgres@127.0.0.1/ca_perf_bench \\
        .venv/bin/python benchmarks/bench_bulk_memory.py [--baseline OLD_status_change.py]
        [--rounds 1]

Each round deactivates every active customer and reactivates them (by the ids it changed, so
the data ends as it started), with each implementation in turn. The log stays verifiable.
"""

import argparse
import importlib.util
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from admin_app.extensions import db  # noqa: E402
from admin_app.models import Customer, StaffUser, StatusAction  # noqa: E402
from admin_app.services import status_change  # noqa: E402
from admin_app.services.audit import Actor  # noqa: E402
from benchmarks.common import database_url, migrated_app  # noqa: E402


def load_baseline(path: Path):
    spec = importlib.util.spec_from_file_location("baseline_status_change", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(module, label: str, actor: Actor, action: StatusAction, matching, reason: str) -> None:
    request_id = status_change.create_request(action=action, actor=actor, matching=matching)
    db.session.remove()
    tracemalloc.start()
    start = time.perf_counter()
    result = module.execute(request_id, actor=actor, reason_code=reason)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    db.session.remove()
    print(
        f"  {label:<10} {action.value:<11} {result.changed:>9,} changed  {seconds:7.2f} s  "
        f"Python peak {peak / 2**20:7.1f} MB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="another status_change.py to compare")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    app = migrated_app(database_url())
    implementations = [("this tree", status_change)]
    if args.baseline:
        implementations.append(("baseline", load_baseline(args.baseline)))
    with app.app_context():
        admin = db.session.execute(
            sa.select(StaffUser).where(StaffUser.username == "admin")
        ).scalar_one()
        actor = Actor(id=admin.id, username=admin.username, role=admin.role)
        for _ in range(args.rounds):
            for label, module in implementations:
                active = sa.select(Customer.id).where(Customer.status == "active")
                run(module, label, actor, StatusAction.DEACTIVATE, active, "customer_request")
                # Back: the customers this round deactivated (their reason and actor say so).
                back = sa.select(Customer.id).where(
                    Customer.status == "deactivated",
                    Customer.status_reason == "customer_request",
                    Customer.status_changed_by == actor.id,
                )
                run(module, label, actor, StatusAction.REACTIVATE, back, "issue_resolved")


if __name__ == "__main__":
    main()
