"""Live updates in a real browser over real HTTP on a real chain: a supplier's tab is open, another
party pays it through the API, and the new piece appears in its holdings without a reload, the
header saying the page is live (in both languages). The page reads the stream with fetch, so the
bearer key travels with it; the page's own parser of the stream is checked frame by frame."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.dashboard.fixtures import LiveServer
from tests.dashboard.test_dashboard import sign_in, table_token_ids

pytestmark = pytest.mark.chain

CATALOGUES = Path(__file__).resolve().parents[2] / "api" / "dashboard" / "i18n"


def message(locale: str, key: str) -> str:
    loaded: dict[str, str] = json.loads((CATALOGUES / f"{locale}.json").read_text(encoding="utf-8"))
    return loaded[key]


def pay(api: TestClient, payer: Any, token_id: int, receiver: Any, value: int) -> int:
    answer = api.post(
        f"/v1/tokens/{token_id}/split",
        json={"pieces": [{"to": receiver.address, "value": value}]},
        headers=payer.headers,
    )
    assert answer.status_code == 200, answer.text
    return int(answer.json()["result"]["token_id"])


def wait_live(page: Any) -> None:
    page.wait_for_selector("#live-status[data-live='live']", timeout=30_000)
    assert page.get_attribute("#live-status", "aria-live") == "polite"
    assert page.get_attribute("#live-status", "role") == "status"


def test_a_payment_made_elsewhere_appears_in_the_open_holdings_without_reload(
    live_server: LiveServer, api: TestClient, parties: dict[str, Any], issue_obligation: Any, page: Any
) -> None:
    tier1, tier2 = parties["tier1"], parties["tier2"]
    root = int(issue_obligation(face=500_000_00)["token_id"])
    first = pay(api, tier1, root, tier2, 100_000_00)
    live_server.ctx.sync()

    sign_in(page, live_server, tier2.api_key)
    page.wait_for_selector("#panel-holdings[data-status='ready'] td.token-id")
    assert table_token_ids(page, "panel-holdings") == {first}
    wait_live(page)
    assert page.inner_text("#live-status") == message("en", "live.live")
    page.evaluate("window.tierchainMarker = 'still the same page'")

    second = pay(api, tier1, root, tier2, 25_000_00)
    live_server.ctx.sync()
    indexed = time.monotonic()

    page.wait_for_selector(f"#panel-holdings td.token-id:text-is('#{second}')", timeout=30_000)
    latency = time.monotonic() - indexed
    print(f"new piece shown {latency:.2f} s after the indexer recorded it")
    assert latency < 10, f"the live update took {latency:.1f} s"
    assert table_token_ids(page, "panel-holdings") == {first, second}
    assert page.evaluate("window.tierchainMarker") == "still the same page"  # no reload happened
    assert int(page.get_attribute("body", "data-live-events") or "0") >= 1
    assert page.get_attribute("#live-status", "data-live") == "live"


def test_the_indicator_speaks_chinese_and_a_dropped_stream_resumes_after_the_last_event(
    live_server: LiveServer,
    api: TestClient,
    parties: dict[str, Any],
    issue_obligation: Any,
    chinese_page: Any,
) -> None:
    page = chinese_page
    tier1, tier3 = parties["tier1"], parties["tier3"]
    root = int(issue_obligation(face=300_000_00)["token_id"])
    live_server.ctx.sync()
    # The first stream ends after a few seconds (the server's `max_seconds`); the page's attempt to
    # reopen it is held back until a payment has been made meanwhile.
    opened: list[Any] = []

    def stream(route: Any) -> None:
        opened.append(route.request)
        if len(opened) == 1:
            route.continue_(url=f"{route.request.url}?max_seconds=6")
        elif len(opened) == 2:
            held.append(route)
        else:
            route.continue_()

    held: list[Any] = []
    page.route("**/v1/events/stream*", stream)
    sign_in(page, live_server, tier3.api_key)
    wait_live(page)
    assert page.inner_text("#live-status") == message("zh-CN", "live.live")

    first = pay(api, tier1, root, tier3, 50_000_00)
    live_server.ctx.sync()
    page.wait_for_selector(f"#panel-holdings td.token-id:text-is('#{first}')", timeout=30_000)

    page.wait_for_selector("#live-status[data-live='reconnecting']", timeout=30_000)
    assert page.inner_text("#live-status") == message("zh-CN", "live.reconnecting")
    for _ in range(100):  # the page waits a second before reopening: let its request arrive
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1
    assert page.get_attribute("#live-status", "data-live") == "reconnecting"
    second = pay(api, tier1, root, tier3, 20_000_00)  # made while the page is away
    live_server.ctx.sync()
    held[0].continue_()

    page.wait_for_selector(f"#panel-holdings td.token-id:text-is('#{second}')", timeout=30_000)
    wait_live(page)
    assert table_token_ids(page, "panel-holdings") == {first, second}
    assert all(r.headers["authorization"] == f"Bearer {tier3.api_key}" for r in opened)
    assert "last-event-id" not in opened[0].headers
    resumed_after = opened[1].headers["last-event-id"]
    assert resumed_after.split(":")[0].isdigit()
    assert int(resumed_after.split(":")[0]) >= 1


def test_the_page_parses_stream_frames_as_the_server_writes_them(live_server: LiveServer, page: Any) -> None:
    page.goto(f"{live_server.url}/")
    page.wait_for_selector("body[data-state='signed-out']")
    parsed = page.evaluate(
        """async () => {
            const { SseParser } = await import('./live.js');
            const parser = new SseParser();
            const out = [];
            const chunks = ['retry: 1000\\n\\nid: 7\\nevent: Transfer', 'Value\\ndata: {"a"',
                            ':1}\\n\\n: heartbeat\\n\\n', 'id: 7:3\\r\\nevent: opened\\r\\n',
                            'data: x\\r\\ndata: y\\r\\n\\r\\nid: 9\\n\\n'];
            for (const chunk of chunks) {
                out.push(...parser.feed(chunk));
            }
            return { out, lastId: parser.lastId, retry: parser.retry };
        }"""
    )
    assert parsed["out"] == [
        {"id": "7", "event": "TransferValue", "data": '{"a":1}'},
        {"id": "7:3", "event": "opened", "data": "x\ny"},
    ]
    assert parsed["lastId"] == "9" and parsed["retry"] == 1000
