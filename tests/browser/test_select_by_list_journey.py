"""Select by list in Chromium: paste 30 codes → confirmation → done."""

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import Customer
from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_paste_thirty_codes_then_confirm(seeded, live_server, page):
    with seeded.app_context():
        codes = list(
            db.session.execute(
                sa.select(Customer.code)
                .where(Customer.status == "active")
                .order_by(Customer.code)
                .limit(30)
            ).scalars()
        )
        db.session.remove()
    assert len(codes) == 30
    log_in(page, live_server)
    page.goto(f"{live_server}/admin/customers/")
    page.click("#select-by-list-link")
    page.wait_for_selector("#select-by-list-form")
    # As copied from a spreadsheet column, lower case, with a duplicate and a typo.
    pasted = "\r\n".join(code.lower() for code in codes) + f"\r\n{codes[0]}\r\nZZ-NOPE\r\n"
    page.fill("textarea[name=codes]", pasted)
    page.check("#action-freeze")
    page.click("#preview-button")
    page.wait_for_selector("#confirm-title")
    assert "30 customers will change to Frozen." in page.inner_text("#confirm-summary")
    assert "List of 32 codes (30 found)." in page.inner_text("#list-summary")
    assert "1 duplicate counted once." in page.inner_text("#list-summary")
    assert "ZZ-NOPE" in page.inner_text("#unknown-codes")
    page.select_option("select[name=reason]", "customer_request")
    screenshot(page, "select-by-list-confirm.png")
    page.click("#confirm-button")
    page.wait_for_selector(".alert-success")
    assert "Froze 30 customers" in page.inner_text(".alert-success")
    with seeded.app_context():
        frozen = dict(
            db.session.execute(
                sa.select(Customer.code, Customer.status).where(Customer.code.in_(codes))
            ).all()
        )
        db.session.remove()
    assert frozen == {code: "frozen" for code in codes}
