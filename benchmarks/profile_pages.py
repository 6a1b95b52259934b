"""Where a request's time goes: pyinstrument inside one gunicorn worker, per kind of request.

    .venv/bin/pip install -e '.[bench]'           # pyinstrument
    .venv/bin/python benchmarks/profile_pages.py [--customers 20000] [--entries 200000]
        [--requests 40] [--rounds 6] [--top 12] [--reuse] [--out DIR]

Unless --reuse, the database (DATABASE_URL, default a temporary SQLite file) is recreated by
benchmarks/generate.py. gunicorn serves the app with one worker and the hooks of
benchmarks/gunicorn_profile.py; one logged-in admin then sends, one at a time:

- `healthz`: /healthz (the floor of any request);
- `grid`: the customer grid, 50 rows (?page_size=50);
- `grid_active`: the Active tab, 50 rows;
- `log`: the operation log, page 1, 50 rows;
- `preview` / `confirm`: the confirm round trip of 500 checked customers (the action POST
  that answers with the confirmation page, then its confirm POST), alternating deactivate and
  reactivate of the same customers.

For each it prints the milliseconds per request by where the samples fell (self time grouped
by package: templates, Jinja, Flask-Admin, SQLAlchemy, the database driver, ...) and the
functions with the most self time, and writes pyinstrument's call tree to DIR/NAME.txt.
The profiler adds overhead (sampling every 0.5 ms): compare shares, not absolute times.
"""

import argparse
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from benchmarks.common import database_url, fresh_app, sqlalchemy_url  # noqa: E402
from benchmarks.generate import DEFAULT_PASSWORD, generate  # noqa: E402
from benchmarks.webclient import StaffClient, gunicorn  # noqa: E402

try:
    from pyinstrument.session import Session
except ImportError:  # pragma: no cover - a hint instead of a traceback
    raise SystemExit("pyinstrument is missing: .venv/bin/pip install -e '.[bench]'") from None

# Where a sample's own time is counted: the first pattern (on the frame's file) that matches.
AREAS = [
    ("templates (compiled Jinja code)", re.compile(r"\.html$|<template>")),
    ("Jinja runtime", re.compile(r"/jinja2/")),
    ("MarkupSafe", re.compile(r"/markupsafe/")),
    ("Flask-Admin", re.compile(r"/flask_admin/")),
    ("Babel / Flask-Babel", re.compile(r"/(flask_)?babel/")),
    ("WTForms / Flask-WTF", re.compile(r"/(wtforms|flask_wtf)/")),
    ("SQLAlchemy", re.compile(r"/sqlalchemy/|/flask_sqlalchemy/")),
    ("database driver", re.compile(r"/(psycopg|psycopg_binary)/|sqlite3")),
    ("Werkzeug / Flask", re.compile(r"/(werkzeug|flask)/")),
    ("Flask-Login / Flask-Limiter", re.compile(r"/(flask_login|flask_limiter|limits)/")),
    ("itsdangerous / sessions", re.compile(r"/itsdangerous/")),
    ("gunicorn (parse, write)", re.compile(r"/gunicorn/")),
    ("the app (admin_app)", re.compile(r"/admin_app/")),
]


def area_of(file_path: str) -> str:
    for name, pattern in AREAS:
        if pattern.search(file_path or ""):
            return name
    return "other (stdlib, ...)"


def summarise(session: Session, requests: int, top: int) -> tuple[dict, list]:
    """(ms per request by area, [(ms per request, function)] by self time)."""
    by_area: dict[str, float] = defaultdict(float)
    by_function: dict[str, float] = defaultdict(float)
    root = session.root_frame()
    stack = [root] if root is not None else []
    while stack:
        frame = stack.pop()
        stack.extend(frame.children)
        own = 0.0 if frame.is_synthetic else frame.total_self_time
        if own <= 0:
            continue
        path = frame.file_path or ""
        by_area[area_of(path)] += own
        short = re.sub(r".*/(site-packages|lib/python3[.0-9]*)/", "", path)
        by_function[f"{frame.function} ({short}:{frame.line_no})"] += own
    per = 1000 / max(requests, 1)
    areas = {name: seconds * per for name, seconds in by_area.items()}
    functions = sorted(((s * per, f) for f, s in by_function.items()), reverse=True)[:top]
    return areas, functions


