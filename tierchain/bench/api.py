"""Requests per second the HTTP API serves, measured with wrk against an anchor in the same run.

Setup (not timed): a throwaway anvil on a free port with a temporary data directory, the real
deployment. First, on that chain, the ledger's raw throughput for `raw_seconds`, by
`tierchain.bench.throughput`'s method (its own 32 senders): the ceiling the API's executed writes are
compared with. Then the API served by uvicorn on a free loopback port in its own process (1 or more worker
processes over one database), participants onboarded through the API (custodial suppliers, a core
enterprise; two self-custody oracles to attest the invoice), one obligation issued and split so that
each of `concurrency` suppliers holds its own piece.

Then, for each worker count, timed phases of `seconds` each, driven by wrk (`tierchain.bench.wrk`) with
`concurrency` kept-alive connections:
- the anchor: a bare FastAPI endpoint returning a small dict on the same server stack
  (`tierchain.bench.anchor`), with the same worker count;
- `GET /v1/health` (no credentials, no database);
- `GET /v1/tokens/{id}`, cycling through the suppliers, each reading its own piece with its own key
  (served from the read cache while the indexer cursor stands still);
- `POST /v1/tokens/{id}/split`, each supplier splitting a minimum unit off its own piece to the next.
  A write answers only once its transaction is mined and indexed, as always;
- the same splits with `Prefer: respond-async`: wrk counts the 202s (accepted/s); then the queue is
  waited out, and executed (mined and indexed, state `done`)/s is the operations done over the span
  from the first one's acceptance to the last one's end, also as a ratio to the raw throughput.
Every figure is also given as a ratio to the anchor of its worker count: machines differ, ratios
measured in one run compare. Server CPU per request is read from /proc for the server's processes.

`python -m tierchain.bench.api --json` prints the result; `--block-time S` mines on an interval instead
of a block per transaction; `--workers 1,2` picks the worker counts; `--raw-seconds S` the length of
the raw throughput phase.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from eth_utils.crypto import keccak
from sqlalchemy import func, select

from api.app import create_app
from api.config import ApiSettings
from api.operations import FINAL_STATES
from api.tables import operations
from ledger.client import Attestation, DocumentKind, TierchainClient
from ledger.compile import compile_contracts
from ledger.config import AnvilConfig, NetworkConfig, PolicySpec, Settings, parse_network
from ledger.deploy import deploy_system, load_deployment, manifest_path
from ledger.errors import ErrorDecoder, TierchainError
from ledger.indexer.db import make_engine
from ledger.journal import TxJournal
from ledger.keys import Signer, local_accounts
from ledger.localchain import LocalChain, free_port
from ledger.rpc import make_web3
from ledger.tx import TransactionManager
from tierchain.bench.anchor import ANCHOR_PATH
from tierchain.bench.throughput import ThroughputRun
from tierchain.bench.throughput import prepare as prepare_raw
from tierchain.bench.wrk import HttpRequest, WrkResult, combine, run_wrk, wrk_path

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


# ---------------------------------------------------------------------------------------- server


def _tree_cpu(pid: int) -> float | None:
    """User + system CPU seconds of `pid` and its live children so far (Linux /proc); None if unreadable.

    uvicorn's workers are children of the process we started, so they are counted too."""
    try:
        own = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = (int(own[11]) + int(own[12])) / ticks
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # the parent pid
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


@dataclass
class Served:
    """A running server: where to reach it, and the CPU its processes have used."""

    url: str
    pid: int

    def cpu(self) -> float | None:
        return _tree_cpu(self.pid)


@dataclass
class Phase:
    """One measured phase: wrk's figures and the server CPU it cost."""

    endpoint: str
    load: WrkResult
    server_cpu: float | None

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.server_cpu is None or not self.load.requests:
            return None
        return self.server_cpu * 1000 / self.load.requests

    def as_json(self, anchor: Phase) -> dict[str, Any]:
        rate, base = self.load.requests_per_second, anchor.load.requests_per_second
        cpu, base_cpu = self.cpu_ms_per_request, anchor.cpu_ms_per_request
        return {
            "endpoint": self.endpoint,
            **self.load.as_json(),
            # Throughput against the anchor measured in the slices beside this phase's.
            "vs_anchor": round(rate / base, 3) if base else None,
            # CPU per request does not depend on what else the machine runs: 1000 / this is what one
            # free core would serve, whatever the wall-clock figures say.
            "server_cpu_ms_per_request": None if cpu is None else round(cpu, 3),
            "anchor_cpu_ms_per_request": None if base_cpu is None else round(base_cpu, 3),
            "cpu_vs_anchor": round(base_cpu / cpu, 3) if cpu and base_cpu else None,
        }


SLICES = 3  # each phase alternates with the anchor this many times, so both see the same machine


