"""The generated demo set: deterministic, readable by intake, and refused exactly as the manifest says."""

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from oracles.checks import Participant
from oracles.documents import Invoice
from oracles.intake import load_csv_file, load_json_file, load_path
from oracles.memory import InMemoryDirectory, InMemoryFingerprintLedger
from oracles.trust import TrustStore
from oracles.verify import verify_document
from tierchain.bench.oracles import bench_verify_sign

BAD_CASES = {
    "forged",
    "einvoice-expired",
    "erp-revoked",
    "rogue",
    "carrier_signed_invoice",
    "tampered_amount",
    "reused_tampered_amount",
    "reused_reformatted",
    "unknown_buyer",
    "inactive",
    "delivery_over_invoice",
}


FIXED_NOW = datetime(2026, 3, 15, tzinfo=UTC)
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gen_documents.py"


def test_generated_set_matches_its_manifest(gen: Any, tmp_path: Path) -> None:
    manifest = gen.generate(tmp_path, seed=3, n_suppliers=12, n_invoices=15, now=FIXED_NOW)
    assert {r["case"] for r in manifest["bad"]} == BAD_CASES
    trust = TrustStore.from_folder(tmp_path / manifest["trust_store"])
    directory = InMemoryDirectory()
    for p in json.loads((tmp_path / manifest["participants"]).read_text()):
        directory.register(
            p["tax_id"], Participant(address=p["address"], roles=frozenset(p["roles"]), active=p["active"])
        )
        assert len(p["tax_id"]) == 18
    docs = tmp_path / manifest["documents"]
    everything = load_path(docs)
    assert everything.rejected == []
    assert len(everything.accepted) == len(manifest["records"])
    loaded = {
        name: (load_json_file(docs / name) if name.endswith(".json") else load_csv_file(docs / name)).accepted
        for name in ("invoices.json", "delivery_notes.csv")
    }
    ledger, now = InMemoryFingerprintLedger(), datetime.fromisoformat(manifest["now"])
    for record in manifest["records"]:
        offset = 1 if record["source"] == "invoices.json" else 2
        signed = loaded[record["source"]][record["row"] - offset]
        invoice = (
            loaded["invoices.json"][record["invoice_row"] - 1].document if "invoice_row" in record else None
        )
        assert invoice is None or isinstance(invoice, Invoice)
        verdict = verify_document(
            signed, trust=trust, directory=directory, ledger=ledger, now=now, invoice=invoice
        )
        assert sorted(verdict.codes()) == record["expected"], (record["case"], verdict.refusals)
        assert verdict.fingerprint == record["fingerprint"]
        if verdict.ok:
            ledger.mark_used(verdict.fingerprint)


def test_generation_is_deterministic(gen: Any, tmp_path: Path) -> None:
    gen.generate(tmp_path / "a", seed=5, n_suppliers=6, n_invoices=4, now=FIXED_NOW)
    gen.generate(tmp_path / "b", seed=5, n_suppliers=6, n_invoices=4, now=FIXED_NOW)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_uscc_check_character(gen: Any) -> None:
    assert gen.uscc(__import__("random").Random(1))[-1] in gen.USCC_CHARS
    body = "91350100M000100Y4"  # check character of a published code
    weights = gen.USCC_WEIGHTS
    total = sum(gen.USCC_CHARS.index(c) * w for c, w in zip(body, weights, strict=True))
    assert gen.USCC_CHARS[(31 - total % 31) % 31] == "3"


def test_benchmark_runs() -> None:
    result = bench_verify_sign(20)
    assert result["docs"] == 20 and result["docs_per_second"] > 0


def _verify_good_records_at(folder: Path, manifest: dict[str, Any], at: datetime) -> list[list[str]]:
    """Refusal codes of every record the manifest says must pass, verified at time `at`."""
    trust = TrustStore.from_folder(folder / manifest["trust_store"])
    directory = InMemoryDirectory()
    for p in json.loads((folder / manifest["participants"]).read_text()):
        directory.register(
            p["tax_id"], Participant(address=p["address"], roles=frozenset(p["roles"]), active=p["active"])
        )
    invoices = load_json_file(folder / manifest["documents"] / "invoices.json").accepted
    ledger, codes = InMemoryFingerprintLedger(), []
    for record in manifest["records"]:
        if record["source"] != "invoices.json" or record["expected"]:
            continue
        verdict = verify_document(
            invoices[record["row"] - 1], trust=trust, directory=directory, ledger=ledger, now=at
        )
        codes.append(sorted(verdict.codes()))
    return codes


def test_documents_generated_with_the_default_now_verify_today(gen: Any, tmp_path: Path) -> None:
    manifest = gen.generate(tmp_path, seed=3, n_suppliers=6, n_invoices=6)
    codes = _verify_good_records_at(tmp_path, manifest, datetime.now(UTC))
    assert codes and all(c == [] for c in codes), codes  # no CRL_STALE, no expired certificate


def test_now_option_dates_the_test_ca_and_its_crl(tmp_path: Path) -> None:
    options = ["--suppliers", "6", "--invoices", "4", "--now", "2026-03-15"]
    run = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path), *options], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["now"] == "2026-03-15T00:00:00+00:00"
    assert all(c == [] for c in _verify_good_records_at(tmp_path, manifest, FIXED_NOW))
    stale = _verify_good_records_at(tmp_path, manifest, datetime(2026, 11, 30, tzinfo=UTC))
    assert all("CRL_STALE" in c for c in stale)
