"""Real faults, not exceptions: a gunicorn worker SIGKILLed while it confirms "select all" of
20,000 customers, and (PostgreSQL) the app's backend terminated mid-transaction.

After every kill: each customer's status is the replay of its log, no operation is half
written, the hash chain verifies, and the same confirmation either went through once (a
second post is refused as already used) or can simply be confirmed again. The kills land at
seeded random moments across the confirmation's duration; which moment they hit changes
nothing that is asserted.
"""

import contextlib
import os
import random
import signal
import threading
import time

import pytest
import requests
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditOperation
from benchmarks.chain import status_replay_problems, verify_chain
from benchmarks.load import prepare
from benchmarks.webclient import StaffClient, gunicorn
from tests.conftest import PASSWORD

pytestmark = pytest.mark.load

CUSTOMERS = 20_000
KILLS = 20
SEED = 20261206


def _operations() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditOperation))


def _assert_log_tells_the_truth(initial: dict[int, str]) -> None:
    db.session.rollback()
    assert status_replay_problems(initial) == []
    intact, message = verify_chain()
    assert intact, message


def _wait_for_new_worker(server, old_pid: int) -> int:
    """gunicorn's master replaces a killed worker; wait (bounded) until the new one serves."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pids = [pid for pid in server.worker_pids() if pid != old_pid]
        if pids:
            try:
                if requests.get(server.url + "/healthz", timeout=5).status_code == 200:
                    return pids[0]
            except requests.RequestException:
                pass
        time.sleep(0.05)
    raise AssertionError(f"no worker came back:\n{server.log_tail()}")


def _selection(admin: StaffClient, round_number: int) -> tuple[str, str]:
    """Alternate: deactivate every active customer, then reactivate every deactivated one."""
    action, tab = (
        ("deactivate", "active") if round_number % 2 == 0 else ("reactivate", "deactivated")
    )
    _response, token = admin.start_action(action, select_all=True, query=f"?status={tab}")
    assert token, f"no confirmation page for {action}"
    return action, token


@pytest.mark.faults
def test_sigkill_during_select_all_confirmations_loses_nothing(
    app, database_url, backend, password_hash, record_property
):
    initial = prepare(CUSTOMERS, password_hash)
    db.session.remove()
    rng = random.Random(SEED)
    outcomes = {"completed before the kill": 0, "killed before commit": 0}
    with gunicorn(database_url, workers=1, timeout=120) as server:
        admin = StaffClient(server.url, "admin", PASSWORD, timeout=120)
        admin.login()
        # One undisturbed round gives the confirmation's duration, to spread the kills over.
        _action, token = _selection(admin, 0)
        started = time.monotonic()
        assert admin.confirm(token).status_code == 303
        duration = time.monotonic() - started
        worker = server.worker_pids()[0]
        for round_number in range(1, KILLS + 1):
            _action, token = _selection(admin, round_number)
            before = _operations()
            sender = admin.clone()
            thread = threading.Thread(
                target=_post_ignoring_disconnect, args=(sender, token), daemon=True
            )
            thread.start()
            time.sleep(rng.uniform(0, duration * 1.2))  # fault injection, not synchronisation
            os.kill(worker, signal.SIGKILL)
            thread.join(130)
            worker = _wait_for_new_worker(server, worker)
            _assert_log_tells_the_truth(initial)
            completed = _operations() - before
            assert completed in (0, 1)
            again = admin.confirm(token)
            if completed:
                outcomes["completed before the kill"] += 1
                assert again.status_code == 409, again.status_code
            else:
                outcomes["killed before commit"] += 1
                assert again.status_code == 303, again.status_code
                assert _operations() == before + 1
            _assert_log_tells_the_truth(initial)
    summary = (
        f"{backend}: {KILLS} SIGKILLs during select-all of {CUSTOMERS:,}: "
        + ", ".join(f"{n} {label}" for label, n in outcomes.items())
        + "; operations lost: 0"
    )
    record_property("load", summary)
    print(summary)


def _post_ignoring_disconnect(client: StaffClient, token: str) -> None:
    with contextlib.suppress(requests.RequestException):  # the worker died under the request
        client.confirm(token)


def test_a_terminated_postgresql_backend_changes_nothing_and_the_pool_recovers(
    app, database_url, backend, password_hash
):
    if backend != "postgresql":
        pytest.skip("pg_terminate_backend")
    initial = prepare(400, password_hash)
    db.session.remove()
    victim = next(i for i, status in initial.items() if status == "active")
    with gunicorn(database_url, workers=1, timeout=60) as server:
        admin = StaffClient(server.url, "admin", PASSWORD, timeout=60)
        admin.login()
        _response, token = admin.start_action("freeze", [victim])
        before = _operations()
        blocker = db.engine.connect()
        blocking = blocker.begin()
        # Hold the customer's row: the app's UPDATE waits on it, mid-transaction.
        blocker.execute(
            sa.text("SELECT id FROM customers WHERE id = :id FOR UPDATE"), {"id": victim}
        )
        answer: list = []
        thread = threading.Thread(target=lambda: answer.append(admin.clone().confirm(token)))
        thread.start()
        backend_pid = _wait_for_blocked_backend(blocker)
        blocker.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend_pid})
        blocking.rollback()
        blocker.close()
        thread.join(60)
        assert answer and answer[0].status_code == 503, answer and answer[0].status_code
        assert "connection to the database was lost" in answer[0].text
        assert _operations() == before
        # The same worker, no restart: the pool replaces the dead connection.
        assert admin.get("/admin/customers/?page_size=20").status_code == 200
        assert admin.confirm(token).status_code == 303
    _assert_log_tells_the_truth(initial)


def _wait_for_blocked_backend(connection) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pid = connection.execute(
            sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
        ).scalar()
        if pid:
            return pid
        time.sleep(0.02)
    raise AssertionError("the app's UPDATE never waited on the held row")
