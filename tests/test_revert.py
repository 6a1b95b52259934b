"""Reverting a status operation, through the service and through the log's pages."""

import re

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditEntry, AuditOperation, Customer, StatusAction
from admin_app.services import revert, status_change
from admin_app.services.audit import Actor
from admin_app.services.audit_verify import verify_chain
from admin_app.services.errors import Conflict, InvalidInput, NotAllowed
from tests.conftest import make_customers, statuses

TOKEN_RE = re.compile(r'name="token" type="hidden" value="([^"]+)"')


@pytest.fixture
def actor(staff):
    admin = staff["admin"]
    return Actor(id=admin.id, username=admin.username, role=admin.role)


def change(actor, action, ids):
    request_id = status_change.create_request(action=StatusAction(action), actor=actor, ids=ids)
    return status_change.execute(request_id, actor=actor, reason_code="customer_request")


def test_revert_restores_each_previous_status_and_is_logged(reasons, actor):
    active = make_customers(2)
    frozen = make_customers(1, status="frozen", start=10)
    original = change(actor, "deactivate", active + frozen)
    result = revert.execute(
        original.operation_id,
        actor=actor,
        confirmed_by=actor.id,
        reason_code="other",
        memo="deactivated by mistake",
    )
    assert (result.changed, result.skipped) == (3, {})
    assert statuses(active + frozen) == {
        active[0]: "active",
        active[1]: "active",
        frozen[0]: "frozen",
    }
    operation = db.session.get(AuditOperation, result.operation_id)
    assert (operation.action, operation.reverts_operation_id) == ("revert", original.operation_id)
    entries = db.session.execute(
        sa.select(AuditEntry.entity_id, AuditEntry.old_value, AuditEntry.new_value)
        .where(AuditEntry.operation_id == result.operation_id)
        .order_by(AuditEntry.entity_id)
    ).all()
    assert entries == [
        (active[0], "deactivated", "active"),
        (active[1], "deactivated", "active"),
        (frozen[0], "deactivated", "frozen"),
    ]
    assert verify_chain().intact


def test_customers_changed_since_are_skipped(reasons, actor):
    ids = make_customers(3)
    original = change(actor, "deactivate", ids)
    change(actor, "reactivate", ids[:1])  # a later logged change
    db.session.execute(
        sa.update(Customer).where(Customer.id == ids[1]).values(status="frozen")
    )  # moved outside the app
    db.session.commit()
    preview = revert.preview(original.operation_id)
    assert (preview.eligible, preview.skipped) == (1, {"later_change": 1, "status_moved": 1})
    result = revert.execute(
        original.operation_id, actor=actor, confirmed_by=actor.id, reason_code="other", memo="x"
    )
    assert result.changed == 1
    assert statuses(ids) == {ids[0]: "active", ids[1]: "frozen", ids[2]: "active"}


def test_an_operation_is_reverted_once(reasons, actor):
    ids = make_customers(2)
    original = change(actor, "freeze", ids)
    revert.execute(
        original.operation_id, actor=actor, confirmed_by=actor.id, reason_code="other", memo="x"
    )
    with pytest.raises(Conflict, match="already reverted"):
        revert.execute(
            original.operation_id, actor=actor, confirmed_by=actor.id, reason_code="other", memo="x"
        )
    with pytest.raises(Conflict):
        revert.preview(original.operation_id)


def test_only_status_operations_can_be_reverted(reasons, actor, login):
    login("admin")
    db.session.rollback()
    login_op = db.session.execute(
        sa.select(AuditOperation.id).where(AuditOperation.action == "login")
    ).scalar()
    with pytest.raises(InvalidInput):
        revert.preview(login_op)


def test_bad_reason_changes_nothing(reasons, actor):
    ids = make_customers(2)
    original = change(actor, "freeze", ids)
    with pytest.raises(InvalidInput):
        revert.execute(
            original.operation_id, actor=actor, confirmed_by=actor.id, reason_code="other", memo=""
        )
    assert statuses(ids) == {i: "frozen" for i in ids}


