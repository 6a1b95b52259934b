"""The bulk flow with the keyboard only (Tab, Space, Enter), in Chromium."""

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def _tab_to(page, predicate: str, limit: int = 80) -> int:
    """Press Tab until `predicate` (JS, about document.activeElement) holds; returns presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return {predicate}; }})()"):
            return presses
    raise AssertionError(f"not reached with {limit} Tabs: {predicate}")


def test_keyboard_only_freeze_of_one_customer(seeded, live_server, page):
    log_in(page, live_server)
    page.goto(f"{live_server}/admin/customers/?status=active")
    _tab_to(page, "el.classList.contains('action-checkbox')")
    page.keyboard.press("Space")
    assert page.locator("input.action-checkbox:checked").count() == 1
    _tab_to(page, "el.textContent.trim().startsWith('With selected')", limit=200)
    page.keyboard.press("Enter")
    _tab_to(page, "el.textContent.trim() === 'Freeze'", limit=10)
    page.keyboard.press("Enter")
    page.wait_for_selector("#confirm-title")
    assert page.evaluate("document.activeElement.name") == "reason"  # autofocus
    page.keyboard.press("ArrowDown")  # the first reason
    _tab_to(page, "el.id === 'confirm-button'", limit=10)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Froze 1 customer" in page.inner_text(".alert-success")
