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
    if (box.right > width + 1 && !el.closest('.table-responsive, .status-tabs, .chart-scroll')) {
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


# Headers of tables that scroll in their own box stay on one line: a Chinese header squeezed
# to a character a line ("状/态") is as broken as a page that scrolls sideways.
STACKED_HEADERS = """() => {
  const lines = (th) => {
    const range = document.createRange();
    range.selectNodeContents(th);
    // A line's pieces (text, a help icon) may start a few pixels apart: a new line is lower
    // than the last by more than half a line.
    const tops = [...range.getClientRects()].filter(r => r.width > 0).map(r => r.top).sort((a, b) => a - b);
    return tops.filter((top, i) => i === 0 || top - tops[i - 1] > 8).length;
  };
  return [...document.querySelectorAll('.table-responsive th')]
    .filter(th => lines(th) > 1).map(th => th.innerText.trim()).slice(0, 8);
}"""


# A hint cut off at the field's edge ("YYYY-MM-DD 或 YYYY-MM-DD HH:MI") tells only half.
CUT_PLACEHOLDERS = """() => {
  const canvas = document.createElement('canvas').getContext('2d');
  return [...document.querySelectorAll('input[placeholder]')].filter(input => {
    const style = getComputedStyle(input);
    canvas.font = style.font;
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return canvas.measureText(input.placeholder).width > room;
  }).map(input => input.name);
}"""


SWITCH_LANGUAGE = """(code) => {
  const button = document.querySelector(`button[name=locale][value="${code}"]`);
  button.form.requestSubmit(button);
}"""


def _phone_pages(page, live_server, customer_id: int, code: str) -> dict[str, str]:
    """Every kind of page, the confirmation included, after one deactivation: the customer's
    details then have a history and the log an operation with entries."""
    details = f"{live_server}/admin/customers/details/?id={customer_id}"
    page.goto(details)
    page.click("#status-action-deactivate")
    page.wait_for_selector("#confirm-title")
    pages = {"confirm": page.url}
    page.select_option("select[name=reason]", "customer_request")
    with page.expect_navigation():
        page.click("#confirm-button")
    operation = page.locator(".alert-success a").first.get_attribute("href")
    page.goto(f"{live_server}/admin/api-tokens/")
    page.fill("#create-token-form input[name=name]", "erp-sync")
    with page.expect_navigation():
        page.click("#create-token-form [type=submit]")
    return {
        **pages,
        "dashboard": f"{live_server}/admin/",
        "grid": f"{live_server}/admin/customers/",
        "details": details,
        "log": f"{live_server}/admin/audit/",
        "operation": f"{live_server}{operation}",
        "revert": f"{live_server}/admin/audit/revert/preview/?id={operation.rsplit('=', 1)[-1]}",
        "log filtered": f"{live_server}/admin/audit/?flt0_customer_code_equals={code}",
        "review": f"{live_server}/admin/review/",
        "approvals": f"{live_server}/admin/approvals/",
        "scheduled": f"{live_server}/admin/scheduled/",
        "api tokens": f"{live_server}/admin/api-tokens/",
        "api docs": f"{live_server}/api/v1/docs",
        "reasons": f"{live_server}/admin/reasons/",  # Yes/No icons with screen-reader words
        "rules": f"{live_server}/admin/rules/",
        "staff": f"{live_server}/admin/staff/",
    }


def test_pages_do_not_scroll_sideways_at_375_px(seeded, live_server, phone):
    page = phone
    log_in(page, live_server)
    customer_id = _customer_id(seeded)
    with seeded.app_context():
        code = db.session.get(Customer, customer_id).code
        db.session.remove()
    pages = _phone_pages(page, live_server, customer_id, code)
    results, stacked, cut = {}, {}, {}
    for language in ("en", "zh_Hant_TW", "zh_Hans_CN"):
        page.goto(pages["grid"])
        with page.expect_navigation():  # the menu is folded on a phone: submit its form
            page.evaluate(SWITCH_LANGUAGE, language)
        for name, url in pages.items():
            page.goto(url)
            results[(language, name)] = page.evaluate(OVERFLOW)
            stacked[(language, name)] = page.evaluate(STACKED_HEADERS)
        page.goto(pages["confirm"])
        cut[language] = page.evaluate(CUT_PLACEHOLDERS)
    page.goto(pages["dashboard"])  # the weekly chart at its drawing size, scrolled in its box
    assert page.locator("#status-chart").bounding_box()["width"] >= 720
    latest_week = page.locator(".chart-x-labels text").last.bounding_box()
    assert latest_week["x"] >= 0 and latest_week["x"] + latest_week["width"] <= 375  # shown
    page.goto(f"{pages['grid']}?search=no-such-customer")
    empty = page.locator(".list-empty").bounding_box()
    assert empty["x"] >= 0 and empty["x"] + empty["width"] <= 375  # all of it on the screen
    # In a mobile layout a too-wide page also widens innerWidth (the page is zoomed out), so
    # both are compared with the screen's 375 px.
    bad = {key: r for key, r in results.items() if r["scroll"] > 375 or r["inner"] != 375}
    assert bad == {}
    assert {key: headers for key, headers in stacked.items() if headers} == {}
    assert {language: names for language, names in cut.items() if names} == {}


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


@pytest.mark.parametrize("width", [992, 1200])
def test_the_navbar_keeps_one_line_on_a_laptop(seeded, live_server, page, width):
    """From 992 px (where the menu stops folding), English (the longest menu): every item on
    one line, the role on hover (with the role shown the menu takes a second line up to about
    1,300 px; below 1,200 px the items are set a little smaller and closer)."""
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, live_server)
    page.goto(f"{live_server}/admin/customers/")
    with page.expect_navigation():
        page.evaluate(SWITCH_LANGUAGE, "en")
    tops = page.evaluate(
        "[...document.querySelectorAll('nav.navbar .nav-link, #current-user, nav.navbar button')]"
        ".filter(e => e.offsetParent).map(e => Math.round(e.getBoundingClientRect().top / 20))"
    )
    assert len(set(tops)) == 1
    assert page.get_attribute("#current-user", "title") == "Administrator"


def test_a_touch_screen_shows_a_times_utc_on_a_tap_where_a_mouse_hovers(
    seeded, live_server, page, phone
):
    """A touch screen cannot hover, so the log's caption says "tap a time" there, and a tap
    on a time shows its UTC in its place (another tap, the local time again); with a mouse
    the caption says "hover" and a click leaves the time alone."""
    from playwright.sync_api import expect

    from admin_app.models import StaffUser

    with seeded.app_context():
        db.session.execute(sa.update(StaffUser).values(time_zone="Asia/Taipei"))
        db.session.commit()
        db.session.remove()
    screens = {"mouse": (page, "hover a time"), "touch": (phone, "tap a time")}
    for screen, hint in screens.values():
        log_in(screen, live_server)
        screen.goto(f"{live_server}/admin/audit/?tab=all")
        caption = screen.locator("#log-time-zone").inner_text()
        assert hint in caption, caption
        other = ({"hover a time", "tap a time"} - {hint}).pop()
        assert other not in caption, caption

    time = phone.locator("td.col-created_at time").first
    local, utc = time.inner_text(), time.get_attribute("title")
    assert utc.endswith(" UTC") and local != utc
    time.tap()
    expect(time).to_have_text(utc)
    time.tap()
    expect(time).to_have_text(local)

    on_desktop = page.locator("td.col-created_at time").first
    shown = on_desktop.inner_text()
    on_desktop.click()
    expect(on_desktop).to_have_text(shown)
