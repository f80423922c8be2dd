"""Scenario 4 of the consortium fault suite: PostgreSQL restarted under load.

Two API worker processes serve one database, a PostgreSQL cluster of the test's own (never the
machine's shared server), and one chain. A workload onboards participants (operator writes, each under
an `Idempotency-Key`, retried with that key until acknowledged) and reads while the server is stopped
twice: a fast shutdown, then a SIGKILL to the postmaster; each time it stays down a few seconds, then
starts again. Meanwhile every request that needs the database must be answered 503 problem+json with
`Retry-After` (and `/v1/ready` not ready, naming the database), never a 500 and never a hang; once the
server is back the workers recover without a restart. Afterwards the chain and the database are read on
their own: every acknowledged write registered exactly once, every idempotency record answered, every
journaled transaction mined. The table (attempted / acknowledged / executed / lost / duplicated,
recovery time) is printed.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from web3 import Web3

from ledger.deploy import Deployment
from ledger.localchain import LocalChain
from tests.api.served import serve_api
from tests.api.support import OPERATOR_KEY
from tests.faults.private_pg import PrivatePostgres, available
from tests.support.processes import Served

pytestmark = pytest.mark.chain

OPERATOR = {"Authorization": f"Bearer {OPERATOR_KEY}"}
WRITERS = 3
DOWN_SECONDS = 4.0
REQUEST_TIMEOUT = 30.0  # a request unanswered this long counts as a hang
RETRY_FOR = 90.0


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    reason = available()
    if reason is not None:
        pytest.skip(f"no private PostgreSQL cluster: {reason}")
    # Not under pytest's temporary dir: pytest makes its root 0700 again whenever a session starts,
    # which would lock the server's account out of its own data dir mid-test.
    root = Path(tempfile.mkdtemp(prefix="tierchain-pg-"))
    try:
        pg = PrivatePostgres(root)
        pg.start()
        try:
            yield pg
        finally:
            pg.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Call:
    kind: str  # "write" or "read" or "ready"
    started: float
    ended: float
    status: int | None  # None: no answer (timeout or connection error)
    retry_after: str | None = None
    content_type: str = ""
    body: Any = None


@dataclass
class Write:
    key: str
    legal_id: str
    address: str
    acked: float | None = None
    answer: dict[str, Any] | None = None
    attempts: int = 0


@dataclass
class Load:
    workers: list[Served]
    calls: list[Call] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def call(
        self, kind: str, request: Callable[[httpx.Client], httpx.Response], client: httpx.Client
    ) -> Call:
        started = time.monotonic()
        try:
            answer = request(client)
        except httpx.HTTPError as exc:
            call = Call(kind, started, time.monotonic(), None, body=f"{type(exc).__name__}: {exc}")
        else:
            try:
                body = answer.json()
            except ValueError:
                body = answer.text
            call = Call(
                kind,
                started,
                time.monotonic(),
                answer.status_code,
                answer.headers.get("Retry-After"),
                answer.headers.get("content-type", ""),
                body,
            )
        with self.lock:
            self.calls.append(call)
        return call

    def write(self, write: Write, client: httpx.Client, deadline: float) -> None:
        """Onboard under the write's key until acknowledged, alternating workers between attempts."""
        body = {
            "legal_id": write.legal_id,
            "roles": ["SUPPLIER"],
            "custody": "self",
            "address": write.address,
        }
        while write.acked is None and time.monotonic() < deadline:
            worker = self.workers[write.attempts % len(self.workers)]
            write.attempts += 1
            call = self.call(
                "write",
                lambda c, w=worker: c.post(
                    w.url + "/v1/participants",
                    json=body,
                    headers=OPERATOR | {"Idempotency-Key": write.key},
                    timeout=REQUEST_TIMEOUT,
                ),
                client,
            )
            if call.status == 201:
                write.acked, write.answer = call.ended, call.body
            else:
                time.sleep(0.3)

    def writer(self, n: int) -> None:
        with httpx.Client() as client:
            i = 0
            while not self.stop.is_set():
                account = Account.create()
                write = Write(
                    f"s4-{n}-{i}-{uuid.uuid4().hex[:6]}",
                    f"USCC-S4-{n}-{i}-{uuid.uuid4().hex}",
                    account.address,
                )
                with self.lock:
                    self.writes.append(write)
                self.write(write, client, time.monotonic() + RETRY_FOR)
                i += 1

    def reader(self) -> None:
        with httpx.Client() as client:
            i = 0
            while not self.stop.is_set():
                worker = self.workers[i % len(self.workers)]
                acked = [w for w in self.writes if w.acked is not None]
                if acked and i % 2:
                    address = acked[-1].address
                    self.call(
                        "read",
                        lambda c, w=worker, a=address: c.get(
                            f"{w.url}/v1/participants/{a}", headers=OPERATOR, timeout=REQUEST_TIMEOUT
                        ),
                        client,
                    )
                else:
                    self.call(
                        "ready",
                        lambda c, w=worker: c.get(w.url + "/v1/ready", timeout=REQUEST_TIMEOUT),
                        client,
                    )
                i += 1
                time.sleep(0.1)

    def acked(self) -> int:
        return sum(1 for w in self.writes if w.acked is not None)


