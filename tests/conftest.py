"""Fixtures: an app per test on a migrated database (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set), clients, staff users of every role, and a login helper.

The schema always comes from the Alembic migrations (so the audit triggers exist), built once
per session; each test then gets a fresh copy (SQLite) or emptied tables (PostgreSQL).
"""

import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from admin_app import create_app
from admin_app.extensions import db
from admin_app.models import Customer, StaffUser
from admin_app.models.types import utcnow
from config import TestingConfig

PASSWORD = "correct-horse-battery"
ROLES = ("admin", "manager", "clerk", "auditor")
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
PG_SKIP = pytest.mark.skipif(
    not PG_URL, reason="TEST_DATABASE_URL is not set: PostgreSQL run skipped"
)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=PG_SKIP)]


def _psycopg_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
        db.engine.dispose()


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, as in production: no `g` (cached user, CSRF
    token) or database session leaks from the test's context into a request."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def postgres_url(worker_id) -> str:
    """A database of this test worker's own, migrated once."""
    base = sa.engine.make_url(_psycopg_url(PG_URL))
    name = f"{base.database}_{worker_id}"
    admin_engine = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin_engine.dispose()
    url = base.set(database=name).render_as_string(hide_password=False)
    _migrate(url)
    return url


@pytest.fixture(scope="session")
def worker_id(request) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


