"""Dates, identifiers and legal ids: one value per printing, refusal when a reading is a guess."""

from datetime import date

import pytest
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from oracles.errors import DocumentFormatError
from oracles.normalize import (
    legal_id_hash,
    normalize_hash32,
    normalize_identifier,
    normalize_invoice_code,
    normalize_legal_id,
    parse_document_date,
)


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-01",
        "2026-3-1",
        "2026/03/01",
        "2026/3/1",
        "2026.3.1",
        "20260301",
        "01.03.2026",
        "1.3.2026",
        "2026年3月1日",
        " 2026-03-01 ",
        "\uff12\uff10\uff12\uff16-\uff10\uff13-\uff10\uff11",  # full width
    ],
)
def test_date_printings(text: str) -> None:
    assert parse_document_date(text) == date(2026, 3, 1)


@pytest.mark.parametrize("text", ["03/01/2026", "3/1/2026", "01-03-2026", "03/01/26"])
def test_ambiguous_dates_are_refused(text: str) -> None:
    with pytest.raises(DocumentFormatError, match="ambiguous"):
        parse_document_date(text)


@pytest.mark.parametrize("text", ["2026-02-30", "20261301", "31.04.2026"])
def test_impossible_dates_are_refused(text: str) -> None:
    with pytest.raises(DocumentFormatError, match="not a real calendar date"):
        parse_document_date(text)


@pytest.mark.parametrize("value", ["March 1 2026", "2026-03-01T10:00:00", 20260301])
def test_unsupported_dates_are_refused(value: object) -> None:
    with pytest.raises(DocumentFormatError):
        parse_document_date(value)


@pytest.mark.parametrize(
    "text", ["00012345", "12345", "0001-2345", " 12 345 ", "12.345", 12345, "\uff11\uff12\uff13\uff14\uff15"]
)
def test_numeric_identifiers(text: object) -> None:
    assert normalize_identifier(text) == "12345"


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("po-000123", "PO123"),
        ("PO 000123", "PO123"),
        ("PO123", "PO123"),
        ("INV-0012", "INV12"),
        ("inv-012", "INV12"),
        ("INV 0012 ", "INV12"),
        ("\uff29\uff2e\uff36\uff0d\uff10\uff10\uff11\uff12", "INV12"),  # full width
        ("INV-2024-000123", "INV2024123"),
        ("INV/02024/123", "INV2024123"),
        ("SH-WH-01", "SHWH1"),
        ("A-007-B-0", "A7B0"),
        ("PO-1020", "PO1020"),
        ("PO-100", "PO100"),
        ("PO-1-0020", "PO120"),
    ],
)
def test_each_numeric_field_of_an_alphanumeric_identifier_drops_its_padding(
    text: str, canonical: str
) -> None:
    assert normalize_identifier(text) == canonical


_field = st.one_of(st.from_regex(r"[A-Za-z]{1,4}", fullmatch=True), st.integers(min_value=0, max_value=10**9))


@settings(max_examples=300)
@given(
    fields=st.lists(_field, min_size=1, max_size=5).filter(lambda fs: any(isinstance(f, str) for f in fs)),
    data=st.data(),
)
def test_any_padding_case_or_separator_of_a_structured_identifier_is_one_identifier(
    fields: list[str | int], data: st.DataObject
) -> None:
    """Reference printing: fields joined by '-', numbers unpadded. Any other printing equals it."""
    reference = "-".join(str(f) for f in fields)
    printed = ""
    for index, field in enumerate(fields):
        if index:
            separators = [" ", "-", "/", ".", "_", " - "]
            if isinstance(field, str) != isinstance(fields[index - 1], str):
                separators.append("")  # a letter/digit boundary needs no separator
            printed += data.draw(st.sampled_from(separators))
        if isinstance(field, int):
            printed += "0" * data.draw(st.integers(min_value=0, max_value=6)) + str(field)
        else:
            printed += data.draw(st.sampled_from([field, field.lower(), field.upper()]))
    assert normalize_identifier(printed) == normalize_identifier(reference)


def test_a_numeric_identifier_is_one_number_however_its_digits_are_grouped() -> None:
    assert normalize_identifier("0440 0190 0111") == normalize_identifier("044001900111") == "44001900111"
    assert normalize_identifier("1-0023") == "10023"
    assert normalize_identifier("0000") == "0"


def test_identifiers_that_cannot_be_read_are_refused() -> None:
    with pytest.raises(DocumentFormatError, match="may only contain"):
        normalize_identifier("INV#1")
    with pytest.raises(DocumentFormatError, match="is empty"):
        normalize_identifier(" - ")


@pytest.mark.parametrize(
    "value",
    [None, "", " ", "\u3000", "-", "0", "0000000000", "000000000000", " 0000 0000 0000 ", "\uff10" * 12],
)
def test_a_blank_or_all_zero_invoice_code_means_no_code(value: object) -> None:
    assert normalize_invoice_code(value) is None


@pytest.mark.parametrize(
    ("value", "canonical"),
    [("044001900111", "44001900111"), ("0440-0190-0111", "44001900111"), (3100194130, "3100194130")],
)
def test_an_invoice_code_is_a_number(value: object, canonical: str) -> None:
    assert normalize_invoice_code(value) == canonical


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("N/A", "digits"),
        ("无", "digits"),
        ("A44001900111", "digits"),
        ("24312000000012345678", "at most 12 digits"),
        (12.5, "text"),
    ],
)
def test_an_invoice_code_that_is_not_a_code_is_refused(value: object, message: str) -> None:
    with pytest.raises(DocumentFormatError, match=message):
        normalize_invoice_code(value)


def test_legal_ids_and_their_registry_hash() -> None:
    assert normalize_legal_id(" 9131-0000 ma1fl0xx1x ") == "91310000MA1FL0XX1X"
    assert legal_id_hash("9131-0000 ma1fl0xx1x") == "0x" + keccak(b"91310000MA1FL0XX1X").hex()
    for bad in ("9131/0000MA1FL0XX1X", "123", "X" * 33):
        with pytest.raises(DocumentFormatError):
            normalize_legal_id(bad)


def test_hashes() -> None:
    assert normalize_hash32("AB" * 32) == "0x" + "ab" * 32
    with pytest.raises(DocumentFormatError):
        normalize_hash32("0x1234")
