"""The dashboard: the periodic review card and the weekly status-change chart."""

import re
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import StatusAction
from admin_app.services import dashboard, review, status_change
from admin_app.services.audit import Actor, NewOperation, append_operation
from admin_app.services.transaction import write_transaction
from tests.conftest import add_customer, make_customers

WEDNESDAY = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # its week starts Monday 2026-11-23


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def actor(staff):
    admin = staff["admin"]
    return Actor(id=admin.id, username=admin.username, role=admin.role)


def change_at(when: datetime, actor: Actor, action: str, ids) -> None:
    """Run a real status change whose operation is logged at `when`."""
    with mock.patch("admin_app.services.audit.utcnow", return_value=when):
        request_id = status_change.create_request(
            action=StatusAction(action), actor=actor, ids=list(ids)
        )
        status_change.execute(request_id, actor=actor, reason_code="customer_request")


def log_at(when: datetime, actor: Actor, action: str, changed: int) -> None:
    with mock.patch("admin_app.services.audit.utcnow", return_value=when), write_transaction():
        append_operation(NewOperation(actor=actor, action=action, changed_count=changed))


# -- the chart -----------------------------------------------------------------------------


def test_weekly_buckets_start_on_monday_utc_and_cover_twelve_weeks(reasons, actor):
    ids = make_customers(12)
    change_at(datetime(2026, 11, 23, 0, 0, tzinfo=UTC), actor, "deactivate", ids[0:3])
    change_at(datetime(2026, 11, 22, 23, 59, 59, tzinfo=UTC), actor, "freeze", ids[3:5])
    change_at(datetime(2026, 11, 24, 8, 0, tzinfo=UTC), actor, "reactivate", ids[3:4])
    change_at(datetime(2026, 9, 7, 0, 0, tzinfo=UTC), actor, "deactivate", ids[5:6])
    change_at(datetime(2026, 9, 6, 23, 59, tzinfo=UTC), actor, "deactivate", ids[6:8])
    log_at(datetime(2026, 11, 24, tzinfo=UTC), actor, "order_create", 1)  # not a status change
    db.session.rollback()

    weeks = dashboard.weekly_status_changes(now=WEDNESDAY)

    assert len(weeks.week_starts) == 12
    assert weeks.week_starts[0].isoformat() == "2026-09-07"
    assert weeks.week_starts[-1].isoformat() == "2026-11-23"
    assert weeks.counts["deactivate"] == [1] + [0] * 10 + [3]
    assert weeks.counts["freeze"] == [0] * 10 + [2, 0]
    assert weeks.counts["reactivate"] == [0] * 11 + [1]
    assert weeks.totals[-1] == 4


def test_changed_counts_are_summed_not_operations_counted(actor):
    log_at(WEDNESDAY - timedelta(days=1), actor, "deactivate", 40)
    log_at(WEDNESDAY - timedelta(days=1), actor, "deactivate", 2)
    db.session.rollback()
    assert dashboard.weekly_status_changes(now=WEDNESDAY).counts["deactivate"][-1] == 42


def test_buckets_are_one_group_by_query(actor, app):
    log_at(WEDNESDAY - timedelta(days=20), actor, "freeze", 3)
    db.session.rollback()
    statements = []
    sa.event.listen(
        db.engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *args: statements.append(statement),
    )
    dashboard.weekly_status_changes(now=WEDNESDAY)
    queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(queries) == 1
    assert "GROUP BY" in queries[0].upper()


