"""The operator's shortcuts for a local or test network, over HTTP: settlement cash from the faucet,
balances and desk allowances, and moving the local chain's clock."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.support import DAY, ApiWorld, Party

pytestmark = pytest.mark.chain

PROBLEM = "https://tierchain.dev/problems/"


def test_operator_mints_settlement_cash_and_the_holder_reads_its_balance_and_allowances(
    api: TestClient, api_world: ApiWorld, parties: dict[str, Party], operator_headers: dict[str, str]
) -> None:
    bank = parties["bank"]
    body = {"to": bank.address, "currency": "CNY", "amount": 5_000_00}
    minted = api.post("/v1/settlement/mint", json=body, headers=operator_headers)
    assert minted.status_code == 200, minted.text
    assert minted.json()["result"] == {
        "to": bank.address,
        "currency": "CNY",
        "amount": 5_000_00,
        "balance": 5_000_00,
    }

    mine = api.get("/v1/balances", headers=bank.headers)
    assert mine.status_code == 200, mine.text
    assert mine.json()["address"] == bank.address
    [cny] = [b for b in mine.json()["balances"] if b["currency"] == "CNY"]
    assert cny["balance"] == 5_000_00 and cny["decimals"] == 2
    assert cny["token"].lower() == api_world.client.deployment.currencies["CNY"].lower()
    assert set(cny["allowances"]) == {"financing_desk", "repayment_desk"}
    assert cny["allowances"]["financing_desk"] == 0

    seen = api.get("/v1/balances", params={"address": bank.address}, headers=parties["regulator"].headers)
    assert seen.status_code == 200 and seen.json() == mine.json()


def test_a_participant_may_not_read_anothers_balances(api: TestClient, parties: dict[str, Party]) -> None:
    answer = api.get(
        "/v1/balances", params={"address": parties["bank"].address}, headers=parties["tier1"].headers
    )
    assert answer.status_code == 403
    assert "regulator" in answer.json()["detail"] or "REGULATOR" in answer.json()["detail"]


def test_mint_is_refused_to_anyone_but_the_operator(api: TestClient, parties: dict[str, Party]) -> None:
    body = {"to": parties["bank"].address, "currency": "CNY", "amount": 100}
    answer = api.post("/v1/settlement/mint", json=body, headers=parties["bank"].headers)
    assert answer.status_code == 403
    assert answer.json()["type"] == PROBLEM + "forbidden"


def test_mint_of_an_unknown_currency_is_422_naming_the_known_ones(
    api: TestClient, parties: dict[str, Party], operator_headers: dict[str, str]
) -> None:
    body = {"to": parties["bank"].address, "currency": "USD", "amount": 100}
    answer = api.post("/v1/settlement/mint", json=body, headers=operator_headers)
    assert answer.status_code == 422
    assert answer.json()["field"] == "currency" and "CNY" in answer.json()["detail"]


def test_the_faucet_is_off_by_default_off_the_local_network(
    remote: TestClient, api_world: ApiWorld, operator_headers: dict[str, str]
) -> None:
    body = {"to": api_world.actors["outsider"].address, "currency": "CNY", "amount": 100}
    answer = remote.post("/v1/settlement/mint", json=body, headers=operator_headers)
    assert answer.status_code == 409
    assert answer.json()["type"] == PROBLEM + "faucet-disabled"
    assert "TIERCHAIN_API_SETTLEMENT_FAUCET" in answer.json()["detail"]


def test_a_retried_mint_with_the_same_idempotency_key_mints_once(
    api: TestClient, parties: dict[str, Party], operator_headers: dict[str, str]
) -> None:
    body = {"to": parties["tier1"].address, "currency": "CNY", "amount": 700}
    headers = {**operator_headers, "Idempotency-Key": "faucet-tier1-1"}
    first = api.post("/v1/settlement/mint", json=body, headers=headers)
    again = api.post("/v1/settlement/mint", json=body, headers=headers)
    assert first.status_code == again.status_code == 200, first.text
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    balances = api.get("/v1/balances", headers=parties["tier1"].headers).json()["balances"]
    assert [b["balance"] for b in balances if b["currency"] == "CNY"] == [700]


# ------------------------------------------------------------------------------------------ time


def test_operator_moves_the_local_chains_clock(
    api: TestClient, api_world: ApiWorld, operator_headers: dict[str, str]
) -> None:
    before = api_world.now
    answer = api.post("/v1/dev/advance", json={"days": 3}, headers=operator_headers)
    assert answer.status_code == 200, answer.text
    moved = answer.json()
    assert moved["after"] - moved["before"] == 3 * DAY == moved["seconds"]
    assert moved["before"] >= before and api_world.now == moved["after"]


def test_moving_time_needs_exactly_one_of_days_and_seconds(
    api: TestClient, operator_headers: dict[str, str]
) -> None:
    both = api.post("/v1/dev/advance", json={"days": 1, "seconds": 5}, headers=operator_headers)
    none = api.post("/v1/dev/advance", json={}, headers=operator_headers)
    assert both.status_code == none.status_code == 422
    assert "exactly one" in both.json()["detail"]


def test_moving_time_is_refused_to_a_participant(api: TestClient, parties: dict[str, Party]) -> None:
    answer = api.post("/v1/dev/advance", json={"seconds": 60}, headers=parties["core"].headers)
    assert answer.status_code == 403


def test_moving_time_is_refused_off_the_local_network(
    remote: TestClient, api_world: ApiWorld, operator_headers: dict[str, str]
) -> None:
    before = api_world.now
    answer = remote.post("/v1/dev/advance", json={"days": 1}, headers=operator_headers)
    assert answer.status_code == 409
    assert answer.json()["type"] == PROBLEM + "local-only"
    assert "testnet" in answer.json()["detail"]
    assert api_world.now - before < DAY
