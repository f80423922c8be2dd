"""`Prefer: respond-async`: a write answers 202 at once, runs in the background as an operation, and
ends with the answer the synchronous write gives; operations survive a restart and run once."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import idempotency
from api import operations as store
from tests.api.support import ApiWorld, Party

pytestmark = pytest.mark.chain

ASYNC = {"Prefer": "respond-async"}
FINAL = ("done", "failed")


def wait_final(
    client: TestClient, location: str, headers: dict[str, str], seconds: float = 60
) -> dict[str, Any]:
    """Poll the operation until it is done or failed."""
    deadline = time.monotonic() + seconds
    while True:
        answer = client.get(location, headers=headers)
        assert answer.status_code == 200, answer.text
        operation: dict[str, Any] = answer.json()
        if operation["state"] in FINAL:
            assert "Retry-After" not in answer.headers
            return operation
        assert answer.headers["Retry-After"] == "1"
        assert time.monotonic() < deadline, f"operation still {operation['state']}"
        time.sleep(0.1)


def test_split_answers_202_at_once_and_ends_with_the_synchronous_answer(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    token = issue_obligation()["token_id"]
    tier1, tier2 = parties["tier1"], parties["tier2"]
    body = {"pieces": [{"to": tier2.address, "value": 400_000_00}]}
    with TestClient(api_world.make_app()) as live:
        headers = {**tier1.headers, **ASYNC, "Idempotency-Key": "split-async-1"}
        accepted = live.post(f"/v1/tokens/{token}/split", json=body, headers=headers)
        assert accepted.status_code == 202, accepted.text
        assert accepted.headers["Preference-Applied"] == "respond-async"
        operation = accepted.json()
        assert accepted.headers["Location"] == f"/v1/operations/{operation['id']}"
        assert operation["state"] == "queued" and operation["result"] is None
        assert operation["principal"] == tier1.address and operation["idempotency_key"] == "split-async-1"

        # the same key again while (or after) it runs: the same operation, not a second one
        again = live.post(f"/v1/tokens/{token}/split", json=body, headers=headers)
        assert again.status_code == 202 and again.json()["id"] == operation["id"]

        done = wait_final(live, accepted.headers["Location"], tier1.headers)
        assert done["state"] == "done", done
        assert done["status_code"] == 200 and done["attempts"] == 1
        assert done["tx_hashes"] == [done["result"]["tx_hash"]]
        assert done["finished_at"] is not None

        # the synchronous write with the same key answers exactly what the operation holds
        sync_headers = {**tier1.headers, "Idempotency-Key": "split-async-1"}
        replayed = live.post(f"/v1/tokens/{token}/split", json=body, headers=sync_headers)
        assert replayed.status_code == 200 and replayed.json() == done["result"]
        holdings = live.get("/v1/tokens", headers=tier2.headers).json()["items"]
        assert [h["token"]["value"] for h in holdings] == [400_000_00]

        # without the header the write is synchronous, as before
        plain = live.post(
            f"/v1/tokens/{token}/split",
            json={"pieces": [{"to": tier2.address, "value": 100_000_00}]},
            headers=tier1.headers,
        )
        assert plain.status_code == 200 and "Preference-Applied" not in plain.headers
        assert plain.json().keys() == done["result"].keys() and plain.json()["status"] == "mined"


def test_a_refused_write_fails_with_the_synchronous_problem(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    token = issue_obligation(face=1_000_00)["token_id"]
    tier1 = parties["tier1"]
    too_much = {"pieces": [{"to": parties["tier2"].address, "value": 5_000_00}]}
    with TestClient(api_world.make_app()) as live:
        accepted = live.post(f"/v1/tokens/{token}/split", json=too_much, headers={**tier1.headers, **ASYNC})
        assert accepted.status_code == 202, accepted.text
        failed = wait_final(live, accepted.headers["Location"], tier1.headers)
        sync = live.post(f"/v1/tokens/{token}/split", json=too_much, headers=tier1.headers)
    assert sync.status_code in (409, 422), sync.text
    assert failed["state"] == "failed" and failed["result"] is None
    assert failed["status_code"] == sync.status_code
    assert failed["error"] == sync.json()
    assert failed["error"]["detail"]  # the contract's refusal, decoded into a sentence


def test_a_request_its_route_refuses_is_answered_synchronously(
    api: TestClient, parties: dict[str, Party], issue_obligation: Callable[..., dict[str, Any]]
) -> None:
    token = issue_obligation(face=1_000_00)["token_id"]
    headers = {**parties["tier1"].headers, **ASYNC}
    malformed = api.post(f"/v1/tokens/{token}/split", json={"pieces": "all"}, headers=headers)
    assert malformed.status_code == 422 and "Preference-Applied" not in malformed.headers
    unknown = api.post("/v1/tokens/nothing-here", json={}, headers=headers)
    assert unknown.status_code in (404, 405)
    no_credentials = api.post(f"/v1/tokens/{token}/split", json={"pieces": []}, headers=ASYNC)
    assert no_credentials.status_code == 401


def test_only_the_sender_regulators_and_the_operator_read_an_operation(
    api: TestClient,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    token = issue_obligation()["token_id"]
    tier1, tier2 = parties["tier1"], parties["tier2"]
    body = {"pieces": [{"to": tier2.address, "value": 100_00}]}
    # no runner in this app (its lifespan is not started): the operation stays queued
    accepted = api.post(f"/v1/tokens/{token}/split", json=body, headers={**tier1.headers, **ASYNC})
    assert accepted.status_code == 202, accepted.text
    location, op_id = accepted.headers["Location"], accepted.json()["id"]

    assert api.get(location, headers=tier1.headers).json()["state"] == "queued"
    hidden = api.get(location, headers=tier2.headers)
    assert hidden.status_code == 404
    assert hidden.json()["type"] == "https://tierchain.dev/problems/not-found"
    assert api.get(location, headers=parties["regulator"].headers).status_code == 200
    assert api.get(location, headers=operator_headers).status_code == 200

    mine = api.get("/v1/operations", headers=tier1.headers).json()
    assert [o["id"] for o in mine["items"]] == [op_id]
    assert api.get("/v1/operations", headers=tier2.headers).json()["items"] == []
    queued = api.get("/v1/operations", params={"state": "queued"}, headers=tier1.headers).json()
    assert [o["id"] for o in queued["items"]] == [op_id]
    assert api.get("/v1/operations", params={"state": "done"}, headers=tier1.headers).json()["items"] == []
    bad = api.get("/v1/operations", params={"state": "lost"}, headers=tier1.headers)
    assert bad.status_code == 422


def test_a_queued_operation_runs_once_after_a_restart(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    token = issue_obligation()["token_id"]
    tier1, tier2 = parties["tier1"], parties["tier2"]
    w3 = api_world.client.w3
    sender = w3.to_checksum_address(tier1.address)
    body = {"pieces": [{"to": tier2.address, "value": 250_000_00}]}
    # accepted by a process that stops before running it (this app never starts its runner)
    accepted = api.post(f"/v1/tokens/{token}/split", json=body, headers={**tier1.headers, **ASYNC})
    assert accepted.status_code == 202, accepted.text
    location = accepted.headers["Location"]
    sent = w3.eth.get_transaction_count(sender)
    time.sleep(0.3)
    assert api.get(location, headers=tier1.headers).json()["state"] == "queued"

    with TestClient(api_world.make_app()) as restarted:
        done = wait_final(restarted, location, tier1.headers)
        assert done["state"] == "done" and done["attempts"] == 1, done
        assert w3.eth.get_transaction_count(sender) == sent + 1
        holdings = restarted.get("/v1/tokens", headers=tier2.headers).json()["items"]
        assert [h["token"]["value"] for h in holdings] == [250_000_00]

    with TestClient(api_world.make_app()) as again:  # a second restart finds nothing to run
        time.sleep(0.5)
        assert again.get(location, headers=tier1.headers).json() == done
    assert w3.eth.get_transaction_count(sender) == sent + 1


def test_the_header_on_a_read_is_ignored(api: TestClient, parties: dict[str, Party]) -> None:
    answer = api.get("/v1/tokens", headers={**parties["tier1"].headers, **ASYNC})
    assert answer.status_code == 200 and "items" in answer.json()
    assert "Preference-Applied" not in answer.headers and "Location" not in answer.headers


def test_openapi_documents_the_202_and_the_header_on_writes(api: TestClient) -> None:
    spec = api.get("/v1/openapi.json").json()
    accepted = spec["components"]["responses"]["OperationAccepted"]
    assert {"Location", "Preference-Applied"} <= accepted["headers"].keys()
    assert spec["components"]["parameters"]["PreferAsync"]["name"] == "Prefer"
    split = spec["paths"]["/v1/tokens/{token_id}/split"]["post"]
    assert split["responses"]["202"] == {"$ref": "#/components/responses/OperationAccepted"}
    assert {"$ref": "#/components/parameters/PreferAsync"} in split["parameters"]
    assert "202" not in spec["paths"]["/v1/tokens"]["get"]["responses"]
    assert {"/v1/operations", "/v1/operations/{op_id}"} <= spec["paths"].keys()


def test_a_write_without_a_body_runs_asynchronously_too(
    api: TestClient, api_world: ApiWorld, parties: dict[str, Party]
) -> None:
    seller, core = parties["tier1"], parties["core"]
    proposal = {
        "obligor": api_world.client.w3.to_checksum_address(core.address),
        "currency": "CNY",
        "face": 1_000_00,
        "maturity": api_world.now + 90 * 86_400,
        "min_unit": 100,
        "documents": [api_world.attest_invoice(1_000_00, seller.address, core.address)],
    }
    proposed = api.post("/v1/obligations/proposals", json=proposal, headers=seller.headers)
    assert proposed.status_code == 201, proposed.text
    proposal_id = proposed.json()["result"]["proposal_id"]
    with TestClient(api_world.make_app()) as live:
        path = f"/v1/obligations/proposals/{proposal_id}/confirm"
        accepted = live.post(path, headers={**core.headers, **ASYNC})
        assert accepted.status_code == 202, accepted.text
        done = wait_final(live, accepted.headers["Location"], core.headers)
        assert done["state"] == "done", done
        issued = done["result"]["result"]
        assert issued["proposal_id"] == proposal_id
        token = live.get(f"/v1/tokens/{issued['token_id']}", headers=seller.headers)
        assert token.status_code == 200 and token.json()["value"] == 1_000_00


def test_an_operation_whose_process_died_is_taken_up_again_and_signed_once(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    token = issue_obligation()["token_id"]
    tier1, tier2 = parties["tier1"], parties["tier2"]
    w3 = api_world.client.w3
    sender = w3.to_checksum_address(tier1.address)
    body = {"pieces": [{"to": tier2.address, "value": 300_000_00}]}
    accepted = api.post(f"/v1/tokens/{token}/split", json=body, headers={**tier1.headers, **ASYNC})
    assert accepted.status_code == 202, accepted.text
    op_id, location = accepted.json()["id"], accepted.headers["Location"]
    sent = w3.eth.get_transaction_count(sender)

    # a process took it, claimed its idempotency key and died before answering; its lease expires
    engine = api.app.state.ctx.engine  # type: ignore[attr-defined]
    assert store.claim(engine, op_id, lease_seconds=0.05)
    raw = json.dumps(body).encode()
    idempotency.claim(engine, tier1.address, f"op:{op_id}", "POST", f"/v1/tokens/{token}/split", raw)
    time.sleep(0.1)

    with TestClient(api_world.make_app()) as restarted:
        done = wait_final(restarted, location, tier1.headers)
    assert done["state"] == "done" and done["attempts"] == 2, done
    assert w3.eth.get_transaction_count(sender) == sent + 1
