"""`./scripts/demo --serve`: the API and the dashboard on the demo's own chain, until Ctrl-C.

The served world is the one `tierchain dev up` starts, on the demo's chain and with its code
(`tierchain.cli.dev`): the demo's three oracle participants run `oracle node run` over the test CA of
`scripts/gen_documents.py` (seed 7, dated today), `oracle aggregator serve` takes documents over
HTTP and submits with a key of its own, and the API (in this process) hands documents to it, creates
custodial keys with the dev keystore password and sends every custodial participant gas when it is
onboarded. Those processes are stopped when the server stops.

The API is built over the demo's data dir (deployment manifest, indexed database), with a one-off
operator key. API keys for the demo's participants are issued through the API's own operator flow
(`POST /v1/participants/{address}/api-keys`), exactly as an operator would issue them, so what is
printed is what a participant would be handed.

On a terminal each key is printed as a block (role and participant, then address and key on lines of
their own, never cut), so a person can tell which key is whose at any width. With `--json` stdout
carries one line: the summary `--json` prints, plus `serve` (API, dashboard and chain URLs and each
role's participant, address and key, the oracle services, the settings and the chain's state: its
block and its clock, which the demo moved to maturity), written once the keys are issued and before
the server starts.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import uvicorn
from pydantic import BaseModel, SecretStr
from rich.console import Console
from rich.markup import escape

from api.app import create_app
from api.config import ApiSettings
from ledger.config import Settings, load_network
from ledger.deploy import load_deployment
from ledger.keys import local_accounts
from ledger.localchain import free_port
from ledger.rpc import make_web3
from tierchain.cli.dev import (
    STARTUP_TIMEOUT,
    DevProcess,
    OracleServices,
    base_env,
    dev_api_settings,
    start_oracle_services,
    terminate,
    wait_healthy,
    write_test_trust_store,
)

from .cast import ORACLES, PARTIES
from .report import Summary

HOST = "127.0.0.1"
# One participant per role, the one a visitor would want to log in as first.
ROLE_KEYS = (
    ("core", "core enterprise"),
    ("t1", "tier-1 supplier"),
    ("t3a", "tier-3 supplier"),
    ("bank_a", "bank"),
    ("regulator", "regulator"),
)


class ServedKey(BaseModel):
    """One API key as handed out: whose it is and what to send (`Authorization: Bearer <api_key>`)."""

    role: str
    name: str
    address: str | None  # None for the platform operator, who is not a participant
    api_key: str


class ChainState(BaseModel):
    """Where the chain is once the demo is done: dates sent to the API are judged by this clock."""

    rpc_url: str
    chain_id: int
    block: int
    chain_time: int  # unix seconds of the latest block
    chain_time_utc: str
    advanced_days: int  # how far ahead of the wall clock the demo moved it (to reach maturity)


class ServeInfo(BaseModel):
    api_url: str
    docs_url: str
    dashboard_url: str
    rpc_url: str  # the demo's chain (JSON-RPC)
    chain: ChainState
    aggregator_url: str  # POST /v1/documents hands documents to it
    oracle_urls: list[str]
    trust_store: str  # the test CA of scripts/gen_documents.py (seed 7, dated today)
    settings: dict[str, str]  # as environment variables, so the same world can be served again
    logs: str | None  # the oracle services' logs
    keys: list[ServedKey]


@dataclass
class Services:
    """The oracle nodes and the aggregator started for `--serve`, to be stopped when it ends."""

    oracles: OracleServices
    trust_store: Path
    processes: list[DevProcess] = field(default_factory=list)
    logs: Path | None = None


def start_services(settings: Settings) -> Services:
    """Three oracle nodes with the demo's oracle participants' keys, and the aggregator with a key of
    its own (the first anvil account the cast leaves unused), as `tierchain dev up` starts them."""
    network = load_network(settings, "local")
    assert network.anvil is not None
    accounts = local_accounts(network.anvil.mnemonic, len(PARTIES) + 1)
    keys = [key for key, *_ in PARTIES]
    oracles = [accounts[keys.index(name)] for name in ORACLES]
    aggregator = accounts[len(PARTIES)]
    folder = settings.data_dir / "services"
    trust = write_test_trust_store(folder / "trust")
    threshold = load_deployment(settings, "local").oracle_threshold
    services = Services(OracleServices([], "", {}), trust, logs=folder / "logs")
    try:
        services.oracles = start_oracle_services(
            base_env(settings), folder, trust, oracles, aggregator, threshold, services.processes,
            preferred_ports=False,  # any free ports, like the demo's chain: `dev up` may hold 8701…
        )  # fmt: skip
        wait_healthy(services.processes, services.oracles.health, STARTUP_TIMEOUT)
    except BaseException:
        stop_services(services)
        raise
    return services


def stop_services(services: Services) -> None:
    for process in reversed(services.processes):
        terminate(process)


def read_chain_state(rpc_url: str) -> ChainState:
    w3 = make_web3(rpc_url)
    latest = w3.eth.get_block("latest")
    chain_time = int(latest["timestamp"])
    return ChainState(
        rpc_url=rpc_url,
        chain_id=int(w3.eth.chain_id),
        block=int(latest["number"]),
        chain_time=chain_time,
        chain_time_utc=datetime.fromtimestamp(chain_time, UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        advanced_days=max(0, round((chain_time - time.time()) / 86400)),
    )


def serve_demo(
    summary: Summary, settings: Settings, console: Console, port: int | None, *, json_output: bool = False
) -> None:
    """Build the app, issue the keys, print URLs and keys, and serve in this process until Ctrl-C.

    With `json_output` the URLs and keys go to stdout as one line of JSON (see the module's doc)
    and `console` (stderr) carries only what a person would read.
    """
    # uvicorn re-raises the signal that stopped it; make SIGTERM unwind like Ctrl-C, here and while the
    # services start, so the clean-up (the oracle services, then the detached chain) runs instead of
    # the process dying on the spot.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        services = start_services(settings)
        try:
            _serve(summary, settings, services, console, port, json_output=json_output)
        finally:
            stop_services(services)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _serve(
    summary: Summary,
    settings: Settings,
    services: Services,
    console: Console,
    port: int | None,
    *,
    json_output: bool,
) -> None:
    operator_key = "tc_operator_" + secrets.token_urlsafe(24)
    chosen = port or free_port(HOST)
    shared = dev_api_settings(services.oracles.aggregator_url, operator_key)
    # Custody reads the keystore password from the environment: the caller's if set, else the dev one.
    password_env = "TIERCHAIN_API_KEYSTORE_PASSWORD"
    shared[password_env] = os.environ.setdefault(password_env, shared[password_env])
    api_settings = ApiSettings(
        host=HOST,
        port=chosen,
        operator_key=SecretStr(operator_key),
        keystore_dir=settings.data_dir / "api-keystores",
        keystore_password_env=password_env,
        aggregator_url=shared["TIERCHAIN_API_AGGREGATOR_URL"],
        onboarding_fund_wei=int(shared["TIERCHAIN_API_ONBOARDING_FUND_WEI"]),
    )
    app = create_app(settings, api_settings)
    actors = {a.key: a for a in summary.actors}
    keys = [ServedKey(role="platform operator", name="platform operator", address=None, api_key=operator_key)]
    app.state.ctx.sync()  # the participants must be in the index before keys are issued for them
    # In-process and without the lifespan (uvicorn runs that below): the operator's own HTTP flow.
    with warnings.catch_warnings():  # starlette's note on its httpx-based test client
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    http = TestClient(app)
    for key, role in ROLE_KEYS:
        actor = actors[key]
        answer = http.post(
            f"/v1/participants/{actor.address}/api-keys",
            json={"scopes": ["read", "write"]},
            headers={"Authorization": f"Bearer {operator_key}"},
        )
        answer.raise_for_status()
        keys.append(
            ServedKey(role=role, name=actor.name, address=actor.address, api_key=answer.json()["api_key"])
        )

    url = f"http://{HOST}:{chosen}"
    info = ServeInfo(
        api_url=f"{url}/v1",
        docs_url=f"{url}/v1/docs",
        dashboard_url=f"{url}/dashboard/",
        rpc_url=summary.chain_url,
        chain=read_chain_state(summary.chain_url),
        aggregator_url=services.oracles.aggregator_url,
        oracle_urls=services.oracles.oracle_urls,
        trust_store=str(services.trust_store),
        settings={
            "TIERCHAIN_NETWORK": "local",
            "TIERCHAIN_DATA_DIR": str(settings.data_dir),
            "TIERCHAIN_DATABASE_URL": str(settings.database_url),
            **shared,
        },
        logs=str(services.logs) if services.logs else None,
        keys=keys,
    )
    if json_output:
        document = {**summary.model_dump(mode="json"), "serve": info.model_dump(mode="json")}
        sys.stdout.write(json.dumps(document) + "\n")
        sys.stdout.flush()
        console.print(
            f"serving the API at {info.api_url} and the dashboard at {info.dashboard_url} — Ctrl-C stops"
        )
    else:
        print_served(console, info)
    uvicorn.run(app, host=HOST, port=chosen, log_level="warning")


def print_served(console: Console, info: ServeInfo) -> None:
    """URLs, then one block per key: role and participant, then address and key on lines of their own.

    Printed with `soft_wrap`: at any width nothing is cut or broken inside a key; a terminal narrower
    than a line wraps it on screen, and the key is still copied whole.
    """
    chain = info.chain
    lines = [
        "",
        f"[bold]serving[/bold] the API at {info.api_url} (docs {info.docs_url})",
        f"  and the dashboard at {info.dashboard_url} — Ctrl-C stops",
        f"  chain (JSON-RPC): {info.rpc_url}",
        f"    chain id {chain.chain_id}, block {chain.block}, chain time {chain.chain_time_utc}",
        f"    the demo moved the chain's clock {chain.advanced_days} days ahead to reach maturity: "
        "dates you send (maturities, deadlines) are judged by chain time",
        f"  oracle aggregator (document intake): {info.aggregator_url}",
        *[f"  oracle node {n}: {url}" for n, url in enumerate(info.oracle_urls, start=1)],
        f"  trust store: {info.trust_store}",
        "    (the test CA of: python scripts/gen_documents.py OUT — seed 7, default --now)",
        *([f"  logs of the oracle services: {info.logs}"] if info.logs else []),
        "",
        "[bold]settings[/bold] (what this API runs with; TIERCHAIN_DATA_DIR points any tierchain command "
        "at this chain)",
        *[f"  {name}={value}" for name, value in info.settings.items()],
        "",
        "[bold]API keys[/bold] (send as: Authorization: Bearer <key>)",
    ]
    for served in info.keys:
        whose = served.role if served.name == served.role else f"{served.role}: {served.name}"
        lines += ["", f"  [bold]{escape(whose)}[/bold]"]
        if served.address is not None:
            lines.append(f"    address  {served.address}")
        lines.append(f"    API key  {served.api_key}")
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt
