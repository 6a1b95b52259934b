from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditOperation, StaffUser
from config import Config, DevelopmentConfig, ProductionConfig, TestingConfig
from tests.conftest import PASSWORD


def _operations(action):
    db.session.rollback()
    return (
        db.session.execute(sa.select(AuditOperation).where(AuditOperation.action == action))
        .scalars()
        .all()
    )


def test_login_page_has_username_password_and_csrf_fields(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/login").get_data(as_text=True)
    for field in ('name="username"', 'name="password"', 'name="csrf_token"'):
        assert field in page


def test_good_login_reaches_dashboard_and_is_logged(client, login):
    response = login("admin")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    [operation] = _operations("login")
    assert operation.actor_username == "admin"
    assert operation.actor_role == "admin"


@pytest.mark.parametrize(
    "username, password",
    [
        ("admin", "wrong-password-123"),
        ("nobody", PASSWORD),
        ("admin", PASSWORD.upper()),
        ("admin", PASSWORD + "x"),
    ],
)
def test_bad_credentials_are_refused_with_one_message(client, login, username, password):
    response = login(username, password)
    assert response.status_code == 401
    assert b"Invalid username or password." in response.data
    assert client.get("/admin/").status_code == 302
    assert len(_operations("login_failed")) == 1


def test_inactive_user_gets_the_wrong_password_answer(client, login, staff):
    staff["clerk"].is_active = False
    db.session.commit()
    wrong = login("admin", "wrong-password-123")
    inactive = login("clerk")
    assert inactive.status_code == wrong.status_code == 401
    assert b"Invalid username or password." in inactive.data
    assert client.get_cookie("remember_token") is None
    with client.session_transaction() as session:
        assert "_user_id" not in session  # the failed login put no user in the session
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    reasons = sorted(op.scope for op in _operations("login_failed"))
    assert reasons == ['{"outcome":"bad_password"}', '{"outcome":"inactive"}']


@pytest.mark.parametrize("user_id", ["²", "٣", "+1", "01", "99999999999999999999", "", "x"])
def test_a_session_naming_no_valid_user_id_is_signed_out(client, login, staff, user_id):
    """A signed session whose user id is not a row id (another app's cookie, an old format)
    signs out: no 500, no database error for a number past the column's range."""
    login("admin")
    with client.session_transaction() as session:
        token = session["_user_id"].partition(":")[2]
        session["_user_id"] = f"{user_id}:{token}"
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "///evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "https:/evil.example",
        "http:evil.example",
        "/\tevil",
        "%2F%2Fevil.example",
    ],
)
def test_unsafe_next_goes_to_the_dashboard(login, target):
    response = login("admin", next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_local_next_is_followed(login):
    response = login("admin", next="/admin/customers/?status=frozen")
    assert response.headers["Location"] == "/admin/customers/?status=frozen"


def test_logout_is_post_only_and_revokes_the_old_cookie(app, client, login):
    login("admin")
    assert client.get("/logout").status_code == 405
    stolen = client.get_cookie("session").value
    assert client.post("/logout").status_code == 302
    assert client.get("/admin/").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/admin/").status_code == 302
    assert len(_operations("logout")) == 1


def test_disabled_user_is_logged_out_on_next_request(client, login, staff):
    login("manager")
    assert client.get("/admin/").status_code == 200
    user = db.session.get(StaffUser, staff["manager"].id)
    user.is_active = False
    db.session.commit()
    assert client.get("/admin/").status_code == 302


def test_password_hashes_are_salted_scrypt(app):
    from admin_app.services import staff as staff_service
    from admin_app.services.audit import Actor

    first = staff_service.create_user("ann", role="clerk", password=PASSWORD, actor=Actor.cli())
    second = staff_service.create_user("bob", role="clerk", password=PASSWORD, actor=Actor.cli())
    assert first.password_hash.startswith("scrypt:")
    assert first.password_hash != second.password_hash
    assert PASSWORD not in first.password_hash


@pytest.mark.parametrize("config", [Config, DevelopmentConfig, ProductionConfig])
def test_only_the_tests_hash_passwords_cheaply(config):
    """The test config's cheaper scrypt (for the suite's speed) is nowhere else: every other
    config keeps Werkzeug's scrypt:32768:8:1."""
    assert config.PASSWORD_HASH_METHOD == "scrypt"
    assert TestingConfig.PASSWORD_HASH_METHOD == "scrypt:1024:8:1"


# -- the shipped login throttle (the other tests set their own limits) ---------------------------

SHIPPED_RATE_LIMIT = "20 per minute;100 per hour"
SHIPPED_LOCKOUT = 10


@pytest.mark.parametrize("config", [Config, DevelopmentConfig, ProductionConfig, TestingConfig])
def test_every_config_ships_the_same_login_throttle(config):
    """Production and development throttle with these values; testing inherits them, so the
    two tests below exercise exactly what ships (they only switch the limiter on)."""
    assert config.LOGIN_RATE_LIMIT == SHIPPED_RATE_LIMIT
    assert config.LOGIN_LOCKOUT_THRESHOLD == SHIPPED_LOCKOUT
    assert timedelta(minutes=15) == config.LOGIN_LOCKOUT_DURATION
    if config is not TestingConfig:
        assert config.RATELIMIT_ENABLED is True


@pytest.fixture
def limiter_clock(monkeypatch):
    """Stop the clock of the limiter's memory storage, so no window ends during a test."""
    import limits.storage.memory as memory

    now = memory.time.time()
    monkeypatch.setattr(memory, "time", SimpleNamespace(time=lambda: now))


def _attempt(client, username, password, ip):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    ).status_code


@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_the_shipped_lockout_refuses_the_attempt_after_the_threshold(client, staff, limiter_clock):
    """Ten wrong passwords for one username (each from its own address): 401 each; the
    eleventh attempt is refused with 429 even with the right password."""
    statuses = [
        _attempt(client, "admin", "wrong-password-1", f"10.0.0.{n + 1}")
        for n in range(SHIPPED_LOCKOUT)
    ]
    assert statuses == [401] * SHIPPED_LOCKOUT
    assert _attempt(client, "admin", PASSWORD, "10.0.1.1") == 429
    assert _attempt(client, "manager", PASSWORD, "10.0.1.2") == 302  # other usernames are not


@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_the_shipped_rate_limit_throttles_one_address_after_20_attempts(
    client, staff, limiter_clock
):
    """Twenty attempts from one address (a different username each, so no lockout): 401
    each; the 21st is refused with 429 even with a right password; another address is not."""
    statuses = [_attempt(client, f"user{n}", "wrong-password-1", "10.0.2.1") for n in range(20)]
    assert statuses == [401] * 20
    assert _attempt(client, "admin", PASSWORD, "10.0.2.1") == 429
    assert _attempt(client, "admin", PASSWORD, "10.0.2.2") == 302
