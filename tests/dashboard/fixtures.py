"""Dashboard fixtures: the `api` fixture's app served over real HTTP by uvicorn on a free loopback
port, a scene with a split, a financed and a frozen piece, and Debian's Chromium driven by Playwright.

The browser is the system's `/usr/bin/chromium` (scripts/setup installs it with apt when it can);
without it every browser test skips with that reason. Playwright never downloads a browser here.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.config import AppContext
from ledger.client import DayCount
from tests.api.support import DAY, ApiWorld, Party, onboard

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = PROJECT_ROOT / "build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NO_BROWSER = (
    f"{CHROMIUM} is missing: install Debian's chromium (as root: apt-get install chromium; "
    "scripts/setup does this when run as root)"
)


@dataclass
class LiveServer:
    url: str
    app: FastAPI

    @property
    def ctx(self) -> AppContext:
        ctx: AppContext = self.app.state.ctx
        return ctx


@pytest.fixture
def live_server(api: TestClient) -> Iterator[LiveServer]:
    """The app of the `api` fixture, also served over HTTP: one context, one nonce tracker, one
    database, whichever client writes. The socket listens before the thread starts, so the first
    request queues instead of racing the start-up."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    app: FastAPI = api.app  # type: ignore[assignment]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="dashboard-http", daemon=True
    )
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@dataclass
class Scene:
    """Obligation `slot`: tier 1's root → tier 2's piece → two tier-3 pieces (the first frozen) and
    a piece the bank financed off tier 2's — five pieces over three tiers."""

    server: LiveServer
    parties: dict[str, Party]
    supervisor: Party  # a custodial regulator: the API signs its freezes
    slot: int
    root: int
    tier2_piece: int
    frozen_piece: int
    open_piece: int
    financed_piece: int
    offer_id: int

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture
def scene(
    live_server: LiveServer,
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Any,
) -> Scene:
    ctx = live_server.ctx
    issued = issue_obligation(face=1_000_000_00)
    root, slot = int(issued["token_id"]), int(issued["slot"])
    tier1, tier2, tier3, bank = (parties[n] for n in ("tier1", "tier2", "tier3", "bank"))

    def split(holder: Party, token_id: int, pieces: list[tuple[Party, int]]) -> dict[str, Any]:
        body = {"pieces": [{"to": p.address, "value": v} for p, v in pieces]}
        answer = api.post(f"/v1/tokens/{token_id}/split", json=body, headers=holder.headers)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()["result"]
        return result

    tier2_piece = int(split(tier1, root, [(tier2, 400_000_00)])["token_id"])
    frozen_piece, open_piece = (
        int(t) for t in split(tier2, tier2_piece, [(tier3, 100_000_00), (tier3, 100_000_00)])["token_ids"]
    )

    client = ctx.client
    client.mint(ctx.operator, "CNY", bank.address, 1_000_000_00)
    offer = client.make_offer(
        ctx.keys.signer(bank.address), tier2_piece, 50_000_00, 450, DayCount.ACT_360, api_world.now + 7 * DAY
    )
    financed = client.accept_offer(ctx.keys.signer(tier2.address), offer.offer_id)
    regulator = api_world.actors["regulator"]
    client.freeze(regulator, frozen_piece, 3)
    supervisor = onboard(api, operator_headers, "supervisor", ["REGULATOR"], "custodial", None)
    ctx.sync()
    return Scene(
        server=live_server,
        parties=parties,
        supervisor=supervisor,
        slot=slot,
        root=root,
        tier2_piece=tier2_piece,
        frozen_piece=frozen_piece,
        open_piece=open_piece,
        financed_piece=int(financed.financed_token_id),
        offer_id=int(offer.offer_id),
    )


@pytest.fixture(scope="session")
def browser_context() -> Iterator[Any]:
    """One Chromium per session with a fresh profile; each test opens its own tab (its own
    sessionStorage)."""
    if not CHROMIUM.exists():
        pytest.skip(NO_BROWSER)
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    profile = tempfile.mkdtemp(prefix="tierchain-chromium-")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1360, "height": 900},
            device_scale_factor=1,
            service_workers="block",
        )
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    tab = browser_context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.set_default_timeout(20_000)
    yield tab
    tab.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def chinese_page(browser_context: Any) -> Iterator[Any]:
    """A tab whose browser prefers Chinese (as a clerk's does): the page opens in zh-CN."""
    tab = browser_context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.set_default_timeout(20_000)
    cdp = browser_context.new_cdp_session(tab)
    agent = tab.evaluate("navigator.userAgent")
    cdp.send("Emulation.setUserAgentOverride", {"userAgent": agent, "acceptLanguage": "zh-CN,zh"})
    cdp.send("Emulation.setLocaleOverride", {"locale": "zh-CN"})
    yield tab
    tab.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
