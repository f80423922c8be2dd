"""Scenario 1 of the consortium fault suite: each RPC URL dies in turn and comes back while a workload
runs through the ledger client on chain_config/local-consortium.toml (2-second blocks, free legacy
gas, two RPC URLs, each a fault proxy in front of the one node).

The workload: two workers, each carrying receivables through attest → propose → confirm (issuance),
split, offer → accept (financing), every step under an idempotency key and retried with that key
while the network is unreachable. The first URL dies (its last broadcast is cut after the node took
it, then it refuses connections), comes back; then the second. Afterwards the chain is read on its
own, by events: every step the client acknowledged executed exactly once, none executed twice, every
step ended acknowledged or failed with a reason, and Σ piece values == face for every obligation.
The table (attempted / acknowledged / executed / lost / duplicated, recovery time) is printed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_utils.crypto import keccak

from ledger.client import Attestation, DayCount, DocumentKind, Terms, TierchainClient
from ledger.errors import ChainUnavailable, ReceiptTimeout
from tests.faults.consortium_net import System
from tests.faults.report import executed_on_chain, print_table

pytestmark = pytest.mark.chain

DAY = 86_400
CHAINS_PER_WORKER = 2
FACE = 500_000_00
RETRY_FOR = 45.0  # seconds a step keeps retrying under its key while no node answers


@dataclass
class Step:
    kind: str
    key: str
    started: float = 0.0
    ended: float = 0.0
    ok: bool | None = None
    reason: str | None = None
    result: Any = None


@dataclass
class Ledger:
    """What the workload attempted and what the client acknowledged, across workers."""

    steps: list[Step] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    obligations: list[dict[str, Any]] = field(default_factory=list)

    def run(self, kind: str, key: str, action: Callable[[str], Any]) -> Any:
        step = Step(kind, key, started=time.monotonic())
        with self.lock:
            self.steps.append(step)
        deadline = step.started + RETRY_FOR
        while True:
            try:
                step.result = action(key)
            except (ChainUnavailable, ReceiptTimeout) as exc:
                if time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue  # the same key: the journal resumes what was signed, never signs twice
                step.ok, step.reason = False, f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # any other refusal ends the step, with its reason
                step.ok, step.reason = False, f"{type(exc).__name__}: {exc}"
            else:
                step.ok = True
            step.ended = time.monotonic()
            if not step.ok:
                raise RuntimeError(f"{kind} {key} failed: {step.reason}")
            return step.result


def _one_obligation(system: System, client: TierchainClient, ledger: Ledger, worker: int, n: int) -> None:
    """Issue (attest, propose, confirm), split a piece to tier 2, and have the worker's bank finance it."""
    a = system.actors
    bank = a[f"bank{worker + 1}"]
    tag = f"w{worker}c{n}"
    face = FACE + (worker * 10 + n + 1) * 100  # distinct faces: each obligation recognisable on chain
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    invoice = Attestation(
        fingerprint=keccak(text=f"scenario1-invoice-{tag}"),
        kind=DocumentKind.INVOICE,
        seller=a["tier1"].address,
        buyer=a["core"].address,
        amount=face,
        currency="CNY",
        issue_date=now - DAY,
        due_date=now + 90 * DAY,
        nonce=1_000 + worker * 100 + n,
        deadline=now + DAY,
    )
    oracles = [a["oracle1"], a["oracle2"]]
    ledger.run(
        "attest", f"{tag}:attest", lambda k: client.sign_and_attest(a["oracle1"], invoice, oracles, key=k)
    )
    terms = Terms(
        supplier=a["tier1"].address,
        obligor=a["core"].address,
        currency="CNY",
        face=face,
        maturity=now + 90 * DAY,
        min_unit=100,
        documents=(invoice.fingerprint,),
    )
    proposed = ledger.run("propose", f"{tag}:propose", lambda k: client.propose(a["tier1"], terms, key=k))
    issued = ledger.run(
        "confirm", f"{tag}:confirm", lambda k: client.confirm(a["core"], proposed.proposal_id, terms, key=k)
    )
    value = face * 2 // 5 // 100 * 100
    split = ledger.run(
        "split",
        f"{tag}:split",
        lambda k: client.split(a["tier1"], issued.token_id, a["tier2"].address, value, key=k),
    )
    offer = ledger.run(
        "offer",
        f"{tag}:offer",
        lambda k: client.make_offer(bank, split.token_id, value, 450, DayCount.ACT_360, now + DAY, key=k),
    )
    ledger.run("accept", f"{tag}:accept", lambda k: client.accept_offer(a["tier2"], offer.offer_id, key=k))
    obligation = {
        "face": face,
        "root": issued.token_id,
        "piece": split.token_id,
        "bank": bank.address,
        "fingerprint": invoice.fingerprint,
        "proposal": proposed.proposal_id,
    }
    with ledger.lock:
        ledger.obligations.append(obligation)


