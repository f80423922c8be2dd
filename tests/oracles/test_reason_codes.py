"""Every ReasonCode is reached through ``verify_document`` by a scenario named after it."""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from eth_account import Account

from oracles.checks import CheckPolicy
from oracles.documents import DeliveryNote, Invoice
from oracles.memory import InMemoryFingerprintLedger
from oracles.reasons import ReasonCode, Verdict
from oracles.signatures import SignedDocument, sign_document
from oracles.testing_pki import issuing_crl
from oracles.trust import TrustStore
from oracles.verify import verify_document


@dataclass
class World:
    gen: Any
    pki: Any
    trust: TrustStore
    parties: Any
    ledger: InMemoryFingerprintLedger
    now: datetime
    make_invoice: Callable[..., Invoice]
    sign: Callable[..., SignedDocument]

    def verify(self, signed: SignedDocument, **kwargs: Any) -> Verdict:
        kwargs.setdefault("trust", self.trust)
        return verify_document(
            signed,
            directory=self.parties.directory,
            ledger=self.ledger,
            now=self.now,
            **kwargs,
        )

    def invoice(self, issuer: str = "einvoice", **overrides: Any) -> Verdict:
        return self.verify(self.sign(self.make_invoice(**overrides), issuer))

    def leaf(self, not_before: datetime, not_after: datetime, **kwargs: Any) -> SignedDocument:
        """An e-invoice leaf with a custom validity window or usage, signing the reference invoice."""
        rng = random.Random(5)
        key = self.gen.ec_key(rng)
        issuer = (self.pki.intermediate, self.pki.intermediate_key)
        cert = self.gen.issue_certificate(
            rng, "custom", key, issuer, not_before, not_after, ca=False, **kwargs
        )
        chain = [self.gen.pem(cert), self.gen.pem(self.pki.intermediate)]
        return self.sign_with(key, chain)

    def sign_with(self, key: Any, chain: list[str]) -> SignedDocument:
        return sign_document(self.make_invoice(), key, chain)


@pytest.fixture
def world(
    gen: Any,
    pki: Any,
    trust: TrustStore,
    parties: Any,
    ledger: InMemoryFingerprintLedger,
    now: datetime,
    make_invoice: Callable[..., Invoice],
    sign: Callable[..., SignedDocument],
) -> World:
    return World(gen, pki, trust, parties, ledger, now, make_invoice, sign)


def _tampered(w: World) -> Verdict:
    signed = w.sign(w.make_invoice())
    edited = w.make_invoice(amount_without_tax=900_000_00, total_with_tax=913_000_00)
    return w.verify(signed.model_copy(update={"document": edited}))


def _delivery(w: World) -> Verdict:
    invoice = w.make_invoice()
    note = DeliveryNote(
        note_number="DN-1",
        carrier_tax_id="91310000MA1FL0YY2Y",
        invoice_code=invoice.invoice_code,
        invoice_number="99999",
        seller_tax_id=invoice.seller_tax_id,
        buyer_tax_id=invoice.buyer_tax_id,
        delivery_date=invoice.issue_date,
        quantity=10,
        amount=invoice.total_with_tax + 1,
        currency="CNY",
    )
    return w.verify(w.sign(note, "carrier"), invoice=invoice)


def _attested(w: World) -> Verdict:
    first = w.invoice()
    assert first.ok
    w.ledger.mark_used(first.fingerprint)
    return w.invoice(invoice_number="0012345")


def _stale_crl(w: World) -> Verdict:
    crl = issuing_crl(
        w.pki.intermediate, w.pki.intermediate_key, {}, w.now - timedelta(days=40), w.now - timedelta(days=10)
    )
    return w.verify(w.sign(w.make_invoice()), trust=TrustStore([w.pki.root], [crl]))


BROKEN_PEM = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"

