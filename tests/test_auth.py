import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditOperation, StaffUser
from tests.conftest import PASSWORD


def _operations(action):
    db.session.rollback()
    return db.session.execute(
        sa.select(AuditOperation).where(AuditOperation.action == action)).scalars().all()


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


@pytest.mark.parametrize("username, password", [
    ("admin", "wrong-password-123"),
    ("nobody", PASSWORD),
    ("admin", PASSWORD.upper()),
    ("admin", PASSWORD + "x"),
])
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
    assert "session=" not in inactive.headers.get("Set-Cookie", "") or client.get(
        "/admin/").status_code == 302
    assert client.get("/admin/").status_code == 302
    reasons = sorted(op.scope for op in _operations("login_failed"))
    assert reasons == ['{"outcome":"bad_password"}', '{"outcome":"inactive"}']


@pytest.mark.parametrize("target", [
    "https://evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example",
    "///evil.example", "javascript:alert(1)", "http:/evil.example", "https:/evil.example",
    "http:evil.example", "/\tevil", "%2F%2Fevil.example",
])
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
