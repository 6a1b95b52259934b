"""A. CSRF on both steps of the bulk flow (SECURITY.md T01–T05). CSRF protection is on in
every test here; each runs on SQLite and PostgreSQL."""

import re

import pytest
from itsdangerous import URLSafeTimedSerializer

from tests.conftest import confirm_action, make_customers, start_action, statuses
from tests.security.conftest import csrf_from, events, page_csrf, snapshot, text

pytestmark = pytest.mark.csrf


@pytest.fixture
def admin(client, login, reasons):
    """The client, logged in as admin with CSRF on; returns a fresh page token."""
    assert login("admin", csrf_token=page_csrf(client)).status_code == 302
    return client


def preview(client, ids, **extra):
    """Step 1 done right: returns (confirmation page, op token, the page's CSRF token)."""
    grid_token = page_csrf(client, "/admin/customers/")
    page, token = start_action(client, "deactivate", ids, csrf_token=grid_token, **extra)
    assert page.status_code == 200, text(page)
    return page, token, csrf_from(page)


def test_t01_step1_without_csrf_token_is_400_logged_and_creates_nothing(admin, staff, caplog):
    """T01 — step 1 POST with no csrf_token field: 400 "The CSRF token is missing.", no pending
    operation, nothing changed, security event csrf_failure."""
    ids = make_customers(2)
    before = snapshot()
    response, token = start_action(admin, "deactivate", ids)
    assert response.status_code == 400
    assert "The CSRF token is missing." in text(response)
    assert token is None
    assert snapshot() == before
    [event] = events(caplog, "csrf_failure")
    assert event["reason"] == "The CSRF token is missing."
    assert (event["user_id"], event["endpoint"]) == (staff["admin"].id, "customers.action_view")
    assert event["request_id"] and event["ip"] == "127.0.0.1"


def _token_signed_with_another_key(app) -> str:
    """A well-formed Flask-WTF token, signed with a key this app does not have."""
    return URLSafeTimedSerializer("another-secret-key", salt="wtf-csrf-token").dumps("0" * 40)


@pytest.mark.parametrize("variant", ["random", "other_key", "other_session"])
def test_t02_forged_csrf_token_on_step2_is_400_and_keeps_the_op_token(app, admin, login, variant):
    """T02 — step 2 with a valid op token and a forged CSRF token (random string; signed with
    another SECRET_KEY; valid for another user's session): 400, op token not consumed,
    nothing changed."""
    ids = make_customers(2)
    _, token, good_csrf = preview(admin, ids)
    if variant == "random":
        forged, message = "x" * 40, "The CSRF token is invalid."
    elif variant == "other_key":
        forged, message = _token_signed_with_another_key(app), "The CSRF token is invalid."
    else:
        other = app.test_client()
        forged, message = page_csrf(other), "The CSRF tokens do not match."
    before = snapshot()
    response = confirm_action(admin, token, csrf_token=forged)
    assert response.status_code == 400
    assert message in text(response)
    assert snapshot() == before
    assert confirm_action(admin, token, csrf_token=good_csrf).status_code == 303  # not consumed
    assert statuses(ids) == {i: "deactivated" for i in ids}


@pytest.mark.parametrize(
    "referrer, message",
    [
        ("https://evil.example/", "The referrer does not match the host."),
        (None, "The referrer header is missing."),
    ],
)
def test_t03_https_step2_needs_a_same_origin_referrer(
    app, client, login, reasons, referrer, message
):
    """T03 — over HTTPS, step 2 with a valid token but Referer https://evil.example/, and with
    no Referer: 400 with Flask-WTF's reason; nothing changed."""
    base = "https://localhost"
    own = {"Referer": f"{base}/admin/customers/"}
    csrf = csrf_from(client.get("/login", base_url=base))
    assert (
        client.post(
            "/login",
            base_url=base,
            headers={"Referer": f"{base}/login"},
            data={
                "username": "admin",
                "password": "correct-horse-battery",
                "csrf_token": csrf,
            },
        ).status_code
        == 302
    )
    ids = make_customers(2)
    grid_csrf = csrf_from(client.get("/admin/customers/", base_url=base))
    page = client.post(
        "/admin/customers/action/",
        base_url=base,
        headers=own,
        data={"action": "deactivate", "rowid": [str(i) for i in ids], "csrf_token": grid_csrf},
    )
    assert page.status_code == 200
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', text(page)).group(1)
    data = {"token": token, "reason": "customer_request", "csrf_token": csrf_from(page)}
    before = snapshot()
    headers = {"Referer": referrer} if referrer else {}
    response = client.post("/admin/customers/confirm/", base_url=base, headers=headers, data=data)
    assert response.status_code == 400
    assert message in text(response)
    assert snapshot() == before
    assert (
        client.post("/admin/customers/confirm/", base_url=base, headers=own, data=data).status_code
        == 303
    )


def test_t04_get_on_either_step_is_405(admin):
    """T04 — GET /admin/customers/action/?action=deactivate&rowid=1 and GET of the confirm URL
    with all its parameters: 405, nothing changed. (Step 1 is also covered by
    tests/test_bulk_flow.py::test_action_endpoint_refuses_get.)"""
    ids = make_customers(1)
    _, token, csrf = preview(admin, ids)
    before = snapshot()
    step1 = admin.get(f"/admin/customers/action/?action=deactivate&rowid={ids[0]}")
    step2 = admin.get(
        "/admin/customers/confirm/",
        query_string={"token": token, "reason": "customer_request", "memo": "", "csrf_token": csrf},
    )
    assert (step1.status_code, step2.status_code) == (405, 405)
    assert "GET" not in step2.headers["Allow"]
    assert snapshot() == before


def test_t05_expired_csrf_token_gets_a_friendly_restart_page(admin, clock):
    """T05 — step 2 with a CSRF token older than WTF_CSRF_TIME_LIMIT (+3601 s): 400 "The CSRF
    token has expired.", a page offering to start again, nothing changed."""
    ids = make_customers(2)
    _, token, csrf = preview(admin, ids)
    before = snapshot()
    clock(3601)
    response = confirm_action(admin, token, csrf_token=csrf, url="/admin/customers/?status=active")
    assert response.status_code == 400
    body = text(response)
    assert "The CSRF token has expired." in body
    assert 'href="/admin/customers/?status=active" id="restart-link"' in body
    assert "Nothing was changed." in body
    assert snapshot() == before


@pytest.mark.parametrize(
    ("locale", "reason"),
    [("zh_Hans_CN", "缺少表单安全令牌（CSRF）。"), ("zh_Hant_TW", "缺少表單安全權杖（CSRF）。")],
)
def test_the_refusal_is_said_in_the_readers_language(admin, locale, reason):
    """Flask-WTF gives its reasons in English; the page says them in the reader's language
    (the security log keeps Flask-WTF's words)."""
    token = page_csrf(admin, "/admin/customers/")
    admin.post("/locale", data={"locale": locale, "next": "/admin/", "csrf_token": token})
    response, _token = start_action(admin, "deactivate", make_customers(1))
    assert response.status_code == 400
    assert reason in text(response) and "The CSRF token is missing." not in text(response)
