"""ERC-7943 over HTTP: the regulator freezes part of a piece's value (部分冻结); `transferable` answers what
the chain then does; the holder moves the rest but not the frozen part (a problem naming the contract's
error); 0 lifts the freeze; only a regulator may set it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.support import Party, onboard

pytestmark = pytest.mark.chain


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_a_value_freeze_over_http(
    api: TestClient,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    tier1, tier2, tier3 = (parties[n] for n in ("tier1", "tier2", "tier3"))
    # A regulator whose key the service keeps (the test world's own regulator signs for itself).
    regulator = onboard(api, operator_headers, "supervisor", ["REGULATOR"], "custodial", None)
    root = issue_obligation(face=1_000_000_00)["token_id"]
    body = {"pieces": [{"to": tier2.address, "value": 300_000_00}]}
    piece = _ok(api.post(f"/v1/tokens/{root}/split", json=body, headers=tier1.headers))["result"]["token_id"]

    path = f"/v1/regulator/tokens/{piece}/frozen-value"
    refused = api.put(path, json={"amount": 200_000_00}, headers=tier1.headers)
    assert refused.status_code == 403
    frozen = _ok(api.put(path, json={"amount": 200_000_00}, headers=regulator.headers))["result"]
    assert (frozen["token_id"], frozen["account"].lower(), frozen["amount"]) == (
        piece,
        tier2.address,
        200_000_00,
    )

    def transferable(value: int) -> dict[str, Any]:
        query = {"to": tier3.address, "value": value}
        answer: dict[str, Any] = _ok(
            api.get(f"/v1/tokens/{piece}/transferable", params=query, headers=tier2.headers)
        )
        return answer

    within = transferable(100_000_00)
    assert within["allowed"] is True
    assert (within["frozen_value"], within["unfrozen_value"]) == (200_000_00, 100_000_00)
    assert transferable(100_001_00)["allowed"] is False

    over = {"pieces": [{"to": tier3.address, "value": 100_001_00}]}
    blocked = api.post(f"/v1/tokens/{piece}/split", json=over, headers=tier2.headers)
    assert blocked.status_code >= 400 and blocked.status_code < 500, blocked.text
    assert blocked.json()["contract_error"]["name"] == "ERC7943InsufficientUnfrozenBalance"
    ok = {"pieces": [{"to": tier3.address, "value": 100_000_00}]}
    _ok(api.post(f"/v1/tokens/{piece}/split", json=ok, headers=tier2.headers))

    lifted = _ok(api.put(path, json={"amount": 0}, headers=regulator.headers))["result"]
    assert lifted["amount"] == 0
    assert transferable(200_000_00)["allowed"] is True
    assert (
        api.get(
            f"/v1/tokens/{piece}/transferable",
            params={"to": tier3.address, "value": 1},
            headers=parties["bank"].headers,
        ).status_code
        == 404
    )
