"""One invoice, any printing -> one fingerprint; different invoices -> different fingerprints.

The canonical rules under test are written down in docs/oracles.md ("Canonical fingerprint rules").
"""

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracles.canonical import canonical_content_bytes, canonical_identity_bytes, content_hash, fingerprint
from oracles.documents import DeliveryNote, Invoice
from oracles.memory import InMemoryFingerprintLedger
from oracles.reasons import ReasonCode
from oracles.signatures import SignedDocument
from oracles.verify import verify_document

MISSING = object()  # a printing that leaves the field out altogether


def _separated(text: str, rng: random.Random) -> str:
    sep = rng.choice(["", "-", " ", "/", ".", "_", " - "])
    cut = rng.randrange(1, len(text))
    return text[:cut] + sep + text[cut:]


def _money(minor: int, rng: random.Random) -> object:
    whole, frac = divmod(minor, 100)
    grouped = f"{whole:,}"
    return rng.choice(
        [
            minor,
            f"{whole}.{frac:02d}",
            f"{grouped}.{frac:02d}",
            grouped.replace(",", " ") + f",{frac:02d}",
            grouped.replace(",", ".") + f",{frac:02d}",
            f"  {whole}.{frac:02d} ",
            f"{whole}.{frac // 10}" if frac % 10 == 0 else f"{whole}.{frac:02d}",
        ]
    )


def _date(day: date, rng: random.Random) -> str:
    return rng.choice(
        [
            day.isoformat(),
            f"{day.year}/{day.month}/{day.day}",
            day.strftime("%Y%m%d"),
            day.strftime("%d.%m.%Y"),
            f"{day.year}年{day.month}月{day.day}日",
            f"{day.year}-{day.month}-{day.day}",
        ]
    )


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


# --- The printings a clerk, an ERP export or a reprint produce for each field of identity ----------


def _vat_code(rng: random.Random) -> object:
    """A 12-digit code of an older VAT invoice, with or without its leading zero, grouped or not."""
    return _separated(rng.choice(["044001900111", "0044001900111", "44001900111"]), rng)


def _vat_number(rng: random.Random) -> object:
    """The 8-digit number of an older VAT invoice; reprints and ERPs drop its leading zeros."""
    return _separated(rng.choice(["00012345", "12345", "0012345"]), rng).lower()


def _absent_code(rng: random.Random) -> object:
    """A fully digital invoice (全电发票) has no code: left out, blank, or printed as zeros."""
    return rng.choice(
        [
            MISSING,
            None,
            "",
            " ",
            "\u3000",
            "-",
            "0",
            "0000000000",
            "000000000000",
            " 0000 0000 0000 ",
            "0000-000000",
            _full_width("000000000000"),
        ]
    )


def _digital_number(rng: random.Random) -> object:
    """The 20-digit number of a fully digital invoice, as printed, grouped or full width."""
    number = "24312000000012345678"
    grouped = " ".join(number[i : i + 4] for i in range(0, 20, 4))
    return rng.choice(
        [
            number,
            f" {number} ",
            grouped,
            grouped.replace(" ", "-"),
            _full_width(number),
            _separated(number, rng),
        ]
    )


def _erp_number(rng: random.Random) -> object:
    """An ERP invoice number whose numeric part is padded to different widths by different systems."""
    prefix = rng.choice(["INV", "inv", "Inv", _full_width("INV")])
    sep = rng.choice(["-", "", " ", "_", "/", ".", " - ", "\uff0d"])
    digits = rng.choice(["12", "012", "0012", "00012", "000000000012"])
    return rng.choice(["", " ", "  "]) + prefix + sep + digits + rng.choice(["", " ", "\t"])


def _erp_year_sequence(rng: random.Random) -> object:
    """``INV-2024-000123``: a year field and a padded sequence field; either may lose its padding."""
    fields = [
        rng.choice(["INV", "inv"]),
        rng.choice(["2024", "02024"]),
        rng.choice(["123", "0123", "000123"]),
    ]
    sep = rng.choice(["-", " ", "/", "_", "."])
    return sep.join(fields) + rng.choice(["", " "])


@dataclass(frozen=True)
class Reference:
    """One real invoice and how each of its identity fields may be printed."""

    code: str | None
    number: str
    print_code: Callable[[random.Random], object]
    print_number: Callable[[random.Random], object]


