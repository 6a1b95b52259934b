"""What durable commits cost on SQLite: the same small status operations with
`SQLITE_SYNCHRONOUS=NORMAL` and `FULL` (the default), in one run, as a ratio.

    .venv/bin/python benchmarks/bench_durability.py [--operations 60] [--customers 2000]

Each operation deactivates (then reactivates) 10 checked customers through the service: one
preview, one execution, one commit. FULL syncs the write-ahead log at every commit; NORMAL
only at checkpoints (a power cut can lose the last commits). Alternating rounds, so load on a
shared machine falls on both settings alike.
"""

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from admin_app.extensions import db  # noqa: E402
from admin_app.models import StatusAction  # noqa: E402
from admin_app.services import status_change  # noqa: E402
from admin_app.services.audit import Actor  # noqa: E402
from admin_app.services.demo import _seed_reasons  # noqa: E402
from benchmarks.common import add_staff, fresh_app, insert_customers, median, timed  # noqa: E402


def prepare(folder: Path, level: str, customers: int):
    app = fresh_app(f"sqlite:///{folder / f'bench_{level}.db'}", SQLITE_SYNCHRONOUS=level)
    with app.app_context():
        insert_customers(customers)
        _seed_reasons(db.session)
        db.session.commit()
        user = add_staff()
        actor = Actor(id=user.id, username=user.username, role=user.role)
    return app, actor


def one_operation(app, actor, round_number: int, times: list[float]) -> None:
    action = StatusAction.DEACTIVATE if round_number % 2 == 0 else StatusAction.REACTIVATE
    with app.app_context(), timed(times):
        request_id = status_change.create_request(
            action=action, actor=actor, ids=list(range(1, 11))
        )
        status_change.execute(request_id, actor=actor, reason_code="customer_request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--operations", type=int, default=60)
    parser.add_argument("--customers", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        setups = {
            level: prepare(Path(folder), level, args.customers) for level in ("NORMAL", "FULL")
        }
        times: dict[str, list[float]] = {level: [] for level in setups}
        for round_number in range(args.operations):
            for level, (app, actor) in setups.items():
                one_operation(app, actor, round_number, times[level])
    normal, full = median(times["NORMAL"]), median(times["FULL"])
    print(f"SQLite status operation (10 customers), median of {args.operations}:")
    print(f"  synchronous=NORMAL {normal * 1000:7.2f} ms")
    print(f"  synchronous=FULL   {full * 1000:7.2f} ms   (default; {full / normal:.2f}x NORMAL)")


if __name__ == "__main__":
    main()
