"""Reasons and review rules: admin-only, created and edited through logged services, never
deleted; each rule shows how many customers it matches now."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditEntry, AuditOperation, Reason, ReviewRule
from admin_app.services import reasons as reason_service
from admin_app.services import review_rules as rule_service
from admin_app.services.audit import Actor
from admin_app.services.errors import Conflict, InvalidInput
from tests.conftest import add_customer, confirm_action, make_customers, start_action

NEW_REASON = {
    "code": "bankrupt",
    "label": "Bankruptcy",
    "label_zh": "破产",
    "for_deactivate": "y",
    "memo_required": "y",
    "enabled": "y",
    "position": "3",
}


def text(response) -> str:
    return response.get_data(as_text=True)


def operations(action: str) -> list[AuditOperation]:
    db.session.rollback()
    return (
        db.session.execute(
            sa.select(AuditOperation)
            .where(AuditOperation.action == action)
            .order_by(AuditOperation.id)
        )
        .scalars()
        .all()
    )


def entries_of(operation_id: int) -> list[tuple]:
    return [
        (e.entity, e.entity_label, e.field, e.old_value, e.new_value)
        for e in db.session.execute(
            sa.select(AuditEntry)
            .where(AuditEntry.operation_id == operation_id)
            .order_by(AuditEntry.id)
        ).scalars()
    ]


@pytest.fixture
def admin_client(client, login, reasons):
    login("admin")
    return client


def reason_id(code: str) -> int:
    db.session.rollback()
    return db.session.execute(sa.select(Reason.id).where(Reason.code == code)).scalar_one()


# -- reasons -------------------------------------------------------------------------------


def test_admin_creates_a_reason_and_each_field_is_logged(admin_client):
    response = admin_client.post("/admin/reasons/new/", data=NEW_REASON)
    assert response.status_code == 302
    db.session.rollback()
    reason = db.session.execute(sa.select(Reason).filter_by(code="bankrupt")).scalar_one()
    assert (
        reason.label,
        reason.label_zh,
        reason.for_deactivate,
        reason.for_freeze,
        reason.for_reactivate,
        reason.memo_required,
        reason.position,
    ) == ("Bankruptcy", "破产", True, False, False, True, 3)
    [operation] = operations("reason_create")
    assert operation.actor_username == "admin"
    assert entries_of(operation.id) == [
        ("reason", "bankrupt", "code", None, "bankrupt"),
        ("reason", "bankrupt", "label", None, "Bankruptcy"),
        ("reason", "bankrupt", "label_zh", None, "破产"),
        ("reason", "bankrupt", "for_deactivate", None, "true"),
        ("reason", "bankrupt", "for_freeze", None, "false"),
        ("reason", "bankrupt", "for_reactivate", None, "false"),
        ("reason", "bankrupt", "memo_required", None, "true"),
        ("reason", "bankrupt", "requires_approval", None, "false"),
        ("reason", "bankrupt", "enabled", None, "true"),
        ("reason", "bankrupt", "position", None, "3"),
    ]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"code": "Bad Code"}, "lowercase letters"),
        ({"code": "x" * 33}, "longer than 32"),
        ({"code": "Other"}, "lowercase letters"),
        ({"code": "other"}, "already exists"),
        ({"label": ""}, "This field is required."),
        ({"label": "x" * 121}, "Field cannot be longer than 120 characters."),
        ({"for_deactivate": ""}, "at least one action"),
    ],
)
def test_bad_reasons_are_refused_with_a_message(admin_client, changes, message):
    data = {**NEW_REASON, **changes}
    data = {key: value for key, value in data.items() if value != ""}
    response = admin_client.post("/admin/reasons/new/", data=data)
    assert response.status_code == 200
    assert message.lower() in text(response).lower()
    assert operations("reason_create") == []


def test_editing_logs_only_the_changed_fields_and_never_the_code(admin_client):
    rid = reason_id("duplicate")
    form = text(admin_client.get(f"/admin/reasons/edit/?id={rid}"))
    assert 'name="code"' not in form
    response = admin_client.post(
        f"/admin/reasons/edit/?id={rid}",
        data={
            "code": "hijacked",
            "label": "Duplicate account (merged)",
            "label_zh": "重复账户",
            "for_deactivate": "y",
            "memo_required": "y",
            "enabled": "y",
            "position": "5",
        },
    )
    assert response.status_code == 302
    db.session.rollback()
    reason = db.session.get(Reason, rid)
    assert (reason.code, reason.label) == ("duplicate", "Duplicate account (merged)")
    [operation] = operations("reason_update")
    assert entries_of(operation.id) == [
        ("reason", "duplicate", "label", "Duplicate account", "Duplicate account (merged)"),
    ]


def test_saving_an_unchanged_reason_logs_nothing(admin_client):
    rid = reason_id("duplicate")
    admin_client.post(
        f"/admin/reasons/edit/?id={rid}",
        data={
            "label": "Duplicate account",
            "label_zh": "重复账户",
            "for_deactivate": "y",
            "memo_required": "y",
            "enabled": "y",
            "position": "5",
        },
    )
    assert operations("reason_update") == []


def test_the_code_cannot_change_through_the_service_either(reasons, staff):
    actor = Actor(id=staff["admin"].id, username="admin", role="admin")
    with pytest.raises(InvalidInput, match="cannot be changed: code"):
        reason_service.update_reason(reason_id("duplicate"), {"code": "x"}, actor=actor)


def test_a_disabled_reason_is_no_longer_offered(admin_client):
    ids = make_customers(1)
    rid = reason_id("customer_request")
    admin_client.post(
        f"/admin/reasons/edit/?id={rid}",
        data={
            "label": "Customer request",
            "label_zh": "客户要求",
            "for_deactivate": "y",
            "for_freeze": "y",
            "for_reactivate": "y",
            "position": "4",
        },
    )  # enabled unchecked
    [operation] = operations("reason_update")
    assert entries_of(operation.id) == [("reason", "customer_request", "enabled", "true", "false")]
    page, token = start_action(admin_client, "deactivate", ids)
    assert 'value="customer_request"' not in text(page)
    refused = confirm_action(admin_client, token, reason="customer_request")
    assert refused.status_code == 422


def test_reasons_are_never_deleted_and_the_page_says_why(admin_client):
    ids = make_customers(2)
    _, token = start_action(admin_client, "deactivate", ids)
    confirm_action(admin_client, token, reason="customer_request")
    rid = reason_id("customer_request")
    assert admin_client.post("/admin/reasons/delete/", data={"id": str(rid)}).status_code == 403
    assert admin_client.post(
        "/admin/reasons/action/", data={"action": "delete", "rowid": [str(rid)]}
    ).status_code in (400, 403)
    assert reason_id("customer_request") == rid
    page = text(admin_client.get("/admin/reasons/"))
    assert "Reasons are never deleted" in page
    assert "/admin/reasons/delete/" not in page
    usage = re.search(r'data-code="customer_request">(.*?)</span>\s*</td>', page, re.S).group(1)
    words = re.sub(r"<[^>]+>", "", usage)
    assert words == "1 operation, 2 customers, and 0 review rules"  # plurals, a list in words
    edit = text(admin_client.get(f"/admin/reasons/edit/?id={rid}"))
    assert "cannot be deleted, only disabled" in edit


@pytest.mark.parametrize("role", ["manager", "clerk", "auditor"])
def test_only_admins_manage_reasons_and_rules(client, login, reasons, role):
    login(role)
    for path in ("/admin/reasons/", "/admin/reasons/new/", "/admin/rules/", "/admin/rules/new/"):
        assert client.get(path).status_code == 403, path
    assert client.post("/admin/reasons/new/", data=NEW_REASON).status_code == 403
    assert (
        client.post("/admin/rules/new/", data={"name": "x", "inactivity_days": "5"}).status_code
        == 403
    )
    assert operations("reason_create") == [] and operations("review_rule_create") == []


# -- review rules --------------------------------------------------------------------------


def rule_form(**overrides) -> dict:
    data = {
        "name": "Wholesale quiet 90 days",
        "segment": "wholesale",
        "inactivity_days": "90",
        "contract_ended_days": "",
        "reason": str(reason_id("inactive")),
        "enabled": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_admin_creates_a_rule_and_it_is_logged_with_the_reason_code(admin_client):
    response = admin_client.post("/admin/rules/new/", data=rule_form())
    assert response.status_code == 302
    db.session.rollback()
    rule = db.session.execute(sa.select(ReviewRule)).scalar_one()
    assert (
        rule.segment,
        rule.inactivity_days,
        rule.flag_over_credit,
        rule.contract_ended_days,
        rule.reason.code,
    ) == ("wholesale", 90, False, None, "inactive")
    [operation] = operations("review_rule_create")
    assert entries_of(operation.id) == [
        ("review_rule", "Wholesale quiet 90 days", "name", None, "Wholesale quiet 90 days"),
        ("review_rule", "Wholesale quiet 90 days", "segment", None, "wholesale"),
        ("review_rule", "Wholesale quiet 90 days", "inactivity_days", None, "90"),
        ("review_rule", "Wholesale quiet 90 days", "flag_over_credit", None, "false"),
        ("review_rule", "Wholesale quiet 90 days", "reason", None, "inactive"),
        ("review_rule", "Wholesale quiet 90 days", "enabled", None, "true"),
    ]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"inactivity_days": ""}, "Set at least one condition"),
        ({"inactivity_days": "0"}, "between 1 and 3650"),
        ({"inactivity_days": "-3"}, "between 1 and 3650"),
        ({"inactivity_days": "99999"}, "between 1 and 3650"),
        ({"contract_ended_days": "-1"}, "between 0 and 3650"),
        ({"segment": "vip"}, "Not a valid choice"),
        ({"name": ""}, "This field is required."),
        ({"reason": "999999"}, "Unknown reason."),
    ],
)
def test_bad_rules_are_refused_with_a_message(admin_client, overrides, message):
    response = admin_client.post("/admin/rules/new/", data=rule_form(**overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert operations("review_rule_create") == []


def test_editing_a_rule_logs_each_changed_field(admin_client, review_rules):
    rid = review_rules["Retail: no order for 365 days"]
    response = admin_client.post(
        f"/admin/rules/edit/?id={rid}",
        data={
            "name": "Retail: no order for 365 days",
            "segment": "retail",
            "inactivity_days": "300",
            "reason": str(reason_id("other")),
            "enabled": "y",
        },
    )
    assert response.status_code == 302
    [operation] = operations("review_rule_update")
    assert entries_of(operation.id) == [
        ("review_rule", "Retail: no order for 365 days", "inactivity_days", "365", "300"),
        ("review_rule", "Retail: no order for 365 days", "reason", "inactive", "other"),
    ]


def test_duplicate_reason_codes_are_refused_by_the_service(reasons, staff):
    actor = Actor(id=staff["admin"].id, username="admin", role="admin")
    with pytest.raises(Conflict, match="already exists"):
        reason_service.create_reason({"code": "other", "label": "Again"}, actor=actor)


def test_a_rule_for_all_segments_is_stored_as_none(reasons, staff):
    actor = Actor(id=staff["admin"].id, username="admin", role="admin")
    rid = rule_service.create_rule(
        {"name": "Everyone over credit", "segment": "", "flag_over_credit": True}, actor=actor
    )
    assert db.session.get(ReviewRule, rid).segment is None


def test_each_rule_shows_how_many_customers_it_matches_now(admin_client, review_rules, app_clock):
    long_ago = app_clock.now - timedelta(days=400)
    add_customer("A1", last_order_at=long_ago)
    add_customer("A2")  # never ordered, created 2000 days ago
    add_customer("A3", last_order_at=long_ago, status="deactivated")
    add_customer("A4", balance=Decimal("5000"), last_order_at=app_clock.now)
    page = text(admin_client.get("/admin/rules/"))
    counts = dict(re.findall(r'class="[^"]*rule-matches" data-rule-id="(\d+)"[^>]*>([^<]+)<', page))
    assert counts[str(review_rules["Retail: no order for 365 days"])] == "2"
    assert counts[str(review_rules["Balance over credit limit"])] == "1"
    assert counts[str(review_rules["Wholesale: no order for 180 days"])] == "0"
    link = f'href="/admin/review/?rule={review_rules["Balance over credit limit"]}"'
    assert link in page


def test_rule_counts_cost_one_query_however_many_rules(admin_client, review_rules, app):
    statements = []
    sa.event.listen(
        db.engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *args: statements.append(statement),
    )
    admin_client.get("/admin/rules/")
    few = len(statements)
    for number in range(6):
        db.session.add(
            ReviewRule(name=f"Extra {number}", inactivity_days=10 + number, enabled=True)
        )
    db.session.commit()
    statements.clear()
    admin_client.get("/admin/rules/")
    assert len(statements) == few
