"""G. SQL-injection-like filter, search, sort and paging values (SECURITY.md T40).

The rowid `1); DROP TABLE customer;--` is in tests/test_bulk_flow.py::test_bad_rowids_get_400_
and_change_nothing; hostile grid parameters of the customer list alone are in
test_bulk_flow.py::test_hostile_grid_parameters_never_500.
"""

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import Order, Reason, ReviewRule, StaffUser
from tests.audit_support import build_log
from tests.conftest import make_customers
from tests.security.conftest import snapshot, text

HOSTILE = [
    "search=%25'%20OR%201=1%20--",
    "search=%27%3B%20DROP%20TABLE%20customers%3B--",
    "flt0_0=1%20OR%201=1",
    "flt0_1=1%20OR%201=1",
    "flt0_2=1%20OR%201=1",
    "flt0_3=1%27%20OR%20%271%27=%271",
    "flt0_status_equals=active%27%20OR%201=1--",
    "sort=999",
    "sort=-1",
    "sort=1%20DESC%3B",
    "page=-1",
    "page=99999999999999999999",
    "page_size=1000000",
    "page_size=-5",
    "desc=1%20OR%201=1",
]
LISTS = [
    "/admin/customers/",
    "/admin/orders/",
    "/admin/audit/",
    "/admin/staff/",
    "/admin/reasons/",
    "/admin/rules/",
]
SEARCHABLE = {"/admin/customers/", "/admin/orders/", "/admin/audit/", "/admin/staff/"}


def _row_count(body: str) -> int:
    """Rows of the list table (the header row and the "no items" row aside)."""
    table = re.search(r'<table class="[^"]*model-list"[^>]*>.*?</thead>(.*?)</table>', body, re.S)
    if table is None or "There are no items in the table." in table.group(1):
        return 0
    return len(re.findall(r"<tr\b", table.group(1)))


def _schema() -> list:
    db.session.rollback()
    inspector = sa.inspect(db.engine)
    return sorted(
        (table, tuple(column["name"] for column in inspector.get_columns(table)))
        for table in inspector.get_table_names()
    )


ROWS = 25  # more than one page (20) on every list


def _seed_every_list(staff) -> None:
    """ROWS customers, orders, operations, staff users, reasons and review rules."""
    ids = make_customers(ROWS)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.execute(
        sa.insert(Order),
        [
            {
                "number": f"SO{n:08d}",
                "customer_id": ids[n],
                "amount": Decimal("10.00"),
                "ordered_at": when,
                "created_at": when,
            }
            for n in range(ROWS)
        ],
    )
    db.session.execute(
        sa.insert(StaffUser),
        [
            {
                "username": f"user{n:02d}",
                "role": "clerk",
                "is_active": True,
                "password_hash": staff["clerk"].password_hash,
                "session_token": f"token{n:02d}",
            }
            for n in range(ROWS)
        ],
    )
    db.session.execute(
        sa.insert(Reason),
        [
            {
                "code": f"reason_{n:02d}",
                "label": f"Reason {n}",
                "for_deactivate": True,
                "position": n,
            }
            for n in range(ROWS)
        ],
    )
    db.session.execute(
        sa.insert(ReviewRule),
        [{"name": f"Rule {n}", "inactivity_days": 100 + n, "enabled": True} for n in range(ROWS)],
    )
    db.session.commit()
    build_log((0,) * ROWS)


def test_t40_hostile_list_parameters_never_500_nor_widen_a_query(client, login, staff):
    """T40 — search, integer/date/text filters, sort, page and page_size with SQL-like
    values on every list view (each holding more than a page of rows): 200 (or 400), never
    500; never more rows than a page; a hostile search matches nothing (an injected
    `OR 1=1` would match every row); page_size is clamped to page_size_options; nothing and
    no schema changed."""
    _seed_every_list(staff)
    login("admin")
    schema, before = _schema(), snapshot()
    for path in LISTS:
        assert _row_count(text(client.get(path))) == 20, path  # a full first page
        assert _row_count(text(client.get(f"{path}?page=1"))) >= ROWS - 20, path
        for query in HOSTILE:
            response = client.get(f"{path}?{query}")
            assert response.status_code in (200, 400), (path, query)
            rows = _row_count(text(response))
            assert rows <= 20, (path, query, rows)
            if query.startswith("search=") and path in SEARCHABLE:
                assert rows == 0, (path, query, rows)
        assert _row_count(text(client.get(f"{path}?page_size=1000000"))) == 20, path
    assert snapshot() == before
    assert _schema() == schema


@pytest.mark.parametrize(
    "pattern",
    [
        r"\btext\(\s*f[\"']",
        r"exec_driver_sql\(\s*f[\"']",
        r"\btext\([^)]*%\s",
        r"\btext\([^)]*\.format\(",
    ],
)
def test_t40_no_sql_is_built_from_strings(pattern):
    """T40 / ASVS 5.3.4 — the app never builds SQL text with f-strings, % or .format()."""
    package = Path(__file__).resolve().parents[2] / "admin_app"
    offenders = [
        f"{path.relative_to(package)}:{number}"
        for path in package.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(pattern, line)
    ]
    assert offenders == []
