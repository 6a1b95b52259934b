"""繁體中文 in Chromium: a Taiwan browser gets Traditional Chinese, and the bulk flow reads in
Taiwan usage from the grid to the confirmation page."""

import re

import pytest

from tests.browser.conftest import log_in, screenshot
from tests.test_i18n import SIMPLIFIED_ONLY

pytestmark = pytest.mark.browser


def test_a_taiwan_browser_gets_traditional_chinese(live_server, page):
    context = page.context.browser.new_context(locale="zh-TW")
    try:
        taiwan = context.new_page()
        taiwan.goto(f"{live_server}/login")
        assert taiwan.get_attribute("html", "lang") == "zh-Hant-TW"
        assert "帳號" in taiwan.inner_text("body") and "登入" in taiwan.inner_text("body")
    finally:
        context.close()


def test_confirmation_page_in_traditional_chinese(seeded, live_server, page):
    log_in(page, live_server)
    page.click("#language-menu a.dropdown-toggle")
    page.click("#language-menu button[value=zh_Hant_TW]")
    page.wait_for_selector("text=儀表板")
    page.goto(f"{live_server}/admin/customers/?status=active")
    assert page.get_attribute("html", "lang") == "zh-Hant-TW"
    for index in range(3):
        page.locator("input.action-checkbox").nth(index).check()
    page.click("text=對選取項目")
    page.click("a.dropdown-item:has-text('停用')")
    page.wait_for_selector("#confirm-title")
    assert page.inner_text("#confirm-title") == "確認：停用客戶"
    assert "3 位客戶將變為停用。" in page.inner_text("#confirm-summary")
    page.select_option("select[name=reason]", "customer_request")
    assert page.locator("select[name=reason] option:checked").inner_text() == "客戶要求"
    page.fill("textarea[name=memo]", "客戶要求關閉帳戶")
    text = page.inner_text("body")
    assert not set(text) & set(SIMPLIFIED_ONLY), sorted(set(text) & set(SIMPLIFIED_ONLY))
    assert not re.search(r"\b(Confirm|Cancel|Reason|Memo|customers?)\b", text)
    screenshot(page, "confirm-zh-hant.png")
