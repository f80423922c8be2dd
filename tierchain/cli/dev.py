"""`tierchain dev up|status|down`: the whole local network in the background, and exactly that stopped.

`dev up` starts (or reuses) the local chain, deploys (or verifies) the system, registers three oracle
nodes as ORACLE participants, writes a test trust store, then starts the three `oracle node run`
processes, the `oracle aggregator serve` intake, the indexer (`index run`) and the API (`serve`),
each detached with its log under `<data_dir>/dev/logs/`. It records every process it started (pid and
the kernel's start time, so a recycled pid is never mistaken for ours) in `<data_dir>/dev/dev.json`
and prints the URLs, the keys by role and the settings. `dev down` stops exactly the recorded
processes and the chain if `dev up` started it, then removes the record.

Services are started as `tierchain` command lines, not imported: each is the same process an
operator would run by hand, and this module composes them without reaching into api/.

The dev world's keys are anvil's, from the public test mnemonic: never use them anywhere real.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import httpx
import typer
from pydantic import BaseModel

from ledger.config import NetworkConfig, Settings, load_network
from ledger.errors import ConfigError, TierchainError
from ledger.keys import Signer, local_accounts
from ledger.localchain import LocalChain, read_run_info, stop_recorded
from tierchain.cli.common import JsonOpt, console, emit_json, guarded, settings

dev_app = typer.Typer(help="The whole local network (chain, oracles, indexer, API) in the background.")

HOST = "127.0.0.1"
DEV_KEYSTORE_PASSWORD = "tierchain-dev"  # custodial keystores of the dev world only
ONBOARDING_FUND_WEI = 10**18  # 1 ETH of gas for every custodial participant the dev API onboards
ORACLE_ACCOUNTS = (1, 2, 3)  # anvil accounts of the three oracle nodes
AGGREGATOR_ACCOUNT = 4  # the aggregator's submitting account: its own, so no nonce is shared
PKI_SEED = 7  # the test CA of `scripts/gen_documents.py OUT` (seed 7) on the same --now
STARTUP_TIMEOUT = 120.0
AGGREGATOR_KEY_ENV = "TIERCHAIN_DEV_AGGREGATOR_KEY"


class DevProcess(BaseModel):
    """One process `dev up` started: enough to find it, prove it is ours, and stop it."""

    name: str
    pid: int
    started: int  # /proc/<pid>/stat field 22, clock ticks after boot: a recycled pid has another
    url: str | None
    log: str
    command: list[str]


class DevKey(BaseModel):
    role: str
    address: str | None
    key: str
    note: str


class DevWorld(BaseModel):
    """What `dev up` leaves in `<data_dir>/dev/dev.json` and prints (as a table or `--json`)."""

    data_dir: str
    rpc_url: str
    chain_owned: bool  # started by `dev up`, so `dev down` stops it
    api_url: str
    docs_url: str
    dashboard_url: str
    aggregator_url: str
    oracle_urls: list[str]
    trust_store: str
    threshold: int
    keys: list[DevKey]
    settings: dict[str, str]
    processes: list[DevProcess]
    stop: str


# ------------------------------------------------------------------------------- processes


def _dev_dir(built: Settings) -> Path:
    return built.data_dir / "dev"


def _record_file(built: Settings) -> Path:
    return _dev_dir(built) / "dev.json"


def _start_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state is field 3
    if fields[0] == "Z":
        return None
    return int(fields[19])


def is_ours(process: DevProcess) -> bool:
    """Alive, started when we started it, and still running our command (not a recycled pid)."""
    if _start_ticks(process.pid) != process.started:
        return False
    try:
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return [part.decode(errors="replace") for part in cmdline if part] == process.command


def terminate(process: DevProcess, timeout: float = 15.0) -> bool:
    """SIGTERM, then SIGKILL if it lingers; only ever the recorded pid, and only if it is ours."""
    if not is_ours(process):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while is_ours(process) and time.monotonic() < deadline:
        time.sleep(0.1)
    if is_ours(process):
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
    return True


def _port(preferred: int | None) -> int:
    """`preferred` if nothing listens there, else a free one (the printed URLs say which)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, preferred or 0))
        except OSError:
            sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def spawn(name: str, args: list[str], env: dict[str, str], logs: Path, url: str | None) -> DevProcess:
    command = [sys.executable, "-m", "tierchain.cli", *args]
    log_file = logs / f"{name}.log"
    with log_file.open("ab") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True,  # detached: it outlives `dev up` and ignores the shell's Ctrl-C
        )  # fmt: skip
    started = _start_ticks(proc.pid)
    if started is None:
        raise TierchainError(f"{name} exited at once; see {log_file}")
    return DevProcess(name=name, pid=proc.pid, started=started, url=url, log=str(log_file), command=command)


