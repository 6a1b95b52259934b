"""The other pages under gunicorn, on data already generated: median and p90 per page, in ONE run
beside `/healthz`, so the ratios hold on a shared machine even when absolute times do not.

    DATABASE_URL=postgresql://postgres@127.0.0.1/ca_perf_bench \\
        .venv/bin/python benchmarks/generate.py --fresh            # once
    DATABASE_URL=postgresql://postgres@127.0.0.1/ca_perf_bench \\
        .venv/bin/python benchmarks/bench_pages.py [--repeats 30] [--workers 2] [--pages review,...]
        [--profile DIR]

Pages: the review queue (/admin/review/), the dashboard (/admin/), the rules page
(/admin/rules/), the details page of the customer with the longest history, the grid and the
log (page 1 and page 1,000), and when benchmarks/seed_workflows.py has added some, the
approvals list, the newest approval request and the scheduled changes. One logged-in admin (the generator's `admin`), one request at a
time, in rounds (each round requests every page once), so a burst of load on the machine hits
every page alike. Each line shows the app's own time too (Server-Timing).

--profile DIR writes one pyinstrument HTML profile per page (a single request, in-process on
the same database) into DIR.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from benchmarks.common import database_url, median, p90, sqlalchemy_url  # noqa: E402
from benchmarks.generate import DEFAULT_PASSWORD  # noqa: E402
from benchmarks.webclient import StaffClient, gunicorn  # noqa: E402


def longest_history_customer(url: str) -> tuple[int, int]:
    """The customer with the most log entries, and how many it has."""
    engine = sa.create_engine(sqlalchemy_url(url))
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT entity_id, count(*) FROM audit_entries WHERE entity = 'customer' "
                "GROUP BY entity_id ORDER BY count(*) DESC, entity_id LIMIT 1"
            )
        ).one()
    engine.dispose()
    return int(row[0]), int(row[1])


def pages(url: str) -> dict[str, str]:
    customer_id, entries = longest_history_customer(url)
    return {
        "healthz": "/healthz",
        "review": "/admin/review/",
        "dashboard": "/admin/",
        "rules": "/admin/rules/",
        f"details ({entries} entries)": f"/admin/customers/details/?id={customer_id}",
        "grid": "/admin/customers/",
        "grid-active": "/admin/customers/?status=active",
        "log": "/admin/audit/",
        "log-1000": "/admin/audit/?page=999",
        **workflow_pages(url),
    }


def workflow_pages(url: str) -> dict[str, str]:
    """The approvals list, the newest request and the scheduled changes, when there are any
    (benchmarks/seed_workflows.py adds them to a generated database)."""
    engine = sa.create_engine(sqlalchemy_url(url))
    with engine.connect() as conn:
        newest = conn.execute(sa.text("SELECT max(id) FROM approval_requests")).scalar()
        scheduled = conn.execute(sa.text("SELECT count(*) FROM scheduled_changes")).scalar()
    engine.dispose()
    found = {}
    if newest:
        found["approvals"] = "/admin/approvals/"
        found["approval request"] = f"/admin/approvals/{newest}/"
    if scheduled:
        found[f"scheduled ({scheduled:,})"] = "/admin/scheduled/"
    return found


def app_ms(response) -> float:
    header = response.headers.get("Server-Timing", "")
    return float(header.split("dur=")[1]) if "dur=" in header else float("nan")


def measure(url: str, chosen: dict[str, str], repeats: int, workers: int) -> None:
    times: dict[str, list[float]] = {name: [] for name in chosen}
    app_times: dict[str, list[float]] = {name: [] for name in chosen}
    with gunicorn(url, workers=workers, env={"SERVER_TIMING": "1"}) as server:
        client = StaffClient(server.url, "admin", DEFAULT_PASSWORD)
        client.login()
        for name, path in chosen.items():  # warm every worker's caches once
            for _ in range(workers):
                response = client.get(path)
                if response.status_code != 200:
                    raise SystemExit(f"{name}: HTTP {response.status_code} for {path}")
        for _ in range(repeats):
            for name, path in chosen.items():
                start = time.perf_counter()
                response = client.get(path)
                times[name].append((time.perf_counter() - start) * 1000)
                app_times[name].append(app_ms(response))
        peaks = []
        for pid in server.worker_pids():
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM"):
                        peaks.append(int(line.split()[1]) // 1024)
    base = median(times["healthz"]) if "healthz" in times else None
    print(f"{'page':<28} {'median':>9} {'p90':>9} {'in app':>9} {'÷ healthz':>10}  n={repeats}")
    for name in chosen:
        ratio = f"{median(times[name]) / base:9.1f}x" if base else ""
        print(
            f"{name:<28} {median(times[name]):7.1f}ms {p90(times[name]):7.1f}ms "
            f"{median(app_times[name]):7.1f}ms {ratio}"
        )
    print(f"worker peak memory (VmHWM): {', '.join(f'{p} MB' for p in peaks)}")


def profile(url: str, chosen: dict[str, str], folder: Path) -> None:
    """One pyinstrument profile per page, in-process (the development config on `url`)."""
    from pyinstrument import Profiler

    from admin_app import create_app

    app = create_app(
        "development",
        SQLALCHEMY_DATABASE_URI=sqlalchemy_url(url),
        WTF_CSRF_ENABLED=False,
        RATELIMIT_ENABLED=False,
        LOG_HEAD_MARKER="",
        SECRET_KEY="bench-pages-profile",
    )
    folder.mkdir(parents=True, exist_ok=True)
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": DEFAULT_PASSWORD})
    for name, path in chosen.items():
        client.get(path)  # warm up
        profiler = Profiler(interval=0.0005)
        profiler.start()
        response = client.get(path)
        profiler.stop()
        target = folder / (name.split(" ")[0] + ".html")
        target.write_text(profiler.output_html())
        print(f"{name}: HTTP {response.status_code}, profile in {target}")
        text = profiler.output_text(unicode=False, color=False, show_all=False)
        (folder / (name.split(" ")[0] + ".txt")).write_text(text)
        print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pages", default="", help="comma-separated page names (default: all)")
    parser.add_argument("--profile", type=Path, help="write pyinstrument profiles here instead")
    args = parser.parse_args()
    url = database_url()
    every = pages(url)
    wanted = [name for name in args.pages.split(",") if name]
    chosen = {
        name: path
        for name, path in every.items()
        if not wanted or name == "healthz" or name.split(" ")[0] in wanted
    }
    if args.profile:
        profile(url, {k: v for k, v in chosen.items() if k != "healthz"}, args.profile)
        return
    measure(url, chosen, args.repeats, args.workers)


if __name__ == "__main__":
    main()
