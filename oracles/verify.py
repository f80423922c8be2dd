"""One oracle's full verification of one signed document.

Order matters only for the reader: every check runs and every refusal is reported, so the
sender can fix a document in one round trip. Nothing here marks the fingerprint as used; that
happens on-chain when the TradeRegistry accepts the quorum's attestation.
"""

import logging
from datetime import datetime

from oracles.canonical import content_hash, fingerprint
from oracles.checks import (
    CheckPolicy,
    FingerprintLedger,
    ParticipantDirectory,
    check_amounts,
    check_dates,
    check_delivery_matches_invoice,
    check_not_attested,
    check_parties,
)
from oracles.documents import DeliveryNote, Invoice
from oracles.reasons import Refusal, Verdict
from oracles.signatures import SignedDocument, verify_issuer_signature
from oracles.trust import TrustStore

logger = logging.getLogger(__name__)
_DEFAULT_POLICY = CheckPolicy()


def verify_document(
    signed: SignedDocument,
    *,
    trust: TrustStore,
    directory: ParticipantDirectory,
    ledger: FingerprintLedger,
    now: datetime,
    obligor: str | None = None,
    invoice: Invoice | None = None,
    policy: CheckPolicy = _DEFAULT_POLICY,
    known_hashes: tuple[str, str] | None = None,
) -> Verdict:
    """Verify signature, chain, parties, amounts, dates, delivery match and first use.

    ``obligor`` is the address the financing request names as payer; ``invoice`` is the invoice
    a delivery note is checked against (both optional: without them those checks are skipped).
    ``known_hashes`` is ``(fingerprint, content_hash)`` of this very document when the caller has
    just computed them (a node does, to look its store up); they are computed here otherwise.
    """
    document = signed.document
    fp, digest = known_hashes if known_hashes is not None else (fingerprint(document), content_hash(document))
    refusals: list[Refusal] = verify_issuer_signature(signed, trust, now)
    seller, buyer, party_refusals = check_parties(document, directory, policy, obligor)
    refusals += party_refusals
    refusals += check_amounts(document, policy)
    refusals += check_dates(document, now, policy)
    if isinstance(document, DeliveryNote) and invoice is not None:
        refusals += check_delivery_matches_invoice(document, invoice)
    refusals += check_not_attested(fp, ledger)
    verdict = Verdict(
        ok=not refusals,
        fingerprint=fp,
        content_hash=digest,
        refusals=tuple(refusals),
        seller_address=seller.address if seller else None,
        buyer_address=buyer.address if buyer else None,
    )
    logger.info(
        "document_verified kind=%s fingerprint=%s ok=%s codes=%s",
        document.kind.name,
        fp,
        verdict.ok,
        ",".join(sorted(verdict.codes())) or "-",
    )
    return verdict
