"""Issue 13: flows that keep the user on the page (error pages inside the app, per-customer
actions, warnings and paging of the confirmation page, exports, the order form search)."""

import re

import pytest

from tests.conftest import confirm_action, make_customers, start_action, statuses


def text(response) -> str:
    return response.get_data(as_text=True)


# -- error pages keep the navigation, the user and the language switch ------------------------

def _in_admin_layout(body: str) -> bool:
    return ('id="current-user"' in body and 'id="language-menu"' in body
            and 'href="/admin/customers/"' in body)


@pytest.mark.parametrize("method, path, data, status", [
    ("get", "/admin/nope/", None, 404),
    ("get", "/admin/staff/", None, 403),
    ("get", "/logout", None, 405),
    ("post", "/admin/customers/action/", {"action": "deactivate", "rowid": "abc"}, 400),
    ("post", "/admin/customers/confirm/", {"token": "forged", "reason": "other"}, 400),
])
def test_error_pages_of_a_signed_in_user_keep_the_app_layout(client, login, reasons, method,
                                                             path, data, status):
    login("clerk" if status == 403 else "admin")
    response = getattr(client, method)(path, data=data)
    body = text(response)
    assert response.status_code == status
    assert 'id="error-message"' in body
    assert _in_admin_layout(body)


def test_conflict_and_expired_pages_keep_the_app_layout(client, login, reasons, app):
    login("admin")
    ids = make_customers(1)
    _, token = start_action(client, "deactivate", ids)
    assert confirm_action(client, token).status_code == 303
    again = confirm_action(client, token)
    assert again.status_code == 409 and _in_admin_layout(text(again))
    app.config["CONFIRMATION_MAX_AGE_SECONDS"] = -1
    expired = confirm_action(client, token)
    assert expired.status_code == 410 and _in_admin_layout(text(expired))


def test_error_pages_of_an_anonymous_visitor_show_no_menu(client):
    response = client.get("/nope")
    assert response.status_code == 404
    body = text(response)
    assert 'id="error-message"' in body and not _in_admin_layout(body)
    assert 'id="language-switch"' in body


# -- per-customer actions on the details page -------------------------------------------------

def _detail_actions(body: str) -> list[str]:
    return re.findall(r'name="action" value="(\w+)"', body.split('id="status-actions"')[1]
                      .split("</form>")[0]) if 'id="status-actions"' in body else []


@pytest.mark.parametrize("status, offered", [
    ("active", ["deactivate", "freeze"]),
    ("frozen", ["deactivate", "reactivate"]),
    ("deactivated", ["reactivate"]),
])
def test_details_page_offers_the_actions_the_status_machine_allows(client, login, status,
                                                                   offered):
    [cid] = make_customers(1, status=status)
    login("manager")
    assert _detail_actions(text(client.get(f"/admin/customers/details/?id={cid}"))) == offered


@pytest.mark.parametrize("role", ["clerk", "auditor"])
def test_details_page_offers_no_action_without_the_permission(client, login, role):
    [cid] = make_customers(1)
    login(role)
    body = text(client.get(f"/admin/customers/details/?id={cid}"))
    assert 'id="status-actions"' not in body
    response, token = start_action(client, "deactivate", [cid],
                                   url=f"/admin/customers/details/?id={cid}")
    assert response.status_code == 403 and token is None
    assert statuses([cid]) == {cid: "active"}


def test_deactivate_from_the_details_page_confirms_and_returns_there(client, login, reasons):
    ids = make_customers(3)
    cid = ids[1]
    login("manager")
    details = f"/admin/customers/details/?id={cid}"
    body = text(client.get(details))
    url = re.search(r'name="url" value="([^"]+)"', body).group(1).replace("&amp;", "&")
    page, token = start_action(client, "deactivate", [cid], url=url)
    assert page.status_code == 200
    assert "1 customer will change to Deactivated." in text(page)
    assert re.search(r'href="/admin/customers/details/\?id=%d[^"]*" id="cancel-link"' % cid,
                     text(page))
    done = confirm_action(client, token, url=url)
    assert done.status_code == 303 and done.headers["Location"] == url
    assert statuses(ids) == {ids[0]: "active", cid: "deactivated", ids[2]: "active"}
    after = text(client.get(url))
    assert "Deactivated 1 customer" in after
    assert _detail_actions(after) == ["reactivate"]


# -- the revert confirmation: the same inline errors and GET address ----------------------------

def test_revert_memo_error_rerenders_the_revert_page_and_the_token_still_works(
        client, login, reasons):
    ids = make_customers(2)
    login("manager")
    _, token = start_action(client, "freeze", ids)
    done = confirm_action(client, token)
    operation_id = int(re.search(r"/admin/audit/details/\?id=(\d+)",
                                 text(client.get(done.headers["Location"]))).group(1))
    page = client.post("/admin/audit/revert/", data={"id": operation_id})
    body = text(page)
    revert_token = re.search(r'name="token" type="hidden" value="([^"]+)"', body).group(1)
    assert f'data-page-url="/admin/audit/revert/preview/?token={revert_token}"' in body
    assert re.search(r'<select[^>]*autofocus[^>]*name="reason"', body)
    refused = client.post("/admin/audit/revert/confirm/", data={
        "token": revert_token, "reason": "other", "memo": " "})
    assert refused.status_code == 422
    assert ('<div class="invalid-feedback" id="memo-feedback">This reason requires a memo.'
            in text(refused))
    assert statuses(ids) == {i: "frozen" for i in ids}
    again = client.get("/admin/audit/revert/preview/", query_string={"token": revert_token})
    assert again.status_code == 200
    assert "2 customers will go back to the status they had before." in text(again)
    assert client.get("/admin/audit/revert/preview/",
                      query_string={"token": token}).status_code == 400  # a bulk token
    ok = client.post("/admin/audit/revert/confirm/", data={
        "token": revert_token, "reason": "other", "memo": "wrong customers"})
    assert ok.status_code == 303
    assert statuses(ids) == {i: "active" for i in ids}
