"""The aggregator's HTTP intake as its own process, for tests that must see the process survive a
request. The aggregator behind it is a stand-in (no chain, no nodes): the requests these tests send
are refused, or answered, before anything would reach a node.

`python -m tests.oracles.served_aggregator PORT`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ledger.localchain import free_port
from tests.support.processes import Served, serve_module


class _StandInStore:
    def counts(self) -> dict[str, int]:
        return {}


class _StandInAggregator:
    """What `AggregatorServer` calls: nothing is stored, every run finds nothing to do."""

    store = _StandInStore()

    def run(self) -> Any:
        return SimpleNamespace(counts={})

    def add(self, documents: list[Any]) -> list[Any]:
        assert not documents, "the stand-in only serves batches whose records are all unreadable"
        return []

    def status(self, fingerprint: str) -> None:
        return None


@contextmanager
def serve_aggregator(log_path: Path) -> Iterator[Served]:
    port = free_port()
    args = ["tests.oracles.served_aggregator", str(port)]
    with serve_module("the aggregator", args, port, "/health", log_path) as served:
        yield served


def main(port: int) -> None:
    from oracles.aggregator_http import AggregatorServer

    AggregatorServer(_StandInAggregator(), port).serve_forever()  # type: ignore[arg-type]


if __name__ == "__main__":
    main(int(sys.argv[1]))
