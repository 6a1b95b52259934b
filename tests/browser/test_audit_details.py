import os
import shutil

import pytest

from admin_app.extensions import db
from admin_app.services.audit import Actor
from tests.audit_support import append, customer_entries
from tests.browser.conftest import ARTIFACTS, log_in

pytestmark = pytest.mark.browser
DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs")


@pytest.fixture
def bulk_operation(live_app):
    with live_app.app_context():
        manager = Actor(
            id=2,
            username="manager",
            role="manager",
            client_ip="10.0.0.7",
            user_agent="Mozilla/5.0 (X11; Linux x86_64)",
        )
        append(
            "freeze",
            customer_entries(3, field="credit_limit", old="5000.00", new="0.00"),
            actor=manager,
            reason_code="non_payment",
            memo="Credit stopped.",
        )
        operation_id = append(
            "deactivate",
            customer_entries(250, old="active", new="deactivated"),
            actor=manager,
            reason_code="contract_ended",
            skipped_count=4,
            memo="Q3 review: contracts ended more than 30 days ago; finance confirmed.",
            scope={
                "filter": {"status": "active", "contract_end_before": "2026-09-30"},
                "selected": 254,
                "mode": "all matching",
            },
        )
        db.session.remove()
    return operation_id


def test_audit_details_page_pages_through_entries(live_server, page, bulk_operation):
    log_in(page, live_server, "auditor")
    page.goto(f"{live_server}/admin/audit/details/?id={bulk_operation}")
    assert page.locator("#entries-range").inner_text() == "1–100 of 250"
    assert page.locator("table.audit-entries tbody tr").count() == 100
    page.screenshot(
        path=f"{ARTIFACTS}/audit-details.png",
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1400, "height": 1400},
    )
    page.locator("a[rel=next]").first.click()
    page.wait_for_url("**entries_page=1**")
    assert page.locator("#entries-range").inner_text() == "101–200 of 250"


def test_an_operation_reads_in_words_with_technical_details_folded(live_server, page, seeded):
    """The README's screenshot (docs/audit-details.png with UPDATE_DOCS_SCREENSHOTS=1): a
    deactivation of three selected customers as an auditor sees it."""
    from sqlalchemy import select

    from admin_app.models import Customer, StaffUser, StatusAction
    from admin_app.services import status_change

    with seeded.app_context():
        admin = db.session.execute(
            select(StaffUser).where(StaffUser.username == "admin")
        ).scalar_one()
        actor = Actor(
            id=admin.id,
            username=admin.username,
            role=admin.role,
            client_ip="10.0.0.7",
            user_agent="Mozilla/5.0 (X11; Linux x86_64)",
            request_id="5f0c9c1e8a6b4f7d9a3e2b1c0d4e5f60",
        )
        ids = (
            db.session.execute(
                select(Customer.id)
                .where(Customer.status == "active")
                .order_by(Customer.code)
                .limit(3)
            )
            .scalars()
            .all()
        )
        request_id = status_change.create_request(
            action=StatusAction.DEACTIVATE,
            actor=actor,
            ids=ids,
            scope={"mode": "ids", "count": len(ids), "ids": ids},
        )
        operation_id = status_change.execute(
            request_id,
            actor=actor,
            reason_code="customer_request",
            memo="Asked by phone to close the accounts.",
        ).operation_id
        db.session.remove()
    log_in(page, live_server, "auditor")
    page.goto(f"{live_server}/admin/audit/details/?id={operation_id}")
    scope = page.locator("#operation-scope").inner_text()
    assert scope.startswith("3 selected customers: ")
    assert page.get_by_text("Customer request").first.is_visible()
    hashes = page.locator("#technical-details code").last
    assert not hashes.is_visible()  # folded
    path = os.path.join(ARTIFACTS, "audit-details-words.png")
    page.screenshot(path=path, full_page=True, clip={"x": 0, "y": 0, "width": 1400, "height": 1100})
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS"):
        shutil.copy(path, os.path.join(DOCS, "audit-details.png"))
    page.locator("#technical-details summary").click()
    assert hashes.is_visible()
