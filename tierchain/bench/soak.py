"""Soak: the mixed multi-tier workload on the consortium-like local network while random faults hit it.

`tierchain bench soak --minutes N [--seed S] [--json]`. The network is chain_config/local-consortium.toml:
anvil on 2-second blocks, free legacy gas, one confirmation, a fault proxy (ledger/faultproxy.py) on each
RPC URL. The system is deployed and the parties registered on automine (seconds instead of minutes);
everything measured then runs on the profile's timed blocks, through the proxies.

The workload: a few workers, each carrying obligations through issue (attest → propose → confirm), down
the tiers (tier 1 splits a piece to tier 2, tier 2 pays part of it on to tier 3), financing (a bank's
offer on the last holder's piece, accepted), repayment (the obligor deposits the face) and, once the
obligation has matured, redemption by every holder. Which steps an obligation takes, its face and its
split values are drawn from the seed. Every step runs through the ledger client under an idempotency key
and the transaction journal, and is retried under that key while no node answers, as the fault tests
do (tests/faults/). An indexer follows the chain meanwhile.

The faults, from the seed: each proxy in turn of healthy and faulty stretches of a few seconds, each
faulty stretch one kind — ``drop``, ``delay``, ``error503``, ``stale`` or ``hang`` (drop, delay and hang
before or after the node handled the call) — and now and then a short reorg (1 .. confirmations + 2
blocks: rewound to an `evm_snapshot`, the new branch mined longer), taken between two steps. The
transactions it dropped are broadcast again block by block in their first order (as a node returns a
dropped block's transactions to its pool), then the steps they belonged to run again under their keys.

At the end the faults stop, the workers finish the step they are in (drain), and the chain is checked on
its own: every step's effect counted by its events (lost: acknowledged but not on chain; duplicated: on
chain more than once), Σ piece values (live pieces plus redeemed value) == face per obligation, the
settlement token conserved, no journaled transaction given up was mined after all, and a fresh index
(and the follower's) reconciles with the chain. `SoakReport` holds the table; `passed` is false when any
of that fails.
"""

from __future__ import annotations

import logging
import random
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
from eth_utils.crypto import keccak
from hexbytes import HexBytes

from ledger.client import Attestation, DayCount, DocumentKind, Terms, TierchainClient
from ledger.compile import compile_contracts
from ledger.config import NetworkConfig, PolicySpec, parse_network
from ledger.deploy import Deployment, deploy_system, manifest_path
from ledger.errors import ChainUnavailable, ErrorDecoder, ReceiptTimeout
from ledger.faultproxy import FaultKind, ProxyControl
from ledger.indexer import DeepReorgError, Indexer, reconcile
from ledger.indexer.db import make_engine, upgrade
from ledger.indexer.manifest import IndexedDeployment
from ledger.indexer.source import RpcSource
from ledger.journal import JournalEntry, TxJournal
from ledger.keys import Signer, local_accounts
from ledger.localchain import LocalChain
from ledger.rpc import make_web3
from ledger.tx import TransactionManager

log = logging.getLogger(__name__)
T = TypeVar("T")

PROFILE = "local-consortium.toml"
DAY = 86_400
CASH = 100_000_000_00  # CNY 100 million in fen, per bank and for the obligor
MATURITY_MARGIN = 20  # seconds before maturity after which an obligation takes no more pre-maturity step
RETRY_FOR = 45.0  # seconds a step keeps retrying under its key while no node answers
WORKERS = 3
ROLES = {
    "oracle1": ["ORACLE"],
    "oracle2": ["ORACLE"],
    "core": ["CORE_ENTERPRISE"],
    "tier1": ["SUPPLIER"],
    "tier2": ["SUPPLIER"],
    "tier3": ["SUPPLIER"],
    "bank1": ["BANK"],
    "bank2": ["BANK"],
    "bank3": ["BANK"],
}
ACTORS = ("admin", *ROLES)
KINDS = ("attest", "propose", "confirm", "split", "pay", "offer", "accept", "repay", "redeem")
FAULT_KINDS: tuple[FaultKind, ...] = ("drop", "delay", "error503", "stale", "hang")
# No node answered: the client's own error, a receipt not seen in time, or a plain read (a view call,
# a block) whose every node failed (`ledger.rpc.NodeUnavailable`, the HTTP library's errors: OSErrors).
UNREACHABLE = (ChainUnavailable, ReceiptTimeout, OSError)


# ----------------------------------------------------------------------------------- the network


@dataclass
class ConsortiumNet:
    """The profile's anvil (timed blocks) behind one fault proxy per RPC URL, each on a free port."""

    chain: LocalChain
    network: NetworkConfig  # the profile, its rpc_urls the proxies' and its policy the mechanics one
    controls: list[ProxyControl]

    @property
    def block_time(self) -> float:
        assert self.network.anvil is not None and self.network.anvil.block_time_seconds is not None
        return self.network.anvil.block_time_seconds

    def clear_faults(self) -> None:
        for control in self.controls:
            admin(control.clear)

    def close(self) -> None:
        for control in self.controls:
            control.close()
        self.chain.stop()


