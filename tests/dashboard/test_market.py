"""The bank's market in the browser (融资申请): a holder asks a bank for financing of part of a piece; the
bank, signed in in Chinese, sees the request with the piece's obligor, maturity, tier and documents,
enters a rate, reviews the desk's own price and makes the offer by clicking; the offer on chain carries
what was typed, and the holder's acceptance against the request settles it (DvP)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.dashboard.fixtures import Scene
from tests.dashboard.test_dashboard import sign_in
from tests.dashboard.test_payments import wait_written

pytestmark = pytest.mark.chain

ASKED = 100_000_00


def test_a_bank_offers_on_a_financing_request_by_clicking(
    scene: Scene, api: TestClient, chinese_page: Any, screenshots: Path
) -> None:
    tier1, bank = scene.parties["tier1"], scene.parties["bank"]
    asked = api.post(
        "/v1/financing/requests",
        json={"token_id": scene.root, "banks": [bank.address], "value": ASKED},
        headers=tier1.headers,
    )
    assert asked.status_code == 201, asked.text
    request_id = int(asked.json()["request_id"])

    tab = chinese_page
    tab.set_viewport_size({"width": 1280, "height": 800})
    sign_in(tab, scene.server, bank.api_key)
    tab.wait_for_selector("#panel-market[data-status='ready']")
    assert tab.inner_text("#h-market") == "融资申请"
    row = tab.inner_text(f"#panel-market tr:has(button[data-request='{request_id}'])")
    assert f"#{scene.root}" in row and "¥100,000.00" in row
    tab.locator("#panel-market").screenshot(path=str(screenshots / "bank-market-zh-CN.png"))

    tab.click(f"#panel-market button[data-request='{request_id}']")
    tab.wait_for_selector("#market-form:not([hidden])")
    tab.fill("#market-rate", "abc")
    tab.click("#market-preview")
    assert "年化贴现率" in tab.wait_for_selector("#panel-market .problem:not([hidden])").inner_text()
    tab.fill("#market-rate", "4.8")
    tab.select_option("#market-daycount", "ACT_365F")
    tab.check("#market-recourse")
    tab.click("#market-preview")
    review = tab.wait_for_selector("#market-review:not([hidden])").inner_text()
    quote = api.get(
        f"/v1/financing/requests/{request_id}/quote",
        params={"rate_bps": 480, "day_count": "ACT_365F"},
        headers=bank.headers,
    ).json()
    price = f"{quote['price'] / 100:,.2f}"
    assert price in review and "¥100,000.00" in review and "有追索权" in review
    tab.click("#market-send")
    assert wait_written(tab, "panel-market") == "done", tab.inner_text("#panel-market .problem")

    detail = api.get(f"/v1/financing/requests/{request_id}", headers=tier1.headers).json()
    (made,) = detail["offers"]
    assert str(made["offer_id"]) in tab.inner_text("#panel-market .outcome")
    client = scene.server.ctx.client
    offer = client.offer(made["offer_id"])
    assert offer.bank.lower() == bank.address.lower()
    assert (offer.token_id, offer.value, offer.rate_bps, offer.recourse) == (scene.root, ASKED, 480, True)

    before = client.balance_of(scene.root)
    body = {"offer_id": made["offer_id"]}
    accepted = api.post(f"/v1/financing/requests/{request_id}/accept", json=body, headers=tier1.headers)
    assert accepted.status_code == 200, accepted.text
    assert client.balance_of(scene.root) == before - ASKED
