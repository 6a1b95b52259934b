"""Sessions that can be revoked: cookie flags, fixation, idle and absolute timeouts, and the
per-user session token that logout, disabling, role changes and password resets rotate
(in the session cookie and in the remember-me cookie alike)."""

import re
from datetime import timedelta

import pytest

from admin_app import create_app
from admin_app.extensions import db
from admin_app.models import StaffUser
from admin_app.services import staff as staff_service
from admin_app.services.audit import Actor
from tests.conftest import PASSWORD, IsolatedClient, make_customers, start_action
from tests.security.conftest import csrf_from, events, page_csrf, text

ADMIN_ACTOR = Actor(id=None, username="tester", role="admin", source="cli")


@pytest.fixture
def production_app(database_url, password_hash):
    app = create_app(
        "production", SECRET_KEY="production-test-key", SQLALCHEMY_DATABASE_URI=database_url
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.session.add(
            StaffUser(username="admin", role="admin", is_active=True, password_hash=password_hash)
        )
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


def _set_cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def test_production_cookies_are_host_prefixed_secure_httponly_samesite(production_app):
    """ASVS 3.4.1–3.4.4: under the production config the session and remember-me cookies are
    __Host- prefixed, Secure, HttpOnly, SameSite=Lax, Path=/, without Domain."""
    client = production_app.test_client()
    base = "https://localhost"
    csrf = csrf_from(client.get("/login", base_url=base))
    response = client.post(
        "/login",
        base_url=base,
        headers={"Referer": f"{base}/login"},
        data={"username": "admin", "password": PASSWORD, "remember": "y", "csrf_token": csrf},
    )
    assert response.status_code == 302
    cookies = _set_cookies(response)
    assert set(cookies) == {"__Host-session", "__Host-remember"}
    for header in cookies.values():
        attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
        assert {"secure", "httponly", "samesite", "path"} <= attributes, header
        assert "domain" not in attributes, header
        assert "SameSite=Lax" in header and "Path=/" in header, header


def test_production_has_no_debugger(production_app, monkeypatch):
    """ASVS 14.3.2: debug is off in production; a forced error shows no Werkzeug debugger
    and /console is 404."""
    import admin_app.auth.routes

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    assert production_app.debug is False
    client = production_app.test_client()
    monkeypatch.setattr(admin_app.auth.routes, "LoginForm", boom)
    failed = client.get("/login", base_url="https://localhost")
    assert failed.status_code == 500
    assert "Traceback" not in text(failed) and "secret internals" not in text(failed)
    assert "debugger" not in text(failed).lower()
    assert client.get("/console", base_url="https://localhost").status_code == 404
    assert (
        client.get(
            "/console?__debugger__=yes&cmd=resource&f=style.css", base_url="https://localhost"
        ).status_code
        == 404
    )


@pytest.mark.csrf
def test_login_issues_a_new_session_and_the_old_cookie_is_worthless(app, client, staff):
    """ASVS 3.2.1 (fixation): the session cookie before login differs from the one after it,
    and the pre-login cookie, replayed after the login, is not logged in."""
    csrf = page_csrf(client)
    before = client.get_cookie("session").value
    assert (
        client.post(
            "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf}
        ).status_code
        == 302
    )
    after = client.get_cookie("session").value
    assert after != before
    assert client.get("/admin/").status_code == 200
    attacker = app.test_client()
    attacker.set_cookie("session", before)
    assert attacker.get("/admin/").status_code == 302


@pytest.fixture
def clock_minutes(app_clock):
    """clock_minutes(n): the app's pinned clock (`app_clock`) stands n minutes after the time the
    test started (and logged in) at: exact minutes, however slow the machine."""
    start = app_clock.now

    def advance(minutes: int) -> None:
        app_clock.now = start + timedelta(minutes=minutes)

    return advance


def test_idle_session_ends_and_takes_the_remember_cookie_with_it(client, login, clock_minutes):
    """ASVS 3.3.2: 31 idle minutes end the session (default IDLE_TIMEOUT 30 min); the login
    page says why; the browser's remember-me cookie is deleted, so it cannot log back in."""
    login("admin", remember="y")
    clock_minutes(29)
    assert client.get("/admin/").status_code == 200
    clock_minutes(29 + 31)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert client.get_cookie("remember_token") is None
    assert "expired after a period of inactivity" in text(client.get("/login"))
    assert client.get("/admin/").status_code == 302


def test_absolute_lifetime_ends_an_active_session(client, login, clock_minutes):
    """ASVS 3.3.2: a session active every 20 minutes still ends 12 h after its login."""
    login("admin")
    minutes = 0
    while minutes < 12 * 60 - 20:
        minutes += 20
        clock_minutes(minutes)
        assert client.get("/admin/").status_code == 200, minutes
    clock_minutes(12 * 60 + 1)
    assert client.get("/admin/").status_code == 302
    page = text(client.get("/login"))  # it says why, and not "inactivity"
    assert "reached its longest allowed time" in page and "inactivity" not in page


MISSING = object()


@pytest.mark.parametrize(
    "clocks",
    [
        {"login_at": MISSING, "last_seen": MISSING},
        {"login_at": MISSING},
        {"last_seen": MISSING},
        {"login_at": "0", "last_seen": "0"},
        {"last_seen": True},
    ],
    ids=["both-missing", "no-login_at", "no-last_seen", "text", "bool"],
)
def test_a_session_without_its_clocks_is_rejected_not_restarted(client, login, caplog, clocks):
    """Every login starts login_at and last_seen. A logged-in session without them (or with
    something else than a number of seconds) is sent to log in with its remember-me cookie
    dropped and a session_rejected event, instead of being given fresh clocks (which would let
    it outlive IDLE_TIMEOUT and ABSOLUTE_SESSION_LIFETIME)."""
    login("admin", remember="y")
    assert client.get("/admin/").status_code == 200
    with client.session_transaction() as session:
        for name, value in clocks.items():
            if value is MISSING:
                del session[name]
            else:
                session[name] = value
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert client.get_cookie("remember_token") is None
    assert client.get("/admin/").status_code == 302
    assert [event["reason"] for event in events(caplog, "session_rejected")] == ["no_clocks"]


def _remember_cookie(client) -> str:
    return client.get_cookie("remember_token").value


def test_remember_cookie_restores_a_non_fresh_session(app, client, login):
    """The remember-me cookie alone logs a new browser back in, as a non-fresh session that
    lasts (Flask-Login's "strong" protection used to end it on the second request)."""
    login("clerk", remember="y")
    browser = app.test_client()
    browser.set_cookie("remember_token", _remember_cookie(client))
    assert browser.get("/admin/").status_code == 200
    assert browser.get("/admin/customers/").status_code == 200  # and it stays logged in
    restored = browser.get_cookie("session").value
    data = app.session_interface.get_signing_serializer(app).loads(restored)
    assert data["_fresh"] is False


@pytest.mark.parametrize("change", ["logout", "disable", "role", "password"])
def test_session_and_remember_cookies_are_revoked(app, client, login, staff, change):
    """ASVS 3.3.1 / v5 7.4.2 / 7.4.5: logout, disabling, a role change and a password reset
    rotate the user's session token: the existing session cookie and a copied remember-me
    cookie both stop working on their next request."""
    login("clerk", remember="y")
    session_cookie, remember_cookie = client.get_cookie("session").value, _remember_cookie(client)
    clerk = staff["clerk"].id
    if change == "logout":
        response = client.post("/logout")
        assert "remember_token=;" in " ".join(response.headers.getlist("Set-Cookie"))
    elif change == "disable":
        staff_service.update_user(clerk, is_active=False, actor=ADMIN_ACTOR)
    elif change == "role":
        staff_service.update_user(clerk, role="auditor", actor=ADMIN_ACTOR)
    else:
        staff_service.update_user(clerk, new_password="a-brand-new-passphrase", actor=ADMIN_ACTOR)
    for cookie_name, value in (("session", session_cookie), ("remember_token", remember_cookie)):
        browser = app.test_client()
        browser.set_cookie(cookie_name, value)
        assert browser.get("/admin/").status_code == 302, cookie_name


def test_no_session_or_secret_tokens_in_urls(client, login, reasons):
    """ASVS 3.1.1 / v5 14.2.1: no link or form on the dashboard, grid, confirmation page or
    login page carries the session, a CSRF token or the confirmation token in its URL."""
    ids = make_customers(3)
    login("admin")
    pages = [
        text(client.get("/admin/")),
        text(client.get("/admin/customers/")),
        text(start_action(client, "deactivate", ids)[0]),
        text(client.get("/login")),
    ]
    urls = [url for page in pages for url in re.findall(r'(?:href|action|src)="([^"]*)"', page)]
    assert len(urls) > 20
    for url in urls:
        assert not re.search(r"[?&](session|csrf_token|token|remember_token)=", url), url


def _prefer(user: StaffUser, locale: str | None) -> None:
    user.locale = locale
    db.session.commit()


@pytest.mark.parametrize("ending", ["logout", "idle"])
def test_the_login_page_after_a_session_ends_stays_in_the_readers_language(
    client, login, staff, clock_minutes, ending
):
    """A reader of Traditional Chinese (their own setting; the browser asks for English) who
    logs out or is timed out gets the login page in Chinese, not English; the next person to
    log in on that browser still gets their own language."""
    _prefer(staff["manager"], "zh_Hant_TW")
    _prefer(staff["clerk"], "zh_Hans_CN")
    login("manager")
    if ending == "logout":
        page = text(client.post("/logout", follow_redirects=True))
        assert "您已登出。" in page
    else:
        clock_minutes(31)
        client.get("/admin/")
        page = text(client.get("/login"))
    assert "帳號" in page and "Username" not in page
    login("clerk")
    assert "客户" in text(client.get("/admin/customers/"))