def start_consortium_net(project_root: Path, data_dir: Path, *, accounts: int = len(ACTORS)) -> ConsortiumNet:
    """Start chain_config/local-consortium.toml's anvil (state under `data_dir`) and its proxies."""
    network = parse_network(project_root / "chain_config" / PROFILE, project_root)
    if network.anvil is None or not network.anvil.fault_proxies:
        raise ValueError(f"chain_config/{PROFILE} must have an [anvil] table with fault_proxies = true")
    anvil = network.anvil.model_copy(
        update={"accounts": accounts, "state_file": data_dir / "consortium" / "anvil-state.json"}
    )
    proxies = ["http://127.0.0.1:0"] * len(network.rpc_urls)
    chain = LocalChain(anvil, project_root, data_dir, name=network.name, proxy_urls=proxies).start()
    deploy = network.deploy.model_copy(update={"policy": PolicySpec.mechanics()})
    network = network.model_copy(update={"rpc_urls": chain.rpc_urls, "anvil": anvil, "deploy": deploy})
    return ConsortiumNet(chain, network, [ProxyControl(p.admin_url) for p in chain.proxies])


@dataclass
class SoakSystem:
    net: ConsortiumNet
    deployment: Deployment
    abis: dict[str, list[dict[str, Any]]]
    actors: dict[str, Signer]
    data_dir: Path

    def client(self, journal: Path) -> TierchainClient:
        """A client over every RPC URL (the proxies), with its own nonces and journal."""
        return consortium_client(self.net.network, self.actors["admin"], self.deployment, self.abis, journal)


def consortium_client(
    network: NetworkConfig,
    admin: Signer,
    deployment: Deployment,
    abis: dict[str, list[dict[str, Any]]],
    journal: Path,
) -> TierchainClient:
    """A client of its own (transaction manager, nonces, journal) over every RPC URL of `network`,
    with short timeouts and backoff: a worker of a fault run."""
    manager = TransactionManager(
        make_web3(network.rpc_urls, timeout=5.0),
        network,
        admin,
        TxJournal(journal),
        ErrorDecoder.from_artifacts(abis),
        rpc_backoff=0.25,
    )
    return TierchainClient(manager, deployment, abis)


def deploy_soak_system(net: ConsortiumNet, project_root: Path, build_dir: Path, data_dir: Path) -> SoakSystem:
    """Deploy, register the parties, fund the banks and the obligor: on automine, then back to the
    profile's timed blocks."""
    build = compile_contracts(project_root, build_dir)
    abis = {name: artifact.abi for name, artifact in build.artifacts.items()}
    assert net.network.anvil is not None
    actors = dict(zip(ACTORS, local_accounts(net.network.anvil.mnemonic, len(ACTORS)), strict=True))
    net.chain.set_mining(None)
    try:
        manager = TransactionManager(
            make_web3(net.network.rpc_urls),
            net.network,
            actors["admin"],
            TxJournal(data_dir / "deploy-journal.sqlite"),
            ErrorDecoder.from_artifacts(abis),
        )
        outcome = deploy_system(
            manager, net.network, build.artifacts, manifest_path(data_dir, net.network.name)
        )
        client = TierchainClient(manager, outcome.deployment, abis)
        for i, (name, roles) in enumerate(ROLES.items()):
            client.register_participant(
                actors["admin"], actors[name].address, keccak(text=f"USCC-{i:04d}-{name}"), roles
            )
        for holder in ("bank1", "bank2", "bank3", "core"):
            client.mint(actors["admin"], "CNY", actors[holder].address, CASH)
    finally:
        net.chain.set_mining(net.block_time)
    return SoakSystem(net, outcome.deployment, abis, actors, data_dir)


# ----------------------------------------------------------------------------------- the workload


class PauseLock:
    """Steps share it; a reorg takes it alone, between two steps (it waits for the steps in flight)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting = 0

    @contextmanager
    def step(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


@dataclass
class Step:
    kind: str
    key: str
    effect: Any  # what identifies its effect among the chain's events
    started: float = 0.0
    ended: float = 0.0
    ok: bool | None = None
    reason: str | None = None


@dataclass
class Obligation:
    tag: str
    face: int
    fingerprint: bytes
    proposal: int | None = None
    root: int | None = None
    slot: int | None = None
    pieces: list[int] = field(default_factory=list)  # every token of the slot the workload made
    maturity: int = 0
    redeemable: list[tuple[str, int]] = field(default_factory=list)  # (holder, token) once repaid


class StepFailed(Exception):
    pass


@dataclass
class Workload:
    """What the workers attempted and what the client acknowledged."""

    steps: list[Step] = field(default_factory=list)
    actions: dict[str, Callable[[str], Any]] = field(default_factory=dict)
    obligations: list[Obligation] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    pause: PauseLock = field(default_factory=PauseLock)
    stop: threading.Event = field(default_factory=threading.Event)
    # The obligor's deposits one at a time: each sets its allowance to the desk, which another
    # deposit's approval would overwrite before the first deposit pulls it.
    repaying: threading.Lock = field(default_factory=threading.Lock)

    def run(self, kind: str, key: str, effect: Any, action: Callable[[str], Any]) -> Any:
        with self.pause.step():
            step = Step(kind, key, effect, started=time.monotonic())
            with self.lock:
                self.steps.append(step)
                self.actions[key] = action
            result = retrying(step, action)
            if not step.ok:
                raise StepFailed(f"{kind} {key}: {step.reason}")
            return result

    def acknowledged(self) -> int:
        with self.lock:
            return sum(1 for s in self.steps if s.ok)


def admin(call: Callable[[], T]) -> T:
    """A call to a proxy's admin endpoint, tried again on a slow answer (a loaded machine)."""
    for attempt in range(5):
        try:
            return call()
        except httpx.HTTPError:
            if attempt == 4:
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")


