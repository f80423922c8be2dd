"""The oracle CLI's offline command: ``status`` reads the aggregator's store."""

from pathlib import Path

from typer.testing import CliRunner

from oracles.cli import app
from oracles.store import AggregatorStore, BatchItem

FP = "0x" + "ab" * 32


def test_status_reports_a_known_document(tmp_path: Path) -> None:
    db = tmp_path / "aggregator.sqlite"
    store = AggregatorStore(db)
    store.add_new([BatchItem(fingerprint=FP, content_hash="0x" + "cd" * 32, document={"kind": 1})])
    store.close()
    result = CliRunner().invoke(app, ["status", FP, "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert '"status": "pending"' in result.output


def test_status_of_an_unknown_document_fails(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["status", FP, "--db", str(tmp_path / "empty.sqlite")])
    assert result.exit_code == 1
    assert "unknown" in result.output


def test_store_keeps_state_of_known_fingerprints(tmp_path: Path) -> None:
    store = AggregatorStore(tmp_path / "a.sqlite")
    item = BatchItem(fingerprint=FP, content_hash="0x" + "cd" * 32, document={})
    assert store.add_new([item]) == 1
    store.save_many([item.model_copy(update={"status": "attested", "tx_hash": "0x01"})])
    assert store.add_new([item]) == 0
    saved = store.get(FP.upper().replace("0X", "0x"))
    assert saved is not None and saved.status == "attested" and saved.tx_hash == "0x01"
    assert store.counts() == {"attested": 1}
