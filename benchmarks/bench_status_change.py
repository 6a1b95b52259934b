"""Bulk status change: preview and execution through the service, beside raw SQL.

    DATABASE_URL=... .venv/bin/python benchmarks/bench_status_change.py [--customers 100000]

Without DATABASE_URL a temporary SQLite file is used. For PostgreSQL give a database name
that may be dropped and recreated (e.g. postgresql://postgres@127.0.0.1/ca_bench).
Prints median and p90 of: preview and execution of 1,000 checked customers; preview and
execution of "select all matching" (every active customer); and the same UPDATE + INSERT in
raw SQL on the same rows (rolled back), with the ratio.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from admin_app.extensions import db  # noqa: E402
from admin_app.models import Customer, StatusAction  # noqa: E402
from admin_app.services import status_change  # noqa: E402
from admin_app.services.audit import Actor  # noqa: E402
from admin_app.services.demo import _seed_reasons  # noqa: E402
from benchmarks.common import (  # noqa: E402
    add_staff,
    database_url,
    fresh_app,
    insert_customers,
    peak_rss_mb,
    summary,
    timed,
)


def raw_sql(ids: list[int], target: str, allowed: tuple[str, ...]) -> float:
    """The same work in hand-written SQL: UPDATE ... RETURNING, one operation row, a multi-row
    INSERT of the entries; timed, then rolled back."""
    start = time.perf_counter()
    with db.engine.connect() as conn:
        transaction = conn.begin()
        changed = []
        for chunk_start in range(0, len(ids), 5000):
            chunk = ids[chunk_start : chunk_start + 5000]
            changed += conn.execute(
                sa.update(Customer.__table__)
                .where(Customer.id.in_(chunk), Customer.status.in_(allowed))
                .values(status=target, version=Customer.version + 1)
                .returning(Customer.id, Customer.code, Customer.status)
            ).all()
        op_id = conn.execute(
            sa.text(
                "INSERT INTO audit_operations (created_at, actor_username, actor_role, action, memo,"
                " scope, changed_count, skipped_count, source, prev_hash, hash) VALUES "
                "(CURRENT_TIMESTAMP, 'raw', 'admin', 'raw', '', '{}', 0, 0, 'cli', 'x', :h) "
                "RETURNING id"
            ),
            {"h": str(time.time_ns())},
        ).scalar()
        rows = [
            {
                "operation_id": op_id,
                "entity": "customer",
                "entity_id": cid,
                "entity_label": code,
                "field": "status",
                "old_value": "active",
                "new_value": target,
            }
            for cid, code, _ in changed
        ]
        assert len(rows) == len(ids), "raw SQL must change the same rows"
        table = sa.table("audit_entries", *[sa.column(c) for c in rows[0]])
        for batch_start in range(0, len(rows), 2000):
            conn.execute(sa.insert(table), rows[batch_start : batch_start + 2000])
        elapsed = time.perf_counter() - start
        transaction.rollback()
    return elapsed


def run_case(label, actor, make_request, action, reason, repeats, ids_for_raw):
    previews, executions, raws = [], [], []
    for round_number in range(repeats):
        forward = round_number % 2 == 0
        act = action if forward else StatusAction.REACTIVATE
        # Raw SQL first, on the same rows in the same state; it is rolled back.
        raws.append(
            raw_sql(ids_for_raw(), act.target.value, tuple(s.value for s in act.allowed_from))
        )
        with timed(previews):
            request_id = make_request(act)
            status_change.describe(request_id)
        with timed(executions):
            result = status_change.execute(
                request_id, actor=actor, reason_code=reason if forward else "customer_request"
            )
    print(f"{label}: changed {result.changed:,} per run")
    print(f"  preview   {summary(previews)}")
    print(f"  execute   {summary(executions)}")
    print(f"  raw SQL   {summary(raws)}")
    median = lambda values: sorted(values)[len(values) // 2]  # noqa: E731
    print(f"  execute / raw SQL = {median(executions) / median(raws):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    url = database_url()
    app = fresh_app(url, MAX_CHECKED_IDS=10_000)
    with app.app_context():
        print(f"database: {db.engine.dialect.name}; customers: {args.customers:,}")
        insert_customers(args.customers)
        db.session.execute(sa.update(Customer).values(status="active"))
        db.session.commit()
        _seed_reasons(db.session)
        db.session.commit()
        user = add_staff()
        actor = Actor(id=user.id, username=user.username, role=user.role)
        checked = list(range(1, 1001))

        def checked_request(act):
            return status_change.create_request(action=act, actor=actor, ids=checked)

        run_case(
            "1,000 checked customers",
            actor,
            checked_request,
            StatusAction.DEACTIVATE,
            "customer_request",
            args.repeats,
            lambda: checked,
        )

        def matching_request(act):
            source = "active" if act != StatusAction.REACTIVATE else "deactivated"
            return status_change.create_request(
                action=act,
                actor=actor,
                matching=sa.select(Customer.id).where(Customer.status == source),
            )

        all_ids = list(range(1, args.customers + 1))
        run_case(
            f"select all matching ({args.customers:,})",
            actor,
            matching_request,
            StatusAction.DEACTIVATE,
            "customer_request",
            max(2, args.repeats // 2),
            lambda: all_ids,
        )
        print(f"peak RSS of this process: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
