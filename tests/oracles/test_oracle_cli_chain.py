"""``tierchain oracle`` against a deployment manifest: node run, submit, status, aggregator run and serve.

Nodes run as real ``oracle node run`` processes (one process, one key, as deployed) on the wall
clock, so the test PKI and the invoices are dated around today rather than the fixed test date.
"""

import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from ledger.deploy import DeployedContract, Deployment, manifest_path
from ledger.localchain import free_port
from oracles.cli import app
from oracles.signatures import sign_document

pytestmark = pytest.mark.chain
ROOT = Path(__file__).resolve().parents[2]


def _contract(address: str) -> DeployedContract:
    return DeployedContract(address=address, tx_hash="0x", block_number=0, artifact_hash="0x", code_hash="0x")


@pytest.fixture
def deployment_env(world: Any, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir holding the running chain's run file and a manifest naming the world's registries."""
    data = tmp_path / "data"
    (data / "local").mkdir(parents=True)
    shutil.copy(settings.data_dir / "local" / "anvil.json", data / "local" / "anvil.json")
    deployment = Deployment(
        network="local", chain_id=world.tx.network.chain_id, deployer=world.tx.signer.address, deploy_block=0,
        contracts={"ParticipantRegistry": _contract(world.registry.address),
                   "TradeRegistry": _contract(world.trade.address)},
        currencies={}, oracle_threshold=2, grace_period_seconds=0,
    )  # fmt: skip
    path = manifest_path(data, "local")
    path.parent.mkdir(parents=True)
    path.write_text(deployment.model_dump_json())
    for name, value in {
        "TIERCHAIN_PROJECT_ROOT": str(ROOT),
        "TIERCHAIN_DATA_DIR": str(data),
        "TIERCHAIN_BUILD_DIR": str(settings.build_dir),
    }.items():
        monkeypatch.setenv(name, value)
    return data


@pytest.fixture
def cli_nodes(world: Any, gen: Any, deployment_env: Path, tmp_path: Path) -> Iterator[tuple[list[str], Any]]:
    """Two ``oracle node run`` processes; yields their URLs and the PKI they trust."""
    pki = gen.build_pki(random.Random(12), datetime.now(UTC))
    trust = gen.write_trust_store(tmp_path / "trust", pki)
    processes, urls = [], []
    for index in range(2):
        port = free_port()
        env = {**os.environ, f"ORACLE_{index}_KEY": world.oracles[index].key.hex()}
        command = [sys.executable, "-m", "tierchain", "oracle", "node", "run", "--trust-store", str(trust),
                   "--key-env", f"ORACLE_{index}_KEY", "--port", str(port)]  # fmt: skip
        processes.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        for url, process in zip(urls, processes, strict=True):
            while True:
                assert process.poll() is None, "node process exited"
                try:
                    if httpx.get(f"{url}/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "node did not come up"
                time.sleep(0.2)
        yield urls, pki
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def _invoices(make_invoice: Any, pki: Any, n: int, first: int) -> list[Any]:
    today = datetime.now(UTC).date()
    key, chain = pki.issuers["einvoice"]
    return [
        sign_document(
            make_invoice(
                invoice_number=f"{80_000_000 + first + i}",
                issue_date=today - timedelta(days=3),
                due_date=today + timedelta(days=60),
            ),
            key,
            chain,
        )
        for i in range(n)
    ]


def test_node_run_submit_status_and_aggregator_run(
    cli_nodes: tuple[list[str], Any], make_invoice: Any, tmp_path: Path, world: Any
) -> None:
    urls, pki = cli_nodes
    docs = _invoices(make_invoice, pki, 3, 0)
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([d.model_dump(mode="json") for d in docs]))
    runner = CliRunner()
    nodes = ",".join(urls)
    submitted = runner.invoke(app, ["submit", str(batch), "--nodes", nodes, "--threshold", "2"])
    assert submitted.exit_code == 0, submitted.output
    assert '"attested": 3' in submitted.output
    assert len(world.attested_events()) == 3
    from oracles.canonical import fingerprint

    status = runner.invoke(app, ["status", fingerprint(docs[0].document)])
    assert status.exit_code == 0 and '"status": "attested"' in status.output
    again = runner.invoke(app, ["aggregator", "run", "--nodes", nodes])
    assert again.exit_code == 0 and '"attested": 3' in again.output


def test_http_intake_reports_each_record(
    cli_nodes: tuple[list[str], Any], make_invoice: Any, world: Any, make_tx: Any, tmp_path: Path
) -> None:
    from oracles.aggregator import Aggregator
    from oracles.aggregator_http import AggregatorServer
    from oracles.store import AggregatorStore

    urls, pki = cli_nodes
    aggregator = Aggregator(
        make_tx(world.journal_path), world.trade, world.directory(), world.ledger(),
        AggregatorStore(tmp_path / "agg.sqlite"), urls, 2, timeout=30.0,
    )  # fmt: skip
    server = AggregatorServer(aggregator, free_port()).start()
    try:
        good = [d.model_dump(mode="json") for d in _invoices(make_invoice, pki, 2, 10)]
        carrier = sign_document(make_invoice(invoice_number="81000000"), *pki.issuers["carrier"])
        broken = {"document": {"kind": "invoice"}, "signature": "!!", "certificate_chain": []}
        body = {"documents": [good[0], broken, good[1], carrier.model_dump(mode="json")]}
        reply = httpx.post(f"{server.url}/documents?wait=true", json=body, timeout=60)
        assert reply.status_code == 200, reply.text
        answer = reply.json()
        assert (answer["accepted"], answer["rejected"]) == (3, 1)
        results = answer["results"]
        assert [r["status"] for r in results] == ["attested", "rejected", "attested", "refused"]
        assert {e["field"] for e in results[1]["errors"]} >= {"signature", "certificate_chain"}
        assert "ISSUER_NOT_AUTHORIZED" in results[3]["reason"]
        one = httpx.get(f"{server.url}/documents/{results[0]['fingerprint']}").json()
        assert one["status"] == "attested" and "document" not in one
        # Sending an attested document again is a new submission of a used fingerprint: refused.
        queued = httpx.post(f"{server.url}/documents", json=[good[0]])
        again = queued.json()["results"][0]
        assert queued.status_code == 202 and again["status"] == "refused"
        assert [r["code"] for r in again["refusals"]] == ["ALREADY_ATTESTED"]
        assert httpx.get(f"{server.url}/documents/{again['fingerprint']}").json()["status"] == "attested"
        assert httpx.post(f"{server.url}/documents", json={"nope": 1}).status_code == 400
        assert httpx.get(f"{server.url}/documents/0x00").status_code == 404
    finally:
        server.stop()