def read(fn: Callable[[], Any]) -> Any:
    """A read the workload needs between steps, retried while no node answers."""
    deadline = time.monotonic() + RETRY_FOR
    while True:
        try:
            return fn()
        except UNREACHABLE:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


def retrying(step: Step, action: Callable[[str], Any]) -> Any:
    """Run `action` under the step's key, again under the same key while no node answers: the journal
    resumes what was signed and never signs a second transaction for it."""
    deadline = time.monotonic() + RETRY_FOR
    result: Any = None
    while True:
        try:
            result = action(step.key)
        except UNREACHABLE as exc:
            if time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            step.ok, step.reason = False, f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # any other refusal ends the step, with its reason
            step.ok, step.reason = False, f"{type(exc).__name__}: {exc}"
        else:
            step.ok = True
        step.ended = time.monotonic()
        return result


class Worker:
    """Carries obligations through the lifecycle, redeeming its matured ones between new issues."""

    def __init__(
        self, system: SoakSystem, client: TierchainClient, work: Workload, index: int, rng: random.Random
    ) -> None:
        self.system, self.client, self.work, self.index, self.rng = system, client, work, index, rng
        self.waiting: list[Obligation] = []  # repaid, to redeem once matured
        self.errors: list[str] = []
        self.maturity_seconds = 60

    def __call__(self) -> None:
        n = 0
        while not self.work.stop.is_set():
            try:
                self.redeem_matured()
                if self.work.stop.is_set():
                    break
                self.one_obligation(n)
            except StepFailed as exc:
                self.errors.append(str(exc))
            except Exception as exc:  # a bug in the workload itself: reported, never hidden
                self.errors.append(f"worker {self.index}: {type(exc).__name__}: {exc}")
                log.exception("soak worker %d", self.index)
                time.sleep(1.0)
            n += 1

    def step(self, kind: str, key: str, effect: Any, action: Callable[[str], Any]) -> Any:
        if self.work.stop.is_set():
            raise StepFailed("stopped")  # draining: no new step
        return self.work.run(kind, key, effect, action)

    def redeem_matured(self) -> None:
        if not self.waiting:
            return
        now = self.chain_time()
        a = self.system.actors
        for o in [o for o in self.waiting if o.maturity < now]:
            self.waiting.remove(o)
            for holder, token in o.redeemable:
                self.step("redeem", f"{o.tag}:redeem:{token}", token, self._redeem(a[holder], token))

    def in_time(self, o: Obligation) -> bool:
        """Whether a step that must precede maturity (issue, a move, financing) still has a margin: a reorg
        re-sends a dropped step seconds later, and past maturity (or the offer's expiry) it is refused."""
        return self.chain_time() < o.maturity - MATURITY_MARGIN

    def chain_time(self) -> int:
        return int(read(lambda: self.client.w3.eth.get_block("latest"))["timestamp"])

    def _redeem(self, holder: Signer, token: int) -> Callable[[str], Any]:
        return lambda k: self.client.redeem(holder, token, key=k)

    def one_obligation(self, n: int) -> None:
        a, c, rng = self.system.actors, self.client, self.rng
        tag = f"w{self.index}o{n}"
        face = rng.randrange(10_000, 2_000_000) * 100
        now = self.chain_time()
        o = Obligation(tag, face, keccak(text=f"soak-invoice-{tag}-{rng.random()}"))
        o.maturity = now + self.maturity_seconds
        with self.work.lock:
            self.work.obligations.append(o)
        invoice = Attestation(
            fingerprint=o.fingerprint,
            kind=DocumentKind.INVOICE,
            seller=a["tier1"].address,
            buyer=a["core"].address,
            amount=face,
            currency="CNY",
            issue_date=now - DAY,
            due_date=now + 30 * DAY,
            nonce=rng.randrange(1, 2**63),
            deadline=now + DAY,
        )
        oracles = [a["oracle1"], a["oracle2"]]
        self.step(
            "attest",
            f"{tag}:attest",
            o.fingerprint,
            lambda k: c.sign_and_attest(a["oracle1"], invoice, oracles, key=k),
        )
        terms = Terms(
            supplier=a["tier1"].address,
            obligor=a["core"].address,
            currency="CNY",
            face=face,
            maturity=o.maturity,
            min_unit=100,
            documents=(invoice.fingerprint,),
        )
        if not self.in_time(o):
            return
        proposed = self.step(
            "propose", f"{tag}:propose", o.fingerprint, lambda k: c.propose(a["tier1"], terms, key=k)
        )
        o.proposal = proposed.proposal_id
        if not self.in_time(o):
            return
        issued = self.step(
            "confirm",
            f"{tag}:confirm",
            o.proposal,
            lambda k: c.confirm(a["core"], proposed.proposal_id, terms, key=k),
        )
        root = o.root = issued.token_id
        o.slot = issued.slot
        o.pieces.append(issued.token_id)
        holders = [("tier1", issued.token_id)]
        if rng.random() < 0.85 and self.in_time(o):  # tier 1 pays part of it to tier 2
            value = face * rng.randrange(20, 80) // 100 // 100 * 100
            split = self.step(
                "split",
                f"{tag}:split",
                root,
                lambda k: c.split(a["tier1"], root, a["tier2"].address, value, key=k),
            )
            o.pieces.append(split.token_id)
            holders.append(("tier2", split.token_id))
            if rng.random() < 0.7 and self.in_time(o):  # tier 2 pays part of that on to tier 3
                onward = value * rng.randrange(20, 80) // 100 // 100 * 100
                paid = self.step(
                    "pay",
                    f"{tag}:pay",
                    split.token_id,
                    lambda k: c.split(a["tier2"], split.token_id, a["tier3"].address, onward, key=k),
                )
                o.pieces.append(paid.token_id)
                holders.append(("tier3", paid.token_id))
        if rng.random() < 0.7 and self.in_time(o):  # the last holder sells its piece whole to a bank
            seller, piece = holders[-1]
            bank = f"bank{self.index % 3 + 1}"  # its own bank: an offer's approval is read-then-set
            value = read(lambda: c.balance_of(piece))
            offer = self.step(
                "offer",
                f"{tag}:offer",
                piece,
                lambda k: c.make_offer(a[bank], piece, value, 450, DayCount.ACT_360, o.maturity, key=k),
            )
            self.step(
                "accept", f"{tag}:accept", piece, lambda k: c.accept_offer(a[seller], offer.offer_id, key=k)
            )
            holders[-1] = (bank, piece)
        if rng.random() < 0.8:  # the obligor repays in full; every holder redeems at maturity
            slot = o.slot
            with self.work.repaying:
                self.step("repay", f"{tag}:repay", slot, lambda k: c.deposit(a["core"], slot, face, key=k))
            o.redeemable = holders
            self.waiting.append(o)