def _timed(
    served: Served, requests: list[HttpRequest], seconds: float, connections: int
) -> tuple[WrkResult, float | None]:
    before = served.cpu()
    load = run_wrk(served.url, requests, seconds=seconds, connections=connections)
    after = served.cpu()
    return load, (after - before if before is not None and after is not None else None)


def _paired(
    anchor: Served,
    served: Served,
    endpoint: str,
    requests: list[HttpRequest],
    seconds: float,
    connections: int,
) -> tuple[Phase, Phase]:
    """The phase and the anchor, measured in alternating slices (anchor, phase, anchor, phase, ...)."""
    bare = [HttpRequest("GET", ANCHOR_PATH, {})]
    step = max(1.0, seconds / SLICES)
    a_loads, a_cpu, p_loads, p_cpu = [], 0.0, [], 0.0
    a_known = p_known = True
    for _ in range(SLICES):
        load, cpu = _timed(anchor, bare, step, connections)
        a_loads.append(load)
        a_known, a_cpu = a_known and cpu is not None, a_cpu + (cpu or 0.0)
        load, cpu = _timed(served, requests, step, connections)
        p_loads.append(load)
        p_known, p_cpu = p_known and cpu is not None, p_cpu + (cpu or 0.0)
    return (
        Phase(endpoint, combine(p_loads), p_cpu if p_known else None),
        Phase(f"GET {ANCHOR_PATH} (bare FastAPI)", combine(a_loads), a_cpu if a_known else None),
    )


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


def _wait_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"the server process exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise BenchError(f"{url} did not come up within {timeout}s")


