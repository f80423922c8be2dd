"""One invoice, any printing -> one fingerprint; different invoices -> different fingerprints."""

import json
import random
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from oracles.canonical import canonical_content_bytes, canonical_identity_bytes, content_hash, fingerprint
from oracles.documents import DeliveryNote, Invoice
from oracles.memory import InMemoryFingerprintLedger
from oracles.reasons import ReasonCode
from oracles.signatures import SignedDocument
from oracles.verify import verify_document


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


def printed_variant(base: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The reference invoice printed in a random but equivalent way."""
    fields: dict[str, Any] = {
        "kind": rng.choice([1, "1", "invoice", "INVOICE", " Invoice "]),
        "currency": rng.choice(["CNY", "cny", " Cny"]),
        "invoice_code": _separated(rng.choice(["044001900111", "0044001900111"]), rng),
        "invoice_number": _separated(rng.choice(["00012345", "12345", "0012345"]), rng).lower(),
        "issue_date": _date(base["issue_date"], rng),
        "due_date": _date(base["due_date"], rng),
        "seller_tax_id": rng.choice(["91310000MA1FL0XX1X", "91310000ma1fl0xx1x", "9131-0000-MA1F-L0XX1X"]),
        "buyer_tax_id": rng.choice(["91110000100000000X", " 91110000 100000000x "]),
        "amount_without_tax": _money(base["amount_without_tax"], rng),
        "tax_amount": _money(base["tax_amount"], rng),
        "total_with_tax": _money(base["total_with_tax"], rng),
        "line_items_hash": rng.choice(["0x" + "ab" * 32, "AB" * 32, "0X" + "AB" * 32]),
    }
    keys = list(fields)
    rng.shuffle(keys)
    return {key: fields[key] for key in keys}


def test_250_printings_of_one_invoice_share_one_fingerprint_and_content(
    make_invoice: Callable[..., Invoice],
    sign: Callable[..., SignedDocument],
    trust: Any,
    parties: Any,
    invoice_fields: Callable[..., dict[str, Any]],
    now: datetime,
) -> None:
    rng = random.Random(2026)
    variants: dict[str, dict[str, Any]] = {}
    while len(variants) < 250:
        variant = printed_variant(invoice_fields(), rng)
        variants[json.dumps(variant, sort_keys=False, default=str)] = variant
    original = sign(make_invoice())
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
            assert verdict.codes() == {ReasonCode.ALREADY_ATTESTED}
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
