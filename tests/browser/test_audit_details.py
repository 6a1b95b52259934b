import pytest

from admin_app.extensions import db
from admin_app.services.audit import Actor
from tests.audit_support import append, customer_entries
from tests.browser.conftest import ARTIFACTS, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def bulk_operation(live_app):
    with live_app.app_context():
        manager = Actor(id=2, username="manager", role="manager", client_ip="10.0.0.7",
                        user_agent="Mozilla/5.0 (X11; Linux x86_64)")
        append("freeze", customer_entries(3, field="credit_limit", old="5000.00", new="0.00"),
               actor=manager, reason_code="non_payment", memo="Credit stopped.")
        operation_id = append(
            "deactivate", customer_entries(250, old="active", new="deactivated"), actor=manager,
            reason_code="contract_ended", skipped_count=4,
            memo="Q3 review: contracts ended more than 30 days ago; finance confirmed.",
            scope={"filter": {"status": "active", "contract_end_before": "2026-09-30"},
                   "selected": 254, "mode": "all matching"})
        db.session.remove()
    return operation_id


def test_audit_details_page_pages_through_entries(live_server, page, bulk_operation):
    log_in(page, live_server, "auditor")
    page.goto(f"{live_server}/admin/audit/details/?id={bulk_operation}")
    assert page.locator("#entries-range").inner_text() == "1–100 of 250"
    assert page.locator("table.audit-entries tbody tr").count() == 100
    page.screenshot(path=f"{ARTIFACTS}/audit-details.png", full_page=True,
                    clip={"x": 0, "y": 0, "width": 1400, "height": 1400})
    page.locator("a[rel=next]").first.click()
    page.wait_for_url("**entries_page=1**")
    assert page.locator("#entries-range").inner_text() == "101–200 of 250"
