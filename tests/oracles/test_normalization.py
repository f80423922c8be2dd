"""Dates, identifiers and legal ids: one value per printing, refusal when a reading is a guess."""

from datetime import date

import pytest
from eth_utils.crypto import keccak

from oracles.errors import DocumentFormatError
from oracles.normalize import (
    legal_id_hash,
    normalize_hash32,
    normalize_identifier,
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


def test_alphanumeric_identifiers_keep_inner_zeros() -> None:
    assert normalize_identifier("po-000123") == normalize_identifier("PO 000123") == "PO000123"
    assert normalize_identifier("0000") == "0"
    with pytest.raises(DocumentFormatError):
        normalize_identifier("INV#1")
    with pytest.raises(DocumentFormatError):
        normalize_identifier(" - ")


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