REFERENCES = {
    "vat-code-and-8-digit-number": Reference("044001900111", "00012345", _vat_code, _vat_number),
    "fully-digital-20-digit-number-no-code": Reference(
        None, "24312000000012345678", _absent_code, _digital_number
    ),
    "erp-number-padded-to-any-width": Reference(None, "INV-0012", _absent_code, _erp_number),
    "erp-year-and-padded-sequence": Reference(
        "044001900111", "INV-2024-000123", _vat_code, _erp_year_sequence
    ),
}


def printed_variant(base: dict[str, Any], reference: Reference, rng: random.Random) -> dict[str, Any]:
    """The reference invoice printed in a random but equivalent way."""
    fields: dict[str, Any] = {
        "kind": rng.choice([1, "1", "invoice", "INVOICE", " Invoice "]),
        "currency": rng.choice(["CNY", "cny", " Cny"]),
        "invoice_code": reference.print_code(rng),
        "invoice_number": reference.print_number(rng),
        "issue_date": _date(base["issue_date"], rng),
        "due_date": _date(base["due_date"], rng),
        "seller_tax_id": rng.choice(["91310000MA1FL0XX1X", "91310000ma1fl0xx1x", "9131-0000-MA1F-L0XX1X"]),
        "buyer_tax_id": rng.choice(["91110000100000000X", " 91110000 100000000x "]),
        "amount_without_tax": _money(base["amount_without_tax"], rng),
        "tax_amount": _money(base["tax_amount"], rng),
        "total_with_tax": _money(base["total_with_tax"], rng),
        "line_items_hash": rng.choice(["0x" + "ab" * 32, "AB" * 32, "0X" + "AB" * 32]),
    }
    keys = [key for key, value in fields.items() if value is not MISSING]
    rng.shuffle(keys)
    return {key: fields[key] for key in keys}


@pytest.mark.parametrize("name", REFERENCES)
def test_250_printings_of_one_invoice_share_one_fingerprint_and_content(
    name: str,
    make_invoice: Callable[..., Invoice],
    sign: Callable[..., SignedDocument],
    trust: Any,
    parties: Any,
    invoice_fields: Callable[..., dict[str, Any]],
    now: datetime,
) -> None:
    reference = REFERENCES[name]
    rng = random.Random(2026)
    variants: dict[str, dict[str, Any]] = {}
    while len(variants) < 250:
        variant = printed_variant(invoice_fields(), reference, rng)
        variants[json.dumps(variant, sort_keys=False, default=str)] = variant
    original = sign(make_invoice(invoice_code=reference.code, invoice_number=reference.number))
    ledger = InMemoryFingerprintLedger()
    fingerprints, contents = set(), set()
    for index, variant in enumerate(variants.values()):
        signed = SignedDocument.model_validate(
            {
                "document": variant,
                "signature": original.signature,
                "certificate_chain": original.certificate_chain,
            }
        )
        fingerprints.add(fingerprint(signed.document))
        contents.add(canonical_content_bytes(signed.document))
        verdict = verify_document(signed, trust=trust, directory=parties.directory, ledger=ledger, now=now)
        if index == 0:
            assert verdict.ok, verdict.refusals
            ledger.mark_used(verdict.fingerprint)
        else:
            assert verdict.codes() == {ReasonCode.ALREADY_ATTESTED}, variant
    assert fingerprints == {fingerprint(original.document)}
    assert len(contents) == 1


def test_tampered_amount_keeps_identity_but_changes_content(make_invoice: Callable[..., Invoice]) -> None:
    original = make_invoice()
    edited = make_invoice(amount_without_tax=200_000_00, total_with_tax=213_000_00)
    assert fingerprint(original) == fingerprint(edited)
    assert content_hash(original) != content_hash(edited)


def test_canonical_bytes_are_frozen(make_invoice: Callable[..., Invoice]) -> None:
    """These bytes are hashed into on-chain fingerprints; changing them breaks every record."""
    invoice = make_invoice()
    assert canonical_identity_bytes(invoice) == (
        b'{"invoice_code":"44001900111","invoice_number":"12345","kind":1,"seller_tax_id":"91310000MA1FL0XX1X"}'
    )
    assert canonical_content_bytes(invoice).startswith(b'{"amount_without_tax":10000000,"buyer_tax_id":')
    assert b'"due_date":"2026-06-01"' in canonical_content_bytes(invoice)