# ----------------------------------------------------------------------------------- faults and reorgs


@dataclass
class Episode:
    kind: str
    proxy: int
    options: dict[str, Any]
    began: float
    ended: float = 0.0
    applied: int = 0
    recovery: float | None = None  # seconds from the fault to the next acknowledged operation


@dataclass
class ReorgRecord:
    depth: int
    began: float = 0.0
    dropped_blocks: int = 0
    dropped_steps: int = 0
    resent: int = 0
    recovery: float | None = None  # seconds from the rewind to the dropped steps acknowledged again
    error: str | None = None


def fault_options(kind: str, rng: random.Random) -> dict[str, Any]:
    """A fault of `kind` with options drawn from the seed."""
    options: dict[str, Any] = {}
    if kind in ("drop", "delay", "hang"):
        options["after"] = rng.random() < 0.5
        if rng.random() < 0.5:
            options["methods"] = ["eth_sendRawTransaction"]
    if kind == "drop":
        options["count"] = rng.randrange(1, 4)
    elif kind == "hang":
        options["count"] = rng.randrange(1, 3)
    elif kind == "delay":
        options["seconds"] = round(rng.uniform(0.5, 3.0), 2)
    elif kind == "stale":
        options["blocks"] = rng.randrange(1, 4)
    return options


