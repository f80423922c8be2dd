"""Scenario 3 of the consortium fault suite: `kill -9` of the indexer, an API worker, an oracle node and
the aggregator at random moments while a workload runs over the HTTP API on
chain_config/local-consortium.toml (2-second blocks, two RPC URLs, each a fault proxy).

Every service is its own process, started as an operator would start it: three `tierchain oracle node
run` (2 of 3 attest), `tierchain oracle aggregator serve`, `tierchain index run` (a PostgreSQL database
of its own) and `tierchain serve --workers 2` (two API workers on one port, sharing a PostgreSQL
database and the documents to the aggregator).

The workload: two clients, each carrying receivables through the API: submit an invoice (the oracles
attest it), propose the obligation, confirm it, split a piece to tier 2. Every write carries an
Idempotency-Key; a client retries the same request with the same key on a connection error, a 5xx or
a 409 (the key still running). The clients go on until every kill has happened. Meanwhile, in an
order and at moments drawn from a seeded RNG (the seed is printed), each of the four services gets
SIGKILL while it has work (an API worker while it answers a request, an oracle node or the
aggregator while a document awaits attestation, the indexer at any time; after 15 s without work,
anyway) and is started again (uvicorn's supervisor starts a killed worker again by itself).
Afterwards:
- on chain, read by events: each document attested once, each keyed write executed once (lost 0,
  duplicated 0); every acknowledged write answered again, the same, when replayed with its key;
- Σ piece values == face per obligation, the settlement tokens untouched (no write moves them here);
- both indexes (the indexer's and the API's) reconcile with the chain.
The table (attempted / acknowledged / executed / lost / duplicated) and each kill's recovery time are
printed.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from eth_utils.crypto import keccak
from sqlalchemy import text

from ledger.deploy import manifest_path
from ledger.indexer import Indexer, reconcile
from ledger.indexer.db import make_engine
from ledger.indexer.manifest import IndexedDeployment
from ledger.indexer.source import RpcSource
from ledger.keys import Signer, local_accounts
from ledger.localchain import free_port
from oracles.canonical import fingerprint
from oracles.documents import Invoice
from oracles.normalize import legal_id_hash
from oracles.signatures import sign_document
from oracles.testing_pki import build_pki, write_trust_store
from tests.api.test_workers import _worker_pids
from tests.faults.consortium_net import CASH, System
from tests.faults.report import executed_on_chain, print_table
from tests.support.processes import PROJECT_ROOT

pytestmark = pytest.mark.chain

SEED = 20261201  # the kill order and moments; printed with the table
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
OPERATOR_KEY = "tc_operator_" + "k" * 32
NETWORK = "local-consortium"
CLIENTS = 2
MIN_CHAINS_PER_CLIENT = 2  # each client goes on until every kill has happened, and at least this far
FACE = 500_000_00
RETRY_FOR = 90.0  # seconds a request keeps being retried under its key
STARTUP = 180.0  # seconds a service may take to answer its health check on a shared machine
KINDS = ("attest", "propose", "confirm", "split")
TAX_IDS = {"core": "91310000MA1K3C0RE0", "tier1": "91310000MA1K3TIER1", "tier2": "91310000MA1K3TIER2"}
ROLES = {"core": "CORE_ENTERPRISE", "tier1": "SUPPLIER", "tier2": "SUPPLIER"}
ORACLE3, AGGREGATOR = 8, 9  # anvil accounts beyond the consortium system's actors


@pytest.fixture
def pg_databases() -> Iterator[dict[str, str]]:
    """Two PostgreSQL databases of this test's own (the API's, the indexer's), dropped afterwards."""
    try:
        psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3).close()
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {exc}")
    suffix = uuid.uuid4().hex[:10]
    names = {"api": f"tc_kill_api_{suffix}", "indexer": f"tc_kill_idx_{suffix}"}
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield {role: PG_URL.rsplit("/", 1)[0] + f"/{name}" for role, name in names.items()}
    finally:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _hex(signer: Signer) -> str:
    return "0x" + bytes(signer.key).hex()


