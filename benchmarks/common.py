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


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tempfile.mkdtemp(prefix='ca-bench-')}/bench.db"


def fresh_app(url: str, **overrides):
    """An app on `url` with an empty, migrated schema (PostgreSQL: the database is recreated)."""
    from flask_migrate import upgrade

    if url.startswith("postgres"):
        engine_url = sa.engine.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
        admin = sa.create_engine(engine_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{engine_url.database}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{engine_url.database}"'))
        admin.dispose()
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, **overrides)
    with app.app_context():
        upgrade(directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    return app


def insert_customers(count: int, *, seed: int = 1, batch: int = 5000) -> None:
    """`count` customers: 80 % active, 10 % frozen, 10 % deactivated, three segments."""
    rng = random.Random(seed)
    statuses = ["active"] * 8 + ["frozen", "deactivated"]
    segments = ["retail"] * 6 + ["wholesale"] * 3 + ["distributor"]
    for start in range(0, count, batch):
        rows = [{
            "code": f"C{n:07d}", "name": f"Customer {rng.randint(0, 10**9):09d} Trading",
            "email": f"c{n}@example.com", "segment": rng.choice(segments),
            "credit_limit": 10000, "balance": rng.randint(0, 12000),
            "status": rng.choice(statuses), "version": 1,
        } for n in range(start + 1, min(count, start + batch) + 1)]
        db.session.execute(sa.insert(Customer), rows)
    db.session.commit()


def add_staff(username="bench", role="admin") -> StaffUser:
    from werkzeug.security import generate_password_hash

    user = StaffUser(username=username, role=role, is_active=True,
                     password_hash=generate_password_hash("benchmark-password"))
    db.session.add(user)
    db.session.commit()
    return user


@contextmanager
def timed(results: list):
    start = time.perf_counter()
    yield
    results.append(time.perf_counter() - start)


def summary(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
    return f"median {statistics.median(ms):8.1f} ms  p90 {p90:8.1f} ms  (n={len(ms)})"


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
