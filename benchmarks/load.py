"""Concurrent load through the real HTTP flow: grid reads, overlapping bulk status changes
(action POST + confirm POST, CSRF on) and customer detail edits, from several staff sessions
at once against gunicorn.

Used by tests/load/ (which then check the log and the customers) and runnable by hand:

    DATABASE_URL=postgresql://postgres@127.0.0.1/ca_perf_load \\
        .venv/bin/python benchmarks/load.py [--workers 4] [--clients 8] [--seconds 20]

The tests give each session a number of steps (`rounds`) instead of seconds: the same work
however slow the machine.

By hand it recreates the database, adds staff and customers, runs the load, checks the chain
and the status replay, and prints the outcome and requests per second.
"""

import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from benchmarks.webclient import TOKEN_RE, StaffClient  # noqa: E402

ACTIONS = ("deactivate", "freeze", "reactivate")
BULK_QUERIES = (
    "?status=frozen",
    "?status=deactivated&search=L",
    "?search=L0001",
    "?status=active&search=L00",
)
GRID_PATHS = (
    "/admin/customers/",
    "/admin/customers/?status=active",
    "/admin/customers/?status=frozen",
    "/admin/customers/?search=L00",
    "/admin/customers/?page=2",
    "/admin/",
)
RETRIES = 3


@dataclass
class LoadResult:
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)  # (kind, HTTP status) -> count
    errors: list[str] = field(default_factory=list)  # 5xx, unexpected codes, exceptions
    busy: int = 0  # 503 answers with Retry-After (retried)
    steps: int = 0  # reads, bulk changes and edits started (each sends at least one request)
    operations: int = 0  # confirmed status changes
    edits: int = 0  # saved detail edits

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        kinds = ", ".join(
            f"{kind} {status}: {count}" for (kind, status), count in sorted(self.statuses.items())
        )
        return (
            f"{self.requests} requests in {self.seconds:.1f} s = {self.per_second:.1f} "
            f"requests/s; {self.steps} steps, {self.operations} status changes, "
            f"{self.edits} edits, "
            f"{self.busy} busy (503) retried, {len(self.errors)} errors [{kinds}]"
        )


class _Session:
    """One staff member's browser, recording every answer in the shared result."""

    def __init__(
        self,
        base: str,
        username: str,
        password: str,
        result: LoadResult,
        lock: threading.Lock,
        seed: int,
    ):
        self.client = StaffClient(base, username, password, timeout=90)
        self.result = result
        self.lock = lock
        self.rng = random.Random(seed)
        self.sees_log = not username.startswith("clerk")  # clerks may not see the log

    def _record(self, kind: str, response: requests.Response, expected: tuple[int, ...]):
        with self.lock:
            self.result.requests += 1
            self.result.statuses[(kind, response.status_code)] += 1
            if response.status_code == 503 and response.headers.get("Retry-After"):
                self.result.busy += 1
            elif response.status_code not in expected:
                self.result.errors.append(
                    f"{kind} {response.request.method} {response.request.path_url[:80]} -> "
                    f"{response.status_code}: {_snippet(response.text)}"
                )

    def call(self, kind: str, send, expected: tuple[int, ...]) -> requests.Response | None:
        """Send; on 503 + Retry-After wait and send again (a browser user would)."""
        for _ in range(RETRIES):
            try:
                response = send()
            except requests.RequestException as exc:
                with self.lock:
                    self.result.requests += 1
                    self.result.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
                return None
            self._record(kind, response, expected)
            if response.status_code != 503:
                return response
            time.sleep(float(response.headers.get("Retry-After", "1")))
        return None

    def read(self) -> None:
        roll = self.rng.random()
        if roll < 0.6:
            path = self.rng.choice(GRID_PATHS)
        elif roll < 0.8 or not self.sees_log:
            path = f"/admin/customers/details/?id={self.rng.randint(1, self.customers)}"
        else:
            path = f"/admin/audit/?page={self.rng.randint(0, 3)}"
        self.call("read", lambda: self.client.get(path), (200,))

    def bulk(self) -> None:
        action = self.rng.choice(ACTIONS)
        if self.rng.random() < 0.2:  # "select all matching" a filter
            query = self.rng.choice(BULK_QUERIES)
            response = self.call(
                "preview",
                lambda: self.client.start_action(action, select_all=True, query=query)[0],
                (200,),
            )
        else:  # overlapping ranges of checked rows
            start = self.rng.randint(1, max(1, self.customers - 40))
            ids = range(start, min(self.customers, start + self.rng.randint(5, 60)) + 1)
            response = self.call(
                "preview", lambda: self.client.start_action(action, ids)[0], (200,)
            )
        token = _token(response)
        if token is None:  # nothing eligible: the page offers no confirmation
            return
        confirmed = self.call("confirm", lambda: self.client.confirm(token), (303,))
        if confirmed is not None and confirmed.status_code == 303:
            with self.lock:
                self.result.operations += 1

    def edit(self) -> None:
        customer_id = self.rng.randint(1, self.customers)
        form: dict = {}

        def open_form():
            response, form["fields"] = self.client.edit_form(customer_id)
            return response

        response = self.call("edit form", open_form, (200,))
        if response is None or response.status_code != 200:
            return
        fields = form["fields"]
        fields["phone"] = f"+86 21 {self.rng.randint(1000, 9999)} {self.rng.randint(1000, 9999)}"
        # 302: saved; 409: the form again, "changed by someone else" after a bulk change.
        saved = self.call(
            "edit save", lambda: self.client.save_edit(customer_id, fields), (302, 409)
        )
        if saved is not None and saved.status_code == 302:
            with self.lock:
                self.result.edits += 1


