"""Freezing a customer "until" a date, in Chromium: the confirmation page's end date, the
customer's page listing the pending reactivation, and the runner putting it back."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import Customer, ScheduledChange
from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_freeze_until_a_date_then_the_runner_reactivates(app_clock, seeded, live_server, page):
    from admin_app.services import scheduling

    with seeded.app_context():
        customer_id, code = db.session.execute(
            sa.select(Customer.id, Customer.code)
            .where(Customer.status == "active")
            .order_by(Customer.code)
            .limit(1)
        ).one()
        db.session.remove()
    log_in(page, live_server, "manager")
    page.goto(f"{live_server}/admin/customers/details/?id={customer_id}")
    page.click("#status-action-freeze")
    page.wait_for_selector("#confirm-title")
    page.select_option("select[name=reason]", "customer_request")
    # A bad end date first: the same page, the message beside the field.
    page.fill("input[name=until]", "2026-11-01")
    page.click("#confirm-button")
    page.wait_for_selector("#until-feedback")
    assert "must be after" in page.inner_text("#until-feedback")
    page.fill("input[name=until]", "2026-12-31")
    screenshot(page, "confirm-until.png")
    page.click("#confirm-button")
    page.wait_for_selector(".alert-success")
    assert "Froze 1 customer" in page.inner_text(".alert-success")
    assert "Reactivation of 1 customer scheduled" in page.inner_text(".alert-success")
    assert "Frozen" in page.inner_text(".table")  # the customer's page, status frozen
    assert "Reactivate" in page.inner_text("#scheduled-changes")
    screenshot(page, "customer-scheduled.png")

    with seeded.app_context():
        report = scheduling.run_due(now=datetime(2026, 12, 31, tzinfo=UTC))
        assert report.applied == 1
        [row] = db.session.execute(sa.select(ScheduledChange)).scalars().all()
        assert row.status == "done"
        db.session.remove()
    page.reload()
    assert page.locator("#scheduled-changes").count() == 0
    assert page.locator("#status-action-freeze").count() == 1  # active again
