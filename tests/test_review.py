"""The review queue: which customers the rules propose, keeping them out until a date,
recording a completed review, the page (with the grid's bulk flow) and the CLI."""

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditEntry, AuditOperation, Customer, ReviewRule
from admin_app.services import review
from admin_app.services.audit import Actor
from admin_app.services.errors import InvalidInput
from tests.conftest import FIXED_NOW, add_customer, confirm_action, statuses

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def pinned_clock(app_clock):
    """Every test here runs on the app's clock pinned at FIXED_NOW (never today's date)."""
    return app_clock


def ago(days: int) -> datetime:
    return FIXED_NOW - timedelta(days=days)


def today() -> date:
    return FIXED_NOW.date()


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def actor(staff):
    manager = staff["manager"]
    return Actor(id=manager.id, username=manager.username, role=manager.role)


@pytest.fixture
def population(review_rules):
    """One customer per interesting case; returns {label: id}."""
    return {
        # inactivity counts from the last order, or from created_at without orders
        "retail_quiet": add_customer("R-QUIET", last_order_at=ago(400)),
        "retail_never_ordered": add_customer("R-NEVER", created_at=ago(500)),
        "retail_new_never_ordered": add_customer("R-NEW", created_at=ago(30)),
        "retail_recent": add_customer("R-RECENT", last_order_at=ago(10)),
        "wholesale_quiet": add_customer("W-QUIET", segment="wholesale", last_order_at=ago(200)),
        "wholesale_recent": add_customer("W-RECENT", segment="wholesale", last_order_at=ago(100)),
        "over_credit": add_customer("X-OVER", last_order_at=ago(1), balance=Decimal("1000.01")),
        "at_credit": add_customer("X-AT", last_order_at=ago(1), balance=Decimal("1000.00")),
        "contract_ended": add_customer(
            "K-ENDED", last_order_at=ago(1), contract_end=today() - 31 * DAY
        ),
        "contract_just_ended": add_customer(
            "K-JUST", last_order_at=ago(1), contract_end=today() - 30 * DAY
        ),
        "two_rules": add_customer("Z-TWO", last_order_at=ago(400), balance=Decimal("5000")),
        "frozen_quiet": add_customer("F-QUIET", status="frozen", last_order_at=ago(400)),
        "kept": add_customer("P-KEPT", last_order_at=ago(400), review_kept_until=today() + DAY),
        "kept_until_today": add_customer(
            "P-TODAY", last_order_at=ago(400), review_kept_until=today()
        ),
        "keep_expired": add_customer(
            "P-EXPIRED", last_order_at=ago(400), review_kept_until=today() - DAY
        ),
    }


CANDIDATE_CODES = ["K-ENDED", "P-EXPIRED", "R-NEVER", "R-QUIET", "W-QUIET", "X-OVER", "Z-TWO"]


# -- which customers are candidates -----------------------------------------------------------


def test_candidates_follow_the_rules(population, review_rules):
    candidates = list(review.iter_candidates())
    assert [c.code for c in candidates] == CANDIDATE_CODES
    matched = {c.code: c.matched_text for c in candidates}
    assert matched["R-NEVER"] == "Retail: no order for 365 days"
    assert matched["W-QUIET"] == "Wholesale: no order for 180 days"
    assert matched["K-ENDED"] == "Contract ended more than 30 days ago"
    assert matched["Z-TWO"] == "Retail: no order for 365 days; Balance over credit limit"
    reasons = {c.code: c.reason_code for c in candidates}
    assert reasons["X-OVER"] == "over_credit" and reasons["Z-TWO"] == "inactive"


def test_counts_match_the_list_and_each_rule(population, review_rules):
    counts = review.count_candidates()
    assert counts.total == len(CANDIDATE_CODES)
    assert counts.per_rule == {
        review_rules["Retail: no order for 365 days"]: 4,  # R-QUIET R-NEVER Z-TWO P-EXPIRED
        review_rules["Wholesale: no order for 180 days"]: 1,
        review_rules["Distributor: no order for 120 days"]: 0,
        review_rules["Balance over credit limit"]: 2,
        review_rules["Contract ended more than 30 days ago"]: 1,
    }


