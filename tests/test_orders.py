"""Orders: only active customers take them, on every path (service, admin form, CLI); each
placed order is logged and moves the customer's last_order_at and version; orders of
deactivated customers stay visible."""

import json
import logging
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditEntry, AuditOperation, Customer, Order
from admin_app.services import orders
from admin_app.services.audit import Actor
from admin_app.services.errors import CustomerNotActive, InvalidInput, NotFound
from tests.conftest import confirm_action, make_customers, start_action


@pytest.fixture
def clerk_actor(staff):
    clerk = staff["clerk"]
    return Actor(id=clerk.id, username=clerk.username, role=clerk.role)


def count(model) -> int:
    db.session.rollback()
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar()


def customer(customer_id) -> Customer:
    db.session.rollback()
    return db.session.get(Customer, customer_id)


def text(response) -> str:
    return response.get_data(as_text=True)


# -- the service -----------------------------------------------------------------------------


def test_placing_an_order_logs_it_and_moves_last_order_and_version(clerk_actor):
    [cid] = make_customers(1)
    before = customer(cid)
    assert (before.version, before.last_order_at) == (1, None)

    placed = orders.place_order(cid, "1,250.5", actor=clerk_actor)

    order = db.session.get(Order, placed.id)
    assert (order.customer_id, order.amount, order.created_by) == (
        cid,
        Decimal("1250.50"),
        clerk_actor.id,
    )
    assert order.number == placed.number and order.number.startswith("SO")
    after = customer(cid)
    assert after.version == 2
    assert after.last_order_at == order.ordered_at
    operation = db.session.execute(sa.select(AuditOperation)).scalar_one()
    assert (operation.action, operation.actor_username, operation.changed_count) == (
        "order_create",
        "clerk",
        1,
    )
    entries = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    assert [(e.entity, e.entity_id, e.field, e.old_value, e.new_value) for e in entries] == [
        ("order", placed.id, "number", None, placed.number),
        ("order", placed.id, "customer", None, "T00001"),
        ("order", placed.id, "amount", None, "1250.50"),
        ("order", placed.id, "ordered_at", None, order.ordered_at.isoformat()),
        ("customer", cid, "last_order_at", None, order.ordered_at.isoformat()),
    ]


@pytest.mark.parametrize("status", ["frozen", "deactivated"])
def test_inactive_customer_is_refused_and_nothing_is_written(app, clerk_actor, caplog, status):
    # Alembic's fileConfig (run by migration tests in this worker) disables existing loggers.
    app.logger.disabled = False
    [cid] = make_customers(1, status=status)
    with (
        caplog.at_level(logging.WARNING),
        pytest.raises(CustomerNotActive, match=f"T00001 is {status} and cannot take new"),
    ):
        orders.place_order(cid, "10", actor=clerk_actor)
    assert count(Order) == 0
    assert count(AuditOperation) == 0  # a refused order is not a change
    assert customer(cid).version == 1
    assert any(
        "order refused" in r.getMessage() and "T00001" in r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING
    )


@pytest.mark.parametrize(
    "amount",
    [
        "0",
        "-5",
        "abc",
        "",
        "NaN",
        "Infinity",
        "1e3",
        None,
        "1_000",
        "10.005",
        "１２",
        "1000000000000",
        True,
        Decimal("1.234"),
        Decimal("-1"),
    ],
)
def test_bad_amounts_are_refused(clerk_actor, amount):
    [cid] = make_customers(1)
    with pytest.raises(InvalidInput):
        orders.place_order(cid, amount, actor=clerk_actor)
    assert count(Order) == 0 and count(AuditOperation) == 0


def test_unknown_customer_is_not_found(clerk_actor):
    with pytest.raises(NotFound):
        orders.place_order(424242, "10", actor=clerk_actor)
    assert count(Order) == 0


def test_last_order_at_never_moves_backwards(clerk_actor, app_clock):
    [cid] = make_customers(1)
    later = app_clock.now + timedelta(seconds=1)  # the order below is placed at app_clock.now
    db.session.execute(sa.update(Customer).where(Customer.id == cid).values(last_order_at=later))
    db.session.commit()
    orders.place_order(cid, "10", actor=clerk_actor)
    assert customer(cid).last_order_at == later


def test_order_numbers_skip_numbers_already_taken(clerk_actor):
    [cid] = make_customers(1)
    db.session.execute(
        sa.insert(Order).values(number="SO00000002", customer_id=cid, amount=Decimal("1"))
    )
    db.session.commit()
    first = orders.place_order(cid, "10", actor=clerk_actor)
    second = orders.place_order(cid, "10", actor=clerk_actor)
    assert (first.number, second.number) == ("SO00000003", "SO00000004")


# -- the admin form ----------------------------------------------------------------------------


