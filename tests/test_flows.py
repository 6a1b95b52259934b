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