SCENARIOS: dict[ReasonCode, Callable[[World], Verdict]] = {
    ReasonCode.MALFORMED: lambda w: w.verify(w.sign_with(w.pki.issuers["einvoice"][0], [BROKEN_PEM])),
    ReasonCode.SIGNATURE_INVALID: _tampered,
    ReasonCode.CERT_EXPIRED: lambda w: w.invoice("einvoice-expired"),
    ReasonCode.CERT_NOT_YET_VALID: lambda w: w.verify(
        w.leaf(w.now + timedelta(days=2), w.now + timedelta(days=900))
    ),
    ReasonCode.CERT_UNTRUSTED: lambda w: w.invoice("rogue"),
    ReasonCode.CERT_REVOKED: lambda w: w.invoice("erp-revoked"),
    ReasonCode.CRL_STALE: _stale_crl,
    ReasonCode.ISSUER_NOT_AUTHORIZED: lambda w: w.invoice("carrier"),
    ReasonCode.UNKNOWN_SELLER: lambda w: w.invoice(seller_tax_id="91310000UNKNOWN001"),
    ReasonCode.UNKNOWN_BUYER: lambda w: w.invoice(buyer_tax_id="91310000UNKNOWN002"),
    ReasonCode.PARTICIPANT_INACTIVE: lambda w: w.invoice(seller_tax_id=w.parties.suspended),
    ReasonCode.WRONG_ROLE: lambda w: w.invoice(buyer_tax_id=w.parties.bank),
    ReasonCode.BUYER_NOT_OBLIGOR: lambda w: w.verify(
        w.sign(w.make_invoice()), obligor=Account.create().address
    ),
    ReasonCode.AMOUNT_NOT_POSITIVE: lambda w: w.invoice(amount_without_tax=0, tax_amount=0, total_with_tax=0),
    ReasonCode.AMOUNT_MISMATCH: lambda w: w.invoice(total_with_tax=113_000_01),
    ReasonCode.CURRENCY_UNSUPPORTED: lambda w: w.invoice(currency="HKD"),
    ReasonCode.DATE_IMPLAUSIBLE: lambda w: w.invoice(due_date=date(2026, 2, 1)),
    ReasonCode.DELIVERY_MISMATCH: _delivery,
    ReasonCode.ALREADY_ATTESTED: _attested,
}


# ATTESTATION_FAILED is the aggregator's, when the chain refuses an attestation the nodes signed.
@pytest.mark.parametrize("code", [c for c in ReasonCode if c is not ReasonCode.ATTESTATION_FAILED])
def test_every_reason_code_is_reachable(world: World, code: ReasonCode) -> None:
    verdict = SCENARIOS[code](world)
    assert not verdict.ok
    assert code in verdict.codes(), verdict.refusals
    refusal = next(r for r in verdict.refusals if r.code == code)
    assert len(refusal.message) > 15


def test_reference_invoice_passes_and_tier2_may_sell_to_tier1(world: World) -> None:
    verdict = world.invoice()
    assert verdict.ok and verdict.refusals == ()
    assert verdict.seller_address == world.parties.addresses[world.parties.seller]
    assert verdict.buyer_address == world.parties.addresses[world.parties.buyer]
    assert world.invoice("erp", seller_tax_id=world.parties.tier2, buyer_tax_id=world.parties.seller).ok
    obligor = world.parties.addresses[world.parties.buyer]
    assert world.verify(world.sign(world.make_invoice()), obligor=obligor.lower()).ok


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"issue_date": date(2026, 3, 17)}, "issue_date"),
        ({"issue_date": date(2024, 12, 1), "due_date": date(2025, 3, 1)}, "issue_date"),
        ({"due_date": date(2026, 3, 1)}, "due_date"),
        ({"due_date": date(2029, 1, 1)}, "due_date"),
    ],
)
def test_implausible_dates(world: World, overrides: dict[str, Any], field: str) -> None:
    verdict = world.invoice(**overrides)
    assert [(r.code, r.field) for r in verdict.refusals] == [(ReasonCode.DATE_IMPLAUSIBLE, field)]


def test_next_day_issue_date_is_tolerated_for_time_zones(world: World) -> None:
    assert world.invoice(issue_date=date(2026, 3, 16)).ok


def test_wrong_seller_role_and_policy_override(world: World) -> None:
    verdict = world.invoice(seller_tax_id=world.parties.buyer, buyer_tax_id=world.parties.tier2)
    assert verdict.codes() == {ReasonCode.WRONG_ROLE}
    relaxed = CheckPolicy(seller_roles=frozenset({"SUPPLIER", "CORE_ENTERPRISE"}))
    signed = world.sign(
        world.make_invoice(seller_tax_id=world.parties.buyer, buyer_tax_id=world.parties.tier2)
    )
    assert world.verify(signed, policy=relaxed).ok


def test_all_problems_are_reported_at_once(world: World) -> None:
    verdict = world.invoice(
        "einvoice-expired", buyer_tax_id="91310000UNKNOWN002", total_with_tax=1, currency="USD"
    )
    assert verdict.codes() == {ReasonCode.CERT_EXPIRED, ReasonCode.UNKNOWN_BUYER, ReasonCode.AMOUNT_MISMATCH}


def test_delivery_note_quantity_must_be_positive(world: World) -> None:
    invoice = world.make_invoice()
    note = DeliveryNote(
        note_number="DN-2",
        carrier_tax_id="91310000MA1FL0YY2Y",
        invoice_code=invoice.invoice_code,
        invoice_number=invoice.invoice_number,
        seller_tax_id=invoice.seller_tax_id,
        buyer_tax_id=invoice.buyer_tax_id,
        delivery_date=invoice.issue_date,
        quantity="0",
        amount="113,000.00",
        currency="CNY",
    )
    verdict = world.verify(world.sign(note, "carrier"), invoice=invoice)
    assert [(r.code, r.field) for r in verdict.refusals] == [(ReasonCode.AMOUNT_NOT_POSITIVE, "quantity")]
