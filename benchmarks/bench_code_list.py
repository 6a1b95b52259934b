"""Select by list: a pasted list of codes to a rendered confirmation page, over HTTP.

    DATABASE_URL=... .venv/bin/python benchmarks/bench_code_list.py [--customers 200000]

Without DATABASE_URL a temporary SQLite file is used. For PostgreSQL it drops and recreates
the database `<name>_list` (e.g. postgresql://postgres@127.0.0.1/ca_bench -> ca_bench_list).
Generates customers, logs in through the Flask test client and POSTs lists of 10,000 and
100,000 codes (about 1 % unknown, some duplicates, mixed case) to
/admin/customers/select-by-list/; prints the time from the POST to the rendered confirmation
page (median and p90). Not run by the tests.
"""

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from admin_app.extensions import db  # noqa: E402
from admin_app.services.demo import _seed_reasons  # noqa: E402
from benchmarks.common import (  # noqa: E402
    add_staff,
    database_url,
    fresh_app,
    insert_customers,
    is_postgres,
    peak_rss_mb,
    sqlalchemy_url,
    summary,
    timed,
)


def pasted_list(size: int, customers: int, rng: random.Random) -> str:
    """`size` codes as copied from a spreadsheet column (CRLF), mixed case, ~1 % unknown and
    ~1 % repeated."""
    codes = [f"C{n:07d}" for n in rng.sample(range(1, customers + 1), size)]
    for index in range(0, size, 100):
        codes[index] = f"X{index:07d}"  # unknown
    for index in range(50, size, 100):
        codes[index] = codes[index - 1].lower()  # a duplicate, other case
    return "\r\n".join(codes)


def own_database(url: str) -> str:
    """A PostgreSQL database of its own (`<name>_list`), so that `make bench` does not drop
    the data bench_http.py generated (and may --reuse)."""
    if not is_postgres(url):
        return url
    parsed = sa.engine.make_url(sqlalchemy_url(url))
    return parsed.set(database=f"{parsed.database}_list").render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    url = own_database(database_url())
    app = fresh_app(url, force=args.force, WTF_CSRF_ENABLED=False)
    with app.app_context():
        insert_customers(args.customers)
        _seed_reasons(db.session)
        db.session.commit()
        add_staff()
        db.session.remove()
    client = app.test_client()
    response = client.post("/login", data={"username": "bench", "password": "benchmark-password"})
    assert response.status_code == 302, response.status_code
    rng = random.Random(7)
    print(f"{url.split('@')[-1]}: {args.customers:,} customers")
    for size in (int(s) for s in args.sizes.split(",")):
        codes = pasted_list(size, args.customers, rng)
        times: list[float] = []
        for _ in range(args.runs):
            with timed(times):
                page = client.post(
                    "/admin/customers/select-by-list/", data={"codes": codes, "action": "freeze"}
                )
            body = page.get_data(as_text=True)
            assert page.status_code == 200 and 'id="confirm-form"' in body, page.status_code
        print(f"paste {size:>7,} codes -> confirmation page: {summary(times)}")
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