def _empty_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tables = [
            name
            for (name,) in conn.execute(
                sa.text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ]
        # replica mode skips the append-only triggers: test cleanup only.
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        conn.execute(
            sa.text(
                "INSERT INTO audit_chain_head (id, last_hash, operation_count) "
                "VALUES (1, :genesis, 0)"
            ),
            {"genesis": "0" * 64},
        )
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture
def backend(database_url) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def app(request, database_url):
    overrides = {"SQLALCHEMY_DATABASE_URI": database_url}
    if request.node.get_closest_marker("csrf"):
        overrides["WTF_CSRF_ENABLED"] = True
    marker = request.node.get_closest_marker("config")
    if marker:
        overrides.update(marker.kwargs)
    app = create_app("testing", **overrides)
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def password_hash() -> str:
    return generate_password_hash(PASSWORD, method=TestingConfig.PASSWORD_HASH_METHOD)


@pytest.fixture
def staff(app, password_hash) -> dict[str, StaffUser]:
    """One active staff user per role, username = role, password = PASSWORD."""
    users = {}
    for role in ROLES:
        user = StaffUser(username=role, role=role, is_active=True, password_hash=password_hash)
        db.session.add(user)
        users[role] = user
    db.session.commit()
    return users


@pytest.fixture
def login(client, staff):
    """login("clerk") logs the client in as that role's user; returns the response."""

    def do_login(username: str, password: str = PASSWORD, **extra):
        return client.post("/login", data={"username": username, "password": password, **extra})

    return do_login


def make_customers(count: int, *, status: str = "active", start: int = 1, **fields) -> list[int]:
    """Insert `count` customers with codes T00001...; returns their ids in code order."""
    rows = [
        {
            "code": f"T{number:05d}",
            "name": fields.get("name", f"Test Customer {number}"),
            "email": f"t{number}@example.com",
            "segment": fields.get("segment", "retail"),
            "credit_limit": fields.get("credit_limit", Decimal("1000.00")),
            "balance": fields.get("balance", Decimal("0.00")),
            "status": status,
        }
        for number in range(start, start + count)
    ]
    db.session.execute(sa.insert(Customer), rows)
    db.session.commit()
    return list(
        db.session.execute(
            sa.select(Customer.id)
            .where(Customer.code.in_([r["code"] for r in rows]))
            .order_by(Customer.code)
        ).scalars()
    )


def statuses(ids) -> dict[int, str]:
    db.session.rollback()
    return dict(
        db.session.execute(
            sa.select(Customer.id, Customer.status).where(Customer.id.in_(list(ids)))
        ).all()
    )


def pytest_configure(config):
    from tests import ci_skips

    if not config.pluginmanager.has_plugin("ci_skips"):
        config.pluginmanager.register(ci_skips, "ci_skips")
    config.addinivalue_line("markers", "csrf: run with CSRF protection on")
    config.addinivalue_line("markers", "config(**kwargs): app config overrides")
    config.addinivalue_line("markers", "load: drives gunicorn with concurrent HTTP clients")


def pytest_terminal_summary(terminalreporter):
    """Print what the load tests measured (requests per second), also under xdist."""
    lines = [
        value
        for outcome in ("passed", "failed")
        for report in terminalreporter.getreports(outcome)
        for name, value in report.user_properties
        if name == "load"
    ]
    if lines:
        terminalreporter.section("load")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture
def reasons(app):
    """The default reasons (as `seed-demo` creates them)."""
    from admin_app.services.demo import _seed_reasons

    _seed_reasons(db.session)
    db.session.commit()


TOKEN_RE = re.compile(r'name="token" type="hidden" value="([^"]+)"')


def start_action(client, action: str, rowids, url="/admin/customers/", query="", **extra):
    """POST the grid's action form; returns (response, confirmation token or None)."""
    data = {"action": action, "rowid": [str(r) for r in rowids], "url": url, **extra}
    response = client.post(f"/admin/customers/action/{query}", data=data)
    match = TOKEN_RE.search(response.get_data(as_text=True))
    return response, (match.group(1) if match else None)


def confirm_action(
    client, token, reason="customer_request", memo="", url="/admin/customers/", **extra
):
    return client.post(
        "/admin/customers/confirm/",
        data={"token": token, "reason": reason, "memo": memo, "url": url, **extra},
    )


@pytest.fixture
def review_rules(reasons):
    """The default review rules (as `seed-demo` creates them); returns {name: id}."""
    from admin_app.models import Reason, ReviewRule
    from admin_app.services.demo import _seed_rules

    _seed_rules(db.session, dict(db.session.execute(sa.select(Reason.code, Reason.id)).all()))
    db.session.commit()
    return dict(db.session.execute(sa.select(ReviewRule.name, ReviewRule.id)).all())


def add_customer(code: str, **fields) -> int:
    """Insert one customer with exactly these fields (defaults: active retail, created 2000
    days ago, no orders, balance 0 / limit 1000); returns its id. Dates count from the app's
    clock (pinned by the `clock` fixture)."""
    now = utcnow()
    row = {
        "code": code,
        "name": fields.pop("name", f"Customer {code}"),
        "segment": "retail",
        "credit_limit": Decimal("1000.00"),
        "balance": Decimal("0.00"),
        "status": "active",
        "created_at": now - timedelta(days=2000),
        "updated_at": now,
        **fields,
    }
    db.session.execute(sa.insert(Customer), [row])
    db.session.commit()
    return db.session.execute(sa.select(Customer.id).where(Customer.code == code)).scalar_one()


# A Wednesday, mid-day UTC: far from midnight and from the Monday a week starts on.
FIXED_NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class Clock:
    """The app's pinned clock: `now` is what admin_app.models.types.utcnow() returns."""

    def __init__(self, now: datetime):
        self.now = now

    def today(self):
        return self.now.date()

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def app_clock(monkeypatch) -> Clock:
    """Pin the app's clock at FIXED_NOW, so a test never depends on today's date or races
    UTC midnight. Every module and column default calls the one admin_app.models.types.utcnow,
    which reads `datetime.now` from its own module: replacing that name pins them all (the
    live server's thread too). `app_clock.advance(days=31)` moves it."""
    from admin_app.models import types

    pinned = Clock(FIXED_NOW)

    class PinnedDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return pinned.now.astimezone(tz) if tz else pinned.now.replace(tzinfo=None)

    monkeypatch.setattr(types, "datetime", PinnedDatetime)
    return pinned
