"""Normalize identifiers, legal ids, dates and hashes so formatting never changes identity.

The same invoice reaches the oracles typed by hand, exported from an ERP, or scanned from the
tax platform. These functions turn each printed variant into one value, and refuse values that
cannot be read without guessing (a date like ``03/01/2026`` is March 1st in the US and January
3rd in Europe, so it is refused rather than interpreted).

Identifiers (invoice, order, note and receipt numbers, warehouse ids): Unicode NFKC, whitespace
and the separators ``- / . _`` removed, only ASCII letters and digits may remain, upper case. An
identifier made only of digits is one number: separators inside it are grouping for the reader
(``0440 0190 0111``), and its leading zeros are dropped (``00012345`` and ``12345`` are printings of
one number). An identifier with letters is a structured code: letters and separators bound its
numeric fields, and each field drops its own leading zeros, because ERPs and reprints pad them to
different widths (``INV-0012``, ``inv 12`` and ``INV-2024-000123``/``INV-2024-123`` are one number
each). ``docs/oracles.md`` states these rules and why separators carry no identity.

Invoice codes (发票代码): older VAT invoices carry a 10- or 12-digit code, fully digital invoices
(全电发票) none. Left out, blank, a lone separator and all zeros all mean "no code"; otherwise the
code is a number of at most 12 digits, leading zeros dropped. Anything else is refused.

Legal ids (tax ids, unified social credit codes): NFKC, upper case, whitespace and ``-``
removed; only letters and digits may remain. ``legal_id_hash`` of this form is what the
on-chain participant registry stores, so it must never change.

Dates, accepted forms: ``2026-03-01``, ``2026-3-1``, ``2026/3/1``, ``2026.3.1`` (year first),
``20260301``, ``01.03.2026`` (dotted with year last is day-first wherever it is used) and
``2026年3月1日``. Slash or dash dates with the year last are refused as ambiguous.
"""

import re
import unicodedata
from datetime import date
from functools import lru_cache

from eth_utils.crypto import keccak

from oracles.errors import DocumentFormatError

_ID_SEPARATORS = re.compile(r"[\s\-/._]+")
_ID_FIELDS = re.compile(r"[0-9]+|[A-Z]+")
_MAX_INVOICE_CODE_DIGITS = 12
_LEGAL_SEPARATORS = re.compile(r"[\s\-]+")
_YEAR_FIRST = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DOTTED_DAY_FIRST = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_CHINESE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_AMBIGUOUS = re.compile(r"\d{1,2}[-/]\d{1,2}[-/]\d{2,4}")
_HEX32 = re.compile(r"(?:0x)?([0-9a-f]{64})")


def _unpadded(digits: str) -> str:
    return digits.lstrip("0") or "0"


def normalize_identifier(value: object, *, what: str = "identifier") -> str:
    """Canonical printing of a document number or identifier."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise DocumentFormatError(f"{what} must be text")
    pieces = [piece for piece in _ID_SEPARATORS.split(unicodedata.normalize("NFKC", value)) if piece]
    text = "".join(pieces)
    if not text:
        raise DocumentFormatError(f"{what} is empty")
    if not text.isascii() or not text.isalnum():
        raise DocumentFormatError(f"{what} {value!r} may only contain letters, digits and separators")
    if text.isdigit():
        return _unpadded(text)
    return "".join(
        _unpadded(run) if run.isdigit() else run
        for piece in pieces
        for run in _ID_FIELDS.findall(piece.upper())
    )


def normalize_invoice_code(value: object) -> str | None:
    """Canonical invoice code, or ``None`` for an invoice without one (a fully digital invoice)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise DocumentFormatError("invoice code must be text")
    text = _ID_SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    if not text:
        return None
    if not text.isascii() or not text.isdigit():
        raise DocumentFormatError(
            f"invoice code {value!r} must be digits; leave it out for a fully digital invoice, which has none"
        )
    code = text.lstrip("0")
    if len(code) > _MAX_INVOICE_CODE_DIGITS:
        raise DocumentFormatError(
            f"invoice code {value!r} has {len(code)} digits but an invoice code has at most"
            f" {_MAX_INVOICE_CODE_DIGITS} digits; a fully digital invoice has no code and"
            " its 20-digit number goes in invoice_number"
        )
    return code or None


def normalize_legal_id(value: object) -> str:
    """Canonical printing of a tax id / unified social credit code."""
    if not isinstance(value, str):
        raise DocumentFormatError("tax id must be text")
    text = _LEGAL_SEPARATORS.sub("", unicodedata.normalize("NFKC", value)).upper()
    if not (5 <= len(text) <= 32) or not text.isascii() or not text.isalnum():
        raise DocumentFormatError(f"tax id {value!r} must be 5 to 32 letters and digits")
    return text


@lru_cache(maxsize=4096)
def legal_id_hash(tax_id: str) -> str:
    """keccak256 of the normalized legal id, as stored by the on-chain participant registry
    (memoized: a batch names the same few parties on every document)."""
    return "0x" + keccak(normalize_legal_id(tax_id).encode("utf-8")).hex()


def _build_date(year: str, month: str, day: str, original: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError as exc:
        raise DocumentFormatError(f"date {original!r} is not a real calendar date") from exc


def parse_document_date(value: object) -> date:
    """Read a printed date in one of the accepted forms."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise DocumentFormatError("date must be text such as 2026-03-01")
    text = unicodedata.normalize("NFKC", value).strip()
    for pattern in (_YEAR_FIRST, _COMPACT, _CHINESE):
        match = pattern.fullmatch(text)
        if match:
            return _build_date(match[1], match[2], match[3], value)
    match = _DOTTED_DAY_FIRST.fullmatch(text)
    if match:
        return _build_date(match[3], match[2], match[1], value)
    if _AMBIGUOUS.fullmatch(text):
        raise DocumentFormatError(
            f"date {value!r} is ambiguous (month-first or day-first); write it as YYYY-MM-DD"
        )
    raise DocumentFormatError(f"date {value!r} is not in a supported format; write it as YYYY-MM-DD")


def normalize_hash32(value: object, *, what: str = "hash") -> str:
    """Lower-case 0x-prefixed 32-byte hex, accepting upper case and a missing 0x."""
    if not isinstance(value, str):
        raise DocumentFormatError(f"{what} must be 32-byte hex text")
    match = _HEX32.fullmatch(value.strip().lower())
    if not match:
        raise DocumentFormatError(f"{what} {value!r} must be 64 hex digits, optionally prefixed 0x")
    return "0x" + match[1]
