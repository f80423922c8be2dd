"""Three oracle nodes and the aggregator, wired as in production but in this process.

Each node is an `OracleNode` behind its own `NodeServer` thread on a free loopback port, with its
own key (the oracle participant's account) and its own SQLite store; it reads the participant and
trade registries straight from the chain. The aggregator asks all three over HTTP, keeps the
signatures that recover to active oracles over the message it built itself, and submits 2-of-3 to the
TradeRegistry through the client's transaction manager.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger.client import TierchainClient
from ledger.localchain import free_port
from oracles.aggregator import Aggregator, BatchReport
from oracles.attestation import Eip712Domain
from oracles.node import ChainDirectory, ChainFingerprintLedger, NodeServer, OracleNode
from oracles.signatures import SignedDocument
from oracles.store import AggregatorStore, BatchItem, NodeStore
from oracles.trust import TrustStore

from .cast import Party

Abis = dict[str, list[dict[str, Any]]]


def chain_views(client: TierchainClient, abis: Abis) -> tuple[ChainDirectory, ChainFingerprintLedger]:
    """The oracles' read-only views of the participant and trade registries."""
    directory = ChainDirectory(client.w3, client.registry.address, abis["ParticipantRegistry"])
    return directory, ChainFingerprintLedger(client.w3, client.trades.address, abis["TradeRegistry"])


@dataclass
class Quorum:
    client: TierchainClient
    urls: list[str]
    threshold: int
    folder: Path
    abis: Abis

    def _views(self) -> tuple[ChainDirectory, ChainFingerprintLedger]:
        return chain_views(self.client, self.abis)

    def aggregator(self, store_name: str) -> Aggregator:
        """An aggregator over its own work store; a second store is a second, independent desk."""
        directory, ledger = self._views()
        return Aggregator(
            self.client.manager,
            self.client.trades,
            directory,
            ledger,
            AggregatorStore(self.folder / f"{store_name}.sqlite"),
            self.urls,
            self.threshold,
            timeout=10.0,
        )

    def submit(
        self, store_name: str, documents: Sequence[SignedDocument]
    ) -> tuple[BatchReport, list[BatchItem]]:
        aggregator = self.aggregator(store_name)
        try:
            report = aggregator.submit(documents)
            items = [aggregator.status(fp) for fp in (*report.attested, *report.refused, *report.no_quorum)]
            return report, [i for i in items if i is not None]
        finally:
            aggregator.store.close()


@contextmanager
def oracle_quorum(
    client: TierchainClient,
    abis: Abis,
    oracles: Sequence[Party],
    trust: TrustStore,
    folder: Path,
    now: datetime,
) -> Iterator[Quorum]:
    """Start one node per oracle; every server is stopped on the way out, whatever happened."""
    folder.mkdir(parents=True, exist_ok=True)
    domain = Eip712Domain(chain_id=client.chain_id, verifying_contract=client.trades.address)
    with ExitStack() as stack:
        urls = []
        for index, oracle in enumerate(oracles, start=1):
            store = NodeStore(folder / f"node{index}.sqlite")
            stack.callback(store.close)  # callbacks run last-in first-out: the server stops first
            node = OracleNode(
                oracle.signer,
                domain,
                trust,
                *chain_views(client, abis),
                store,
                clock=lambda: now,
            )
            server = NodeServer(node, free_port()).start()
            stack.callback(server.stop)
            urls.append(server.url)
        yield Quorum(client, urls, client.oracle_threshold(), folder, abis)