def test_clerk_places_an_order_through_the_form(client, login):
    [cid] = make_customers(1)
    login("clerk")
    response = client.post("/admin/orders/new/", data={"customer": str(cid), "amount": "99.90"})
    assert response.status_code == 302
    db.session.rollback()
    order = db.session.execute(sa.select(Order)).scalar_one()
    assert (order.customer_id, order.amount) == (cid, Decimal("99.90"))
    operation = db.session.execute(
        sa.select(AuditOperation).where(AuditOperation.action == "order_create")
    ).scalar_one()
    assert (operation.actor_username, operation.source) == ("clerk", "web")


@pytest.mark.parametrize("status", ["frozen", "deactivated"])
def test_form_refuses_an_inactive_customer_with_a_clear_409(client, login, status):
    [cid] = make_customers(1, status=status)
    login("clerk")
    response = client.post("/admin/orders/new/", data={"customer": str(cid), "amount": "5"})
    assert response.status_code == 409
    assert f"Customer T00001 is {status} and cannot take new orders." in text(response)
    assert count(Order) == 0
    assert (
        db.session.execute(
            sa.select(sa.func.count())
            .select_from(AuditOperation)
            .where(AuditOperation.action == "order_create")
        ).scalar()
        == 0
    )


@pytest.mark.parametrize("amount", ["-5", "0", "1.005"])
def test_a_bad_amount_is_shown_under_the_amount_field(client, login, amount):
    [cid] = make_customers(1)
    login("clerk")
    response = client.post("/admin/orders/new/", data={"customer": str(cid), "amount": amount})
    html = text(response)
    under_amount = html.split('id="amount"', 1)[1].split("</div>", 1)[0]
    assert "Amount must" in under_amount and html.count("Amount must") == 1  # not on top too
    assert count(Order) == 0


@pytest.mark.parametrize("customer_value", ["abc", "-1", "99999999999999999999", "", "1.5"])
def test_form_with_a_bogus_customer_id_is_refused_without_500(client, login, customer_value):
    make_customers(1)
    login("clerk")
    response = client.post("/admin/orders/new/", data={"customer": customer_value, "amount": "5"})
    assert response.status_code == 200  # the form again, with its error
    assert "Failed to create record." in text(response)
    assert count(Order) == 0


def test_roles_without_edit_permission_cannot_create_orders(client, login):
    [cid] = make_customers(1)
    login("auditor")
    assert client.get("/admin/orders/").status_code == 200
    assert 'href="/admin/orders/new/' not in text(client.get("/admin/orders/"))
    assert client.get("/admin/orders/new/").status_code == 403
    response = client.post("/admin/orders/new/", data={"customer": str(cid), "amount": "5"})
    assert response.status_code == 403
    assert count(Order) == 0


def test_orders_cannot_be_edited_or_deleted(client, login, clerk_actor):
    [cid] = make_customers(1)
    placed = orders.place_order(cid, "10", actor=clerk_actor)
    login("admin")
    assert client.get(f"/admin/orders/edit/?id={placed.id}").status_code == 403
    assert (
        client.post(
            f"/admin/orders/edit/?id={placed.id}", data={"customer": str(cid), "amount": "1"}
        ).status_code
        == 403
    )
    assert client.post("/admin/orders/delete/", data={"id": str(placed.id)}).status_code == 403
    assert db.session.get(Order, placed.id).amount == Decimal("10.00")


def test_customer_search_lists_blocked_customers_as_unselectable_entries(client, login, reasons):
    make_customers(2, name="Golden Dragon Foods")
    [frozen] = make_customers(1, status="frozen", start=10, name="Golden Frozen Foods")
    [gone] = make_customers(1, status="deactivated", start=20, name="Golden Gone Foods")
    db.session.execute(
        sa.update(Customer).where(Customer.id == gone).values(status_reason="customer_request")
    )
    db.session.commit()
    login("clerk")
    by_name = client.get("/admin/orders/ajax/lookup/?name=customer&query=golden")
    assert by_name.status_code == 200
    assert json.loads(by_name.data)[2:] == [
        [
            f"blocked:{frozen}",
            "T00010 Golden Frozen Foods — Frozen: no reason recorded (cannot order)",
        ],
        [
            f"blocked:{gone}",
            "T00020 Golden Gone Foods — Deactivated: Customer request (cannot order)",
        ],
    ]
    assert [label for _, label in json.loads(by_name.data)[:2]] == [
        "T00001 — Golden Dragon Foods",
        "T00002 — Golden Dragon Foods",
    ]
    by_code = json.loads(client.get("/admin/orders/ajax/lookup/?name=customer&query=T00002").data)
    assert [label for _, label in by_code] == ["T00002 — Golden Dragon Foods"]
    # A blocked entry's id is not a customer id: posting it places no order.
    refused = client.post(
        "/admin/orders/new/", data={"customer": f"blocked:{gone}", "amount": "10"}
    )
    assert refused.status_code == 200
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Order)).scalar() == 0


