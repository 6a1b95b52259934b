"""F. XSS and template injection through customer names and memos (SECURITY.md T35–T39).

T39 (memo with NUL, memo of 10,000 characters → 400 on both databases) is covered by
tests/test_bulk_flow.py::test_bad_memo_is_400_on_both_databases.
"""

import logging
import re

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditOperation, Customer
from tests.conftest import confirm_action, make_customers, start_action
from tests.security.conftest import text

SCRIPT_NAME = "<script>alert(1)</script>"
IMG_MEMO = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def admin_client(client, login, reasons):
    login("admin")
    return client


def _latest_operation_id(action: str) -> int:
    db.session.rollback()
    return db.session.execute(
        sa.select(sa.func.max(AuditOperation.id)).where(AuditOperation.action == action)
    ).scalar()


def assert_inert(response) -> None:
    body = text(response)
    assert "<script>alert" not in body and "<img src=x" not in body
    assert not re.search(r"<[^>]*\sonerror=", body)
    assert "script-src 'self' 'nonce-" in response.headers["Content-Security-Policy"]


def test_t35_names_and_memos_are_escaped_on_every_page(admin_client):
    """T35 — a name `<script>…` (created through the form, and directly in the DB) and a memo
    `"><img onerror>`: the list, confirmation page, success flash, audit list and audit
    detail show them only escaped; every page carries the CSP header."""
    created = admin_client.post(
        "/admin/customers/new/",
        data={
            "code": "X1",
            "name": SCRIPT_NAME,
            "segment": "retail",
            "credit_limit": "0",
            "balance": "0",
            "email": "",
            "phone": "",
        },
    )
    assert created.status_code == 302
    db.session.rollback()
    from_form = db.session.execute(sa.select(Customer.id).where(Customer.code == "X1")).scalar()
    from_db = make_customers(1, name=SCRIPT_NAME)[0]
    page, token = start_action(admin_client, "freeze", [from_form, from_db])
    done = confirm_action(admin_client, token, memo=IMG_MEMO)
    grid = admin_client.get(done.headers["Location"])  # carries the success flash
    operation = _latest_operation_id("freeze")
    pages = [
        admin_client.get("/admin/customers/?search=*script"),
        page,
        grid,
        admin_client.get("/admin/audit/"),
        admin_client.get(f"/admin/audit/details/?id={operation}"),
        admin_client.get(f"/admin/customers/details/?id={from_db}"),
        admin_client.get(f"/admin/customers/edit/?id={from_form}"),
    ]
    for response in pages:
        assert response.status_code == 200
        assert_inert(response)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text(pages[0])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text(page)
    assert "Froze 2 customers" in text(grid)
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in text(
        pages[3]
    ) or "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in text(pages[3])
    assert "onerror=alert(1)&gt;" in text(pages[4])


@pytest.mark.parametrize("name", ["{{7*7}}", "{%print 1%}{{ config }}", "${7*7}"])
def test_t36_template_syntax_in_a_name_renders_literally(admin_client, name):
    """T36 — names `{{7*7}}` and `{%print 1%}`: shown literally, never evaluated. (`{{7*7}}`
    on the confirmation page: tests/test_bulk_flow.py::test_template_syntax_in_names_is_not_
    evaluated.)"""
    ids = make_customers(1, name=name)
    page, token = start_action(admin_client, "freeze", ids)
    done = confirm_action(admin_client, token)
    for response in (
        admin_client.get("/admin/customers/"),
        page,
        admin_client.get(f"/admin/customers/details/?id={ids[0]}"),
        admin_client.get(done.headers["Location"]),
    ):
        body = text(response)
        assert name in body
        assert ">49<" not in body and "SECRET_KEY" not in body


@pytest.mark.parametrize("name", ["javascript:alert(1)", "Acme\u202eLtd evil", "Ac\u200bme"])
def test_t37_names_are_never_links_and_ids_sit_beside_them(admin_client, name):
    """T37 — a name `javascript:alert(1)`, or with U+202E / a zero-width space: never used as
    an href; the confirmation page shows each row's id next to its name."""
    [customer_id] = make_customers(1, name=name)
    page, _ = start_action(admin_client, "deactivate", [customer_id])
    pages = [
        page,
        admin_client.get("/admin/customers/"),
        admin_client.get(f"/admin/customers/details/?id={customer_id}"),
    ]
    for response in pages:
        hrefs = re.findall(r'href="([^"]*)"', text(response))
        assert not [h for h in hrefs if name in h or "alert" in h]
    row = re.search(
        rf'<tr data-customer-id="{customer_id}">\s*<td>{customer_id}</td>'
        rf"<td>[^<]*</td><td[^>]*>([^<]*)</td>",
        text(page),
    )
    assert row, "the confirmation row shows the id before the name"
    assert row.group(1) == name


def test_t38_a_memo_cannot_forge_log_lines(admin_client, caplog):
    """T38 — a memo with CR/LF and a fake log line: the application log gets one line with
    CR/LF escaped; the audit row stores the memo verbatim; the views escape it."""
    caplog.set_level(logging.INFO, logger="admin_app")
    memo = "ok\r\n2025-01-01T00:00:00Z INFO user=root action=deactivate"
    ids = make_customers(1)
    _, token = start_action(admin_client, "deactivate", ids)
    assert confirm_action(admin_client, token, memo=memo).status_code == 303
    [line] = [r.getMessage() for r in caplog.records if "status change done" in r.getMessage()]
    assert "\r" not in line and "\n" not in line
    assert "memo=ok\\r\\n2025-01-01T00:00:00Z INFO user=root" in line
    operation = _latest_operation_id("deactivate")
    db.session.rollback()
    assert db.session.get(AuditOperation, operation).memo == memo
    detail = text(admin_client.get(f"/admin/audit/details/?id={operation}"))
    assert "user=root action=deactivate" in detail