@pytest.mark.parametrize(
    "role, sees_button", [("admin", True), ("manager", True), ("auditor", False)]
)
def test_revert_button_follows_the_permission(client, login, reasons, actor, role, sees_button):
    original = change(actor, "freeze", make_customers(1))
    login(role)
    page = client.get(f"/admin/audit/details/?id={original.operation_id}").get_data(as_text=True)
    assert ('id="revert-button"' in page) is sees_button


@pytest.mark.parametrize("role", ["auditor", "clerk"])
def test_roles_without_the_permission_get_403(client, login, reasons, actor, role):
    ids = make_customers(1)
    original = change(actor, "freeze", ids)
    login(role)
    assert (
        client.post("/admin/audit/revert/", data={"id": original.operation_id}).status_code == 403
    )
    assert client.post("/admin/audit/revert/confirm/", data={"token": "x"}).status_code == 403
    assert statuses(ids) == {ids[0]: "frozen"}


def test_revert_through_the_pages(client, login, reasons, actor):
    ids = make_customers(2)
    original = change(actor, "deactivate", ids)
    login("manager")
    page = client.post("/admin/audit/revert/", data={"id": original.operation_id})
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "2 customers will go back to the status they had before." in body
    assert statuses(ids) == {i: "deactivated" for i in ids}
    token = TOKEN_RE.search(body).group(1)
    done = client.post(
        "/admin/audit/revert/confirm/",
        data={"token": token, "reason": "other", "memo": "wrong customers"},
    )
    assert done.status_code == 303
    assert statuses(ids) == {i: "active" for i in ids}
    again = client.post(
        "/admin/audit/revert/confirm/",
        data={"token": token, "reason": "other", "memo": "wrong customers"},
    )
    assert again.status_code == 409
    details = client.get(f"/admin/audit/details/?id={original.operation_id}")
    assert 'id="reverted-by"' in details.get_data(as_text=True)


def test_the_service_refuses_a_confirmation_issued_to_another_user(reasons, actor, staff):
    """Defence in depth: even if a view forgot the check, the service refuses to revert for
    a user other than the one the confirmation was issued to."""
    ids = make_customers(2)
    original = change(actor, "freeze", ids)
    manager = staff["manager"]
    as_manager = Actor(id=manager.id, username=manager.username, role=manager.role)
    with pytest.raises(NotAllowed, match="belongs to another user"):
        revert.execute(
            original.operation_id,
            actor=as_manager,
            confirmed_by=actor.id,
            reason_code="other",
            memo="x",
        )
    assert statuses(ids) == {i: "frozen" for i in ids}
    db.session.rollback()
    assert (
        db.session.execute(
            sa.select(sa.func.count())
            .select_from(AuditOperation)
            .where(AuditOperation.action == "revert")
        ).scalar()
        == 0
    )


@pytest.mark.parametrize("memo", ["wrong customers", ""])
def test_another_users_revert_token_is_403_and_shows_nothing(client, login, reasons, actor, memo):
    """A manager posting the admin's revert token: 403, nothing reverted, and nothing of
    the admin's preview shown, whether the form is valid or not (empty memo, no reason)."""
    ids = make_customers(2)
    original = change(actor, "deactivate", ids)
    login("admin")
    page = client.post("/admin/audit/revert/", data={"id": original.operation_id})
    token = TOKEN_RE.search(page.get_data(as_text=True)).group(1)
    assert "Test Customer 1" in page.get_data(as_text=True)
    client.post("/logout")
    login("manager")
    response = client.post(
        "/admin/audit/revert/confirm/",
        data={"token": token, "reason": "other" if memo else "", "memo": memo},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "This confirmation belongs to another user." in body
    assert "Test Customer" not in body and "T00001" not in body
    assert statuses(ids) == {i: "deactivated" for i in ids}
    db.session.rollback()
    assert (
        db.session.execute(
            sa.select(sa.func.count())
            .select_from(AuditOperation)
            .where(AuditOperation.action == "revert")
        ).scalar()
        == 0
    )