def active_ids(url: str, count: int) -> list[int]:
    engine = sa.create_engine(sqlalchemy_url(url))
    with engine.connect() as conn:
        ids = conn.execute(
            sa.text("SELECT id FROM customers WHERE status = 'active' ORDER BY id DESC LIMIT :n"),
            {"n": count},
        ).scalars()
        result = list(ids)
    engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=40, help="profiled requests per page")
    parser.add_argument("--rounds", type=int, default=6, help="profiled confirm round trips")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--reuse", action="store_true", help="keep the data in DATABASE_URL")
    parser.add_argument("--out", default="", help="where the call trees go (default: a temp dir)")
    parser.add_argument("--summarise", default="", help="only summarise the sessions in this dir")
    args = parser.parse_args()
    if args.summarise:
        report(Path(args.summarise), args.top)
        return

    url = database_url()
    if not args.reuse:
        app = fresh_app(url)
        with app.app_context():
            generate(customers=args.customers, entries=args.entries)
    out = Path(args.out or tempfile.mkdtemp(prefix="ca-profile-"))
    env = {
        "GUNICORN_CMD_ARGS": "-c benchmarks/gunicorn_profile.py",
        "PROFILE_DIR": str(out),
        # The confirm profiled is one admin's change executing now: no second approver.
        "APPROVAL_THRESHOLD": "0",
    }
    pages = {
        "healthz": "/healthz",
        "grid": "/admin/customers/?page_size=50",
        "grid_active": "/admin/customers/?status=active&page_size=50",
        "log": "/admin/audit/?page_size=50",
    }
    ids = active_ids(url, 500)
    with gunicorn(url, workers=1, env=env) as server:
        client = StaffClient(server.url, "admin", DEFAULT_PASSWORD)
        client.login()
        for label, path in pages.items():
            for _ in range(3):  # warm-up, not profiled
                client.get(path)
            for _ in range(args.requests):
                response = client.get(path, headers={"X-Profile-Label": label})
                if response.status_code != 200:
                    raise SystemExit(f"{label}: HTTP {response.status_code}")
        client.get("/admin/customers/?page_size=20")
        for number in range(args.rounds + 1):
            action = "deactivate" if number % 2 == 0 else "reactivate"
            headers = {"X-Profile-Label": "preview"} if number else {}
            client.http.headers.update(headers)
            response, token = client.start_action(action, ids)
            if token is None:
                raise SystemExit(f"preview: no confirmation token (HTTP {response.status_code})")
            client.http.headers.update({"X-Profile-Label": "confirm"} if number else {})
            response = client.confirm(token)
            client.http.headers.pop("X-Profile-Label", None)
            if response.status_code != 303:
                raise SystemExit(f"confirm: HTTP {response.status_code}")
            client.get("/admin/customers/?page_size=20")  # a fresh CSRF token
    report(out, args.top)


LABELS = ("healthz", "grid", "grid_active", "log", "preview", "confirm")


def report(out: Path, top: int) -> None:
    """Print the summary of every label's saved sessions in `out`; write the call trees."""
    from pyinstrument.renderers import ConsoleRenderer

    for label in LABELS:
        files = sorted(out.glob(f"{label}.*.pyisession"))
        if not files:
            continue
        session = Session.load(files[0])
        count = int(files[0].with_suffix(".count").read_text())
        for extra in files[1:]:
            session = Session.combine(session, Session.load(extra))
            count += int(extra.with_suffix(".count").read_text())
        tree = ConsoleRenderer(unicode=True, color=False, short_mode=False).render(session)
        (out / f"{label}.txt").write_text(tree)
        areas, functions = summarise(session, count, top)
        total = sum(areas.values())
        print(f"\n## {label}: {count} requests, {total:.1f} ms sampled per request")
        for name, ms in sorted(areas.items(), key=lambda item: -item[1]):
            if ms >= 0.05:
                print(f"  {ms:7.2f} ms  {100 * ms / total:4.0f} %  {name}")
        print("  top functions by self time (ms per request):")
        for ms, function in functions:
            print(f"  {ms:7.2f}  {function}")
    print(f"\ncall trees: {out}/*.txt")


if __name__ == "__main__":
    main()