def test_disabled_rules_propose_nobody(population, review_rules):
    db.session.execute(sa.update(ReviewRule).values(enabled=False))
    db.session.commit()
    assert list(review.iter_candidates()) == []
    assert review.count_candidates().total == 0


def test_a_rule_with_several_conditions_needs_all_of_them(reasons):
    add_customer("QUIET-ONLY", last_order_at=ago(400))
    add_customer("QUIET-AND-OVER", last_order_at=ago(400), balance=Decimal("2000"))
    db.session.add(
        ReviewRule(
            name="Quiet and over credit",
            segment=None,
            inactivity_days=365,
            flag_over_credit=True,
            enabled=True,
        )
    )
    db.session.commit()
    assert [c.code for c in review.iter_candidates()] == ["QUIET-AND-OVER"]


def test_page_counts_are_reused_until_the_log_moves_the_rules_change_or_a_minute_passes(
    population, review_rules, actor, app_clock
):
    """The pages' counts (current_counts) are one scan of the customers: reused while nothing
    they depend on moved, counted again as soon as something did."""
    assert review.current_counts().total == len(CANDIDATE_CODES)
    # A change made outside the app writes no operation: the same minute reuses the counts...
    add_customer("OUTSIDE", last_order_at=ago(400))
    assert review.current_counts().total == len(CANDIDATE_CODES)
    assert review.count_candidates().total == len(CANDIDATE_CODES) + 1
    # ...and the next minute counts again.
    app_clock.advance(minutes=1)
    assert review.current_counts().total == len(CANDIDATE_CODES) + 1
    # Every change the app makes is an operation: the log's head moves, counted again at once.
    review.keep_in_review([population["retail_quiet"]], today() + 30 * DAY, actor=actor)
    assert review.current_counts().total == len(CANDIDATE_CODES)
    # A rule that changes is another rule: counted again.
    db.session.execute(
        sa.update(ReviewRule)
        .where(ReviewRule.id == review_rules["Contract ended more than 30 days ago"])
        .values(enabled=False)
    )
    db.session.commit()
    assert review.current_counts().total == len(CANDIDATE_CODES) - 1


@pytest.mark.parametrize("rule_count", [1, 3, 10])
def test_counting_is_one_query_whatever_the_number_of_rules(app, rule_count):
    """Rule j (0-based) flags customers quiet for more than 100·(j+1) days; customer k is
    quiet for 100·k + 50 days (k = 0…10). Each count is right and all of them come from ONE
    statement, for 1, 3 or 10 rules."""
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    for k in range(11):
        add_customer(
            f"QUIET{k:02d}",
            last_order_at=now - timedelta(days=100 * k + 50),
            created_at=now - timedelta(days=5000),
        )
    for j in range(rule_count):
        db.session.add(
            ReviewRule(
                name=f"Quiet {100 * (j + 1)} days",
                segment=None,
                inactivity_days=100 * (j + 1),
                enabled=True,
            )
        )
    db.session.commit()
    rules = review.load_rules()
    assert len(rules) == rule_count
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        counts = review.count_candidates(rules, now=now)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert len(statements) == 1 and "count(" in statements[0].lower(), statements
    assert counts.total == 10
    assert counts.per_rule == {rule.id: 10 - j for j, rule in enumerate(rules)}


# -- keep until -----------------------------------------------------------------------------


def test_keep_hides_a_candidate_until_the_date_and_logs_it(population, actor):
    ids = [population["retail_quiet"], population["over_credit"], population["frozen_quiet"]]
    until = today() + 30 * DAY
    result = review.keep_in_review(ids, until, actor=actor, memo="called them")
    assert (result.changed, result.skipped) == (2, 1)  # frozen is not in the review

    db.session.rollback()
    codes = [c.code for c in review.iter_candidates()]
    assert "R-QUIET" not in codes and "X-OVER" not in codes
    later = FIXED_NOW + 31 * DAY
    assert {"R-QUIET", "X-OVER"} <= {c.code for c in review.iter_candidates(now=later)}
    on_the_day = FIXED_NOW + 30 * DAY
    assert "R-QUIET" not in {c.code for c in review.iter_candidates(now=on_the_day)}

    operation = db.session.execute(sa.select(AuditOperation)).scalar_one()
    assert (operation.action, operation.memo, operation.changed_count, operation.skipped_count) == (
        "review_keep",
        "called them",
        2,
        1,
    )
    entries = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.entity_id)).scalars()
    assert [(e.entity, e.entity_id, e.field, e.old_value, e.new_value) for e in entries] == [
        ("customer", population["retail_quiet"], "review_kept_until", None, until.isoformat()),
        ("customer", population["over_credit"], "review_kept_until", None, until.isoformat()),
    ]
    kept = db.session.get(Customer, population["retail_quiet"])
    assert (kept.review_kept_until, kept.version) == (until, 2)
    assert db.session.get(Customer, population["frozen_quiet"]).version == 1