class FaultSchedule:
    """Per proxy, healthy and faulty stretches of a few seconds, from the seed; now and then a reorg."""

    def __init__(
        self,
        system: SoakSystem,
        client: TierchainClient,
        work: Workload,
        rng: random.Random,
        follower: Follower,
        reorg_every: float,
    ) -> None:
        self.system, self.client, self.work, self.rng, self.follower = system, client, work, rng, follower
        self.reorg_every = reorg_every
        self.episodes: list[Episode] = []
        self.reorgs: list[ReorgRecord] = []
        self.errors: list[str] = []

    def run(self, until: float) -> None:
        net = self.system.net
        rng = self.rng
        free_at = [time.monotonic() + rng.uniform(1, 4) for _ in net.controls]
        active: dict[int, Episode] = {}
        next_reorg = time.monotonic() + rng.uniform(0.5, 1.0) * self.reorg_every
        last_sync = 0.0
        while time.monotonic() < until:
            now = time.monotonic()
            for i, control in enumerate(net.controls):
                episode = active.get(i)
                if episode is not None and now >= episode.ended:
                    episode.applied = sum(admin(control.state).applied.values())
                    admin(control.clear)
                    del active[i]
                    free_at[i] = now + rng.uniform(2, 10)
                elif episode is None and now >= free_at[i] and now < next_reorg:
                    kind = rng.choice(FAULT_KINDS)
                    options = fault_options(kind, rng)
                    admin(partial(control.inject, kind, **options))
                    active[i] = Episode(kind, i, options, now, now + rng.uniform(2, 8))
                    self.episodes.append(active[i])
            if now >= next_reorg and not active:
                depth = rng.randrange(1, self.system.net.network.confirmations + 3)
                try:
                    self.reorgs.append(self.reorg(depth))
                except Exception as exc:
                    self.errors.append(f"reorg of {depth}: {type(exc).__name__}: {exc}")
                    log.exception("soak reorg")
                next_reorg = time.monotonic() + rng.uniform(0.7, 1.3) * self.reorg_every
                free_at = [time.monotonic() + rng.uniform(1, 4) for _ in net.controls]
            if now - last_sync > 3:
                self.follower.sync()
                last_sync = now
            time.sleep(0.2)
        for i, episode in active.items():
            episode.applied = sum(admin(net.controls[i].state).applied.values())
            episode.ended = time.monotonic()
        net.clear_faults()

    def _head(self) -> int:
        return int(self.system.net.chain.rpc("eth_blockNumber"), 16)

    def reorg(self, depth: int) -> ReorgRecord:
        """Rewind `depth` blocks between two steps and mine a longer branch; run the acknowledged steps
        it dropped again under their keys (scenario 2 of the fault tests, on the anvil behind the proxies)."""
        chain = self.system.net.chain
        record = ReorgRecord(depth)
        snapshots: dict[int, str] = {}
        deadline = time.monotonic() + 20 * (depth + 2) * self.system.net.block_time
        while True:
            before = self._head()
            if before not in snapshots:  # one snapshot per height: anvil keeps each until reverted
                snap = chain.snapshot()
                if self._head() == before:
                    snapshots[before] = snap
            if before - depth in snapshots:
                with self.work.pause.exclusive():
                    chain.pause_mining()  # no block while the branch is swapped
                    try:
                        head = self._head()
                        if head - depth in snapshots:
                            return self._rewind(record, snapshots[head - depth], head)
                    finally:
                        chain.set_mining(self.system.net.block_time)
            if time.monotonic() > deadline:
                raise TimeoutError(f"no snapshot {depth} blocks back")
            time.sleep(0.1)

    def _rewind(self, record: ReorgRecord, snapshot: str, head: int) -> ReorgRecord:
        chain, client, depth = self.system.net.chain, self.client, record.depth
        manager = client.manager
        window = range(head - depth - 1, head + 1)
        branch = {n: client.w3.eth.get_block(n)["hash"] for n in window}
        # The transactions in the blocks about to go (a step's own, and an approval made under its key +
        # ":approve"), with where they were mined.
        recent = time.monotonic() - 120 - 10 * depth * self.system.net.block_time
        with self.work.lock:
            candidates = [s for s in self.work.steps if s.ended >= recent]
        keys = [k for s in candidates for k in (s.key, f"{s.key}:approve")]
        entries = _journal(client).get_many(keys)
        mined: list[tuple[tuple[int, int], Step, JournalEntry]] = []
        for s in candidates:
            for k in (s.key, f"{s.key}:approve"):
                entry = entries.get(k)
                receipt = manager._receipt_or_none(entry.tx_hash) if entry is not None else None
                if entry is not None and receipt is not None and receipt["blockNumber"] > head - depth:
                    mined.append(((receipt["blockNumber"], receipt["transactionIndex"]), s, entry))
        self.follower.sync()  # the index holds the branch about to go
        record.began = time.monotonic()
        if not chain.revert(snapshot):
            raise RuntimeError(f"evm_revert to {snapshot} refused")
        chain.mine(depth + 1)  # the new branch is the longer one
        record.dropped_blocks = sum(client.w3.eth.get_block(n)["hash"] != branch[n] for n in window)
        chain.set_mining(self.system.net.block_time)
        gone = sorted(
            (m for m in mined if manager._receipt_or_none(m[2].tx_hash) is None), key=lambda m: m[0]
        )
        # The dropped transactions again, block by block as they were first mined: each sender's nonces
        # in order, and each operation after the one it needed (a confirmation after its proposal).
        for block in sorted({position[0] for position, _, _ in gone}):
            batch = [entry for position, _, entry in gone if position[0] == block]
            for entry in batch:
                try:
                    manager._broadcast(bytes(HexBytes(entry.raw_tx)), entry.tx_hash)
                except Exception as exc:  # the step's own run below re-signs it under its key if need be
                    log.info("soak reorg rebroadcast %s: %s", entry.key, exc)
            deadline = time.monotonic() + 10 * self.system.net.block_time
            while time.monotonic() < deadline and any(
                manager._receipt_or_none(entry.tx_hash) is None for entry in batch
            ):
                time.sleep(0.25)
        # Then each step whose transaction was dropped runs again under its key, as a client retrying
        # would: the journal answers with its transaction, mined again.
        dropped: list[Step] = []
        for _, step, _ in gone:
            if step not in dropped:
                dropped.append(step)
        record.dropped_steps = sum(1 for s in dropped if s.ok)
        for step in dropped:
            again = Step(step.kind, step.key, step.effect)
            retrying(again, self.work.actions[step.key])
            if step.ok and not again.ok:
                record.error = f"{step.key} not re-sent: {again.reason}"
                raise RuntimeError(record.error)
            record.resent += bool(step.ok)
        record.recovery = time.monotonic() - record.began
        self.follower.sync()
        return record


