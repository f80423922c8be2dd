"""Banks' credit limits (授信) over HTTP: a bank records a limit on a core enterprise (and on a seller),
the desk refuses an acceptance above it naming the limit and the would-be exposure, the bank and the
regulator read limits, use and concentration, and repayment — the bank's redemption — frees the limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.support import DAY, ApiWorld, Party

pytestmark = pytest.mark.chain

FACE = 100_000_000  # 1,000,000.00 CNY
LIMIT = 60_000_000


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _offer(api: TestClient, world: ApiWorld, bank: Party, token: int, value: int) -> int:
    body = {
        "token_id": token,
        "value": value,
        "rate_bps": 900,
        "day_count": "ACT_360",
        "expiry": world.now + DAY,
    }
    offer_id: int = _ok(api.post("/v1/financing/offers", json=body, headers=bank.headers), 201)["result"][
        "offer_id"
    ]
    return offer_id


def test_a_bank_finances_up_to_its_limit_and_repayment_frees_it(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    bank, core, tier1, regulator = parties["bank"], parties["core"], parties["tier1"], parties["regulator"]
    api_world.client.mint(api_world.actors["admin"], "CNY", bank.address, FACE)
    api_world.client.mint(api_world.actors["admin"], "CNY", core.address, FACE)

    # Only a bank records limits; a limit needs a counterparty.
    body = {"counterparty": core.address, "kind": "obligor", "limit": LIMIT}
    assert api.put("/v1/financing/limits", json=body, headers=tier1.headers).status_code == 403
    recorded = _ok(api.put("/v1/financing/limits", json=body, headers=bank.headers))["result"]
    assert (recorded["bank"].lower(), recorded["counterparty"].lower()) == (bank.address, core.address)
    assert (recorded["per_obligor"], recorded["limit"]) == (True, LIMIT)

    issued = issue_obligation(face=FACE)
    slot, root = issued["slot"], issued["token_id"]
    _ok(
        api.post(
            "/v1/financing/requests", json={"token_id": root, "bank": bank.address}, headers=tier1.headers
        ),
        201,
    )
    first = _offer(api, api_world, bank, root, 50_000_000)
    financed = _ok(api.post(f"/v1/financing/offers/{first}/accept", headers=tier1.headers))["result"]

    # 20,000,000 more would take the bank to 70,000,000 on the core enterprise, above its 60,000,000.
    second = _offer(api, api_world, bank, root, 20_000_000)
    refused = api.post(f"/v1/financing/offers/{second}/accept", headers=tier1.headers)
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["contract_error"]["name"] == "CreditLimitExceeded"
    args = problem["contract_error"]["args"]
    assert (args["limit"], args["wouldBe"], args["perObligor"]) == (LIMIT, 70_000_000, True)
    assert args["counterparty"].lower() == core.address
    assert "授信额度" in problem["detail"] and problem["sentence"]
    # Exactly up to the limit goes through.
    third = _offer(api, api_world, bank, root, 10_000_000)
    _ok(api.post(f"/v1/financing/offers/{third}/accept", headers=tier1.headers))

    limits = _ok(api.get("/v1/financing/limits", headers=bank.headers))
    assert limits["outstanding"] == LIMIT
    by = {(line["counterparty"], line["kind"]): line for line in limits["lines"]}
    assert by[(core.address, "obligor")] | {"share": 1.0} == {
        "counterparty": core.address,
        "kind": "obligor",
        "limit": LIMIT,
        "used": LIMIT,
        "available": 0,
        "share": 1.0,
    }
    # No limit on the seller: nothing counts against one (a limit set later counts from then on).
    assert (by[(tier1.address, "seller")]["limit"], by[(tier1.address, "seller")]["used"]) == (None, 0)
    assert api.get("/v1/financing/limits", headers=tier1.headers).status_code == 403
    assert api.get("/v1/financing/limits", headers=regulator.headers).status_code == 422
    seen = _ok(api.get("/v1/financing/limits", params={"bank": bank.address}, headers=regulator.headers))
    assert seen == limits
    overview = _ok(api.get("/v1/regulator/exposures/limits", headers=regulator.headers))
    [carried] = [o for o in overview["obligors"] if o["obligor"] == core.address]
    assert (carried["banks"], carried["outstanding"], carried["by_bank"]) == (1, LIMIT, {bank.address: LIMIT})

    # Still held by the bank: nothing to release. After repayment and the bank's redemption, it frees.
    early = api.post(f"/v1/financing/offers/{first}/release-exposure", headers=bank.headers)
    assert early.status_code == 409 and early.json()["contract_error"]["name"] == "ExposureNotReleasable"
    api_world.chain.increase_time(91 * DAY)
    api_world.chain.mine()
    _ok(api.post("/v1/repayment/deposits", json={"slot": slot, "amount": FACE}, headers=core.headers))
    piece = financed["financed_token_id"]
    _ok(api.post("/v1/repayment/redemptions", json={"token_id": piece}, headers=bank.headers))
    released = _ok(api.post(f"/v1/financing/offers/{first}/release-exposure", headers=bank.headers))["result"]
    assert (released["offer_id"], released["value"]) == (first, 50_000_000)
    after = _ok(api.get("/v1/financing/limits", headers=bank.headers))
    assert after["outstanding"] == 10_000_000
    assert {(x["counterparty"], x["kind"]): x["available"] for x in after["lines"]}[
        (core.address, "obligor")
    ] == 50_000_000

    # A limit below what is outstanding is refused; 0 removes it.
    low = {"counterparty": core.address, "kind": "obligor", "limit": 5_000_000}
    refused_low = api.put("/v1/financing/limits", json=low, headers=bank.headers)
    assert refused_low.status_code == 422 and refused_low.json()["contract_error"]["name"] == "LimitBelowUse"
    _ok(api.put("/v1/financing/limits", json={**low, "limit": 0}, headers=bank.headers))