def wait_healthy(processes: list[DevProcess], health: dict[str, str], timeout: float) -> None:
    """Every process alive, and every one with a health URL answering 200, within `timeout`."""
    deadline = time.monotonic() + timeout
    waiting = dict(health)
    with httpx.Client(timeout=2.0) as http:
        while True:
            for process in processes:
                if not is_ours(process):
                    tail = Path(process.log).read_text(errors="replace")[-1500:]
                    raise TierchainError(f"{process.name} exited during start-up ({process.log}):\n{tail}")
            for name, url in list(waiting.items()):
                with contextlib.suppress(httpx.HTTPError):
                    if http.get(url).status_code == 200:
                        del waiting[name]
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise TierchainError(f"not answering after {timeout:.0f}s: {', '.join(sorted(waiting))}")
            time.sleep(0.25)


# ------------------------------------------------------------------------------- the world


def _hex_key(signer: Signer) -> str:
    return "0x" + bytes(signer.key).hex()


def _register_oracles(built: Settings, admin: Signer, oracles: list[Signer]) -> None:
    """Each node's account becomes an active ORACLE participant (once; a re-run finds them)."""
    from ledger.client import TierchainClient
    from oracles.normalize import legal_id_hash

    client = TierchainClient.connect(built, admin, "local")
    for number, oracle in enumerate(oracles, start=1):
        if client.has_role(oracle.address, "ORACLE"):
            continue
        client.register_participant(
            admin, oracle.address, legal_id_hash(f"DEVORACLE{number}"), ["ORACLE"], key=f"dev:oracle:{number}"
        )


def write_test_trust_store(folder: Path) -> Path:
    """The test CA of `scripts/gen_documents.py` (seed 7) dated today: its documents verify here."""
    import random

    from oracles.testing_pki import build_pki, write_trust_store

    today = datetime.combine(datetime.now(UTC).date(), datetime.min.time(), tzinfo=UTC)
    return write_trust_store(folder, build_pki(random.Random(PKI_SEED), today))


