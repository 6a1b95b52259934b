"""Security headers on every response (ASVS 14.4.x / v5 3.4.x), caching, methods, and what a
gunicorn deployment discloses."""

import base64
import hashlib
import re
import socket
from html import unescape

import pytest

from admin_app import create_app
from tests.conftest import make_customers, start_action
from tests.security.conftest import text
from tests.security.servers import Client, app_spec, flask_run, gunicorn


def _directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


# The whole policy, directive by directive; script-src is checked apart (nonce, hashes).
CSP = {
    "default-src": "default-src 'self'",
    "style-src": "style-src 'self' 'unsafe-inline'",
    "img-src": "img-src 'self' data:",
    "font-src": "font-src 'self'",
    "connect-src": "connect-src 'self'",
    "object-src": "object-src 'none'",
    "base-uri": "base-uri 'none'",
    "form-action": "form-action 'self'",
    "frame-ancestors": "frame-ancestors 'none'",
}
SCRIPT_SRC = re.compile(
    r"script-src 'self' 'nonce-[A-Za-z0-9_-]{24}'"
    r"( 'unsafe-hashes'( 'sha256-[A-Za-z0-9+/]{43}=')+)?"
)


def assert_security_headers(response) -> None:
    csp = _directives(response)
    script_src = csp.pop("script-src")
    assert csp == CSP
    assert SCRIPT_SRC.fullmatch(script_src), script_src
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "X-Powered-By" not in response.headers
    assert not re.search(r"\d", response.headers.get("Server", ""))


def test_every_kind_of_response_carries_the_headers(client, login):
    """Pages, redirects, static files, JSON, errors — logged in or not."""
    anonymous = [
        client.get("/login"),
        client.get("/"),
        client.get("/admin/"),
        client.get("/healthz"),
        client.get("/static/app.css"),
        client.get("/admin/static/admin/js/actions.js?v=1.0.0"),
        client.get("/nope"),
        client.get("/logout"),
    ]
    assert [r.status_code for r in anonymous] == [200, 302, 302, 200, 200, 200, 404, 405]
    login("admin")
    for response in anonymous + [
        client.get("/admin/"),
        client.get("/admin/customers/"),
        client.get("/admin/staff/new/"),
    ]:
        assert_security_headers(response)


def test_scripts_carry_this_requests_nonce_and_inline_handlers_are_hashed(client, login, reasons):
    """ASVS 14.4.3: Flask-Admin's <script> tags carry the response's nonce (a new one each
    time); the only inline handlers on the grid are exactly the ones the CSP allows by hash."""
    make_customers(2)
    login("admin")
    first, second = client.get("/admin/customers/"), client.get("/admin/customers/")
    nonces = []
    for response in (first, second):
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]
        scripts = re.findall(r"<script\b[^>]*>", text(response))
        assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts), scripts
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    handlers = {unescape(h) for h in re.findall(r'\son\w+="([^"]*)"', text(first))}
    assert "return modelActions.execute('deactivate');" in handlers
    script_src = _directives(first)["script-src"]
    assert "'unsafe-hashes'" in script_src
    for handler in handlers:
        digest = base64.b64encode(hashlib.sha256(handler.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src, handler


def test_admin_pages_are_not_cached_but_static_files_are(client, login, reasons):
    """ASVS 8.2.1: Cache-Control no-store on the login page, dashboard, grid, confirmation
    page and operation log; static files stay cacheable."""
    ids = make_customers(1)
    login_page = client.get("/login")
    login("admin")
    confirmation, _ = start_action(client, "freeze", ids)
    for response in (
        login_page,
        client.get("/admin/"),
        client.get("/admin/customers/"),
        confirmation,
        client.get("/admin/audit/"),
        client.get("/admin/audit/details/?id=1"),
    ):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "no-store" not in client.get("/static/app.css").headers.get("Cache-Control", "")


def test_hsts_in_production_only(client, database_url):
    """ASVS 14.4.5: Strict-Transport-Security max-age ≥ 1 year in production, not in tests."""
    assert "Strict-Transport-Security" not in client.get("/login").headers
    production = create_app("production", SECRET_KEY="k", SQLALCHEMY_DATABASE_URI=database_url)
    hsts = (
        production.test_client()
        .get("/login", base_url="https://localhost")
        .headers["Strict-Transport-Security"]
    )
    assert int(re.search(r"max-age=(\d+)", hsts)[1]) >= 31_536_000


@pytest.mark.parametrize(
    "method, path",
    [
        ("TRACE", "/"),
        ("TRACE", "/login"),
        ("PUT", "/admin/customers/action/"),
        ("DELETE", "/admin/customers/confirm/"),
    ],
)
def test_unused_methods_are_405(client, login, method, path):
    """ASVS 14.5.1: only the methods in use."""
    login("admin")
    assert client.open(path, method=method).status_code == 405


def _raw_reply_head(port: int, data: bytes) -> str:
    """The status line and headers the server answers to these raw bytes."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
    return received.decode("latin-1").split("\r\n\r\n")[0]


def assert_server_discloses_no_version(server) -> None:
    """No Server or X-Powered-By header names a version: on pages, errors, TRACE (refused),
    and on the server's own answer to a request the app never sees."""
    replies = [
        Client(server).get("/login"),
        Client(server).get("/nope"),
        Client(server).request("TRACE", "/"),
    ]
    assert [reply.status for reply in replies] == [200, 404, 405]
    for reply in replies:
        names = reply.headers.get_all("Server") or []
        assert len(names) <= 1 and not re.search(r"\d", " ".join(names)), names
        assert reply.header("X-Powered-By") is None
        assert reply.header("Content-Security-Policy")
    too_many_headers = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 200 + b"\r\n"
    malformed = _raw_reply_head(server.port, too_many_headers)
    assert re.match(r"HTTP/1\.[01] 4\d\d ", malformed), malformed
    assert not re.search(r"(?im)^(server|x-powered-by):.*\d", malformed), malformed


def test_gunicorn_discloses_no_version(backend, database_url, staff, tmp_path):
    """ASVS 14.3.3: `make serve` (gunicorn) names no version."""
    if backend != "sqlite":
        pytest.skip("one database is enough")
    with gunicorn(app_spec(database_url), tmp_path, workers=1) as server:
        assert_server_discloses_no_version(server)


def test_development_server_discloses_no_version(backend, database_url, tmp_path):
    """ASVS 14.3.3: nor does `make run` (`flask --app wsgi run`, Werkzeug's server, which
    would say "Werkzeug/3.x Python/3.y")."""
    if backend != "sqlite":
        pytest.skip("one database is enough")
    with flask_run(database_url, tmp_path) as server:
        assert Client(server).get("/login").header("Server") == "Werkzeug"
        assert_server_discloses_no_version(server)