def test_keeping_again_until_the_same_date_changes_and_logs_nothing(population, actor):
    until = today() + 10 * DAY
    review.keep_in_review([population["retail_quiet"]], until, actor=actor)
    again = review.keep_in_review([population["retail_quiet"]], until, actor=actor)
    assert (again.operation_id, again.changed) == (None, 0)
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count()).select_from(AuditOperation)).scalar() == 1


@pytest.mark.parametrize(
    "value", ["", "yesterday", "2026-02-30", "0", "today", "+1", "far", "2026-13-01"]
)
def test_keep_dates_are_parsed_strictly(value):
    real = {
        "today": today().isoformat(),
        "+1": (today() + DAY).isoformat(),
        "far": (today() + 731 * DAY).isoformat(),
    }.get(value, value)
    if value == "+1":
        assert review.parse_keep_date(real) == today() + DAY
        return
    with pytest.raises(InvalidInput):
        review.parse_keep_date(real)


def test_keep_refuses_a_past_date_in_the_service_too(population, actor):
    with pytest.raises(InvalidInput):
        review.keep_in_review([population["retail_quiet"]], today(), actor=actor)
    db.session.rollback()
    assert db.session.get(Customer, population["retail_quiet"]).review_kept_until is None


# -- review complete -------------------------------------------------------------------------


def test_complete_review_records_the_counts(population, review_rules, actor):
    done = review.complete_review(actor=actor)
    operation = db.session.get(AuditOperation, done.operation_id)
    scope = json.loads(operation.scope)
    assert (operation.action, operation.changed_count, operation.actor_username) == (
        "review_complete",
        0,
        "manager",
    )
    assert scope["candidates"] == len(CANDIDATE_CODES)
    by_name = {rule["name"]: rule["matched"] for rule in scope["rules"]}
    assert by_name["Retail: no order for 365 days"] == 4
    assert by_name["Balance over credit limit"] == 2
    assert review.last_completed_review().id == done.operation_id
    assert statuses(population.values()) == {
        cid: ("frozen" if label == "frozen_quiet" else "active")
        for label, cid in population.items()
    }


# -- the page ------------------------------------------------------------------------------


def codes_on(page_text: str) -> list[str]:
    return re.findall(r'<td class="col-code">\s*([^<\s]+)\s*</td>', page_text)


@pytest.mark.parametrize("role", ["admin", "manager", "clerk", "auditor"])
def test_every_role_that_sees_customers_sees_the_queue(client, login, population, role):
    login(role)
    page = text(client.get("/admin/review/"))
    assert codes_on(page) == CANDIDATE_CODES
    assert "Retail: no order for 365 days</span> <span" in page  # Z-TWO lists both rules
    can_act = role in ("admin", "manager")
    assert ('name="rowid"' in page) == can_act
    assert ('id="keep-form"' in page) == can_act
    assert ('id="complete-form"' in page) == can_act


@pytest.mark.parametrize("role", ["clerk", "auditor"])
def test_roles_without_change_status_get_403_on_the_review_posts(client, login, population, role):
    login(role)
    keep = client.post(
        "/admin/review/keep/",
        data={"rowid": [str(population["retail_quiet"])], "until": (today() + 5 * DAY).isoformat()},
    )
    assert keep.status_code == 403
    assert client.post("/admin/review/complete/").status_code == 403
    db.session.rollback()
    assert db.session.get(Customer, population["retail_quiet"]).review_kept_until is None
    assert (
        db.session.execute(
            sa.select(sa.func.count())
            .select_from(AuditOperation)
            .where(AuditOperation.action.in_(["review_keep", "review_complete"]))
        ).scalar()
        == 0
    )


