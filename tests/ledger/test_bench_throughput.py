"""`tierchain bench throughput` and `tierchain bench indexer`: the fast signer, a short run, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_utils.crypto import keccak
from typer.testing import CliRunner

from tierchain.bench.throughput import RawSigner, eth_account_signature, run_bench
from tierchain.cli import app


@pytest.mark.parametrize("nonce", [0, 1, 127, 128, 2**20])
def test_raw_signer_is_byte_identical_to_eth_account(nonce: int) -> None:
    key = keccak(text=f"key-{nonce}")
    to = bytes.fromhex("11" * 20)
    data = bytes.fromhex("a9059cbb" + "00" * 64)
    tx_hash, raw = RawSigner(key, 31337).sign(nonce, to, data, 127_128, 2_000_000_007, 1_000_000_000)
    reference = eth_account_signature(
        key,
        {"type": 2, "chainId": 31337, "nonce": nonce, "to": "0x" + to.hex(), "data": "0x" + data.hex(),
         "value": 0, "gas": 127_128, "maxFeePerGas": 2_000_000_007, "maxPriorityFeePerGas": 1_000_000_000},
    )  # fmt: skip
    assert raw == reference
    assert tx_hash == "0x" + keccak(bytes.fromhex(raw[2:])).hex()


@pytest.mark.chain
def test_short_throughput_run(project_root: Path) -> None:
    report = run_bench(
        project_root, seconds=3, senders=6, window=4, obligations=2, anchor_slices=1, slice_seconds=2
    )
    assert report.senders == 6 and report.mode.startswith("interval 1s")
    assert report.submitted > 0 and report.rejected == 0 and report.reverted == 0
    assert report.confirmed_total == report.submitted and report.unconfirmed == 0
    assert report.splits > 0 and report.transfers > 0, "pieces received are passed on whole"
    assert report.splits + report.transfers == report.submitted
    assert 0 < report.latency_p50_ms <= report.latency_p95_ms
    assert report.gas_limits["split"] > report.gas_limits["transfer"] > 21_000
    assert "coincurve" in report.signing_backend.lower()
    # the same splits, live against pre-signed, on the same chain
    anchor = report.anchor
    assert anchor is not None and anchor.slices == 1
    assert anchor.live_mined > 0 and anchor.presigned_mined > 0
    assert anchor.reverted == 0 and anchor.rejected == 0
    assert abs(anchor.ratio - anchor.live_per_s / anchor.presigned_per_s) < 0.01


def test_bench_indexer_json(project_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERCHAIN_PROJECT_ROOT", str(project_root))
    result = CliRunner().invoke(app, ["bench", "indexer", "--events", "3000", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    sqlite = figures["sqlite"]
    assert sqlite["database"] == "sqlite" and sqlite["events"] >= 3000
    assert sqlite["ingest_events_per_s"] > 0 and sqlite["replay_events_per_s"] > 0
    assert sqlite["lineage_depth"] == 10 and sqlite["lineage_ms"] >= 0
    assert sqlite["holder_list_pieces"] == 1001, "the root and the 1,000 pieces split off it"
    assert "skipped" in figures["postgresql"] or figures["postgresql"]["events"] == sqlite["events"]
