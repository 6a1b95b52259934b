"""Four-eyes approval in Chromium: a manager's change of 150 customers waits for an admin's
approval, then runs; the log shows the request and the change."""

import re

import pytest

from admin_app.extensions import db
from tests.browser.conftest import log_in, screenshot
from tests.conftest import make_customers, statuses

pytestmark = pytest.mark.browser


def test_manager_requests_150_and_admin_approves(seeded, live_app, live_server, page):
    live_app.config["APPROVAL_THRESHOLD"] = 100
    with live_app.app_context():
        ids = make_customers(150)
        db.session.remove()

    log_in(page, live_server, "manager")
    page.goto(f"{live_server}/admin/customers/?search=T0&page_size=20")
    page.check("input.action-rowtoggle")
    page.click("#select-all-matching")
    page.click("text=With selected")
    page.click("a.dropdown-item:has-text('Deactivate')")
    page.wait_for_selector("#confirm-title")
    assert "150 customers will change to Deactivated." in page.inner_text("#confirm-summary")
    page.select_option("select[name=reason]", "customer_request")
    page.click("#confirm-button")
    page.wait_for_url(re.compile(r".*/admin/approvals/\d+/$"))
    approval_url = page.url
    assert "nothing has changed yet" in page.inner_text(".alert-info")
    assert page.locator("#approve-button").count() == 0  # not for the requester
    with live_app.app_context():
        assert set(statuses(ids).values()) == {"active"}
        db.session.remove()
    page.click("form[action='/logout'] button")
    page.wait_for_url(re.compile(r".*/login.*"))

    log_in(page, live_server, "admin")
    assert page.locator("#approvals-badge").inner_text().strip().endswith("1")
    page.click("#approvals-badge")
    page.click("#approval-requests a")
    page.wait_for_url(approval_url)
    assert "150 customers will change to Deactivated." in page.inner_text("#confirm-summary")
    screenshot(page, "approval.png")
    page.click("#approve-button")
    page.wait_for_selector(".alert-success")
    assert "Deactivated 150 customers" in page.inner_text(".alert-success")
    with live_app.app_context():
        assert set(statuses(ids).values()) == {"deactivated"}
        db.session.remove()

    page.goto(f"{live_server}/admin/audit/")
    log = page.inner_text("table.model-list")
    assert "Approval requested" in log and "Approval granted" in log and "Deactivate" in log
    page.goto(approval_url)
    page.click("#result-operation")
    assert (
        page.locator("#approval-link a")
        .first.get_attribute("href")
        .endswith(approval_url.split(live_server)[1])
    )
