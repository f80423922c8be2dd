"""Several API worker processes over one PostgreSQL database and one chain: what one process kept in
memory is shared through the database (custodial nonces, rate-limit buckets, the indexer writer), and
idempotency records answer a retry on whichever worker it reaches."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import text

from ledger.deploy import Deployment, manifest_path
from ledger.indexer.db import make_engine
from ledger.localchain import LocalChain, free_port
from tests.api.served import serve_api
from tests.api.support import DAY, OPERATOR_KEY, ApiWorld
from tests.support.processes import PROJECT_ROOT, Served, stop

pytestmark = pytest.mark.chain

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_KEY}"}
SPLITS = 20
PIECE = 100_00
STARTUP_SECONDS = 180


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own, dropped afterwards."""
    try:
        psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3).close()
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {exc}")
    name = f"tc_workers_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Workers:
    """Start API worker processes sharing one data dir (journal, keystores) and one database."""

    def __init__(self, stack: ExitStack, chain: LocalChain, deployment: Deployment, data_dir: Path, url: str):
        self.stack, self.chain, self.deployment, self.data_dir, self.url = (
            stack,
            chain,
            deployment,
            data_dir,
            url,
        )

    def start(self, count: int, **api: Any) -> list[Served]:
        settings = {"sync_interval_seconds": 0.5, **api}
        return [
            self.stack.enter_context(
                serve_api(
                    self.data_dir,
                    self.chain.url,
                    self.deployment.model_dump_json(),
                    OPERATOR_KEY,
                    settings,
                    database_url=self.url,
                    name=f"worker-{uuid.uuid4().hex[:6]}",
                )
            )
            for _ in range(count)
        ]


@pytest.fixture
def workers(
    clean_chain: LocalChain, tierchain_deployment: Deployment, tmp_path: Path, pg_url: str
) -> Iterator[Workers]:
    with ExitStack() as stack:
        yield Workers(stack, clean_chain, tierchain_deployment, tmp_path / "workers", pg_url)


def _onboard(worker: Served, name: str, roles: list[str], address: str | None = None) -> dict[str, str]:
    body: dict[str, Any] = {"legal_id": f"USCC-{name}-{time.time_ns()}", "roles": roles}
    body.update({"custody": "self", "address": address} if address else {"custody": "custodial"})
    answer = httpx.post(worker.url + "/v1/participants", json=body, headers=OPERATOR, timeout=60)
    assert answer.status_code == 201, answer.text
    return {"address": answer.json()["participant"]["address"], "key": answer.json()["api_key"]}


def _auth(party: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {party['key']}"}


def _issue(world: ApiWorld, first: Served, second: Served) -> tuple[dict[str, str], dict[str, str], int]:
    """tier1 (custodial) holding a confirmed token, tier2 to pay: the proposal on one worker, the
    confirmation on the other. Returns tier1, tier2 and the token id."""
    for oracle in ("oracle1", "oracle2"):
        _onboard(first, oracle, ["ORACLE"], world.actors[oracle].address)
    core = _onboard(second, "core", ["CORE_ENTERPRISE"])
    tier1 = _onboard(first, "tier1", ["SUPPLIER"])
    tier2 = _onboard(second, "tier2", ["SUPPLIER"])
    face = 1_000_000_00
    proposal = {
        "obligor": world.client.w3.to_checksum_address(core["address"]),
        "currency": "CNY",
        "face": face,
        "maturity": world.now + 90 * DAY,
        "min_unit": 100,
        "documents": [world.attest_invoice(face, tier1["address"], core["address"])],
    }
    proposed = httpx.post(
        first.url + "/v1/obligations/proposals", json=proposal, headers=_auth(tier1), timeout=60
    )
    assert proposed.status_code == 201, proposed.text
    proposal_id = proposed.json()["result"]["proposal_id"]
    confirmed = httpx.post(
        second.url + f"/v1/obligations/proposals/{proposal_id}/confirm", headers=_auth(core), timeout=60
    )
    assert confirmed.status_code == 200, confirmed.text
    return tier1, tier2, int(confirmed.json()["result"]["token_id"])


def _split(
    worker: Served, party: dict[str, str], token: int, to: str, key: str | None = None
) -> httpx.Response:
    headers = _auth(party) | ({"Idempotency-Key": key} if key else {})
    body = {"pieces": [{"to": to, "value": PIECE}]}
    return httpx.post(worker.url + f"/v1/tokens/{token}/split", json=body, headers=headers, timeout=120)


def test_concurrent_splits_for_one_custodial_participant_on_two_workers_never_share_a_nonce(
    workers: Workers, api_world: ApiWorld
) -> None:
    first, second = workers.start(2)
    tier1, tier2, token = _issue(api_world, first, second)
    w3 = api_world.client.w3
    sender = w3.to_checksum_address(tier1["address"])
    before = w3.eth.get_transaction_count(sender)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=SPLITS) as pool:
        answers = list(
            pool.map(lambda i: _split((first, second)[i % 2], tier1, token, tier2["address"]), range(SPLITS))
        )
    elapsed = time.monotonic() - started
    assert [a.status_code for a in answers] == [200] * SPLITS, [
        a.text for a in answers if a.status_code != 200
    ]
    hashes = {a.json()["tx_hash"] for a in answers}
    assert len(hashes) == SPLITS
    receipts = [w3.eth.get_transaction_receipt(h) for h in hashes]
    assert all(r["status"] == 1 for r in receipts)
    nonces = sorted(int(w3.eth.get_transaction(h)["nonce"]) for h in hashes)
    assert nonces == list(range(before, before + SPLITS))  # distinct and without a gap
    assert w3.eth.get_transaction_count(sender) == before + SPLITS
    for log in workers.data_dir.glob("worker-*.log"):
        assert "nonce too low" not in log.read_text(errors="replace").lower(), log
    # every answer was given after its block was indexed: both workers read all the pieces at once
    for worker in (first, second):
        held = httpx.get(worker.url + "/v1/tokens", headers=_auth(tier2), params={"limit": 100}, timeout=60)
        assert held.status_code == 200, held.text
        assert len(held.json()["items"]) == SPLITS
    print(f"{SPLITS} splits for one custodial participant on 2 workers: {SPLITS / elapsed:.1f}/s")


