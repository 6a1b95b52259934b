"""The customer search: what a term in the grid's search box matches.

Case-insensitive prefix of code, name or email, answered from expression indexes
(migration 0003) by a range scan: lower(col) >= term AND lower(col) < term-with-last-char+1.
A term starting with '*' is a "contains" search (a full scan: slower, but sometimes needed).
"""

from functools import lru_cache

from sqlalchemy import ColumnElement, String, func, literal, or_
from sqlalchemy.sql.expression import collate

from admin_app.models import Customer
from admin_app.services.input_rules import escape_like

SEARCH_COLUMNS = (Customer.code, Customer.name, Customer.email)
MAX_TERM_LENGTH = 100


def _lowered(column, dialect: str):
    lowered = func.lower(column)
    # PostgreSQL: compare in the "C" collation, as the index does, so the range is a prefix.
    return collate(lowered, "C") if dialect == "postgresql" else lowered


def code_is(code: str, *, dialect: str) -> ColumnElement[bool]:
    """Customers whose code is `code` in any letter case, answered from ix_customers_search_code."""
    return _lowered(Customer.code, dialect) == literal(code.strip().lower(), String)


def condition(search: str | None, *, dialect: str) -> ColumnElement[bool] | None:
    """The WHERE condition for `search`, or None for an empty search."""
    return _condition((search or "").strip()[:MAX_TERM_LENGTH].lower(), dialect)


@lru_cache(maxsize=256)
def _condition(term: str, dialect: str) -> ColumnElement[bool] | None:
    # Kept per term: a grid request asks for it three times (page, status counts, "is the grid
    # narrowed?") and the expression, immutable, serves any number of statements.
    if term.startswith("*"):
        term = term.lstrip("*").strip()
        if not term:
            return None
        pattern = f"%{escape_like(term)}%"
        return or_(*(func.lower(column).like(pattern, escape="\\") for column in SEARCH_COLUMNS))
    if not term:
        return None
    upper_bound = term[:-1] + chr(ord(term[-1]) + 1)
    return or_(
        *(
            (_lowered(column, dialect) >= literal(term, String))
            & (_lowered(column, dialect) < literal(upper_bound, String))
            for column in SEARCH_COLUMNS
        )
    )
