"""`./scripts/demo --serve`: the API and the dashboard on the demo's own chain, until Ctrl-C.

The API is built over the demo's data dir (deployment manifest, indexed database), with a one-off
operator key. API keys for the demo's participants are issued through the API's own operator flow
(`POST /v1/participants/{address}/api-keys`), exactly as an operator would issue them, so what is
printed is what a participant would be handed.
"""

from __future__ import annotations

import secrets
import signal
import warnings
from types import FrameType

import uvicorn
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

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


def serve_demo(summary: Summary, settings: Settings, console: Console, port: int | None) -> None:
    """Build the app, issue the keys, print URL and keys, and serve in this process until Ctrl-C."""
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
    keys: list[tuple[str, str, str, str]] = [("operator", "platform operator", "—", operator_key)]
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
        keys.append((role, actor.name, actor.address, str(answer.json()["api_key"])))

    url = f"http://{HOST}:{chosen}"
    table = Table(title="API keys (Authorization: Bearer <key>)", title_justify="left")
    table.add_column("role")
    table.add_column("participant")
    table.add_column("address", no_wrap=True)
    table.add_column("API key", no_wrap=True)
    for row in keys:
        table.add_row(*row)
    console.print(
        f"\n[bold]serving[/bold] the API at {url}/v1 (docs {url}/v1/docs) "
        f"and the dashboard at {url}/dashboard/ — Ctrl-C stops"
    )
    console.print(table)
    # uvicorn re-raises the signal that stopped it; make SIGTERM unwind like Ctrl-C, so the caller's
    # clean-up (stopping the detached chain) runs instead of the process dying on the spot.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        uvicorn.run(app, host=HOST, port=chosen, log_level="warning")
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt
