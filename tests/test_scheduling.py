"""Scheduled status changes (issue 16): effective dates on the confirmation page, automatic
reactivation, the `schedule run` job, cancelling, and what users see — on SQLite and
PostgreSQL, with the app's clock pinned (FIXED_NOW = 2026-11-25 12:00 UTC)."""

import json
import re
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditEntry, AuditOperation, Customer, ScheduledChange, StaffUser
from admin_app.services import orders as order_service
from admin_app.services import scheduling
from admin_app.services.audit import Actor
from admin_app.services.errors import CustomerNotActive
from tests.conftest import confirm_action, make_customers, start_action, statuses


def text(response):
    return response.get_data(as_text=True)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def changes(**where) -> list[ScheduledChange]:
    db.session.rollback()
    query = sa.select(ScheduledChange).order_by(ScheduledChange.due_at, ScheduledChange.id)
    for name, value in where.items():
        query = query.where(getattr(ScheduledChange, name) == value)
    return list(db.session.execute(query).scalars())


def operations(action: str | None = None) -> list[AuditOperation]:
    db.session.rollback()
    query = sa.select(AuditOperation).order_by(AuditOperation.id)
    if action:
        query = query.where(AuditOperation.action == action)
    return list(db.session.execute(query).scalars())


def entries_of(operation_id: int) -> list[tuple]:
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(
                AuditEntry.entity_id, AuditEntry.field, AuditEntry.old_value, AuditEntry.new_value
            )
            .where(AuditEntry.operation_id == operation_id)
            .order_by(AuditEntry.id)
        )
    ]


@pytest.fixture
def manager(client, login, reasons, app_clock):
    login("manager")
    return client


def set_time_zone(username: str, zone: str | None) -> None:
    db.session.execute(
        sa.update(StaffUser).where(StaffUser.username == username).values(time_zone=zone)
    )
    db.session.commit()


def schedule(client, action, ids, **fields):
    page, token = start_action(client, action, ids)
    assert page.status_code == 200 and token
    return confirm_action(client, token, **fields), token


def run(runner, now: str | None = None):
    args = ["schedule", "run"] + (["--now", now] if now else [])
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output


# -- scheduling from the confirmation page ---------------------------------------------------


def test_future_effective_date_changes_nothing_now_and_logs_one_operation(manager):
    ids = make_customers(3)
    done, _ = schedule(manager, "deactivate", ids, effective_at="2026-12-01")
    assert done.status_code == 303
    assert statuses(ids) == {i: "active" for i in ids}
    rows = changes()
    assert [(r.customer_id, r.action, r.status) for r in rows] == [
        (i, "deactivate", "pending") for i in ids
    ]
    assert {r.due_at for r in rows} == {utc(2026, 12, 1)}  # a date = 00:00 in the user's zone
    [created] = operations("schedule_created")
    assert [r.schedule_operation_id for r in rows] == [created.id] * 3
    assert created.actor_username == "manager" and created.changed_count == 3
    assert entries_of(created.id) == [(i, "scheduled_status", None, "deactivated") for i in ids]
    assert operations("deactivate") == []
    grid = text(manager.get(done.headers["Location"]))
    assert "scheduled for" in grid


def test_run_early_does_nothing_then_at_due_time_applies_once_as_system(manager, runner):
    ids = make_customers(2)
    schedule(manager, "freeze", ids, effective_at="2026-12-01 09:30")
    [created] = operations("schedule_created")

    assert "Nothing due" in run(runner, "2026-12-01T09:29:59Z")
    assert statuses(ids) == {i: "active" for i in ids}

    output = run(runner, "2026-12-01T09:30:00Z")
    assert "Froze 2 customer(s)" in output and f"#{created.id}" in output
    assert statuses(ids) == {i: "frozen" for i in ids}
    [applied] = operations("freeze")
    assert (applied.actor_username, applied.actor_role, applied.source) == (
        "system",
        "system",
        "cli",
    )
    assert json.loads(applied.scope)["scheduled_by"] == [created.id]
    assert applied.reason_code == "customer_request" and applied.changed_count == 2
    assert [(r.status, r.result_operation_id) for r in changes()] == [("done", applied.id)] * 2

    before = len(operations())
    assert "Nothing due" in run(runner, "2026-12-02T00:00:00Z")  # run twice: nothing more
    assert len(operations()) == before
    assert statuses(ids) == {i: "frozen" for i in ids}