def test_rule_tab_segment_filter_sort_and_pages(client, login, population, review_rules):
    login("auditor")
    retail_rule = review_rules["Retail: no order for 365 days"]
    tab = text(client.get(f"/admin/review/?rule={retail_rule}"))
    assert codes_on(tab) == ["P-EXPIRED", "R-NEVER", "R-QUIET", "Z-TWO"]
    counts = dict(re.findall(r'data-rule-id="(\d+)">\s*[^<]*<span class="badge[^"]*">(\d+)', tab))
    assert counts[str(retail_rule)] == "4"
    wholesale = text(client.get("/admin/review/?flt0_segment_equals=wholesale"))
    assert codes_on(wholesale) == ["W-QUIET"]
    by_balance = text(client.get("/admin/review/?sort=3&desc=1"))
    assert codes_on(by_balance)[:2] == ["Z-TWO", "X-OVER"]
    first = text(client.get("/admin/review/?page_size=20"))
    assert len(codes_on(first)) == 7
    # the tab is kept by sort links and pager
    assert f"rule={retail_rule}" in re.search(r'href="([^"]*sort=0[^"]*)"', tab).group(1)


@pytest.mark.parametrize(
    "query",
    [
        "?rule=abc",
        "?rule=999999",
        "?rule=",
        "?page=-1",
        "?sort=99",
        "?page_size=7",
        "?search=%25'%20OR%201=1",
        "?flt0_segment_equals=nope",
    ],
)
def test_hostile_review_parameters_never_500(client, login, population, query):
    login("admin")
    response = client.get(f"/admin/review/{query}")
    assert response.status_code == 200
    assert len(codes_on(text(response))) <= len(CANDIDATE_CODES)


def test_action_form_posts_to_the_grid_flow_with_the_preset_reason(
    client, login, population, review_rules
):
    login("manager")
    rule = review_rules["Balance over credit limit"]
    page = text(client.get(f"/admin/review/?rule={rule}"))
    form = re.search(r'(?s)<form id="action_form" action="([^"]+)".*?</form>', page)
    assert form.group(1) == "/admin/customers/action/"
    assert 'name="preset_reason" id="preset_reason" value="over_credit"' in form.group(0)
    url = re.search(r'name="url" value="([^"]+)"', form.group(0)).group(1)
    assert url.startswith("/admin/review/?") and f"rule={rule}" in url
    assert "modelActions.execute('deactivate')" in page
    assert "modelActions.execute('freeze')" in page
    assert "modelActions.execute('reactivate')" not in page
    reasons = json.loads(re.search(r'id="review-row-reasons">([^<]*)<', page).group(1))
    assert reasons[str(population["over_credit"])] == "over_credit"
    assert reasons[str(population["two_rules"])] == "inactive"


def test_review_to_confirmation_to_deactivated_and_back_to_the_review(
    client, login, population, review_rules
):
    login("manager")
    rule = review_rules["Retail: no order for 365 days"]
    back = f"/admin/review/?rule={rule}"
    ids = [population["retail_quiet"], population["retail_never_ordered"]]
    confirm_page = client.post(
        "/admin/customers/action/",
        data={
            "action": "deactivate",
            "rowid": [str(i) for i in ids],
            "url": back,
            "preset_reason": "inactive",
        },
    )
    assert confirm_page.status_code == 200
    body = text(confirm_page)
    assert "2 customers will change to Deactivated." in body
    assert '<option selected value="inactive">' in body
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', body).group(1)
    done = confirm_action(client, token, reason="inactive", url=back)
    assert done.status_code == 303 and done.headers["Location"] == back
    assert statuses(ids) == {i: "deactivated" for i in ids}
    queue = text(client.get(back))
    assert codes_on(queue) == ["P-EXPIRED", "Z-TWO"]
    assert "Deactivated 2 customers" in queue