def test_order_for_a_customer_over_its_credit_limit_is_placed_with_a_warning(client, login):
    [cid] = make_customers(1, balance=Decimal("1500.00"), credit_limit=Decimal("1000.00"))
    login("clerk")
    [[_, label]] = json.loads(
        client.get("/admin/orders/ajax/lookup/?name=customer&query=T00001").data
    )
    assert label == "T00001 — Test Customer 1 (over credit limit)"
    done = client.post(
        "/admin/orders/new/", data={"customer": str(cid), "amount": "10"}, follow_redirects=True
    )
    assert done.status_code == 200
    assert (
        "Customer T00001 is over its credit limit (balance 1,500.00, limit 1,000.00)."
        in done.get_data(as_text=True)
    )
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Order)).scalar() == 1


def test_customer_search_wildcards_are_literal_and_limits_are_clamped(client, login):
    make_customers(60)
    login("clerk")
    wildcard = client.get("/admin/orders/ajax/lookup/?name=customer&query=%25")
    assert json.loads(wildcard.data) == []
    capped = client.get("/admin/orders/ajax/lookup/?name=customer&query=T&limit=100000")
    assert len(json.loads(capped.data)) == 50
    negative = client.get("/admin/orders/ajax/lookup/?name=customer&query=T&offset=-5&limit=-1")
    assert negative.status_code == 200
    assert client.get("/admin/orders/ajax/lookup/?name=nope&query=T").status_code == 404


def test_orders_of_a_deactivated_customer_stay_visible(client, login, reasons, clerk_actor):
    [cid] = make_customers(1)
    placed = orders.place_order(cid, "321", actor=clerk_actor)
    login("admin")
    _, token = start_action(client, "deactivate", [cid])
    assert confirm_action(client, token).status_code == 303
    assert customer(cid).status == "deactivated"

    order_list = text(client.get("/admin/orders/"))
    assert placed.number in order_list and "Deactivated" in order_list
    [other] = make_customers(1, start=2)
    other_order = orders.place_order(other, "5", actor=clerk_actor)
    filtered = text(client.get("/admin/orders/?flt0_customer_code_equals=T00001"))
    assert placed.number in filtered and other_order.number not in filtered
    details = text(client.get(f"/admin/customers/details/?id={cid}"))
    assert f'data-order-number="{placed.number}"' in details
    assert "321.00" in details


def test_order_export_is_plain_text(client, login, clerk_actor):
    [cid] = make_customers(1)
    placed = orders.place_order(cid, "1234.5", actor=clerk_actor)
    login("auditor")
    exported = text(client.get("/admin/orders/export/csv/"))
    assert exported.splitlines()[0] == "Order number,Customer,Customer status,Amount,Ordered at"
    assert f"{placed.number},T00001 Test Customer 1,active,1234.50," in exported
    assert "<span" not in exported


def test_an_order_makes_an_open_edit_form_stale(client, login, clerk_actor):
    [cid] = make_customers(1)
    login("clerk")
    form = text(client.get(f"/admin/customers/edit/?id={cid}"))
    assert 'name="version" type="hidden" value="1"' in form
    orders.place_order(cid, "10", actor=clerk_actor)
    response = client.post(
        f"/admin/customers/edit/?id={cid}",
        data={
            "code": "T00001",
            "name": "Renamed",
            "segment": "retail",
            "credit_limit": "1000",
            "balance": "0",
            "version": "1",
        },
    )
    assert "changed by someone else" in text(response)
    assert customer(cid).name == "Test Customer 1"


# -- the CLI ---------------------------------------------------------------------------------


def test_cli_places_an_order_for_an_active_customer(runner):
    make_customers(1)
    result = runner.invoke(args=["orders", "create", "--customer", "t00001", "--amount", "12.5"])
    assert result.exit_code == 0, result.output
    assert "Placed order SO00000001 for T00001: 12.50." in result.output
    operation = db.session.execute(sa.select(AuditOperation)).scalar_one()
    assert (operation.action, operation.source, operation.actor_username) == (
        "order_create",
        "cli",
        "system",
    )


@pytest.mark.parametrize("status", ["frozen", "deactivated"])
def test_cli_refuses_an_inactive_customer(runner, status):
    make_customers(1, status=status)
    result = runner.invoke(args=["orders", "create", "--customer", "T00001", "--amount", "5"])
    assert result.exit_code == 1
    assert f"Customer T00001 is {status} and cannot take new orders." in result.output
    assert count(Order) == 0 and count(AuditOperation) == 0


def test_cli_unknown_customer_exits_1(runner):
    result = runner.invoke(args=["orders", "create", "--customer", "NOPE", "--amount", "5"])
    assert result.exit_code == 1
    assert "No customer has the code 'NOPE'." in result.output