def test_a_second_batch_for_the_same_customer_and_time_is_skipped(manager, runner):
    """Two batches due at once (different memos) for one customer, run under the same clock
    reading: the first changes it, the second no longer fits and is skipped, not counted done."""
    ids = make_customers(1)
    schedule(manager, "freeze", ids, effective_at="2026-12-01", memo="first")
    schedule(manager, "freeze", ids, effective_at="2026-12-01", memo="second")
    run(runner, "2026-12-01T00:00:00Z")
    assert statuses(ids) == {ids[0]: "frozen"}
    assert [(r.memo, r.status) for r in changes()] == [("first", "done"), ("second", "skipped")]
    first, second = operations("freeze")
    assert (first.changed_count, first.skipped_count) == (1, 0)
    assert (second.changed_count, second.skipped_count) == (0, 1)


def test_customer_changed_by_hand_meanwhile_is_skipped_not_forced(manager, runner):
    ids = make_customers(2)
    schedule(manager, "freeze", ids, effective_at="2026-12-01")
    _, token = start_action(manager, "deactivate", [ids[0]])
    confirm_action(manager, token)  # by hand, before the freeze is due
    output = run(runner, "2026-12-01T00:00:00Z")
    assert "Froze 1 customer(s)" in output
    assert "Skipped 1, status no longer fits: T00001 (now deactivated)" in output
    assert statuses(ids) == {ids[0]: "deactivated", ids[1]: "frozen"}
    assert [(r.customer_id, r.status) for r in changes()] == [(ids[0], "skipped"), (ids[1], "done")]
    [applied] = operations("freeze")
    assert applied.skipped_count == 1 and applied.changed_count == 1


def test_until_applies_now_and_reactivates_later_and_orders_follow(manager, runner):
    [frozen_until, scheduled] = make_customers(2)
    done, _ = schedule(manager, "freeze", [frozen_until], until="2026-12-31")
    assert done.status_code == 303
    assert statuses([frozen_until]) == {frozen_until: "frozen"}
    [row] = changes()
    assert (row.action, row.due_at, row.expected_status) == (
        "reactivate",
        utc(2026, 12, 31),
        "frozen",
    )
    system = Actor.cli()
    with pytest.raises(CustomerNotActive):
        order_service.place_order(frozen_until, "10.00", actor=system)

    # A pending deactivation does not stop orders before it takes effect.
    schedule(manager, "deactivate", [scheduled], effective_at="2026-12-31 12:00")
    assert order_service.place_order(scheduled, "10.00", actor=system).customer_id == scheduled

    output = run(runner, "2026-12-31T00:00:00Z")
    assert "Reactivated 1 customer(s)" in output
    assert statuses([frozen_until, scheduled]) == {frozen_until: "active", scheduled: "active"}
    assert order_service.place_order(frozen_until, "10.00", actor=system).customer_id == (
        frozen_until
    )
    run(runner, "2026-12-31T12:00:00Z")
    with pytest.raises(CustomerNotActive):
        order_service.place_order(scheduled, "10.00", actor=system)


def test_effective_date_with_until_runs_both_in_due_order(manager, runner):
    ids = make_customers(1)
    schedule(manager, "freeze", ids, effective_at="2026-12-01", until="2026-12-10")
    [created] = operations("schedule_created")
    assert sorted(e[3] for e in entries_of(created.id)) == ["active", "frozen"]
    # A late runner applies the freeze, then the reactivation: due order.
    output = run(runner, "2026-12-20T00:00:00Z")
    assert output.index("Froze 1") < output.index("Reactivated 1")
    assert statuses(ids) == {ids[0]: "active"}
    assert [r.status for r in changes()] == ["done", "done"]


def test_an_automatic_reactivation_says_it_ended_a_period_not_why_it_reactivated(manager, runner):
    """The runner's reactivation carries the freeze's reason: the log, the operation's page,
    the customer's history and the export say the period set for that reason ended, and name
    the freeze. A reactivation scheduled for its own reason reads as that reason."""
    [until_customer, scheduled_customer] = make_customers(2)
    schedule(manager, "freeze", [until_customer], until="2026-12-31")
    [freeze] = operations("freeze")
    db.session.execute(
        sa.update(Customer).where(Customer.id == scheduled_customer).values(status="frozen")
    )
    db.session.commit()
    schedule(manager, "reactivate", [scheduled_customer], effective_at="2026-12-31")
    run(runner, "2026-12-31T00:00:00Z")
    reactivations = operations("reactivate")
    [automatic] = [op for op in reactivations if '"ends"' in op.scope]
    [scheduled] = [op for op in reactivations if op is not automatic]
    assert json.loads(automatic.scope)["ends"] == [freeze.id]

    period_ended = "Period ended · Customer request"
    log = text(manager.get("/admin/audit/"))
    assert log.count(period_ended) == 1
    page = text(manager.get(f"/admin/audit/details/?id={automatic.id}"))
    assert period_ended in page
    assert f"Reactivated automatically on the date set by operation #{freeze.id}" in page
    assert period_ended not in text(manager.get(f"/admin/audit/details/?id={scheduled.id}"))
    history = text(manager.get(f"/admin/customers/details/?id={until_customer}"))
    assert period_ended in history
    # Active again with no reason of its own; the one scheduled for its reason keeps it.
    reasons_now = dict(db.session.execute(sa.select(Customer.id, Customer.status_reason)).all())
    assert reasons_now[until_customer] is None
    assert reasons_now[scheduled_customer] == "customer_request"
    export = text(manager.get("/admin/audit/export/csv/"))
    assert export.count(period_ended) == 1

    manager.post("/locale", data={"locale": "zh_Hant_TW", "next": "/admin/"})
    assert "截止日期已到 · 客戶要求" in text(manager.get("/admin/audit/"))


# -- validation: the same page again, with the message beside the field ---------------------


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"effective_at": "2026-11-25 11:59"}, "effective-at", "in the past"),
        ({"effective_at": "2026-12-10", "until": "2026-12-01"}, "until", "must be after"),
        ({"until": "2026-11-20"}, "until", "must be after"),
        ({"effective_at": "31/12/2026"}, "effective-at", "Enter a date"),
        ({"effective_at": "2026-02-30"}, "effective-at", "Enter a date"),
    ],
)
def test_bad_dates_rerender_the_page_with_the_error_and_a_usable_token(
    manager, fields, field, message
):
    ids = make_customers(1)
    page, token = start_action(manager, "freeze", ids)
    response = confirm_action(manager, token, **fields)
    assert response.status_code == 422
    body = text(response)
    assert re.search(rf'id="{field}-feedback">[^<]*{message}', body), body[-3000:]
    assert statuses(ids) == {ids[0]: "active"} and changes() == []
    assert confirm_action(manager, token).status_code == 303  # the token is still good
    assert statuses(ids) == {ids[0]: "frozen"}


def test_until_is_refused_for_reactivation(manager):
    ids = make_customers(1, status="frozen")
    _, token = start_action(manager, "reactivate", ids)
    response = confirm_action(manager, token, until="2026-12-31")
    assert response.status_code == 422
    assert "Only a freeze or a deactivation can end automatically." in text(response)
    assert changes() == [] and statuses(ids) == {ids[0]: "frozen"}