def _wait_for(predicate: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_postgres_restarted_under_load_503_meanwhile_nothing_half_written(
    clean_chain: LocalChain,
    tierchain_deployment: Deployment,
    tierchain_abis: dict[str, list[dict[str, Any]]],
    private_pg: PrivatePostgres,
    tmp_path: Path,
) -> None:
    private_pg.create_database("tierchain")
    url = private_pg.url("tierchain")
    w3 = Web3(Web3.HTTPProvider(clean_chain.url))
    start_block = w3.eth.block_number
    with ExitStack() as stack:
        workers = [
            stack.enter_context(
                serve_api(
                    tmp_path / "api",
                    clean_chain.url,
                    tierchain_deployment.model_dump_json(),
                    OPERATOR_KEY,
                    {"sync_interval_seconds": 0.5},
                    database_url=url,
                    name=f"worker-{i}",
                )
            )
            for i in range(2)
        ]
        load = Load(workers)
        threads = [threading.Thread(target=load.writer, args=(n,)) for n in range(WRITERS)]
        threads.append(threading.Thread(target=load.reader))
        began = time.monotonic()
        for thread in threads:
            thread.start()
        outages: list[tuple[str, float, float]] = []  # (how, down, back)
        starts: list[float] = []  # how long `pg_ctl start` took, each time
        try:
            for how in ("fast shutdown", "SIGKILL of the postmaster"):
                before = load.acked()
                _wait_for(lambda a=before: load.acked() >= a + 3, "writes acknowledged before the outage")
                down = time.monotonic()
                if how == "fast shutdown":
                    private_pg.stop_fast()
                else:
                    private_pg.kill()
                time.sleep(DOWN_SECONDS)
                back = time.monotonic()
                private_pg.start()
                starts.append(time.monotonic() - back)
                outages.append((how, down, back))
            before = load.acked()
            _wait_for(lambda a=before: load.acked() >= a + 3, "writes acknowledged after the last outage")
        finally:
            load.stop.set()
            for thread in threads:
                thread.join(timeout=RETRY_FOR + 30)
        elapsed = time.monotonic() - began
        logs = {p.name: p.read_text(errors="replace") for p in (tmp_path / "api").glob("worker-*.log")}
        for worker in workers:  # recovered in place: the same processes served before and after
            assert worker.process.poll() is None, logs

    # What the database and the chain hold, read on their own.
    registry = w3.eth.contract(
        address=Web3.to_checksum_address(tierchain_deployment.address("ParticipantRegistry")),
        abi=tierchain_abis["ParticipantRegistry"],
    )
    registered = Counter(
        e.args.account.lower()
        for e in registry.events.ParticipantRegistered().get_logs(from_block=start_block, to_block="latest")
    )
    by_legal_id = Counter(
        bytes(e.args.legalIdHash)
        for e in registry.events.ParticipantRegistered().get_logs(from_block=start_block, to_block="latest")
    )
    with psycopg.connect(url.replace("+psycopg", ""), connect_timeout=10) as conn:
        records = conn.execute("SELECT key, status_code FROM idempotency_records").fetchall()
        journal = conn.execute("SELECT key, status FROM api_tx_journal WHERE key LIKE 'api:%'").fetchall()

    writes = load.writes
    acked = [w for w in writes if w.acked is not None]
    counts = [registered[w.address.lower()] for w in writes]
    executed = sum(counts)
    lost = sum(1 for w, c in zip(writes, counts, strict=True) if w.acked is not None and c == 0)
    duplicated = sum(c - 1 for c in counts if c > 1) + sum(
        by_legal_id[keccak(text=w.legal_id)] - 1 for w in writes if by_legal_id[keccak(text=w.legal_id)] > 1
    )
    during = [c for c in load.calls if any(d <= c.started and c.ended <= b for _h, d, b in outages)]
    statuses = Counter((c.kind, c.status) for c in load.calls)
    recovery = []
    for how, _down, back in outages:
        after = [w.acked for w in acked if w.acked is not None and w.acked > back]
        recovery.append((how, (min(after) - back) if after else float("nan")))

    print("\nscenario 4: PostgreSQL restarted under load (2 API workers, private cluster, automine chain)")
    print(
        f"{'operation':<10}{'attempted':>10}{'acknowledged':>14}{'executed':>10}{'lost':>6}{'duplicated':>12}"
    )
    print(f"{'onboard':<10}{len(writes):>10}{len(acked):>14}{executed:>10}{lost:>6}{duplicated:>12}")
    print(f"requests: {dict(sorted(statuses.items(), key=str))}")
    print(
        f"requests made entirely while the database was down: {len(during)}, "
        f"answers {dict(Counter(c.status for c in during))}"
    )
    for (how, seconds), start in zip(recovery, starts, strict=True):
        print(
            f"recovery after {how}: {seconds:.1f} s from the restart to the next acknowledged write "
            f"(the server took {start:.1f} s to start)"
        )
    slowest = max(c.ended - c.started for c in load.calls)
    print(f"slowest answer {slowest:.1f} s; workload ran {elapsed:.1f} s")

    # Never a 500, never a hang: every answer is a success, a 503 with Retry-After, or a 409 for a key
    # whose first attempt is still being released.
    unanswered = [c for c in load.calls if c.status is None]
    assert not unanswered, unanswered[:5]
    assert not [c for c in load.calls if c.status is not None and c.status >= 500 and c.status != 503], [
        (c.kind, c.status, c.body)
        for c in load.calls
        if c.status is not None and c.status >= 500 and c.status != 503
    ][:5]
    unavailable = [c for c in load.calls if c.status == 503]
    assert unavailable, "no request met the database down"
    for c in unavailable:
        if c.kind == "ready":  # not ready may also be the indexer's lag, which carries no Retry-After
            assert c.body["status"] == "not-ready", c.body
            assert c.body["database"] or c.retry_after is not None, c
        else:
            assert c.retry_after is not None and int(c.retry_after) >= 1, c
            assert c.content_type.startswith("application/problem+json"), c
            assert c.body["type"].endswith("/database-unavailable"), c.body
    down_ready = [c for c in during if c.kind == "ready"]
    assert down_ready and all(c.status == 503 and c.body["database"] is False for c in down_ready), (
        down_ready[:3]
    )
    assert all("database unreachable" in c.body["reason"] for c in down_ready), down_ready[:3]
    assert all(c.status == 503 for c in during if c.kind != "ready"), [
        (c.kind, c.status, c.body) for c in during if c.status != 503
    ][:5]
    # Every write acknowledged once it could be, registered exactly once; nothing half-written.
    assert len(acked) == len(writes), [w for w in writes if w.acked is None]
    assert lost == 0 and duplicated == 0
    assert all(c == 1 for c in counts), counts
    assert all(not isinstance(r, float) or r == r for _h, r in recovery), recovery
    ours = {r[0]: r[1] for r in records if r[0].startswith("s4-")}
    assert set(ours) == {w.key for w in writes}
    assert all(status == 201 for status in ours.values()), ours  # no claim left pending
    assert journal and all(status == "mined" for _key, status in journal), [
        j for j in journal if j[1] != "mined"
    ]
