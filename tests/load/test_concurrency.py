"""Concurrency through gunicorn (real workers, real HTTP, CSRF on), on PostgreSQL and SQLite.

- Mixed load: 8 staff sessions of LOAD_ROUNDS steps each (PostgreSQL: 4 workers; SQLite: 2)
  reading the grid, running overlapping bulk deactivate / freeze / reactivate operations and
  editing details. A fixed amount of work, not a time: the same test on a busy machine. Then:
  every step ran, no 5xx (SQLite may answer 503 + Retry-After, which clients retry; never a
  500 "database is locked"); every customer's status is the replay of its log entries; no
  customer is logged twice by one operation; the hash chain verifies; counts are in step.
  (Requests per second are printed, never asserted: `make load` measures them.)
- SECURITY.md T41: two admins confirm overlapping selections at the same moment.
- T28: the same confirmation posted twice at the same moment: one 303, one 409.
- T43: 20 confirmations on disjoint selections at once against 4 workers.
"""

import threading
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditEntry, AuditOperation, Customer
from admin_app.services import customer_counts
from benchmarks.chain import status_replay_problems, verify_chain
from benchmarks.load import DEFAULT_USERS, prepare, run_load
from benchmarks.webclient import StaffClient, gunicorn
from tests.conftest import PASSWORD

pytestmark = pytest.mark.load

CUSTOMERS = 400
LOAD_ROUNDS = 12  # steps per session
LOAD_WORKERS = {"postgresql": 4, "sqlite": 2}


@contextmanager
def served(database_url: str, password_hash: str, workers: int):
    """Staff, reasons and customers in the test database, then gunicorn on it."""
    initial = prepare(CUSTOMERS, password_hash)
    db.session.remove()
    with gunicorn(database_url, workers=workers, timeout=60) as server:
        yield server, initial


def logged_in(server, username: str) -> StaffClient:
    client = StaffClient(server.url, username, PASSWORD, timeout=60)
    client.login()
    return client


def all_at_once(calls):
    """Run the callables in threads released together; their results in order."""
    gate = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        gate.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return results


def check_log_and_customers(initial: dict[int, str]) -> None:
    db.session.rollback()
    assert status_replay_problems(initial) == []
    intact, message = verify_chain()
    assert intact, message
    truth = dict(
        db.session.execute(
            sa.select(Customer.status, sa.func.count()).group_by(Customer.status)
        ).all()
    )
    assert {k: v for k, v in customer_counts.status_counts().items() if v} == truth


def server_errors(server) -> list[str]:
    with open(server.log_path, errors="replace") as log:
        return [
            line
            for line in log
            if "Traceback" in line or "database is locked" in line or "WORKER TIMEOUT" in line
        ]


def test_mixed_load_keeps_log_and_customers_consistent(
    app, database_url, backend, password_hash, record_property
):
    with served(database_url, password_hash, LOAD_WORKERS[backend]) as (server, initial):
        result = run_load(
            server.url, DEFAULT_USERS, password=PASSWORD, customers=CUSTOMERS, rounds=LOAD_ROUNDS
        )
        errors_logged = server_errors(server)
    record_property(
        "load",
        f"{backend}, {LOAD_WORKERS[backend]} workers, "
        f"{len(DEFAULT_USERS)} clients: {result.summary()}",
    )
    print(result.summary())
    assert result.errors == []
    assert errors_logged == []
    if backend == "postgresql":
        assert result.busy == 0  # writers queue on the chain lock; nothing is ever refused
    assert result.steps == LOAD_ROUNDS * len(DEFAULT_USERS), result.summary()
    assert result.requests >= result.steps, result.summary()
    assert result.operations >= 1 and result.edits >= 1, result.summary()
    check_log_and_customers(initial)


def test_overlapping_and_double_submitted_confirmations(app, database_url, backend, password_hash):
    with served(database_url, password_hash, workers=2) as (server, initial):
        admin, manager = logged_in(server, "admin"), logged_in(server, "manager")
        ids = [i for i in range(1, 121) if initial[i] in ("active", "frozen")][:100]
        first, second = ids[:60], ids[39:]
        _, token_a = admin.start_action("deactivate", first)
        _, token_b = manager.start_action("deactivate", second)
        # T41: both confirmations at the same moment, on (probably) different workers.
        answers = all_at_once([lambda: admin.confirm(token_a), lambda: manager.confirm(token_b)])
        assert [r.status_code for r in answers] == [303, 303]
        # T28: one confirmation, double-clicked: posted twice at once from the same session.
        twice = [i for i in range(121, 161) if initial[i] == "active"]
        _, token = admin.start_action("freeze", twice)
        twins = [admin.clone(), admin.clone()]
        answers = all_at_once([lambda: twins[0].confirm(token), lambda: twins[1].confirm(token)])
        assert sorted(r.status_code for r in answers) == [303, 409]
    db.session.rollback()
    changed_by = {}
    for operation_id, customer_id in db.session.execute(
        sa.select(AuditEntry.operation_id, AuditEntry.entity_id)
        .join(AuditOperation, AuditOperation.id == AuditEntry.operation_id)
        .where(AuditOperation.action == "deactivate")
    ):
        changed_by.setdefault(operation_id, []).append(customer_id)
    assert len(changed_by) == 2
    sets = [set(v) for v in changed_by.values()]
    assert not sets[0] & sets[1] and sets[0] | sets[1] == set(ids)
    frozen = (
        db.session.execute(
            sa.select(AuditEntry.entity_id)
            .join(AuditOperation)
            .where(AuditOperation.action == "freeze")
        )
        .scalars()
        .all()
    )
    assert sorted(frozen) == twice
    check_log_and_customers(initial)


def test_twenty_simultaneous_confirmations_on_four_workers(
    app, database_url, backend, password_hash
):
    """T43: each confirmation either succeeds or gets 503 + Retry-After with nothing changed."""
    with served(database_url, password_hash, workers=4) as (server, initial):
        clients = [logged_in(server, name) for name in ("admin", "manager", "admin2", "manager2")]
        active = [i for i, status in sorted(initial.items()) if status == "active"]
        selections = [active[n * 12 : (n + 1) * 12] for n in range(20)]
        tokens = []
        for number, selection in enumerate(selections):
            _, token = clients[number % 4].start_action("deactivate", selection)
            assert token is not None
            tokens.append(token)
        senders = [clients[n % 4].clone() for n in range(20)]
        answers = all_at_once(
            [
                (lambda sender=sender, token=token: sender.confirm(token))
                for sender, token in zip(senders, tokens, strict=False)
            ]
        )
        errors_logged = server_errors(server)
    assert errors_logged == []
    db.session.rollback()
    for selection, answer in zip(selections, answers, strict=False):
        assert answer.status_code in (303, 503), answer.status_code
        now = set(
            db.session.execute(
                sa.select(Customer.status).where(Customer.id.in_(selection))
            ).scalars()
        )
        if answer.status_code == 303:
            assert now == {"deactivated"}
        else:
            assert answer.headers.get("Retry-After") and now == {"active"}
    assert sum(a.status_code == 303 for a in answers) >= 1
    check_log_and_customers(initial)
