"""Phone-sized screens (375 px): no page scrolls sideways; a skip link leads to the content."""

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import Customer
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

OVERFLOW = """() => {
  const width = window.innerWidth;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && !el.closest('.table-responsive, .status-tabs')) {
      wide.push(el.tagName + '#' + el.id + '.' + el.className);
    }
  }
  return {scroll: document.documentElement.scrollWidth, inner: width, wide: wide.slice(0, 8)};
}"""


def _customer_id(app) -> int:
    with app.app_context():
        customer_id = db.session.execute(
            sa.select(Customer.id)
            .where(Customer.status == "active")
            .order_by(Customer.code)
            .limit(1)
        ).scalar_one()
        db.session.remove()
    return customer_id


@pytest.fixture
def phone(page):
    """A phone-sized page (375 × 800, mobile layout and touch, as in device emulation)."""
    context = page.context.browser.new_context(
        viewport={"width": 375, "height": 800},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    phone_page = context.new_page()
    phone_page.set_default_timeout(15_000)
    yield phone_page
    context.close()


def test_pages_do_not_scroll_sideways_at_375_px(seeded, live_server, phone):
    page = phone
    log_in(page, live_server)
    customer_id = _customer_id(seeded)
    pages = {
        "grid": f"{live_server}/admin/customers/",
        "details": f"{live_server}/admin/customers/details/?id={customer_id}",
        "log": f"{live_server}/admin/audit/",
        "review": f"{live_server}/admin/review/",
    }
    results = {}
    for name, url in pages.items():
        page.goto(url)
        results[name] = page.evaluate(OVERFLOW)
    page.goto(pages["details"])
    page.click("#status-action-deactivate")
    page.wait_for_selector("#confirm-title")
    results["confirm"] = page.evaluate(OVERFLOW)
    # In a mobile layout a too-wide page also widens innerWidth (the page is zoomed out), so
    # both are compared with the screen's 375 px.
    bad = {name: r for name, r in results.items() if r["scroll"] > 375 or r["inner"] != 375}
    assert bad == {}


def test_skip_link_is_the_first_tab_stop_and_leads_to_the_content(seeded, live_server, page):
    log_in(page, live_server)
    page.goto(f"{live_server}/admin/customers/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"


def test_focus_lands_on_the_first_field_of_a_form_page(seeded, live_server, page):
    log_in(page, live_server)
    page.goto(f"{live_server}/admin/customers/new/")
    assert page.evaluate("document.activeElement.name") == "code"
