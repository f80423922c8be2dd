"""End-to-end throughput: n invoices through three HTTP oracle nodes, 2-of-3, onto a fresh anvil.

``bench_batch(n)`` starts its own anvil and times only the oracles' side (nodes verifying and
signing, the aggregator collecting, submitting and confirming); issuing and signing the
documents happens before the clock starts. The world is deployed on automine; the batch is then
measured on timed blocks (``block_time`` seconds, 500M gas each, as ``tierchain bench throughput``
does), the way a QBFT network seals them. Automine is no choice for the measurement: anvil leaves
some of a burst of transactions pending until the next one arrives (foundry-rs/foundry#10122), and
the last chunk of a batch has no next one. Run it directly for the real figures:

    .venv/bin/python tests/oracles/test_aggregator_bench.py 1000 10000
"""

import importlib.util
import os
import random
import sys
import tempfile
import time as clock
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ledger.compile import compile_contracts  # noqa: E402
from ledger.config import AnvilConfig, parse_network  # noqa: E402
from ledger.keys import local_accounts  # noqa: E402
from ledger.localchain import LocalChain, free_port, read_run_info  # noqa: E402
from oracles.aggregator import Aggregator  # noqa: E402
from oracles.documents import Invoice  # noqa: E402
from oracles.node import NodeServer, OracleNode  # noqa: E402
from oracles.signatures import sign_document  # noqa: E402
from oracles.store import AggregatorStore, NodeStore  # noqa: E402
from oracles.trust import TrustStore  # noqa: E402

MNEMONIC = "test test test test test test test test test test test junk"


def _load(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_batch(n: int, workdir: Path | None = None, block_time: float = 1.0) -> dict[str, float]:
    """Attest ``n`` invoices end to end; returns documents/second and the phase timings."""
    helpers = _load("oracle_test_world", Path(__file__).with_name("conftest.py"))
    gen = _load("gen_documents", ROOT / "scripts" / "gen_documents.py")
    with tempfile.TemporaryDirectory() as scratch:
        base = workdir or Path(scratch)
        now = helpers.NOW
        pki = gen.build_pki(random.Random(11), now)
        build = compile_contracts(ROOT, ROOT / "build")
        config = AnvilConfig(mnemonic=MNEMONIC, state_file=base / "anvil-state.json")
        with LocalChain(config, ROOT, base / "data", block_gas_limit=500_000_000) as chain:
            network = parse_network(ROOT / "chain_config" / "local.toml", ROOT)
            network = network.model_copy(update={"rpc_urls": [chain.url], "receipt_timeout_seconds": 60.0})
            signer = local_accounts(MNEMONIC, 1)[0]
            journal = base / "journal.sqlite"
            tx = helpers._transaction_manager(chain.url, network, signer, journal, build)
            world = helpers.deploy_oracle_world(tx, ROOT / "build", journal)
            trust = TrustStore([pki.root], [pki.crl])
            servers = [
                NodeServer(
                    OracleNode(
                        world.oracles[i], world.domain(), trust, world.directory(), world.ledger(),
                        NodeStore(base / f"node{i}.sqlite"), clock=lambda: now,
                    ),
                    free_port(),
                ).start()
                for i in range(3)
            ]  # fmt: skip
            key, chain_pems = pki.issuers["einvoice"]
            fields = helpers._invoice_fields()
            numbers = [f"{60_000_000 + i}" for i in range(n)]
            invoices = [Invoice.model_validate({**fields, "invoice_number": number}) for number in numbers]
            docs = [sign_document(invoice, key, chain_pems) for invoice in invoices]
            aggregator = Aggregator(
                tx, world.trade, world.directory(), world.ledger(),
                AggregatorStore(base / "aggregator.sqlite"), [s.url for s in servers], 2, timeout=120.0,
            )  # fmt: skip
            chain.set_mining(block_time)
            run_info = read_run_info(base / "data")
            anvil_pid = run_info.pid if run_info is not None else None
            try:
                start, cpu_start = clock.perf_counter(), clock.process_time()
                anvil_start = _cpu_of(anvil_pid) if anvil_pid else 0.0
                report = aggregator.submit(docs)
                elapsed, cpu = clock.perf_counter() - start, clock.process_time() - cpu_start
                anvil_cpu = _cpu_of(anvil_pid) - anvil_start if anvil_pid else float("nan")
            finally:
                for server in servers:
                    server.stop()
            attested = len(world.attested_events())
        if report.counts != {"attested": n} or attested != n:
            raise RuntimeError(f"benchmark batch not fully attested: {report.counts}, events={attested}")
    # cpu_seconds: this process's CPU (nodes and aggregator, all threads) over the same window, and
    # anvil's; on a machine shared with other work they are the steadier figures.
    return {
        "docs": float(n),
        "seconds": elapsed,
        "docs_per_second": n / elapsed,
        "cpu_seconds": cpu,
        "anvil_cpu_seconds": anvil_cpu,
    }


@pytest.mark.chain
def test_bench_batch_small() -> None:
    result = bench_batch(20)
    assert result["docs"] == 20


if __name__ == "__main__":
    for size in [int(a) for a in sys.argv[1:]] or [1000]:
        figures: Any = bench_batch(size)
        print(
            f"n={size}: {figures['seconds']:.1f}s, {figures['docs_per_second']:.0f} docs/s, "
            f"CPU {figures['cpu_seconds']:.1f} s here, {figures['anvil_cpu_seconds']:.1f} s in anvil",
            flush=True,
        )
