"""Canonical bytes, fingerprint and content hash of a trade document.

Two different questions are answered by two different hashes:

* **Fingerprint - "is this the same document?"** It covers only the document's *identity*: its
  kind, the party that issued it and the number that party gave it (for an invoice: kind,
  invoice code, invoice number, seller tax id). A supplier who re-submits an invoice it already
  financed - reformatted, re-exported, or with the amount edited - produces the same fingerprint,
  and the TradeRegistry refuses it as already used. If the fingerprint covered every field, an
  edited amount would yield a "new" document and double financing would succeed.
* **Content hash - "what exactly was verified?"** It covers every field. Issuers sign the
  canonical content bytes, and oracles attest to them, so any edit breaks the issuer signature.

The canonical form is JSON with sorted keys and no whitespace: kind as its on-chain number,
identifiers and legal ids normalized, amounts as int minor units, dates as ISO ``YYYY-MM-DD``,
absent optional fields as ``null`` (the rules, and why: "Canonical fingerprint rules" in
docs/oracles.md). Because normalization happens when the model is built, any
printing of a document the models accept yields the same bytes. Both hashes are keccak256 of
those bytes, so a Solidity contract or another language can recompute them. Changing anything
here changes every fingerprint ever recorded on-chain: treat this module as frozen.
"""

import json
from typing import Any

from eth_utils.crypto import keccak

from oracles.documents import DocumentKind, TradeDocument

# Who issued the document and the number they gave it. Kind is always included, so an
# invoice and a delivery note that happen to share a number never collide.
IDENTITY_FIELDS: dict[DocumentKind, tuple[str, ...]] = {
    DocumentKind.INVOICE: ("invoice_code", "invoice_number", "seller_tax_id"),
    DocumentKind.PURCHASE_ORDER: ("po_number", "buyer_tax_id"),
    DocumentKind.DELIVERY_NOTE: ("note_number", "carrier_tax_id"),
    DocumentKind.WAREHOUSE_RECEIPT: ("receipt_number", "warehouse_id"),
}


def _dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def canonical_content(document: TradeDocument) -> dict[str, Any]:
    """Every field of the document in canonical JSON types."""
    payload: dict[str, Any] = document.model_dump(mode="json")
    payload["kind"] = int(document.kind)
    return payload


def canonical_content_bytes(document: TradeDocument) -> bytes:
    """The bytes issuers sign and ``content_hash`` hashes."""
    return _dumps(canonical_content(document))


def canonical_identity_bytes(document: TradeDocument) -> bytes:
    """The bytes ``fingerprint`` hashes: kind plus the identity fields of that kind."""
    content = canonical_content(document)
    identity = {name: content[name] for name in IDENTITY_FIELDS[document.kind]}
    identity["kind"] = content["kind"]
    return _dumps(identity)


def fingerprint(document: TradeDocument) -> str:
    """0x-hex bytes32 that can back exactly one receivable, ever."""
    return "0x" + keccak(canonical_identity_bytes(document)).hex()


def content_hash(document: TradeDocument) -> str:
    """0x-hex bytes32 over every field; what the oracles vouch for."""
    return "0x" + keccak(canonical_content_bytes(document)).hex()
