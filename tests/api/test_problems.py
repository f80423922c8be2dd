"""Problem+json answers: contract errors decoded, validation with the field, 404, 429, pagination."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.support import ApiWorld, Party

pytestmark = pytest.mark.chain

PROBLEM = "https://tierchain.dev/problems/"


def test_split_of_frozen_token_is_409_with_contract_error(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    token = issue_obligation()["token_id"]
    api_world.client.freeze(api_world.actors["regulator"], token, 7)
    body = {"pieces": [{"to": parties["tier2"].address, "value": 100_00}]}
    answer = api.post(f"/v1/tokens/{token}/split", json=body, headers=parties["tier1"].headers)
    assert answer.status_code == 409
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["type"] == PROBLEM + "token-frozen"
    assert problem["status"] == 409 and problem["title"] and problem["detail"]
    assert problem["contract_error"]["name"] == "TokenFrozen"
    assert problem["contract_error"]["args"] == {"tokenId": token}
    assert "Traceback" not in answer.text


def test_unknown_field_is_422_naming_it(api: TestClient, parties: dict[str, Party]) -> None:
    body = {"pieces": [{"to": parties["tier2"].address, "value": 100, "colour": "red"}]}
    answer = api.post("/v1/tokens/1/split", json=body, headers=parties["tier1"].headers)
    assert answer.status_code == 422
    assert answer.json()["field"] == "pieces.0.colour"
    assert answer.json()["type"] == PROBLEM + "validation-error"
    missing = api.post("/v1/tokens/1/transfer", json={}, headers=parties["tier1"].headers)
    assert missing.status_code == 422 and missing.json()["field"] == "to"


def test_unknown_route_and_token_are_404_problems(api: TestClient, parties: dict[str, Party]) -> None:
    assert api.get("/v1/nowhere").json()["type"] == PROBLEM + "not-found"
    answer = api.get("/v1/tokens/123456", headers=parties["tier1"].headers)
    assert answer.status_code == 404 and answer.json()["type"] == PROBLEM + "not-found"


def test_rate_limit_is_429_with_retry_after(api_world: ApiWorld, parties: dict[str, Party]) -> None:
    limited = TestClient(
        api_world.make_app(api_world.api_settings.model_copy(update={"rate_limit_per_minute": 2}))
    )
    headers = parties["tier1"].headers
    assert [limited.get("/v1/participants/me", headers=headers).status_code for _ in range(2)] == [200, 200]
    answer = limited.get("/v1/participants/me", headers=headers)
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) >= 1
    assert answer.json()["type"] == PROBLEM + "rate-limited"
    assert limited.get("/v1/participants/me", headers=parties["tier2"].headers).status_code == 200


def test_last_resort_handler_hides_the_trace(api_world: ApiWorld, parties: dict[str, Party]) -> None:
    app = api_world.make_app()

    @app.get("/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    answer = TestClient(app, raise_server_exceptions=False).get("/v1/boom")
    assert answer.status_code == 500 and answer.json()["type"] == PROBLEM + "internal-error"
    assert "secret" not in answer.text


def test_pagination(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    for _ in range(3):
        issue_obligation(face=1_000_00)
    headers = parties["tier1"].headers
    first = api.get("/v1/tokens", params={"limit": 2}, headers=headers).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = api.get(
        "/v1/tokens", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
    ).json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    ids = [h["token"]["token_id"] for h in first["items"] + second["items"]]
    assert ids == sorted(set(ids))
    obligations = api.get("/v1/obligations", params={"limit": 2}, headers=parties["core"].headers).json()
    assert len(obligations["items"]) == 2 and obligations["next_cursor"]
    bad = api.get("/v1/tokens", params={"cursor": "!!!"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"
    too_big = api.get("/v1/tokens", params={"limit": 10_000}, headers=headers)
    assert too_big.status_code == 422 and too_big.json()["field"] == "limit"


def test_health_and_ready(api: TestClient, parties: dict[str, Party]) -> None:
    assert api.get("/v1/health").json() == {"status": "ok"}
    ready = api.get("/v1/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["database"] and ready.json()["rpc"] and ready.json()["lag"] == 0
    assert "/v1/tokens/{token_id}/split" in api.get("/v1/openapi.json").json()["paths"]
