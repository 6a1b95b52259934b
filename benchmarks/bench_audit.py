"""Benchmark the operation log at size: verify the chain, and open the log pages.

    .venv/bin/python benchmarks/bench_audit.py [--entries 1000000] [--operations 50000]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/ca_audit_bench \\
        .venv/bin/python benchmarks/bench_audit.py

DESTRUCTIVE for its own database: it recreates it (a SQLite file, default
instance/bench_audit.db, or the PostgreSQL database named in DATABASE_URL, which must contain
"bench"), migrates it, and fills the log directly with multi-row INSERTs whose hashes are
computed with services.audit.operation_hash, so the chain is valid. One operation (in the
middle) holds --big entries; the rest are spread over the other operations, a fifth of which
have none (logins).

Then, each in a fresh process so its peak RSS is its own:
  verify  - services.audit_verify.verify_chain(): time, peak RSS (resource.getrusage)
  pages   - through the Flask test client as an auditor: log list page 1 and page 1,000, the
            customer-code filter, the big operation's details (first and last entry page) and
            its entries CSV export
A baseline process (app created, one query) gives the RSS every process starts with.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Only the standard library at module level: the parent process stays small, because Linux
# carries a process's peak RSS over into the programs it starts (ru_maxrss survives exec).
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OPERATION_BATCH = 1000  # rows handed to one executemany INSERT
ENTRY_BATCH = 10_000
PASSWORD = "benchmark-password-1"
ACTIONS = ("deactivate", "freeze", "reactivate", "customer_edit")
REASONS = ("non_payment", "over_credit", "inactive", "contract_ended", "customer_request")


def database_url() -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{ROOT / 'instance' / 'bench_audit.db'}"
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_app():
    from admin_app import create_app

    return create_app("testing", SQLALCHEMY_DATABASE_URI=database_url())


def recreate_database(url: str) -> None:
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    if "bench" not in (parsed.database or ""):
        raise SystemExit(
            f"Refusing to recreate {parsed.database!r}: its name must contain 'bench'."
        )
    engine = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    engine.dispose()


def entry_counts(operations: int, entries: int, big: int, rng) -> list[int]:
    """How many entries each operation gets: one big one in the middle, a fifth with none."""
    counts = [0] * operations
    big_index = operations // 2
    counts[big_index] = min(big, entries)
    with_entries = [i for i in range(operations) if i != big_index and rng.random() >= 0.2]
    remaining = entries - counts[big_index]
    for position, index in enumerate(with_entries):
        share = remaining // (len(with_entries) - position)
        counts[index] = share
        remaining -= share
    return counts


def generate(operations: int, entries: int, big: int) -> dict:
    import random
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from admin_app.extensions import db
    from admin_app.models import AuditChainHead, AuditEntry, AuditOperation, StaffUser
    from admin_app.models.audit import GENESIS_HASH
    from admin_app.services.audit import ENTRY_FIELDS, canonical_json, operation_hash

    url = database_url()
    recreate_database(url)
    app = make_app()
    started = time.perf_counter()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        rng = random.Random(1)
        counts = entry_counts(operations, entries, big, rng)
        start = datetime(2025, 1, 1, tzinfo=UTC)
        prev_hash = GENESIS_HASH
        operation_rows: list[dict] = []
        entry_rows: list[dict] = []
        customer = 0
        op_table, entry_table = AuditOperation.__table__, AuditEntry.__table__
        # Render each executemany INSERT as multi-row INSERT ... VALUES (...), (...) batches
        # (SQLAlchemy's "insertmanyvalues"), compiled once instead of once per batch.
        db.engine.dialect.use_insertmanyvalues_wo_returning = True
        with db.engine.begin() as conn:

            def flush(force: bool = False) -> None:
                entries_due = entry_rows and (force or len(entry_rows) >= ENTRY_BATCH)
                # operations first (all of them when entries are due: the entries refer to them)
                if operation_rows and (
                    force or entries_due or len(operation_rows) >= OPERATION_BATCH
                ):
                    conn.execute(sa.insert(op_table), operation_rows)
                    operation_rows.clear()
                if entries_due:
                    conn.execute(sa.insert(entry_table), entry_rows)
                    entry_rows.clear()

            for index, count in enumerate(counts):
                operation_id = index + 1
                action = ACTIONS[index % len(ACTIONS)] if count else "login"
                entries_of = []
                for _ in range(count):
                    customer = customer % 200_000 + 1
                    entries_of.append(
                        ("customer", customer, f"C{customer:06d}", "status", "active", "frozen")
                    )
                row = {
                    "id": operation_id,
                    "created_at": start
                    + timedelta(minutes=10 * index, microseconds=rng.randrange(1_000_000)),
                    "actor_id": None,
                    "actor_username": f"user{index % 17}",
                    "actor_role": "manager",
                    "action": action,
                    "reason_code": REASONS[index % len(REASONS)] if count else None,
                    "memo": f"benchmark operation {operation_id}" if count else "",
                    "scope": canonical_json({"ids": count} if count else {"outcome": "ok"}),
                    "changed_count": count,
                    "skipped_count": 0,
                    "source": "web",
                    "client_ip": "10.0.0.1",
                    "user_agent": "bench",
                    "request_id": None,
                    "confirmation_id": None,
                    "reverts_operation_id": None,
                }
                row["prev_hash"] = prev_hash
                row["hash"] = prev_hash = operation_hash(row, entries_of, prev_hash)
                operation_rows.append(row)
                entry_rows.extend(
                    dict(zip(ENTRY_FIELDS, entry, strict=False), operation_id=operation_id)
                    for entry in entries_of
                )
                flush()
            flush(force=True)
            conn.execute(
                sa.update(AuditChainHead)
                .where(AuditChainHead.id == 1)
                .values(
                    last_operation_id=operations, last_hash=prev_hash, operation_count=operations
                )
            )
            if conn.dialect.name == "postgresql":
                conn.execute(
                    sa.text(
                        "SELECT setval(pg_get_serial_sequence('audit_operations', 'id'), :last)"
                    ),
                    {"last": operations},
                )
            conn.execute(
                sa.insert(StaffUser.__table__).values(
                    username="auditor",
                    role="auditor",
                    is_active=True,
                    session_token="bench",
                    password_hash=generate_password_hash(PASSWORD),
                    failed_login_count=0,
                    created_at=start,
                    updated_at=start,
                )
            )
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
        db.engine.dispose()
    return {
        "generate_s": round(time.perf_counter() - started, 1),
        "big_operation_id": operations // 2 + 1,
        "big_entries": counts[operations // 2],
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def phase_baseline() -> dict:
    import sqlalchemy as sa

    from admin_app.extensions import db
    from admin_app.models import StaffUser

    app = make_app()
    with app.app_context():
        db.session.execute(sa.select(sa.func.count()).select_from(StaffUser)).scalar()
    return {"peak_rss_mb": round(peak_rss_mb(), 1)}


def phase_verify() -> dict:
    from admin_app.services.audit_verify import verify_chain

    app = make_app()
    with app.app_context():
        started = time.perf_counter()
        result = verify_chain()
        elapsed = time.perf_counter() - started
    return {
        "seconds": round(elapsed, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "intact": result.intact,
        "operations": result.operations_checked,
        "entries": result.entries_checked,
        "message": result.message,
    }


def _timed(client, url: str, repeat: int = 3) -> dict:
    times, status, size = [], None, 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        size = len(response.get_data())  # consumes a streamed body too
        times.append(time.perf_counter() - started)
        status = response.status_code
    return {
        "status": status,
        "first_ms": round(times[0] * 1000, 1),
        "median_ms": round(statistics.median(times) * 1000, 1),
        "bytes": size,
    }


def phase_pages(big_operation_id: int, big_entries: int) -> dict:
    app = make_app()
    client = app.test_client()
    with app.app_context():
        login = client.post("/login", data={"username": "auditor", "password": PASSWORD})
        assert login.status_code == 302, login.status_code
        last_entry_page = max(0, (big_entries - 1) // 100)
        details = f"/admin/audit/details/?id={big_operation_id}"
        results = {
            "list page 1": _timed(client, "/admin/audit/"),
            "list page 1,000": _timed(client, "/admin/audit/?page=999"),
            "filter customer code": _timed(
                client, "/admin/audit/?flt0_customer_code_equals=C000123"
            ),
            "filter actor + action": _timed(
                client, "/admin/audit/?flt0_actor_equals=user3&flt1_action_equals=freeze"
            ),
            "search memo": _timed(client, "/admin/audit/?search=operation+4242"),
            f"details #{big_operation_id} entries page 1": _timed(client, details),
            f"details #{big_operation_id} entries page {last_entry_page + 1:,}": _timed(
                client, f"{details}&entries_page={last_entry_page}"
            ),
            f"entries CSV #{big_operation_id} ({big_entries:,} rows)": _timed(
                client, f"/admin/audit/entries/export/csv/?id={big_operation_id}", repeat=1
            ),
        }
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return results


def run_phase(name: str, *args: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--phase", name, *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--operations", type=int, default=50_000)
    parser.add_argument("--big", type=int, default=100_000, help="entries of the one big operation")
    parser.add_argument(
        "--phase", choices=("generate", "baseline", "verify", "pages"), help=argparse.SUPPRESS
    )
    parser.add_argument("--big-id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase == "generate":
        print(json.dumps(generate(args.operations, args.entries, args.big)))
        return
    if args.phase == "baseline":
        print(json.dumps(phase_baseline()))
        return
    if args.phase == "verify":
        print(json.dumps(phase_verify()))
        return
    if args.phase == "pages":
        print(json.dumps(phase_pages(args.big_id, args.big)))
        return

    print(f"database: {database_url()}")
    print(f"generating {args.operations:,} operations, {args.entries:,} entries ...", flush=True)
    made = run_phase(
        "generate",
        "--operations",
        str(args.operations),
        "--entries",
        str(args.entries),
        "--big",
        str(args.big),
    )
    print(f"  generated in {made['generate_s']} s")
    baseline = run_phase("baseline")
    verify = run_phase("verify")
    pages = run_phase(
        "pages", "--big-id", str(made["big_operation_id"]), "--big", str(made["big_entries"])
    )

    print(
        f"\nverify_chain: {verify['seconds']} s, {verify['operations']:,} operations, "
        f"{verify['entries']:,} entries, intact={verify['intact']}"
    )
    print(
        f"  peak RSS {verify['peak_rss_mb']} MB (a process that only creates the app: "
        f"{baseline['peak_rss_mb']} MB)"
    )
    print(f"  {verify['message']}")
    print("\npages (auditor, Flask test client; first request, median of 3):")
    for name, timing in pages.items():
        if name == "peak_rss_mb":
            continue
        print(
            f"  {name:<40} {timing['status']}  first {timing['first_ms']:>8} ms"
            f"  median {timing['median_ms']:>8} ms  {timing['bytes']:>10,} bytes"
        )
    print(f"  pages process peak RSS {pages['peak_rss_mb']} MB")


if __name__ == "__main__":
    main()
