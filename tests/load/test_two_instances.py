"""More than one machine: two separate app instances (two gunicorn processes on their own ports,
as two hosts behind one proxy would run them) on the same PostgreSQL database and the same
Redis, configured as README's deployment section says: the same SECRET_KEY and DATABASE_URL,
RATELIMIT_STORAGE_URI on the shared Redis, TRUSTED_PROXIES=1, a LOG_HEAD_MARKER file per host.

One browser (one cookie jar, one client address as the proxy forwards it) talks to either
instance, as a proxy without sticky sessions sends it: a session made on one is valid on the
other, a preview made on one confirms on the other (CSRF token included), a logout on one ends
that session on both, and failed logins on both count against one limit.
"""

import re
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditOperation
from tests.conftest import PASSWORD, make_customers, statuses
from tests.security.servers import Client, Server, app_spec, gunicorn, redis_url_or_skip

pytestmark = pytest.mark.load

SECRET_KEY = "two-instances-test-" + uuid.uuid4().hex  # one key, passed to both instances
LOCKOUT_THRESHOLD = 4  # failed logins per username before it is locked
IP_LIMIT = 7  # login attempts per client IP (LOGIN_RATE_LIMIT)
INPUT_RE = re.compile(r'<input[^>]*\bname="(csrf_token|token)"[^>]*>')
VALUE_RE = re.compile(r'\bvalue="([^"]+)"')


def hidden(body: str, name: str) -> str | None:
    """The value of the page's hidden `csrf_token` or `token` field."""
    for field in INPUT_RE.finditer(body):
        if field.group(1) == name:
            value = VALUE_RE.search(field.group(0))
            return value.group(1) if value else None
    return None


@pytest.fixture
def redis_prefix() -> Iterator[tuple[str, str]]:
    """The shared Redis and a key prefix of this test's own; its keys are deleted after."""
    import redis

    url = redis_url_or_skip()
    prefix = f"ca_two_instances_{uuid.uuid4().hex}"
    yield url, prefix
    connection = redis.Redis.from_url(url)
    for key in connection.scan_iter(match=f"*{prefix}*"):
        connection.delete(key)
    connection.close()


@pytest.fixture
def shared_database(backend, database_url) -> str:
    """Hosts share a database server; a SQLite file belongs to one host."""
    if backend != "postgresql":
        pytest.skip("a database shared by several app hosts is PostgreSQL's")
    return database_url


@pytest.fixture
def instances(
    shared_database, staff, reasons, redis_prefix, tmp_path
) -> Iterator[tuple[Server, Server]]:
    """Two gunicorn instances ("a" and "b") on this test's database, staff and reasons seeded."""
    database_url = shared_database
    redis_url, prefix = redis_prefix
    db.session.remove()  # the seeded rows are committed; leave the database to the servers
    with (
        _instance(database_url, redis_url, prefix, tmp_path / "a") as a,
        _instance(database_url, redis_url, prefix, tmp_path / "b") as b,
    ):
        yield a, b


def _instance(database_url: str, redis_url: str, prefix: str, host_dir):
    host_dir.mkdir()
    spec = app_spec(
        database_url,
        SECRET_KEY=SECRET_KEY,
        WTF_CSRF_ENABLED=True,
        RATELIMIT_STORAGE_URI=redis_url,
        RATELIMIT_KEY_PREFIX=prefix,
        TRUSTED_PROXIES=1,
        LOG_HEAD_MARKER=str(host_dir / "log-head.json"),  # each host keeps its own mark
        LOGIN_LOCKOUT_THRESHOLD=LOCKOUT_THRESHOLD,
        LOGIN_LOCKOUT_DURATION=3600,
        LOGIN_RATE_LIMIT=f"{IP_LIMIT} per hour",
    )
    return gunicorn(spec, host_dir, workers=1)


def browser(server: Server, ip: str) -> Client:
    """A browser whose requests reach the app through the proxy as coming from `ip`."""
    return Client(
        server, headers={"X-Forwarded-For": ip, "User-Agent": "Mozilla/5.0 (two-instances test)"}
    )


def on(server: Server, client: Client) -> Client:
    """The same browser (the very same cookie jar) with its next requests sent to `server`."""
    return replace(client, server=server)


