"""The app's real HTTP endpoints under gunicorn, on generated data: median and p90.

    make bench                                                   # SQLite, temporary file
    DATABASE_URL=postgresql://postgres@127.0.0.1/ca_perf_bench make bench
    .venv/bin/python benchmarks/bench_http.py [--customers 100000] [--entries 1000000]
        [--repeats 30] [--bulk-repeats 4] [--workers 2] [--reuse] [--plans]

Unless --reuse, the database is recreated and filled by benchmarks/generate.py (PostgreSQL
database names must contain "bench" or "ca_perf"). Then gunicorn serves the app and one
logged-in admin (CSRF on, as in a browser) measures, one request at a time:

Each line also shows the time spent in the app itself (its Server-Timing header: the request
minus network, gunicorn and client) and the workers' CPU time per request.

- the grid: page 1, ?status=active, a code prefix search, a name prefix search;
- a customer's details page; the operation log, page 1 and page 1,000 (?page=999), and
  filtered by a customer code typed in lower case;
- preview (action POST) and execution (confirm POST) of 1,000 checked customers, and of
  "select all matching" with no filter (every customer), alternating deactivate and
  reactivate so each timed round changes the same rows. Before each execution the same
  UPDATE of the customers + INSERT of their log entries runs in raw SQL on the same rows (and
  is rolled back); its time and the ratio execution / raw SQL are printed beside it;
- the app's cap: an action POST with 30,000 checked ids (~350 KB, under Flask's form limit)
  answered 413 "At most 10,000 checked customers" (tests/security/test_c_rowids.py T23
  checks it touches no customer row; this times it);
- the gunicorn workers' peak memory (VmHWM);
- `flask audit verify`, when this tree has that command.

--plans prints the query plans of the grid and log pages afterwards (benchmarks/plans.py).
The numbers depend on the machine: run it on an idle one.
"""

import argparse
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from admin_app.extensions import db  # noqa: E402
from admin_app.models import Customer, StaffUser, StatusAction  # noqa: E402
from benchmarks.common import (  # noqa: E402
    database_url,
    fresh_app,
    median,
    migrated_app,
    p90,
    sqlalchemy_url,
)
from benchmarks.generate import DEFAULT_PASSWORD, generate  # noqa: E402
from benchmarks.webclient import ROOT, StaffClient, gunicorn  # noqa: E402

RESULTS: list[tuple[str, list[float], str]] = []


def report(label: str, seconds: list[float], note: str = "") -> None:
    ms = [s * 1000 for s in seconds]
    RESULTS.append((label, seconds, note))
    print(
        f"  {label:<44} median {median(ms):8.1f} ms   p90 {p90(ms):8.1f} ms   "
        f"n={len(ms):<3} {note}",
        flush=True,
    )


APP_TIMES: list[float] = []  # seconds spent in the app (Server-Timing) by the last requests


def app_seconds(response) -> float:
    """The app's own time for a response, from its Server-Timing header (SERVER_TIMING=1)."""
    header = response.headers.get("Server-Timing", "")
    return float(header.split("dur=")[1]) / 1000 if "dur=" in header else float("nan")