@contextmanager
def _process(command: list[str], probe: str, base_url: str) -> Iterator[Served]:
    proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env={**os.environ, PASSWORD_ENV: PASSWORD})
    try:
        _wait_up(base_url + probe, proc)
        yield Served(base_url, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _serve(
    data_dir: Path, rpc_url: str, config: AnvilConfig, *, workers: int
) -> AbstractContextManager[Served]:
    """The Tierchain API on a free loopback port, in its own process with `workers` worker processes."""
    port = free_port()
    command = [
        sys.executable, "-m", "tierchain.bench.api", "--serve", str(port), "--workers", str(workers),
        "--data-dir", str(data_dir), "--rpc-url", rpc_url, "--state-file", str(config.state_file),
    ]  # fmt: skip
    if config.block_time_seconds is not None:
        command += ["--block-time", str(config.block_time_seconds)]
    return _process(command, "/v1/health", f"http://127.0.0.1:{port}")


def _serve_anchor(workers: int) -> AbstractContextManager[Served]:
    port = free_port()
    command = [sys.executable, "-m", "tierchain.bench.anchor", str(port), str(workers)]
    return _process(command, ANCHOR_PATH, f"http://127.0.0.1:{port}")


SERVE_ENV = "TIERCHAIN_API_BENCH_SERVE"  # the served app's arguments, for uvicorn's worker processes


def served_app() -> Any:
    """The app factory uvicorn's worker processes call (arguments from the environment)."""
    data_dir, rpc_url, state_file, block_time = json.loads(os.environ[SERVE_ENV])
    config = AnvilConfig(accounts=10, state_file=Path(state_file), block_time_seconds=block_time)
    return _build_app(Path(data_dir), rpc_url, config)


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
        nonce=RAW_INVOICES + 1,  # after the raw throughput phase's invoices
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


def _health() -> list[HttpRequest]:
    return [HttpRequest("GET", "/v1/health", {})]


def _reads(holders: list[Holder]) -> list[HttpRequest]:
    return [HttpRequest("GET", f"/v1/tokens/{h.token_id}", h.headers) for h in holders]


def _splits(holders: list[Holder], extra: dict[str, str] | None = None) -> list[HttpRequest]:
    headers = {"Content-Type": "application/json", **(extra or {})}
    return [
        HttpRequest(
            "POST",
            f"/v1/tokens/{h.token_id}/split",
            {**h.headers, **headers},
            json.dumps({"pieces": [{"to": holders[(i + 1) % len(holders)].address, "value": MIN_UNIT}]}),
        )
        for i, h in enumerate(holders)
    ]


ASYNC = {"Prefer": "respond-async"}
DRAIN_LIMIT_SECONDS = 300.0


def _drain(data_dir: Path, since: datetime) -> dict[str, Any]:
    """Wait until every operation accepted with `Prefer: respond-async` since `since` has ended (the
    server's runner works through them); what ended, how, and how fast they were executed.

    Executed = mined and indexed: the write answered, its block in the indexer (state `done`). The rate
    is the operations done over the span from the first one's acceptance to the last one's end."""
    o = operations.c
    engine = make_engine(f"sqlite:///{data_dir / 'tierchain.sqlite'}")
    started = time.monotonic()
    try:
        while True:
            with engine.connect() as conn:
                query = select(o.state, func.count()).where(o.created_at >= since).group_by(o.state)
                counts = {str(state): int(n) for state, n in conn.execute(query).all()}
            waiting = sum(n for state, n in counts.items() if state not in FINAL_STATES)
            if not waiting or time.monotonic() - started > DRAIN_LIMIT_SECONDS:
                break
            time.sleep(0.5)
        with engine.connect() as conn:
            first, last = conn.execute(
                select(func.min(o.created_at), func.max(o.finished_at)).where(
                    o.created_at >= since, o.state == "done"
                )
            ).one()
    finally:
        engine.dispose()
    done = int(counts.get("done", 0))
    span = (last - first).total_seconds() if first is not None and last is not None else 0.0
    return {
        "operations_done": done,
        "operations_failed": int(counts.get("failed", 0)),
        "operations_unfinished": waiting,
        "seconds_first_accepted_to_last_done": round(span, 1),
        "executed_per_second": round(done / span, 1) if span > 0 else 0.0,
    }


RAW_SENDERS = 32
RAW_INVOICES = 2  # the raw phase's obligations, one invoice each (nonces 1 and 2)


def _raw_throughput(
    client: TierchainClient, network: NetworkConfig, accounts: list[Signer], seconds: float
) -> dict[str, Any]:
    """The ledger's raw throughput on this chain, by `tierchain.bench.throughput`'s method (bulk signed
    splits and transfers, JSON-RPC batches, receipts by block): the ceiling the API is compared with.

    Its parties are other accounts than the API's (the oracles the API onboards stay unregistered)."""
    admin, *rest = accounts
    keys = [keccak(text=f"tierchain-api-bench-raw-{i}") for i in range(RAW_SENDERS)]
    senders, gas = prepare_raw(client, [admin, *rest[3:8]], keys, obligations=RAW_INVOICES)
    run = ThroughputRun(network.rpc_urls[0], network, client.token.address, senders, gas)
    figures = run.run(seconds)
    return {
        "senders": len(senders),
        "seconds": figures["seconds"],
        "mined_per_second": figures["mined_per_s"],
        "submitted_per_second": figures["submitted_per_s"],
        "reverted": figures["reverted"],
        "rejected": figures["rejected"],
    }


def _round(
    data_dir: Path, chain_url: str, config: AnvilConfig, holders: list[Holder], workers: int, seconds: float,
    concurrency: int,
) -> dict[str, Any]:  # fmt: skip
    """The phases for one worker count, each beside the anchor (same worker count). The last sends
    splits with `Prefer: respond-async`: wrk counts the 202s; then the queue is waited out."""
    plan = [
        ("health", "GET /v1/health", _health()),
        ("read", "GET /v1/tokens/{id}", _reads(holders)),
        ("split", "POST /v1/tokens/{id}/split", _splits(holders)),
        ("async_split", "POST /v1/tokens/{id}/split, Prefer: respond-async", _splits(holders, ASYNC)),
    ]
    result: dict[str, Any] = {"workers": workers}
    with _serve_anchor(workers) as bare, _serve(data_dir, chain_url, config, workers=workers) as served:
        for name, endpoint, requests in plan:
            since = datetime.now(UTC)
            phase, anchor = _paired(bare, served, endpoint, requests, seconds, concurrency)
            result[name] = phase.as_json(anchor)
            result[f"anchor_{name}"] = anchor.as_json(anchor)
            if name == "async_split":
                drained = _drain(data_dir, since)
                # wrk's figure counts only the slices it loaded the server; the 202s per second of
                # loaded time are its requests_per_second.
                drained["accepted_per_second"] = result[name]["requests_per_second"]
                result[name].update(drained)
    return result


def bench_api(
    *,
    seconds: float = 10.0,
    concurrency: int = 32,
    workers: tuple[int, ...] = (1, 2),
    block_time: float | None = None,
    raw_seconds: float = 5.0,
) -> dict[str, Any]:
    """Start a chain, measure the ledger's raw throughput on it (`raw_seconds`), prepare `concurrency`
    holders, then measure each worker count; stop all."""
    if concurrency < 2:
        raise BenchError("at least two holders are needed (each splits to the next)")
    if not workers or min(workers) < 1:
        raise BenchError("worker counts must be 1 or more")
    wrk_path()  # refuse before minutes of setup if the load generator is missing
    build = compile_contracts(PROJECT_ROOT, PROJECT_ROOT / "build")
    abis = {n: a.abi for n, a in build.artifacts.items()}
    with tempfile.TemporaryDirectory(prefix="tierchain-api-bench-") as tmp:
        data_dir = Path(tmp)
        config = AnvilConfig(
            accounts=10, state_file=data_dir / "anvil-state.json", block_time_seconds=block_time
        )
        with LocalChain(config, PROJECT_ROOT, data_dir, port=free_port()) as chain:
            network = _network(chain.url, config)
            accounts = local_accounts(config.mnemonic, 9)
            manager = TransactionManager(
                make_web3(chain.url),
                network,
                accounts[0],
                TxJournal(data_dir / "deploy-journal.sqlite"),
                ErrorDecoder.from_artifacts(abis),
            )
            outcome = deploy_system(manager, network, build.artifacts, manifest_path(data_dir, network.name))
            client = TierchainClient(manager, outcome.deployment, abis)
            raw = _raw_throughput(client, network, accounts, raw_seconds)
            with (
                _serve(data_dir, chain.url, config, workers=1) as served,
                httpx.Client(base_url=served.url, timeout=60.0) as http,
            ):
                holders = _prepare(http, client, accounts, concurrency)
            rounds = [
                _round(data_dir, chain.url, config, holders, count, seconds, concurrency) for count in workers
            ]
    for entry in rounds:
        executed, ceiling = entry["async_split"]["executed_per_second"], raw["mined_per_second"]
        entry["async_split"]["executed_vs_ledger_raw"] = round(executed / ceiling, 3) if ceiling else None
    return {
        "load_generator": f"wrk, 1 thread, {concurrency} connections, {seconds:g} s per phase",
        "server": "uvicorn, the API in its own process(es)",
        "mining": "automine" if block_time is None else f"interval {block_time:g}s",
        "concurrency": concurrency,
        "cpus": os.cpu_count(),
        "ledger_raw": raw,
        "rounds": rounds,
    }


def _worker_counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"worker counts are integers separated by commas, not {text!r}"
        ) from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("worker counts must be 1 or more")
    return counts


