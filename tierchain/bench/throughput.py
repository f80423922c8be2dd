"""Receivable operations per second on a throwaway anvil: many suppliers splitting and transferring at once.

Setup (not timed): a fresh chain, the real deployment (`deploy_system`), a few obligations issued to a
tier-1 supplier and split out so each of `senders` suppliers holds one large piece. Then, for
`seconds`, every supplier keeps a window of operations in flight on its own nonce stream: it splits a
minimum unit off its piece to the next supplier, or, once it has been paid pieces, passes one of them
on whole. Pieces a supplier receives are learned from the receipts, so no sender ever waits on
another's nonce.

The hot path is what a bulk submitter should be: calldata packed with eth_abi against precomputed
selectors, one gas limit per operation kind (estimated once, with the network's head-room), no
journal and no idempotency keys, EIP-1559 signing straight on coincurve (byte-identical to
eth-account's, without its per-call validation), and JSON-RPC arrays over kept-alive httpx
connections for broadcasts and for receipts. Submitter threads overlap signing with the node's work;
one poller confirms by receipts fetched in batches and measures each operation from the moment its
batch left to the moment its receipt was seen.

The chain runs as `LocalChain` would for development: automine (a block per transaction) unless
`block_time` asks for interval mining, which is how a real chain seals blocks.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import coincurve
import rlp  # type: ignore[import-untyped]
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_utils.crypto import keccak
from web3 import Web3

from ledger.client import Attestation, DocumentKind, Terms, TierchainClient
from ledger.compile import compile_contracts
from ledger.config import AnvilConfig, NetworkConfig, PolicySpec, parse_network
from ledger.deploy import deploy_system, manifest_path
from ledger.errors import ErrorDecoder, TierchainError
from ledger.gas import fee_fields, gas_limit
from ledger.journal import TxJournal
from ledger.keys import Signer, local_accounts, signing_backend
from ledger.localchain import LocalChain
from ledger.nonce import NonceManager
from ledger.rpc import JsonRpc, make_web3
from ledger.tx import TransactionManager

log = logging.getLogger(__name__)

DAY = 86_400
SPLIT_SELECTOR = keccak(text="transferFrom(uint256,address,uint256)")[:4]
TRANSFER_SELECTOR = keccak(text="transferFrom(address,address,uint256)")[:4]
TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
MIN_UNIT = 100
PIECE_VALUE = 10**12  # each supplier's piece: far more than a run can split off it


class BenchError(TierchainError):
    """The benchmark could not run (setup failed, or the node refused the workload)."""


class RawSigner:
    """EIP-1559 transactions signed straight on coincurve, for bulk paths where eth-account's
    per-call validation costs more than the signature (~0.08 ms against ~0.9 ms on one core).

    The bytes are exactly eth-account's: same RLP, same RFC 6979 nonce (tests compare the two).
    """

    def __init__(self, private_key: bytes, chain_id: int) -> None:
        self._key = coincurve.PrivateKey(private_key)
        self.chain_id = chain_id
        self.address = Web3.to_checksum_address(
            keccak(self._key.public_key.format(compressed=False)[1:])[-20:]
        )

    def sign(
        self, nonce: int, to: bytes, data: bytes, gas: int, max_fee: int, priority_fee: int, value: int = 0
    ) -> tuple[str, str]:
        """(transaction hash, raw transaction), both 0x-hex."""
        fields: list[Any] = [self.chain_id, nonce, priority_fee, max_fee, gas, to, value, data, []]
        signature = self._key.sign_recoverable(keccak(b"\x02" + rlp.encode(fields)), hasher=None)
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:64], "big")
        raw = b"\x02" + rlp.encode([*fields, signature[64], r, s])
        return "0x" + keccak(raw).hex(), "0x" + raw.hex()


@dataclass
class _Sender:
    signer: RawSigner
    piece: int
    next_to: bytes
    owned: deque[int] = field(default_factory=deque)
    in_flight: int = 0
    ops: int = 0


@dataclass
class _Pending:
    sender: int
    kind: str
    sent_at: float


@dataclass
class ThroughputReport:
    mode: str
    seconds: float
    senders: int
    submitter_threads: int
    signing_backend: str
    submitted: int
    submitted_per_s: float
    mined_in_window: int
    mined_per_s: float
    confirmed_total: int
    reverted: int
    rejected: int
    unconfirmed: int
    splits: int
    transfers: int
    latency_p50_ms: float
    latency_p95_ms: float
    blocks: int
    gas_limits: dict[str, int]
    anchor: AnchorComparison | None = None  # against anvil fed pre-signed splits, same chain, same run

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class ThroughputRun:
    """The timed part: submitter threads, a receipt poller, counters. Built on a deployed system."""

    def __init__(
        self,
        url: str,
        network: NetworkConfig,
        token: str,
        senders: list[_Sender],
        gas: dict[str, int],
        *,
        threads: int = 2,
        window: int = 16,
        receipt_batch: int = 500,
        splits_only: bool = False,
        presigned: list[deque[tuple[str, str, str]]] | None = None,
    ) -> None:
        """`splits_only`: every operation a split (no whole transfers, which depend on receipts).
        `presigned`: per sender, (kind, hash, raw) transactions signed before the run, sent as they
        are instead of built and signed in the loop; the run ends when they are all sent."""
        self.splits_only = splits_only
        self.presigned = presigned
        self.url = url
        self.network = network
        self.token = bytes.fromhex(token[2:])
        self.token_lower = token.lower()
        self.senders = senders
        self.by_address = {s.signer.address.lower(): i for i, s in enumerate(senders)}
        self.gas = gas
        self.threads = threads
        self.window = window
        self.receipt_batch = receipt_batch
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        self._latencies: list[float] = []
        self._confirmed_at: list[float] = []
        self.submitted = self.reverted = self.rejected = self.splits = self.transfers = 0
        self._fees: dict[str, int] = {}
        self._stop_submitting = threading.Event()
        self._stop_polling = threading.Event()
        self._errors: list[BaseException] = []

    # ------------------------------------------------------------------ fees and nonces

    def _refresh_fees(self, rpc: JsonRpc) -> None:
        block = rpc.call("eth_getBlockByNumber", ["latest", False]).result
        fees = fee_fields(self.network.gas, base_fee_wei=int(block.get("baseFeePerGas", "0x0"), 16))
        self._fees = fees

    # ------------------------------------------------------------------ submitters

    def _build(self, index: int, nonce: int) -> tuple[str, str, str]:
        """(kind, hash, raw) of the sender's next operation."""
        s = self.senders[index]
        fees = self._fees
        s.ops += 1
        if s.owned and s.ops % 2 == 0 and not self.splits_only:
            token_id = s.owned.popleft()
            kind = "transfer"
            data = TRANSFER_SELECTOR + abi_encode(
                ["address", "address", "uint256"], [s.signer.address, "0x" + s.next_to.hex(), token_id]
            )
        else:
            kind = "split"
            data = SPLIT_SELECTOR + abi_encode(
                ["uint256", "address", "uint256"], [s.piece, "0x" + s.next_to.hex(), MIN_UNIT]
            )
        tx_hash, raw = s.signer.sign(
            nonce, self.token, data, self.gas[kind], fees["maxFeePerGas"], fees["maxPriorityFeePerGas"]
        )
        return kind, tx_hash, raw

    def _submit_loop(self, mine: list[int], nonces: NonceManager, rpc: JsonRpc) -> None:
        try:
            last_fees = time.monotonic()
            while not self._stop_submitting.is_set():
                if time.monotonic() - last_fees > 1.0:
                    self._refresh_fees(rpc)
                    last_fees = time.monotonic()
                batch: list[tuple[str, str, str, int]] = []
                with self._lock:
                    room = {i: self.window - self.senders[i].in_flight for i in mine}
                for i, free in room.items():
                    if free <= 0:
                        continue
                    if self.presigned is not None:
                        queue = self.presigned[i]
                        for _ in range(min(free, len(queue))):
                            kind, tx_hash, raw = queue.popleft()
                            batch.append((kind, tx_hash, raw, i))
                        continue
                    address = self.senders[i].signer.address
                    with nonces.reserve(address, free) as first:
                        for k in range(free):
                            kind, tx_hash, raw = self._build(i, first + k)
                            batch.append((kind, tx_hash, raw, i))
                if not batch:
                    if self.presigned is not None and not any(self.presigned[i] for i in mine):
                        return  # this thread's share is all sent
                    time.sleep(0.002)
                    continue
                sent_at = time.perf_counter()
                with self._lock:
                    for kind, tx_hash, _, i in batch:
                        self._pending[tx_hash] = _Pending(i, kind, sent_at)
                        self.senders[i].in_flight += 1
                results = rpc.batch([("eth_sendRawTransaction", [raw]) for _, _, raw, _ in batch])
                refused = [(b, r.message) for b, r in zip(batch, results, strict=True) if r.error]
                refused_hashes = {b[1] for b, _ in refused}
                with self._lock:
                    self.submitted += len(batch) - len(refused)
                    for kind, tx_hash, _, _ in batch:
                        if tx_hash in refused_hashes:
                            continue
                        if kind == "split":
                            self.splits += 1
                        else:
                            self.transfers += 1
                    for (_, tx_hash, _, i), _message in refused:
                        self._pending.pop(tx_hash, None)
                        self.senders[i].in_flight -= 1
                        self.rejected += 1
                for (_, _, _, i), message in refused[:3]:
                    address = self.senders[i].signer.address
                    log.warning("bench tx refused sender=%s error=%s", address, message)
                for i in {i for (_, _, _, i), _ in refused}:
                    nonces.resync(self.senders[i].signer.address)
        except BaseException as exc:  # surfaced by run(); a dead thread must not hang the bench
            self._errors.append(exc)
            self._stop_submitting.set()

    # ------------------------------------------------------------------ receipts

    def _poll_loop(self, rpc: JsonRpc, first_block: int) -> None:
        """Follow the head; each new block's receipts come in one `eth_getBlockReceipts` (several
        blocks in one JSON-RPC array). A node without that method gets receipts by hash, batched."""
        by_block = True
        seen_block = first_block
        try:
            while True:
                if self._stop_polling.is_set():
                    with self._lock:
                        done = not self._pending
                    if done or time.perf_counter() > self._drain_deadline:
                        return
                head = int(rpc.call("eth_blockNumber", []).result, 16)
                if head <= seen_block:
                    time.sleep(0.005)
                    continue
                receipts: list[dict[str, Any]] = []
                if by_block:
                    numbers = range(seen_block + 1, head + 1)
                    results = rpc.batch([("eth_getBlockReceipts", [hex(n)]) for n in numbers])
                    if any(r.error for r in results):
                        log.info("eth_getBlockReceipts unsupported, polling receipts by hash")
                        by_block = False
                    else:
                        receipts = [x for r in results for x in r.result or []]
                if not by_block:
                    with self._lock:
                        hashes = list(self._pending)[: self.receipt_batch]
                    results = rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
                    receipts = [r.result for r in results if r.result]
                seen = time.perf_counter()
                seen_block = head
                with self._lock:
                    for receipt in receipts:
                        pending = self._pending.pop(receipt["transactionHash"], None)
                        if pending is None:
                            continue
                        self.senders[pending.sender].in_flight -= 1
                        if receipt["status"] != "0x1":
                            self.reverted += 1
                            continue
                        self._latencies.append(seen - pending.sent_at)
                        self._confirmed_at.append(seen)
                        self._credit(receipt)
        except BaseException as exc:
            self._errors.append(exc)
            self._stop_submitting.set()

    def _credit(self, receipt: dict[str, Any]) -> None:
        """Pieces a receipt moved to a supplier join its pool (a split's mint, a whole transfer)."""
        for entry in receipt["logs"]:
            topics = entry["topics"]
            if len(topics) == 4 and topics[0] == TRANSFER_TOPIC and entry["address"] == self.token_lower:
                to = self.by_address.get("0x" + topics[2][-40:])
                if to is not None:
                    self.senders[to].owned.append(int(topics[3], 16))

    # ------------------------------------------------------------------ run

    def run(self, seconds: float, drain_seconds: float = 30.0) -> dict[str, Any]:
        clients = [JsonRpc(self.url) for _ in range(self.threads + 1)]
        nonces = NonceManager(
            lambda a: int(clients[0].call("eth_getTransactionCount", [a, "pending"]).result, 16)
        )
        self._refresh_fees(clients[0])
        head_before = int(clients[0].call("eth_blockNumber", []).result, 16)
        self._drain_deadline = float("inf")
        shares = [list(range(t, len(self.senders), self.threads)) for t in range(self.threads)]
        workers = [
            threading.Thread(target=self._submit_loop, args=(shares[t], nonces, clients[t]), daemon=True)
            for t in range(self.threads)
        ]
        poller = threading.Thread(target=self._poll_loop, args=(clients[-1], head_before), daemon=True)
        started = time.perf_counter()
        poller.start()
        for w in workers:
            w.start()
        deadline = started + seconds
        while not self._stop_submitting.is_set() and any(w.is_alive() for w in workers):
            if time.perf_counter() >= deadline:
                break
            self._stop_submitting.wait(min(0.05, max(0.0, deadline - time.perf_counter())))
        exhausted = self.presigned is not None and not self._errors and time.perf_counter() < deadline
        self._stop_submitting.set()
        ended = time.perf_counter()
        for w in workers:
            w.join()
        self._drain_deadline = time.perf_counter() + drain_seconds
        self._stop_polling.set()
        poller.join()
        head_after = int(clients[0].call("eth_blockNumber", []).result, 16)
        for c in clients:
            c.close()
        if self._errors:
            raise BenchError(f"bench worker failed: {self._errors[0]!r}") from self._errors[0]
        if exhausted and self._confirmed_at:
            # every pre-signed one was sent before the deadline: the window runs to the last receipt
            ended = max(self._confirmed_at)
        window = ended - started
        in_window = sum(1 for t in self._confirmed_at if t <= ended)
        return {
            "seconds": round(window, 2),
            "submitted": self.submitted,
            "submitted_per_s": round(self.submitted / window, 1),
            "mined_in_window": in_window,
            "mined_per_s": round(in_window / window, 1),
            "confirmed_total": len(self._latencies),
            "reverted": self.reverted,
            "rejected": self.rejected,
            "unconfirmed": len(self._pending),
            "splits": self.splits,
            "transfers": self.transfers,
            "latency_p50_ms": round(_percentile(self._latencies, 0.50) * 1000, 1),
            "latency_p95_ms": round(_percentile(self._latencies, 0.95) * 1000, 1),
            "blocks": head_after - head_before,
        }


