""""Select all matching" on every customer, under gunicorn, on data already generated: the
preview (action POST), the execution (confirm POST) and the workers' peak memory.

    DATABASE_URL=postgresql://postgres@127.0.0.1/ca_perf_bench \\
        .venv/bin/python benchmarks/generate.py --fresh --customers 1000000 --entries 10000000
    DATABASE_URL=postgresql://postgres@127.0.0.1/ca_perf_bench \\
        .venv/bin/python benchmarks/bench_select_all.py [--rounds 1] [--workers 2]

Each round freezes every customer the grid's "select all" allows (the active ones), then
reactivates every frozen customer (the ?status=frozen tab, select all: those frozen before too).
Prints
each request's time and the app's own time (Server-Timing) and, at the end, every worker's
peak resident memory (VmHWM), which includes the largest execution.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import database_url  # noqa: E402
from benchmarks.generate import DEFAULT_PASSWORD  # noqa: E402
from benchmarks.webclient import StaffClient, gunicorn  # noqa: E402


def app_ms(response) -> str:
    header = response.headers.get("Server-Timing", "")
    return f"{float(header.split('dur=')[1]) / 1000:.2f} s" if "dur=" in header else "?"


def one_change(client: StaffClient, action: str, tab: str) -> None:
    url = f"/admin/customers/{tab}"
    client.get(url)
    start = time.perf_counter()
    response, token = client.start_action(action, select_all=True, query=tab, url=url)
    preview = time.perf_counter() - start
    if token is None:
        raise SystemExit(f"{action}: no confirmation page (HTTP {response.status_code})")
    print(f"  {action:<10} preview   {preview:7.2f} s  (in app {app_ms(response)})", flush=True)
    start = time.perf_counter()
    done = client.confirm(token, url=url)
    execution = time.perf_counter() - start
    if done.status_code != 303:
        raise SystemExit(f"{action}: confirmation answered HTTP {done.status_code}")
    flash = client.get(done.headers["Location"])
    if "Operation #" not in flash.text:  # e.g. sent for approval: nothing was executed
        raise SystemExit(f"{action}: the confirmation did not execute the change")
    message = flash.text.split("Operation #")[0].rsplit(">", 1)[-1].strip()
    print(
        f"  {action:<10} execution {execution:7.2f} s  (in app {app_ms(done)})  {message[:80]}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    # What is measured is one admin's change executing now: no second approver.
    env = {"SERVER_TIMING": "1", "APPROVAL_THRESHOLD": "0"}
    with gunicorn(database_url(), workers=args.workers, timeout=600, env=env) as server:
        client = StaffClient(server.url, "admin", DEFAULT_PASSWORD, timeout=600)
        client.login()
        for _ in range(args.rounds):
            one_change(client, "freeze", "?status=active")
            one_change(client, "reactivate", "?status=frozen")
        peaks = []
        for pid in server.worker_pids():
            with open(f"/proc/{pid}/status") as status:
                peaks += [int(line.split()[1]) // 1024 for line in status if "VmHWM" in line]
    print(f"  worker peak memory (VmHWM): {', '.join(f'{p} MB' for p in peaks)}")


if __name__ == "__main__":
    main()
