"""A user's whole journey through the bulk flow, in Chromium."""

import re

import pytest

from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_deactivate_three_active_customers(seeded, live_server, page):
    log_in(page, live_server)
    page.goto(f"{live_server}/admin/customers/")
    page.click("#status-tabs a[data-status=active]")
    page.wait_for_url(re.compile(r".*status=active.*"))
    screenshot(page, "grid.png")
    checkboxes = page.locator("input.action-checkbox")
    codes = []
    for index in range(3):
        checkboxes.nth(index).check()
        codes.append(
            page.locator("table.model-list tbody tr")
            .nth(index)
            .locator("td.col-code")
            .inner_text()
            .strip()
        )
    page.click("text=With selected")
    page.click("a.dropdown-item:has-text('Deactivate')")
    page.wait_for_selector("#confirm-title")
    assert "3 customers will change to Deactivated." in page.inner_text("#confirm-summary")
    page.select_option("select[name=reason]", "customer_request")
    page.fill("textarea[name=memo]", "Customers asked to close their accounts")
    screenshot(page, "confirm.png")
    page.click("#confirm-button")
    page.wait_for_selector(".alert-success")
    assert "Deactivated 3 customers" in page.inner_text(".alert-success")
    assert "status=active" in page.url
    for code in codes:
        page.goto(f"{live_server}/admin/customers/?search={code}")
        assert page.locator("td.col-status").first.inner_text().strip() == "Deactivated"


def test_select_all_matching_filter_in_the_browser(seeded, live_server, page):
    log_in(page, live_server)
    page.goto(f"{live_server}/admin/customers/?status=active&page_size=20")
    total = int(page.locator("#select-all-banner").get_attribute("data-total"))
    assert total > 20
    assert page.locator("#select-all-banner").is_hidden()
    page.check("input.action-rowtoggle")
    page.click("#select-all-matching")
    assert page.locator("#select-all-banner .after").is_visible()
    page.click("text=With selected")
    page.click("a.dropdown-item:has-text('Freeze')")
    page.wait_for_selector("#confirm-title")
    assert f"{total} customers will change to Frozen." in page.inner_text("#confirm-summary")


def test_clerk_sees_no_bulk_actions(seeded, live_server, page):
    log_in(page, live_server, "clerk")
    page.goto(f"{live_server}/admin/customers/")
    assert page.locator("text=With selected").count() == 0
    assert page.locator("input.action-checkbox").count() == 0


def test_confirmation_page_in_chinese(seeded, live_server, page):
    log_in(page, live_server)
    page.click("#language-menu a.dropdown-toggle")
    page.click("#language-menu button[value=zh_Hans_CN]")
    page.wait_for_selector("text=仪表板")
    page.goto(f"{live_server}/admin/customers/?status=active")
    for index in range(3):
        page.locator("input.action-checkbox").nth(index).check()
    page.click("text=对选中项")
    page.click("a.dropdown-item:has-text('停用')")
    page.wait_for_selector("#confirm-title")
    assert page.inner_text("#confirm-title") == "确认：停用客户"
    assert "3 个客户将变为停用。" in page.inner_text("#confirm-summary")
    page.select_option("select[name=reason]", "customer_request")
    page.fill("textarea[name=memo]", "客户要求关闭账户")
    screenshot(page, "confirm-zh.png")
