"""Lists of customer codes: parse what a user pasted or uploaded, then find the customers.

Owns the input rules of "select by list" (web page and CLI alike): how pasted text, CSV and
XLSX are read, the limits (codes per list, code length, file size), formula-looking cells, and
the set-based lookup of the codes, case-insensitive as the grid's search (the lower(code)
expression index of migration 0003), with "did you mean" suggestions for codes not found.
Reads only; nothing here writes to the database. Uploaded files are parsed from memory and
never stored.
"""

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import String, Text, any_, literal, select
from sqlalchemy.types import ARRAY

from admin_app.extensions import db
from admin_app.models import Customer
from admin_app.services.customer_search import _lowered
from admin_app.services.errors import InvalidInput, TooLarge
from admin_app.services.input_rules import parse_count
from admin_app.spreadsheet import FORMULA_PREFIXES

MAX_CODES = 100_000
MAX_ROWS = 2 * MAX_CODES  # rows of a CSV/XLSX file, blank ones included
MAX_CODE_LENGTH = 64
MAX_FILE_BYTES = 10 * 1024 * 1024
LOOKUP_CHUNK = 10_000
MAX_UNKNOWN_SHOWN = 50
MAX_SUGGESTIONS = 3
# Header names that say "this column holds customer codes" (when no column is chosen).
CODE_HEADERS = (
    "code",
    "customer code",
    "customer_code",
    "customer",
    "客户编号",
    "客户代码",
    "客戶編號",
    "客戶代碼",
    "编号",
    "編號",
    "代码",
    "代碼",
)

# Newlines, tabs, spaces (also the full-width one), commas and semicolons (ASCII and
# full-width) and the ideographic comma 、 all separate codes.
_SEPARATORS = re.compile(r"[\s,;\uFF0C\u3001\uFF1B]+")
_QUOTES = "\"'“”‘’「」『』`"
_XLSX_MAGIC = b"PK\x03\x04"


@dataclass
class CodeList:
    """The distinct codes of a list, in first-seen order, and how many were listed."""

    codes: list[str]
    listed: int

    @property
    def duplicates(self) -> int:
        return self.listed - len(self.codes)


@dataclass
class Lookup:
    """Which customers a code list names."""

    ids: list[int]
    found: int  # distinct codes that name a customer
    unknown: list[str]  # distinct codes that name none, in list order
    suggestions: dict[str, list[str]] = field(default_factory=dict)  # first unknown codes only


def _clean(value: str) -> str:
    return value.strip().strip(_QUOTES).strip()


def _collect(values: Iterable[str]) -> CodeList:
    """Apply the rules to the raw cell values: blanks dropped, quotes stripped, at most
    MAX_CODES, no code over MAX_CODE_LENGTH, no formula-looking cell; duplicates (compared
    case-insensitively) collapse to the first spelling."""
    distinct: dict[str, str] = {}
    listed = 0
    for raw in values:
        code = _clean(raw)
        if not code:
            continue
        if code.startswith(FORMULA_PREFIXES):
            raise InvalidInput(
                _(
                    "“%(cell)s” looks like a spreadsheet formula, not a customer code. Nothing "
                    "was changed.",
                    cell=code[:40],
                )
            )  # noqa: E501
        if len(code) > MAX_CODE_LENGTH:
            raise InvalidInput(
                _(
                    "“%(code)s…” is longer than %(max)d characters: not a customer code. Nothing "
                    "was changed.",
                    code=code[:20],
                    max=MAX_CODE_LENGTH,
                )
            )  # noqa: E501
        listed += 1
        if listed > MAX_CODES:
            raise TooLarge(
                _(
                    "At most %(max)s codes per list. Nothing was changed.",
                    max=format(MAX_CODES, ","),
                )
            )
        distinct.setdefault(code.lower(), code)
    if not distinct:
        raise InvalidInput(_("The list has no customer codes. Nothing was changed."))
    return CodeList(list(distinct.values()), listed)


def parse_text(text: str) -> CodeList:
    """Codes separated by any mix of newlines, commas, semicolons, spaces and tabs."""
    text = (text or "").lstrip("\ufeff")
    return _collect(_SEPARATORS.split(text))


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in Chinese locales saves CSV as GBK
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise InvalidInput(_("The file is not a CSV or XLSX file. Nothing was changed."))


def _column_index(header: Sequence[object], column: str | None) -> int:
    """The 0-based column: a 1-based number, a header name, or (none chosen) the column
    whose header names customer codes, else the first."""
    names = [str(cell).strip().lower() if cell is not None else "" for cell in header]
    wanted = (column or "").strip()
    number = parse_count(wanted)
    if number:
        index = number - 1
        if index >= max(len(names), 1):
            raise InvalidInput(
                _("The file has no column %(column)s. Nothing was changed.", column=wanted)
            )
        return index
    if wanted:
        if wanted.lower() in names:
            return names.index(wanted.lower())
        raise InvalidInput(
            _(
                "The file has no column named “%(column)s” (its columns: %(names)s). Nothing was "
                "changed.",
                column=wanted[:40],
                names=", ".join(n for n in names if n)[:200] or "—",
            )
        )  # noqa: E501
    for name in CODE_HEADERS:
        if name in names:
            return names.index(name)
    return 0


