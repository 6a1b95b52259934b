"""G. SQL-injection-like filter, search, sort and paging values (SECURITY.md T40).

The rowid `1); DROP TABLE customer;--` is in tests/test_bulk_flow.py::test_bad_rowids_get_400_
and_change_nothing; hostile grid parameters of the customer list alone are in
test_bulk_flow.py::test_hostile_grid_parameters_never_500.
"""

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from tests.conftest import make_customers
from tests.security.conftest import snapshot, text

HOSTILE = [
    "search=%25'%20OR%201=1%20--", "search=%27%3B%20DROP%20TABLE%20customers%3B--",
    "flt0_0=1%20OR%201=1", "flt0_1=1%20OR%201=1", "flt0_2=1%20OR%201=1",
    "flt0_3=1%27%20OR%20%271%27=%271", "flt0_status_equals=active%27%20OR%201=1--",
    "sort=999", "sort=-1", "sort=1%20DESC%3B", "page=-1", "page=99999999999999999999",
    "page_size=1000000", "page_size=-5", "desc=1%20OR%201=1",
]
LISTS = ["/admin/customers/", "/admin/orders/", "/admin/audit/", "/admin/staff/",
         "/admin/reasons/", "/admin/rules/"]


def _row_count(body: str) -> int:
    """Rows of the list table (the header row aside)."""
    table = re.search(r'<table class="[^"]*model-list">.*?</thead>(.*?)</table>', body, re.S)
    return len(re.findall(r"<tr\b", table.group(1))) if table else 0


def _schema() -> list:
    db.session.rollback()
    inspector = sa.inspect(db.engine)
    return sorted((table, tuple(column["name"] for column in inspector.get_columns(table)))
                  for table in inspector.get_table_names())


def test_t40_hostile_list_parameters_never_500_nor_widen_a_query(client, login):
    """T40 — search, integer/date/text filters, sort, page and page_size with SQL-like
    values on every list view: 200 (or 400), never 500; never more rows than a page;
    page_size is clamped to page_size_options; nothing and no schema changed."""
    make_customers(25)
    login("admin")
    schema, before = _schema(), snapshot()
    for path in LISTS:
        normal = _row_count(text(client.get(path)))
        assert normal <= 20
        for query in HOSTILE:
            response = client.get(f"{path}?{query}")
            assert response.status_code in (200, 400), (path, query)
            assert _row_count(text(response)) <= max(normal, 20), (path, query)
    assert _row_count(text(client.get("/admin/customers/?page_size=1000000"))) == 20
    assert snapshot() == before
    assert _schema() == schema


@pytest.mark.parametrize("pattern", [r"\btext\(\s*f[\"']", r"exec_driver_sql\(\s*f[\"']",
                                     r"\btext\([^)]*%\s", r"\btext\([^)]*\.format\("])
def test_t40_no_sql_is_built_from_strings(pattern):
    """T40 / ASVS 5.3.4 — the app never builds SQL text with f-strings, % or .format()."""
    package = Path(__file__).resolve().parents[2] / "admin_app"
    offenders = [f"{path.relative_to(package)}:{number}"
                 for path in package.rglob("*.py")
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if re.search(pattern, line)]
    assert offenders == []
