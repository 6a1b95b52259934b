"""Benchmark the status API in-app (Flask test client, no network): one customer lookup, a
1,000-code check, a 1,000-change feed page; medians and p90, plus the feed query's plan.

    .venv/bin/python benchmarks/bench_api.py --customers 100000 --entries 1000000
    DATABASE_URL=postgresql://postgres@127.0.0.1/ca_perf_bench \\
        .venv/bin/python benchmarks/bench_api.py --fresh --customers 100000 --entries 1000000
    .venv/bin/python benchmarks/bench_api.py --reuse     # a database generate.py already filled

Without DATABASE_URL a new SQLite file in a temporary directory is used. Without --reuse the
data comes from benchmarks/generate.py (the database must be empty, or --fresh to recreate
it). Targets (issue 17): lookup <= 5 ms, check <= 50 ms, feed page <= 50 ms (medians).
Not run by the tests.
"""

import argparse
import random
import secrets
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from admin_app.extensions import db  # noqa: E402
from admin_app.models import AuditEntry, Customer  # noqa: E402
from admin_app.services import api_tokens  # noqa: E402
from admin_app.services.audit import Actor  # noqa: E402
from admin_app.services.status_api import feed_query  # noqa: E402
from benchmarks.common import (  # noqa: E402
    database_url,
    fresh_app,
    migrated_app,
    summary,
    timed,
)


@contextmanager
def cpu_timed(results: list):
    start = time.process_time()
    yield
    results.append(time.process_time() - start)


def explain(statement) -> str:
    compiled = statement.compile(db.engine)
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}",
                tuple(compiled.params[k] for k in compiled.positiontup),
            )
            return "\n".join(f"  {row[-1]}" for row in rows)
        rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}", compiled.params)
        return "\n".join(f"  {row[0]}" for row in rows)


def run(app, *, rounds: int, seed: int) -> None:
    rng = random.Random(seed)
    with app.app_context():
        codes = list(db.session.execute(sa.select(Customer.code)).scalars())
        max_entry = db.session.execute(sa.select(sa.func.max(AuditEntry.id))).scalar() or 0
        token = api_tokens.create_token(
            f"bench-{secrets.token_hex(4)}", expires_days=1, actor=Actor.cli()
        ).token
        print(f"{len(codes)} customers, entry ids up to {max_entry}, {db.engine.dialect.name}")
        print("feed query plan (a page of 1,000 from the middle of the log):")
        print(explain(feed_query(max_entry // 2, 1000, db.engine.dialect.name)))
        db.session.remove()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def call(method, path, **kwargs):
        response = getattr(client, method)(path, headers=headers, **kwargs)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return response

    for _ in range(5):  # warm up: connections, compiled statements, templates
        call("get", f"/api/v1/customers/{rng.choice(codes)}")
    lookup, check, feed = ([], []), ([], []), ([], [])
    for _ in range(rounds * 10):
        with timed(lookup[0]), cpu_timed(lookup[1]):
            call("get", f"/api/v1/customers/{rng.choice(codes)}")
    for _ in range(rounds):
        wanted = rng.sample(codes, min(1000, len(codes)))
        with timed(check[0]), cpu_timed(check[1]):
            call("post", "/api/v1/customers/check", json={"codes": wanted})
    for _ in range(rounds):
        after = rng.randrange(max(1, max_entry - 50_000))
        with timed(feed[0]), cpu_timed(feed[1]):
            page = call(
                "get", "/api/v1/status-changes", query_string={"after": after, "limit": 1000}
            ).get_json()
        assert len(page["items"]) == 1000 or page["next"] >= max_entry - 50_000
    # wall: what a caller waits (inflated on a busy machine); cpu: this process's own CPU
    # time (the app, and SQLite's work; PostgreSQL's server time is not in it)
    for label, (wall, cpu) in (
        ("lookup (1 code)     ", lookup),
        ("check (1,000 codes) ", check),
        ("feed (1,000 changes)", feed),
    ):
        print(f"{label}  wall {summary(wall)}")
        print(f"{' ' * len(label)}  cpu  {summary(cpu)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fresh", action="store_true", help="recreate the database first")
    parser.add_argument(
        "--force", action="store_true", help="with --fresh: allow any PostgreSQL database name"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="measure the data already in the database"
    )
    args = parser.parse_args()
    url = database_url()
    print(f"database: {url}")
    app = fresh_app(url, force=args.force) if args.fresh else migrated_app(url)
    if not args.reuse:
        from benchmarks.generate import generate

        with app.app_context():
            made = generate(customers=args.customers, entries=args.entries, seed=args.seed)
            print(f"generated {made.customers} customers, {made.entries} entries")
            db.session.remove()
    run(app, rounds=args.rounds, seed=args.seed)


if __name__ == "__main__":
    main()