def _worker(system: System, client: TierchainClient, ledger: Ledger, worker: int, errors: list[str]) -> None:
    try:
        for n in range(CHAINS_PER_WORKER):
            _one_obligation(system, client, ledger, worker, n)
    except Exception as exc:
        errors.append(f"worker {worker}: {type(exc).__name__}: {exc}")


def _wait_for(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_each_rpc_url_dies_in_turn_nothing_lost_nothing_twice(
    system: System, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ledger.rpc")
    net = system.net
    client = system.client(tmp_path / "journal.sqlite")
    start = client.w3.eth.block_number
    ledger = Ledger()
    errors: list[str] = []
    workers = [threading.Thread(target=_worker, args=(system, client, ledger, w, errors)) for w in (0, 1)]
    began = time.monotonic()
    for worker in workers:
        worker.start()
    outages: list[tuple[str, float, float]] = []  # (url, died, back)
    faults: list[dict[str, int]] = []  # the faults each proxy applied while it was dying
    try:
        for index, control in enumerate(net.controls[:2]):
            acknowledged = sum(1 for s in ledger.steps if s.ok)
            _wait_for(
                lambda a=acknowledged: sum(1 for s in ledger.steps if s.ok) >= a + 2, "workload progress"
            )
            # The URL dies mid-call: its next broadcast reaches the node, the answer is cut; then it refuses.
            control.inject("drop", count=1, after=True, methods=["eth_sendRawTransaction"])
            died = time.monotonic()
            _wait_for(lambda c=control: "drop" in c.state().applied, "a broadcast through the dying URL")
            control.inject("down")
            time.sleep(3 * net.block_time)
            faults.append(control.state().applied)
            control.clear()
            outages.append((net.network.rpc_urls[index], died, time.monotonic()))
    finally:
        for worker in workers:
            worker.join(timeout=120)
    elapsed = time.monotonic() - began
    assert not errors, errors

    executed = executed_on_chain(client, start, ledger.obligations)
    kinds = ["attest", "propose", "confirm", "split", "offer", "accept"]
    keyed = {
        "attest": lambda o: o["fingerprint"],
        "propose": lambda o: o["fingerprint"],
        "confirm": lambda o: o["proposal"],
        "split": lambda o: o["root"],
        "offer": lambda o: o["piece"],
        "accept": lambda o: o["piece"],
    }
    rows = []
    for kind in kinds:
        steps = [s for s in ledger.steps if s.kind == kind]
        acked = [s for s in steps if s.ok]
        counts = [executed[kind][keyed[kind](o)] for o in ledger.obligations]
        lost = sum(1 for c in counts if c == 0)
        duplicated = sum(c - 1 for c in counts if c > 1)
        rows.append((kind, len(steps), len(acked), sum(counts), lost, duplicated))
    recovery = []
    for url, died, _back in outages:
        after = [s.ended for s in ledger.steps if s.ok and s.ended > died]
        recovery.append((url, (min(after) - died) if after else float("nan")))

    print_table("scenario 1: each RPC URL dies in turn (2 s blocks, 2 URLs, 2 workers)", rows)
    for (url, _died, _back), applied in zip(outages, faults, strict=True):
        print(f"faults applied by {url}: {applied}")
    for url, seconds in recovery:
        print(f"recovery after {url} died: {seconds:.1f} s to the next acknowledged operation")
    print(f"workload ran {elapsed:.1f} s")

    # Every step ended: acknowledged, or failed with a reason (none failed here: a second URL was up).
    assert all(s.ok is not None for s in ledger.steps)
    assert all(s.reason for s in ledger.steps if not s.ok)
    assert len(ledger.obligations) == 2 * CHAINS_PER_WORKER
    for kind, attempted, acked, done, lost, dup in rows:
        assert attempted == acked == done == 2 * CHAINS_PER_WORKER, kind
        assert lost == 0 and dup == 0, kind
    # Both URLs really died, and the client failed over away from each of them.
    assert [(f.get("drop"), f.get("down")) for f in faults] == [(1, 1), (1, 1)], faults
    assert all(not c.state().down for c in net.controls[:2])
    failovers = [r.getMessage() for r in caplog.records if "rpc failover" in r.getMessage()]
    for url, _died, _back in outages:
        assert any(f"from={url}" in m for m in failovers), (url, failovers)
    # Chain state equals what the client acknowledged: Σ piece values == face, the financed piece at its bank.
    for o in ledger.obligations:
        assert client.balance_of(o["root"]) + client.balance_of(o["piece"]) == o["face"]
        assert client.owner_of(o["piece"]) == o["bank"]
    # Nothing signed twice: no journaled transaction given up ("dropped") was mined after all.
    journal = client.manager.journal
    entries = journal.get_many([s.key for s in ledger.steps])
    for entry in entries.values():
        if entry.status == "dropped":
            assert client.manager._receipt_or_none(entry.tx_hash) is None, entry