def test_kind_separates_documents_with_the_same_numbers(make_invoice: Callable[..., Invoice]) -> None:
    invoice = make_invoice()
    note = DeliveryNote(
        note_number="12345",
        carrier_tax_id=invoice.seller_tax_id,
        invoice_code=invoice.invoice_code,
        invoice_number=invoice.invoice_number,
        seller_tax_id=invoice.seller_tax_id,
        buyer_tax_id=invoice.buyer_tax_id,
        delivery_date=invoice.issue_date,
        quantity="1,000",
        amount=invoice.total_with_tax,
        currency="CNY",
    )
    assert fingerprint(note) != fingerprint(invoice)


identity = st.tuples(
    st.one_of(st.none(), st.from_regex(r"[1-9][0-9]{9,11}", fullmatch=True)),
    st.from_regex(r"[1-9][0-9]{0,19}", fullmatch=True),
    st.from_regex(r"91[0-9A-HJ-NPQRTUWXY]{16}", fullmatch=True),
)


@settings(max_examples=300)
@given(first=identity, second=identity)
def test_different_invoices_never_collide(
    first: tuple[Any, ...], second: tuple[Any, ...], make_invoice: Callable[..., Invoice]
) -> None:
    def build(code: str | None, number: str, seller: str) -> Invoice:
        return make_invoice(invoice_code=code, invoice_number=number, seller_tax_id=seller)

    a, b = build(*first), build(*second)
    same = (a.invoice_code, a.invoice_number, a.seller_tax_id) == (
        b.invoice_code,
        b.invoice_number,
        b.seller_tax_id,
    )
    assert (fingerprint(a) == fingerprint(b)) == same


def _identity(make_invoice: Callable[..., Invoice], number: str, code: str | None = None) -> str:
    return fingerprint(make_invoice(invoice_code=code, invoice_number=number))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("INV-0012", "INV-12"),
        ("INV-12", "inv-012"),
        ("INV 0012", "INV-0012 "),
        ("INV0012", "INV-000000000012"),
        ("INV-2024-000123", "INV-2024-123"),
        ("INV-2024-000123", "inv 2024 0123"),
        ("DN-0012-A", "DN-12-A"),
        ("0440 0190 0111", "044001900111"),
        ("2431 2000 0000 1234 5678", "24312000000012345678"),
    ],
)
def test_zero_padding_case_and_separators_do_not_change_an_invoice_number(
    first: str, second: str, make_invoice: Callable[..., Invoice]
) -> None:
    assert _identity(make_invoice, first) == _identity(make_invoice, second)


def test_separator_positions_are_not_part_of_an_invoice_number(make_invoice: Callable[..., Invoice]) -> None:
    """Documented merge: printings that only move or drop separators are one number (see docs)."""
    assert (
        _identity(make_invoice, "INV-1-2")
        == _identity(make_invoice, "INV-12")
        == _identity(make_invoice, "INV12")
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("INV-12", "INV-120"),
        ("INV-12", "INV-102"),
        ("INV-12", "INV-21"),
        ("INV-12", "INV-12A"),
        ("INV-12", "INVA-12"),
        ("INV-12", "INV-1"),
        ("INV-12", "12"),
        ("INV-12", "INX-12"),
        ("INV-0", "INV"),
        ("INV-2024-12", "INV-2024-120"),
        ("INV-2024-12", "INV-2025-12"),
        ("INV-2024-12", "INV-2024-1200"),
        ("12345", "123450"),
        ("12345", "10012345"),
        ("24312000000012345678", "24312000000012345670"),
    ],
)
def test_different_invoice_numbers_keep_different_fingerprints(
    first: str, second: str, make_invoice: Callable[..., Invoice]
) -> None:
    assert _identity(make_invoice, first) != _identity(make_invoice, second)


def test_an_invoice_code_tells_two_invoices_with_the_same_number_apart(
    make_invoice: Callable[..., Invoice],
) -> None:
    with_code = _identity(make_invoice, "00012345", "044001900111")
    other_code = _identity(make_invoice, "00012345", "044001900112")
    no_code = _identity(make_invoice, "00012345", None)
    assert len({with_code, other_code, no_code}) == 3
    assert (
        no_code == _identity(make_invoice, "12345", "000000000000") == _identity(make_invoice, "12345", " ")
    )
