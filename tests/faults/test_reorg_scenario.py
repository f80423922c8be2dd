"""Scenario 2 of the consortium fault suite: reorgs of 1 .. confirmations + 2 blocks while a workload
runs through the ledger client on chain_config/local-consortium.toml (2-second blocks, confirmations 1).

The workload is scenario 1's (attest → propose → confirm → split → offer → accept, each step under an
idempotency key) with one worker. An indexer follows the chain meanwhile. For each depth k the chain
is rewound k blocks (an `evm_snapshot` taken k blocks back, `evm_revert`, then k + 1 empty blocks mined
so the new branch is the longer one): the operations the client acknowledged in those blocks are gone
from the chain. The reorg lands between two steps (the workload waits on a lock the reorg holds), so
no step is half-way through when its chain moves.

Then:
- the indexer: a reorg within the confirmation depth is rolled back and replayed (reconcile with the
  chain finds nothing); a deeper one raises DeepReorgError, reported, never silently wrong, and the
  database is indexed again from scratch (what the error asks for). Until then the stopped database
  still holds the orphaned branch: the API's readiness answers 503 with the reason at once (the lag
  alone, one block here, would still pass), so a load balancer stops sending reads to it;
- the workload re-runs every acknowledged step under its key: a step whose transaction was dropped is
  sent again (the same signed bytes; re-signed once under the journal if its nonce were taken);
- at the end, on chain: each step executed exactly once (lost 0, duplicated 0), Σ piece values == face
  per obligation, the settlement tokens conserved, and the indexer reconciles with the chain.
The tables (per operation, and per reorg with its recovery time) are printed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine

from api.config import ApiSettings
from api.routes.health import ready
from ledger.client import TierchainClient
from ledger.deploy import manifest_path
from ledger.indexer import DeepReorgError, Indexer, reconcile
from ledger.indexer.db import make_engine, upgrade
from ledger.indexer.manifest import IndexedDeployment
from ledger.indexer.source import RpcError, RpcSource
from ledger.journal import TxJournal
from tests.faults.consortium_net import CASH, System
from tests.faults.report import executed_on_chain, print_table
from tests.faults.test_rpc_failover_scenario import Ledger, Step, _one_obligation, _wait_for
from tests.ledger.indexer.helpers import dump

pytestmark = pytest.mark.chain

CHAINS = 3
KINDS = ("attest", "propose", "confirm", "split", "offer", "accept")


@dataclass
class ReorgLedger(Ledger):
    """Scenario 1's ledger, its steps run one at a time under `pause` (a reorg takes it between two
    steps), each step's action kept so it can be run again under its key."""

    pause: threading.Lock = field(default_factory=threading.Lock)
    actions: dict[str, Callable[[str], Any]] = field(default_factory=dict)

    def run(self, kind: str, key: str, action: Callable[[str], Any]) -> Any:
        with self.pause:
            self.actions[key] = action
            return super().run(kind, key, action)

    def rerun(self, step: Step) -> None:
        """The step again under its key (the caller holds `pause`): the journal answers for it. Run
        with scenario 1's retries, on a ledger of its own: a check is not a new attempt."""
        Ledger().run(step.kind, step.key, self.actions[step.key])


@dataclass
class IndexView:
    """An indexer over the consortium deployment in a database of its own, replaced when re-indexed."""

    system: System
    root: Path
    deployment: IndexedDeployment
    source: RpcSource
    generation: int = 0
    engine: Engine | None = None
    indexer: Indexer | None = None

    def database(self) -> tuple[Engine, Indexer]:
        """A new, empty database and an indexer over it."""
        self.generation += 1
        engine = make_engine(f"sqlite:///{self.root / f'index-{self.generation}.sqlite'}")
        upgrade(engine)
        indexer = Indexer(
            engine,
            self.source,
            self.deployment,
            self.system.abis,
            max_reorg_depth=self.system.network.confirmations,
        )
        return engine, indexer

    def fresh(self) -> Indexer:
        """Index again from scratch (what a DeepReorgError asks for)."""
        if self.engine is not None:
            self.engine.dispose()
        self.engine, self.indexer = self.database()
        return self.indexer

    def matches_fresh_replay(self) -> bool:
        """Whether the database equals one indexed from scratch up to the same block, table by table."""
        assert self.engine is not None and self.indexer is not None
        engine, indexer = self.database()
        try:
            indexer.sync(target=self.indexer.cursor().block_number)
            assert indexer.cursor().block_number == self.indexer.cursor().block_number
            return dump(engine) == dump(self.engine)
        finally:
            engine.dispose()

    def sync(self) -> list[int]:
        assert self.indexer is not None
        return self.indexer.sync().reorg_depths

    def readiness(self) -> tuple[int, dict[str, Any]]:
        """What the API's `/v1/ready` answers over this database (its own code, on this indexer)."""
        lag = ApiSettings.model_fields["max_indexer_lag_blocks"].default
        ctx = SimpleNamespace(
            engine=self.engine,
            deployment=self.deployment,
            indexer=self.indexer,
            source=self.source,
            api=SimpleNamespace(max_indexer_lag_blocks=lag),
        )
        answer = ready(ctx)  # type: ignore[arg-type]
        return answer.status_code, json.loads(bytes(answer.body))

    def mismatches(self) -> list[str]:
        assert self.engine is not None and self.indexer is not None
        return [str(m) for m in reconcile(self.engine, self.source, self.deployment)]


