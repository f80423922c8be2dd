"""Idempotency keys: a retry replays the first answer without acting twice, across a restart too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.support import ApiWorld, Party

pytestmark = pytest.mark.chain


def test_retry_replays_first_answer_even_after_restart(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    token = issue_obligation()["token_id"]
    tier1, tier2 = parties["tier1"], parties["tier2"]
    w3 = api_world.client.w3
    sender = w3.to_checksum_address(tier1.address)
    body = {"pieces": [{"to": tier2.address, "value": 400_000_00}]}
    headers = {**tier1.headers, "Idempotency-Key": "pay-tier2-001"}

    first = api.post(f"/v1/tokens/{token}/split", json=body, headers=headers)
    assert first.status_code == 200, first.text
    sent = w3.eth.get_transaction_count(sender)

    again = api.post(f"/v1/tokens/{token}/split", json=body, headers=headers)
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert w3.eth.get_transaction_count(sender) == sent

    restarted = TestClient(api_world.make_app())
    after_restart = restarted.post(f"/v1/tokens/{token}/split", json=body, headers=headers)
    assert after_restart.status_code == 200 and after_restart.json() == first.json()
    assert w3.eth.get_transaction_count(sender) == sent
    holdings = restarted.get("/v1/tokens", headers=tier2.headers).json()["items"]
    assert [h["token"]["value"] for h in holdings] == [400_000_00]

    different = api.post(
        f"/v1/tokens/{token}/split", json={"pieces": [{"to": tier2.address, "value": 100}]}, headers=headers
    )
    assert different.status_code == 422
    assert different.json()["type"] == "https://tierchain.dev/problems/idempotency-key-reused"


def test_refused_write_releases_the_key(
    api: TestClient, parties: dict[str, Party], issue_obligation: Callable[..., dict[str, Any]]
) -> None:
    token = issue_obligation(face=1_000_00)["token_id"]
    tier1 = parties["tier1"]
    headers = {**tier1.headers, "Idempotency-Key": "too-much"}
    too_much = {"pieces": [{"to": parties["tier2"].address, "value": 5_000_00}]}
    assert api.post(f"/v1/tokens/{token}/split", json=too_much, headers=headers).status_code in (409, 422)
    fine = {"pieces": [{"to": parties["tier2"].address, "value": 500_00}]}
    # the same key with another body is allowed again: the refused attempt left no record
    assert api.post(f"/v1/tokens/{token}/split", json=fine, headers=headers).status_code == 200


def test_financing_and_repayment_writes_replay_without_acting_twice(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    issued = issue_obligation(face=1_000_00)
    token, slot = issued["token_id"], issued["slot"]
    tier1, bank, core = parties["tier1"], parties["bank"], parties["core"]
    client, w3 = api_world.client, api_world.client.w3
    client.mint(api_world.actors["admin"], "CNY", bank.address, 10_000_00)
    client.mint(api_world.actors["admin"], "CNY", core.address, 10_000_00)

    def twice(path: str, body: dict[str, Any] | None, party: Party, key: str, status: int = 200) -> Any:
        """Send, send again with the same key: same answer, replayed, and no transaction more."""
        sender = w3.to_checksum_address(party.address)
        headers = {**party.headers, "Idempotency-Key": key}
        first = api.post(path, json=body, headers=headers)
        assert first.status_code == status, first.text
        sent = w3.eth.get_transaction_count(sender)
        again = api.post(path, json=body, headers=headers)
        assert again.status_code == status and again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert w3.eth.get_transaction_count(sender) == sent
        return first.json()["result"]

    asked = {"token_id": token, "bank": bank.address}
    assert api.post("/v1/financing/requests", json=asked, headers=tier1.headers).status_code == 201
    offer = {"token_id": token, "value": 500_00, "rate_bps": 800, "expiry": api_world.now + 7 * 86_400}
    kept = twice("/v1/financing/offers", offer, bank, "offer-1", 201)["offer_id"]
    dropped = twice("/v1/financing/offers", {**offer, "rate_bps": 900}, bank, "offer-2", 201)["offer_id"]
    twice(f"/v1/financing/offers/{dropped}/cancel", None, bank, "cancel-2")
    financed = twice(f"/v1/financing/offers/{kept}/accept", None, tier1, "accept-1")
    assert financed["value"] == 500_00

    paid = twice("/v1/repayment/deposits", {"slot": slot, "amount": 1_000_00}, core, "pay-in-full")
    assert paid["repaid"] is True and client.cash_balance("CNY", client.repayment.address) == 1_000_00
    api_world.chain.increase_time(91 * 86_400)
    api_world.chain.mine()
    redeemed = twice("/v1/repayment/redemptions", {"token_id": token}, tier1, "redeem-root")
    assert redeemed["payout"] == 1_000_00 - 500_00

    reused = api.post(
        "/v1/repayment/deposits",
        json={"slot": slot, "amount": 1},
        headers={**core.headers, "Idempotency-Key": "pay-in-full"},
    )
    assert reused.status_code == 422
    assert reused.json()["type"] == "https://tierchain.dev/problems/idempotency-key-reused"