def test_an_idempotency_key_replayed_on_the_other_worker_returns_the_first_answer(
    workers: Workers, api_world: ApiWorld
) -> None:
    first, second = workers.start(2)
    tier1, tier2, token = _issue(api_world, first, second)
    w3 = api_world.client.w3
    sender = w3.to_checksum_address(tier1["address"])

    answer = _split(first, tier1, token, tier2["address"], key="pay-tier2-across-workers")
    assert answer.status_code == 200, answer.text
    sent = w3.eth.get_transaction_count(sender)
    replayed = _split(second, tier1, token, tier2["address"], key="pay-tier2-across-workers")
    assert replayed.status_code == 200, replayed.text
    assert replayed.json() == answer.json()
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert w3.eth.get_transaction_count(sender) == sent  # nothing ran twice
    held = httpx.get(second.url + "/v1/tokens", headers=_auth(tier2), timeout=60)
    assert [item["token"]["value"] for item in held.json()["items"]] == [PIECE]  # one operation on chain


def test_a_participant_rate_limit_holds_across_workers(workers: Workers) -> None:
    first, second = workers.start(2, rate_limit_per_minute=10)
    party = _onboard(first, "tier3", ["SUPPLIER"])
    answers = [
        httpx.get((first, second)[i % 2].url + "/v1/participants/me", headers=_auth(party), timeout=60)
        for i in range(12)
    ]
    assert [a.status_code for a in answers].count(200) == 10
    refused = [a for a in answers if a.status_code == 429]
    assert len(refused) == 2
    for answer in refused:
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["type"] == "https://tierchain.dev/problems/rate-limited"
        assert "limit of 10 requests a minute" in answer.json()["detail"]
        assert 1 <= int(answer.headers["Retry-After"]) <= 6


def test_a_worker_takes_over_the_index_when_the_other_stops(workers: Workers, api_world: ApiWorld) -> None:
    first, second = workers.start(2)
    tier1, tier2, token = _issue(api_world, first, second)
    first.process.terminate()  # whichever held the indexer locks, only `second` is left
    first.process.wait(timeout=30)
    answer = _split(second, tier1, token, tier2["address"])
    assert answer.status_code == 200, answer.text
    held = httpx.get(second.url + "/v1/tokens", headers=_auth(tier2), timeout=60)
    assert [item["token"]["value"] for item in held.json()["items"]] == [PIECE]
    # the background sync runs on the survivor: blocks mined outside the API are indexed too
    api_world.chain.rpc("anvil_mine", ["0x3"])
    head = api_world.client.w3.eth.block_number
    deadline = time.monotonic() + 20
    while (indexed := httpx.get(second.url + "/v1/ready", timeout=30).json()["indexed"]) < head:
        assert time.monotonic() < deadline, f"the survivor's index stays at {indexed}, the chain is at {head}"
        time.sleep(0.2)


def _worker_pids(parent: int) -> list[int]:
    """Processes `parent` spawned as workers (multiprocessing's spawn entry point in their command line)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"spawn_main" in command:
            found.append(int(stat.parent.name))
    return found


def test_tierchain_serve_runs_two_workers_on_one_port(
    clean_chain: LocalChain, tierchain_deployment: Deployment, tmp_path: Path, pg_url: str
) -> None:
    data_dir = tmp_path / "serve-data"
    (data_dir / clean_chain.name).mkdir(parents=True)
    # the session chain, recorded where `tierchain chain up` records it
    shutil.copy(clean_chain.run_file, data_dir / clean_chain.name / "anvil.json")
    manifest = manifest_path(data_dir, "local")
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(tierchain_deployment.model_dump_json())
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERCHAIN_")} | {
        "TIERCHAIN_DATA_DIR": str(data_dir),
        "TIERCHAIN_DATABASE_URL": pg_url,
        "TIERCHAIN_NETWORK": "local",
        "TIERCHAIN_LOG_LEVEL": "INFO",
        "TIERCHAIN_API_OPERATOR_KEY": OPERATOR_KEY,
        "TIERCHAIN_API_KEYSTORE_PASSWORD": "two workers test password",
        "TIERCHAIN_API_KEYSTORE_SCRYPT_N": "16",
        "TIERCHAIN_API_ONBOARDING_FUND_WEI": str(10**18),
    }
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "tierchain.cli", "serve", "--port", str(port), "--workers", "2"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS  # two workers start at once on a shared machine
        while len(_worker_pids(process.pid)) < 2 or not _healthy(url):
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.2)
        served = Served(url, process, url + "/v1/health")
        party = _onboard(served, "tier3", ["SUPPLIER"])
        for _ in range(6):  # whichever worker accepts the connection knows the new key
            me = httpx.get(url + "/v1/participants/me", headers=_auth(party), timeout=60)
            assert me.status_code == 200, me.text
            assert me.json()["address"] == party["address"]
    finally:
        stop(process, timeout=30)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/v1/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
