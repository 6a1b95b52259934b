"""Query plans of what a page really runs: the SQL of one request, captured, then EXPLAINed.

    DATABASE_URL=... .venv/bin/python benchmarks/plans.py "/admin/customers/?status=active" ...

PostgreSQL: EXPLAIN (ANALYZE, BUFFERS) of every SELECT the request ran (the session's user
lookup excepted). SQLite: EXPLAIN QUERY PLAN. The request runs in-process through Flask's test
client as the `admin` user, on the database as it is.
"""

import re
import sys
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from admin_app.extensions import db  # noqa: E402

SKIP = re.compile(r"FROM staff_users|^SELECT 1$|FROM reasons", re.S)


@contextmanager
def captured_statements(engine):
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not executemany:
            statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def explain(statement: str, parameters, *, analyze: bool = True) -> str:
    engine = db.engine
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            if engine.dialect.name == "postgresql":
                options = "ANALYZE, BUFFERS" if analyze else "COSTS OFF"
                rows = conn.exec_driver_sql(f"EXPLAIN ({options}) {statement}", parameters)
                return "\n".join(row[0] for row in rows)
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(f"{'  ' * (row[1] and 1)}{row[3]}" for row in rows)
        finally:
            transaction.rollback()


def plans_for(app, paths: list[str], username: str = "admin", password: str = "") -> str:
    """The SELECTs each GET path runs, with their plans, as text."""
    out = []
    client = app.test_client()
    with app.app_context():
        response = client.post("/login", data={"username": username, "password": password})
        if response.status_code != 302:
            raise SystemExit(f"login as {username} failed ({response.status_code})")
        for path in paths:
            with captured_statements(db.engine) as statements:
                response = client.get(path)
            out.append(f"=== GET {path} -> {response.status_code}, {len(statements)} statements")
            for statement, parameters in statements:
                if not statement.lstrip().upper().startswith("SELECT") or SKIP.search(statement):
                    continue
                out.append("--- " + " ".join(statement.split())[:600])
                out.append(f"    params: {str(parameters)[:200]}")
                out.append(explain(statement, parameters))
        db.session.remove()
    return "\n".join(out)


def main() -> None:
    import argparse

    from benchmarks.common import database_url, migrated_app
    from benchmarks.generate import DEFAULT_PASSWORD

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--password", default=DEFAULT_PASSWORD)
    args = parser.parse_args()
    app = migrated_app(database_url())
    print(plans_for(app, args.paths, password=args.password))


if __name__ == "__main__":
    main()
