"""The regulator freezes part of a piece's value in the browser (部分冻结, ERC-7943): the amount typed is what
the chain holds frozen; the holder can then move the rest only; 0 lifts it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.dashboard.fixtures import Scene
from tests.dashboard.test_dashboard import sign_in

pytestmark = pytest.mark.chain


def test_the_regulator_freezes_part_of_a_piece_by_clicking(scene: Scene, api: TestClient, page: Any) -> None:
    client = scene.server.ctx.client
    piece = scene.open_piece  # tier 3's piece of 100,000.00
    sign_in(page, scene.server, scene.supervisor.api_key)
    page.wait_for_selector("#value-freeze-form")
    page.fill("#value-freeze-token", str(piece))
    page.fill("#value-freeze-amount", "60,000.00")
    page.click("#value-freeze-form button[type=submit]")
    page.wait_for_selector(f"body[data-last-action='frozen-value:{piece}']")
    assert client.frozen_value(piece) == 60_000_00
    assert "60,000.00" in page.inner_text("#panel-supervision .outcome")

    tier3 = scene.parties["tier3"]
    over = {"pieces": [{"to": scene.parties["tier2"].address, "value": 40_000_01 // 100 * 100 + 100}]}
    refused = api.post(f"/v1/tokens/{piece}/split", json=over, headers=tier3.headers)
    assert refused.json()["contract_error"]["name"] == "ERC7943InsufficientUnfrozenBalance", refused.text

    page.fill("#value-freeze-amount", "0")
    page.click("#value-freeze-form button[type=submit]")
    page.wait_for_selector("#panel-supervision .outcome:text-matches('lifted|解除')")
    assert client.frozen_value(piece) == 0
