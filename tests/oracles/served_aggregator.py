"""The aggregator's HTTP intake as its own process, for tests that must see the process survive a
request. The aggregator behind it is a stand-in (no chain, no nodes): the requests these tests send
are refused, or answered, before anything would reach a node.

`python -m tests.oracles.served_aggregator PORT`.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from ledger.localchain import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]


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


@dataclass
class ServedAggregator:
    url: str
    process: subprocess.Popen[bytes]

    def alive(self) -> bool:
        if self.process.poll() is not None:
            return False
        return httpx.get(f"{self.url}/health", timeout=10).status_code == 200


@contextmanager
def serve_aggregator(log_path: Path) -> Iterator[ServedAggregator]:
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.oracles.served_aggregator", str(port)],
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the aggregator exited with {process.returncode}: see {log_path}")
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the aggregator did not come up: see {log_path}")
                time.sleep(0.1)
            yield ServedAggregator(url, process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main(port: int) -> None:
    from oracles.aggregator_http import AggregatorServer

    AggregatorServer(_StandInAggregator(), port).serve_forever()  # type: ignore[arg-type]


if __name__ == "__main__":
    main(int(sys.argv[1]))