def _token(response) -> str | None:
    if response is None or response.status_code != 200:
        return None
    match = TOKEN_RE.search(response.text)
    return match.group(1) if match else None


def _snippet(text: str) -> str:
    import re

    message = re.search(r'<p class="lead[^"]*"[^>]*>(.*?)</p>|<title>(.*?)</title>', text, re.S)
    return " ".join((message.group(1) or message.group(2)).split())[:160] if message else ""


# Who does what: (username, mix of read / bulk / edit)
ROLE_MIX = {"bulk": (0.3, 0.7, 0.0), "read": (1.0, 0.0, 0.0), "edit": (0.4, 0.0, 0.6)}


def run_load(
    base_url: str,
    users: list[tuple[str, str]],
    *,
    password: str,
    customers: int,
    seconds: float | None = None,
    rounds: int | None = None,
    seed: int = 1,
) -> LoadResult:
    """Run one thread per (username, role mix) in `users`, each doing `rounds` steps (a read,
    a bulk change or an edit), or looping for `seconds` (a benchmark); returns what they saw.

    Every thread logs in first (not timed); all start together."""
    if (seconds is None) == (rounds is None):
        raise ValueError("give either seconds or rounds")
    result = LoadResult()
    lock = threading.Lock()
    sessions = []
    for number, (username, mix) in enumerate(users):
        session = _Session(base_url, username, password, result, lock, seed + number)
        session.customers = customers
        session.client.login()
        sessions.append((session, ROLE_MIX[mix]))
    start_gate = threading.Barrier(len(sessions) + 1)
    deadline = 0.0

    def more(done: int) -> bool:
        return done < rounds if rounds is not None else time.monotonic() < deadline

    def work(session: _Session, mix: tuple[float, float, float]) -> None:
        start_gate.wait()
        done = 0
        while more(done):
            done += 1
            with lock:
                result.steps += 1
            roll = session.rng.random()
            try:
                if roll < mix[0]:
                    session.read()
                elif roll < mix[0] + mix[1]:
                    session.bulk()
                else:
                    session.edit()
            except Exception as exc:  # noqa: BLE001 - a broken page is a finding, not a crash
                with lock:
                    result.errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=work, args=pair, daemon=True) for pair in sessions]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    deadline = started + (seconds or 0)
    start_gate.wait()
    for thread in threads:
        thread.join()  # every request has a timeout, so every thread ends
    result.seconds = time.monotonic() - started
    return result


DEFAULT_USERS = [
    ("admin", "bulk"),
    ("manager", "bulk"),
    ("admin2", "bulk"),
    ("clerk", "read"),
    ("auditor", "read"),
    ("manager2", "read"),
    ("clerk2", "edit"),
    ("clerk3", "edit"),
]


def prepare(customers: int, password_hash: str) -> dict[int, str]:
    """Staff for DEFAULT_USERS, the reasons, and `customers` customers L00001... (80 % active,
    10 % frozen, 10 % deactivated). Needs an app context. Returns each customer's status."""
    import sqlalchemy as sa

    from admin_app.extensions import db
    from admin_app.models import Customer, StaffUser
    from admin_app.services.demo import _seed_reasons

    existing = set(db.session.execute(sa.select(StaffUser.username)).scalars())
    for username, _ in DEFAULT_USERS:
        if username not in existing:
            role = username.rstrip("0123456789")
            db.session.add(
                StaffUser(username=username, role=role, is_active=True, password_hash=password_hash)
            )
    _seed_reasons(db.session)
    statuses = ["active"] * 8 + ["frozen", "deactivated"]
    rows = [
        {
            "code": f"L{n:05d}",
            "name": f"Load Customer {n}",
            "email": f"l{n}@example.com",
            "segment": "retail",
            "credit_limit": 1000,
            "balance": 0,
            "status": statuses[n % 10],
        }
        for n in range(1, customers + 1)
    ]
    db.session.execute(sa.insert(Customer), rows)
    db.session.commit()
    ids = list(db.session.execute(sa.select(Customer.id).order_by(Customer.code)).scalars())
    if ids != list(range(1, customers + 1)):
        raise RuntimeError("load data needs an empty customers table (ids 1..N)")
    return {customer_id: row["status"] for customer_id, row in zip(ids, rows, strict=False)}


def main() -> None:
    import argparse

    from werkzeug.security import generate_password_hash

    from admin_app.extensions import db
    from benchmarks.chain import status_replay_problems, verify_chain
    from benchmarks.common import database_url, fresh_app, sqlalchemy_url
    from benchmarks.webclient import gunicorn

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    url = database_url()
    password = "load-test-password-1"
    app = fresh_app(url, force=args.force)
    with app.app_context():
        initial = prepare(args.customers, generate_password_hash(password))
        db.session.remove()
    with gunicorn(sqlalchemy_url(url), workers=args.workers) as server:
        result = run_load(
            server.url,
            DEFAULT_USERS,
            password=password,
            customers=args.customers,
            seconds=args.seconds,
        )
    print(result.summary())
    for error in result.errors[:20]:
        print("  ERROR", error)
    with app.app_context():
        print("chain:", verify_chain())
        problems = status_replay_problems(initial)
        print("status replay:", "consistent" if not problems else problems[:10])


if __name__ == "__main__":
    main()
