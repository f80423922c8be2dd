"""Requests per second the HTTP API sustains on one machine: a cached read and custodial splits.

Setup (not timed): a throwaway anvil on a free port with a temporary data directory, the real
deployment, the API served by uvicorn on a free loopback port (in a separate process by default,
the realistic setup; or in a thread of this one), participants onboarded through the API (custodial
suppliers, a core enterprise; two self-custody oracles to attest the invoice), one obligation issued
and split so that each of `concurrency` suppliers holds its own piece.

Then three timed phases, each `seconds` long (or `max_requests`), driven by `concurrency` asyncio
workers on one kept-alive `httpx.AsyncClient`: a baseline, `GET /v1/health` (no credentials, no
database: the ceiling of this machine and this client, which share the cores with the server);
(a) `GET /v1/tokens/{id}`, each worker reading its own supplier's piece (served from the read
cache while the indexer cursor stands still); (b) `POST /v1/tokens/{id}/split`, each worker
splitting a minimum unit off its own piece to the next supplier, so no two requests wait on the
same account's nonce. A write answers only once its transaction is mined and indexed, as always;
the figures are what that costs.

`python -m tierchain.bench.api --json` prints the result; `--thread` serves in-process, `--block-time S` mines
on an interval instead of a block per transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from eth_utils.crypto import keccak

from api.app import create_app
from api.config import ApiSettings
from ledger.client import Attestation, DocumentKind, TierchainClient
from ledger.compile import compile_contracts
from ledger.config import AnvilConfig, NetworkConfig, PolicySpec, Settings, parse_network
from ledger.deploy import deploy_system, load_deployment, manifest_path
from ledger.errors import ErrorDecoder, TierchainError
from ledger.journal import TxJournal
from ledger.keys import Signer, local_accounts
from ledger.localchain import LocalChain, free_port
from ledger.rpc import make_web3
from ledger.tx import TransactionManager

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAY = 86_400
MIN_UNIT = 100
PIECE_VALUE = 10**12  # each supplier's piece: far more than a run can split off it
OPERATOR_KEY = "tc_operator_bench-secret"
PASSWORD_ENV = "TIERCHAIN_API_BENCH_KEYSTORE_PASSWORD"
PASSWORD = "bench-only keystore password"


class BenchError(TierchainError):
    """The benchmark could not run (setup failed, or the server did not come up)."""


@dataclass
class Phase:
    """Figures of one timed phase; latencies in milliseconds."""

    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    server_cpu: float | None = None  # CPU seconds the server process spent in the phase
    client_cpu: float = 0.0  # CPU seconds this (load) process spent, server thread included if any

    def as_json(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def pct(q: float) -> float:
            if not ordered:
                return 0.0
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

        return {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "requests_per_second": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(ordered), 2) if ordered else 0.0,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            # CPU per request does not depend on what else the machine runs: 1000 / server_cpu_ms is
            # what one free core would serve, whatever the wall-clock figures above say.
            "server_cpu_ms_per_request": self._per_request(self.server_cpu),
            "client_cpu_ms_per_request": self._per_request(self.client_cpu),
        }

    def _per_request(self, cpu: float | None) -> float | None:
        if cpu is None or not self.requests:
            return None
        return round(cpu * 1000 / self.requests, 3)


# ---------------------------------------------------------------------------------------- load


Request = tuple[str, str, dict[str, str], Any]  # method, path, headers, JSON body (None for GET)


async def _drive(
    base_url: str,
    requests: list[Callable[[], Request]],
    *,
    seconds: float,
    max_requests: int | None,
) -> Phase:
    """One worker per entry of `requests` (each makes its next request), until time or count runs out."""
    phase = Phase()
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=len(requests))
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60.0) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker(make: Callable[[], Request]) -> None:
            while time.perf_counter() < deadline and (max_requests is None or phase.requests < max_requests):
                method, path, headers, body = make()
                phase.requests += 1
                sent = time.perf_counter()
                try:
                    response = await client.request(method, path, headers=headers, json=body)
                except httpx.HTTPError:
                    phase.errors += 1
                    continue
                phase.latencies.append((time.perf_counter() - sent) * 1000)
                phase.statuses[response.status_code] = phase.statuses.get(response.status_code, 0) + 1
                if response.status_code >= 300:
                    phase.errors += 1

        await asyncio.gather(*(worker(make) for make in requests))
        phase.seconds = time.perf_counter() - started
    return phase


# ---------------------------------------------------------------------------------------- server


def _process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of `pid` so far (Linux /proc); None where that is not readable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Served:
    """A running API: where to reach it, and how much CPU its process has used (None: in-process)."""

    url: str
    pid: int | None

    def cpu(self) -> float | None:
        return None if self.pid is None else _process_cpu(self.pid)


def _settings(data_dir: Path) -> Settings:
    return Settings(
        project_root=PROJECT_ROOT,
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'tierchain.sqlite'}",
    )


def _api_settings(data_dir: Path) -> ApiSettings:
    return ApiSettings(
        keystore_dir=data_dir / "keystores",
        keystore_password_env=PASSWORD_ENV,
        keystore_scrypt_n=2**4,  # throwaway keys: the production default would only slow setup down
        operator_key=OPERATOR_KEY,
        rate_limit_per_minute=10_000_000,
        sync_interval_seconds=1.0,
        onboarding_fund_wei=10**18,
    )


def _network(url: str, config: AnvilConfig) -> NetworkConfig:
    base = parse_network(PROJECT_ROOT / "chain_config" / "local.toml", PROJECT_ROOT)
    # Plain splits between suppliers: the API's own cost, not the trade-document path's.
    deploy = base.deploy.model_copy(update={"policy": PolicySpec.mechanics()})
    return base.model_copy(
        update={"rpc_urls": [url], "anvil": config, "poll_interval_seconds": 0.01, "deploy": deploy}
    )


def _build_app(data_dir: Path, rpc_url: str, config: AnvilConfig) -> Any:
    network = _network(rpc_url, config)
    os.environ.setdefault(PASSWORD_ENV, PASSWORD)
    settings = _settings(data_dir)
    return create_app(
        settings,
        _api_settings(data_dir),
        network=network,
        deployment=load_deployment(settings, network.name),
        operator=local_accounts(config.mnemonic, 1)[0],
    )


def _wait_up(base_url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"the API process exited with {proc.returncode}")
        try:
            if httpx.get(f"{base_url}/v1/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise BenchError(f"the API at {base_url} did not come up within {timeout}s")


@contextmanager
def _serve(data_dir: Path, rpc_url: str, config: AnvilConfig, *, in_thread: bool) -> Iterator[Served]:
    """The API on a free loopback port, in a child process (default) or a thread; yields its URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    if in_thread:
        server = uvicorn.Server(
            uvicorn.Config(
                _build_app(data_dir, rpc_url, config), host="127.0.0.1", port=port, log_level="warning"
            )
        )
        thread = threading.Thread(target=server.run, name="api-bench-server", daemon=True)
        thread.start()
        try:
            _wait_up(base_url)
            yield Served(base_url, None)
        finally:
            server.should_exit = True
            thread.join(timeout=15)
        return
    cmd = [
        sys.executable, "-m", "tierchain.bench.api", "--serve", str(port),
        "--data-dir", str(data_dir), "--rpc-url", rpc_url, "--state-file", str(config.state_file),
    ]  # fmt: skip
    if config.block_time_seconds is not None:
        cmd += ["--block-time", str(config.block_time_seconds)]
    env = {**os.environ, PASSWORD_ENV: PASSWORD}
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env)
    try:
        _wait_up(base_url, proc)
        yield Served(base_url, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------------------- setup


@dataclass
class Holder:
    address: str
    headers: dict[str, str]
    token_id: int = 0


def _checked(response: httpx.Response, status: int = 200) -> Any:
    if response.status_code != status:
        raise BenchError(f"{response.request.method} {response.request.url.path}: {response.text}")
    return response.json()


def _onboard(http: httpx.Client, name: str, roles: list[str], address: str | None = None) -> Holder:
    body: dict[str, Any] = {"legal_id": f"BENCH-{name}", "roles": roles, "custody": "custodial"}
    if address is not None:
        body.update(custody="self", address=address)
    answer = _checked(
        http.post("/v1/participants", json=body, headers={"Authorization": f"Bearer {OPERATOR_KEY}"}), 201
    )
    return Holder(answer["participant"]["address"], {"Authorization": f"Bearer {answer['api_key']}"})


def _prepare(http: httpx.Client, client: TierchainClient, accounts: list[Signer], count: int) -> list[Holder]:
    """Onboard through the API, attest an invoice, issue one obligation, give each supplier a piece."""
    oracles = accounts[1:3]
    for i, oracle in enumerate(oracles):
        _onboard(http, f"oracle-{i}", ["ORACLE"], oracle.address)
    core = _onboard(http, "core", ["CORE_ENTERPRISE"])
    tier1 = _onboard(http, "tier1", ["SUPPLIER"])
    holders = [_onboard(http, f"supplier-{i}", ["SUPPLIER"]) for i in range(count)]
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    face = PIECE_VALUE * (count + 1)
    invoice = Attestation(
        fingerprint=keccak(text="api-bench-invoice"),
        kind=DocumentKind.INVOICE,
        seller=client.w3.to_checksum_address(tier1.address),
        buyer=client.w3.to_checksum_address(core.address),
        amount=face,
        currency="CNY",
        issue_date=now - DAY,
        due_date=now + 365 * DAY,
        nonce=1,
        deadline=now + DAY,
    )
    client.sign_and_attest(oracles[0], invoice, oracles)
    proposal = {
        "obligor": client.w3.to_checksum_address(core.address),
        "currency": "CNY",
        "face": face,
        "maturity": now + 365 * DAY,
        "min_unit": MIN_UNIT,
        "documents": ["0x" + invoice.fingerprint.hex()],
    }
    proposed = _checked(http.post("/v1/obligations/proposals", json=proposal, headers=tier1.headers), 201)
    path = f"/v1/obligations/proposals/{proposed['result']['proposal_id']}/confirm"
    root = _checked(http.post(path, headers=core.headers))["result"]["token_id"]
    for start in range(0, count, 25):
        group = holders[start : start + 25]
        pieces = [{"to": h.address, "value": PIECE_VALUE} for h in group]
        split = _checked(
            http.post(f"/v1/tokens/{root}/split", json={"pieces": pieces}, headers=tier1.headers)
        )
        for holder, token_id in zip(group, split["result"]["token_ids"], strict=True):
            holder.token_id = int(token_id)
    return holders


def _timed(served: Served, requests: list[Callable[[], Request]], seconds: float, limit: int | None) -> Phase:
    """Run one phase, and charge the CPU both processes spent to its requests."""
    server_before, client_before = served.cpu(), time.process_time()
    phase = asyncio.run(_drive(served.url, requests, seconds=seconds, max_requests=limit))
    server_after = served.cpu()
    phase.client_cpu = time.process_time() - client_before
    if server_before is not None and server_after is not None:
        phase.server_cpu = server_after - server_before
    return phase


def _health(concurrency: int) -> list[Callable[[], Request]]:
    """No credentials, no database: what this machine and this client can do at all."""
    return [lambda: ("GET", "/v1/health", {}, None)] * concurrency


def _reads(holders: list[Holder]) -> list[Callable[[], Request]]:
    def make(holder: Holder) -> Callable[[], Request]:
        return lambda: ("GET", f"/v1/tokens/{holder.token_id}", holder.headers, None)

    return [make(h) for h in holders]


def _splits(holders: list[Holder]) -> list[Callable[[], Request]]:
    def make(holder: Holder, to: str) -> Callable[[], Request]:
        body = {"pieces": [{"to": to, "value": MIN_UNIT}]}
        return lambda: ("POST", f"/v1/tokens/{holder.token_id}/split", holder.headers, body)

    return [make(h, holders[(i + 1) % len(holders)].address) for i, h in enumerate(holders)]


def bench_api(
    *,
    seconds: float = 10.0,
    concurrency: int = 32,
    max_requests: int | None = None,
    in_thread: bool = False,
    block_time: float | None = None,
) -> dict[str, Any]:
    """Start a chain and the API, prepare `concurrency` holders, time reads then splits; stop all."""
    if concurrency < 2:
        raise BenchError("at least two holders are needed (each splits to the next)")
    build = compile_contracts(PROJECT_ROOT, PROJECT_ROOT / "build")
    abis = {n: a.abi for n, a in build.artifacts.items()}
    with tempfile.TemporaryDirectory(prefix="tierchain-api-bench-") as tmp:
        data_dir = Path(tmp)
        config = AnvilConfig(
            accounts=10, state_file=data_dir / "anvil-state.json", block_time_seconds=block_time
        )
        with LocalChain(config, PROJECT_ROOT, data_dir, port=free_port()) as chain:
            network = _network(chain.url, config)
            accounts = local_accounts(config.mnemonic, 3)
            manager = TransactionManager(
                make_web3(chain.url),
                network,
                accounts[0],
                TxJournal(data_dir / "deploy-journal.sqlite"),
                ErrorDecoder.from_artifacts(abis),
            )
            outcome = deploy_system(manager, network, build.artifacts, manifest_path(data_dir, network.name))
            client = TierchainClient(manager, outcome.deployment, abis)
            with (
                _serve(data_dir, chain.url, config, in_thread=in_thread) as served,
                httpx.Client(base_url=served.url, timeout=60.0) as http,
            ):
                holders = _prepare(http, client, accounts, concurrency)
                baseline = _timed(served, _health(concurrency), seconds, max_requests)
                reads = _timed(served, _reads(holders), seconds, max_requests)
                writes = _timed(served, _splits(holders), seconds, max_requests)
    return {
        "server": "uvicorn, 1 worker, " + ("thread of the load process" if in_thread else "own process"),
        "mining": "automine" if block_time is None else f"interval {block_time:g}s",
        "concurrency": concurrency,
        "cpus": os.cpu_count(),
        "baseline": {"endpoint": "GET /v1/health", **baseline.as_json()},
        "read": {"endpoint": "GET /v1/tokens/{id}", **reads.as_json()},
        "split": {"endpoint": "POST /v1/tokens/{id}/split", **writes.as_json()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tierchain.bench.api", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--max-requests", type=int, default=None)
    parser.add_argument("--thread", action="store_true", help="serve in a thread of this process")
    parser.add_argument("--block-time", type=float, default=None, help="interval mining (default automine)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--data-dir", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--rpc-url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--state-file", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.serve is not None:
        assert args.data_dir is not None and args.rpc_url is not None and args.state_file is not None
        config = AnvilConfig(accounts=10, state_file=args.state_file, block_time_seconds=args.block_time)
        app = _build_app(args.data_dir, args.rpc_url, config)
        uvicorn.run(app, host="127.0.0.1", port=args.serve, log_level="warning")
        return 0
    result = bench_api(
        seconds=args.seconds,
        concurrency=args.concurrency,
        max_requests=args.max_requests,
        in_thread=args.thread,
        block_time=args.block_time,
    )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name in ("baseline", "read", "split"):
            r = result[name]
            print(
                f"{r['endpoint']}: {r['requests_per_second']} req/s, p50 {r['p50_ms']} ms, "
                f"p95 {r['p95_ms']} ms, errors {r['errors']}, server CPU {r['server_cpu_ms_per_request']} "
                f"ms/request ({result['mining']}, {result['server']})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