def test_a_scheduling_confirmation_cannot_be_replayed(manager):
    ids = make_customers(1)
    done, token = schedule(manager, "freeze", ids, effective_at="2026-12-01")
    assert done.status_code == 303
    again = confirm_action(manager, token, effective_at="2026-12-01")
    assert again.status_code == 409
    assert len(changes()) == 1


# -- time zones ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "zone, typed, stored",
    [
        ("Asia/Taipei", "2026-12-31", utc(2026, 12, 30, 16)),  # UTC+8, no DST
        ("Asia/Taipei", "2026-12-31 08:15", utc(2026, 12, 31, 0, 15)),
        ("Europe/Berlin", "2027-03-28", utc(2027, 3, 27, 23)),  # still CET (+1) at 00:00
        ("Europe/Berlin", "2027-03-29", utc(2027, 3, 28, 22)),  # CEST (+2) after the change
        ("Europe/Berlin", "2027-10-31 12:00", utc(2027, 10, 31, 11)),  # back to CET that night
        (None, "2026-12-31", utc(2026, 12, 31)),  # no zone of one's own: APP_TIMEZONE (UTC)
    ],
)
def test_dates_are_read_in_the_users_time_zone_and_stored_as_utc(manager, zone, typed, stored):
    set_time_zone("manager", zone)
    ids = make_customers(1)
    page, token = start_action(manager, "freeze", ids)
    zone_words = {"Asia/Taipei": "Taiwan Time", "Europe/Berlin": "Central European Time"}
    # Both dates say so: when it takes effect, and when it is reactivated automatically.
    assert text(page).count(f"In your time zone ({zone_words.get(zone, 'UTC')})") == 2
    assert confirm_action(manager, token, effective_at=typed).status_code == 303
    [row] = changes()
    assert row.due_at == stored


# -- cancelling and seeing ---------------------------------------------------------------------


def test_cancel_on_the_customer_page_is_logged_and_the_runner_ignores_it(manager, runner):
    ids = make_customers(1)
    schedule(manager, "deactivate", ids, effective_at="2026-12-01")
    [row] = changes()
    details = text(manager.get(f"/admin/customers/details/?id={ids[0]}"))
    assert 'id="scheduled-changes"' in details and f'value="{row.id}"' in details
    done = manager.post(
        "/admin/scheduled/cancel/",
        data={"change_id": str(row.id), "url": f"/admin/customers/details/?id={ids[0]}"},
    )
    assert done.status_code == 303
    assert [r.status for r in changes()] == ["cancelled"]
    [cancelled] = operations("schedule_cancelled")
    assert cancelled.actor_username == "manager"
    assert entries_of(cancelled.id) == [(ids[0], "scheduled_status", "deactivated", None)]
    assert "Nothing due" in run(runner, "2026-12-02T00:00:00Z")
    assert statuses(ids) == {ids[0]: "active"}


@pytest.mark.parametrize("role", ["clerk", "auditor"])
def test_cancel_needs_the_change_status_permission(client, login, reasons, app_clock, role):
    login("manager")
    ids = make_customers(1)
    schedule(client, "freeze", ids, effective_at="2026-12-01")
    [row] = changes()
    client.post("/logout")
    login(role)
    details = text(client.get(f"/admin/customers/details/?id={ids[0]}"))
    assert 'id="scheduled-changes"' in details and 'name="change_id"' not in details
    response = client.post("/admin/scheduled/cancel/", data={"change_id": str(row.id)})
    assert response.status_code == 403
    assert [r.status for r in changes()] == ["pending"]


def test_scheduled_page_lists_pending_and_bulk_cancels(manager):
    ids = make_customers(3)
    schedule(manager, "freeze", ids, effective_at="2026-12-01")
    page = text(manager.get("/admin/scheduled/"))
    for number in (1, 2, 3):
        assert f"T0000{number}" in page
    rows = changes()
    done = manager.post(
        "/admin/scheduled/action/",
        data={"action": "cancel", "rowid": [str(rows[0].id), str(rows[1].id)]},
    )
    assert done.status_code in (302, 303)
    assert [r.status for r in changes()] == ["cancelled", "cancelled", "pending"]
    assert len(operations("schedule_cancelled")) == 1
    page = text(manager.get("/admin/scheduled/"))
    assert "T00003" in page and "T00001" not in page