def test_dashboard_draws_the_chart_as_inline_svg(client, login, actor, app_clock):
    now = app_clock.now
    log_at(now - timedelta(weeks=2), actor, "deactivate", 7)
    log_at(now, actor, "freeze", 3)
    login("auditor")
    page = text(client.get("/admin/"))
    svg = re.search(r'(?s)<svg id="status-chart".*?</svg>', page).group(0)
    assert len(re.findall(r'<rect class="chart-bar-(\w+)"', svg)) == 2
    assert 'class="chart-bar-deactivate"' in svg and 'class="chart-bar-freeze"' in svg
    rows = re.findall(
        r'<tr data-week="([\d-]+)"><td>[^<]*</td><td>(\d+)</td><td>(\d+)</td>'
        r"<td>(\d+)</td><td>(\d+)</td></tr>",
        page,
    )
    assert len(rows) == 12
    assert rows[-1][1:] == ("0", "3", "0", "0")
    assert rows[-3][1:] == ("7", "0", "0", "0")
    assert "No status changes in the last 12 weeks" not in page
    # server-rendered: no chart library, nothing from a CDN
    assert not re.search(r"(?i)chart\.js|d3\.js|cdn\.|https?://", svg)
    assert not re.search(r'<script[^>]+src="https?://', page)


def test_an_empty_chart_says_so(client, login):
    login("clerk")
    page = text(client.get("/admin/"))
    svg = re.search(r'(?s)<svg id="status-chart".*?</svg>', page).group(0)
    assert "No status changes in the last 12 weeks" in svg
    assert "<rect" not in svg


def test_chart_scale_has_round_ticks_above_the_highest_week():
    weeks = dashboard.WeeklyChanges(
        [WEDNESDAY.date() - timedelta(weeks=11 - i) for i in range(12)],
        {
            "deactivate": [0] * 11 + [22],
            "freeze": [0] * 12,
            "reactivate": [0] * 12,
            "revert": [0] * 12,
        },
    )
    from admin_app.admin.dashboard import build_status_chart

    chart = build_status_chart(weeks)
    assert [tick.text for tick in chart.y_ticks] == ["0", "10", "20", "30"]
    [bar] = chart.rects
    assert bar.y >= 18 and bar.y + bar.height == chart.plot_bottom


# -- the review card -----------------------------------------------------------------------


def test_review_card_counts_candidates_and_says_overdue_without_a_review(
    client, login, review_rules, app_clock
):
    add_customer("QUIET", last_order_at=app_clock.now - timedelta(days=400))
    add_customer("BUSY", last_order_at=app_clock.now)
    login("auditor")
    page = text(client.get("/admin/"))
    assert re.search(r'id="review-candidates">1<', page)
    assert "No review completed yet" in page
    assert 'id="review-overdue"' in page
    assert 'href="/admin/review/"' in page


def test_review_card_after_a_review_is_on_schedule(client, login, review_rules, actor, app_clock):
    app_clock.now = datetime(2026, 11, 25, 23, 59, 59, tzinfo=UTC)  # the review, before midnight
    done = review.complete_review(actor=actor)
    app_clock.advance(seconds=2)  # the dashboard, after it
    login("auditor")
    page = text(client.get("/admin/"))
    words = re.sub(r"<[^>]+>", "", page)
    assert "Last completed Nov 25, 2026" in words
    assert 'title="2026-11-25 23:59 UTC"' in page
    due = "Dec 25, 2026"
    assert f'href="/admin/audit/details/?id={done.operation_id}"' in page
    assert 'id="review-on-schedule"' in page and f"Next due {due}" in words
    assert dashboard.review_status(30).overdue is False


def test_a_review_older_than_the_interval_is_overdue(client, login, review_rules, actor, app_clock):
    with mock.patch(
        "admin_app.services.audit.utcnow", return_value=app_clock.now - timedelta(days=31)
    ):
        review.complete_review(actor=actor)
    login("manager")
    page = text(client.get("/admin/"))
    assert 'id="review-overdue"' in page
    assert "A review is due every 30 days." in page


@pytest.mark.config(REVIEW_INTERVAL_DAYS=60)
def test_the_review_interval_comes_from_the_config(client, login, review_rules, actor, app_clock):
    with mock.patch(
        "admin_app.services.audit.utcnow", return_value=app_clock.now - timedelta(days=31)
    ):
        review.complete_review(actor=actor)
    login("manager")
    page = text(client.get("/admin/"))
    assert 'id="review-on-schedule"' in page