def login(client: Client, username: str, password: str = PASSWORD):
    csrf = hidden(client.get("/login").body, "csrf_token")
    return client.post("/login", {"username": username, "password": password, "csrf_token": csrf})


def test_a_session_made_on_one_instance_is_valid_on_the_other_and_ends_on_both(instances):
    a, b = instances
    user = browser(a, "198.51.100.10")
    assert login(user, "admin").status == 302
    stolen_copy = dict(user.cookies)  # another tab, or an attacker who copied the cookie

    grid = on(b, user).get("/admin/customers/")
    assert grid.status == 200, "the session made on instance a is refused by instance b"
    csrf_from_b = hidden(grid.body, "csrf_token")

    # Log out on b with b's CSRF token, from a: a's CSRF check accepts a token b issued.
    logged_out = on(a, user).post("/logout", {"csrf_token": csrf_from_b})
    assert logged_out.status == 302 and logged_out.header("Location").endswith("/login")
    for server in (a, b):
        replay = browser(server, "198.51.100.10")
        replay.cookies.update(stolen_copy)
        response = replay.get("/admin/customers/")
        assert response.status == 302, f"the logged-out session still works on {server.base}"
        assert "/login" in response.header("Location")


def test_a_preview_made_on_one_instance_confirms_on_the_other(instances):
    a, b = instances
    ids = make_customers(3)
    db.session.remove()
    user = browser(b, "198.51.100.20")
    assert login(user, "admin").status == 302
    csrf = hidden(user.get("/admin/customers/").body, "csrf_token")
    preview = user.post(
        "/admin/customers/action/",
        {
            "action": "deactivate",
            "rowid": [str(i) for i in ids],
            "url": "/admin/customers/",
            "csrf_token": csrf,
        },
    )
    assert preview.status == 200
    token = hidden(preview.body, "token")
    assert token, "no confirmation page on instance b"

    done = on(a, user).post(
        "/admin/customers/confirm/",
        {
            "token": token,
            "reason": "customer_request",
            "memo": "",
            "url": "/admin/customers/",
            "csrf_token": hidden(preview.body, "csrf_token"),
        },
    )
    assert done.status == 303, f"instance a did not confirm b's preview: HTTP {done.status}"
    assert statuses(ids) == {i: "deactivated" for i in ids}
    assert "Deactivated 3 customers" in on(b, user).get("/admin/customers/").body  # the flash, on b

    # Used once on a, the same confirmation is refused on b: nothing is applied twice.
    again = on(b, user).post(
        "/admin/customers/confirm/",
        {
            "token": token,
            "reason": "customer_request",
            "memo": "",
            "url": "/admin/customers/",
            "csrf_token": hidden(preview.body, "csrf_token"),
        },
    )
    assert again.status == 409 and "already used" in again.body
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditOperation)
            .where(AuditOperation.action == "deactivate")
        )
        == 1
    )


def test_failed_logins_on_both_instances_count_against_one_limit(instances):
    a, b = instances
    # One username, each attempt from a new address, alternating instances: the lockout.
    replies = [
        login(browser((a, b)[n % 2], f"203.0.113.{n + 1}"), "clerk", "wrong-password")
        for n in range(LOCKOUT_THRESHOLD)
    ]
    assert [reply.status for reply in replies] == [401] * LOCKOUT_THRESHOLD
    for n, server in enumerate((a, b)):
        refused = login(browser(server, f"203.0.113.{100 + n}"), "clerk", PASSWORD)
        assert refused.status == 429, (
            f"{server.base} let the right password in after {LOCKOUT_THRESHOLD} failed "
            "logins spread over both instances: each counts its own"
        )
        assert "Too many attempts, try again later." in refused.body

    # One client address, a new username each time, alternating instances: the IP limit.
    replies = [
        login(browser((a, b)[n % 2], "192.0.2.7"), f"nobody{n}", "wrong-password")
        for n in range(IP_LIMIT)
    ]
    assert [reply.status for reply in replies] == [401] * IP_LIMIT
    for server in (a, b):
        refused = login(browser(server, "192.0.2.7"), "admin", PASSWORD)
        assert refused.status == 429, (
            f"{server.base} let a client in after {IP_LIMIT} attempts spread over both "
            "instances: each counts its own"
        )
        assert "Too many attempts, try again later." in refused.body