def test_grid_shows_and_filters_scheduled_customers(manager):
    ids = make_customers(2)
    schedule(manager, "freeze", [ids[0]], effective_at="2026-12-01")
    grid = text(manager.get("/admin/customers/"))
    assert grid.count('class="badge badge-warning scheduled-badge"') == 1
    filtered = text(manager.get("/admin/customers/?flt0_scheduled_is=1"))
    assert "T00001" in filtered and "T00002" not in filtered


def test_status_api_shows_the_next_pending_change(app, manager):
    from admin_app.services import api_tokens

    ids = make_customers(1)
    schedule(manager, "deactivate", ids, effective_at="2026-12-01")
    token = api_tokens.create_token("t16", expires_days=None, actor=Actor.cli()).token
    api = app.test_client()
    body = api.get(
        "/api/v1/customers/T00001", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert body["pending_change"] == {"action": "deactivate", "due_at": "2026-12-01T00:00:00+00:00"}


def dashboard(client) -> str:
    """The dashboard's HTML, asserting it is the dashboard (not a redirect to the login)."""
    response = client.get("/admin/")
    assert response.status_code == 200 and 'id="schedule-card"' in text(response)
    return text(response)


def test_dashboard_warns_when_the_runner_is_late_and_counts_the_next_week(
    manager, runner, app_clock, login
):
    ids = make_customers(2)
    schedule(manager, "freeze", [ids[0]], effective_at="2026-11-30")
    schedule(manager, "freeze", [ids[1]], effective_at="2026-12-30")
    page = text(manager.get("/admin/"))
    assert re.search(r'id="schedule-runner-late">[^<]*</span>\s+<small', page)  # a space
    assert re.search(r'id="schedule-due-soon"[^>]*>\s*1\b', page)
    # A manager runs no server commands: told whom to tell, not the command.
    assert "tell an administrator" in page and "flask schedule run" not in page
    manager.post("/logout")
    login("admin")
    assert "flask schedule run" in dashboard(manager)  # the same client, now an admin's
    manager.post("/logout")
    login("manager")
    run(runner)
    assert 'id="schedule-runner-late"' not in dashboard(manager)
    app_clock.advance(hours=23)
    login("manager")  # (the session itself has expired by now)
    assert 'id="schedule-runner-late"' not in dashboard(manager)
    app_clock.advance(hours=2)  # the last run is now more than a day old
    login("manager")  # (the session itself has expired by now)
    assert 'id="schedule-runner-late"' in text(manager.get("/admin/"))


# -- two runners at once ---------------------------------------------------------------------


def test_concurrent_runners_apply_each_change_once(app, manager, backend):
    ids = make_customers(5)
    schedule(manager, "freeze", ids, effective_at="2026-12-01")
    due = utc(2026, 12, 2)
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def runner_thread():
        with app.app_context():
            try:
                barrier.wait()
                reports.append(scheduling.run_due(now=due))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner_thread) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(report.applied for report in reports) == [0, 5]
    assert len(operations("freeze")) == 1
    assert [r.status for r in changes()] == ["done"] * 5
    assert statuses(ids) == {i: "frozen" for i in ids}
    versions = db.session.execute(sa.select(Customer.version).where(Customer.id.in_(ids)))
    assert set(versions.scalars()) == {2}


def test_a_date_beyond_the_calendar_once_in_utc_is_refused_not_a_crash():
    from admin_app.services.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        scheduling.parse_moment("9999-12-31 23:00", time_zone="America/New_York", field="until")
    assert refused.value.field == "until"
