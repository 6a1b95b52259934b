"""B. Authentication, roles and server-side authorization (SECURITY.md T06–T13)."""

import re
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest

from admin_app import create_app
from admin_app.extensions import db
from admin_app.models import StaffUser
from admin_app.services import staff as staff_service
from admin_app.services.audit import Actor
from tests.conftest import PASSWORD, confirm_action, make_customers, start_action, statuses
from tests.security.conftest import events, page_csrf, snapshot, text
from tests.security.servers import Client, app_spec, gunicorn, redis_url_or_skip


def login_next(response) -> str:
    """The local `next` of a redirect to the login page (fails for any other redirect)."""
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("", "", "/login")
    return parse_qs(location.query)["next"][0]


ADMIN_ACTOR = Actor(id=None, username="tester", role="admin", source="cli")


def test_t06_anonymous_posts_to_either_step_go_to_login_with_a_local_next(client, staff):
    """T06 — anonymous POST to step 1 and step 2: 302 to /login?next=<local path>; nothing
    changed."""
    ids = make_customers(2)
    before = snapshot()
    step1, _ = start_action(client, "deactivate", ids)
    step2 = confirm_action(client, "some-token")
    for response, path in (
        (step1, "/admin/customers/action/"),
        (step2, "/admin/customers/confirm/"),
    ):
        assert response.status_code == 302
        assert login_next(response) == path
    assert snapshot() == before


@pytest.mark.csrf
def test_t07_clerk_posting_the_action_directly_gets_403_and_an_event(
    client, login, staff, reasons, caplog
):
    """T07 — a clerk POSTs /admin/customers/action/ with a valid CSRF token and rowids: 403
    "You are not allowed to deactivate customers." (not a silent 302); nothing changed;
    security event access_denied with user, endpoint and id count."""
    ids = make_customers(3)
    login("clerk", csrf_token=page_csrf(client))
    csrf = page_csrf(client, "/admin/customers/")
    before = snapshot()
    response, token = start_action(client, "deactivate", ids, csrf_token=csrf)
    assert response.status_code == 403
    assert "You are not allowed to deactivate customers." in text(response)
    assert token is None
    assert snapshot() == before
    [event] = events(caplog, "access_denied")
    assert (event["user_id"], event["role"], event["endpoint"], event["action"], event["ids"]) == (
        staff["clerk"].id,
        "clerk",
        "customers.action_view",
        "deactivate",
        3,
    )


def test_t08_clerk_with_an_admins_op_token_gets_403_and_the_token_survives(client, login, reasons):
    """T08 — a clerk POSTs step 2 with an op token an admin created: 403; the token is not
    consumed (the admin can still use it once); nothing changed before that. (403 alone:
    tests/test_bulk_flow.py::test_another_user_cannot_use_an_admins_confirmation.)"""
    ids = make_customers(2)
    login("admin")
    _, token = start_action(client, "deactivate", ids)
    client.post("/logout")
    login("clerk")
    before = snapshot()
    assert confirm_action(client, token).status_code == 403
    assert snapshot() == before
    client.post("/logout")
    login("admin")
    assert confirm_action(client, token).status_code == 303
    assert statuses(ids) == {i: "deactivated" for i in ids}


def test_t09_demoted_through_staff_management_is_logged_out_before_step2(
    client, login, staff, reasons
):
    """T09 — an admin demoted to clerk between step 1 and step 2 through staff management:
    the role change rotates the session token, so step 2 goes to the login page; nothing
    changed. (Demoted directly in the DB, step 2 is 403:
    tests/test_bulk_flow.py::test_demoted_between_preview_and_confirm_is_refused.)"""
    ids = make_customers(2)
    login("admin")
    _, token = start_action(client, "deactivate", ids)
    staff_service.create_user(
        "second", role="admin", password="another-admin-pass", actor=ADMIN_ACTOR
    )
    staff_service.update_user(staff["admin"].id, role="clerk", actor=ADMIN_ACTOR)
    before = snapshot()
    response = confirm_action(client, token)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert snapshot() == before
    assert statuses(ids) == {i: "active" for i in ids}