@pytest.fixture
def view(system: System, tmp_path: Path) -> Iterator[IndexView]:
    manifest = manifest_path(system.data_dir, system.network.name)
    deployment = IndexedDeployment.model_validate_json(manifest.read_text())
    source = RpcSource(system.network.rpc_urls)
    index = IndexView(system, tmp_path, deployment, source)
    index.fresh()
    try:
        yield index
    finally:
        source.close()
        if index.engine is not None:
            index.engine.dispose()


@dataclass
class Reorg:
    depth: int
    dropped_blocks: int = 0
    dropped_steps: list[str] = field(default_factory=list)
    indexer: str = ""
    fresh_replay_equal: bool | None = None  # after a rollback: the database equals a fresh replay
    stale: str | None = None  # after a DeepReorgError: the stopped database against the chain
    ready: tuple[int, dict[str, Any]] | None = None  # after a DeepReorgError: /v1/ready over it
    resent: int = 0
    resigned: int = 0
    mismatches: list[str] = field(default_factory=list)
    recovery: float = 0.0


def _head(client: TierchainClient) -> int:
    return int(client.w3.eth.block_number)


def _reorg(
    system: System, client: TierchainClient, ledger: ReorgLedger, view: IndexView, depth: int
) -> Reorg:
    """Rewind `depth` blocks while the workload runs; repair; return what happened."""
    chain = system.net.chain
    snapshots: dict[int, str] = {}
    top = _head(client)
    while True:
        before = _head(client)  # a snapshot at each height; the indexer follows
        snap = chain.snapshot()
        if _head(client) == before:
            snapshots.setdefault(before, snap)
        view.sync()
        if before >= top + depth and before - depth in snapshots:
            ledger.pause.acquire()  # between two steps: every acknowledged step is mined
            chain.rpc("evm_setIntervalMining", [0])  # no block while the branch is swapped
            head = _head(client)
            if head - depth in snapshots:
                break
            chain.set_mining(system.net.block_time)  # the step that finished took us past: go on
            ledger.pause.release()
        time.sleep(0.1)
    report = Reorg(depth)
    try:
        try:
            view.sync()
            acknowledged = [s for s in ledger.steps if s.ok]
            window = range(head - depth - 1, head + 1)
            branch = {n: client.w3.eth.get_block(n)["hash"] for n in window}
            began = time.monotonic()
            assert chain.revert(snapshots[head - depth])
            chain.mine(depth + 1)  # the new branch is the longer one
            report.dropped_blocks = sum(client.w3.eth.get_block(n)["hash"] != branch[n] for n in window)
        finally:
            chain.set_mining(system.net.block_time)
        hashes = {s.key: e.tx_hash for s in acknowledged if (e := client.manager.journal.get(s.key))}
        report.dropped_steps = [
            s.key for s in acknowledged if client.manager._receipt_or_none(hashes[s.key]) is None
        ]
        assert view.engine is not None and view.indexer is not None
        held = (view.indexer.cursor().block_number, dump(view.engine))
        try:
            depths = view.sync()
            report.indexer = f"rolled back {depths}"
            report.fresh_replay_equal = view.matches_fresh_replay()
        except DeepReorgError as exc:
            report.indexer = f"DeepReorgError(depth={exc.depth}), re-indexed"
            # It stopped, writing nothing: the database still holds the orphaned branch, as final.
            assert (view.indexer.cursor().block_number, dump(view.engine)) == held
            report.ready = view.readiness()  # the halt is on the cursor: any worker sees it
            try:
                report.stale = f"{len(view.mismatches())} mismatches"
            except RpcError as err:  # it holds an obligation the chain no longer has: slotTerms reverts
                report.stale = f"reconcile fails ({str(err)[:70].strip()})"
            view.fresh()
            view.sync()
        for step in acknowledged:  # the workload's check: each acknowledged step again, under its key
            ledger.rerun(step)
            entry = client.manager.journal.get(step.key)
            assert entry is not None and entry.status == "mined", step.key
            if step.key in report.dropped_steps:
                report.resent += 1
                report.resigned += entry.tx_hash != hashes[step.key]
        view.sync()
        report.recovery = time.monotonic() - began
        report.mismatches = view.mismatches()
    finally:
        ledger.pause.release()
    return report