def base_env(built: Settings) -> dict[str, str]:
    """The caller's environment with every path setting made absolute, so each service sees one world."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERCHAIN_API_")}
    env.update(
        {
            "TIERCHAIN_NETWORK": "local",
            "TIERCHAIN_PROJECT_ROOT": str(built.project_root),
            "TIERCHAIN_DATA_DIR": str(built.data_dir),
            "TIERCHAIN_CHAIN_CONFIG_DIR": str(built.chain_config_dir),
            "TIERCHAIN_BUILD_DIR": str(built.build_dir),
            "TIERCHAIN_DATABASE_URL": str(built.database_url),
            # Services log warnings unless asked for more: a follower at INFO logs every poll.
            "TIERCHAIN_LOG_LEVEL": os.environ.get("TIERCHAIN_LOG_LEVEL", "WARNING"),
            "TIERCHAIN_NO_PROGRESS": "1",
        }
    )
    return env


def dev_api_settings(aggregator_url: str, operator_key: str) -> dict[str, str]:
    """The API's settings in a dev world: an operator key, custodial keys with a known password,
    gas for every custodial participant at onboarding, and documents handed to the aggregator."""
    return {
        "TIERCHAIN_API_OPERATOR_KEY": operator_key,
        "TIERCHAIN_API_KEYSTORE_PASSWORD": DEV_KEYSTORE_PASSWORD,
        "TIERCHAIN_API_ONBOARDING_FUND_WEI": str(ONBOARDING_FUND_WEI),
        "TIERCHAIN_API_AGGREGATOR_URL": aggregator_url,
    }


@dataclass
class OracleServices:
    """Three (or more) `oracle node run` processes and the `oracle aggregator serve` intake over them."""

    oracle_urls: list[str]
    aggregator_url: str
    health: dict[str, str]  # process name -> the URL that answers 200 once it is ready


def start_oracle_services(
    env: dict[str, str],
    folder: Path,
    trust: Path,
    oracles: Sequence[Signer],
    aggregator: Signer,
    threshold: int,
    processes: list[DevProcess],
    *,
    preferred_ports: bool = True,
) -> OracleServices:
    """Start one node per oracle key (each must be an active ORACLE participant) and the aggregator,
    which submits with its own key. Stores and logs go under `folder`; every process started is
    appended to `processes` at once, so the caller can stop them all if a later step fails.
    Ports are 8701… and 8800 where free (`preferred_ports`), else any free ones."""
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    def free(preferred: int) -> int:
        return _port(preferred if preferred_ports else None)

    node_ports = [free(8700 + n) for n in range(1, len(oracles) + 1)]
    oracle_urls = [f"http://{HOST}:{p}" for p in node_ports]
    health = {}
    for number, (oracle, port) in enumerate(zip(oracles, node_ports, strict=True), start=1):
        var = f"TIERCHAIN_DEV_ORACLE_{number}_KEY"
        db = folder / f"oracle-{number}.sqlite"
        args = ["oracle", "node", "run", "--trust-store", str(trust), "--key-env", var,
                "--port", str(port), "--db", str(db)]  # fmt: skip
        name = f"oracle-{number}"
        processes.append(spawn(name, args, {**env, var: _hex_key(oracle)}, logs, oracle_urls[number - 1]))
        health[name] = f"{oracle_urls[number - 1]}/health"
    agg_port = free(8800)
    aggregator_url = f"http://{HOST}:{agg_port}"
    args = ["oracle", "aggregator", "serve", "--nodes", ",".join(oracle_urls),
            "--threshold", str(threshold), "--port", str(agg_port),
            "--db", str(folder / "aggregator.sqlite"), "--key-env", AGGREGATOR_KEY_ENV]  # fmt: skip
    agg_env = {**env, AGGREGATOR_KEY_ENV: _hex_key(aggregator)}
    processes.append(spawn("aggregator", args, agg_env, logs, aggregator_url))
    health["aggregator"] = f"{aggregator_url}/health"
    return OracleServices(oracle_urls, aggregator_url, health)


def _start_chain(built: Settings, network: NetworkConfig, port: int | None) -> tuple[str, bool]:
    running = read_run_info(built.data_dir)
    if running is not None:
        return running.url, False
    if network.anvil is None:
        raise ConfigError(f"{built.chain_config_dir / 'local.toml'}: anvil: missing [anvil] table")
    configured = network.rpc_urls[0].rsplit(":", 1)[-1].rstrip("/")
    chosen = _port(port or (int(configured) if configured.isdigit() else None))
    chain = LocalChain(network.anvil, built.project_root, built.data_dir, port=chosen, detach=True)
    chain.start()
    return chain.url, True


def dev_up_world(built: Settings, *, api_port: int, chain_port: int | None) -> DevWorld:
    """Start everything, record it, and return the world; on failure stop what was started."""
    from ledger.deploy import deploy_from_settings

    network = load_network(built, "local")
    if network.anvil is None:
        raise ConfigError(f"{built.chain_config_dir / 'local.toml'}: anvil: missing [anvil] table")
    accounts = local_accounts(network.anvil.mnemonic, AGGREGATOR_ACCOUNT + 1)
    admin, oracles, aggregator = (
        accounts[0],
        [accounts[i] for i in ORACLE_ACCOUNTS],
        accounts[AGGREGATOR_ACCOUNT],
    )
    dev_dir, logs = _dev_dir(built), _dev_dir(built) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    rpc_url, chain_owned = _start_chain(built, network, chain_port)
    processes: list[DevProcess] = []
    try:
        outcome = deploy_from_settings(built, "local", signer=admin)
        _register_oracles(built, admin, oracles)
        trust = write_test_trust_store(dev_dir / "trust")
        env = base_env(built)
        threshold = outcome.deployment.oracle_threshold
        services = start_oracle_services(env, dev_dir, trust, oracles, aggregator, threshold, processes)
        oracle_urls, aggregator_url, health = services.oracle_urls, services.aggregator_url, services.health
        processes.append(spawn("indexer", ["index", "run"], env, logs, None))
        operator_key = "tc_operator_" + secrets.token_urlsafe(24)
        api = _port(api_port)
        api_url = f"http://{HOST}:{api}"
        api_settings = dev_api_settings(aggregator_url, operator_key)
        # The API indexes into a database of its own: two indexers moving one cursor refuse each other.
        api_db = f"sqlite:///{dev_dir / 'api.sqlite'}"
        api_env = {**env, **api_settings, "TIERCHAIN_DATABASE_URL": api_db}
        processes.append(spawn("api", ["serve", "--host", HOST, "--port", str(api)], api_env, logs, api_url))
        health["api"] = f"{api_url}/v1/health"
        world = DevWorld(
            data_dir=str(built.data_dir),
            rpc_url=rpc_url,
            chain_owned=chain_owned,
            api_url=f"{api_url}/v1",
            docs_url=f"{api_url}/v1/docs",
            dashboard_url=f"{api_url}/dashboard/",
            aggregator_url=aggregator_url,
            oracle_urls=oracle_urls,
            trust_store=str(trust),
            threshold=threshold,
            keys=[
                DevKey(
                    role="platform operator (API)",
                    address=None,
                    key=operator_key,
                    note="Authorization: Bearer <key>; onboards participants, issues API keys",
                ),
                DevKey(
                    role="registry admin / deployer",
                    address=admin.address,
                    key=_hex_key(admin),
                    note="anvil account 0; the API signs operator writes with it",
                ),
                *[
                    DevKey(
                        role=f"oracle node {n}",
                        address=o.address,
                        key=_hex_key(o),
                        note=f"anvil account {ORACLE_ACCOUNTS[n - 1]}; registered ORACLE",
                    )
                    for n, o in enumerate(oracles, start=1)
                ],
                DevKey(
                    role="aggregator (submits attestations)",
                    address=aggregator.address,
                    key=_hex_key(aggregator),
                    note=f"anvil account {AGGREGATOR_ACCOUNT}",
                ),
            ],
            settings={
                "TIERCHAIN_DATA_DIR": str(built.data_dir),
                **api_settings,
                "TIERCHAIN_DATABASE_URL (indexer, reports)": str(built.database_url),
                "TIERCHAIN_DATABASE_URL (API)": api_db,
            },
            processes=processes,
            stop="tierchain dev down",
        )
        _record_file(built).write_text(world.model_dump_json(indent=2))  # recorded before waiting
        wait_healthy(processes, health, STARTUP_TIMEOUT)
        return world
    except BaseException:
        for process in reversed(processes):
            terminate(process)
        if chain_owned:
            stop_recorded(built.data_dir)
        _record_file(built).unlink(missing_ok=True)
        raise


def read_world(built: Settings) -> DevWorld | None:
    try:
        return DevWorld.model_validate_json(_record_file(built).read_text())
    except (FileNotFoundError, ValueError):
        return None


def dev_down_world(built: Settings) -> tuple[list[str], list[str]]:
    """Stop the recorded processes (ours only) and the chain if `dev up` started it; (stopped, gone)."""
    world = read_world(built)
    if world is None:
        return [], []
    stopped: list[str] = []
    gone: list[str] = []
    for process in reversed(world.processes):
        (stopped if terminate(process) else gone).append(f"{process.name} (pid {process.pid})")
    if world.chain_owned:
        info = stop_recorded(built.data_dir)
        (stopped if info else gone).append(f"chain (pid {info.pid})" if info else "chain")
    _record_file(built).unlink(missing_ok=True)
    return stopped, gone


# ------------------------------------------------------------------------------- output


def _print_world(world: DevWorld, title: str) -> None:
    """Lines, not table cells: nothing is cut or folded inside a URL or a key at any width."""
    lines = [f"[bold]{title}[/bold]", "", "[bold]services[/bold]"]
    pids = {p.name: p.pid for p in world.processes}
    rows = [
        ("API", world.api_url, pids.get("api")),
        ("API docs", world.docs_url, None),
        ("dashboard", world.dashboard_url, None),
        ("chain (JSON-RPC)", world.rpc_url, None),
        ("aggregator intake", world.aggregator_url, pids.get("aggregator")),
        *[(f"oracle node {n}", url, pids.get(f"oracle-{n}")) for n, url in enumerate(world.oracle_urls, 1)],
        ("indexer", "—", pids.get("indexer")),
    ]
    for name, url, pid in rows:
        lines.append(f"  {name:<20} {url}" + (f"   (pid {pid})" if pid else ""))
    lines += ["", "[bold]keys by role[/bold] (public test keys: never use them anywhere real)"]
    for key in world.keys:
        lines += ["", f"  [bold]{key.role}[/bold]  {key.note}"]
        if key.address is not None:
            lines.append(f"    address  {key.address}")
        lines.append(f"    key      {key.key}")
    lines += ["", "[bold]settings[/bold]"]
    lines += [f"  {name} = {value}" for name, value in world.settings.items()]
    lines += [
        f"  oracle threshold {world.threshold} of {len(world.oracle_urls)}; trust store {world.trust_store}",
        "  test documents this CA signs: python scripts/gen_documents.py OUT (seed 7, default --now)",
        "",
        "[bold]commands[/bold]",
        f"  export TIERCHAIN_DATA_DIR={world.data_dir}   # then any tierchain command uses this world",
        "  tierchain chain advance --days 30            # move the chain's clock",
        f"  {world.stop}                           # stop exactly these processes",
        f"  logs: {Path(world.processes[0].log).parent if world.processes else '—'}",
    ]
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False)


# ------------------------------------------------------------------------------- commands


def _local_only(built: Settings) -> None:
    if built.network != "local":
        raise ConfigError(
            f"TIERCHAIN_NETWORK={built.network!r}: `tierchain dev` runs the local development network only"
        )


def _show_world(world: DevWorld, status: str, title: str, as_json: bool) -> None:
    """The world as JSON with its `status`, or as lines under `title` and its data dir."""
    if as_json:
        emit_json({"status": status, **world.model_dump(mode="json")})
    else:
        _print_world(world, f"{title} (data dir {world.data_dir})")


@dev_app.command("up")
@guarded
def dev_up(
    api_port: Annotated[int, typer.Option(help="API port (a free one if taken)", min=1, max=65535)] = 8000,
    chain_port: Annotated[
        int | None, typer.Option(help="chain port; default: local.toml's (a free one if taken)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Start chain, deployment, three oracle nodes, the aggregator, the indexer and the API."""
    built = settings()
    _local_only(built)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not one line per health poll
    world = read_world(built)
    if world is not None:
        dead = [p.name for p in world.processes if not is_ours(p)]
        if dead:
            raise TierchainError(
                f"the dev network is partly down ({', '.join(dead)} exited); run `tierchain dev down` first"
            )
        _show_world(world, "already up", "already up", as_json)
        return
    world = dev_up_world(built, api_port=api_port, chain_port=chain_port)
    _show_world(world, "up", "dev network up", as_json)


@dev_app.command("status")
@guarded
def dev_status(as_json: JsonOpt = False) -> None:
    """The running dev network's URLs, keys and processes; exits 1 when none runs."""
    world = read_world(settings())
    if world is None:
        console.print("no dev network running")
        raise typer.Exit(code=1)
    _show_world(world, "up", "dev network", as_json)


@dev_app.command("down")
@guarded
def dev_down(as_json: JsonOpt = False) -> None:
    """Stop exactly the processes `dev up` started (and its chain), then remove their record."""
    stopped, gone = dev_down_world(settings())
    if as_json:
        emit_json({"stopped": stopped, "already_gone": gone})
        return
    if not stopped and not gone:
        console.print("no dev network running")
        return
    console.print(f"stopped: {', '.join(stopped) or 'nothing'}", soft_wrap=True)
    if gone:
        console.print(f"already gone: {', '.join(gone)}", soft_wrap=True)
