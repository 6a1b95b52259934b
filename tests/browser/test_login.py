import pytest

from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_login_reaches_the_dashboard(live_server, page):
    page.goto(f"{live_server}/admin/")
    assert page.url.startswith(f"{live_server}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(f"{live_server}/admin/")
    assert page.locator("#current-user").inner_text().startswith("admin")
    assert page.locator("#count-active").is_visible()
    screenshot(page, "dashboard.png")


def test_wrong_password_shows_one_message(live_server, page):
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "not-the-password")
    page.click("#login-button")
    assert page.locator(".alert-danger").inner_text() == "Invalid username or password."
