"""Input rules: how every service and view reads what a user typed or sent.

One place for each rule, so a form, the CLI and the API refuse the same input with the same
message: row ids (one parser, one range: the id columns are 32-bit INTEGER), money, memos,
labels and other one-line texts, whole numbers, LIKE escaping, and how a value is written into
the operation log (`audit_text`: one spelling for booleans, dates and amounts).

Services describe their fields declaratively, as a mapping of field name to rule, and call
`clean(fields, rules)`; each rule is a callable that returns the cleaned value or raises
`InvalidInput` with a translated message naming the field.
"""

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, overload

from flask_babel import gettext as _

from admin_app.services.errors import InvalidInput, TooLarge

MAX_ID = 2**31 - 1  # every id column is INTEGER (32-bit on PostgreSQL)
_ID_TEXT = re.compile(r"[1-9][0-9]{0,9}")
MEMO_MAX_LENGTH = 1000
COMMENT_MAX_LENGTH = MEMO_MAX_LENGTH
LABEL_MAX_LENGTH = 120
MONEY_LIMIT = Decimal("1e12")  # Numeric(14, 2): twelve digits before the point
_MONEY_TEXT = re.compile(r"-?[0-9]{1,13}(\.[0-9]{1,2})?")
_CENT = Decimal("0.01")

Rule = Callable[[Any], Any]


# -- ids ----------------------------------------------------------------------------------------


def parse_id(value: Any) -> int | None:
    """A row id (1 … MAX_ID) from request text or an int, or None for anything else: no
    signs, spaces, leading zeros or non-ASCII digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isascii() and _ID_TEXT.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None


def parse_rowids(values: Sequence[str], *, limit: int) -> list[int]:
    """Strictly parse checked customer row ids (see `parse_id`); raises InvalidInput for an
    empty or bad one, TooLarge for more than `limit`. Duplicates collapse; order is kept."""
    if not values:
        raise InvalidInput(_("Select at least one customer. No customers were changed."))
    ids: dict[int, None] = {}
    for value in values:
        number = parse_id(value) if isinstance(value, str) else None
        if number is None:
            raise InvalidInput(
                _(
                    "Invalid customer id: %(value)s. No customers were changed.",
                    value=repr(str(value)[:40]),
                )
            )
        ids[number] = None
    if len(ids) > limit:
        raise TooLarge(
            _(
                'At most %(limit)s checked customers per operation; use "select all matching" '
                "for more. No customers were changed.",
                limit=format(limit, ","),
            )
        )
    return list(ids)


# -- texts --------------------------------------------------------------------------------------


def memo(value: str | None) -> str:
    """A memo as typed (not stripped): no NUL, at most MEMO_MAX_LENGTH characters."""
    text = value or ""
    if "\x00" in text:
        raise InvalidInput(_("Memo contains invalid characters."), field="memo")
    if len(text) > MEMO_MAX_LENGTH:
        raise InvalidInput(
            _("Memo is too long (at most %(num)d characters).", num=MEMO_MAX_LENGTH), field="memo"
        )
    return text


def comment(value: str | None, *, required: bool) -> str:
    """A decision's comment (an approval's), stripped: no NUL, at most COMMENT_MAX_LENGTH
    characters; `required`: not empty."""
    text = (value or "").strip()
    if "\x00" in text:
        raise InvalidInput(_("Comment contains invalid characters."), field="comment")
    if len(text) > COMMENT_MAX_LENGTH:
        raise InvalidInput(
            _("Comment is too long (at most %(num)d characters).", num=COMMENT_MAX_LENGTH),
            field="comment",
        )
    if required and not text:
        raise InvalidInput(_("Say why you reject this request."), field="comment")
    return text


@dataclass(frozen=True)
class Text:
    """A one-line text (a label, name, code, e-mail…): stripped, printable, at most
    `max_length` characters; empty becomes None unless `required`. `pattern` (with
    `pattern_message`) restricts it further."""

    label: Any
    max_length: int = LABEL_MAX_LENGTH
    required: bool = False
    pattern: re.Pattern[str] | None = None
    pattern_message: Any = None

    def __call__(self, value: Any) -> str | None:
        text = "" if value is None else str(value).strip()
        if not text.isprintable():
            raise InvalidInput(_("%(field)s contains invalid characters.", field=self.label))
        if len(text) > self.max_length:
            raise InvalidInput(
                _(
                    "%(field)s is too long (at most %(max)d characters).",
                    field=self.label,
                    max=self.max_length,
                )
            )
        if not text:
            if self.required:
                raise InvalidInput(_("%(field)s is required.", field=self.label))
            return None
        if self.pattern is not None and not self.pattern.fullmatch(text):
            raise InvalidInput(str(self.pattern_message))
        return text


@dataclass(frozen=True)
class Choice:
    """One of `choices` (empty: None when `optional`). `message` lists them in the
    placeholder named `placeholder`."""

    choices: Collection[str]
    message: Any
    optional: bool = False
    placeholder: str = "choices"

    def __call__(self, value: Any) -> str | None:
        text = "" if value is None else str(value).strip()
        if not text and self.optional:
            return None
        if text not in self.choices:
            raise InvalidInput(str(self.message) % {self.placeholder: ", ".join(self.choices)})
        return text


# -- numbers ------------------------------------------------------------------------------------


_COUNT_TEXT = re.compile(r"[0-9]{1,9}")
# An address to write to: one "@", a dot in the domain, no spaces (not RFC 5322's every form).
EMAIL_ADDRESS = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def parse_count(value: Any) -> int | None:
    """A whole number 0 … 999,999,999 written in ASCII digits (a page number, a column
    number), or None: no signs, spaces or other scripts' digits (`"²".isdigit()` is True)."""
    text = value.strip() if isinstance(value, str) else ""
    return int(text) if _COUNT_TEXT.fullmatch(text) else None


