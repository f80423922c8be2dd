"""Amounts: accepted printings, the no-rounding rule, and refusals."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oracles.errors import DocumentFormatError
from oracles.money import format_minor_units, normalize_currency, parse_minor_units


def _full_width(text: str) -> str:
    """The full-width forms (U+FF01..U+FF5E) Chinese documents print digits and marks in."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1234.50", "CNY", 123450),
        ("1234.5", "CNY", 123450),
        ("1,234.50", "CNY", 123450),
        ("1 234.50", "EUR", 123450),
        ("1\u00a0234,50", "EUR", 123450),
        ("1.234,50", "EUR", 123450),
        ("1234,5", "EUR", 123450),
        ("1,234", "CNY", 123400),
        ("12,345,678.90", "USD", 1234567890),
        ("1.234.567,89", "EUR", 123456789),
        (_full_width("1,234.50"), "CNY", 123450),  # as on scanned Chinese invoices
        ("  0.01 ", "CNY", 1),
        ("-5.00", "CNY", -500),
        ("1,234", "JPY", 1234),
        ("1234", "JPY", 1234),
        ("1.234", "KWD", 1234),
        (Decimal("10.5"), "USD", 1050),
        (123450, "CNY", 123450),  # integers are already minor units
    ],
)
def test_accepted_printings(text: object, currency: str, minor: int) -> None:
    assert parse_minor_units(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "fragment"),
    [
        ("1234.567", "CNY", "refusing to round"),
        ("1234.500", "CNY", "refusing to round"),  # even zeros: 1.230 could be a European 1230
        ("1.230", "CNY", "refusing to round"),
        ("12.5", "JPY", "JPY allows 0"),
        ("1,23,456.00", "CNY", "three digits"),
        ("1,2345", "CNY", "refusing to round"),
        ("12 34.00", "CNY", "three digits"),
        ("1.234.56", "CNY", "three digits"),
        ("1e5", "CNY", "not a number"),
        ("", "CNY", "not a number"),
        ("¥100", "CNY", "not a number"),
        ("1234.", "CNY", "digits after"),
        (12.5, "CNY", "not floats"),
        (True, "CNY", "not floats"),
    ],
)
def test_refusals(text: object, currency: str, fragment: str) -> None:
    with pytest.raises(DocumentFormatError, match=fragment):
        parse_minor_units(text, currency)


def test_currency_codes_are_normalized_and_checked() -> None:
    assert normalize_currency(" cny ") == "CNY"
    with pytest.raises(DocumentFormatError, match="ISO 4217"):
        normalize_currency("RMB")


@given(
    minor=st.integers(min_value=0, max_value=10**15), style=st.sampled_from(["plain", "us", "eu", "space"])
)
def test_printing_round_trips(minor: int, style: str) -> None:
    plain = format_minor_units(minor, "CNY")
    whole, frac = plain.split(".")
    grouped = f"{int(whole):,}"
    text = {
        "plain": plain,
        "us": f"{grouped}.{frac}",
        "eu": grouped.replace(",", ".") + "," + frac,
        "space": grouped.replace(",", " ") + "," + frac,
    }[style]
    assert parse_minor_units(text, "CNY") == minor
