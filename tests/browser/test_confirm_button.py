"""The confirm button of a large operation: disabled after the first click, and the page says
the operation is running (admin_app/static/confirm.js), in Chromium."""

import threading
import time

import pytest
import sqlalchemy as sa
from flask import request

from admin_app.extensions import db
from admin_app.models import AuditOperation
from admin_app.services.demo import seed_demo
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

# Recorded by the page itself while the confirmation runs (Playwright cannot evaluate in a
# page whose form submission is in flight): the button and notice after confirm.js ran, and
# whether clicking the button again submits again.
RECORD_STATE = """
() => {
  const form = document.getElementById('confirm-form');
  const button = document.getElementById('confirm-button');
  let submits = 0;
  form.addEventListener('submit', () => {
    submits += 1;
    const save = () => sessionStorage.setItem('confirm-state', JSON.stringify({
      submits, disabled: button.disabled, text: button.textContent.trim(),
      running: !document.getElementById('confirm-running').classList.contains('d-none')}));
    save();
    setTimeout(() => { button.click(); save(); }, 50);
    setTimeout(save, 300);
  });
}
"""


@pytest.fixture
def slow_confirm(live_app):
    """400 demo customers, and a confirm endpoint that takes 1.5 s and counts its calls."""
    with live_app.app_context():
        seed_demo(customers=400, seed=11)
        db.session.remove()
    calls = []
    lock = threading.Lock()

    @live_app.before_request
    def hold_confirm():
        if request.path == "/admin/customers/confirm/":
            with lock:
                calls.append(time.monotonic())
            time.sleep(1.5)

    return calls


def test_confirm_button_is_disabled_and_says_running(live_app, slow_confirm, live_server,
                                                     page):
    log_in(page, live_server)
    page.goto(f"{live_server}/admin/customers/?status=active")
    page.check("input.action-rowtoggle")
    page.click("#select-all-matching")
    page.click("text=With selected")
    page.click("a.dropdown-item:has-text('Freeze')")
    page.wait_for_selector("#confirm-title")
    page.select_option("select[name=reason]", "customer_request")
    assert page.locator("#confirm-running").is_hidden()
    assert page.is_enabled("#confirm-button")
    page.evaluate(RECORD_STATE)

    with page.expect_navigation():
        page.click("#confirm-button")
    assert "Froze" in page.inner_text(".alert-success")
    state = page.evaluate("JSON.parse(sessionStorage.getItem('confirm-state'))")
    assert state == {"submits": 1, "disabled": True, "text": "Working…", "running": True}
    assert len(slow_confirm) == 1
    with live_app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(AuditOperation).where(
            AuditOperation.action == "freeze")).scalar() == 1
        db.session.remove()
