"""Business consistency checks a document must pass before oracles attest to it.

The checks need two views of the world the oracles do not own: who the registered participants
are (``ParticipantDirectory``, backed by the on-chain registry keyed by ``legal_id_hash``) and
which fingerprints already back a receivable (``FingerprintLedger``). Both are Protocols so a
node can back them with the chain client and tests with dictionaries. Each check returns
refusals instead of raising, so a sender learns everything wrong with a document at once.
"""

from collections.abc import Set
from datetime import date, datetime, timedelta
from typing import Protocol

from eth_utils.address import to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, field_validator

from oracles.documents import (
    DeliveryNote,
    Invoice,
    TradeDocument,
    WarehouseReceipt,
    document_date,
    due_date,
    face_amount,
    parties,
)
from oracles.money import format_minor_units
from oracles.normalize import legal_id_hash
from oracles.reasons import ReasonCode, Refusal

SUPPLIER = "SUPPLIER"
CORE_ENTERPRISE = "CORE_ENTERPRISE"
BANK = "BANK"


class Participant(BaseModel):
    """A registered legal entity as the participant registry knows it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str
    roles: frozenset[str]
    active: bool = True

    @field_validator("address")
    @classmethod
    def _checksum(cls, value: str) -> str:
        return to_checksum_address(value)


class ParticipantDirectory(Protocol):
    """Looks participants up by ``legal_id_hash`` of their tax id."""

    def lookup(self, legal_id_hash: str) -> Participant | None: ...


class FingerprintLedger(Protocol):
    """Knows whether a fingerprint already backs a receivable (or was attested)."""

    def is_used(self, fingerprint: str) -> bool: ...


class CheckPolicy(BaseModel):
    """Deployment limits; the defaults suit a CNY-first supply-chain finance network."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    supported_currencies: frozenset[str] = frozenset({"CNY", "USD", "EUR", "JPY"})
    # Dates are calendar days in the issuer's time zone; UTC+14 is a day ahead of UTC.
    future_skew: timedelta = timedelta(days=1)
    max_document_age: timedelta = timedelta(days=400)
    max_tenor: timedelta = timedelta(days=730)
    seller_roles: frozenset[str] = Field(default=frozenset({SUPPLIER}))
    buyer_roles: frozenset[str] = Field(default=frozenset({CORE_ENTERPRISE, SUPPLIER}))


def _party(
    tax_id: str, field: str, allowed: Set[str], directory: ParticipantDirectory, unknown: ReasonCode
) -> tuple[Participant | None, list[Refusal]]:
    participant = directory.lookup(legal_id_hash(tax_id))
    if participant is None:
        return None, [Refusal(code=unknown, field=field, message=f"{tax_id} is not a registered participant")]
    refusals = []
    if not participant.active:
        refusals.append(
            Refusal(code=ReasonCode.PARTICIPANT_INACTIVE, field=field, message=f"{tax_id} is suspended")
        )
    if not participant.roles & allowed:
        refusals.append(
            Refusal(
                code=ReasonCode.WRONG_ROLE,
                field=field,
                message=f"{tax_id} holds roles {sorted(participant.roles)}, needs one of {sorted(allowed)}",
            )
        )
    return participant, refusals


def check_parties(
    document: TradeDocument, directory: ParticipantDirectory, policy: CheckPolicy, obligor: str | None = None
) -> tuple[Participant | None, Participant | None, list[Refusal]]:
    """Seller and buyer must be active participants in the right roles; buyer must be the obligor."""
    seller_id, buyer_id = parties(document)
    seller_field = "seller_tax_id" if buyer_id is not None else "depositor_tax_id"
    seller, refusals = _party(
        seller_id, seller_field, policy.seller_roles, directory, ReasonCode.UNKNOWN_SELLER
    )
    buyer = None
    if buyer_id is not None:
        buyer, more = _party(
            buyer_id, "buyer_tax_id", policy.buyer_roles, directory, ReasonCode.UNKNOWN_BUYER
        )
        refusals += more
        if obligor is not None and buyer is not None and buyer.address != to_checksum_address(obligor):
            refusals.append(
                Refusal(
                    code=ReasonCode.BUYER_NOT_OBLIGOR,
                    field="buyer_tax_id",
                    message=f"the buyer {buyer_id} is not the obligor {obligor} named in the request",
                )
            )
    return seller, buyer, refusals


