"""Recourse in the browser (追索 / 清偿 / 放弃追索): after a with-recourse financing defaults and its bank
opens the claim, the seller, in Chinese, settles part of it by clicking after a review (an amount above
what remains is refused with a sentence first); the bank, in English, waives the rest. The claim's state
and amounts are read back from the chain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.client.models import RecourseState
from tests.api.support import DAY, ApiWorld, Party
from tests.dashboard.fixtures import LiveServer
from tests.dashboard.test_dashboard import sign_in
from tests.dashboard.test_payments import wait_written

pytestmark = pytest.mark.chain

FACE = 1_000_000_00
FINANCED = 500_000_00
PAID = 400_000_00
SHORTFALL = FINANCED - FINANCED * PAID // FACE  # 300,000.00


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _defaulted_claim(
    api: TestClient, world: ApiWorld, parties: dict[str, Party], issue: Callable[..., dict[str, Any]]
) -> int:
    bank, core, tier1 = parties["bank"], parties["core"], parties["tier1"]
    world.client.mint(world.actors["admin"], "CNY", bank.address, FACE)
    world.client.mint(world.actors["admin"], "CNY", core.address, FACE)
    world.client.mint(world.actors["admin"], "CNY", tier1.address, FACE)
    issued = issue(face=FACE)
    slot, root = issued["slot"], issued["token_id"]
    _ok(
        api.post(
            "/v1/financing/requests", json={"token_id": root, "bank": bank.address}, headers=tier1.headers
        ),
        201,
    )
    body = {
        "token_id": root,
        "value": FINANCED,
        "rate_bps": 500,
        "day_count": "ACT_360",
        "expiry": world.now + DAY,
        "recourse": True,
    }
    offer_id: int = _ok(api.post("/v1/financing/offers", json=body, headers=bank.headers), 201)["result"][
        "offer_id"
    ]
    _ok(api.post(f"/v1/financing/offers/{offer_id}/accept", headers=tier1.headers))
    _ok(api.post("/v1/repayment/deposits", json={"slot": slot, "amount": PAID}, headers=core.headers))
    world.chain.increase_time(91 * DAY + world.client.deployment.grace_period_seconds)
    world.chain.mine()
    _ok(api.post(f"/v1/repayment/obligations/{slot}/declare-default", headers=bank.headers))
    opened = _ok(api.post(f"/v1/financing/offers/{offer_id}/recourse", headers=bank.headers))["result"]
    assert opened["shortfall"] == SHORTFALL
    return offer_id


def test_the_seller_settles_part_of_a_claim_and_the_bank_waives_the_rest(
    live_server: LiveServer,
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
    chinese_page: Any,
    page: Any,
) -> None:
    offer_id = _defaulted_claim(api, api_world, parties, issue_obligation)
    client = live_server.ctx.client
    live_server.ctx.sync()

    tab = chinese_page
    sign_in(tab, live_server, parties["tier1"].api_key)
    tab.wait_for_selector("#panel-recourse[data-status='ready']")
    assert tab.inner_text("#h-recourse") == "追索"
    row = tab.inner_text("#panel-recourse tr.claim-row")
    assert "¥300,000.00" in row and "未清偿" in row
    amount = f"#claim-amount-{offer_id}"
    tab.fill(amount, "300,000.01")
    tab.click(f"#panel-recourse button[data-claim='{offer_id}'][data-action='settle']")
    assert "不能超过" in tab.wait_for_selector("#panel-recourse .problem:not([hidden])").inner_text()
    tab.fill(amount, "120,000.00")
    tab.click(f"#panel-recourse button[data-claim='{offer_id}'][data-action='settle']")
    review = tab.wait_for_selector("#recourse-review:not([hidden])").inner_text()
    assert "¥120,000.00" in review and "¥180,000.00" in review
    tab.click("#recourse-send")
    assert wait_written(tab, "panel-recourse") == "done", tab.inner_text("#panel-recourse .problem")
    claim = client.recourse_claim(offer_id)
    assert (claim.state, claim.settled) == (RecourseState.PARTLY_SETTLED, 120_000_00)
    tab.wait_for_selector("#panel-recourse tr.claim-row [data-state='partly_settled']")

    sign_in(page, live_server, parties["bank"].api_key)
    if page.get_attribute("html", "lang") != "en":
        page.select_option("#lang-switch", "en")
        page.wait_for_selector("body[data-state='ready']")
    page.wait_for_selector("#panel-recourse[data-status='ready']")
    assert "partly settled" in page.inner_text("#panel-recourse tr.claim-row")
    page.click(f"#panel-recourse button[data-claim='{offer_id}'][data-action='waive']")
    review = page.wait_for_selector("#recourse-review:not([hidden])").inner_text()
    assert "180,000.00" in review and "Waive" in review
    page.click("#recourse-send")
    assert wait_written(page, "panel-recourse") == "done", page.inner_text("#panel-recourse .problem")
    assert client.recourse_claim(offer_id).state == RecourseState.WAIVED