def money(value: Any, *, field: Any, positive: bool = False, not_negative: bool = False) -> Decimal:
    """An amount with at most two decimals ("1,250.50" is accepted) below MONEY_LIMIT;
    `positive`: greater than zero; `not_negative`: zero or more. Empty is 0.00 unless
    `positive`. Raises InvalidInput."""
    if value is None or (isinstance(value, str) and not value.strip()):
        value = "" if positive else "0"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        value = value.strip().replace(",", "")
        if not _MONEY_TEXT.fullmatch(value):
            raise InvalidInput(
                _("%(field)s must be a number with at most two decimals.", field=field)
            )
    if not isinstance(value, (str, Decimal)):
        raise InvalidInput(_("%(field)s must be a number with at most two decimals.", field=field))
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise InvalidInput(
            _("%(field)s must be a number with at most two decimals.", field=field)
        ) from None
    if not amount.is_finite():
        raise InvalidInput(_("%(field)s must be a number with at most two decimals.", field=field))
    if abs(amount) >= MONEY_LIMIT:
        raise InvalidInput(_("%(field)s is out of range.", field=field))
    if amount != amount.quantize(_CENT):
        raise InvalidInput(_("%(field)s must be a number with at most two decimals.", field=field))
    if positive and amount <= 0:
        raise InvalidInput(_("%(field)s must be greater than zero.", field=field))
    if not_negative and amount < 0:
        raise InvalidInput(_("%(field)s cannot be negative.", field=field))
    return amount.quantize(_CENT)


@dataclass(frozen=True)
class Money:
    label: Any
    positive: bool = False
    not_negative: bool = False

    def __call__(self, value: Any) -> Decimal:
        return money(
            value, field=self.label, positive=self.positive, not_negative=self.not_negative
        )


@dataclass(frozen=True)
class WholeNumber:
    """A whole number from `minimum` to `maximum`; empty is `empty` (None: optional).
    `days`: the messages speak of days."""

    label: Any
    minimum: int
    maximum: int
    empty: int | None = None
    days: bool = False

    def __call__(self, value: Any) -> int | None:
        if value is None or value == "":
            return self.empty
        try:
            number = int(value) if not isinstance(value, (bool, float)) else None
        except (TypeError, ValueError):
            number = None
        if number is None or not self.minimum <= number <= self.maximum:
            bounds = {"field": self.label, "min": self.minimum, "max": self.maximum}
            if self.days:
                raise InvalidInput(
                    _("%(field)s must be between %(min)d and %(max)d days.", **bounds)
                )
            raise InvalidInput(
                _("%(field)s must be a whole number between %(min)d and %(max)d.", **bounds)
            )
        return number


@dataclass(frozen=True)
class OptionalId:
    """A row id or None (empty); anything else raises InvalidInput(`message`)."""

    message: Any

    def __call__(self, value: Any) -> int | None:
        if value is None or value == "":
            return None
        number = parse_id(value if isinstance(value, int) else str(value).strip())
        if number is None:
            raise InvalidInput(str(self.message))
        return number


@dataclass(frozen=True)
class OptionalDate:
    """A date, an ISO date text (YYYY-MM-DD), or empty (None)."""

    label: Any

    def __call__(self, value: Any) -> date | None:
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            raise InvalidInput(
                _("%(field)s: enter a date as YYYY-MM-DD.", field=self.label)
            ) from None


def clean(
    fields: Mapping[str, Any], rules: Mapping[str, Rule], *, only: Collection[str] | None = None
) -> dict[str, Any]:
    """Apply each field's rule; refuse fields without a rule (or outside `only`)."""
    allowed = set(rules) if only is None else set(only) & set(rules)
    unknown = set(fields) - allowed
    if unknown:
        raise InvalidInput(
            _("These fields cannot be changed: %(fields)s.", fields=", ".join(sorted(unknown)))
        )
    cleaned = {}
    for name, value in fields.items():
        try:
            cleaned[name] = rules[name](value)
        except InvalidInput as error:
            error.field = error.field or name  # so a form shows it next to that field
            raise
    return cleaned


# -- search and the log -------------------------------------------------------------------------


def escape_like(term: str) -> str:
    """`term` for a LIKE pattern with ESCAPE '\\': its %, _ and \\ match themselves."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@overload
def audit_text(value: None) -> None: ...
@overload
def audit_text(value: bool | date | Decimal | int | str) -> str: ...
@overload
def audit_text(value: Any) -> str | None: ...
def audit_text(value: Any) -> str | None:
    """How a value is written into an operation log entry: None stays None, booleans are
    "true"/"false", dates and times ISO 8601, everything else its text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)
