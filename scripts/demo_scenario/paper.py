"""The trade documents behind the obligation, made the way issuers make them and read back the way
the oracles receive them.

A test certificate authority is built at run time (`oracles.testing_pki.build_pki`: root -> issuing CA ->
e-invoice platform and carrier leaves). The e-invoice platform signs the tier-1 supplier's VAT
invoice to the core enterprise; the carrier signs the delivery note against it. Both are written to
disk as an ERP and a carrier would export them (JSON, CSV with the chain in a PEM file) and loaded
back through `oracles.intake`. The reprint used in the reuse attempt is the same invoice exported
again in another format: same content, same issuer signature, same fingerprint.

The same platform signs the invoices between suppliers that the payments down the tree cite (seller:
the supplier paid, buyer: the one paying), and the documents the compliance stage's refused proposals
cite; they are exported as JSON under `trade/` and read back the same way.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from gen_documents import print_invoice

from oracles.canonical import fingerprint
from oracles.documents import DeliveryNote, Invoice
from oracles.intake import load_path
from oracles.signatures import SignedDocument, sign_document
from oracles.testing_pki import Pki, build_pki
from oracles.trust import TrustStore

VAT = Decimal("0.13")


@dataclass(frozen=True)
class Paperwork:
    pki: Pki
    invoice: SignedDocument
    delivery_note: SignedDocument
    reprint: SignedDocument
    reprint_fields: dict[str, Any]  # the reprinted invoice as exported, to show how it differs
    folder: Path

    def trust(self) -> TrustStore:
        return TrustStore([self.pki.root], [self.pki.crl])

    @property
    def fingerprints(self) -> tuple[str, str]:
        return fingerprint(self.invoice.document), fingerprint(self.delivery_note.document)


def _invoice(rng: random.Random, seller: str, buyer: str, total: int, issued: date, tenor: int) -> Invoice:
    """A VAT invoice whose total with 13% tax is exactly `total` minor units."""
    net = int((Decimal(total) / (1 + VAT)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return Invoice(
        invoice_code=str(rng.randrange(10**11, 10**12)),
        invoice_number=str(rng.randrange(1, 10**8)).zfill(8),
        issue_date=issued,
        seller_tax_id=seller,
        buyer_tax_id=buyer,
        currency="CNY",
        amount_without_tax=net,
        tax_amount=total - net,
        total_with_tax=total,
        line_items_hash="0x" + rng.randbytes(32).hex(),
        due_date=issued + timedelta(days=tenor),
    )


def _export_json(path: Path, printed: dict[str, Any], signed: SignedDocument) -> None:
    item = {"document": printed, "signature": signed.signature, "certificate_chain": signed.certificate_chain}
    path.write_text(json.dumps(item, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _export_csv(path: Path, signed: SignedDocument, chain_file: str) -> None:
    doc = signed.document
    row = {k: "" if v is None else str(v) for k, v in doc.model_dump(mode="json").items()}
    row["kind"] = "delivery_note"
    row["amount"] = f"{Decimal(doc.model_dump()['amount']).scaleb(-2):,.2f}"
    row |= {"signature": signed.signature, "certificate_chain": chain_file}
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)


def _load_one(path: Path) -> SignedDocument:
    result = load_path(path)
    if result.rejected or len(result.accepted) != 1:
        problems = "; ".join(str(e) for e in result.rejected) or f"{len(result.accepted)} documents"
        raise ValueError(f"{path}: intake refused the demo's own document: {problems}")
    return result.accepted[0]


def make_paperwork(
    folder: Path,
    rng: random.Random,
    now: datetime,
    *,
    seller: str,
    buyer: str,
    carrier: str,
    total: int,
    tenor_days: int,
) -> Paperwork:
    """Issue, sign, export and re-read the invoice and delivery note; prepare the reprint."""
    pki = build_pki(rng, now)
    issued = now.date() - timedelta(days=3)
    invoice = _invoice(rng, seller, buyer, total, issued, tenor_days + 3)
    note = DeliveryNote(
        note_number=f"DN-{rng.randrange(10**6, 10**7)}",
        carrier_tax_id=carrier,
        invoice_code=invoice.invoice_code,
        invoice_number=invoice.invoice_number,
        seller_tax_id=seller,
        buyer_tax_id=buyer,
        delivery_date=issued - timedelta(days=1),
        quantity=rng.randrange(200, 5000),
        amount=total,
        currency="CNY",
    )
    signed_invoice = sign_document(invoice, *pki.issuers["einvoice"])
    signed_note = sign_document(note, *pki.issuers["carrier"])

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "carrier-chain.pem").write_text("".join(pki.issuers["carrier"][1]))
    _export_json(folder / "invoice.json", print_invoice(invoice, rng), signed_invoice)
    _export_csv(folder / "delivery_notes.csv", signed_note, "carrier-chain.pem")
    reprint_folder = folder / "reprint"
    reprint_folder.mkdir(exist_ok=True)
    canonical = json.loads(json.dumps(invoice.model_dump(mode="json")))
    printed = print_invoice(invoice, rng)
    while printed == canonical:  # make sure the reprint really looks different
        printed = print_invoice(invoice, rng)
    _export_json(reprint_folder / "invoice-reprint.json", printed, signed_invoice)
    return Paperwork(
        pki=pki,
        invoice=_load_one(folder / "invoice.json"),
        delivery_note=_load_one(folder / "delivery_notes.csv"),
        reprint=_load_one(reprint_folder / "invoice-reprint.json"),
        reprint_fields=printed,
        folder=folder,
    )


def trade_invoice(
    paper: Paperwork,
    rng: random.Random,
    name: str,
    *,
    seller: str,
    buyer: str,
    total: int,
    issued: date,
    tenor_days: int,
) -> SignedDocument:
    """A VAT invoice from `seller` to `buyer` for `total` (tax included), signed by the e-invoice platform,
    exported as `trade/<name>.json` and read back through intake."""
    invoice = _invoice(rng, seller, buyer, total, issued, tenor_days)
    signed = sign_document(invoice, *paper.pki.issuers["einvoice"])
    folder = paper.folder / "trade"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.json"
    _export_json(path, print_invoice(invoice, rng), signed)
    return _load_one(path)


def delivery_note(paper: Paperwork, rng: random.Random, invoice: Invoice, delivered: date) -> SignedDocument:
    """The carrier's signed delivery note against `invoice`, delivered on `delivered`."""
    carrier = paper.delivery_note.document.model_dump()["carrier_tax_id"]
    note = DeliveryNote(
        note_number=f"DN-{rng.randrange(10**6, 10**7)}",
        carrier_tax_id=carrier,
        invoice_code=invoice.invoice_code,
        invoice_number=invoice.invoice_number,
        seller_tax_id=invoice.seller_tax_id,
        buyer_tax_id=invoice.buyer_tax_id,
        delivery_date=delivered,
        quantity=rng.randrange(200, 5000),
        amount=invoice.total_with_tax,
        currency=invoice.currency,
    )
    return sign_document(note, *paper.pki.issuers["carrier"])
