"""Read printed amounts into integer minor units without ever rounding.

Accepted text (after Unicode NFKC, so full-width digits and punctuation on Chinese documents
read as ASCII), optionally with a leading ``-``:

* dot decimal, grouping by ``,`` or spaces: ``1234.5``, ``1,234.50``, ``1 234.50``;
* comma decimal, grouping by ``.`` or spaces: ``1.234,50``, ``1 234,50``, ``1234,5``.

Which mark is the decimal point is decided without guessing: when both ``.`` and ``,`` appear
the last one is the decimal mark; a mark that appears more than once is grouping; a lone ``,``
followed by exactly three digits is grouping (``1,234`` is one thousand two hundred and
thirty-four, as printed on CNY/USD documents), any other lone ``,`` is a decimal comma; a lone
``.`` is always a decimal point. Groups must be three digits.

More fraction digits than the currency's exponent (CNY/USD/EUR 2, JPY 0) are refused, even
trailing zeros: nothing is ever rounded, and refusing ``1.230`` for CNY also stops a European
"one thousand two hundred and thirty" from being read as 1.23.
Integers passed from code are already minor units (the model's own unit, so dumps round-trip);
floats are refused because their binary value is not the printed one.
"""

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from oracles.errors import DocumentFormatError

# ISO 4217 minor-unit exponents for the currencies a document may carry. Which of these a
# deployment finances is a separate policy (see checks.CheckPolicy.supported_currencies).
CURRENCY_EXPONENTS: dict[str, int] = {
    "CNY": 2,
    "USD": 2,
    "EUR": 2,
    "JPY": 0,
    "HKD": 2,
    "GBP": 2,
    "SGD": 2,
    "KRW": 0,
    "KWD": 3,
}

_SPACES = re.compile(r"[ \u00a0\u2009\u202f']")
_GROUPED = re.compile(r"\d{1,3}(?:\|\d{3})*")


def normalize_currency(value: object) -> str:
    """Return the ISO 4217 code in upper case, refusing codes we hold no exponent for."""
    if not isinstance(value, str):
        raise DocumentFormatError("currency must be a three-letter ISO 4217 code such as CNY")
    code = unicodedata.normalize("NFKC", value).strip().upper()
    if code not in CURRENCY_EXPONENTS:
        known = ", ".join(sorted(CURRENCY_EXPONENTS))
        raise DocumentFormatError(f"currency {value!r} is not a known ISO 4217 code (known: {known})")
    return code


def _split_marks(body: str, original: str) -> tuple[str, str]:
    """Split ``body`` into (integer part with '|' between groups, fraction digits)."""
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        decimal_mark = "." if body.rfind(".") > body.rfind(",") else ","
    elif dots == 1:
        decimal_mark = "."
    elif commas == 1:
        decimal_mark = "" if re.fullmatch(r"[\d ]*,\d{3}", body) else ","
    else:
        decimal_mark = ""
    integer, fraction = body, ""
    if decimal_mark:
        if body.count(decimal_mark) != 1:
            raise DocumentFormatError(f"amount {original!r} has more than one decimal mark")
        integer, fraction = body.split(decimal_mark)
        if not fraction.isdigit():
            raise DocumentFormatError(f"amount {original!r} needs digits after the decimal mark")
    grouping = {".", ",", " "} - {decimal_mark}
    for mark in grouping:
        integer = integer.replace(mark, "|")
    if "|" in integer and not _GROUPED.fullmatch(integer):
        raise DocumentFormatError(f"amount {original!r} has digit groups that are not three digits long")
    if not integer.replace("|", "").isdigit():
        raise DocumentFormatError(f"amount {original!r} is not a number")
    return integer.replace("|", ""), fraction


def parse_minor_units(value: object, currency: str) -> int:
    """Convert a printed amount (or an int already in minor units) to int minor units."""
    exponent = CURRENCY_EXPONENTS[currency]
    if isinstance(value, (bool, float)):
        raise DocumentFormatError(
            "amounts must be text such as '1,234.50' or integer minor units, not floats"
        )
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, str):
        text = value
    else:
        raise DocumentFormatError("amounts must be text such as '1,234.50' or integer minor units")
    body = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    negative = body.startswith("-")
    body = body.removeprefix("-").strip()
    if not body or not re.fullmatch(r"[\d.,]+(?: [\d.,]+)*", body):
        raise DocumentFormatError(f"amount {text!r} is not a number like 1,234.50")
    integer, fraction = _split_marks(body, text)
    if len(fraction) > exponent:
        raise DocumentFormatError(
            f"amount {text!r} has {len(fraction)} fraction digits but {currency} allows {exponent}; "
            "refusing to round"
        )
    try:
        minor = int(Decimal(f"{integer}.{fraction or '0'}").scaleb(exponent))
    except InvalidOperation as exc:  # pragma: no cover - the regex above already refused these
        raise DocumentFormatError(f"amount {text!r} is not a number") from exc
    return -minor if negative else minor


def format_minor_units(minor: int, currency: str) -> str:
    """Render minor units as plain decimal text (``123450`` CNY -> ``1234.50``), for display."""
    exponent = CURRENCY_EXPONENTS[currency]
    return format(Decimal(minor).scaleb(-exponent), "f")