def _column_values(rows: Iterable[Sequence[object]], column: str | None) -> Iterable[str]:
    """The chosen column's values below the header row (the first row)."""
    rows = iter(rows)
    header = next(rows, None)
    if header is None:
        return
    index = _column_index(header, column)
    for count, row in enumerate(rows, 1):
        if count > MAX_ROWS:  # mostly blank rows (a bloated sheet): refuse, do not wade on
            raise TooLarge(
                _(
                    "At most %(max)s codes per list. Nothing was changed.",
                    max=format(MAX_CODES, ","),
                )
            )
        if index < len(row) and row[index] is not None:
            yield _cell_text(row[index])


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a numeric code typed into a spreadsheet: 10023.0 → "10023"
    return str(value)


def parse_csv(data: bytes, column: str | None = None) -> CodeList:
    """A CSV file (UTF-8 with or without BOM, or GB18030; comma, semicolon or tab separated;
    any line ends) whose first row is a header."""
    text = _decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return _collect(_column_values(csv.reader(io.StringIO(text, newline=""), dialect), column))
    except csv.Error:
        raise InvalidInput(_("The file is not a CSV or XLSX file. Nothing was changed.")) from None


def parse_xlsx(data: bytes, column: str | None = None) -> CodeList:
    """The first sheet of an XLSX workbook whose first row is a header. Formulas are read as
    written (so they are refused), not as their cached values."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise InvalidInput(_("The file is not a CSV or XLSX file. Nothing was changed.")) from None
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds on a broken workbook
        raise InvalidInput(_("The file is not a CSV or XLSX file. Nothing was changed.")) from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise InvalidInput(_("The list has no customer codes. Nothing was changed."))
        return _collect(_column_values(sheet.iter_rows(values_only=True), column))
    finally:
        workbook.close()


def parse_file(
    filename: str, data: bytes, column: str | None = None, *, any_name_is_text: bool = False
) -> CodeList:
    """A file: XLSX (by its content or name), CSV (.csv, .tsv) or a plain list of codes
    (.txt; with `any_name_is_text`, any other name too). Anything else is refused."""
    if len(data) > MAX_FILE_BYTES:
        raise TooLarge(file_too_large_message())
    name = (filename or "").lower()
    if data.startswith(_XLSX_MAGIC) or name.endswith((".xlsx", ".xlsm")):
        return parse_xlsx(data, column)
    if name.endswith((".csv", ".tsv")):
        return parse_csv(data, column)
    if name.endswith(".txt") or any_name_is_text:
        return parse_text(_decode(data))
    raise InvalidInput(_("The file is not a CSV or XLSX file. Nothing was changed."))


def file_too_large_message() -> str:
    return _(
        "The file is larger than %(max)d MB. Split the list, or paste the codes. Nothing was "
        "changed.",
        max=MAX_FILE_BYTES // (1024 * 1024),
    )  # noqa: E501


def _lowered_code():
    # The same expression as the grid's search and its index (migration 0003).
    return _lowered(Customer.code, db.engine.dialect.name)


def look_up(codes: Sequence[str]) -> Lookup:
    """The customers the codes name (case-insensitive, index-backed), one query per
    LOOKUP_CHUNK codes, and the codes that name none, with up to MAX_SUGGESTIONS "did you
    mean" codes (by prefix) for the first MAX_UNKNOWN_SHOWN of them."""
    lowered = [code.lower() for code in codes]
    ids: list[int] = []
    found: set[str] = set()
    expression = _lowered_code()
    postgres = db.engine.dialect.name == "postgresql"
    for start in range(0, len(lowered), LOOKUP_CHUNK):
        chunk = lowered[start : start + LOOKUP_CHUNK]
        # PostgreSQL: one array parameter (= ANY) plans and binds much faster than IN (...).
        matches = (
            (expression == any_(literal(chunk, ARRAY(Text))))
            if postgres
            else (expression.in_(chunk))
        )
        rows = db.session.execute(select(Customer.id, expression).where(matches)).all()
        for customer_id, code in rows:
            ids.append(customer_id)
            found.add(code)
    unknown = [code for code, low in zip(codes, lowered, strict=True) if low not in found]
    suggestions = {code: near for code in unknown[:MAX_UNKNOWN_SHOWN] if (near := suggest(code))}
    return Lookup(
        ids=ids, found=len(codes) - len(unknown), unknown=unknown, suggestions=suggestions
    )


def suggest(code: str, *, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """Up to `limit` existing codes that start like `code` (all but its last character, for a
    typo at the end or a character too many or too few): one index range scan."""
    prefix = code.lower()
    if len(prefix) >= 4:
        prefix = prefix[:-1]
    if len(prefix) < 2:
        return []
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    expression = _lowered_code()
    return list(
        db.session.execute(
            select(Customer.code)
            .where(expression >= literal(prefix, String), expression < literal(upper, String))
            .order_by(expression)
            .limit(limit)
        ).scalars()
    )


def scope_of(codes: CodeList, lookup: Lookup, *, source: str = "") -> dict:
    """The operation scope recorded for a list: "list of N codes (M found)", and which codes
    were not found (the first MAX_UNKNOWN_SHOWN, with their suggestions)."""
    scope = {
        "mode": "list",
        "listed": codes.listed,
        "distinct": len(codes.codes),
        "found": lookup.found,
        "duplicates": codes.duplicates,
        "unknown_count": len(lookup.unknown),
        "unknown": lookup.unknown[:MAX_UNKNOWN_SHOWN],
    }
    if lookup.suggestions:
        scope["did_you_mean"] = lookup.suggestions
    if source:
        scope["source"] = source[:200]
    return scope
