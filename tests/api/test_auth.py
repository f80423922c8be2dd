"""Authentication and coarse authorization: API keys, the operator, wallet-signed requests."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from tests.api.support import Party, signed_headers

pytestmark = pytest.mark.chain

PROBLEM = "https://tierchain.dev/problems/"


def test_missing_invalid_and_malformed_keys_are_401(api: TestClient, parties: dict[str, Party]) -> None:
    assert api.get("/v1/participants/me").status_code == 401
    for token in ("tc_nope_deadbeef", "not-a-key", parties["tier1"].api_key + "x"):
        answer = api.get("/v1/participants/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["type"] == PROBLEM + "unauthorized"


def test_revoked_key_is_401(
    api: TestClient, parties: dict[str, Party], operator_headers: dict[str, str]
) -> None:
    tier1 = parties["tier1"]
    assert api.get("/v1/participants/me", headers=tier1.headers).status_code == 200
    revoked = api.delete(
        f"/v1/participants/{tier1.address}/api-keys/{tier1.key_id}", headers=operator_headers
    )
    assert revoked.status_code == 204
    answer = api.get("/v1/participants/me", headers=tier1.headers)
    assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
    keys = api.get(f"/v1/participants/{tier1.address}/api-keys", headers=operator_headers).json()
    assert keys[0]["revoked_at"] is not None and "secret" not in str(keys)


def test_wrong_role_is_403(api: TestClient, parties: dict[str, Party], issue_obligation: object) -> None:
    body = {"legal_id": "X", "roles": ["SUPPLIER"]}
    assert api.post("/v1/participants", json=body, headers=parties["tier1"].headers).status_code == 403
    proposal = {
        "obligor": parties["core"].address,
        "currency": "CNY",
        "face": 100,
        "maturity": 2**40,
        "min_unit": 100,
        "documents": ["0x" + "11" * 32],
    }
    refused = api.post("/v1/obligations/proposals", json=proposal, headers=parties["core"].headers)
    assert refused.status_code == 403 and refused.json()["type"] == PROBLEM + "forbidden"
    assert (
        api.get(f"/v1/participants/{parties['tier2'].address}", headers=parties["tier1"].headers).status_code
        == 403
    )


def test_read_only_key_cannot_write(
    api: TestClient, parties: dict[str, Party], operator_headers: dict[str, str]
) -> None:
    tier1 = parties["tier1"]
    issued = api.post(
        f"/v1/participants/{tier1.address}/api-keys", json={"scopes": ["read"]}, headers=operator_headers
    )
    headers = {"Authorization": f"Bearer {issued.json()['api_key']}"}
    assert api.get("/v1/participants/me", headers=headers).status_code == 200
    answer = api.post("/v1/tokens/1/transfer", json={"to": parties["tier2"].address}, headers=headers)
    assert answer.status_code == 403 and "write" in answer.json()["detail"]


def test_suspended_participant_reads_but_does_not_write(
    api: TestClient, parties: dict[str, Party], operator_headers: dict[str, str]
) -> None:
    tier3 = parties["tier3"]
    suspended = api.post(
        f"/v1/participants/{tier3.address}/status", json={"status": "suspended"}, headers=operator_headers
    )
    assert suspended.status_code == 200 and suspended.json()["result"]["current"] == "suspended"
    assert api.get("/v1/participants/me", headers=tier3.headers).json()["status"] == "suspended"
    answer = api.post("/v1/tokens/1/transfer", json={"to": parties["tier2"].address}, headers=tier3.headers)
    assert answer.status_code == 403


def test_signed_request(api: TestClient, parties: dict[str, Party]) -> None:
    wallet = parties["outsider"]
    assert wallet.signer is not None
    now = int(time.time())
    headers = signed_headers(wallet.signer, "GET", "/v1/participants/me", nonce=1, deadline=now + 60)
    answer = api.get("/v1/participants/me", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["address"] == wallet.address

    replay = api.get("/v1/participants/me", headers=headers)
    assert replay.status_code == 409 and replay.json()["type"] == PROBLEM + "nonce-replayed"

    expired = signed_headers(wallet.signer, "GET", "/v1/participants/me", nonce=2, deadline=now - 1)
    assert api.get("/v1/participants/me", headers=expired).status_code == 401
    too_far = signed_headers(wallet.signer, "GET", "/v1/participants/me", nonce=3, deadline=now + 301 + 5)
    answer = api.get("/v1/participants/me", headers=too_far)
    assert answer.status_code == 401 and "ahead" in answer.json()["detail"]
    other_path = signed_headers(wallet.signer, "GET", "/v1/tokens", nonce=4, deadline=now + 60)
    assert api.get("/v1/participants/me", headers=other_path).status_code == 401


def test_signed_write_binds_the_body(api: TestClient, parties: dict[str, Party]) -> None:
    wallet = parties["outsider"]
    assert wallet.signer is not None
    body = b'{"to": "0x0000000000000000000000000000000000000001"}'
    headers = signed_headers(
        wallet.signer, "POST", "/v1/tokens/99/transfer", body, nonce=7, deadline=int(time.time()) + 60
    )
    tampered = body.replace(b"01", b"02")
    answer = api.post(
        "/v1/tokens/99/transfer", content=tampered, headers={**headers, "Content-Type": "application/json"}
    )
    assert answer.status_code == 401
    answer = api.post(
        "/v1/tokens/99/transfer", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert answer.status_code == 404  # authenticated; the token does not exist
