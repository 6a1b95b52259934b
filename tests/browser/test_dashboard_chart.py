"""The dashboard's weekly status-change chart, as Chromium draws it."""

import os
import random
import shutil
from datetime import timedelta
from unittest import mock

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import Customer, StaffUser, StatusAction
from admin_app.services import status_change
from admin_app.services.audit import Actor
from admin_app.services.demo import seed_demo
from tests.browser.conftest import screenshot
from tests.browser.test_bulk_journey import log_in

pytestmark = pytest.mark.browser

DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs")


@pytest.fixture
def history(app_clock, live_app):
    """Demo customers and twelve weeks of real status changes, logged at past dates, on the
    pinned clock (FIXED_NOW, a Wednesday noon: no change falls out of the twelve weeks)."""
    with live_app.app_context():
        seed_demo(customers=400, seed=11)
        admin = db.session.execute(sa.select(StaffUser).filter_by(username="admin")).scalar_one()
        actor = Actor(id=admin.id, username=admin.username, role=admin.role)
        rng = random.Random(7)
        now = app_clock.now
        for weeks_ago in range(11, -1, -1):
            for action, source in (
                ("deactivate", "active"),
                ("freeze", "active"),
                ("reactivate", "frozen"),
            ):
                wanted = rng.randint(2, 12) if action == "deactivate" else rng.randint(0, 7)
                ids = (
                    db.session.execute(
                        sa.select(Customer.id)
                        .where(Customer.status == source)
                        .order_by(Customer.code)
                        .offset(rng.randint(0, 20))
                        .limit(wanted)
                    )
                    .scalars()
                    .all()
                )
                if not ids:
                    continue
                with mock.patch(
                    "admin_app.services.audit.utcnow",
                    return_value=now - timedelta(weeks=weeks_ago, hours=2),
                ):
                    request_id = status_change.create_request(
                        action=StatusAction(action), actor=actor, ids=list(ids)
                    )
                    status_change.execute(request_id, actor=actor, reason_code="customer_request")
        db.session.remove()
    return live_app


def test_dashboard_renders_the_weekly_chart(history, live_server, page):
    log_in(page, live_server)
    chart = page.locator("svg#status-chart")
    chart.wait_for()
    box = chart.bounding_box()
    assert box["width"] > 500 and box["height"] > 150

    bars = chart.locator("g.chart-bars rect")
    assert bars.count() >= 12
    for index in range(bars.count()):
        bar = bars.nth(index).bounding_box()
        assert bar["height"] > 0 and bar["width"] > 10
        assert box["y"] <= bar["y"] and bar["y"] + bar["height"] <= box["y"] + box["height"] + 1
    labels = chart.locator("g.chart-x-labels text")
    assert labels.count() == 12
    assert page.locator("text=No status changes in the last 12 weeks").count() == 0
    assert page.locator(".chart-legend").inner_text().split() == [
        "Deactivated",
        "Frozen",
        "Reactivated",
        "Reverted",
    ]
    assert int(page.locator("#review-candidates").inner_text().replace(",", "")) > 0

    path = screenshot(page, "dashboard-chart.png")
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS"):
        os.makedirs(DOCS, exist_ok=True)
        shutil.copy(path, os.path.join(DOCS, "dashboard.png"))
