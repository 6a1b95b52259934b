"""C. rowid validation on the bulk flow (SECURITY.md T14–T26).

Already covered elsewhere, on both databases:
- T15 mixed batch `1, 2, abc` → 400, nothing changed, and T16 `-1`, `0`:
  tests/test_bulk_flow.py::test_bad_rowids_get_400_and_change_nothing (valid ids + one bad one).
- T17 / T18 (most spellings): the same test; all of them at the service level in
  tests/test_status_change_service.py::test_rowids_are_parsed_strictly.
- T19 duplicates and T20 nonexistent ids: test_bulk_flow.py::test_nonexistent_and_duplicate_ids.
- T21 already inactive: test_bulk_flow.py::test_preview_changes_nothing_and_confirm_changes_
  exactly_the_preview and test_status_change_service.py::test_one_operation_records_who_why_
  and_counts.
- T22 no rowid: test_bulk_flow.py::test_no_selection_is_a_clear_400.
- T24 `action` pollution and unknown action: test_bulk_flow.py::test_unknown_duplicated_or_
  forbidden_action_is_refused.
- T25 edited rowids on step 2: test_bulk_flow.py::test_edited_rowids_on_confirm_are_409.
- T26 mass assignment: test_bulk_flow.py::test_extra_fields_on_confirm_are_ignored.
"""

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from tests.conftest import make_customers, start_action
from tests.security.conftest import events, snapshot, text


@pytest.fixture
def admin_client(client, login, reasons):
    login("admin")
    return client


@pytest.mark.parametrize(
    "rowid, shown",
    [
        ("abc", "&#39;abc&#39;"),
        ("<b>7</b>", "&#39;&lt;b&gt;7&lt;/b&gt;&#39;"),
    ],
)
def test_t14_non_integer_rowid_is_a_400_with_the_value_escaped(admin_client, caplog, rowid, shown):
    """T14 — a non-integer rowid: 400 "Invalid customer id: 'abc'" with the value
    HTML-escaped, nothing changed, security event validation_failure (never a PostgreSQL
    DataError 500)."""
    ids = make_customers(1)
    before = snapshot()
    response, _ = start_action(admin_client, "deactivate", [ids[0], rowid])
    assert response.status_code == 400
    assert f"Invalid customer id: {shown}" in text(response)
    assert "<b>7</b>" not in text(response)
    assert snapshot() == before
    [event] = events(caplog, "validation_failure")
    assert event["endpoint"] == "customers.action_view"
    assert event["reason"].startswith("Invalid customer id")


@pytest.mark.parametrize("rowid", ["١٢٣", "99999999999999999999", "1e3", "0x10"])
def test_t17_t18_other_spellings_and_overflow_over_http(admin_client, rowid):
    """T17 / T18 — the spellings not in the HTTP test of test_bulk_flow.py (Arabic-Indic
    digits, a 20-digit overflow, ...): 400 on both databases, never a 500."""
    make_customers(1)
    before = snapshot()
    response, token = start_action(admin_client, "freeze", [rowid])
    assert response.status_code == 400
    assert "Invalid customer id" in text(response)
    assert token is None
    assert snapshot() == before


def _statements_during(call):
    """Run `call`; return it and every statement it sent to the DB."""
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        return call(), statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def test_t23_oversized_requests_are_413_and_the_app_cap_is_cheap(admin_client):
    """T23 — 100,000 urlencoded rowids (~1.2 MB) → 413 from Flask's form limit; 30,000
    (~350 KB, which Flask accepts) and 10,001 → 413 "At most 10,000 checked customers per
    operation" from the app cap, before any query touches the customers (so it costs no
    database work, whatever the table's size; `make bench` times it); multipart
    with 1,001 parts → 413."""
    make_customers(3)
    before = snapshot()
    huge, _ = start_action(admin_client, "deactivate", range(1, 100_001))
    assert huge.status_code == 413
    assert "Request too large" in text(huge)

    for count in (30_000, 10_001):
        (capped, token), statements = _statements_during(
            lambda count=count: start_action(admin_client, "deactivate", range(1, count + 1))
        )
        assert capped.status_code == 413
        assert "At most 10,000 checked customers per operation" in text(capped)
        assert token is None
        assert [s for s in statements if "customer" in s.lower()] == []

    parts = {"action": "deactivate", **{f"f{n}": "1" for n in range(1001)}}
    multipart = admin_client.post(
        "/admin/customers/action/", data=parts, content_type="multipart/form-data"
    )
    assert multipart.status_code == 413
    assert snapshot() == before


def test_t24_rowids_in_the_query_string_are_ignored(admin_client):
    """T24 — rowids in both the query string and the body: deterministic, body only."""
    body_id, query_id = make_customers(2)
    page, token = start_action(
        admin_client, "deactivate", [body_id], query=f"?rowid={query_id}&action=delete"
    )
    assert page.status_code == 200
    assert f'data-customer-id="{body_id}"' in text(page)
    assert f'data-customer-id="{query_id}"' not in text(page)
    assert token
