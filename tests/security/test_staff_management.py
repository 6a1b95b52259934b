"""/admin/staff/: admins create staff users, change roles, disable and re-enable them and
reset passwords; every change is logged without secrets; the last active admin stays."""

import logging
import re
import threading

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditEntry, AuditOperation, StaffUser
from admin_app.services import staff as staff_service
from admin_app.services.audit import Actor
from admin_app.services.errors import Conflict
from tests.conftest import PASSWORD
from tests.security.conftest import snapshot, text

NEW_PASSWORD = "Quiet-Harbour-Lantern-42"


@pytest.fixture
def admin_client(client, login):
    assert login("admin").status_code == 302
    return client


def _user(username: str) -> StaffUser | None:
    db.session.rollback()
    return db.session.execute(
        sa.select(StaffUser).where(StaffUser.username == username)
    ).scalar_one_or_none()


def _entries(action: str) -> list[tuple]:
    db.session.rollback()
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(
                AuditEntry.entity,
                AuditEntry.entity_label,
                AuditEntry.field,
                AuditEntry.old_value,
                AuditEntry.new_value,
            )
            .join(AuditOperation)
            .where(AuditOperation.action == action)
            .order_by(AuditEntry.id)
        ).all()
    ]


def _log_text() -> str:
    """Every stored operation and entry, as text."""
    db.session.rollback()
    rows = db.session.execute(sa.select(AuditOperation)).scalars().all()
    entries = db.session.execute(sa.select(AuditEntry)).scalars().all()
    return repr([vars(row) for row in rows]) + repr([vars(entry) for entry in entries])


def _edit(client, user: StaffUser, **fields):
    data = {"role": user.role, "is_active": "y" if user.is_active else "", "new_password": ""}
    data.update(fields)
    return client.post(f"/admin/staff/edit/?id={user.id}", data=data)


def _field_errors(html: str, field: str) -> list[str]:
    """The messages Flask-Admin's form shows under `field` (empty: none there)."""
    after = html.split(f'id="{field}"', 1)[1].split("</div>", 2)
    return re.findall(r"<li>(.*?)</li>", "".join(after[:2]))


def test_a_weak_password_is_shown_under_its_field(admin_client, staff):
    created = admin_client.post(
        "/admin/staff/new/", data={"username": "zoe", "role": "manager", "password": "short"}
    )
    assert created.status_code == 200
    assert _field_errors(text(created), "password") == ["Password must be at least 12 characters."]
    assert _user("zoe") is None
    edited = _edit(admin_client, staff["clerk"], new_password="short")
    assert _field_errors(text(edited), "new_password") == [
        "Password must be at least 12 characters."
    ]


