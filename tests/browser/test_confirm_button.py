"""The confirm button of a large operation: disabled after the first click, and the page says
the operation is running (admin_app/static/confirm.js), in Chromium."""

import threading

import pytest
import sqlalchemy as sa
from flask import request

from admin_app.extensions import db
from admin_app.models import AuditOperation
from admin_app.services.demo import seed_demo
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

CLICKED_AGAIN = "/test-only/clicked-again"
SAFETY_CAP_SECONDS = 60  # only if the page never signals: the test then fails, it never waits

# Recorded by the page itself while the confirmation is in flight (Playwright cannot evaluate
# in a page whose form submission is in flight): the button and notice after confirm.js ran,
# and whether clicking the button again submits again. Then it tells the server (a GET the
# server side waits for), which only then lets the confirmation through: no sleeps.
RECORD_STATE = """
(clickedAgain) => {
  const form = document.getElementById('confirm-form');
  const button = document.getElementById('confirm-button');
  let submits = 0;
  form.addEventListener('submit', () => {
    submits += 1;
    const save = () => sessionStorage.setItem('confirm-state', JSON.stringify({
      submits, disabled: button.disabled, text: button.textContent.trim(),
      running: !document.getElementById('confirm-running').classList.contains('d-none')}));
    save();
    setTimeout(() => {  // the submission is in flight now
      button.click();
      save();
      fetch(clickedAgain, {keepalive: true});
    }, 0);
  });
}
"""


@pytest.fixture
def held_confirm(live_app):
    """400 demo customers, and a confirm endpoint held until the page says it has clicked
    the button again; counts the confirm calls and any wait that ran into the safety cap."""
    with live_app.app_context():
        seed_demo(customers=400, seed=11)
        db.session.remove()
    clicked_again = threading.Event()
    calls, timed_out = [], []
    lock = threading.Lock()

    def hold_confirm():
        if request.path == CLICKED_AGAIN:
            clicked_again.set()
            return "", 204
        if request.path == "/admin/customers/confirm/":
            with lock:
                calls.append(request.method)
            if not clicked_again.wait(SAFETY_CAP_SECONDS):
                timed_out.append(request.path)
        return None

    # First, before the login and CSRF checks: the page's signal is a plain GET.
    live_app.before_request_funcs.setdefault(None, []).insert(0, hold_confirm)
    return calls, timed_out


def test_confirm_button_is_disabled_and_says_running(live_app, held_confirm, live_server, page):
    calls, timed_out = held_confirm
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
    page.evaluate(RECORD_STATE, CLICKED_AGAIN)

    with page.expect_navigation():
        page.click("#confirm-button")
    assert "Froze" in page.inner_text(".alert-success")
    state = page.evaluate("JSON.parse(sessionStorage.getItem('confirm-state'))")
    assert state == {"submits": 1, "disabled": True, "text": "Working…", "running": True}
    assert timed_out == []
    assert calls == ["POST"]
    with live_app.app_context():
        assert (
            db.session.execute(
                sa.select(sa.func.count())
                .select_from(AuditOperation)
                .where(AuditOperation.action == "freeze")
            ).scalar()
            == 1
        )
        db.session.remove()