def check_amounts(document: TradeDocument, policy: CheckPolicy) -> list[Refusal]:
    """Positive amounts, supported currency, and an invoice total that adds up."""
    refusals: list[Refusal] = []
    if document.currency not in policy.supported_currencies:
        refusals.append(
            Refusal(
                code=ReasonCode.CURRENCY_UNSUPPORTED,
                field="currency",
                message=(
                    f"{document.currency} is not financed here; "
                    f"supported: {sorted(policy.supported_currencies)}"
                ),
            )
        )
    if isinstance(document, Invoice):
        money = {"amount_without_tax": document.amount_without_tax, "total_with_tax": document.total_with_tax}
        if document.tax_amount < 0:
            money["tax_amount"] = document.tax_amount
        expected = document.amount_without_tax + document.tax_amount
        if expected != document.total_with_tax:
            refusals.append(
                Refusal(
                    code=ReasonCode.AMOUNT_MISMATCH,
                    field="total_with_tax",
                    message=(
                        f"total {format_minor_units(document.total_with_tax, document.currency)} "
                        f"is not amount plus tax ({format_minor_units(expected, document.currency)})"
                    ),
                )
            )
    else:
        money = {"amount": face_amount(document)}
        if isinstance(document, DeliveryNote | WarehouseReceipt):
            money["quantity"] = document.quantity
    for field, value in money.items():
        if value <= 0:
            refusals.append(
                Refusal(code=ReasonCode.AMOUNT_NOT_POSITIVE, field=field, message=f"{field} must be positive")
            )
    return refusals


def _date_refusal(field: str, message: str) -> Refusal:
    return Refusal(code=ReasonCode.DATE_IMPLAUSIBLE, field=field, message=message)


def check_dates(document: TradeDocument, now: datetime, policy: CheckPolicy) -> list[Refusal]:
    """Issued not in the future nor too long ago; due after issue and within the tenor limit."""
    issued = document_date(document)
    field = {"PURCHASE_ORDER": "order_date", "DELIVERY_NOTE": "delivery_date"}.get(
        document.kind.name, "issue_date"
    )
    today = now.date()
    refusals = []
    if issued > (now + policy.future_skew).date():
        refusals.append(_date_refusal(field, f"{field} {issued} is in the future (today is {today})"))
    if issued < (now - policy.max_document_age).date():
        refusals.append(
            _date_refusal(field, f"{field} {issued} is older than {policy.max_document_age.days} days")
        )
    due: date | None = due_date(document)
    if due is not None:
        if due <= issued:
            refusals.append(_date_refusal("due_date", f"due date {due} is not after the issue date {issued}"))
        elif due > issued + policy.max_tenor:
            refusals.append(
                _date_refusal(
                    "due_date", f"due date {due} is more than {policy.max_tenor.days} days after issue"
                )
            )
    return refusals


def check_delivery_matches_invoice(note: DeliveryNote, invoice: Invoice) -> list[Refusal]:
    """A delivery note must deliver against this invoice, between the same parties, within its value."""
    problems = []
    if (note.invoice_code, note.invoice_number) != (invoice.invoice_code, invoice.invoice_number):
        problems.append(("invoice_number", "refers to a different invoice"))
    if (note.seller_tax_id, note.buyer_tax_id) != (invoice.seller_tax_id, invoice.buyer_tax_id):
        problems.append(("seller_tax_id", "names different parties than the invoice"))
    if note.currency != invoice.currency:
        problems.append(("currency", f"is in {note.currency} but the invoice is in {invoice.currency}"))
    elif note.amount > invoice.total_with_tax:
        problems.append(("amount", "delivers more value than the invoice total"))
    return [
        Refusal(code=ReasonCode.DELIVERY_MISMATCH, field=field, message=f"the delivery note {text}")
        for field, text in problems
    ]


def check_not_attested(fingerprint: str, ledger: FingerprintLedger) -> list[Refusal]:
    """A fingerprint backs one receivable, ever; reformatted or edited copies share it."""
    if not ledger.is_used(fingerprint):
        return []
    return [
        Refusal(
            code=ReasonCode.ALREADY_ATTESTED,
            field=None,
            message=f"this document (fingerprint {fingerprint}) is already used",
        )
    ]