def test_keep_and_complete_from_the_page(client, login, population):
    login("manager")
    until = (today() + 14 * DAY).isoformat()
    kept = client.post(
        "/admin/review/keep/",
        data={
            "rowid": [str(population["retail_quiet"]), str(population["wholesale_quiet"])],
            "until": until,
            "memo": "spoke to sales",
            "url": "/admin/review/?sort=1",
        },
    )
    assert kept.status_code == 303 and kept.headers["Location"] == "/admin/review/?sort=1"
    page = text(client.get(kept.headers["Location"]))
    assert f"Kept 2 customers out of the review until {until}" in page
    assert "R-QUIET" not in codes_on(page) and "W-QUIET" not in codes_on(page)

    completed = client.post("/admin/review/complete/", data={"url": "/admin/review/"})
    assert completed.status_code == 303
    page = text(client.get("/admin/review/"))
    assert "Review recorded with 5 candidates waiting" in page
    assert "Last review completed" in page
    db.session.rollback()
    operation = db.session.execute(
        sa.select(AuditOperation).where(AuditOperation.action == "review_complete")
    ).scalar_one()
    assert (json.loads(operation.scope)["candidates"], operation.source) == (5, "web")


@pytest.mark.parametrize(
    "data, message",
    [
        ({"until": "2020-01-01"}, "must be after today"),
        ({"until": "not-a-date"}, "YYYY-MM-DD"),
        ({"until": ""}, "Choose a date."),
        ({"rowid": [], "until": "+5"}, "Select at least one customer"),
        ({"rowid": ["abc"], "until": "+5"}, "Invalid customer id"),
    ],
)
def test_bad_keep_input_rerenders_the_queue_and_changes_nothing(
    client, login, population, data, message
):
    login("manager")
    form = {
        "rowid": [str(population["retail_quiet"])],
        "url": "/admin/review/",
        "memo": "typed",
        **data,
    }
    if form["until"] == "+5":
        form["until"] = (today() + 5 * DAY).isoformat()
    response = client.post("/admin/review/keep/", data=form)
    assert response.status_code == 422
    body = text(response)
    where = "until-feedback" if "until" in data and "rowid" not in data else "keep-form-error"
    assert re.search(rf'id="{where}"[^>]*>[^<]*{re.escape(message)}', body)
    assert 'name="memo"' in body and 'value="typed"' in body
    assert codes_on(body)  # the queue itself is on the page
    db.session.rollback()
    assert db.session.get(Customer, population["retail_quiet"]).review_kept_until is None


def test_keep_refuses_an_external_return_url(client, login, population):
    login("manager")
    response = client.post(
        "/admin/review/keep/",
        data={
            "rowid": [str(population["retail_quiet"])],
            "until": (today() + 5 * DAY).isoformat(),
            "url": "https://evil.example/",
        },
    )
    assert response.headers["Location"] == "/admin/review/"


def test_review_actions_do_not_run_on_the_review_endpoint(client, login, population):
    login("admin")
    response = client.post(
        "/admin/review/action/",
        data={"action": "deactivate", "rowid": [str(population["retail_quiet"])]},
    )
    assert response.status_code == 400
    assert statuses([population["retail_quiet"]]) == {population["retail_quiet"]: "active"}


def test_page_queries_do_not_grow_with_the_page(client, login, review_rules, app):
    for number in range(60):
        add_customer(f"Q{number:03d}", last_order_at=ago(400))
    login("auditor")
    client.get("/admin/review/?page_size=20")  # the queue's counts, reused by the requests below
    statements = []
    sa.event.listen(
        db.engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *args: statements.append(statement),
    )
    client.get("/admin/review/?page_size=20")
    small = len(statements)
    statements.clear()
    client.get("/admin/review/?page_size=50")
    assert len(statements) == small


# -- the CLI -----------------------------------------------------------------------------------