# ---------------------------------------------------------------------- the pre-signed anchor


@dataclass
class AnchorComparison:
    """The benchmark's split path against anvil fed the same splits signed beforehand, in alternating
    slices on the same chain: `ratio` = live mined/s ÷ pre-signed mined/s (1.0: signing and building
    cost the node nothing; the target is ≥ 0.8)."""

    slices: int
    slice_seconds: float
    live_mined: int
    live_seconds: float
    live_per_s: float
    presigned_mined: int
    presigned_seconds: float
    presigned_per_s: float
    ratio: float
    reverted: int
    rejected: int
    live_slices_per_s: list[float] = field(default_factory=list)
    presigned_slices_per_s: list[float] = field(default_factory=list)


def presign(
    rpc: JsonRpc, network: NetworkConfig, token: bytes, senders: list[_Sender], gas: int, per_sender: int
) -> list[deque[tuple[str, str, str]]]:
    """`per_sender` splits of the minimum unit for each sender, signed now on its next nonces (not
    timed), with the fees of the head as the live loop sets them."""
    block = rpc.call("eth_getBlockByNumber", ["latest", False]).result
    fees = fee_fields(network.gas, base_fee_wei=int(block.get("baseFeePerGas", "0x0"), 16))
    nonces = rpc.batch([("eth_getTransactionCount", [s.signer.address, "pending"]) for s in senders])
    queues: list[deque[tuple[str, str, str]]] = []
    for sender, answer in zip(senders, nonces, strict=True):
        first = int(answer.result, 16)
        queue: deque[tuple[str, str, str]] = deque()
        for k in range(per_sender):
            data = SPLIT_SELECTOR + abi_encode(
                ["uint256", "address", "uint256"], [sender.piece, "0x" + sender.next_to.hex(), MIN_UNIT]
            )
            tx_hash, raw = sender.signer.sign(
                first + k, token, data, gas, fees["maxFeePerGas"], fees["maxPriorityFeePerGas"]
            )
            queue.append(("split", tx_hash, raw))
        queues.append(queue)
    return queues


