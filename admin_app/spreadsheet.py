"""Spreadsheet formula escaping, for every export (admin views and the CLI) and for reading
uploaded code lists: a neutral module that web edges and services may both import."""

import re

# What a spreadsheet runs as a formula when a cell starts with it.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# A number or a phone number ("-5", "+886 2 2345-6789", "+1 (555) 010-0000"): no letters or
# function syntax, so a spreadsheet can at most do arithmetic with it; it is shown unchanged.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9][0-9 ().\-/]*")


def escape_spreadsheet_formula(value):
    """Prefix a text cell that a spreadsheet would run as a formula (=, +, -, @, TAB, CR
    first) with a quote, unless it is a plain number or phone number."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_PREFIXES)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value