def test_reorgs_during_the_workload_nothing_lost_nothing_twice(
    system: System, view: IndexView, tmp_path: Path
) -> None:
    client = system.client(tmp_path / "journal.sqlite")
    start = _head(client)
    cash_before = {b: client.cash_balance("CNY", system.actors[b].address) for b in ("bank1", "bank2")}
    ledger = ReorgLedger()
    errors: list[str] = []

    def work() -> None:
        try:
            for n in range(CHAINS):
                _one_obligation(system, client, ledger, 0, n)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    worker = threading.Thread(target=work)
    began = time.monotonic()
    worker.start()
    reorgs: list[Reorg] = []
    try:
        for depth in range(1, system.network.confirmations + 3):
            acknowledged = sum(1 for s in ledger.steps if s.ok)

            def progressed(before: int = acknowledged) -> bool:
                return sum(1 for s in ledger.steps if s.ok) > before

            _wait_for(progressed, "workload progress")
            reorgs.append(_reorg(system, client, ledger, view, depth))
    finally:
        worker.join(timeout=180)
    elapsed = time.monotonic() - began
    assert not errors, errors
    with ledger.pause:  # the last steps, checked like the others
        for step in [s for s in ledger.steps if s.ok]:
            ledger.rerun(step)
    view.sync()

    executed = executed_on_chain(client, start, ledger.obligations)
    keyed: dict[str, Callable[[dict[str, Any]], Any]] = {
        "attest": lambda o: o["fingerprint"],
        "propose": lambda o: o["fingerprint"],
        "confirm": lambda o: o["proposal"],
        "split": lambda o: o["root"],
        "offer": lambda o: o["piece"],
        "accept": lambda o: o["piece"],
    }
    dropped = {key for r in reorgs for key in r.dropped_steps}
    rows: list[tuple[str, int, int, int, int, int, int]] = []
    for kind in KINDS:
        steps = [s for s in ledger.steps if s.kind == kind]
        acked_steps = [s for s in steps if s.ok]
        counts = [executed[kind][keyed[kind](o)] for o in ledger.obligations]
        lost = sum(1 for c in counts if c == 0)
        duplicated = sum(c - 1 for c in counts if c > 1)
        resent = sum(1 for s in acked_steps if s.key in dropped)
        rows.append((kind, len(steps), len(acked_steps), sum(counts), lost, duplicated, resent))

    deepest, block_time = system.network.confirmations + 2, system.net.block_time
    print_table(
        f"scenario 2: reorgs of 1..{deepest} blocks ({block_time:g} s blocks, 1 worker)",
        rows,
        "dropped+resent",
    )
    for r in reorgs:
        print(
            f"reorg depth {r.depth}: {r.dropped_blocks} blocks dropped; acknowledged steps dropped "
            f"{r.dropped_steps}, re-sent {r.resent} (re-signed {r.resigned}); recovery {r.recovery:.1f} s"
        )
        if r.fresh_replay_equal is not None:
            print(f"  indexer {r.indexer}; equals a fresh replay: {r.fresh_replay_equal}")
        else:
            assert r.ready is not None
            status, body = r.ready
            print(f"  indexer {r.indexer}; the stopped database against the chain: {r.stale}")
            print(f"  /v1/ready over the stopped database: {status} {body}")
        print(f"  reconcile after repair: {len(r.mismatches)} mismatches")
    print(f"workload ran {elapsed:.1f} s")

    confirmations = system.network.confirmations
    assert [r.dropped_blocks for r in reorgs] == list(range(1, confirmations + 3))
    for r in reorgs:
        assert r.mismatches == [], (r.depth, r.mismatches)
        assert r.resent == len(r.dropped_steps), r
        if r.depth <= confirmations:
            assert r.indexer == f"rolled back [{r.depth}]" and r.fresh_replay_equal, r
        else:
            assert r.indexer.startswith(f"DeepReorgError(depth={r.depth})"), r
            # Not ready at once, whatever the lag, and saying why.
            assert r.ready is not None
            status, body = r.ready
            assert status == 503 and body["database"] and body["rpc"], r.ready
            assert "the indexer stopped" in body["reason"], r.ready
    assert any(r.dropped_steps for r in reorgs), "no reorg took an acknowledged operation: nothing was tested"
    assert len(ledger.obligations) == CHAINS
    for kind, attempted, acked, done, lost, dup, _resent in rows:
        assert attempted == acked == done == CHAINS, kind
        assert lost == 0 and dup == 0, kind
    for o in ledger.obligations:
        assert client.balance_of(o["root"]) + client.balance_of(o["piece"]) == o["face"]
        assert client.owner_of(o["piece"]) == o["bank"]
    # Settlement tokens conserved: what the bank paid is what the sellers received, nothing minted twice.
    tier2 = client.cash_balance("CNY", system.actors["tier2"].address)
    paid = cash_before["bank1"] - client.cash_balance("CNY", system.actors["bank1"].address)
    assert paid == tier2 > 0
    assert cash_before["bank2"] == client.cash_balance("CNY", system.actors["bank2"].address) == CASH
    assert view.mismatches() == []
    # Nothing signed twice: no journaled transaction given up ("dropped") was mined after all.
    journal = client.manager.journal
    assert isinstance(journal, TxJournal)
    for entry in journal.get_many([s.key for s in ledger.steps]).values():
        if entry.status == "dropped":
            assert client.manager._receipt_or_none(entry.tx_hash) is None, entry