# ----------------------------------------------------------------------------------- the index


class Follower:
    """An indexer following the chain through the proxies; re-indexed from scratch after a reorg deeper
    than it may roll back (what DeepReorgError asks for)."""

    def __init__(self, system: SoakSystem, root: Path) -> None:
        self.system, self.root = system, root
        manifest = manifest_path(system.data_dir, system.net.network.name)
        self.deployment = IndexedDeployment.model_validate_json(manifest.read_text())
        self.source = RpcSource(system.net.network.rpc_urls, timeout=5.0)
        self.generation = 0
        self.rolled_back: list[int] = []
        self.deep_reorgs = 0
        self.sync_errors = 0
        self.engine, self.indexer = self.database()

    def database(self) -> tuple[Any, Indexer]:
        self.generation += 1
        engine = make_engine(f"sqlite:///{self.root / f'index-{self.generation}.sqlite'}")
        upgrade(engine)
        indexer = Indexer(
            engine,
            self.source,
            self.deployment,
            self.system.abis,
            max_reorg_depth=self.system.net.network.confirmations,
        )
        return engine, indexer

    def sync(self) -> None:
        try:
            self.rolled_back += self.indexer.sync().reorg_depths
        except DeepReorgError:
            self.deep_reorgs += 1
            self.engine.dispose()
            self.engine, self.indexer = self.database()
        except Exception as exc:  # a faulty node: the next sync tries again
            self.sync_errors += 1
            log.info("soak follower sync: %s: %s", type(exc).__name__, exc)

    def settle(self) -> None:
        """Sync until a sync succeeds (after a deep reorg, the new database's first sync)."""
        for _ in range(5):
            before = (self.generation, self.sync_errors)
            self.sync()
            if (self.generation, self.sync_errors) == before:
                return
            time.sleep(1.0)

    def mismatches(self, engine: Any) -> list[str]:
        return [str(m) for m in reconcile(engine, self.source, self.deployment)]

    def fresh_mismatches(self) -> list[str]:
        """Index from scratch to the head, then reconcile that database with the chain."""
        engine, indexer = self.database()
        try:
            indexer.sync()
            return self.mismatches(engine)
        finally:
            engine.dispose()

    def close(self) -> None:
        self.engine.dispose()
        self.source.close()


# ----------------------------------------------------------------------------------- the report


@dataclass
class SoakReport:
    minutes: float
    seed: int
    workers: int
    block_time: float
    elapsed_s: float
    operations: dict[str, dict[str, int]]
    faults: dict[str, dict[str, Any]]
    reorgs: dict[str, Any]
    indexer: dict[str, int]
    checks: dict[str, dict[str, Any]]
    failures: list[str]

    @property
    def total(self) -> dict[str, int]:
        columns = ("attempted", "acknowledged", "executed", "lost", "duplicated", "failed")
        return {c: sum(row[c] for row in self.operations.values()) for c in columns}

    @property
    def passed(self) -> bool:
        total = self.total
        return (
            total["lost"] == 0 and total["duplicated"] == 0 and all(c["passed"] for c in self.checks.values())
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "minutes": self.minutes,
            "seed": self.seed,
            "workers": self.workers,
            "block_time_s": self.block_time,
            "elapsed_s": round(self.elapsed_s, 1),
            "operations": self.operations,
            "total": self.total,
            "faults": self.faults,
            "reorgs": self.reorgs,
            "indexer": self.indexer,
            "checks": self.checks,
            "passed": self.passed,
            "failures": self.failures,
        }

    def lines(self) -> list[str]:
        """The table, as the fault tests print theirs."""
        out = [
            f"soak: {self.minutes:g} min, seed {self.seed}, {self.workers} workers, "
            f"{self.block_time:g} s blocks, ran {self.elapsed_s:.0f} s",
            f"{'operation':<10}{'attempted':>10}{'acknowledged':>14}{'executed':>10}{'lost':>6}"
            f"{'duplicated':>12}{'failed':>8}",
        ]
        for kind, r in [*self.operations.items(), ("total", self.total)]:
            out.append(
                f"{kind:<10}{r['attempted']:>10}{r['acknowledged']:>14}{r['executed']:>10}{r['lost']:>6}"
                f"{r['duplicated']:>12}{r['failed']:>8}"
            )
        out.append(f"{'fault':<10}{'episodes':>10}{'requests hit':>14}{'recovery median / max (s)':>28}")
        for kind, f in self.faults.items():
            out.append(f"{kind:<10}{f['episodes']:>10}{f['requests_hit']:>14}{_span(f):>28}")
        r = self.reorgs
        out.append(
            f"{'reorg':<10}{r['count']:>10}{'':>14}{_span(r):>28}  depths {r['depths']}, "
            f"{r['blocks_dropped']} blocks and {r['steps_dropped']} acknowledged steps dropped, "
            f"{r['resent']} re-sent"
        )
        i = self.indexer
        out.append(
            f"indexer: rolled back {i['rollbacks']} reorgs, re-indexed after {i['deep_reorgs']} deeper ones, "
            f"{i['sync_errors']} syncs failed on a faulty node and were retried"
        )
        for name, check in self.checks.items():
            out.append(f"check {name}: {'passed' if check['passed'] else 'FAILED'} ({check['detail']})")
        for failure in self.failures[:10]:
            out.append(f"failed step: {failure}")
        out.append("passed" if self.passed else "FAILED")
        return out