def timed_get(client: StaffClient, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise SystemExit(f"GET {path} -> HTTP {response.status_code}")
    APP_TIMES.append(app_seconds(response))
    return elapsed


def measure_get(
    client: StaffClient, server, label: str, paths, repeats: int, warmup: int = 2
) -> None:
    """Time `repeats` GETs; also print the app's own CPU time per request (gunicorn workers,
    not the database), which a busy machine disturbs much less than the wall-clock time."""
    paths = list(paths) if not isinstance(paths, str) else [paths]
    for index in range(warmup):
        timed_get(client, paths[index % len(paths)])
    cpu_before = server.worker_cpu_seconds()
    APP_TIMES.clear()
    times = [timed_get(client, paths[index % len(paths)]) for index in range(repeats)]
    cpu_ms = (server.worker_cpu_seconds() - cpu_before) * 1000 / repeats
    report(
        label, times, f"in app {median(APP_TIMES) * 1000:.1f} ms, app CPU {cpu_ms:.0f} ms/request"
    )


# -- raw SQL: the same UPDATE + INSERT, on the same rows ----------------------------------------


def raw_status_change(
    engine, *, action: StatusAction, actor_id: int, ids: list[int] | None
) -> tuple[float, int]:
    """UPDATE the customers + INSERT their log entries (and the operation row they reference)
    in hand-written set-based SQL; timed, then rolled back. Returns (seconds, rows changed)."""
    target = action.target.value
    allowed = tuple(s.value for s in action.allowed_from)
    postgres = engine.dialect.name == "postgresql"
    params = {
        "target": target,
        "actor": actor_id,
        "now": datetime.now(UTC),
        "reason": "customer_request",
    }
    where = "status IN (" + ", ".join(f"'{s}'" for s in allowed) + ")"
    if ids is not None:
        if postgres:
            where += " AND id = ANY(:ids)"
            params["ids"] = ids
        else:
            where += " AND id IN (SELECT value FROM json_each(:ids))"
            params["ids"] = "[" + ",".join(map(str, ids)) + "]"
    with engine.connect() as conn:
        transaction = conn.begin()
        start = time.perf_counter()
        if not postgres:
            conn.exec_driver_sql("SELECT 1")  # BEGIN is deferred on SQLite: take no lock yet
        operation_id = conn.execute(
            sa.text(
                "INSERT INTO audit_operations (created_at, actor_id, actor_username, actor_role, "
                "action, memo, scope, changed_count, skipped_count, source, prev_hash, hash) "
                "VALUES (:now, :actor, 'raw', 'admin', :action, '', '{}', 0, 0, 'cli', 'raw', :hash) "
                "RETURNING id"
            ),
            {**params, "action": action.value, "hash": f"raw-{time.time_ns()}"},
        ).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO audit_entries (operation_id, entity, entity_id, entity_label, field, "
                "old_value, new_value) SELECT :operation, 'customer', id, code, 'status', status, "
                f":target FROM customers WHERE {where} ORDER BY id"
            ),
            {**params, "operation": operation_id},
        )
        changed = conn.execute(
            sa.text(
                "UPDATE customers SET status = :target, status_reason = :reason, "
                "status_changed_at = :now, status_changed_by = :actor, version = version + 1, "
                f"updated_at = :now WHERE {where}"
            ),
            params,
        ).rowcount
        elapsed = time.perf_counter() - start
        transaction.rollback()
    return elapsed, changed


# -- the bulk flow over HTTP --------------------------------------------------------------------


def run_bulk(
    client: StaffClient,
    engine,
    actor_id: int,
    label: str,
    rounds: int,
    *,
    ids: list[int] | None,
    expect_changed: int,
) -> None:
    """`rounds` timed rounds alternating deactivate / reactivate of the same customers."""
    previews, executions, raws, in_app = [], [], [], []
    for round_number in range(rounds):
        action = StatusAction.DEACTIVATE if round_number % 2 == 0 else StatusAction.REACTIVATE
        raw_seconds, raw_changed = raw_status_change(
            engine, action=action, actor_id=actor_id, ids=ids
        )
        start = time.perf_counter()
        response, token = client.start_action(action.value, ids or (), select_all=ids is None)
        previews.append(time.perf_counter() - start)
        if response.status_code != 200 or token is None:
            raise SystemExit(f"{label}: no confirmation token (HTTP {response.status_code})")
        start = time.perf_counter()
        response = client.confirm(token)
        elapsed = time.perf_counter() - start
        if response.status_code != 303:
            raise SystemExit(f"{label}: confirm -> HTTP {response.status_code}")
        executions.append(elapsed)
        in_app.append(app_seconds(response))
        raws.append(raw_seconds)
        if raw_changed != expect_changed:
            raise SystemExit(f"{label}: raw SQL changed {raw_changed}, expected {expect_changed}")
    report(f"{label}: preview", previews)
    report(f"{label}: execution", executions, f"in app {median(in_app) * 1000:.1f} ms")
    report(
        f"{label}: raw SQL UPDATE + INSERT",
        raws,
        f"execution / raw = {median(executions) / median(raws):.2f}x "
        f"(in app: {median(in_app) / median(raws):.2f}x)",
    )


