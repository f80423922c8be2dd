"""Benchmark: ingestion rate over a synthetic history, and query latencies on the result.

Not a test (nothing is asserted): `tierchain bench indexer` (SQLite, and PostgreSQL when reachable)
or `python -m tierchain.bench.indexer 30000 [database_url]`. The
history is one obligation split over and over (three events per split, as the token emits them:
mint Transfer, SlotChanged, TransferValue), served by an in-memory `ChainSource`, so the figures
measure decoding, projection and database writes rather than the node.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from sqlalchemy import text
from sqlmodel import Session

from ledger.compile import compile_contracts, load_abis
from ledger.config import Settings
from ledger.indexer.db import make_engine, upgrade
from ledger.indexer.decode import RawLog
from ledger.indexer.ingest import Indexer, rebuild_projections
from ledger.indexer.manifest import SYSTEM_CONTRACTS, IndexedDeployment
from ledger.indexer.queries import holders, lineage
from ledger.indexer.source import Header

CHAIN_ID = 1337
TRANSFER = keccak(text="Transfer(address,address,uint256)")
SLOT_CHANGED = keccak(text="SlotChanged(uint256,uint256,uint256)")
TRANSFER_VALUE = keccak(text="TransferValue(uint256,uint256,uint256)")
SLOT_CREATED = keccak(text="SlotCreated(uint256,address,address,uint256,uint256,uint256,uint256)")


def _address(i: int) -> str:
    return "0x" + f"{i:040x}"


def _word(value: int | str) -> bytes:
    return abi_encode(["address" if isinstance(value, str) else "uint256"], [value])


class SyntheticChain:
    """A `ChainSource` over a pre-built history: one slot, then `splits` pieces split off it."""

    def __init__(self, splits: int, per_block: int = 50, deep: int = 10, seed: int = 7) -> None:
        self.token = _address(0xA000 + SYSTEM_CONTRACTS.index("ReceivableToken"))
        self._logs: dict[int, list[RawLog]] = {}
        rng = random.Random(seed)
        face = 10**30  # well above 2^63: exercises U256
        block, log_index, tx = 1, 0, 0
        pending: list[tuple[bytes, list[bytes], bytes]] = []

        def emit(topic0: bytes, topics: Sequence[int | str], data: bytes = b"") -> None:
            pending.append((topic0, [_word(t) for t in topics], data))

        def end_tx() -> None:
            nonlocal tx, block, log_index
            tx_hash = "0x" + keccak(text=f"tx{tx}").hex()
            for topic0, topics, data in pending:
                self._logs.setdefault(block, []).append(
                    RawLog(block, self._hash(block), tx_hash, log_index, self.token, (topic0, *topics), data)
                )
                log_index += 1
            pending.clear()
            tx += 1
            if tx % per_block == 0:
                block, log_index = block + 1, 0

        zero = _address(0)
        emit(TRANSFER, [zero, _address(1), 1])
        emit(SLOT_CHANGED, [1, 0, 1])
        emit(TRANSFER_VALUE, [0, 1], _word(face))
        emit(SLOT_CREATED, [1, _address(2), _address(3)], abi_encode(["uint256"] * 4, [face, 2**40, 1, 1]))
        end_tx()
        for n in range(splits):
            token_id = n + 2
            parent = token_id - 1 if n < deep else 1
            emit(TRANSFER, [zero, _address(100 + rng.randrange(200)), token_id])
            emit(SLOT_CHANGED, [token_id, 0, 1])
            emit(TRANSFER_VALUE, [parent, token_id], _word(10**6))
            end_tx()
        self.head_block = block
        self.deepest = deep + 1

    @staticmethod
    def _hash(number: int) -> str:
        return "0x" + keccak(text=f"block{number}").hex()

    def _header(self, number: int) -> Header:
        parent = self._hash(number - 1) if number > 0 else "0x" + "00" * 32
        return Header(number, self._hash(number), parent, 1_700_000_000 + number)

    def head(self) -> int:
        return self.head_block

    def headers(self, numbers: Sequence[int]) -> dict[int, Header]:
        return {n: self._header(n) for n in numbers if 0 <= n <= self.head_block}

    def logs(self, from_block: int, to_block: int, addresses: Sequence[str]) -> list[RawLog]:
        return [log for b in range(from_block, to_block + 1) for log in self._logs.get(b, [])]

    def deployment(self) -> IndexedDeployment:
        contracts = {name: {"address": _address(0xA000 + i)} for i, name in enumerate(SYSTEM_CONTRACTS)}
        return IndexedDeployment.model_validate(
            {"network": "bench", "chain_id": CHAIN_ID, "deploy_block": 1, "contracts": contracts}
        )


def _ms(fn: Any, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 2)


def bench_ingest(
    n_events: int, database_url: str | None = None, *, build_dir: Path | None = None
) -> dict[str, Any]:
    """Index a synthetic history of about `n_events` events; returns rates and query latencies."""
    chain = SyntheticChain(splits=max(n_events // 3, 11))
    assert chain.token == chain.deployment().address("ReceivableToken")
    url = database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite"
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench"))
        engine.dispose()
        engine = make_engine(url, schema="bench")
    upgrade(engine)
    settings = Settings()
    build = build_dir or settings.build_dir
    compile_contracts(settings.project_root, build)  # cached: a no-op when artifacts are current
    abis = load_abis(build)
    indexer = Indexer(engine, chain, chain.deployment(), abis, max_reorg_depth=5)
    started = time.perf_counter()
    stats = indexer.sync()
    ingest_s = time.perf_counter() - started
    with Session(engine) as session, session.begin():
        started = time.perf_counter()
        replayed = rebuild_projections(session, CHAIN_ID)
        replay_s = time.perf_counter() - started
    with Session(engine) as session:
        holder_list = holders(session, 1)
        assert holder_list is not None
        pieces = sum(len(h.tokens) for h in holder_list.holders)
        tree = lineage(session, chain.deepest)
        assert tree is not None and len(tree.ancestors) == 10
        result = {
            "database": engine.dialect.name,
            "events": stats.events,
            "ingest_seconds": round(ingest_s, 2),
            "ingest_events_per_s": round(stats.events / ingest_s),
            "replay_events_per_s": round(replayed / replay_s),
            "holder_list_pieces": pieces,
            "holder_list_ms": _ms(lambda: holders(session, 1)),
            "lineage_depth": tree.token.depth,
            "lineage_ms": _ms(lambda: lineage(session, chain.deepest)),
        }
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA bench CASCADE"))
    engine.dispose()
    return result


DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_unreachable(url: str) -> str | None:
    """Why `url` cannot be benched (None when a connection succeeds)."""
    engine = make_engine(url)
    try:
        with engine.connect():
            return None
    except Exception as exc:  # any driver or network failure means "skip", with the reason shown
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    finally:
        engine.dispose()


def run_benches(
    n_events: int, postgres_url: str | None = None, *, build_dir: Path | None = None
) -> dict[str, dict[str, Any]]:
    """SQLite always; PostgreSQL at `postgres_url`, or at the local test server when it answers.

    A `postgres_url` given explicitly must work (its failure raises); the default is skipped with
    the reason when nothing listens there.
    """
    results = {"sqlite": bench_ingest(n_events, build_dir=build_dir)}
    url = postgres_url or DEFAULT_POSTGRES_URL
    problem = None if postgres_url else postgres_unreachable(url)
    if problem is None:
        results["postgresql"] = bench_ingest(n_events, url, build_dir=build_dir)
    else:
        results["postgresql"] = {"database": "postgresql", "skipped": problem}
    return results


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 30_000
    print(json.dumps(bench_ingest(count, sys.argv[2] if len(sys.argv) > 2 else None), indent=2))