def _journal(client: TierchainClient) -> TxJournal:
    journal = client.manager.journal
    assert isinstance(journal, TxJournal), "the soak's clients keep a TxJournal"
    return journal


def _span(figures: dict[str, Any]) -> str:
    median, worst = figures.get("recovery_median_s"), figures.get("recovery_max_s")
    return "-" if median is None else f"{median:.1f} / {worst:.1f}"


def _recovery(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"recovery_median_s": None, "recovery_max_s": None}
    return {"recovery_median_s": round(statistics.median(values), 1), "recovery_max_s": round(max(values), 1)}


# ----------------------------------------------------------------------------------- the checks


def executed_counts(client: TierchainClient, start: int, work: Workload) -> dict[str, Counter[Any]]:
    """Each kind's effects on chain, counted by their events since `start`."""

    def logs(contract: Any, event: str) -> list[Any]:
        return list(getattr(contract.events, event)().get_logs(from_block=start, to_block="latest"))

    split_sources = {s.effect for s in work.steps if s.kind in ("split", "pay")}
    values = Counter(
        e.args._fromTokenId
        for e in logs(client.token, "TransferValue")
        if e.args._fromTokenId in split_sources and e.args._toTokenId != 0 and e.args._fromTokenId != 0
    )
    split_effects = {s.effect for s in work.steps if s.kind == "split"}
    return {
        "attest": Counter(bytes(e.args.fingerprint) for e in logs(client.trades, "DocumentAttested")),
        "propose": Counter(
            bytes(d) for e in logs(client.issuance, "ObligationProposed") for d in e.args.documents
        ),
        "confirm": Counter(e.args.proposalId for e in logs(client.issuance, "ObligationIssued")),
        "split": Counter({k: v for k, v in values.items() if k in split_effects}),
        "pay": Counter({k: v for k, v in values.items() if k not in split_effects}),
        "offer": Counter(e.args.tokenId for e in logs(client.financing, "OfferMade")),
        "accept": Counter(e.args.tokenId for e in logs(client.financing, "Financed")),
        "repay": Counter(e.args.slot for e in logs(client.repayment, "Deposited")),
        "redeem": Counter(e.args.tokenId for e in logs(client.repayment, "Redeemed")),
    }


def operation_rows(work: Workload, executed: dict[str, Counter[Any]]) -> dict[str, dict[str, int]]:
    rows: dict[str, dict[str, int]] = {}
    for kind in KINDS:
        steps = [s for s in work.steps if s.kind == kind]
        effects = {s.effect for s in steps}
        counts = {e: executed[kind][e] for e in effects}
        rows[kind] = {
            "attempted": len(steps),
            "acknowledged": sum(1 for s in steps if s.ok),
            "executed": sum(1 for c in counts.values() if c > 0),
            "lost": sum(1 for s in steps if s.ok and counts[s.effect] == 0),
            "duplicated": sum(c - 1 for c in counts.values() if c > 1),
            "failed": sum(1 for s in steps if s.ok is False),
        }
    return rows


def run_checks(
    system: SoakSystem, client: TierchainClient, work: Workload, follower: Follower, supply: int
) -> dict[str, dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}

    def check(name: str, ok: bool, detail: str) -> None:
        checks[name] = {"passed": ok, "detail": detail}

    fresh = follower.fresh_mismatches()
    check(
        "reconcile_fresh_index", not fresh, f"{len(fresh)} mismatches" + (f": {fresh[:3]}" if fresh else "")
    )
    follower.settle()
    followed = follower.mismatches(follower.engine)
    check(
        "reconcile_follower",
        not followed,
        f"{len(followed)} mismatches" + (f": {followed[:3]}" if followed else ""),
    )

    wrong: list[str] = []
    issued = [o for o in work.obligations if o.slot is not None]
    for o in issued:
        assert o.slot is not None
        live = sum(client.balance_of(t) for t in o.pieces if client.exists(t))
        redeemed = client.repayment_account(o.slot).redeemed_value
        if live + redeemed != o.face:
            wrong.append(f"{o.tag}: live {live} + redeemed {redeemed} != face {o.face}")
    check("pieces_sum_to_face", not wrong, f"{len(issued)} obligations" + (f"; {wrong[:3]}" if wrong else ""))

    token = client.erc20("CNY")
    total = int(token.functions.totalSupply().call())
    holders = [s.address for s in system.actors.values()] + [
        client.repayment.address,
        client.financing.address,
    ]
    held = sum(client.cash_balance("CNY", h) for h in holders)
    desk = client.cash_balance("CNY", client.repayment.address)
    owed = 0
    for o in issued:
        assert o.slot is not None
        account = client.repayment_account(o.slot)
        owed += account.paid - account.paid_out
    ok = total == supply == held and desk == owed
    check(
        "cash_conserved",
        ok,
        f"supply {total} (before {supply}), held by the parties and desks {held}; "
        f"repayment desk {desk}, deposits not yet paid out {owed}",
    )

    entries = _journal(client).get_many([s.key for s in work.steps])
    revived = [
        e.key
        for e in entries.values()
        if e.status == "dropped" and client.manager._receipt_or_none(e.tx_hash) is not None
    ]
    check("nothing_signed_twice", not revived, f"{len(revived)} given-up transactions mined after all")
    return checks


