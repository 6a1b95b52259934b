"""The grid's bulk flow over HTTP: action → confirmation page → confirm, as users and
attackers see it."""

import csv
import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditEntry, AuditOperation, Customer
from tests.conftest import PASSWORD, confirm_action, make_customers, start_action, statuses


def operation_count():
    db.session.rollback()
    return db.session.execute(
        sa.select(sa.func.count())
        .select_from(AuditOperation)
        .where(AuditOperation.action.in_(["deactivate", "freeze", "reactivate"]))
    ).scalar()


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def admin_client(client, login, reasons):
    login("admin")
    return client


def test_preview_changes_nothing_and_confirm_changes_exactly_the_preview(admin_client):
    ids = make_customers(3)
    gone = make_customers(1, status="deactivated", start=10)
    page, token = start_action(
        admin_client, "deactivate", ids + gone, url="/admin/customers/?status=active&search=Test"
    )
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    body = text(page)
    assert "3 customers will change to Deactivated." in body
    assert "already deactivated: 1" in body
    assert 'name="reason"' in body and 'name="memo"' in body
    assert statuses(ids) == {i: "active" for i in ids}
    assert operation_count() == 0

    done = confirm_action(
        admin_client,
        token,
        memo="closing accounts",
        url="/admin/customers/?status=active&search=Test",
    )
    assert done.status_code == 303
    assert done.headers["Location"] == "/admin/customers/?status=active&search=Test"
    assert statuses(ids) == {i: "deactivated" for i in ids}
    grid = text(admin_client.get(done.headers["Location"]))
    operation_id = db.session.execute(sa.select(sa.func.max(AuditOperation.id))).scalar()
    assert "Deactivated 3 customers, skipped 1 (already deactivated: 1)." in grid
    assert f'href="/admin/audit/details/?id={operation_id}">Operation #{operation_id}' in grid


def _skipped_table(page: str) -> dict[str, str]:
    """The confirmation's "will be skipped" table: customer id → why (empty when absent)."""
    table = re.search(r'<table[^>]*id="skipped-customers".*?</table>', page, flags=re.S)
    if table is None:
        return {}
    rows = re.findall(r'<tr data-customer-id="(\d+)">(.*?)</tr>', table.group(0), flags=re.S)
    return {cid: re.findall(r"<td>([^<]*)</td>", cells)[-1] for cid, cells in rows}


def test_the_confirmation_lists_the_customers_it_will_skip_and_why(admin_client):
    active = make_customers(2)
    frozen = make_customers(1, start=10, status="frozen")
    deactivated = make_customers(1, start=20, status="deactivated")
    page, _token = start_action(admin_client, "freeze", active + frozen + deactivated)
    assert _skipped_table(text(page)) == {
        str(frozen[0]): "already frozen",
        str(deactivated[0]): "deactivated, so they cannot be frozen",
    }
    page, _token = start_action(admin_client, "freeze", active)
    assert "Customers that will be skipped" not in text(page)
    assert _skipped_table(text(page)) == {}


def test_the_confirmation_marks_a_customer_over_its_credit_limit_as_the_grid_does(admin_client):
    [over] = make_customers(1, balance=Decimal("1500.00"), credit_limit=Decimal("1000.00"))
    [within] = make_customers(1, start=2, balance=Decimal("999.99"))
    page, _token = start_action(admin_client, "deactivate", [over, within])
    rows = dict(re.findall(r'<tr data-customer-id="(\d+)">(.*?)</tr>', text(page), flags=re.S))
    marked = '<td class="text-danger font-weight-bold" title="Over credit limit">'
    assert f"{marked}1,500.00 / 1,000.00</td>" in rows[str(over)]
    assert "<td>999.99 / 1,000.00</td>" in rows[str(within)]


def test_nonexistent_and_duplicate_ids(admin_client):
    [one] = make_customers(1)
    page, token = start_action(admin_client, "freeze", [one, one, one, 999999])
    assert "1 customer will change to Frozen." in text(page)
    assert "no longer exist: 1" in text(page)
    confirm_action(admin_client, token)
    db.session.rollback()
    entries = db.session.execute(sa.select(AuditEntry.entity_id)).scalars().all()
    assert entries == [one]


