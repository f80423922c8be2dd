"""Generate a realistic signed trade-document set with a throwaway certificate authority.

Builds the test CA of ``oracles.testing_pki`` (root -> issuing CA -> e-invoice platform, ERP,
carrier and warehouse leaves, each allowed its own document kinds), registers suppliers across
tiers with unified-social-credit-code tax ids, and writes invoices (JSON, in varied printings)
and delivery notes (CSV) plus deliberately bad cases. ``manifest.json`` lists every record with
the refusal codes an oracle must return when the records are verified in order (attested ones
being marked used), which is what the tests and demos check against. The same seed and the same
``--now`` always produce byte-identical output.

The test CA, its certificates and its CRL are dated around ``--now`` (default: today, 00:00 UTC):
the CRL is valid for 30 days after it, so documents generated today verify for a month and are then
refused as ``CRL_STALE``. Tests that rely on dates pass an explicit ``now``.

    python scripts/gen_documents.py out/ --seed 7 --suppliers 30 --invoices 60 [--now 2026-03-15]

With ``--seller`` and ``--buyer`` (legal ids of participants you registered yourself) it writes
instead one good invoice from that seller to that buyer, signed by the same test CA's e-invoice
platform, for ``--amount`` minor units with tax (default 1,130,000.00), due 90 days after ``--now``:

    python scripts/gen_documents.py out/ --seller 91310000MA1K4TIER1 --buyer 91310000MA1K4C0RE0
"""

import argparse
import csv
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from eth_account import Account

from oracles.canonical import fingerprint
from oracles.checks import CORE_ENTERPRISE, SUPPLIER
from oracles.documents import DeliveryNote, Invoice
from oracles.signatures import SignedDocument, sign_document
from oracles.testing_pki import (  # noqa: F401  (re-exported: tests reach the test CA through here)
    Pki,
    build_pki,
    ec_key,
    ed_key,
    issue_certificate,
    issuing_crl,
    pem,
    write_trust_store,
)

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
REGIONS = ("310000", "110000", "440300", "320500", "330100", "420100")


def today() -> datetime:
    """The default `now`: today at 00:00 UTC, so runs on the same day give the same bytes."""
    return datetime.combine(datetime.now(UTC).date(), datetime.min.time(), tzinfo=UTC)


