"""`./scripts/demo --serve`: the API and the dashboard on the demo's own chain, until Ctrl-C.

The API is built over the demo's data dir (deployment manifest, indexed database), with a one-off
operator key. API keys for the demo's participants are issued through the API's own operator flow
(`POST /v1/participants/{address}/api-keys`), exactly as an operator would issue them, so what is
printed is what a participant would be handed.

On a terminal each key is printed as a block (role and participant, then address and key on lines of
their own, never cut), so a person can tell which key is whose at any width. With `--json` stdout
carries one line: the summary `--json` prints, plus `serve` (API, dashboard and chain URLs and each
role's participant, address and key), written once the keys are issued and before the server starts.
"""

from __future__ import annotations

import json
import secrets
import signal
import sys
import warnings
from types import FrameType

import uvicorn
from pydantic import BaseModel, SecretStr
from rich.console import Console
from rich.markup import escape

from api.app import create_app
from api.config import ApiSettings
from ledger.config import Settings
from ledger.localchain import free_port

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


class ServeInfo(BaseModel):
    api_url: str
    docs_url: str
    dashboard_url: str
    rpc_url: str  # the demo's chain (JSON-RPC)
    keys: list[ServedKey]


def serve_demo(
    summary: Summary, settings: Settings, console: Console, port: int | None, *, json_output: bool = False
) -> None:
    """Build the app, issue the keys, print URLs and keys, and serve in this process until Ctrl-C.

    With `json_output` the URLs and keys go to stdout as one line of JSON (see the module's doc)
    and `console` (stderr) carries only what a person would read.
    """
    operator_key = "tc_operator_" + secrets.token_urlsafe(24)
    chosen = port or free_port(HOST)
    api_settings = ApiSettings(
        host=HOST,
        port=chosen,
        operator_key=SecretStr(operator_key),
        keystore_dir=settings.data_dir / "api-keystores",
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
    # uvicorn re-raises the signal that stopped it; make SIGTERM unwind like Ctrl-C, so the caller's
    # clean-up (stopping the detached chain) runs instead of the process dying on the spot.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        uvicorn.run(app, host=HOST, port=chosen, log_level="warning")
    finally:
        signal.signal(signal.SIGTERM, previous)


def print_served(console: Console, info: ServeInfo) -> None:
    """URLs, then one block per key: role and participant, then address and key on lines of their own.

    Printed with `soft_wrap`: at any width nothing is cut or broken inside a key; a terminal narrower
    than a line wraps it on screen, and the key is still copied whole.
    """
    lines = [
        "",
        f"[bold]serving[/bold] the API at {info.api_url} (docs {info.docs_url})",
        f"  and the dashboard at {info.dashboard_url} — Ctrl-C stops",
        f"  chain (JSON-RPC): {info.rpc_url}",
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