def _session_user(app, client) -> str | None:
    cookie = client.get_cookie("session")
    if cookie is None:
        return None
    data = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    return data.get("_user_id")


def test_t10_disabled_user_with_the_right_password_looks_like_a_wrong_password(
    app, client, login, staff, caplog
):
    """T10 — a deactivated staff user logs in with the correct password: the same status and
    message as a wrong password, no logged-in session, event login_failed reason=inactive."""
    staff["clerk"].is_active = False
    db.session.commit()
    inactive = login("clerk")
    assert _session_user(app, client) is None
    wrong = login("auditor", "wrong-password-123")
    assert inactive.status_code == wrong.status_code == 401
    assert same_page(
        text(inactive).replace("clerk", "USER"), text(wrong).replace("auditor", "USER")
    )
    assert "Invalid username or password." in text(inactive)
    assert client.get("/admin/").status_code == 302
    reasons = {(e["username"], e["reason"]) for e in events(caplog, "login_failed")}
    assert reasons == {("clerk", "inactive"), ("auditor", "bad_password")}


def test_t11_disabled_mid_session_loses_session_and_remember_cookie(
    app, client, login, staff, reasons
):
    """T11 — a staff user is deactivated while logged in (holding a remember-me cookie), then
    sends step 2: redirect to login, nothing changed; the remember-me cookie alone is
    rejected too."""
    ids = make_customers(2)
    login("manager", remember="y")
    remember = client.get_cookie("remember_token").value
    _, token = start_action(client, "deactivate", ids)
    staff_service.update_user(staff["manager"].id, is_active=False, actor=ADMIN_ACTOR)
    before = snapshot()
    response = confirm_action(client, token)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    thief = app.test_client()
    thief.set_cookie("remember_token", remember)
    assert thief.get("/admin/").status_code == 302
    assert snapshot() == before


# Who may POST to each admin endpoint; every other role must be refused. A new endpoint
# fails test_t12 until it is added here.
POST_ALLOWED = {
    "customers.action_view": {"admin", "manager"},
    "customers.confirm_view": {"admin", "manager"},
    "customers.select_by_list_view": {"admin", "manager"},
    "customers.create_view": {"admin", "manager", "clerk"},
    "customers.edit_view": {"admin", "manager", "clerk"},
    "customers.delete_view": set(),
    "customers.ajax_update": set(),
    "orders.action_view": set(),
    "orders.create_view": {"admin", "manager", "clerk"},
    "orders.edit_view": set(),
    "orders.delete_view": set(),
    "orders.ajax_update": set(),
    "audit.action_view": set(),
    "audit.create_view": set(),
    "audit.edit_view": set(),
    "audit.delete_view": set(),
    "audit.ajax_update": set(),
    "staff.action_view": set(),
    "staff.create_view": {"admin"},
    "staff.edit_view": {"admin"},
    "staff.delete_view": set(),
    "staff.ajax_update": set(),
    "reasons.action_view": set(),
    "reasons.create_view": {"admin"},
    "reasons.edit_view": {"admin"},
    "reasons.delete_view": set(),
    "reasons.ajax_update": set(),
    "rules.action_view": set(),
    "rules.create_view": {"admin"},
    "rules.edit_view": {"admin"},
    "rules.delete_view": set(),
    "rules.ajax_update": set(),
    "audit.revert_view": {"admin", "manager"},
    "review.action_view": set(),
    "review.create_view": set(),
    "review.edit_view": set(),
    "review.delete_view": set(),
    "review.ajax_update": set(),
    "review.keep_view": {"admin", "manager"},
    "review.complete_view": {"admin", "manager"},
    "audit.revert_confirm_view": {"admin", "manager"},
    "api_tokens.create_view": {"admin"},
    "api_tokens.revoke_view": {"admin"},
    # Approvers decide; requesters (who may change statuses) cancel their own.
    "approvals.decide_view": {"admin", "manager"},
    "approvals.cancel_view": {"admin", "manager"},
    # /admin/scheduled/: its one action is "cancel" (admin, manager; tests/test_scheduling.py);
    # the "delete" this matrix posts is refused to everyone.
    "scheduled.action_view": set(),
    "scheduled.cancel_view": {"admin", "manager"},
    "scheduled.create_view": set(),
    "scheduled.edit_view": set(),
    "scheduled.delete_view": set(),
    "scheduled.ajax_update": set(),
}


