"""Issue 13 in Chromium: a refused memo keeps the user on the confirmation page and Back works;
a per-customer deactivate from the details page."""

import re

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import Customer
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def _active_customer(app) -> tuple[int, str]:
    with app.app_context():
        row = db.session.execute(
            sa.select(Customer.id, Customer.code)
            .where(Customer.status == "active")
            .order_by(Customer.code)
            .limit(1)
        ).one()
        db.session.remove()
    return row.id, row.code


def _status(app, customer_id: int) -> str:
    with app.app_context():
        status = db.session.get(Customer, customer_id).status
        db.session.remove()
    return status


def _focused_name(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.name")


def test_memo_error_rerenders_the_page_and_back_works(seeded, live_server, page):
    log_in(page, live_server)
    page.goto(f"{live_server}/admin/customers/?status=active")
    boxes = page.locator("input.action-checkbox")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("text=With selected")
    page.click("a.dropdown-item:has-text('Deactivate')")
    page.wait_for_selector("#confirm-title")
    # The page's address is its GET form, so Back and reload never resubmit the action
    # (the page's script replaces it once loaded: wait for that, not for a time).
    page.wait_for_url(re.compile(r"/admin/customers/preview/[0-9a-f]{32}/$"))
    assert _focused_name(page) == "reason"

    memo_required = "document.querySelector('textarea[name=memo]').required"
    page.select_option("select[name=reason]", "other")
    assert page.evaluate(memo_required) is True
    page.select_option("select[name=reason]", "customer_request")
    assert page.evaluate(memo_required) is False

    # Spaces satisfy the browser's `required`; the server refuses them next to the memo.
    page.select_option("select[name=reason]", "other")
    page.fill("textarea[name=memo]", "   ")
    with page.expect_navigation() as navigation:
        page.click("#confirm-button")
    assert navigation.value.status == 422
    assert page.inner_text("#memo-feedback") == "This reason requires a memo."
    assert page.input_value("select[name=reason]") == "other"
    assert page.input_value("textarea[name=memo]") == "   "
    assert _focused_name(page) == "memo"
    assert page.is_visible("#current-user")  # still inside the app
    page.wait_for_url(re.compile(r"/admin/customers/preview/[0-9a-f]{32}/$"))

    back = page.go_back()
    assert back is not None and back.status == 200
    page.wait_for_selector("#confirm-title")
    assert page.locator("#memo-feedback").count() == 0
    assert "2 customers will change to Deactivated." in page.inner_text("#confirm-summary")

    # The same token still confirms.
    page.select_option("select[name=reason]", "other")
    page.fill("textarea[name=memo]", "Asked by phone")
    with page.expect_navigation():
        page.click("#confirm-button")
    assert "Deactivated 2 customers" in page.inner_text(".alert-success")
    assert "/admin/customers/" in page.url


def test_deactivate_one_customer_from_its_details_page(seeded, live_server, page):
    customer_id, code = _active_customer(seeded)
    log_in(page, live_server, "manager")
    details = f"{live_server}/admin/customers/details/?id={customer_id}"
    page.goto(details)
    assert page.is_visible("#status-action-freeze")
    assert page.locator("#status-action-reactivate").count() == 0

    page.click("#status-action-deactivate")  # Cancel goes back to the details page
    page.wait_for_selector("#confirm-title")
    page.click("#cancel-link")
    page.wait_for_selector("#status-actions")
    assert f"/admin/customers/details/?id={customer_id}" in page.url
    assert _status(seeded, customer_id) == "active"

    page.click("#status-action-deactivate")
    page.wait_for_selector("#confirm-title")
    assert "1 customer will change to Deactivated." in page.inner_text("#confirm-summary")
    assert page.locator("#changing-customers tbody tr").count() == 1
    assert code in page.inner_text("#changing-customers")
    page.select_option("select[name=reason]", "customer_request")
    with page.expect_navigation():
        page.click("#confirm-button")
    page.wait_for_selector("#status-actions")
    assert f"/admin/customers/details/?id={customer_id}" in page.url
    assert "Deactivated 1 customer" in page.inner_text(".alert-success")
    assert page.is_visible("#status-action-reactivate")
    assert _status(seeded, customer_id) == "deactivated"
