"""Shared set-up for the benchmarks: a fresh migrated database with N customers."""

import os
import random
import statistics
import tempfile
import time
from contextlib import contextmanager

import sqlalchemy as sa

from admin_app import create_app
from admin_app.extensions import db
from admin_app.models import Customer, StaffUser
from config import _normalise_database_url

# fresh_app() drops and recreates a PostgreSQL database: only names that say they are
# disposable are accepted (pass --force to a script to override).
DISPOSABLE_MARKERS = ("bench", "ca_perf")


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tempfile.mkdtemp(prefix='ca-bench-')}/bench.db"


def sqlalchemy_url(url: str) -> str:
    """`postgresql://...` as the psycopg 3 URL the app uses; anything else unchanged."""
    return _normalise_database_url(url)


def is_postgres(url: str) -> bool:
    return url.startswith("postgres")


def ensure_disposable(url: str, *, force: bool = False) -> None:
    """Refuse to drop a database (or SQLite file) whose name does not say it is disposable."""
    if force:
        return
    name = sa.engine.make_url(sqlalchemy_url(url)).database or ""
    if name and not any(marker in name for marker in DISPOSABLE_MARKERS):
        raise SystemExit(
            f"Refusing to drop the database {name!r}: use a name containing "
            f"{' or '.join(DISPOSABLE_MARKERS)} (e.g. ca_perf_bench), or --force."
        )


def recreate_database(url: str, *, force: bool = False) -> None:
    """Drop and create the PostgreSQL database of `url`; delete the SQLite file."""
    ensure_disposable(url, force=force)
    if is_postgres(url):
        engine_url = sa.engine.make_url(sqlalchemy_url(url))
        admin = sa.create_engine(engine_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{engine_url.database}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{engine_url.database}"'))
        admin.dispose()
        return
    path = sa.engine.make_url(url).database
    if path:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)


def migrated_app(url: str, **overrides):
    """An app on `url` with the schema migrated to the newest revision."""
    from flask_migrate import upgrade

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=sqlalchemy_url(url), **overrides)
    with app.app_context():
        upgrade(directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    return app


def fresh_app(url: str, *, force: bool = False, **overrides):
    """An app on `url` with an empty, migrated schema (the database is recreated)."""
    recreate_database(url, force=force)
    return migrated_app(url, **overrides)


def insert_customers(count: int, *, seed: int = 1, batch: int = 5000) -> None:
    """`count` customers: 80 % active, 10 % frozen, 10 % deactivated, three segments."""
    rng = random.Random(seed)
    statuses = ["active"] * 8 + ["frozen", "deactivated"]
    segments = ["retail"] * 6 + ["wholesale"] * 3 + ["distributor"]
    for start in range(0, count, batch):
        rows = [
            {
                "code": f"C{n:07d}",
                "name": f"Customer {rng.randint(0, 10**9):09d} Trading",
                "email": f"c{n}@example.com",
                "segment": rng.choice(segments),
                "credit_limit": 10000,
                "balance": rng.randint(0, 12000),
                "status": rng.choice(statuses),
                "version": 1,
            }
            for n in range(start + 1, min(count, start + batch) + 1)
        ]
        db.session.execute(sa.insert(Customer), rows)
    db.session.commit()


def add_staff(username="bench", role="admin") -> StaffUser:
    from werkzeug.security import generate_password_hash

    user = StaffUser(
        username=username,
        role=role,
        is_active=True,
        password_hash=generate_password_hash("benchmark-password"),
    )
    db.session.add(user)
    db.session.commit()
    return user


@contextmanager
def timed(results: list):
    start = time.perf_counter()
    yield
    results.append(time.perf_counter() - start)


def median(values: list[float]) -> float:
    return statistics.median(values)


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]


def summary(times: list[float]) -> str:
    ms = [t * 1000 for t in times]
    return f"median {median(ms):8.1f} ms  p90 {p90(ms):8.1f} ms  (n={len(ms)})"


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