def compare_with_presigned(
    url: str,
    network: NetworkConfig,
    token: str,
    senders: list[_Sender],
    gas: dict[str, int],
    *,
    slices: int = 3,
    slice_seconds: float = 10.0,
    threads: int = 2,
    window: int = 16,
) -> AnchorComparison:
    """Alternate a live slice (splits built and signed in the loop, as the benchmark does) with a
    pre-signed slice (the same splits, signed before it starts, sent through the same submitters,
    window and receipt poller), `slices` times each. Each pre-signed slice gets twice what the live slice
    before it mined, so it normally runs its full length; if all are sent sooner, its window runs to
    the last receipt."""
    live_mined = anchor_mined = reverted = rejected = 0
    live_seconds = anchor_seconds = 0.0
    live_slices: list[float] = []
    anchor_slices: list[float] = []
    rpc = JsonRpc(url)
    try:
        for _ in range(slices):
            for s in senders:
                s.in_flight = 0
            live = ThroughputRun(
                url, network, token, senders, gas, threads=threads, window=window, splits_only=True
            ).run(slice_seconds)
            live_mined += live["mined_in_window"]
            live_seconds += live["seconds"]
            per_sender = window + -(-2 * live["mined_in_window"] // len(senders))
            queues = presign(rpc, network, bytes.fromhex(token[2:]), senders, gas["split"], per_sender)
            for s in senders:
                s.in_flight = 0
            anchor = ThroughputRun(
                url, network, token, senders, gas, threads=threads, window=window, presigned=queues
            ).run(slice_seconds)
            anchor_mined += anchor["mined_in_window"]
            anchor_seconds += anchor["seconds"]
            live_slices.append(live["mined_per_s"])
            anchor_slices.append(anchor["mined_per_s"])
            for figures in (live, anchor):
                reverted += figures["reverted"]
                rejected += figures["rejected"]
    finally:
        rpc.close()
    live_rate = live_mined / live_seconds if live_seconds else 0.0
    anchor_rate = anchor_mined / anchor_seconds if anchor_seconds else 0.0
    return AnchorComparison(
        slices=slices,
        slice_seconds=slice_seconds,
        live_mined=live_mined,
        live_seconds=round(live_seconds, 2),
        live_per_s=round(live_rate, 1),
        presigned_mined=anchor_mined,
        presigned_seconds=round(anchor_seconds, 2),
        presigned_per_s=round(anchor_rate, 1),
        ratio=round(live_rate / anchor_rate, 3) if anchor_rate else 0.0,
        reverted=reverted,
        rejected=rejected,
        live_slices_per_s=live_slices,
        presigned_slices_per_s=anchor_slices,
    )


# ---------------------------------------------------------------------- setup


def _network(project_root: Path, url: str, config: AnvilConfig) -> NetworkConfig:
    base = parse_network(project_root / "chain_config" / "local.toml", project_root)
    # Plain splits and transfers between suppliers: the token's mechanics (PolicySpec.mechanics).
    deploy = base.deploy.model_copy(update={"policy": PolicySpec.mechanics()})
    return base.model_copy(update={"rpc_urls": [url], "anvil": config, "deploy": deploy})


def _supplier_keys(count: int) -> list[bytes]:
    """Deterministic throwaway keys: the same suppliers on every run, no HD derivation cost."""
    return [keccak(text=f"tierchain-bench-supplier-{i}") for i in range(count)]


def _send_all(
    manager: TransactionManager, txs: list[dict[str, Any]], signer: Signer, chunk: int = 200
) -> None:
    for start in range(0, len(txs), chunk):
        hashes = manager.send_many(txs[start : start + chunk], signer=signer)
        for receipt in manager.wait_many(hashes):
            if receipt["status"] != 1:
                raise BenchError(f"setup transaction failed: {receipt['transactionHash']!r}")


def prepare(
    client: TierchainClient, accounts: list[Signer], supplier_keys: list[bytes], obligations: int
) -> tuple[list[_Sender], dict[str, int]]:
    """Register everyone, issue `obligations` to tier 1, split them out to the suppliers; then measure
    the gas limit of each operation kind once."""
    manager, w3 = client.manager, client.w3
    admin, oracles, core, tier1 = accounts[0], accounts[1:4], accounts[4], accounts[5]
    chain_id = client.chain_id
    signers = [RawSigner(k, chain_id) for k in supplier_keys]
    for i, (who, roles) in enumerate([*((o, ["ORACLE"]) for o in oracles), (core, ["CORE_ENTERPRISE"]),
                                      (tier1, ["SUPPLIER"])]):  # fmt: skip
        client.register_participant(admin, who.address, keccak(text=f"bench-party-{i}"), roles)

    # Fund and register the suppliers in bulk: fixed gas, one JSON-RPC batch per 200.
    _send_all(manager, [{"to": s.address, "value": 10**18, "gas": 21_000} for s in signers], admin)
    register = [
        client._tx(client.registry, "register", s.address, keccak(text=f"bench-supplier-{i}"),
                   [keccak(text="SUPPLIER")])
        for i, s in enumerate(signers)
    ]  # fmt: skip
    estimate = int(w3.eth.estimate_gas({"from": admin.address, **register[0]}))  # type: ignore[typeddict-item]
    _send_all(manager, [{**tx, "gas": 2 * estimate} for tx in register], admin)

    per = -(-len(signers) // obligations)
    pieces: list[int] = []
    now = int(w3.eth.get_block("latest")["timestamp"])
    for n in range(obligations):
        group = signers[n * per : (n + 1) * per]
        if not group:
            break
        face = PIECE_VALUE * (len(group) + 1)
        invoice = Attestation(
            fingerprint=keccak(text=f"bench-invoice-{n}"),
            kind=DocumentKind.INVOICE,
            seller=tier1.address,
            buyer=core.address,
            amount=face,
            currency="CNY",
            issue_date=now - DAY,
            due_date=now + 365 * DAY,
            nonce=n + 1,
            deadline=now + DAY,
        )
        client.sign_and_attest(oracles[0], invoice, oracles[:2])
        terms = Terms(
            supplier=tier1.address,
            obligor=core.address,
            currency="CNY",
            face=face,
            maturity=now + 365 * DAY,
            min_unit=MIN_UNIT,
            documents=(invoice.fingerprint,),
        )
        issued = client.confirm(core, client.propose(tier1, terms).proposal_id, terms)
        for start in range(0, len(group), 25):
            chunk = group[start : start + 25]
            batch = client.split_batch(tier1, issued.token_id, [(s.address, PIECE_VALUE) for s in chunk])
            pieces.extend(batch.token_ids)
    senders = [
        _Sender(s, piece, bytes.fromhex(signers[(i + 1) % len(signers)].address[2:]))
        for i, (s, piece) in enumerate(zip(signers, pieces, strict=True))
    ]

    # One gas limit per kind, from one estimate each plus the network's head-room.
    a, b = senders[0], senders[1]
    split = SPLIT_SELECTOR + abi_encode(
        ["uint256", "address", "uint256"], [a.piece, b.signer.address, MIN_UNIT]
    )
    whole = TRANSFER_SELECTOR + abi_encode(
        ["address", "address", "uint256"], [a.signer.address, b.signer.address, a.piece]
    )
    policy = manager.network.gas
    gas = {}
    for kind, data in (("split", split), ("transfer", whole)):
        call = {"from": a.signer.address, "to": client.token.address, "data": "0x" + data.hex()}
        gas[kind] = gas_limit(int(w3.eth.estimate_gas(call)), policy)  # type: ignore[arg-type]
    log.info("bench ready senders=%d pieces=%d gas=%s", len(senders), len(pieces), gas)
    return senders, gas


def run_bench(
    project_root: Path,
    build_dir: Path | None = None,
    *,
    seconds: float = 60.0,
    senders: int = 64,
    threads: int = 2,
    window: int = 16,
    obligations: int = 4,
    block_time: float | None = 1.0,
    block_gas_limit: int = 500_000_000,
    anchor_slices: int = 3,
    slice_seconds: float = 10.0,
) -> ThroughputReport:
    """Start a fresh anvil, deploy, prepare the suppliers, run for `seconds`; then, unless
    `anchor_slices` is 0, compare the split path with anvil fed pre-signed splits
    (`compare_with_presigned`); stop the chain."""
    if senders < 2:
        raise BenchError("at least two senders are needed (each pays the next)")
    build = compile_contracts(project_root, build_dir or project_root / "build")
    abis = {n: a.abi for n, a in build.artifacts.items()}
    with tempfile.TemporaryDirectory(prefix="tierchain-throughput-") as tmp:
        data_dir = Path(tmp)
        config = AnvilConfig(
            accounts=10, state_file=data_dir / "anvil-state.json", block_time_seconds=block_time
        )
        gas_cap = block_gas_limit if block_time is not None else None
        with LocalChain(config, project_root, data_dir, block_gas_limit=gas_cap) as chain:
            network = _network(project_root, chain.url, config)
            accounts = local_accounts(config.mnemonic, 6)
            manager = TransactionManager(
                make_web3(chain.url),
                network,
                accounts[0],
                TxJournal(data_dir / "journal.sqlite"),
                ErrorDecoder.from_artifacts(abis),
            )
            outcome = deploy_system(manager, network, build.artifacts, manifest_path(data_dir, network.name))
            client = TierchainClient(manager, outcome.deployment, abis)
            keys = _supplier_keys(senders)
            parties, gas = prepare(client, accounts, keys, max(1, min(obligations, senders)))
            run = ThroughputRun(
                chain.url, network, client.token.address, parties, gas, threads=threads, window=window
            )
            figures = run.run(seconds)
            anchor = None
            if anchor_slices > 0:
                anchor = compare_with_presigned(
                    chain.url,
                    network,
                    client.token.address,
                    parties,
                    gas,
                    slices=anchor_slices,
                    slice_seconds=slice_seconds,
                    threads=threads,
                    window=window,
                )
    mode = "automine" if block_time is None else f"interval {block_time:g}s, gas limit {block_gas_limit:,}"
    return ThroughputReport(
        mode=mode,
        senders=len(parties),
        submitter_threads=threads,
        signing_backend=f"coincurve direct (eth-keys backend: {signing_backend()})",
        gas_limits=gas,
        anchor=anchor,
        **figures,
    )


def eth_account_signature(key: bytes, tx: dict[str, Any]) -> str:
    """The raw transaction eth-account signs for `tx`: the reference `RawSigner` must equal."""
    return "0x" + bytes(Account.from_key(key).sign_transaction(tx).raw_transaction).hex()