def measure_cap(client: StaffClient, repeats: int, checked: int = 30_000) -> None:
    """The action POST over the checked-ids cap: refused 413 before any database work."""
    times, app_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        response, _ = client.start_action("deactivate", range(1, checked + 1))
        times.append(time.perf_counter() - start)
        if response.status_code != 413:
            raise SystemExit(f"{checked:,} checked ids -> HTTP {response.status_code}, not 413")
        app_times.append(app_seconds(response))
    report(
        f"{checked:,} checked ids: 413 from the app's cap",
        times,
        f"in app {median(app_times) * 1000:.1f} ms",
    )


def current_status_counts() -> dict[str, int]:
    counts = dict(
        db.session.execute(
            sa.select(Customer.status, sa.func.count()).group_by(Customer.status)
        ).all()
    )
    db.session.commit()
    return counts


def measure_audit_verify(url: str, repeats: int) -> None:
    import os

    env = {**os.environ, "DATABASE_URL": url, "APP_CONFIG": "development"}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "audit", "verify"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise SystemExit(f"flask audit verify failed: {result.stdout}{result.stderr}")
    report("flask audit verify (whole chain)", times, result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=30, help="timed requests per page")
    parser.add_argument(
        "--bulk-repeats",
        type=int,
        default=4,
        help="timed rounds per bulk case (alternating deactivate/reactivate)",
    )
    parser.add_argument(
        "--checked", type=int, default=1000, help="customers checked in the 'checked' bulk case"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--reuse", action="store_true", help="use the database as it is (made by an earlier run)"
    )
    parser.add_argument(
        "--force", action="store_true", help="allow recreating a PostgreSQL database of any name"
    )
    parser.add_argument("--plans", action="store_true", help="print query plans at the end")
    parser.add_argument("--verify-repeats", type=int, default=3)
    parser.add_argument("--skip-reads", action="store_true", help="only the bulk cases")
    args = parser.parse_args()
    if args.bulk_repeats < 2 or args.bulk_repeats % 2:
        parser.error("--bulk-repeats must be even (rounds alternate deactivate / reactivate)")

    url = database_url()
    app_url = sqlalchemy_url(url)
    app = migrated_app(url) if args.reuse else fresh_app(url, force=args.force)
    with app.app_context():
        if not args.reuse:
            result = generate(customers=args.customers, entries=args.entries)
            print(
                f"generated {result.customers:,} customers, {result.operations:,} operations,"
                f" {result.entries:,} entries in {result.seconds:.0f} s"
            )
        engine = db.engine
        dialect = engine.dialect.name
        customers = db.session.execute(sa.select(sa.func.count()).select_from(Customer)).scalar()
        admin_id = db.session.execute(
            sa.select(StaffUser.id).where(StaffUser.username == "admin")
        ).scalar_one()
        code_prefix = db.session.execute(
            sa.select(Customer.code).order_by(Customer.id).offset(customers // 3).limit(1)
        ).scalar_one()[:-2]
        name_prefix = (
            db.session.execute(sa.select(Customer.name).where(Customer.id == customers // 2))
            .scalar_one()
            .split()[0]
        )
        db.session.commit()
        print(
            f"database: {dialect}; {customers:,} customers; statuses {current_status_counts()};"
            f" gunicorn workers: {args.workers}",
            flush=True,
        )

        # The executions timed are one admin's changes running now: no second approver.
        env = {"SERVER_TIMING": "1", "APPROVAL_THRESHOLD": "0"}
        with gunicorn(app_url, workers=args.workers, env=env) as server:
            client = StaffClient(server.url, "admin", DEFAULT_PASSWORD)
            client.login()
            rng = random.Random(7)
            if not args.skip_reads:
                measure_reads(
                    client, server, rng, args.repeats, customers, code_prefix, name_prefix
                )

            print("bulk (each execution beside the same UPDATE + INSERT in raw SQL):")
            checked = list(
                db.session.execute(
                    sa.select(Customer.id)
                    .where(Customer.status == "active")
                    .order_by(sa.func.random() if dialect == "sqlite" else sa.text("random()"))
                    .limit(args.checked)
                ).scalars()
            )
            db.session.commit()
            run_bulk(
                client,
                engine,
                admin_id,
                f"{len(checked):,} checked",
                args.bulk_repeats,
                ids=checked,
                expect_changed=len(checked),
            )
            measure_cap(client, args.repeats)
            # Everyone active first, so each timed round changes every customer; afterwards
            # the frozen and deactivated ones go back (through the app, so the log agrees).
            before = _ids_by_status(("frozen", "deactivated"))
            _, token = client.start_action("reactivate", select_all=True)
            if client.confirm(token).status_code != 303:
                raise SystemExit("could not reactivate everyone before the select-all case")
            run_bulk(
                client,
                engine,
                admin_id,
                f"select all matching ({customers:,})",
                args.bulk_repeats,
                ids=None,
                expect_changed=customers,
            )
            peaks = server.worker_peak_rss_mb()
            print(
                f"  worker peak memory after bulk: {_peaks(server)} "
                f"(max {max(peaks.values()):.0f} MB)"
            )
            _restore(client, before)
        measure_audit_verify(app_url, args.verify_repeats)
        if args.plans:
            from benchmarks.plans import plans_for

            print(
                plans_for(
                    app,
                    [
                        "/admin/customers/",
                        "/admin/customers/?status=active",
                        f"/admin/customers/?search={code_prefix}",
                        f"/admin/customers/?search={name_prefix}",
                        "/admin/audit/",
                        "/admin/audit/?page=999",
                        "/admin/audit/?flt0_customer_code_equals=c0000042",
                    ],
                    password=DEFAULT_PASSWORD,
                )
            )


def measure_reads(client, server, rng, repeats, customers, code_prefix, name_prefix) -> None:
    print("reads (one request at a time):")
    measure_get(
        client, server, "grid page 1 (with status tab counts)", "/admin/customers/", repeats
    )
    measure_get(client, server, "grid ?status=active", "/admin/customers/?status=active", repeats)
    measure_get(
        client,
        server,
        f"grid search code prefix {code_prefix!r}",
        f"/admin/customers/?search={code_prefix}",
        repeats,
    )
    measure_get(
        client,
        server,
        f"grid search name prefix {name_prefix!r}",
        f"/admin/customers/?search={name_prefix}",
        repeats,
    )
    measure_get(
        client,
        server,
        "customer details page",
        [f"/admin/customers/details/?id={rng.randint(1, customers)}" for _ in range(repeats)],
        repeats,
    )
    measure_get(client, server, "log page 1", "/admin/audit/", repeats)
    measure_get(client, server, "log page 1,000 (?page=999)", "/admin/audit/?page=999", repeats)
    # The customer-code filter, typed in lower case (index ix_audit_entries_customer_code_lower).
    measure_get(
        client,
        server,
        "log filtered by customer code (lower case)",
        [
            f"/admin/audit/?tab=all&flt0_customer_code_equals=c{rng.randint(1, customers):07d}"
            for _ in range(repeats)
        ],
        repeats,
    )
    print(f"  worker peak memory after reads: {_peaks(server)}")


def _ids_by_status(statuses) -> dict[str, list[int]]:
    found = {
        status: list(
            db.session.execute(
                sa.select(Customer.id).where(Customer.status == status).order_by(Customer.id)
            ).scalars()
        )
        for status in statuses
    }
    db.session.commit()
    return found


def _restore(client: StaffClient, ids_by_status: dict[str, list[int]]) -> None:
    """Freeze / deactivate those customers again, in operations of at most 10,000."""
    actions = {"frozen": "freeze", "deactivated": "deactivate"}
    for status, ids in ids_by_status.items():
        for start in range(0, len(ids), 10_000):
            _, token = client.start_action(actions[status], ids[start : start + 10_000])
            if token is None or client.confirm(token).status_code != 303:
                raise SystemExit(f"could not restore the {status} customers")


def _peaks(server) -> str:
    return ", ".join(f"{mb:.0f} MB" for mb in sorted(server.worker_peak_rss_mb().values()))


if __name__ == "__main__":
    main()