def test_cli_table_lists_the_same_candidates(runner, population):
    result = runner.invoke(args=["customers", "review"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["Code", "Name", "Segment"]
    assert [line.split()[0] for line in lines[1:-1]] == CANDIDATE_CODES
    assert lines[-1] == f"{len(CANDIDATE_CODES)} candidate(s)."
    assert "Retail: no order for 365 days; Balance over credit limit" in result.output


def test_cli_csv_escapes_formulas_and_records(runner, population):
    add_customer("=HACK", name='=HYPERLINK("http://evil.example","x")', last_order_at=ago(400))
    add_customer(
        "-PLUS", name="+cmd|' /C calc'!A0", last_order_at=ago(400), balance=Decimal("-5.00")
    )
    result = runner.invoke(args=["customers", "review", "--format", "csv", "--record"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == [
        "code",
        "name",
        "segment",
        "balance",
        "credit_limit",
        "last_order_utc",
        "contract_end",
        "matched_rules",
    ]
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code["'=HACK"][1] == '\'=HYPERLINK("http://evil.example","x")'
    assert by_code["'-PLUS"][1] == "'+cmd|' /C calc'!A0"
    assert by_code["'-PLUS"][3] == "-5.00"  # a negative number is a number, not a formula
    assert len(rows) == 1 + len(CANDIDATE_CODES) + 2
    assert "Recorded review operation" in result.stderr
    operation = db.session.execute(
        sa.select(AuditOperation).where(AuditOperation.action == "review_complete")
    ).scalar_one()
    assert (operation.source, operation.actor_username, operation.actor_id) == (
        "cli",
        "system",
        None,
    )
    assert json.loads(operation.scope)["candidates"] == len(CANDIDATE_CODES) + 2


def test_cli_without_rules_says_so_and_exits_0(runner):
    result = runner.invoke(args=["customers", "review"])
    assert result.exit_code == 0
    assert "No review rule is enabled." in result.output
    assert "0 candidate(s)." in result.output


def test_cli_rejects_an_unknown_format(runner):
    result = runner.invoke(args=["customers", "review", "--format", "xml"])
    assert result.exit_code == 2


def test_refused_keep_keeps_the_queue_filter_and_the_checked_rows(
    client, login, population, review_rules
):
    login("manager")
    rule = review_rules["Retail: no order for 365 days"]
    queue = text(client.get(f"/admin/review/?rule={rule}"))
    action = re.search(r'action="([^"]+)"[^>]*id="keep-form"', queue).group(1)
    assert action == f"/admin/review/keep/?rule={rule}"
    response = client.post(
        action,
        data={
            "rowid": [str(population["retail_quiet"])],
            "until": "not-a-date",
            "url": "/admin/review/",
        },
    )
    assert response.status_code == 422
    body = text(response)
    assert codes_on(body) == codes_on(queue)
    assert f'data-checked="[&#34;{population["retail_quiet"]}&#34;]"' in body
    assert re.search(r'<input[^>]*autofocus[^>]*name="until"', body)


def test_the_queue_exports_as_csv_and_xlsx_with_its_rules(client, login, population, review_rules):
    import csv
    import io

    from openpyxl import load_workbook

    login("auditor")
    rule = review_rules["Retail: no order for 365 days"]
    exported = client.get(f"/admin/review/export/csv/?rule={rule}")
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(text(exported))))
    assert rows[0] == [
        "Code",
        "Name",
        "Segment",
        "Balance",
        "Credit limit",
        "Last order",
        "Contract end",
        "Matched rules",
    ]
    queue = text(client.get(f"/admin/review/?rule={rule}"))
    assert [row[0] for row in rows[1:]] == codes_on(queue)
    assert all("Retail: no order for 365 days" in row[7] for row in rows[1:])
    client.post("/locale", data={"locale": "zh_Hant_TW", "next": "/admin/"})
    chinese = list(
        csv.reader(io.StringIO(text(client.get(f"/admin/review/export/csv/?rule={rule}"))))
    )
    assert all("零售：365 天無訂單" in row[7] for row in chinese[1:])  # the reader's rule names
    assert all(row[2] == "Retail" for row in rows[1:])
    sheet = load_workbook(
        io.BytesIO(client.get(f"/admin/review/export/xlsx/?rule={rule}").data)
    ).active
    values = list(sheet.iter_rows(values_only=True))
    assert [row[0] for row in values[1:]] == codes_on(queue)
    assert all(isinstance(row[3], int | float) for row in values[1:])