@pytest.mark.parametrize(
    "rowid",
    [
        "abc",
        "-1",
        "0",
        "1.0",
        "1e3",
        "0x10",
        "",
        "１２",
        " 7 ",
        "+5",
        "1_000",
        "007",
        "9223372036854775808",
        "1); DROP TABLE customers;--",
    ],
)
def test_bad_rowids_get_400_and_change_nothing(admin_client, rowid):
    ids = make_customers(2)
    response, token = start_action(admin_client, "deactivate", [ids[0], ids[1], rowid])
    assert response.status_code == 400
    assert "Invalid customer id" in text(response)
    assert token is None
    assert statuses(ids) == {i: "active" for i in ids}
    assert db.session.execute(sa.select(sa.func.count()).select_from(Customer)).scalar() == 2


def test_no_selection_is_a_clear_400(admin_client):
    response, _ = start_action(admin_client, "deactivate", [])
    assert response.status_code == 400
    assert "Select at least one customer. No customers were changed." in text(response)


def test_more_than_the_checked_cap_is_refused(admin_client, app):
    app.config["MAX_CHECKED_IDS"] = 5
    ids = make_customers(6)
    response, _ = start_action(admin_client, "deactivate", ids)
    assert response.status_code == 413
    assert "At most 5 checked customers" in text(response)
    assert statuses(ids) == {i: "active" for i in ids}


@pytest.mark.parametrize(
    "actions, status",
    [
        (["drop"], 400),
        (["deactivate", "delete"], 400),
        ([], 400),
        (["delete"], 403),
    ],
)
def test_unknown_duplicated_or_forbidden_action_is_refused(admin_client, actions, status):
    ids = make_customers(1)
    response = admin_client.post(
        "/admin/customers/action/", data={"action": actions, "rowid": [str(ids[0])]}
    )
    assert response.status_code == status
    assert statuses(ids) == {ids[0]: "active"}
    assert db.session.execute(sa.select(sa.func.count()).select_from(Customer)).scalar() == 1


def test_action_endpoint_refuses_get(admin_client):
    ids = make_customers(1)
    response = admin_client.get(f"/admin/customers/action/?action=deactivate&rowid={ids[0]}")
    assert response.status_code == 405
    assert statuses(ids) == {ids[0]: "active"}


@pytest.mark.parametrize("role", ["clerk", "auditor"])
def test_roles_without_the_permission_neither_see_nor_run_actions(client, login, reasons, role):
    ids = make_customers(2)
    login(role)
    grid = text(client.get("/admin/customers/"))
    assert "modelActions.execute('deactivate')" not in grid
    assert 'id="action_form"' not in grid
    response, _ = start_action(client, "deactivate", ids)
    assert response.status_code == 403
    assert statuses(ids) == {i: "active" for i in ids}


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_roles_with_the_permission_see_the_three_actions(client, login, role):
    make_customers(1)
    login(role)
    grid = text(client.get("/admin/customers/"))
    for name in ("deactivate", "freeze", "reactivate"):
        assert f"modelActions.execute('{name}')" in grid
    assert "modelActions.execute('delete')" not in grid


@pytest.mark.parametrize("other_role", ["clerk", "manager"])
def test_another_user_cannot_use_an_admins_confirmation(client, login, reasons, other_role):
    ids = make_customers(2)
    login("admin")
    _, token = start_action(client, "deactivate", ids)
    client.post("/logout")
    login(other_role)
    response = confirm_action(client, token)
    assert response.status_code == 403
    assert statuses(ids) == {i: "active" for i in ids}


def test_another_users_token_with_an_invalid_form_is_403_and_shows_no_preview(
    client, login, reasons
):
    """The token's user is checked before the form: a manager posting an admin's token with
    no reason gets 403, not the re-rendered confirmation page with the admin's selection."""
    ids = make_customers(2, name="Secret Selection Ltd")
    login("admin")
    page, token = start_action(client, "deactivate", ids)
    assert "Secret Selection Ltd" in text(page)
    client.post("/logout")
    login("manager")
    response = confirm_action(client, token, reason="")
    body = text(response)
    assert response.status_code == 403
    assert "This confirmation belongs to another user." in body
    assert "Secret Selection Ltd" not in body and "T00001" not in body
    assert "will change to" not in body and 'name="token"' not in body
    assert statuses(ids) == {i: "active" for i in ids}


