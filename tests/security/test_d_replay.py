"""D. Replay and idempotency of the confirm step (SECURITY.md T27–T32).

T27 (sequential replay → 409, audit rows n not 2n) is covered by
tests/test_bulk_flow.py::test_replayed_confirmation_is_409_and_changes_nothing_twice.
"""

import json
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditEntry, AuditOperation
from tests.conftest import (
    PASSWORD,
    TOKEN_RE,
    confirm_action,
    make_customers,
    start_action,
    statuses,
)
from tests.security.conftest import csrf_from, events, page_csrf, snapshot, text
from tests.security.servers import Client, app_spec, gunicorn


def entry_count() -> int:
    db.session.rollback()
    return db.session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar()


def test_t28_double_click_on_two_workers_runs_once(database_url, staff, reasons, tmp_path):
    """T28 — two identical step-2 POSTs fired at once, landing on different gunicorn workers
    (each worker holds its click until the other has one: `spread`): exactly one 303 and one
    409; audit rows = n. (Both databases.)"""
    ids = make_customers(4)
    db.session.remove()
    confirm = "/admin/customers/confirm/"
    with gunicorn(app_spec(database_url), tmp_path, workers=2, spread=confirm) as server:
        browser = Client(server)
        assert browser.post("/login", {"username": "admin", "password": PASSWORD}).status == 302
        page = browser.post(
            "/admin/customers/action/",
            {"action": "deactivate", "rowid": [str(i) for i in ids], "url": "/admin/customers/"},
        )
        data = {
            "token": TOKEN_RE.search(page.body).group(1),
            "reason": "customer_request",
            "url": "/admin/customers/",
        }
        barrier, replies = threading.Barrier(2), []

        def click():
            barrier.wait()
            replies.append(Client(server, cookies=dict(browser.cookies)).post(confirm, data))

        threads = [threading.Thread(target=click) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(server.spread_workers()) == 2
    assert sorted(reply.status for reply in replies) == [303, 409]
    conflict = next(reply for reply in replies if reply.status == 409)
    assert "already used" in conflict.body
    assert statuses(ids) == {i: "deactivated" for i in ids}
    assert entry_count() == 4  # n per confirmation, never 2n


def test_t29_back_button_resubmission_is_409(client, login, reasons):
    """T29 — after success, the confirmation page from history is resubmitted: the page was
    sent with Cache-Control: no-store, the resubmission gets 409, nothing changed."""
    ids = make_customers(2)
    login("admin")
    page, token = start_action(client, "freeze", ids)
    assert page.headers["Cache-Control"] == "no-store"
    assert confirm_action(client, token).status_code == 303
    assert client.get("/admin/customers/").headers["Cache-Control"] == "no-store"
    before = snapshot()
    again = confirm_action(client, token)
    assert again.status_code == 409
    assert "already used" in text(again)
    assert snapshot() == before


def test_t30_an_11_minute_old_confirmation_has_expired(client, login, reasons, clock):
    """T30 — the op token is 11 minutes old (CONFIRMATION_MAX_AGE_SECONDS = 600): 410
    "This confirmation has expired. Please start again."; nothing changed. (Also
    tests/test_bulk_flow.py::test_expired_token_is_refused, with max age -1.)"""
    ids = make_customers(2)
    login("admin")
    _, token = start_action(client, "deactivate", ids)
    before = snapshot()
    clock(11 * 60)
    response = confirm_action(client, token)
    assert response.status_code == 410
    assert "This confirmation has expired. Please start again." in text(response)
    assert snapshot() == before


@pytest.mark.csrf
def test_t31_replay_after_logout_goes_to_login(app, client, login, reasons):
    """T31 — capture the cookie, the CSRF token and the op token; log out; replay step 2 from
    a fresh client: redirect to login, nothing changed."""
    ids = make_customers(2)
    login("admin", csrf_token=page_csrf(client))
    page, token = start_action(
        client, "deactivate", ids, csrf_token=page_csrf(client, "/admin/customers/")
    )
    csrf, cookie = csrf_from(page), client.get_cookie("session").value
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    before = snapshot()
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    response = confirm_action(thief, token, csrf_token=csrf)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert snapshot() == before


def test_t32_a_session_restored_from_remember_me_must_log_in_again(app, client, login, reasons):
    """T32 — a non-fresh session (restored from the remember-me cookie) POSTs step 2: sent to
    log in again (then back to the grid); the token is not consumed; nothing changed."""
    ids = make_customers(2)
    login("admin", remember="y")
    browser = app.test_client()
    browser.set_cookie("remember_token", client.get_cookie("remember_token").value)
    _, token = start_action(browser, "deactivate", ids)  # preview is allowed
    before = snapshot()
    response = confirm_action(browser, token, url="/admin/customers/?status=active")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/admin/customers/?status=active"]
    assert snapshot() == before
    relogin = browser.post(
        "/login",
        data={"username": "admin", "password": PASSWORD, "next": "/admin/customers/?status=active"},
    )
    assert relogin.headers["Location"] == "/admin/customers/?status=active"
    assert confirm_action(browser, token).status_code == 303  # the token was not consumed
    assert statuses(ids) == {i: "deactivated" for i in ids}


def _last_operation_id(action: str) -> int:
    db.session.rollback()
    return db.session.execute(
        sa.select(sa.func.max(AuditOperation.id)).where(AuditOperation.action == action)
    ).scalar_one()


REPLAYED_FORMS = [{}, {"reason": ""}, {"reason": "no-such-reason", "memo": "x" * 5000}]


@pytest.mark.parametrize("form", REPLAYED_FORMS, ids=["same-form", "no-reason", "bad-form"])
def test_replaying_a_used_confirmation_is_a_security_event(
    client, login, staff, reasons, caplog, form
):
    """T27/T29 — the 409 for a confirmation that already ran (sent again as it was, or with
    a form that would not validate) also logs one confirmation_replayed event: who, from
    where, and the operation it made (no token); nothing changes."""
    ids = make_customers(2)
    login("admin")
    _, token = start_action(client, "freeze", ids)
    assert confirm_action(client, token).status_code == 303
    assert events(caplog, "confirmation_replayed") == []
    before = snapshot()
    again = confirm_action(client, token, **form)
    assert again.status_code == 409
    assert "already used" in text(again)
    assert snapshot() == before
    [event] = events(caplog, "confirmation_replayed")
    assert (event["operation_id"], event["user_id"], event["endpoint"], event["ip"]) == (
        _last_operation_id("freeze"),
        staff["admin"].id,
        "customers.confirm_view",
        "127.0.0.1",
    )
    assert token not in json.dumps(event)


@pytest.mark.parametrize("form", REPLAYED_FORMS, ids=["same-form", "no-reason", "bad-form"])
def test_replaying_a_used_revert_confirmation_is_a_security_event(
    client, login, staff, reasons, caplog, form
):
    """The same for the revert's confirmation: the replay is 409, changes nothing, and logs
    confirmation_replayed naming the revert operation."""
    ids = make_customers(2)
    login("manager")
    _, token = start_action(client, "freeze", ids)
    assert confirm_action(client, token).status_code == 303
    page = client.post("/admin/audit/revert/", data={"id": _last_operation_id("freeze")})
    used = {"token": TOKEN_RE.search(text(page)).group(1), "reason": "other", "memo": "oops"}
    assert client.post("/admin/audit/revert/confirm/", data=used).status_code == 303
    before = snapshot()
    again = client.post("/admin/audit/revert/confirm/", data={**used, **form})
    assert again.status_code == 409
    assert "already reverted" in text(again)
    assert snapshot() == before
    [event] = events(caplog, "confirmation_replayed")
    assert (event["operation_id"], event["user_id"], event["endpoint"]) == (
        _last_operation_id("revert"),
        staff["manager"].id,
        "audit.revert_confirm_view",
    )