def _admin_post_rules(app) -> list:
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/admin") and "POST" in rule.methods
        ),
        key=lambda rule: rule.rule,
    )


def test_t12_every_admin_post_endpoint_is_classified(app):
    """T12 — every /admin/** POST rule in app.url_map has an entry in POST_ALLOWED (a new
    endpoint fails here until someone decides who may use it)."""
    endpoints = {rule.endpoint for rule in _admin_post_rules(app)}
    assert endpoints - set(POST_ALLOWED) == set(), "classify these endpoints in POST_ALLOWED"
    assert set(POST_ALLOWED) - endpoints == set(), "these endpoints no longer exist"


@pytest.mark.csrf
@pytest.mark.parametrize("role", ["anonymous", "clerk", "auditor"])
def test_t12_role_by_endpoint_matrix(app, client, login, staff, reasons, role, caplog):
    """T12 — every /admin/** POST rule, as anonymous, clerk and auditor, with a valid CSRF
    token: never a change; anonymous goes to /login?next=<local>; a logged-in role without the
    permission gets 403 (not a 302 to the list) and one access_denied event per request."""
    [customer_id] = make_customers(1)
    if role != "anonymous":
        login(role, csrf_token=page_csrf(client))
    csrf = page_csrf(client, "/login" if role == "anonymous" else "/admin/")
    before = snapshot()
    for rule in _admin_post_rules(app):
        action = "deactivate" if rule.endpoint == "customers.action_view" else "delete"
        denied_before = len(events(caplog, "access_denied"))
        response = client.post(
            f"{rule.rule}?id={customer_id}",
            data={
                "csrf_token": csrf,
                "action": action,
                "rowid": str(customer_id),
                "id": str(customer_id),
                "url": "/admin/",
                "token": "x",
                "list_form_pk": "1",
            },
        )
        where = (role, rule.endpoint, response.status_code)
        if role == "anonymous":
            assert response.status_code == 302, where
            assert login_next(response).startswith("/admin/"), where
        elif role in POST_ALLOWED[rule.endpoint]:
            assert response.status_code == 200, where  # the form again, with its errors
        else:
            assert response.status_code == 403, where
            assert len(events(caplog, "access_denied")) == denied_before + 1, where
        assert snapshot() == before, where


# -- T13: brute force against gunicorn workers sharing a Redis store -------------------------


@pytest.fixture
def seeded_sqlite(sqlite_template, tmp_path, password_hash) -> str:
    """A SQLite file with one user per role (password PASSWORD), for a gunicorn server."""
    path = tmp_path / "server.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        for role in ("admin", "manager", "clerk", "auditor"):
            db.session.add(
                StaffUser(username=role, role=role, is_active=True, password_hash=password_hash)
            )
        db.session.commit()
        db.engine.dispose()
    return url


@pytest.fixture
def redis_prefix():
    import redis

    url = redis_url_or_skip()
    prefix = f"ca_security_test_{uuid.uuid4().hex}"
    yield url, prefix
    connection = redis.Redis.from_url(url)
    for key in connection.scan_iter(match=f"*{prefix}*"):
        connection.delete(key)


def same_page(first: str, second: str) -> bool:
    """Equal once the CSRF tokens (random and time-stamped per request) are set aside."""

    def strip(body):
        return re.sub(r'(name="csrf_token"[^>]*value=")[^"]*"', r'\1"', body)

    return strip(first) == strip(second)