def test_admin_creates_a_user_who_can_log_in(app, admin_client, caplog):
    caplog.set_level(logging.DEBUG)
    response = admin_client.post(
        "/admin/staff/new/", data={"username": "zoe", "role": "manager", "password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    zoe = _user("zoe")
    assert (zoe.role, zoe.is_active) == ("manager", True)
    assert zoe.password_hash.startswith("scrypt:")
    assert _entries("staff_create") == [
        ("staff_user", "zoe", "role", None, "manager"),
        ("staff_user", "zoe", "is_active", None, "true"),
    ]
    other = app.test_client()
    assert (
        other.post("/login", data={"username": "zoe", "password": NEW_PASSWORD}).status_code == 302
    )
    assert NEW_PASSWORD not in _log_text() + caplog.text
    assert zoe.password_hash not in _log_text() + caplog.text


@pytest.mark.parametrize(
    "password, message",
    [
        ("short-pass1", "at least 12 characters"),
        ("x" * 129, "at most 128 characters"),
        ("password123456", "too common"),
        ("NewColleague", "must not be the username"),
    ],
)
def test_weak_passwords_are_refused_with_a_message(admin_client, password, message):
    """ASVS 2.1.1 / 2.1.2 / 2.1.7: the policy applies when an admin creates a user."""
    before = snapshot()
    response = admin_client.post(
        "/admin/staff/new/",
        data={"username": "newcolleague", "role": "clerk", "password": password},
    )
    assert response.status_code == 200
    assert message in text(response)
    assert _user("newcolleague") is None
    assert snapshot() == before


def test_reset_password_applies_the_policy_logs_no_secret_and_ends_sessions(
    app, admin_client, staff, caplog
):
    caplog.set_level(logging.DEBUG)
    clerk_browser = app.test_client()
    clerk_browser.post("/login", data={"username": "clerk", "password": PASSWORD})
    clerk = _user("clerk")
    refused = _edit(admin_client, clerk, new_password="clerk")
    assert "at least 12 characters" in text(refused)
    assert _user("clerk").password_hash == clerk.password_hash
    assert _edit(admin_client, clerk, new_password=NEW_PASSWORD).status_code == 302
    assert _entries("staff_update") == [("staff_user", "clerk", "password", None, "(changed)")]
    assert clerk_browser.get("/admin/").status_code == 302  # session ended
    for password, status in ((PASSWORD, 401), (NEW_PASSWORD, 302)):
        assert (
            app.test_client()
            .post("/login", data={"username": "clerk", "password": password})
            .status_code
            == status
        )
    new_hash = _user("clerk").password_hash
    for secret in (NEW_PASSWORD, new_hash, clerk.password_hash):
        assert secret not in _log_text() + caplog.text


def test_role_change_is_logged_and_takes_effect_on_the_next_request(app, admin_client, staff):
    manager_browser = app.test_client()
    manager_browser.post("/login", data={"username": "manager", "password": PASSWORD})
    assert manager_browser.get("/admin/audit/").status_code == 200
    assert _edit(admin_client, _user("manager"), role="clerk").status_code == 302
    assert _entries("staff_update") == [("staff_user", "manager", "role", "manager", "clerk")]
    assert manager_browser.get("/admin/").status_code == 302  # logged out at once
    manager_browser.post("/login", data={"username": "manager", "password": PASSWORD})
    assert manager_browser.get("/admin/audit/").status_code == 403  # now a clerk


def test_disable_and_reenable(app, admin_client, staff):
    auditor = _user("auditor")
    asked = _edit(admin_client, auditor, is_active="")  # disabling asks for confirmation
    assert asked.status_code == 200
    assert "Disabling auditor ends their sessions at once." in text(asked)
    assert _user("auditor").is_active is True
    saved = _edit(admin_client, auditor, is_active="", confirm_disable="y")
    assert saved.status_code == 302
    assert "Staff user auditor saved." in text(admin_client.get(saved.headers["Location"]))
    assert _user("auditor").is_active is False
    assert (
        app.test_client()
        .post("/login", data={"username": "auditor", "password": PASSWORD})
        .status_code
        == 401
    )
    assert _edit(admin_client, _user("auditor"), is_active="y").status_code == 302
    assert (
        app.test_client()
        .post("/login", data={"username": "auditor", "password": PASSWORD})
        .status_code
        == 302
    )
    assert _entries("staff_update") == [
        ("staff_user", "auditor", "is_active", "true", "false"),
        ("staff_user", "auditor", "is_active", "false", "true"),
    ]


def test_saving_an_unchanged_form_logs_nothing(admin_client, staff):
    before = snapshot()
    response = _edit(admin_client, _user("clerk"))
    assert response.status_code == 302
    assert snapshot()["operations"] == before["operations"]


@pytest.mark.parametrize("change", [{"role": "manager"}, {"is_active": "", "confirm_disable": "y"}])
def test_the_last_active_admin_cannot_be_demoted_or_disabled(admin_client, staff, change):
    before = snapshot()
    response = _edit(admin_client, _user("admin"), **change)
    assert response.status_code == 200
    assert "last active admin" in text(response)
    assert snapshot() == before
    assert admin_client.get("/admin/staff/").status_code == 200  # still an admin


def test_an_admin_may_step_down_while_another_active_admin_remains(admin_client, staff):
    actor = Actor.cli()
    other = staff_service.create_user("second", role="admin", password=NEW_PASSWORD, actor=actor)
    staff_service.update_user(other.id, is_active=False, actor=actor)
    # An inactive admin does not count.
    assert "last active admin" in text(_edit(admin_client, _user("admin"), role="clerk"))
    staff_service.update_user(other.id, is_active=True, actor=actor)
    assert _edit(admin_client, _user("admin"), role="clerk").status_code == 302
    assert _user("admin").role == "clerk"
    with pytest.raises(Conflict, match="last active admin"):
        staff_service.update_user(other.id, role="manager", actor=actor)


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, staff):
    """The last-admin check and the change are serialised: of two concurrent demotions of
    the only two admins, exactly one succeeds."""
    second = staff_service.create_user(
        "second", role="admin", password=NEW_PASSWORD, actor=Actor.cli()
    )
    targets = (staff["admin"].id, second.id)
    barrier, outcomes = threading.Barrier(2), []

    def demote(user_id):
        with app.app_context():
            barrier.wait()
            try:
                staff_service.update_user(user_id, role="clerk", actor=Actor.cli())
                outcomes.append("ok")
            except Conflict:
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=demote, args=(user_id,)) for user_id in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["conflict", "ok"]
    db.session.rollback()
    admins = db.session.execute(
        sa.select(sa.func.count())
        .select_from(StaffUser)
        .where(StaffUser.role == "admin", StaffUser.is_active.is_(True))
    ).scalar()
    assert admins == 1
