"""The one module of input rules: ids, money, memo, texts, LIKE escaping, audit text."""

from datetime import date
from decimal import Decimal

import pytest

from admin_app.services import input_rules
from admin_app.services.errors import InvalidInput


@pytest.fixture(autouse=True)
def _request(app):
    with app.test_request_context():
        yield


@pytest.mark.parametrize(
    "value",
    ["0", "-1", "+1", "007", " 1", "1.0", "１２", "2147483648", "", None, True, 0, 2**31],
)
def test_one_id_parser_one_range(value):
    assert input_rules.parse_id(value) is None


def test_ids_up_to_the_integer_columns_pass():
    assert input_rules.parse_id("2147483647") == 2**31 - 1
    assert input_rules.parse_id(42) == 42


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0), ("007", 7), (" 12 ", 12), ("999999999", 999_999_999), ("1000000000", None)]
    + [(text, None) for text in ("²", "٣", "１", "-1", "+1", "1.0", "", "x")]
    + [(None, None), (3, None)],
)
def test_counts_are_ascii_whole_numbers(value, expected):
    assert input_rules.parse_count(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1,250.5", Decimal("1250.50")), (Decimal("3.000"), Decimal("3.00")), (None, Decimal("0"))],
)
def test_money_reads_amounts(value, expected):
    assert input_rules.money(value, field="Balance") == expected


@pytest.mark.parametrize("value", ["1.001", "1e3", "NaN", "abc", "1000000000000", True])
def test_money_refuses_what_is_no_amount(value):
    with pytest.raises(InvalidInput, match="Balance"):
        input_rules.money(value, field="Balance")


def test_not_negative_money_takes_zero_and_refuses_less():
    assert input_rules.money("0", field="Credit limit", not_negative=True) == Decimal("0.00")
    with pytest.raises(InvalidInput, match="Credit limit cannot be negative"):
        input_rules.money("-0.01", field="Credit limit", not_negative=True)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("t1@example.com", True),
        ("contact7@台北-example.com.tw", True),
        ("not-an-email", False),
        ("a@b", False),
        ("a b@example.com", False),
        ("a@@example.com", False),
        ("a@example.", False),
    ],
)
def test_email_addresses(value, accepted):
    assert bool(input_rules.EMAIL_ADDRESS.fullmatch(value)) is accepted


def test_positive_money_refuses_zero_and_empty():
    for value in ("0", "", "-5"):
        with pytest.raises(InvalidInput):
            input_rules.money(value, field="Amount", positive=True)


def test_booleans_dates_and_amounts_have_one_spelling_in_the_log():
    assert input_rules.audit_text(True) == "true"
    assert input_rules.audit_text(False) == "false"
    assert input_rules.audit_text(None) is None
    assert input_rules.audit_text(date(2026, 1, 2)) == "2026-01-02"
    assert input_rules.audit_text(Decimal("5.00")) == "5.00"


def test_memo_and_text_rules():
    assert input_rules.memo(None) == ""
    with pytest.raises(InvalidInput, match="invalid characters"):
        input_rules.memo("a\x00b")
    with pytest.raises(InvalidInput, match="at most 1000"):
        input_rules.memo("x" * 1001)
    label = input_rules.Text("Label", max_length=5, required=True)
    assert label("  ab ") == "ab"
    with pytest.raises(InvalidInput, match="Label is required"):
        label("   ")
    with pytest.raises(InvalidInput, match="at most 5"):
        label("abcdef")
    with pytest.raises(InvalidInput, match="invalid characters"):
        label("a\nb")


def test_clean_refuses_fields_without_a_rule():
    rules = {"enabled": bool, "position": input_rules.WholeNumber("Position", 0, 10, empty=0)}
    assert input_rules.clean({"enabled": 1, "position": ""}, rules) == {
        "enabled": True,
        "position": 0,
    }
    with pytest.raises(InvalidInput, match="cannot be changed: status"):
        input_rules.clean({"status": "frozen"}, rules)
    with pytest.raises(InvalidInput, match="between 0 and 10"):
        input_rules.clean({"position": "11"}, rules)


def test_like_escaping():
    assert input_rules.escape_like("50%_a\\b") == "50\\%\\_a\\\\b"