def _attempt(server, username: str, password: str, ip: str):
    reply = Client(server).post(
        "/login", {"username": username, "password": password}, headers={"X-Forwarded-For": ip}
    )
    body = reply.body.replace(f'value="{username}"', 'value="USER"')
    # CSRF tokens are random per session, so they say nothing about the username.
    return reply.status, re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', body)


def test_t13_brute_force_is_throttled_across_gunicorn_workers(
    seeded_sqlite, redis_prefix, tmp_path
):
    """T13 — 101 wrong passwords for one account spread over 2 gunicorn workers (one IP
    each): from the threshold on 429 "Too many attempts, try again later", the correct
    password refused too; an unknown username behaves identically; the lockout expires; one
    IP trying 200 usernames is throttled; counters are shared (Redis); no password in the
    logs. Threshold 5; the windows (an hour) outlast the test however slow the machine, and
    their end is simulated: a lockout is a Redis key with a time to live (checked), so the
    test deletes it, as its expiry would."""
    import redis

    redis_url, prefix = redis_prefix
    wrong = "Wrong-Pass-" + uuid.uuid4().hex[:8]
    spec = app_spec(
        seeded_sqlite,
        RATELIMIT_STORAGE_URI=redis_url,
        RATELIMIT_KEY_PREFIX=prefix,
        TRUSTED_PROXIES=1,
        LOGIN_LOCKOUT_THRESHOLD=5,
        LOGIN_LOCKOUT_DURATION=3600,
        LOGIN_RATE_LIMIT="10 per hour",
    )
    with gunicorn(spec, tmp_path, workers=2) as server:
        with ThreadPoolExecutor(6) as pool:
            burst = list(
                pool.map(
                    lambda n: _attempt(server, "admin", wrong, f"10.1.{n // 250}.{n % 250 + 1}"),
                    range(101),
                )
            )
        assert [status for status, _ in burst].count(401) == 5
        assert [status for status, _ in burst].count(429) == 96
        assert len(server.worker_pids_seen("/login")) == 2  # both workers counted together
        locked_body = next(body for status, body in burst if status == 429)
        assert "Too many attempts, try again later." in locked_body
        assert _attempt(server, "admin", PASSWORD, "10.2.0.1")[0] == 429

        known = [_attempt(server, "manager", wrong, f"10.3.0.{n + 1}") for n in range(6)]
        assert _attempt(server, "manager", PASSWORD, "10.3.1.1")[0] == 429
        unknown = [_attempt(server, "ghost", wrong, f"10.4.0.{n + 1}") for n in range(6)]
        assert known == unknown  # same statuses and bodies, known or not
        assert [status for status, _ in known] == [401] * 5 + [429]
        assert known[-1][1] == locked_body

        # The lockout windows end: each is a key expiring within the hour; delete them.
        store = redis.Redis.from_url(redis_url)
        lockouts = {
            key.decode(): store.ttl(key)
            for key in store.scan_iter(match=f"*{prefix}*login-lockout*")
        }
        assert {
            name
            for name in ("admin", "manager", "ghost")
            if any(f"/{name}/" in key for key in lockouts)
        } == {"admin", "manager", "ghost"}
        assert all(0 < ttl <= 3600 for ttl in lockouts.values()), lockouts
        store.delete(*lockouts)
        assert _attempt(server, "manager", PASSWORD, "10.3.2.1")[0] == 302
        assert _attempt(server, "ghost", wrong, "10.4.1.1")[0] == 401

        with ThreadPoolExecutor(6) as pool:
            one_ip = list(
                pool.map(lambda n: _attempt(server, f"user{n}", wrong, "10.9.9.9")[0], range(200))
            )
        assert (one_ip.count(401), one_ip.count(429)) == (10, 190)
        logs = server.logs()
    assert wrong not in logs and PASSWORD not in logs
    assert '"type": "login_throttled"' in logs