def parse_now(value: str) -> datetime:
    """`2026-03-15` or `2026-03-15T12:00:00[+08:00]` (UTC unless an offset is given)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--now: {value!r} is not an ISO date or date-time") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def uscc(rng: random.Random) -> str:
    """An 18-character unified social credit code with a valid check character."""
    body = "91" + rng.choice(REGIONS) + "".join(rng.choice(USCC_CHARS) for _ in range(9))
    check = (31 - sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True)) % 31) % 31
    return body + USCC_CHARS[check]


def _money(minor: int, rng: random.Random) -> str | int:
    """Print minor units the way different systems do."""
    text = f"{Decimal(minor).scaleb(-2):.2f}"
    whole, frac = text.split(".")
    spaced = f"{int(whole):,}".replace(",", " ") + "," + frac
    options: list[str | int] = [text, f"{int(whole):,}.{frac}", minor, spaced]
    return options[rng.randrange(len(options))]


def print_invoice(invoice: Invoice, rng: random.Random) -> dict[str, Any]:
    """A printing of ``invoice`` as some ERP might export it (same content, other format)."""
    issue, due = invoice.issue_date, invoice.due_date
    dates: list[Callable[[date], str]] = [
        date.isoformat,
        lambda d: f"{d.year}/{d.month}/{d.day}",
        lambda d: d.strftime("%Y%m%d"),
    ]
    fmt = rng.choice(dates)
    code = invoice.invoice_code or ""
    return {
        "kind": rng.choice(["invoice", 1, "INVOICE"]),
        "currency": rng.choice(["CNY", "cny"]),
        "invoice_code": rng.choice([code, f"{code[:4]}-{code[4:]}", f"{code[:4]} {code[4:]}"]),
        "invoice_number": rng.choice([invoice.invoice_number.zfill(8), invoice.invoice_number]),
        "issue_date": fmt(issue),
        "seller_tax_id": rng.choice([invoice.seller_tax_id, invoice.seller_tax_id.lower()]),
        "buyer_tax_id": invoice.buyer_tax_id,
        "amount_without_tax": _money(invoice.amount_without_tax, rng),
        "tax_amount": _money(invoice.tax_amount, rng),
        "total_with_tax": _money(invoice.total_with_tax, rng),
        "line_items_hash": rng.choice([invoice.line_items_hash, invoice.line_items_hash.upper()[2:]]),
        **({"due_date": fmt(due)} if due else {}),
    }


@dataclass
class World:
    """Participants and the generator's running state."""

    rng: random.Random
    now: datetime
    participants: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    def participant(self, tier: int, roles: list[str], active: bool = True) -> dict[str, Any]:
        account = Account.from_key(self.rng.randbytes(32))
        entry = {
            "tax_id": uscc(self.rng),
            "tier": tier,
            "address": account.address,
            "roles": roles,
            "active": active,
        }
        self.participants.append(entry)
        return entry

    def invoice(self, seller: str, buyer: str) -> Invoice:
        rng = self.rng
        net = rng.randrange(10_000_00, 2_000_000_00)
        tax = int((Decimal(net) * Decimal("0.13")).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        issued = self.now.date() - timedelta(days=rng.randrange(1, 90))
        return Invoice(
            invoice_code=str(rng.randrange(10**11, 10**12)),
            invoice_number=str(rng.randrange(1, 10**8)).zfill(8),
            issue_date=issued,
            seller_tax_id=seller,
            buyer_tax_id=buyer,
            currency="CNY",
            amount_without_tax=net,
            tax_amount=tax,
            total_with_tax=net + tax,
            line_items_hash="0x" + rng.randbytes(32).hex(),
            due_date=issued + timedelta(days=rng.choice([30, 60, 90, 180])),
        )

    def record(
        self, signed: SignedDocument, source: str, expected: list[str], case: str, **extra: Any
    ) -> None:
        self.records.append(
            {
                "source": source,
                "signed": signed,
                "fingerprint": fingerprint(signed.document),
                "kind": signed.document.kind.name,
                "expected": sorted(expected),
                "case": case,
                **extra,
            }
        )


def _delivery_note(world: World, invoice: Invoice, carrier_tax_id: str, amount: int) -> DeliveryNote:
    rng = world.rng
    return DeliveryNote(
        note_number=f"DN-{rng.randrange(10**6, 10**7)}",
        carrier_tax_id=carrier_tax_id,
        invoice_code=invoice.invoice_code,
        invoice_number=invoice.invoice_number,
        seller_tax_id=invoice.seller_tax_id,
        buyer_tax_id=invoice.buyer_tax_id,
        delivery_date=invoice.issue_date - timedelta(days=rng.randrange(0, 5)),
        quantity=rng.randrange(1, 5000),
        amount=amount,
        currency=invoice.currency,
    )


def _add_bad_invoices(world: World, pki: Pki, invoices: list[Invoice], parties: dict[str, Any]) -> None:
    rng, einvoice = world.rng, pki.issuers["einvoice"]
    seller, buyer = parties["seller"]["tax_id"], parties["buyer"]["tax_id"]

    def fresh(seller_id: str = seller, buyer_id: str = buyer) -> Invoice:
        return world.invoice(seller_id, buyer_id)

    world.record(
        sign_document(fresh(), ec_key(rng), einvoice[1]), "invoices.json", ["SIGNATURE_INVALID"], "forged"
    )
    for issuer, code in (
        ("einvoice-expired", "CERT_EXPIRED"),
        ("erp-revoked", "CERT_REVOKED"),
        ("rogue", "CERT_UNTRUSTED"),
    ):
        world.record(sign_document(fresh(), *pki.issuers[issuer]), "invoices.json", [code], issuer)
    world.record(
        sign_document(fresh(), *pki.issuers["carrier"]),
        "invoices.json",
        ["ISSUER_NOT_AUTHORIZED"],
        "carrier_signed_invoice",
    )
    for original, codes, case in (
        (fresh(), ["SIGNATURE_INVALID"], "tampered_amount"),
        (invoices[1], ["SIGNATURE_INVALID", "ALREADY_ATTESTED"], "reused_tampered_amount"),
    ):
        signed = sign_document(original, *einvoice)
        bump = 1_000_00
        tampered = original.model_copy(
            update={
                "amount_without_tax": original.amount_without_tax + bump,
                "total_with_tax": original.total_with_tax + bump,
            }
        )
        forged = SignedDocument(
            document=tampered, signature=signed.signature, certificate_chain=signed.certificate_chain
        )
        world.record(forged, "invoices.json", codes, case)
    world.record(
        sign_document(invoices[0], *einvoice), "invoices.json", ["ALREADY_ATTESTED"], "reused_reformatted"
    )
    world.record(
        sign_document(fresh(buyer_id=uscc(rng)), *einvoice),
        "invoices.json",
        ["UNKNOWN_BUYER"],
        "unknown_buyer",
    )
    inactive = parties["inactive"]["tax_id"]
    world.record(
        sign_document(fresh(seller_id=inactive), *einvoice),
        "invoices.json",
        ["PARTICIPANT_INACTIVE"],
        "inactive",
    )


def _write(out_dir: Path, world: World, pki: Pki) -> dict[str, Any]:
    docs, certs = out_dir / "documents", out_dir / "documents" / "certs"
    for folder in (docs, certs):
        folder.mkdir(parents=True, exist_ok=True)
    write_trust_store(out_dir / "trust", pki)
    (certs / "carrier-chain.pem").write_text("".join(pki.issuers["carrier"][1]))
    json_items, csv_rows, manifest_records = [], [], []
    for record in world.records:
        signed: SignedDocument = record.pop("signed")
        doc = signed.document
        if record["source"] == "invoices.json" and isinstance(doc, Invoice):
            json_items.append(
                {
                    "document": print_invoice(doc, world.rng),
                    "signature": signed.signature,
                    "certificate_chain": signed.certificate_chain,
                }
            )
            record["row"] = len(json_items)
        else:
            row = {k: str(v) if v is not None else "" for k, v in doc.model_dump(mode="json").items()}
            row["kind"] = "delivery_note"
            row["amount"] = f"{Decimal(doc.model_dump()['amount']).scaleb(-2):,.2f}"
            csv_rows.append(
                {**row, "signature": signed.signature, "certificate_chain": "certs/carrier-chain.pem"}
            )
            record["row"] = len(csv_rows) + 1
        manifest_records.append(record)
    (docs / "invoices.json").write_text(json.dumps(json_items, indent=2, ensure_ascii=False) + "\n")
    if csv_rows:
        with (docs / "delivery_notes.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(csv_rows[0]))
            writer.writeheader()
            writer.writerows(csv_rows)
    (out_dir / "participants.json").write_text(json.dumps(world.participants, indent=2) + "\n")
    manifest = {
        "now": world.now.isoformat(),
        "trust_store": "trust",
        "documents": "documents",
        "participants": "participants.json",
        "records": manifest_records,
        "bad": [r for r in manifest_records if r["expected"]],
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def generate(
    out_dir: Path, seed: int = 7, n_suppliers: int = 24, n_invoices: int = 40, now: datetime | None = None
) -> dict[str, Any]:
    """Write trust store, documents, participants and manifest under ``out_dir``; return the manifest.

    ``now`` dates the CA, the CRL and the documents (default: today, 00:00 UTC).

    Records are listed in verification order: a record whose ``expected`` is empty must pass
    and is then marked used; the rest must be refused with exactly the listed codes.
    """
    now = now or today()
    rng = random.Random(seed)
    pki = build_pki(rng, now)
    world = World(rng=rng, now=now)
    cores = [world.participant(0, [CORE_ENTERPRISE]) for _ in range(max(2, n_suppliers // 8))]
    world.participant(0, ["BANK"])
    tier1 = [world.participant(1, [SUPPLIER]) for _ in range(max(2, n_suppliers // 3))]
    tier2 = [world.participant(2, [SUPPLIER]) for _ in range(max(2, n_suppliers - len(tier1)))]
    inactive = world.participant(2, [SUPPLIER], active=False)
    carrier_tax_id = uscc(rng)
    invoices: list[Invoice] = []
    for index in range(max(2, n_invoices)):
        seller, buyer = (
            (rng.choice(tier1), rng.choice(cores)) if index % 3 else (rng.choice(tier2), rng.choice(tier1))
        )
        issuer = "einvoice" if index % 2 == 0 else "erp"
        invoice = world.invoice(seller["tax_id"], buyer["tax_id"])
        world.record(sign_document(invoice, *pki.issuers[issuer]), "invoices.json", [], "good", issuer=issuer)
        invoices.append(invoice)
    _add_bad_invoices(world, pki, invoices, {"seller": tier1[0], "buyer": cores[0], "inactive": inactive})
    carrier = pki.issuers["carrier"]
    for index, invoice in enumerate(invoices[::3]):
        over = index == 1
        note = _delivery_note(world, invoice, carrier_tax_id, invoice.total_with_tax + (1 if over else 0))
        expected = ["DELIVERY_MISMATCH"] if over else []
        world.record(
            sign_document(note, *carrier),
            "delivery_notes.csv",
            expected,
            "delivery_over_invoice" if over else "good",
            invoice_row=invoices.index(invoice) + 1,
        )
    return _write(out_dir, world, pki)


def generate_between(
    out_dir: Path,
    seller: str,
    buyer: str,
    amount: int = 1_130_000_00,
    seed: int = 7,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One good invoice from ``seller`` to ``buyer`` (their legal ids) for ``amount`` minor units with
    13% VAT included, issued on ``now`` and due 90 days later, signed by the test CA of ``seed``."""
    now = now or today()
    rng = random.Random(seed)
    pki = build_pki(rng, now)  # first, as in generate(): the same seed gives the same CA
    world = World(rng=rng, now=now)
    net = int((Decimal(amount) / Decimal("1.13")).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    invoice = world.invoice(seller, buyer).model_copy(
        update={
            "issue_date": now.date(),
            "due_date": now.date() + timedelta(days=90),
            "amount_without_tax": net,
            "tax_amount": amount - net,
            "total_with_tax": amount,
        }
    )
    world.participants += [
        {"tax_id": invoice.seller_tax_id, "tier": 1, "roles": [SUPPLIER], "active": True},
        {"tax_id": invoice.buyer_tax_id, "tier": 0, "roles": [CORE_ENTERPRISE], "active": True},
    ]
    world.record(
        sign_document(invoice, *pki.issuers["einvoice"]), "invoices.json", [], "good", issuer="einvoice"
    )
    return _write(out_dir, world, pki)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--suppliers", type=int, default=24)
    parser.add_argument("--invoices", type=int, default=40)
    parser.add_argument(
        "--now", type=parse_now, default=None, help="date the CA, CRL and documents (default: today, UTC)"
    )
    parser.add_argument("--seller", help="legal id of the invoice's seller (with --buyer: one invoice)")
    parser.add_argument("--buyer", help="legal id of the invoice's buyer (with --seller)")
    parser.add_argument(
        "--amount", type=int, default=1_130_000_00, help="with --seller: total with tax, minor units"
    )
    args = parser.parse_args()
    if (args.seller is None) != (args.buyer is None):
        parser.error("--seller and --buyer go together")
    if args.seller is not None:
        manifest = generate_between(args.out_dir, args.seller, args.buyer, args.amount, args.seed, args.now)
    else:
        manifest = generate(args.out_dir, args.seed, args.suppliers, args.invoices, args.now)
    print(f"wrote {len(manifest['records'])} documents ({len(manifest['bad'])} bad) to {args.out_dir}")


if __name__ == "__main__":
    main()