def test_demoted_between_preview_and_confirm_is_refused(admin_client, staff):
    ids = make_customers(2)
    _, token = start_action(admin_client, "deactivate", ids)
    db.session.rollback()
    staff["admin"].role = "clerk"
    db.session.commit()
    response = confirm_action(admin_client, token)
    assert response.status_code == 403
    assert statuses(ids) == {i: "active" for i in ids}


def test_replayed_confirmation_is_409_and_changes_nothing_twice(admin_client):
    ids = make_customers(3)
    _, token = start_action(admin_client, "deactivate", ids)
    assert confirm_action(admin_client, token).status_code == 303
    replay = confirm_action(admin_client, token)
    assert replay.status_code == 409
    assert "already used" in text(replay) and "Nothing was changed" in text(replay)
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar() == 3


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: "not-a-token",
        lambda t: "",
    ],
)
def test_tampered_token_is_refused(admin_client, mangle):
    ids = make_customers(2)
    _, token = start_action(admin_client, "deactivate", ids)
    response = confirm_action(admin_client, mangle(token))
    assert response.status_code == 400
    assert "not valid" in text(response)
    assert statuses(ids) == {i: "active" for i in ids}


def test_expired_token_is_refused(admin_client, app):
    ids = make_customers(2)
    _, token = start_action(admin_client, "deactivate", ids)
    app.config["CONFIRMATION_MAX_AGE_SECONDS"] = -1
    response = confirm_action(admin_client, token)
    assert response.status_code == 410
    assert "expired" in text(response)
    assert statuses(ids) == {i: "active" for i in ids}


def test_edited_rowids_on_confirm_are_409(admin_client):
    ids = make_customers(3)
    _, token = start_action(admin_client, "deactivate", ids[:2])
    response = confirm_action(admin_client, token, rowid=[str(i) for i in ids])
    assert response.status_code == 409
    assert "Selection changed" in text(response)
    assert statuses(ids) == {i: "active" for i in ids}
    assert confirm_action(admin_client, token).status_code == 303  # token not consumed


def test_extra_fields_on_confirm_are_ignored(admin_client, staff):
    ids = make_customers(1)
    _, token = start_action(admin_client, "freeze", ids)
    confirm_action(
        admin_client,
        token,
        actor="mallory",
        role="admin",
        status="deactivated",
        active="1",
        created_at="2000-01-01",
    )
    db.session.rollback()
    operation = db.session.execute(
        sa.select(AuditOperation).where(AuditOperation.action == "freeze")
    ).scalar_one()
    assert operation.actor_username == "admin"
    assert statuses(ids) == {ids[0]: "frozen"}


def test_missing_reason_rerenders_the_page_with_an_error(admin_client):
    ids = make_customers(2)
    _, token = start_action(admin_client, "deactivate", ids)
    response = confirm_action(admin_client, token, reason="")
    assert response.status_code == 422
    assert "Choose a reason." in text(response)
    assert statuses(ids) == {i: "active" for i in ids}


@pytest.mark.parametrize(
    "memo, message",
    [
        ("bad\x00memo", "Memo contains invalid characters."),
        ("x" * 10_000, "Field cannot be longer than 1000 characters."),
    ],
)
def test_bad_memo_is_422_on_both_databases(admin_client, memo, message):
    ids = make_customers(1)
    _, token = start_action(admin_client, "deactivate", ids)
    response = confirm_action(admin_client, token, memo=memo)
    assert response.status_code == 422
    assert message in text(response)
    assert statuses(ids) == {ids[0]: "active"}


def test_memo_required_by_the_reason(admin_client):
    ids = make_customers(1)
    _, token = start_action(admin_client, "deactivate", ids)
    response = confirm_action(admin_client, token, reason="duplicate", memo="")
    assert response.status_code == 422
    assert "requires a memo" in text(response)


def _feedback(body: str, field: str) -> str | None:
    match = re.search(rf'<div class="invalid-feedback" id="{field}-feedback">([^<]*)</div>', body)
    return match.group(1) if match else None


