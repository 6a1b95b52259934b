"""Each role's access to each admin page: allowed → 200, refused → 403, anonymous → login."""

import pytest

from tests.conftest import make_customers

PAGES = {
    "/admin/": {"admin", "manager", "clerk", "auditor"},
    "/admin/customers/": {"admin", "manager", "clerk", "auditor"},
    "/admin/orders/": {"admin", "manager", "clerk", "auditor"},
    "/admin/review/": {"admin", "manager", "clerk", "auditor"},
    "/admin/audit/": {"admin", "manager", "auditor"},
    "/admin/staff/": {"admin"},
    "/admin/reasons/": {"admin"},
    "/admin/rules/": {"admin"},
}


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_is_sent_to_login_with_local_next(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert "/admin/" in response.headers["Location"]


@pytest.mark.parametrize("role", ["admin", "manager", "clerk", "auditor"])
def test_each_role_sees_exactly_its_pages(client, login, role):
    login(role)
    for path, allowed in PAGES.items():
        response = client.get(path)
        expected = 200 if role in allowed else 403
        assert response.status_code == expected, (role, path, response.status_code)


@pytest.mark.parametrize("role", ["admin", "manager", "clerk", "auditor"])
def test_menu_shows_only_allowed_views(client, login, role):
    login(role)
    page = client.get("/admin/").get_data(as_text=True)
    for path, allowed in PAGES.items():
        if path == "/admin/":
            continue
        assert (f'href="{path}"' in page) == (role in allowed), (role, path)


def test_only_editors_get_the_create_and_edit_forms(client, login):
    login("auditor")
    assert client.get("/admin/customers/new/").status_code == 403
    client.post("/logout")
    login("clerk")
    assert client.get("/admin/customers/new/").status_code == 200


def test_delete_endpoints_are_refused_for_everyone(client, login):
    login("admin")
    assert client.post("/admin/customers/delete/", data={"id": "1"}).status_code == 403
    assert client.post("/admin/audit/delete/", data={"id": "1"}).status_code == 403


@pytest.mark.parametrize(
    "path, listing",
    [
        ("/admin/customers/details/?id=abc", "/admin/customers/"),
        ("/admin/customers/details/?id=99999999999", "/admin/customers/"),
        ("/admin/customers/edit/?id=-1", "/admin/customers/"),
        ("/admin/orders/details/?id=1.5", "/admin/orders/"),
    ],
)
def test_malformed_ids_go_back_to_the_list_with_a_message(client, login, path, listing):
    """Never a 500: Flask-Admin's answer for a record that does not exist (not the login
    redirect: the user stays logged in)."""
    login("admin")
    response = client.get(path)
    assert (response.status_code, response.headers["Location"]) == (302, listing)
    page = client.get(listing)
    assert page.status_code == 200
    assert "Record does not exist." in page.get_data(as_text=True)


def test_a_negative_page_is_the_first_page(client, login):
    [customer_id] = make_customers(1)
    login("admin")
    response = client.get("/admin/customers/?page=-1")
    assert response.status_code == 200
    assert f'name="rowid" class="action-checkbox" value="{customer_id}"' in response.get_data(
        as_text=True
    )
