"""Issue 13: flows that keep the user on the page (error pages inside the app, per-customer
actions, warnings and paging of the confirmation page, exports, the order form search)."""

import re

import pytest

from tests.conftest import PASSWORD, confirm_action, make_customers, start_action, statuses


def text(response) -> str:
    return response.get_data(as_text=True)


# -- error pages keep the navigation, the user and the language switch ------------------------


def _in_admin_layout(body: str) -> bool:
    return (
        'id="current-user"' in body
        and 'id="language-menu"' in body
        and 'href="/admin/customers/"' in body
    )


@pytest.mark.parametrize(
    "method, path, data, status",
    [
        ("get", "/admin/nope/", None, 404),
        ("get", "/admin/staff/", None, 403),
        ("get", "/logout", None, 405),
        ("post", "/admin/customers/action/", {"action": "deactivate", "rowid": "abc"}, 400),
        ("post", "/admin/customers/confirm/", {"token": "forged", "reason": "other"}, 400),
    ],
)
def test_error_pages_of_a_signed_in_user_keep_the_app_layout(
    client, login, reasons, method, path, data, status
):
    login("clerk" if status == 403 else "admin")
    response = getattr(client, method)(path, data=data)
    body = text(response)
    assert response.status_code == status
    assert 'id="error-message"' in body
    assert _in_admin_layout(body)


def test_conflict_and_expired_pages_keep_the_app_layout(client, login, reasons, app):
    login("admin")
    ids = make_customers(1)
    _, token = start_action(client, "deactivate", ids)
    assert confirm_action(client, token).status_code == 303
    again = confirm_action(client, token)
    assert again.status_code == 409 and _in_admin_layout(text(again))
    app.config["CONFIRMATION_MAX_AGE_SECONDS"] = -1
    expired = confirm_action(client, token)
    assert expired.status_code == 410 and _in_admin_layout(text(expired))


def test_error_pages_of_an_anonymous_visitor_show_no_menu(client):
    response = client.get("/nope")
    assert response.status_code == 404
    body = text(response)
    assert 'id="error-message"' in body and not _in_admin_layout(body)
    assert 'id="language-switch"' in body


# -- per-customer actions on the details page -------------------------------------------------


def _detail_actions(body: str) -> list[str]:
    return (
        re.findall(
            r'name="action" value="(\w+)"', body.split('id="status-actions"')[1].split("</form>")[0]
        )
        if 'id="status-actions"' in body
        else []
    )


@pytest.mark.parametrize(
    "status, offered",
    [
        ("active", ["deactivate", "freeze"]),
        ("frozen", ["deactivate", "reactivate"]),
        ("deactivated", ["reactivate"]),
    ],
)
def test_details_page_offers_the_actions_the_status_machine_allows(client, login, status, offered):
    [cid] = make_customers(1, status=status)
    login("manager")
    assert _detail_actions(text(client.get(f"/admin/customers/details/?id={cid}"))) == offered


@pytest.mark.parametrize("role", ["clerk", "auditor"])
def test_details_page_offers_no_action_without_the_permission(client, login, role):
    [cid] = make_customers(1)
    login(role)
    body = text(client.get(f"/admin/customers/details/?id={cid}"))
    assert 'id="status-actions"' not in body
    response, token = start_action(
        client, "deactivate", [cid], url=f"/admin/customers/details/?id={cid}"
    )
    assert response.status_code == 403 and token is None
    assert statuses([cid]) == {cid: "active"}


def test_deactivate_from_the_details_page_confirms_and_returns_there(client, login, reasons):
    ids = make_customers(3)
    cid = ids[1]
    login("manager")
    details = f"/admin/customers/details/?id={cid}"
    body = text(client.get(details))
    url = re.search(r'name="url" value="([^"]+)"', body).group(1).replace("&amp;", "&")
    page, token = start_action(client, "deactivate", [cid], url=url)
    assert page.status_code == 200
    assert "1 customer will change to Deactivated." in text(page)
    assert re.search(
        rf'href="/admin/customers/details/\?id={cid}[^"]*" id="cancel-link"', text(page)
    )
    done = confirm_action(client, token, url=url)
    assert done.status_code == 303 and done.headers["Location"] == url
    assert statuses(ids) == {ids[0]: "active", cid: "deactivated", ids[2]: "active"}
    after = text(client.get(url))
    assert "Deactivated 1 customer" in after
    assert _detail_actions(after) == ["reactivate"]