def summary_lines(result: dict[str, Any]) -> list[str]:
    raw = result["ledger_raw"]
    lines = [
        f"{result['load_generator']}; {result['mining']}; {result['cpus']} CPUs",
        f"the ledger's raw throughput on this chain: {raw['mined_per_second']} mined/s "
        f"({raw['senders']} senders, {raw['seconds']} s, tierchain.bench.throughput's method)",
    ]
    for entry in result["rounds"]:
        for name in ("health", "read", "split", "async_split"):
            r, a = entry[name], entry[f"anchor_{name}"]
            lines.append(
                f"{entry['workers']} worker(s)  {r['endpoint']}: {r['requests_per_second']} req/s = "
                f"{r['vs_anchor']}x the anchor beside it ({a['requests_per_second']} req/s); "
                f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, errors {r['errors']}; "
                f"server CPU {r['server_cpu_ms_per_request']} ms/request = {r['cpu_vs_anchor']}x "
                f"the anchor's ({a['server_cpu_ms_per_request']})"
            )
        drained = entry["async_split"]
        lines.append(
            f"{entry['workers']} worker(s)  respond-async: {drained['accepted_per_second']} accepted/s; "
            f"{drained['operations_done']} done, {drained['operations_failed']} failed, "
            f"{drained['operations_unfinished']} unfinished; {drained['executed_per_second']} executed "
            f"(mined and indexed)/s over {drained['seconds_first_accepted_to_last_done']} s = "
            f"{drained['executed_vs_ledger_raw']}x the ledger's raw {raw['mined_per_second']}/s"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tierchain.bench.api", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=_worker_counts, default=(1, 2), help="worker counts, e.g. 1,2")
    parser.add_argument("--block-time", type=float, default=None, help="interval mining (default automine)")
    parser.add_argument(
        "--raw-seconds", type=float, default=5.0, help="length of the ledger's raw throughput phase"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--data-dir", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--rpc-url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--state-file", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.serve is not None:
        assert args.data_dir is not None and args.rpc_url is not None and args.state_file is not None
        os.environ[SERVE_ENV] = json.dumps(
            [str(args.data_dir), args.rpc_url, str(args.state_file), args.block_time]
        )
        uvicorn.run(
            "tierchain.bench.api:served_app",
            factory=True,
            host="127.0.0.1",
            port=args.serve,
            workers=args.workers[0],
            log_level="warning",
            # A worker answers the supervisor's health check only once imported and built; on a loaded
            # machine that takes longer than uvicorn's 5 s, and the supervisor would kill it over and
            # over. The bench's own wait (`_wait_up`) bounds the start-up instead.
            timeout_worker_healthcheck=60,
        )
        return 0
    result = bench_api(
        seconds=args.seconds,
        concurrency=args.concurrency,
        workers=args.workers,
        block_time=args.block_time,
        raw_seconds=args.raw_seconds,
    )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print("\n".join(summary_lines(result)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