@dataclass
class Service:
    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    health: str | None  # a URL answering 200 once it serves; None for the indexer
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tierchain", *self.args],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def healthy(self) -> bool:
        assert self.process is not None
        assert self.process.poll() is None, f"{self.name} exited: {self.log.read_text()[-3000:]}"
        if self.health is None:
            return True
        try:
            return httpx.get(self.health, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_for(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@dataclass
class World:
    """The services, the parties onboarded through the API and their documents' PKI."""

    system: System
    root: Path
    services: dict[str, Service]
    api_url: str
    databases: dict[str, str]
    parties: dict[str, dict[str, str]] = field(default_factory=dict)
    pki: Any = None

    def index(self, role: str) -> tuple[Any, Indexer, RpcSource, IndexedDeployment]:
        manifest = manifest_path(self.system.data_dir, NETWORK)
        deployment = IndexedDeployment.model_validate_json(manifest.read_text())
        source = RpcSource(self.system.network.rpc_urls)
        engine = make_engine(self.databases[role])
        depth = self.system.network.confirmations
        indexer = Indexer(engine, source, deployment, self.system.abis, max_reorg_depth=depth)
        return engine, indexer, source, deployment


@pytest.fixture
def world(system: System, tmp_path: Path, pg_databases: dict[str, str]) -> Iterator[World]:
    net = system.net
    data = tmp_path / "data"
    (data / NETWORK).mkdir(parents=True)
    shutil.copy(net.chain.run_file, data / NETWORK / "anvil.json")  # the proxies, as `chain up` records them
    manifest = manifest_path(data, NETWORK)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(manifest_path(system.data_dir, NETWORK), manifest)
    logs = tmp_path / "logs"
    logs.mkdir()

    accounts = local_accounts(net.mnemonic, AGGREGATOR + 1)
    admin, oracle3 = system.actors["admin"], accounts[ORACLE3]
    client = system.client(tmp_path / "setup-journal.sqlite")
    if not client.has_role(oracle3.address, "ORACLE"):
        client.register_participant(admin, oracle3.address, legal_id_hash("KILLORACLE3"), ["ORACLE"])
    oracles = [system.actors["oracle1"], system.actors["oracle2"], oracle3]

    today = datetime.combine(datetime.now(UTC).date(), datetime.min.time(), tzinfo=UTC)
    pki = build_pki(random.Random(SEED), today)
    trust = write_trust_store(tmp_path / "trust", pki)
    base = {k: v for k, v in os.environ.items() if not k.startswith("TIERCHAIN_")} | {
        "TIERCHAIN_NETWORK": NETWORK,
        "TIERCHAIN_PROJECT_ROOT": str(PROJECT_ROOT),
        "TIERCHAIN_DATA_DIR": str(data),
        "TIERCHAIN_BUILD_DIR": str(PROJECT_ROOT / "build"),
        "TIERCHAIN_LOG_LEVEL": "WARNING",
        "TIERCHAIN_NO_PROGRESS": "1",
        "TIERCHAIN_PRIVATE_KEY": _hex(admin),
    }
    services: dict[str, Service] = {}
    node_urls = []
    for n, oracle in enumerate(oracles, start=1):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        node_urls.append(url)
        args = ["oracle", "node", "run", "--trust-store", str(trust), "--key-env", "ORACLE_KEY",
                "--port", str(port), "--db", str(data / f"oracle-{n}.sqlite")]  # fmt: skip
        env = base | {"ORACLE_KEY": _hex(oracle)}
        services[f"oracle-{n}"] = Service(f"oracle-{n}", args, env, logs / f"oracle-{n}.log", f"{url}/health")
    port = free_port()
    aggregator_url = f"http://127.0.0.1:{port}"
    args = ["oracle", "aggregator", "serve", "--nodes", ",".join(node_urls), "--threshold", "2",
            "--port", str(port), "--db", str(data / "aggregator.sqlite"),
            "--key-env", "AGGREGATOR_KEY"]  # fmt: skip
    env = base | {"AGGREGATOR_KEY": _hex(accounts[AGGREGATOR])}
    services["aggregator"] = Service(
        "aggregator", args, env, logs / "aggregator.log", f"{aggregator_url}/health"
    )
    env = base | {"TIERCHAIN_DATABASE_URL": pg_databases["indexer"]}
    services["indexer"] = Service("indexer", ["index", "run"], env, logs / "indexer.log", None)
    port = free_port()
    api_url = f"http://127.0.0.1:{port}"
    env = base | {
        "TIERCHAIN_DATABASE_URL": pg_databases["api"],
        "TIERCHAIN_API_OPERATOR_KEY": OPERATOR_KEY,
        "TIERCHAIN_API_KEYSTORE_PASSWORD": "kill scenario test password",
        "TIERCHAIN_API_KEYSTORE_SCRYPT_N": "16",
        "TIERCHAIN_API_ONBOARDING_FUND_WEI": str(10**18),
        "TIERCHAIN_API_AGGREGATOR_URL": aggregator_url,
        "TIERCHAIN_API_RATE_LIMIT_PER_MINUTE": "100000",
        "TIERCHAIN_API_SYNC_INTERVAL_SECONDS": "0.5",
    }
    args = ["serve", "--port", str(port), "--workers", "2"]
    services["api"] = Service("api", args, env, logs / "api.log", f"{api_url}/v1/health")
    built = World(system, tmp_path, services, api_url, pg_databases, pki=pki)
    try:
        for service in services.values():
            service.start()
        for service in services.values():
            _wait_for(service.healthy, f"{service.name} to start", STARTUP)
        api = services["api"].process
        assert api is not None
        _wait_for(lambda: len(_worker_pids(api.pid)) == 2, "two API workers", STARTUP)
        for name, tax_id in TAX_IDS.items():
            body = {"legal_id": tax_id, "roles": [ROLES[name]], "custody": "custodial"}
            answer = _request(built, "POST", "/v1/participants", OPERATOR_KEY, body, f"onboard-{name}")
            assert answer.status_code == 201, answer.text
            built.parties[name] = {
                "address": answer.json()["participant"]["address"],
                "key": answer.json()["api_key"],
            }
        yield built
    finally:
        for service in reversed(list(services.values())):
            service.stop()


def _request(
    world: World,
    method: str,
    path: str,
    key: str,
    body: Any,
    idempotency: str | None,
    tries: Counter[str] | None = None,
) -> httpx.Response:
    """The request, sent again with the same key on a connection error, a 5xx or a 409 (still running)."""
    headers = {"Authorization": f"Bearer {key}"}
    if idempotency is not None:
        headers["Idempotency-Key"] = idempotency
    deadline = time.monotonic() + RETRY_FOR
    last = "no answer"
    while time.monotonic() < deadline:
        if tries is not None:
            tries[idempotency or path] += 1
        try:
            answer = httpx.request(method, world.api_url + path, json=body, headers=headers, timeout=60)
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if answer.status_code < 500 and answer.status_code != 409:
                return answer
            last = f"{answer.status_code} {answer.text[:300]}"
        time.sleep(0.3)
    raise AssertionError(f"{method} {path} (key {idempotency}) not answered in {RETRY_FOR:.0f} s: {last}")


@dataclass
class Step:
    kind: str
    key: str
    method: str
    path: str
    party: str
    body: Any
    started: float = 0.0
    ended: float = 0.0
    ok: bool | None = None
    reason: str | None = None
    answer: Any = None


@dataclass
class Workload:
    world: World
    steps: list[Step] = field(default_factory=list)
    obligations: list[dict[str, Any]] = field(default_factory=list)
    tries: Counter[str] = field(default_factory=Counter)
    awaiting: set[str] = field(default_factory=set)  # documents submitted, not attested yet
    lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self, kind: str, key: str, method: str, path: str, party: str, body: Any, ok: int) -> Any:
        step = Step(kind, key, method, path, party, body, started=time.monotonic())
        with self.lock:
            self.steps.append(step)
        try:
            answer = _request(
                self.world, method, path, self.world.parties[party]["key"], body, key, self.tries
            )
        except AssertionError as exc:
            step.ok, step.reason, step.ended = False, str(exc), time.monotonic()
            raise
        step.ended = time.monotonic()
        step.ok = answer.status_code == ok
        step.answer = answer.json()
        if not step.ok:
            step.reason = f"{answer.status_code} {answer.text[:300]}"
            raise AssertionError(f"{kind} {key}: {step.reason}")
        return step.answer

    def acknowledged(self) -> int:
        return sum(1 for s in self.steps if s.ok)


def _invoice(world: World, tag: str, n: int, total: int) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    net = total * 100 // 113
    invoice = Invoice(
        invoice_code="044001900" + f"{n:03d}",
        invoice_number=f"{70_000_000 + n}",
        issue_date=today - timedelta(days=2),
        seller_tax_id=TAX_IDS["tier1"],
        buyer_tax_id=TAX_IDS["core"],
        currency="CNY",
        amount_without_tax=net,
        tax_amount=total - net,
        total_with_tax=total,
        line_items_hash="0x" + keccak(text=f"kill-{tag}").hex(),
        due_date=today + timedelta(days=90),
    )
    signed = sign_document(invoice, *world.pki.issuers["einvoice"])
    return signed.model_dump(mode="json")


def _one_obligation(load: Workload, client: int, n: int) -> None:
    world = load.world
    tag = f"c{client}o{n}"
    number = client * 100 + n
    face = FACE + (number + 1) * 100
    document = _invoice(world, tag, number, face * 113 // 100 + 113)
    submitted = load.write(
        "attest", f"{tag}:attest", "POST", "/v1/documents", "tier1", {"documents": [document]}, 200
    )
    fp = submitted["results"][0]["fingerprint"]
    with load.lock:
        load.awaiting.add(fp)
    assert fp == fingerprint(Invoice.model_validate(document["document"])), submitted

    def attested() -> bool:
        answer = _request(world, "GET", f"/v1/documents/{fp}", world.parties["tier1"]["key"], None, None)
        status = answer.json().get("status")
        assert status in ("submitted", "verified_awaiting_attestation", "attested"), answer.text
        return bool(status == "attested")

    _wait_for(attested, f"document {fp} attested", RETRY_FOR)
    with load.lock:
        load.awaiting.discard(fp)
    maturity = int(world.system.client(world.root / "reader.sqlite").w3.eth.get_block("latest")["timestamp"])
    proposal = {
        "obligor": world.parties["core"]["address"],
        "currency": "CNY",
        "face": face,
        "maturity": maturity + 90 * 86_400,
        "min_unit": 100,
        "documents": [fp],
    }
    proposed = load.write(
        "propose", f"{tag}:propose", "POST", "/v1/obligations/proposals", "tier1", proposal, 201
    )
    proposal_id = proposed["result"]["proposal_id"]
    confirmed = load.write(
        "confirm",
        f"{tag}:confirm",
        "POST",
        f"/v1/obligations/proposals/{proposal_id}/confirm",
        "core",
        None,
        200,
    )
    root = int(confirmed["result"]["token_id"])
    value = face * 2 // 5 // 100 * 100
    pieces = {"pieces": [{"to": world.parties["tier2"]["address"], "value": value}]}
    split = load.write("split", f"{tag}:split", "POST", f"/v1/tokens/{root}/split", "tier1", pieces, 200)
    with load.lock:
        load.obligations.append(
            {
                "face": face,
                "fingerprint": bytes.fromhex(fp[2:]),
                "proposal": proposal_id,
                "root": root,
                "piece": int(split["result"]["token_id"]),
            }
        )


@dataclass
class Kill:
    target: str
    pid: int
    at: float  # seconds into the workload
    back: float = 0.0  # seconds from the kill until it served again
    next_ack: float = float("nan")  # seconds from the kill until the workload's next acknowledged write
    in_flight: list[str] = field(default_factory=list)  # writes running when it was killed
    awaiting: int = 0  # documents awaiting attestation when it was killed


def _answering(pid: int, port: int) -> bool:
    """Whether `pid` holds an established connection on the local `port`: a request it is answering
    (the clients open a connection per request)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # ESTABLISHED
                inodes.add(f"socket:[{fields[9]}]")
    try:
        return any(os.readlink(fd) in inodes for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def _victim(world: World, load: Workload, target: str, rng: random.Random) -> int | None:
    """The process of `target` to kill while it has work, or None while it has none: an API worker
    answering a request, an oracle node or the aggregator while a document awaits attestation, the
    indexer at any time (a block every 2 s)."""
    process = world.services[target].process
    assert process is not None
    if target == "api":
        port = int(world.api_url.rsplit(":", 1)[1])
        busy = [pid for pid in sorted(_worker_pids(process.pid)) if _answering(pid, port)]
        return rng.choice(busy) if busy else None
    if target == "indexer" or load.awaiting:
        return process.pid
    return None


def _kill(world: World, load: Workload, target: str, rng: random.Random, began: float) -> Kill:
    """SIGKILL one process of `target`, start it again (the API's supervisor restarts its worker), and
    wait until it serves again."""
    service = world.services[target]
    assert service.process is not None
    old = _worker_pids(service.process.pid)
    deadline = time.monotonic() + 15  # a moment it has work, if one comes soon
    while (pid := _victim(world, load, target, rng)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid is None:
        pid = rng.choice(sorted(old)) if target == "api" else service.process.pid
    in_flight = [s.key for s in load.steps if s.ok is None]
    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    report = Kill(target, pid, killed - began, in_flight=in_flight, awaiting=len(load.awaiting))
    if target == "api":
        survivor = set(old) - {pid}

        def replaced() -> bool:
            pids = set(_worker_pids(service.process.pid))  # type: ignore[union-attr]
            return pid not in pids and len(pids) == 2 and survivor <= pids and service.healthy()

        _wait_for(replaced, "the API worker started again", STARTUP)
    else:
        service.process.wait(timeout=10)
        service.start()
        if target == "indexer":
            head = world.system.client(world.root / "reader.sqlite").w3.eth.block_number
            engine, indexer, source, _deployment = world.index("indexer")
            try:
                _wait_for(lambda: indexer.cursor().block_number >= head, "the indexer to catch up", STARTUP)
            finally:
                source.close()
                engine.dispose()
        else:
            _wait_for(service.healthy, f"{target} started again", STARTUP)
    report.back = time.monotonic() - killed
    return report


def test_kill_9_of_each_service_nothing_lost_nothing_twice(world: World) -> None:
    system = world.system
    client = system.client(world.root / "reader.sqlite")
    start = int(client.w3.eth.block_number)
    cash_before = {b: client.cash_balance("CNY", system.actors[b].address) for b in ("bank1", "bank2")}
    rng = random.Random(SEED)
    targets = ["indexer", "api", "oracle-1", "aggregator"]
    rng.shuffle(targets)
    target_node = f"oracle-{rng.randint(1, 3)}"
    targets = [target_node if t == "oracle-1" else t for t in targets]
    load = Workload(world)
    errors: list[str] = []

    killed_all = threading.Event()

    def client_loop(c: int) -> None:
        try:
            n = 0
            while n < MIN_CHAINS_PER_CLIENT or not killed_all.is_set():
                _one_obligation(load, c, n)
                n += 1
        except Exception as exc:
            errors.append(f"client {c}: {type(exc).__name__}: {exc}")

    clients = [threading.Thread(target=client_loop, args=(c,)) for c in range(CLIENTS)]
    began = time.monotonic()
    for thread in clients:
        thread.start()
    kills: list[Kill] = []
    try:
        for target in targets:
            time.sleep(rng.uniform(1.0, 6.0))  # a random moment of the workload
            kills.append(_kill(world, load, target, rng, began))
            assert not errors, errors
    finally:
        killed_all.set()
        for thread in clients:
            thread.join(timeout=300)
    elapsed = time.monotonic() - began
    assert not errors, errors
    for k in kills:
        after = [s.ended - began for s in load.steps if s.ok and s.ended - began > k.at]
        k.next_ack = (min(after) - k.at) if after else float("nan")

    # Every acknowledged write, replayed under its key, answers the same and runs nothing.
    replayed = 0
    for step in [s for s in load.steps if s.ok]:
        again = _request(world, step.method, step.path, world.parties[step.party]["key"], step.body, step.key)
        if step.kind == "attest":  # documents answer their current state: attested now
            assert again.json()["results"][0]["fingerprint"] == step.answer["results"][0]["fingerprint"]
            continue
        assert again.json() == step.answer, (step.key, again.text)
        assert again.headers.get("Idempotent-Replayed") == "true", step.key
        replayed += 1

    reader = world.system.client(world.root / "reader.sqlite")
    executed = executed_on_chain(reader, start, load.obligations)
    keyed: dict[str, Callable[[dict[str, Any]], Any]] = {
        "attest": lambda o: o["fingerprint"],
        "propose": lambda o: o["fingerprint"],
        "confirm": lambda o: o["proposal"],
        "split": lambda o: o["root"],
    }
    rows = []
    for kind in KINDS:
        steps = [s for s in load.steps if s.kind == kind]
        acked = [s for s in steps if s.ok]
        counts = [executed[kind][keyed[kind](o)] for o in load.obligations]
        lost = sum(1 for c in counts if c == 0)
        duplicated = sum(c - 1 for c in counts if c > 1)
        retries = sum(load.tries[s.key] - 1 for s in steps)
        rows.append((kind, len(steps), len(acked), sum(counts), lost, duplicated, retries))

    # Both indexes (the indexer process's, the API's) against the chain.
    mismatches: dict[str, list[str]] = {}
    for role in ("indexer", "api"):
        engine, indexer, source, deployment = world.index(role)
        try:
            head = int(client.w3.eth.block_number)

            def caught_up(i: Indexer = indexer, h: int = head) -> bool:
                return i.cursor().block_number >= h

            _wait_for(caught_up, f"the {role} index at the head")
            mismatches[role] = [str(m) for m in reconcile(engine, source, deployment)]
        finally:
            source.close()
            engine.dispose()

    total_obligations = len(load.obligations)
    title = f"scenario 3: kill -9 of each service (seed {SEED}; 2 s blocks, 2 API workers, {CLIENTS} clients)"
    print_table(title, rows, "retries")
    for k in kills:
        print(
            f"kill -9 {k.target} (pid {k.pid}) at {k.at:.1f} s, writes in flight {k.in_flight}, "
            f"documents awaiting attestation {k.awaiting}: "
            f"serving again after {k.back:.1f} s; next acknowledged write after {k.next_ack:.1f} s"
        )
    print(f"replayed under their keys: {replayed} writes, each the same answer, nothing run again")
    print(f"reconcile: indexer {len(mismatches['indexer'])} mismatches, API index {len(mismatches['api'])}")
    print(f"workload ran {elapsed:.1f} s")

    assert [k.target for k in kills] == targets
    assert all(s.ok for s in load.steps), [s for s in load.steps if not s.ok]
    assert total_obligations >= CLIENTS * MIN_CHAINS_PER_CLIENT
    for kind, attempted, acknowledged, done, lost, dup, _retries in rows:
        assert attempted == acknowledged == done == total_obligations, kind
        assert lost == 0 and dup == 0, kind
    assert mismatches == {"indexer": [], "api": []}, mismatches
    for o in load.obligations:
        assert client.balance_of(o["root"]) + client.balance_of(o["piece"]) == o["face"]
        assert client.owner_of(o["piece"]).lower() == world.parties["tier2"]["address"].lower()
    # The settlement tokens: no write of this workload moves them; none appeared or vanished.
    for bank, before in cash_before.items():
        assert client.cash_balance("CNY", system.actors[bank].address) == before == CASH
    for party in world.parties.values():
        assert client.cash_balance("CNY", client.w3.to_checksum_address(party["address"])) == 0
