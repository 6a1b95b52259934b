import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import Customer
from admin_app.services import customer_search
from tests.conftest import make_customers


@pytest.fixture
def named(app):
    make_customers(1, name="Golden Harbor Trading")
    make_customers(1, name="golden lotus foods", start=2)
    make_customers(1, name="Pacific Golden Supply", start=3)
    make_customers(1, name="100% Cotton_Mills", start=4)


def matching(search, backend):
    condition = customer_search.condition(search, dialect=backend)
    query = sa.select(Customer.name).order_by(Customer.name)
    if condition is not None:
        query = query.where(condition)
    return db.session.execute(query).scalars().all()


@pytest.mark.parametrize(
    "search, expected",
    [
        ("golden", ["Golden Harbor Trading", "golden lotus foods"]),
        ("GOLDEN HAR", ["Golden Harbor Trading"]),
        ("t00003", ["Pacific Golden Supply"]),
        (
            "t0000",
            [
                "100% Cotton_Mills",
                "Golden Harbor Trading",
                "Pacific Golden Supply",
                "golden lotus foods",
            ],
        ),
        ("t3@", ["Pacific Golden Supply"]),
        ("*golden", ["Golden Harbor Trading", "Pacific Golden Supply", "golden lotus foods"]),
        ("100%", ["100% Cotton_Mills"]),
        ("*n_m", ["100% Cotton_Mills"]),
        ("*%", ["100% Cotton_Mills"]),
        ("zzz", []),
    ],
)
def test_prefix_search_on_code_name_or_email(named, backend, search, expected):
    assert sorted(matching(search, backend)) == sorted(expected)


def test_empty_search_matches_everything(named, backend):
    assert len(matching("   ", backend)) == 4
    assert len(matching("*", backend)) == 4


def test_grid_search_box_uses_it(client, login, named):
    login("clerk")
    page = client.get("/admin/customers/?search=golden").get_data(as_text=True)
    assert page.count('name="rowid"') == 0  # clerks have no bulk actions
    assert "Golden Harbor Trading" in page and "golden lotus foods" in page
    assert "Pacific Golden Supply" not in page


def test_search_is_answered_from_an_index(app, backend):
    make_customers(50)
    condition = customer_search.condition("golden", dialect=backend)
    query = sa.select(Customer.id).where(condition)
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN "
    if backend == "postgresql":
        db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan = " ".join(str(row) for row in db.session.execute(sa.text(prefix + str(compiled))))
    assert "ix_customers_search_name" in plan