def test_memo_error_stays_on_the_confirmation_page_next_to_the_memo(admin_client):
    """A "memo required" reason with only spaces as memo: the same confirmation page (422),
    the app's navigation, the error next to the memo, the chosen reason and the typed memo
    kept, and the same token still confirms afterwards."""
    ids = make_customers(2)
    _, token = start_action(admin_client, "deactivate", ids)
    response = confirm_action(admin_client, token, reason="other", memo="   ")
    body = text(response)
    assert response.status_code == 422
    assert 'id="confirm-title"' in body and 'id="current-user"' in body
    assert _feedback(body, "memo") == "This reason requires a memo."
    assert _feedback(body, "reason") is None
    assert re.search(r'<option data-memo-required="1" selected value="other">', body)
    assert f'name="token" type="hidden" value="{token}"' in body
    assert re.search(r'<textarea[^>]*autofocus[^>]*name="memo"', body)
    assert statuses(ids) == {i: "active" for i in ids}
    done = confirm_action(admin_client, token, reason="other", memo="Explained now")
    assert done.status_code == 303
    assert statuses(ids) == {i: "deactivated" for i in ids}


def test_invalid_reason_is_shown_next_to_the_reason_and_the_memo_is_kept(admin_client):
    ids = make_customers(1)
    _, token = start_action(admin_client, "deactivate", ids)
    response = confirm_action(admin_client, token, reason="no-such-reason", memo="kept text")
    body = text(response)
    assert response.status_code == 422
    assert _feedback(body, "reason") == "Not a valid choice."
    assert "\nkept text</textarea>" in body
    assert statuses(ids) == {ids[0]: "active"}


def test_reasons_that_need_a_memo_are_marked_and_reason_has_autofocus(admin_client):
    ids = make_customers(1)
    page, _ = start_action(admin_client, "deactivate", ids)
    body = text(page)
    assert (
        '<option data-memo-required="1" value="other">Other (explain in the memo) · memo required</option>'
        in body
    )  # noqa: E501
    assert '<option value="customer_request">Customer request</option>' in body
    assert re.search(r'<select[^>]*autofocus[^>]*name="reason"', body)
    assert re.search(r'data-page-url="/admin/customers/preview/[0-9a-f]{32}/"', body)


def _page_url(body: str) -> str:
    return re.search(r'data-page-url="([^"]+)"', body).group(1).replace("&amp;", "&")


def test_the_confirmation_page_has_a_get_address_without_a_token(admin_client, app):
    """Back and reload use /admin/customers/preview/<snapshot>/: the same page by GET, for its
    owner only and only while its token would live; no token in the URL; both the old and the
    newly signed token confirm (once)."""
    ids = make_customers(2)
    page, token = start_action(admin_client, "freeze", ids)
    url = _page_url(text(page))
    assert "token" not in url
    again = admin_client.get(url, query_string={"reason": "other"})
    assert again.status_code == 200
    assert again.headers["Cache-Control"] == "no-store"
    assert "2 customers will change to Frozen." in text(again)
    assert '<option data-memo-required="1" selected value="other">' in text(again)
    new_token = re.search(r'name="token" type="hidden" value="([^"]+)"', text(again)).group(1)
    assert statuses(ids) == {i: "active" for i in ids}
    assert admin_client.get("/admin/customers/preview/" + "0" * 32 + "/").status_code == 410
    other = app.test_client()  # another browser, another user
    other.post("/login", data={"username": "manager", "password": PASSWORD})
    assert other.get(url).status_code == 403
    assert other.get(url + "export/").status_code == 403
    app.config["CONFIRMATION_MAX_AGE_SECONDS"] = -1
    assert admin_client.get(url).status_code == 410
    app.config["CONFIRMATION_MAX_AGE_SECONDS"] = 3600
    assert confirm_action(admin_client, new_token).status_code == 303
    assert confirm_action(admin_client, token).status_code == 409
    assert statuses(ids) == {i: "frozen" for i in ids}


def test_switching_language_on_a_confirmation_shows_the_same_confirmation(admin_client):
    """The page answers a POST; the language switch goes back to its GET address, not to the
    action's POST-only one (a 405 dead end)."""
    ids = make_customers(2)
    page, _token = start_action(admin_client, "freeze", ids)
    back_to = re.search(r'name="next" value="([^"]+)"', text(page)).group(1).replace("&amp;", "&")
    assert back_to == _page_url(text(page))
    switched = admin_client.post("/locale", data={"locale": "zh_Hant_TW", "next": back_to})
    assert switched.status_code == 302
    again = admin_client.get(switched.headers["Location"])
    assert again.status_code == 200
    assert "2 位客戶將變為凍結。" in text(again)
    assert statuses(ids) == {i: "active" for i in ids}