# -- the revert confirmation: the same inline errors and GET address ----------------------------


def test_revert_memo_error_rerenders_the_revert_page_and_the_token_still_works(
    client, login, reasons
):
    ids = make_customers(2)
    login("manager")
    _, token = start_action(client, "freeze", ids)
    done = confirm_action(client, token)
    operation_id = int(
        re.search(
            r"/admin/audit/details/\?id=(\d+)", text(client.get(done.headers["Location"]))
        ).group(1)
    )
    page = client.post("/admin/audit/revert/", data={"id": operation_id})
    body = text(page)
    revert_token = re.search(r'name="token" type="hidden" value="([^"]+)"', body).group(1)
    assert f'data-page-url="/admin/audit/revert/preview/?id={operation_id}"' in body
    assert re.search(r'<select[^>]*autofocus[^>]*name="reason"', body)
    refused = client.post(
        "/admin/audit/revert/confirm/", data={"token": revert_token, "reason": "other", "memo": " "}
    )
    assert refused.status_code == 422
    assert '<div class="invalid-feedback" id="memo-feedback">This reason requires a memo.' in text(
        refused
    )
    assert statuses(ids) == {i: "frozen" for i in ids}
    again = client.get("/admin/audit/revert/preview/", query_string={"id": operation_id})
    assert again.status_code == 200
    assert "2 customers will go back to the status they had before." in text(again)
    assert client.get("/admin/audit/revert/preview/", query_string={"id": "x"}).status_code == 404
    ok = client.post(
        "/admin/audit/revert/confirm/",
        data={"token": revert_token, "reason": "other", "memo": "wrong customers"},
    )
    assert ok.status_code == 303
    assert statuses(ids) == {i: "active" for i in ids}


# -- warnings that apply to the action, with the rows they concern; paging and CSV --------------


def _warnings(body: str) -> dict[str, str]:
    return dict(re.findall(r'<li data-warning="(\w+)">([^<]*)', body))


