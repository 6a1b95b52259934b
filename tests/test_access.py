"""Each role's access to each admin page: allowed → 200, refused → 403, anonymous → login."""

import pytest

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


@pytest.mark.parametrize("path", ["/admin/customers/details/?id=abc",
                                  "/admin/customers/details/?id=99999999999",
                                  "/admin/customers/edit/?id=-1",
                                  "/admin/orders/details/?id=1.5",
                                  "/admin/customers/?page=-1"])
def test_malformed_ids_and_pages_never_500(client, login, path):
    login("admin")
    response = client.get(path)
    assert response.status_code in (200, 302, 404)
