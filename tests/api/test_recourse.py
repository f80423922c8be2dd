"""Recourse (追索) over HTTP: a with-recourse financing defaults after a partial repayment; its bank opens
the claim on the seller, the seller settles part (清偿), the bank waives the rest (放弃追索); the book, the
claim views and the regulator's exposure show it. Without recourse the contract refuses with a sentence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.support import DAY, ApiWorld, Party

pytestmark = pytest.mark.chain

FACE = 100_000_000  # 1,000,000.00 CNY
PAID = 40_000_000


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _finance(
    api: TestClient, world: ApiWorld, bank: Party, holder: Party, token: int, value: int, recourse: bool
) -> int:
    body = {
        "token_id": token,
        "value": value,
        "rate_bps": 500,
        "day_count": "ACT_360",
        "expiry": world.now + DAY,
        "recourse": recourse,
    }
    made = _ok(api.post("/v1/financing/offers", json=body, headers=bank.headers), 201)
    offer_id: int = made["result"]["offer_id"]
    _ok(api.post(f"/v1/financing/offers/{offer_id}/accept", headers=holder.headers))
    return offer_id


def test_a_defaulted_recourse_financing_is_claimed_settled_in_part_and_waived(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    bank, core, tier1, tier2 = parties["bank"], parties["core"], parties["tier1"], parties["tier2"]
    regulator = parties["regulator"]
    api_world.client.mint(api_world.actors["admin"], "CNY", bank.address, FACE)
    api_world.client.mint(api_world.actors["admin"], "CNY", core.address, FACE)
    issued = issue_obligation(face=FACE)
    slot, root = issued["slot"], issued["token_id"]
    _ok(
        api.post(
            "/v1/financing/requests", json={"token_id": root, "bank": bank.address}, headers=tier1.headers
        ),
        201,
    )
    with_recourse = _finance(api, api_world, bank, tier1, root, 50_000_000, True)
    without = _finance(api, api_world, bank, tier1, root, 10_000_000, False)
    offer = _ok(api.get(f"/v1/financing/offers/{with_recourse}", headers=tier1.headers))
    assert offer["recourse"] is True

    # Before the default: the contract refuses, naming the state; the sentence speaks of 追索.
    _ok(api.post("/v1/repayment/deposits", json={"slot": slot, "amount": PAID}, headers=core.headers))
    early = api.post(f"/v1/financing/offers/{with_recourse}/recourse", headers=bank.headers)
    assert early.status_code == 409, early.text
    assert early.json()["contract_error"]["name"] == "NotDefaulted"
    assert early.json()["sentence"]
    grace = api_world.client.deployment.grace_period_seconds
    api_world.chain.increase_time(91 * DAY + grace)
    api_world.chain.mine()
    _ok(api.post(f"/v1/repayment/obligations/{slot}/declare-default", headers=bank.headers))

    refused = api.post(f"/v1/financing/offers/{without}/recourse", headers=bank.headers)
    assert refused.status_code == 409 and refused.json()["contract_error"]["name"] == "NoRecourse"
    by_seller = api.post(f"/v1/financing/offers/{with_recourse}/recourse", headers=tier1.headers)
    assert by_seller.status_code == 403

    shortfall = 50_000_000 - 50_000_000 * PAID // FACE
    opened = _ok(api.post(f"/v1/financing/offers/{with_recourse}/recourse", headers=bank.headers))["result"]
    assert (opened["offer_id"], opened["slot"], opened["shortfall"]) == (with_recourse, slot, shortfall)
    assert (opened["bank"].lower(), opened["seller"].lower()) == (bank.address, tier1.address)

    claim = _ok(api.get(f"/v1/financing/recourse/{with_recourse}", headers=tier1.headers))
    assert (claim["state"], claim["remaining"], claim["obligor"]) == ("open", shortfall, core.address)
    assert api.get(f"/v1/financing/recourse/{with_recourse}", headers=tier2.headers).status_code == 404
    assert _ok(api.get("/v1/financing/recourse", headers=tier2.headers))["items"] == []

    # The seller settles part; more than remains is refused; only the seller settles.
    assert (
        api.post(
            f"/v1/financing/recourse/{with_recourse}/settlements", json={"amount": 1}, headers=bank.headers
        ).status_code
        == 403
    )
    over = api.post(
        f"/v1/financing/recourse/{with_recourse}/settlements",
        json={"amount": shortfall + 1},
        headers=tier1.headers,
    )
    assert over.status_code == 422 and over.json()["contract_error"]["name"] == "RecourseOverpayment"
    paid = _ok(
        api.post(
            f"/v1/financing/recourse/{with_recourse}/settlements",
            json={"amount": 10_000_000},
            headers=tier1.headers,
        )
    )["result"]
    assert (paid["amount"], paid["remaining"]) == (10_000_000, shortfall - 10_000_000)

    listed = _ok(api.get("/v1/financing/recourse", headers=bank.headers))["items"]
    assert [(c["offer_id"], c["state"], c["settled"]) for c in listed] == [
        (with_recourse, "partly_settled", 10_000_000)
    ]
    book = _ok(api.get("/v1/financing/book", headers=bank.headers))["items"]
    line = next(b for b in book if b["offer_id"] == with_recourse)
    assert (line["recourse"], line["recourse_state"], line["recourse_remaining"]) == (
        True,
        "partly_settled",
        shortfall - 10_000_000,
    )
    exposure = _ok(api.get("/v1/regulator/exposures/recourse", headers=regulator.headers))
    assert [c["offer_id"] for c in exposure["claims"]] == [with_recourse]
    assert exposure["by_bank"] == {bank.address: {"CNY": shortfall - 10_000_000}}
    banks = _ok(api.get("/v1/regulator/exposures/banks", headers=regulator.headers))
    assert next(b for b in banks if b["bank"] == bank.address)["recourse_open"] == shortfall - 10_000_000
    assert api.get("/v1/regulator/exposures/recourse", headers=bank.headers).status_code == 403

    # The bank waives the rest; the claim is closed and no longer counts.
    assert api.post(f"/v1/financing/recourse/{with_recourse}/waive", headers=tier1.headers).status_code == 403
    waived = _ok(api.post(f"/v1/financing/recourse/{with_recourse}/waive", headers=bank.headers))["result"]
    assert waived["remaining"] == shortfall - 10_000_000
    closed = _ok(api.get(f"/v1/financing/recourse/{with_recourse}", headers=regulator.headers))
    assert (closed["state"], closed["waived"], closed["remaining"]) == ("waived", shortfall - 10_000_000, 0)
    again = api.post(f"/v1/financing/recourse/{with_recourse}/waive", headers=bank.headers)
    assert again.status_code == 409 and again.json()["contract_error"]["name"] == "RecourseNotOpen"
    assert _ok(api.get("/v1/regulator/exposures/recourse", headers=regulator.headers))["claims"] == []