@pytest.fixture
def mixed(app):
    """Active and frozen customers; some owe money, some ordered recently."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    import sqlalchemy as sa

    from admin_app.extensions import db
    from admin_app.models import Customer

    recent = datetime.now(UTC) - timedelta(days=3)  # relative to the app's clock: 30-day window
    owing = make_customers(3, balance=Decimal("50.00"))
    ordering = make_customers(2, start=10)
    quiet = make_customers(4, start=20)
    frozen_owing = make_customers(2, status="frozen", start=30, balance=Decimal("9.00"))
    db.session.execute(
        sa.update(Customer)
        .where(Customer.id.in_(ordering + frozen_owing))
        .values(last_order_at=recent)
    )
    db.session.commit()
    return {"owing": owing, "ordering": ordering, "quiet": quiet, "frozen": frozen_owing}


@pytest.mark.parametrize("action", ["deactivate", "freeze"])
def test_stopping_customers_warns_about_balance_and_recent_orders(
    client, login, reasons, mixed, action
):
    login("manager")
    ids = mixed["owing"] + mixed["ordering"] + mixed["quiet"]
    page, token = start_action(client, action, ids)
    warnings = _warnings(text(page))
    assert warnings["open_balance"].strip() == "3 customers have an open balance."
    assert warnings["recent_orders"].strip() == "2 customers ordered in the last 30 days."
    link = (
        re.search(
            r'href="([^"]+)" id="show-open_balance">Show these 3 customers<',
            text(page),
        )
        .group(1)
        .replace("&amp;", "&")
    )
    only = text(client.get(link))
    listed = {int(i) for i in re.findall(r'<tr data-customer-id="(\d+)"', only)}
    assert listed == set(mixed["owing"])
    assert 'id="show-all"' in only and 'id="show-open_balance"' not in only
    assert "1–3 of 3" in only


def test_reactivation_has_no_balance_or_order_warnings(client, login, reasons, mixed):
    login("manager")
    page, _ = start_action(client, "reactivate", mixed["frozen"])
    body = text(page)
    assert "2 customers will change to Active." in body
    assert 'id="confirm-warnings"' not in body and _warnings(body) == {}


def test_unknown_warning_filter_lists_every_row(client, login, reasons, mixed):
    login("manager")
    first, _ = start_action(client, "deactivate", mixed["owing"] + mixed["quiet"])
    url = re.search(r'data-page-url="([^"]+)"', text(first)).group(1)
    page = client.get(url, query_string={"show": "nonsense", "page": "99999999999"})
    assert page.status_code == 200
    assert len(re.findall(r"<tr data-customer-id=", text(page))) == 7


def test_the_whole_preview_exports_as_csv(client, login, reasons, app):
    import csv
    import io

    app.config["CONFIRMATION_PREVIEW_ROWS"] = 5
    ids = make_customers(12, name='=HYPERLINK("x")') + make_customers(2, status="frozen", start=50)
    login("manager")
    page, _ = start_action(client, "freeze", ids)
    export = re.search(r'href="([^"]+)" id="export-preview"', text(page)).group(1)
    assert "token" not in export
    response = client.get(export)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(text(response))))
    assert rows[0][:7] == [
        "Customer ID",
        "Code",
        "Name",
        "Status",
        "Status code",
        "Will change",
        "Why skipped",
    ]
    assert len(rows) == 1 + 14
    assert [r[5] for r in rows[1:]] == ["Yes"] * 12 + ["No"] * 2
    assert rows[-1][3:5] == ["Frozen", "frozen"] and rows[-1][6] == "already frozen"
    assert all(r[2].startswith("'=") for r in rows[1:13])
    other = app.test_client()
    other.post("/login", data={"username": "admin", "password": PASSWORD})
    assert other.get(export).status_code == 403


# -- exports: plain values, typed XLSX cells, formulas escaped only where they would run ----------


@pytest.fixture
def exported(app):
    from datetime import date, datetime
    from decimal import Decimal

    import sqlalchemy as sa

    from admin_app.extensions import db
    from admin_app.models import Customer

    [plain] = make_customers(1, balance=Decimal("6090.30"), credit_limit=Decimal("10000.00"))
    [hostile] = make_customers(
        1, start=2, name='=HYPERLINK("http://evil.example","x")', status="deactivated"
    )
    db.session.execute(
        sa.update(Customer)
        .where(Customer.id == plain)
        .values(
            phone="+886 2 2345-6789",
            contract_end=date(2027, 3, 31),
            last_order_at=datetime(2026, 11, 2, 17, 6, 38),
        )
    )
    db.session.execute(
        sa.update(Customer)
        .where(Customer.id == hostile)
        .values(phone="+cmd|' /C calc'!A0", email="@SUM(1+1)")
    )
    db.session.commit()


EXPORT_HEADER = [
    "Code",
    "Name",
    "Email",
    "Phone",
    "Segment",
    "Status",
    "Status code",
    "Balance",
    "Credit limit",
    "Contract end",
    "Last order",
]


def test_csv_export_has_plain_values_and_escapes_only_formulas(client, login, exported):
    import csv
    import io

    login("clerk")
    response = client.get("/admin/customers/export/csv/")
    assert response.status_code == 200
    header, first, second = list(csv.reader(io.StringIO(text(response))))
    assert header == EXPORT_HEADER
    assert first == [
        "T00001",
        "Test Customer 1",
        "t1@example.com",
        "+886 2 2345-6789",
        "Retail",
        "Active",
        "active",
        "6090.30",
        "10000.00",
        "2027-03-31",
        "2026-11-02 17:06:38",
    ]
    assert second[1] == '\'=HYPERLINK("http://evil.example","x")'
    assert second[2] == "'@SUM(1+1)" and second[3] == "'+cmd|' /C calc'!A0"
    assert second[5:7] == ["Deactivated", "deactivated"]
    assert "<span" not in text(response)


def test_xlsx_export_has_numbers_dates_and_text_never_formulas(client, login, exported):
    import io
    from datetime import date, datetime
    from decimal import Decimal

    from openpyxl import load_workbook

    login("clerk")
    response = client.get("/admin/customers/export/xlsx/")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == EXPORT_HEADER
    first = dict(zip(EXPORT_HEADER, rows[1], strict=True))
    assert Decimal(str(first["Balance"])) == Decimal("6090.30")
    assert Decimal(str(first["Credit limit"])) == Decimal("10000.00")
    assert isinstance(first["Balance"], float | int)
    assert first["Contract end"] in (date(2027, 3, 31), datetime(2027, 3, 31))
    assert first["Last order"] == datetime(2026, 11, 2, 17, 6, 38)
    assert (first["Phone"], first["Status"], first["Status code"]) == (
        "+886 2 2345-6789",
        "Active",
        "active",
    )
    second = dict(zip(EXPORT_HEADER, rows[2], strict=True))
    assert second["Name"] == '=HYPERLINK("http://evil.example","x")'
    cells = {cell.column_letter: cell for cell in sheet[3]}
    assert cells["B"].data_type == "s"  # stored as text: a spreadsheet shows it, never runs it
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert all("<span" not in str(value) for row in rows for value in row)


@pytest.mark.parametrize(
    "value, escaped",
    [
        ("+886 2 2345-6789", False),
        ("-5", False),
        ("+1 (555) 010-0000", False),
        ("=1+1", True),
        ("+SUM(A1)", True),
        ("-2+cmd|' /C calc'!A0", True),
        ("@import", True),
        ("\t=1", True),
        ("\r5", True),
        ("-", True),
        ("plain", False),
    ],
)
def test_formula_escaping_spares_numbers_and_phones(value, escaped):
    from admin_app.spreadsheet import escape_spreadsheet_formula

    assert escape_spreadsheet_formula(value) == ("'" + value if escaped else value)


# -- clerks edit contact details, not money -----------------------------------------------------


def test_clerk_edits_contact_details_but_not_balance_or_credit_limit(client, login):
    from decimal import Decimal

    from admin_app.extensions import db
    from admin_app.models import Customer

    [cid] = make_customers(1)
    login("clerk")
    form = text(client.get(f"/admin/customers/edit/?id={cid}"))
    assert 'name="phone"' in form
    assert 'name="balance"' not in form and 'name="credit_limit"' not in form
    saved = client.post(
        f"/admin/customers/edit/?id={cid}",
        data={
            "code": "T00001",
            "name": "Renamed",
            "segment": "retail",
            "phone": "+886 2 1234 5678",
            "credit_limit": "999999",
            "balance": "-5",
            "version": "1",
        },
    )
    assert saved.status_code == 302
    db.session.rollback()
    row = db.session.get(Customer, cid)
    assert (row.name, row.phone) == ("Renamed", "+886 2 1234 5678")
    assert (row.credit_limit, row.balance) == (Decimal("1000.00"), Decimal("0.00"))
    assert 'name="balance"' not in text(client.get("/admin/customers/new/"))


def test_the_service_refuses_money_changes_from_a_clerk(app, staff):
    from decimal import Decimal

    from admin_app.services import customers
    from admin_app.services.audit import Actor
    from admin_app.services.errors import NotAllowed

    [cid] = make_customers(1)
    clerk = Actor(id=staff["clerk"].id, username="clerk", role="clerk")
    manager = Actor(id=staff["manager"].id, username="manager", role="manager")
    with pytest.raises(NotAllowed):
        customers.update_details(
            cid, {"credit_limit": Decimal("5")}, expected_version=1, actor=clerk
        )
    with pytest.raises(NotAllowed):
        customers.create_customer({"code": "N1", "name": "New", "balance": "3"}, actor=clerk)
    assert (
        customers.update_details(
            cid,
            {"credit_limit": Decimal("1000.00"), "name": "Same"},
            expected_version=1,
            actor=clerk,
        )
        == 1
    )  # money unchanged
    assert (
        customers.update_details(
            cid, {"credit_limit": Decimal("5")}, expected_version=2, actor=manager
        )
        == 1
    )


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("email", "not-an-email", "Email must be an address such as name@example.com."),
        ("email", "a@b", "Email must be an address such as name@example.com."),
        ("credit_limit", "-100", "Credit limit cannot be negative."),
    ],
)
def test_the_customer_form_refuses_a_bad_email_or_a_negative_credit_limit(
    client, login, field, typed, message
):
    from admin_app.extensions import db
    from admin_app.models import Customer

    [cid] = make_customers(1)
    login("manager")
    posted = {
        "code": "T00001",
        "name": "Test Customer 1",
        "segment": "retail",
        "email": "t1@example.com",
        "credit_limit": "1000",
        "balance": "-20",  # a balance may be negative (money owed to the customer)
        "version": "1",
    }
    refused = client.post(f"/admin/customers/edit/?id={cid}", data={**posted, field: typed})
    assert refused.status_code == 400  # the same form, re-rendered with the message
    field_html = text(refused).split(f'id="{field}"', 1)[1].split("</div>", 2)
    assert message in " ".join(field_html[:2])
    db.session.rollback()
    row = db.session.get(Customer, cid)
    assert (row.email, row.version) == ("t1@example.com", 1)
    saved = client.post(f"/admin/customers/edit/?id={cid}", data=posted)
    assert saved.status_code == 302


def test_manager_still_sees_the_money_fields(client, login):
    [cid] = make_customers(1)
    login("manager")
    form = text(client.get(f"/admin/customers/edit/?id={cid}"))
    assert 'name="balance"' in form and 'name="credit_limit"' in form


def test_save_messages_name_the_record(client, login):
    [cid] = make_customers(1)
    login("manager")
    saved = client.post(
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
    assert saved.status_code == 302
    page = text(client.get(saved.headers["Location"]))
    assert "Customer T00001 saved." in page
    assert "Record was successfully saved." not in page
    created = client.post(
        "/admin/customers/new/",
        data={
            "code": "C000123",
            "name": "New Co",
            "segment": "retail",
            "credit_limit": "0",
            "balance": "0",
        },
    )
    assert created.status_code == 302
    assert "Customer C000123 created." in text(client.get(created.headers["Location"]))


def test_review_rule_form_has_no_none_placeholder(client, login, reasons):
    login("admin")
    form = text(client.get("/admin/rules/new/"))
    assert ">__None<" not in form
    assert '<option selected value="__None">None (choose on the confirmation page)</option>' in form


def test_reason_in_use_sentence_uses_plurals(client, login, reasons, staff):
    import sqlalchemy as sa

    from admin_app.extensions import db
    from admin_app.models import Reason, StatusAction
    from admin_app.services import status_change
    from admin_app.services.audit import Actor

    [cid] = make_customers(1)
    actor = Actor(id=staff["admin"].id, username="admin", role="admin")
    request_id = status_change.create_request(action=StatusAction.FREEZE, actor=actor, ids=[cid])
    status_change.execute(request_id, actor=actor, reason_code="customer_request")
    reason_id = db.session.execute(
        sa.select(Reason.id).where(Reason.code == "customer_request")
    ).scalar_one()
    login("admin")
    edit = text(client.get(f"/admin/reasons/edit/?id={reason_id}"))
    assert "in use by 1 operation, 1 customer, and 0 review rules, so it cannot be deleted" in edit
