"""Error pages for 400/403/404/405/413/429/500: the app's own page (its navbar and
stylesheet), a clear message, no traceback, SQL or driver text; a 500 carries a reference
that is in the log (ASVS 7.4.1 / 7.4.3, v5 16.5.1 / 16.5.4)."""

import logging
import re

import pytest

from tests.conftest import make_customers, start_action
from tests.security.conftest import text

LEAKS = (
    "Traceback",
    'File "',
    "sqlalchemy",
    "SELECT ",
    "[SQL:",
    "psycopg",
    "sqlite3",
    "Werkzeug Debugger",
)


def assert_error_page(response, status: int, title: str, message: str) -> str:
    body = text(response)
    assert response.status_code == status
    assert f"{status} · {title}" in body
    assert message in body
    assert 'class="navbar-brand"' in body and "bootstrap.min.css" in body  # the app's look
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Content-Security-Policy" in response.headers
    for leak in LEAKS:
        assert leak not in body, leak
    return body


def test_400(client, login, reasons):
    make_customers(1)
    login("admin")
    response, _ = start_action(client, "deactivate", ["abc"])
    assert_error_page(response, 400, "Bad request", "Invalid customer id")


def test_403(client, login):
    login("clerk")
    assert_error_page(
        client.get("/admin/staff/"), 403, "Not allowed", "You are not allowed to do this."
    )


@pytest.mark.parametrize("path", ["/nope", "/admin/nope/", "/admin/customers/details/x/"])
def test_404(client, login, path):
    login("admin")
    assert_error_page(
        client.get(path), 404, "Not found", "There is no page at this address, or what it"
    )


def test_405(client):
    response = client.get("/logout")
    body = assert_error_page(
        response, 405, "Method not allowed", "This address only takes a form sent from its page"
    )
    assert 'id="restart-link"' not in body
    assert response.headers["Allow"]


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("/admin/api-tokens/create/", "/admin/api-tokens/"),
        ("/admin/approvals/decide/", "/admin/approvals/"),
        ("/admin/customers/confirm/", "/admin/customers/"),
    ],
)
def test_a_form_address_opened_by_itself_leads_back_to_its_page(client, login, path, page):
    """A form shown again with its error leaves its POST address in the address bar; opened
    later it is still a 405 (T04), with a way back to the form's page."""
    login("admin")
    body = assert_error_page(client.get(path), 405, "Method not allowed", "cannot be opened")
    assert re.search(rf'href="{page}" id="restart-link"', body)


def test_413(client):
    response = client.post("/login", data={"username": "x" * (3 * 1024 * 1024)})
    assert_error_page(response, 413, "Request too large", "Request too large.")


@pytest.mark.config(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute")
def test_429(client, staff):
    for _ in range(2):
        assert (
            client.post(
                "/login", data={"username": "admin", "password": "wrong-password-1"}
            ).status_code
            == 401
        )
    response = client.post("/login", data={"username": "admin", "password": "wrong-password-1"})
    assert_error_page(response, 429, "Too many requests", "Too many attempts, try again later.")
    assert int(response.headers["Retry-After"]) > 0


def test_500_has_a_reference_that_is_in_the_log(client, login, monkeypatch, caplog):
    from admin_app.services import dashboard

    def broken(*_args, **_kwargs):
        raise RuntimeError("[SQL: SELECT password_hash FROM staff_users] sqlite3 said no")

    login("admin")
    monkeypatch.setattr(dashboard, "summary", broken)
    body = assert_error_page(
        client.get("/admin/"),
        500,
        "Something went wrong",
        "The operation failed; nothing was changed.",
    )
    reference = re.search(r'id="error-reference">([0-9a-f]{8})<', body).group(1)
    [record] = [
        r
        for r in caplog.records
        if r.levelno == logging.ERROR and f"reference {reference}" in r.getMessage()
    ]
    assert record.exc_info[0] is RuntimeError
