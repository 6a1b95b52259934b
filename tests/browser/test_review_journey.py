"""The review queue in Chromium: the grid's confirmation page with the rule's reason
preselected, and "keep until" posting the checked rows."""

import json
import re
from datetime import timedelta

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def pinned_clock(app_clock):
    """The demo data, the review queue and "keep until" all on the pinned clock (FIXED_NOW),
    never today's date."""
    return app_clock


def row_reasons(page) -> dict:
    return json.loads(page.locator("#review-row-reasons").inner_text())


def check_rows(page, count: int) -> list[str]:
    boxes = page.locator("input.action-checkbox")
    ids = []
    for index in range(count):
        boxes.nth(index).check()
        ids.append(boxes.nth(index).get_attribute("value"))
    return ids


def test_deactivate_from_a_rule_tab_preselects_its_reason(seeded, live_server, page):
    log_in(page, live_server, "manager")
    page.goto(f"{live_server}/admin/review/")
    page.click("#rule-tabs a:has-text('Balance over credit limit')")
    page.wait_for_url(re.compile(r".*rule=\d+.*"))
    review_url = page.url
    check_rows(page, 2)
    page.click("text=With selected")
    page.click("a.dropdown-item:has-text('Deactivate')")
    page.wait_for_selector("#confirm-title")
    assert "2 customers will change to Deactivated." in page.inner_text("#confirm-summary")
    assert page.locator("select[name=reason]").input_value() == "over_credit"
    page.click("#confirm-button")
    page.wait_for_selector(".alert-success")
    assert "Deactivated 2 customers" in page.inner_text(".alert-success")
    assert page.url.startswith(review_url)  # back on the same tab (plus its page size)


def test_checked_rows_that_agree_on_a_reason_preselect_it(seeded, live_server, page):
    log_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/review/?page_size=50")
    reasons = row_reasons(page)
    boxes = page.locator("input.action-checkbox")
    wanted = next(code for code in reasons.values() if code)
    picked = 0
    for index in range(boxes.count()):
        if reasons.get(boxes.nth(index).get_attribute("value")) == wanted and picked < 2:
            boxes.nth(index).check()
            picked += 1
    page.click("text=With selected")
    page.click("a.dropdown-item:has-text('Freeze')")
    page.wait_for_selector("#confirm-title")
    assert page.locator("select[name=reason]").input_value() == wanted


def test_keep_until_hides_the_checked_customers(seeded, live_server, page, pinned_clock):
    log_in(page, live_server, "manager")
    page.goto(f"{live_server}/admin/review/")
    codes = [page.locator("td.col-code").nth(i).inner_text().strip() for i in range(2)]
    check_rows(page, 2)
    until = (pinned_clock.today() + timedelta(days=45)).isoformat()
    page.fill("#keep-form input[name=until]", until)
    page.click("#keep-button")
    page.wait_for_selector(".alert-success")
    assert f"Kept 2 customers out of the review until {until}" in page.inner_text(".alert-success")
    shown = page.locator("td.col-code").all_inner_texts()
    assert not set(codes) & {code.strip() for code in shown}
