"""E. Open redirects through Flask-Admin's `url` and the login's `next` (SECURITY.md T33,
T34). Every Location is also resolved with a WHATWG URL parser (the one browsers use)."""

import re
from html import unescape

import pytest

from admin_app.extensions import db
from admin_app.models import Customer
from tests.conftest import PASSWORD, confirm_action, make_customers, start_action
from tests.security.conftest import text

PAYLOADS = [
    "https://evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "///evil.example",
    "javascript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "http:/evil.example",
    "https:/evil.example",
    "http:evil.example",
    "%2F%2Fevil.example",
    "/\t/evil.example",
    "\x00/evil.example",
]
GRID = "/admin/customers/"


def assert_local(location: str) -> None:
    """A local path: one leading slash, no backslash, no scheme, no control characters."""
    assert location.startswith("/"), location
    assert not location.startswith(("//", "/\\")), location
    assert "\\" not in location and not re.search(r"[\x00-\x20]", location), location


def _hidden_url(page) -> str:
    return unescape(re.search(r'name="url" type="hidden" value="([^"]*)"', text(page)).group(1))


@pytest.mark.parametrize("base", ["http://localhost", "https://localhost"])
def test_t33_flask_admin_url_parameter_never_leaves_the_site(
    client, login, reasons, base, whatwg_resolve
):
    """T33 — Flask-Admin's url= with each payload, over http and https: on step 1 (the
    confirmation page carries the grid URL instead), step 2, the edit form (save, "save and
    continue"), delete and a refused action. Every Location is a local path that a browser
    resolves to this host; no payload becomes a link."""
    login("admin")
    ids = make_customers(len(PAYLOADS) + 1)
    locations = []
    for payload, customer_id in zip(PAYLOADS, ids, strict=False):
        page, token = start_action(client, "freeze", [customer_id], url=payload)
        assert page.status_code == 200
        assert _hidden_url(page) == GRID
        assert 'id="cancel-link"' in text(page) and f'href="{GRID}" id="cancel-link"' in text(page)
        done = confirm_action(client, token, url=payload)
        assert done.status_code == 303
        locations.append(done.headers["Location"])

        db.session.rollback()
        version = db.session.get(Customer, customer_id).version
        form = {
            "code": f"T{customer_id:05d}",
            "name": "Renamed",
            "segment": "retail",
            "credit_limit": "1",
            "balance": "0",
            "version": str(version),
        }
        edit_page = client.get(
            "/admin/customers/edit/",
            base_url=base,
            query_string={"id": customer_id, "url": payload},
        )
        hrefs = re.findall(r'href="([^"]*)"', text(edit_page))
        assert not [h for h in hrefs if "evil.example" in h or "alert" in h], hrefs
        saved = client.post(
            "/admin/customers/edit/",
            base_url=base,
            query_string={"id": customer_id, "url": payload},
            data=form,
        )
        assert saved.status_code == 302, text(saved)
        locations.append(saved.headers["Location"])
        form["version"] = str(version + 1)
        again = client.post(
            "/admin/customers/edit/",
            base_url=base,
            data={**form, "_continue_editing": "1"},
            query_string={"id": customer_id, "url": payload},
        )
        locations.append(again.headers["Location"])

        for path, data in (
            ("/admin/customers/delete/", {"id": str(customer_id)}),
            ("/admin/customers/action/", {"action": "delete", "rowid": str(customer_id)}),
        ):
            refused = client.post(path, base_url=base, data={**data, "url": payload})
            assert refused.status_code == 403
            assert "Location" not in refused.headers
    for location in locations:
        assert_local(location)
    assert set(whatwg_resolve(locations, base + "/")) == {base}


def test_t34_login_next_only_accepts_local_paths(app, login, staff, whatwg_resolve):
    """T34 — login with next= set to each payload: a valid login goes to the dashboard; the
    login page never reflects `next` unescaped. (Also tests/test_auth.py::
    test_unsafe_next_goes_to_the_dashboard, for most of the payloads.)"""
    locations = []
    for payload in PAYLOADS:
        client = app.test_client()
        page = client.get("/login", query_string={"next": payload})
        assert page.status_code == 200
        response = client.post(
            "/login", data={"username": "admin", "password": PASSWORD, "next": payload}
        )
        assert response.headers["Location"] == "/admin/"
        locations.append(response.headers["Location"])
    assert set(whatwg_resolve(locations)) == {"http://localhost"}
    reflected = app.test_client().get(
        "/login", query_string={"next": '"><script>alert(1)</script>'}
    )
    assert "<script>alert(1)" not in text(reflected)
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text(reflected)
