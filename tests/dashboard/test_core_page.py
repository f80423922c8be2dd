"""The core enterprise in the browser: two suppliers' proposals wait with the policy's checks already
shown (term against the policy, documents); in Chinese it confirms one (确权: the token is issued to the
supplier) and rejects the other with a reason, each after a review; then it pays part of what it owes
(an amount above what is due is refused with a sentence first). Every outcome is read from the chain."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.support import DAY, ApiWorld, Party
from tests.dashboard.fixtures import LiveServer
from tests.dashboard.test_dashboard import sign_in
from tests.dashboard.test_payments import wait_written

pytestmark = pytest.mark.chain

FACE = 500_000_00


def _propose(api: TestClient, world: ApiWorld, seller: Party, core: Party, face: int) -> int:
    fingerprint = world.attest_invoice(face, seller.address, core.address)
    body = {
        "obligor": world.client.w3.to_checksum_address(core.address),
        "currency": "CNY",
        "face": face,
        "maturity": world.now + 90 * DAY,
        "min_unit": 100,
        "documents": [fingerprint],
    }
    proposed = api.post("/v1/obligations/proposals", json=body, headers=seller.headers)
    assert proposed.status_code == 201, proposed.text
    proposal_id: int = proposed.json()["result"]["proposal_id"]
    return proposal_id


def test_the_core_enterprise_confirms_rejects_and_repays_by_clicking(
    live_server: LiveServer,
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    chinese_page: Any,
) -> None:
    core, tier1, tier2 = parties["core"], parties["tier1"], parties["tier2"]
    confirmed_id = _propose(api, api_world, tier1, core, FACE)
    rejected_id = _propose(api, api_world, tier2, core, 200_000_00)
    api_world.client.mint(api_world.actors["admin"], "CNY", core.address, FACE)
    live_server.ctx.sync()

    tab = chinese_page
    sign_in(tab, live_server, core.api_key)
    tab.wait_for_selector("#panel-proposals[data-status='ready']")
    assert tab.inner_text("#h-proposals") == "待确权"
    row = tab.inner_text(f"#panel-proposals tr:has(button[data-proposal='{confirmed_id}'])")
    assert "¥500,000.00" in row and "符合政策" in row and "贸易单据 1 份" in row

    tab.click(f"#panel-proposals button[data-proposal='{confirmed_id}'][data-action='confirm']")
    review = tab.wait_for_selector("#proposal-review:not([hidden])").inner_text()
    assert "¥500,000.00" in review and "签发" in review
    tab.click("#proposal-send")
    assert wait_written(tab, "panel-proposals") == "done", tab.inner_text("#panel-proposals .problem")
    outcome = tab.inner_text("#panel-proposals .outcome")
    assert "已确权" in outcome
    client = live_server.ctx.client
    slot = int(api.get(f"/v1/obligations/proposals/{confirmed_id}", headers=core.headers).json()["slot"])
    terms = client.slot_terms(slot)
    assert terms.face == FACE and client.owner_of(terms.root_token_id).lower() == tier1.address.lower()

    tab.click(f"#panel-proposals button[data-proposal='{rejected_id}'][data-action='reject']")
    tab.wait_for_selector("#proposal-review:not([hidden]) .reject-reason:not([hidden])")
    tab.select_option("#proposal-reason", "2")
    tab.click("#proposal-send")
    assert wait_written(tab, "panel-proposals") == "done", tab.inner_text("#panel-proposals .problem")
    rejected = api.get(f"/v1/obligations/proposals/{rejected_id}", headers=core.headers).json()
    assert (rejected["status"], rejected["reason_code"]) == ("rejected", 2)

    tab.wait_for_selector(f"#panel-repay[data-status='ready'] button[data-slot='{slot}']")
    amount = f"#repay-amount-{slot}"
    tab.fill(amount, "500,000.01")
    tab.click(f"#panel-repay button[data-slot='{slot}']")
    assert "不能超过" in tab.wait_for_selector("#panel-repay .problem:not([hidden])").inner_text()
    tab.fill(amount, "200,000.00")
    tab.click(f"#panel-repay button[data-slot='{slot}']")
    review = tab.wait_for_selector("#repay-review:not([hidden])").inner_text()
    assert "¥200,000.00" in review and "¥300,000.00" in review
    tab.click("#repay-send")
    assert wait_written(tab, "panel-repay") == "done", tab.inner_text("#panel-repay .problem")
    assert client.repayment_account(slot).paid == 200_000_00
    assert api.get(f"/v1/obligations/{slot}", headers=core.headers).json()["paid"] == 200_000_00
