"""`gen_documents.py --seller --buyer`: one invoice between participants the user registered, which the
test CA of the same seed (the dev world's trust store) verifies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from oracles.checks import CORE_ENTERPRISE, SUPPLIER, Participant
from oracles.documents import Invoice
from oracles.intake import load_json_file
from oracles.memory import InMemoryDirectory, InMemoryFingerprintLedger
from oracles.trust import TrustStore
from oracles.verify import verify_document

NOW = datetime(2026, 3, 15, tzinfo=UTC)
SELLER, BUYER = "91310000MA1K4TIER1", "91310000MA1K4C0RE0"


def test_an_invoice_for_given_parties_names_them_and_verifies(gen: Any, tmp_path: Path) -> None:
    manifest = gen.generate_between(tmp_path, SELLER, BUYER, amount=1_130_000_00, now=NOW)
    [record] = manifest["records"]
    [signed] = load_json_file(tmp_path / "documents" / "invoices.json").accepted
    invoice = signed.document
    assert isinstance(invoice, Invoice)
    assert (invoice.seller_tax_id, invoice.buyer_tax_id) == (SELLER, BUYER)
    assert invoice.total_with_tax == 1_130_000_00 == invoice.amount_without_tax + invoice.tax_amount
    assert invoice.issue_date == NOW.date() and (invoice.due_date - invoice.issue_date).days == 90
    directory = InMemoryDirectory()
    directory.register(
        SELLER, Participant(address="0x" + "11" * 20, roles=frozenset([SUPPLIER]), active=True)
    )
    directory.register(
        BUYER, Participant(address="0x" + "22" * 20, roles=frozenset([CORE_ENTERPRISE]), active=True)
    )
    verdict = verify_document(
        signed,
        trust=TrustStore.from_folder(tmp_path / "trust"),
        directory=directory,
        ledger=InMemoryFingerprintLedger(),
        now=NOW,
    )
    assert verdict.ok, verdict.refusals
    assert verdict.fingerprint == record["fingerprint"]


def test_the_test_ca_is_the_same_as_the_full_sets_of_that_seed(gen: Any, tmp_path: Path) -> None:
    gen.generate(tmp_path / "full", seed=7, n_suppliers=4, n_invoices=2, now=NOW)
    gen.generate_between(tmp_path / "one", SELLER, BUYER, seed=7, now=NOW)
    for name in sorted(p.name for p in (tmp_path / "full" / "trust").iterdir()):
        assert (tmp_path / "full" / "trust" / name).read_bytes() == (
            tmp_path / "one" / "trust" / name
        ).read_bytes()