def test_names_and_memos_are_escaped_everywhere(admin_client):
    ids = make_customers(1, name="<script>alert(1)</script>")
    page, token = start_action(admin_client, "freeze", ids)
    assert "<script>alert(1)" not in text(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text(page)
    assert f'data-customer-id="{ids[0]}"' in text(page)  # the id is shown beside the name
    done = confirm_action(admin_client, token, memo='"><img src=x onerror=alert(1)>')
    assert done.status_code == 303
    grid = text(admin_client.get(done.headers["Location"]))
    assert "<script>alert(1)" not in grid
    db.session.rollback()
    operation_id = db.session.execute(sa.select(sa.func.max(AuditOperation.id))).scalar()
    # The memo is shown on the log list, the operation's details and the customer's history.
    for url in (
        "/admin/audit/",
        f"/admin/audit/details/?id={operation_id}",
        f"/admin/customers/details/?id={ids[0]}",
    ):
        page = text(admin_client.get(url))
        assert "<img src=x" not in page and "<script>alert(1)" not in page, url
        assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page, url


def test_template_syntax_in_names_is_not_evaluated(admin_client):
    ids = make_customers(1, name="{{7*7}}")
    page, _ = start_action(admin_client, "freeze", ids)
    assert "{{7*7}}" in text(page)
    assert ">49<" not in text(page)


def test_select_all_matching_covers_every_page(admin_client):
    active = make_customers(45)
    frozen = make_customers(5, status="frozen", start=100)
    grid = text(admin_client.get("/admin/customers/?status=active"))
    assert 'data-total="45"' in grid
    page, token = start_action(
        admin_client, "freeze", active[:20], select_all="1", query="?status=active"
    )
    assert "45 customers will change to Frozen." in text(page)
    assert "…and" not in text(page)
    confirm_action(admin_client, token)
    assert statuses(active) == {i: "frozen" for i in active}
    assert statuses(frozen) == {i: "frozen" for i in frozen}


def test_select_all_reapplies_filters_and_search(admin_client):
    retail = make_customers(4, segment="retail")
    wholesale = make_customers(3, segment="wholesale", start=50)
    page, token = start_action(
        admin_client,
        "deactivate",
        [retail[0]],
        select_all="1",
        query="?flt0_segment_equals=wholesale&search=Test",
    )
    assert "3 customers will change to Deactivated." in text(page)
    confirm_action(admin_client, token)
    assert statuses(wholesale) == {i: "deactivated" for i in wholesale}
    assert statuses(retail) == {i: "active" for i in retail}


def test_confirmation_page_lists_100_rows_per_page(admin_client, app):
    ids = make_customers(130)
    page, token = start_action(admin_client, "freeze", ids)
    body = text(page)
    assert body.count("data-customer-id=") == 100
    assert "1–100 of 130" in body
    next_url = re.search(r'id="preview-next" href="([^"]+)"', body).group(1)
    second = text(admin_client.get(next_url.replace("&amp;", "&")))
    assert second.count("data-customer-id=") == 30
    assert "101–130 of 130" in second
    assert 'name="token" type="hidden" value="' in second and "token=" not in next_url
    shown = set(map(int, re.findall(r'data-customer-id="(\d+)"', body + second)))
    assert shown == set(ids)


@pytest.mark.parametrize("asked", ["²", "٣", "-1", "1.5", "x", "99999999999"])
def test_a_page_number_that_is_not_one_shows_the_first_page(admin_client, asked):
    ids = make_customers(3)
    page, _token = start_action(admin_client, "freeze", ids)
    url = _page_url(text(page))
    shown = admin_client.get(url, query_string={"page": asked})
    assert shown.status_code == 200
    assert text(shown).count("data-customer-id=") == 3


def test_status_tabs_count_and_keep_other_filters(admin_client):
    make_customers(4)
    make_customers(2, status="frozen", start=10)
    make_customers(1, status="deactivated", start=20, segment="wholesale")
    grid = text(admin_client.get("/admin/customers/?status=frozen&search=Test"))
    counts = dict(
        re.findall(r'data-status="(\w+)">\s*[^<]*<span class="badge[^"]*">([\d,]+)', grid)
    )
    assert counts == {"active": "4", "frozen": "2", "deactivated": "1"}
    assert 'href="/admin/customers/?status=active&amp;search=Test"' in grid
    assert grid.count("data-customer-id") == 0
    assert grid.count('name="rowid"') == 2


@pytest.mark.parametrize(
    "query",
    [
        "?search=%25'%20OR%201=1%20--",
        "?sort=999",
        "?page=-1",
        "?page_size=1000000",
        "?status=bogus",
        "?flt0_segment_equals=1%20OR%201=1",
    ],
)
def test_hostile_grid_parameters_never_500(admin_client, query):
    make_customers(3)
    response = admin_client.get(f"/admin/customers/{query}")
    assert response.status_code in (200, 400)
    assert text(response).count('name="rowid"') <= 3


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_export_escapes_spreadsheet_formulas(admin_client, prefix):
    """Cells a spreadsheet would read as a formula (OWASP CSV injection: = + - @, and a
    leading TAB or CR) get a leading quote."""
    formula = prefix + 'HYPERLINK("http://x")'
    make_customers(1, name=formula)
    rows = list(
        csv.reader(io.StringIO(text(admin_client.get("/admin/customers/export/csv/")), newline=""))
    )
    name = rows[0].index("Name")
    assert rows[1][name] == "'" + formula


def test_edit_form_never_offers_status(client, login):
    ids = make_customers(1)
    login("clerk")
    form = text(client.get(f"/admin/customers/edit/?id={ids[0]}"))
    assert 'name="status"' not in form
    assert 'name="name"' in form


def test_stale_edit_form_does_not_undo_a_bulk_change(admin_client):
    ids = make_customers(1)
    _, token = start_action(admin_client, "deactivate", ids)
    confirm_action(admin_client, token)
    response = admin_client.post(
        f"/admin/customers/edit/?id={ids[0]}",
        data={
            "code": "T00001",
            "name": "Renamed",
            "segment": "retail",
            "credit_limit": "1",
            "balance": "0",
            "version": "1",
        },
    )
    assert "changed by someone else" in text(response)
    db.session.rollback()
    customer = db.session.get(Customer, ids[0])
    assert (customer.name, customer.status) == ("Test Customer 1", "deactivated")


@pytest.mark.csrf
def test_both_posts_need_the_csrf_token(client, login, reasons):
    ids = make_customers(2)
    grid_page = client.get("/login")
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text(grid_page)).group(1)
    logged_in = login("admin", csrf_token=csrf)
    assert logged_in.status_code == 302
    missing, _ = start_action(client, "deactivate", ids)
    assert missing.status_code == 400
    forged, _ = start_action(client, "deactivate", ids, csrf_token="forged")
    assert forged.status_code == 400
    grid = text(client.get("/admin/customers/"))
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', grid).group(1)
    page, token = start_action(client, "deactivate", ids, csrf_token=csrf)
    assert page.status_code == 200, text(page)
    page_csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text(page)).group(1)
    assert confirm_action(client, token).status_code == 400
    assert statuses(ids) == {i: "active" for i in ids}
    assert confirm_action(client, token, csrf_token=page_csrf).status_code == 303
    assert statuses(ids) == {i: "deactivated" for i in ids}


def test_a_big_selection_says_before_confirming_that_it_takes_a_while(admin_client, app):
    """From LONG_OPERATION_CUSTOMERS customers that will change on, the confirmation page says
    the change takes a while and to keep the page open; below it, it says nothing of the kind."""
    app.config["LONG_OPERATION_CUSTOMERS"] = 3
    small = make_customers(2)
    big = make_customers(3, start=10)
    page, _ = start_action(admin_client, "freeze", small)
    assert page.status_code == 200
    assert 'id="confirm-long-running"' not in text(page)
    page, token = start_action(admin_client, "freeze", big)
    assert "Changing this many customers can take a minute or more." in text(page)
    assert confirm_action(admin_client, token).status_code == 303
    assert "Froze 3 customers" in text(admin_client.get("/admin/customers/"))
