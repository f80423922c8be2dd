"""Gas for custodial participants: onboarding funds them on the local network (and says so); elsewhere
a write from an account without gas answers what to do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.config import ApiSettings
from tests.api.support import DAY, ApiWorld, onboard

pytestmark = pytest.mark.chain

PROBLEM = "https://tierchain.dev/problems/"
LOCAL_GAS = 10**18  # what onboarding sends a custodial account on the local network by default


@pytest.fixture
def local_defaults(api_world: ApiWorld, api_settings: ApiSettings) -> Iterator[TestClient]:
    """The API on the local network with every gas and faucet setting at its default."""
    client = TestClient(api_world.make_app(api_settings.model_copy(update={"onboarding_fund_wei": None})))
    yield client
    client.app.state.ctx.close()  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------- gas


def test_local_onboarding_funds_a_custodial_participant_with_gas_and_says_so(
    local_defaults: TestClient, api_world: ApiWorld, operator_headers: dict[str, str]
) -> None:
    body = {"legal_id": "USCC-gas-local", "roles": ["SUPPLIER"], "custody": "custodial"}
    answer = local_defaults.post("/v1/participants", json=body, headers=operator_headers)
    assert answer.status_code == 201, answer.text
    funding = answer.json()["gas_funding"]
    address = answer.json()["participant"]["address"]
    assert funding["amount_wei"] == str(LOCAL_GAS) and funding["tx_hash"].startswith("0x")
    w3 = api_world.client.w3
    assert w3.eth.get_balance(w3.to_checksum_address(address)) == LOCAL_GAS


def test_self_custody_onboarding_sends_no_gas(
    local_defaults: TestClient, api_world: ApiWorld, operator_headers: dict[str, str]
) -> None:
    party = api_world.actors["outsider"]
    body = {"legal_id": "USCC-gas-self", "roles": ["SUPPLIER"], "custody": "self", "address": party.address}
    answer = local_defaults.post("/v1/participants", json=body, headers=operator_headers)
    assert answer.status_code == 201, answer.text
    assert answer.json()["gas_funding"] is None


def test_off_local_a_write_without_gas_is_409_naming_address_balance_and_what_to_do(
    remote: TestClient, api_world: ApiWorld, operator_headers: dict[str, str]
) -> None:
    core = onboard(remote, operator_headers, "core", ["CORE_ENTERPRISE"], "custodial", None)
    supplier = onboard(remote, operator_headers, "tier1", ["SUPPLIER"], "custodial", None)
    for name in ("oracle1", "oracle2"):
        onboard(remote, operator_headers, name, ["ORACLE"], "self", api_world.actors[name])
    fingerprint = api_world.attest_invoice(1_000_00, supplier.address, core.address)
    proposal = {
        "obligor": core.address,
        "currency": "CNY",
        "face": 1_000_00,
        "maturity": api_world.now + 90 * DAY,
        "min_unit": 100,
        "documents": [fingerprint],
    }
    answer = remote.post("/v1/obligations/proposals", json=proposal, headers=supplier.headers)
    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["type"] == PROBLEM + "insufficient-gas"
    assert problem["address"].lower() == supplier.address
    assert problem["balance_wei"] == "0" and int(problem["needed_wei"]) > 0
    assert supplier.address in problem["detail"].lower()
    assert "gas token" in problem["detail"] and "TIERCHAIN_API_ONBOARDING_FUND_WEI" in problem["detail"]


def test_off_local_onboarding_sends_no_gas_by_default(
    remote: TestClient, operator_headers: dict[str, str]
) -> None:
    body = {"legal_id": "USCC-gas-remote", "roles": ["SUPPLIER"], "custody": "custodial"}
    answer = remote.post("/v1/participants", json=body, headers=operator_headers)
    assert answer.status_code == 201, answer.text
    assert answer.json()["gas_funding"] is None