# ----------------------------------------------------------------------------------- the run


def run_soak(
    project_root: Path,
    build_dir: Path | None = None,
    *,
    minutes: float = 10.0,
    seed: int = 1,
    workers: int = WORKERS,
) -> SoakReport:
    """Start the consortium network, deploy, run the workload under faults for `minutes`, drain, check."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="tierchain-soak-") as tmp:
        data_dir = Path(tmp)
        net = start_consortium_net(project_root, data_dir)
        try:
            system = deploy_soak_system(net, project_root, build_dir or project_root / "build", data_dir)
            return _soak(system, data_dir, minutes=minutes, seed=seed, workers=workers, rng=rng)
        finally:
            net.close()


def _soak(
    system: SoakSystem, data_dir: Path, *, minutes: float, seed: int, workers: int, rng: random.Random
) -> SoakReport:
    client = system.client(data_dir / "journal.sqlite")
    start = int(client.w3.eth.block_number)
    supply = int(client.erc20("CNY").functions.totalSupply().call())
    work = Workload()
    follower = Follower(system, data_dir)
    seconds = minutes * 60
    crew = [Worker(system, client, work, i, random.Random(rng.random())) for i in range(workers)]
    for worker in crew:  # every obligation matures within the run when it can, to be redeemed
        worker.maturity_seconds = int(min(120, max(45, seconds / 4)))
    schedule = FaultSchedule(
        system, client, work, random.Random(rng.random()), follower, reorg_every=max(30.0, seconds / 8)
    )
    threads = [threading.Thread(target=w, name=f"soak-worker-{w.index}", daemon=True) for w in crew]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        schedule.run(began + seconds)
    finally:
        system.net.clear_faults()
        work.stop.set()  # drain: each worker finishes the step it is in
        for thread in threads:
            thread.join(timeout=RETRY_FOR + 60)
    elapsed = time.monotonic() - began
    stuck = [t.name for t in threads if t.is_alive()]

    acked = sorted(s.ended for s in work.steps if s.ok)
    for episode in schedule.episodes:
        after = [t for t in acked if t > episode.began]
        episode.recovery = (after[0] - episode.began) if after else None
    faults: dict[str, dict[str, Any]] = {}
    for kind in FAULT_KINDS:
        episodes = [e for e in schedule.episodes if e.kind == kind]
        recoveries = [e.recovery for e in episodes if e.recovery is not None]
        faults[kind] = {
            "episodes": len(episodes),
            "requests_hit": sum(e.applied for e in episodes),
            **_recovery(recoveries),
        }
    reorgs = schedule.reorgs
    reorg_figures = {
        "count": len(reorgs),
        "depths": sorted(r.depth for r in reorgs),
        "blocks_dropped": sum(r.dropped_blocks for r in reorgs),
        "steps_dropped": sum(r.dropped_steps for r in reorgs),
        "resent": sum(r.resent for r in reorgs),
        **_recovery([r.recovery for r in reorgs if r.recovery is not None]),
    }

    rows = operation_rows(work, executed_counts(client, start, work))
    try:
        checks = run_checks(system, client, work, follower, supply)
    except Exception as exc:  # reported as a failed check, with the table of what ran
        log.exception("soak checks")
        checks = {"checks_ran": {"passed": False, "detail": f"{type(exc).__name__}: {exc}"}}
    finally:
        follower.close()
    checks["reorgs_repaired"] = {
        "passed": not schedule.errors,
        "detail": f"{len(reorgs)} reorgs" + (f"; {schedule.errors[:3]}" if schedule.errors else ""),
    }
    checks["drained"] = {
        "passed": not stuck,
        "detail": "every worker finished its step" if not stuck else f"still running: {stuck}",
    }
    failures = [f"{s.kind} {s.key}: {s.reason}" for s in work.steps if s.ok is False]
    bugs = [e for w in crew for e in w.errors if not e.startswith(("worker ", "stopped"))]
    internal = [e for w in crew for e in w.errors if e.startswith("worker ")]
    checks["workload_ran"] = {
        "passed": not internal,
        "detail": f"{len(bugs)} steps refused" + (f"; {internal[:3]}" if internal else ""),
    }
    return SoakReport(
        minutes=minutes,
        seed=seed,
        workers=workers,
        block_time=system.net.block_time,
        elapsed_s=elapsed,
        operations=rows,
        faults=faults,
        reorgs=reorg_figures,
        indexer={
            "rollbacks": len(follower.rolled_back),
            "deep_reorgs": follower.deep_reorgs,
            "sync_errors": follower.sync_errors,
        },
        checks=checks,
        failures=failures,
    )
