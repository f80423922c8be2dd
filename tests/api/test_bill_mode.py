"""Bill mode over HTTP: the obligor chooses it, a split pends (待签收), the receiver lists and accepts (签收)
or refuses (拒收) it, the sender withdraws (撤回); refusals are problem+json with catalogue sentences."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.support import ApiWorld, Party

pytestmark = pytest.mark.chain

PROBLEM = "https://tierchain.dev/problems/"


def _bill_obligation(
    api: TestClient, parties: dict[str, Party], issue_obligation: Callable[..., dict[str, Any]]
) -> dict[str, Any]:
    chosen = api.put("/v1/policy/settlement-mode", json={"mode": "bill"}, headers=parties["core"].headers)
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["result"]["mode"] == "bill"
    return issue_obligation(face=1_000_00)


def _pay(api: TestClient, payer: Party, token: int, to: Party, value: int) -> int:
    answer = api.post(
        f"/v1/tokens/{token}/split",
        json={"pieces": [{"to": to.address, "value": value}]},
        headers=payer.headers,
    )
    assert answer.status_code == 200, answer.text
    piece: int = answer.json()["result"]["token_id"]
    return piece


def test_policy_and_obligation_show_the_mode(
    api: TestClient, parties: dict[str, Party], issue_obligation: Callable[..., dict[str, Any]]
) -> None:
    core = parties["core"]
    before = api.get("/v1/policy", params={"obligor": core.address}, headers=core.headers).json()
    assert before["bill"]["obligor_choice"] == "follow_deployment" and before["bill"]["bill_mode"] is False
    issued = _bill_obligation(api, parties, issue_obligation)
    after = api.get("/v1/policy", params={"obligor": core.address}, headers=core.headers).json()
    assert after["bill"] == {
        "bill_mode": True,
        "acceptance_window_seconds": 7 * 86_400,
        "obligor_choice": "bill",
    }
    obligation = api.get(f"/v1/obligations/{issued['slot']}", headers=core.headers).json()
    assert obligation["bill_window"] == 7 * 86_400
    refused = api.put("/v1/policy/settlement-mode", json={"mode": "bill"}, headers=parties["tier1"].headers)
    assert refused.status_code == 403


def test_pending_split_accept_refuse_withdraw(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    tier1, tier2, tier3, regulator = (parties[n] for n in ("tier1", "tier2", "tier3", "regulator"))
    root = _bill_obligation(api, parties, issue_obligation)["token_id"]

    piece = _pay(api, tier1, root, tier2, 300_00)
    incoming = api.get("/v1/tokens/incoming", headers=tier2.headers).json()["items"]
    assert [(m["token_id"], m["source_token_id"], m["value"], m["status"]) for m in incoming] == [
        (piece, root, 300_00, "pending")
    ]
    assert incoming[0]["sender"] == tier1.address and incoming[0]["receiver"] == tier2.address
    stream = api.get("/v1/events/stream", params={"max_seconds": 0.3}, headers=tier2.headers).text
    events = [json.loads(line[len("data: ") :]) for line in stream.splitlines() if line.startswith("data: ")]
    assert [int(e["args"]["tokenId"]) for e in events if e["name"] == "MovePending"] == [piece]
    tree = api.get(f"/v1/tokens/{root}/lineage", headers=tier1.headers).json()["tree"]
    assert [c["pending"] for c in tree["children"] if c["token_id"] == piece] == [True]
    outgoing = api.get("/v1/tokens/outgoing", headers=tier1.headers).json()["items"]
    assert [m["token_id"] for m in outgoing] == [piece]
    seen = api.get("/v1/tokens/incoming", params={"participant": tier2.address}, headers=regulator.headers)
    assert [m["token_id"] for m in seen.json()["items"]] == [piece]
    assert (
        api.get(
            "/v1/tokens/incoming", params={"participant": tier2.address}, headers=tier3.headers
        ).status_code
        == 403
    )

    # The piece is still tier1's and locked: moving it again is a 409 with the catalogue sentence.
    locked = api.post(
        f"/v1/tokens/{piece}/split",
        json={"pieces": [{"to": tier3.address, "value": 100}]},
        headers=tier1.headers,
    )
    assert locked.status_code == 409, locked.text
    problem = locked.json()
    assert locked.headers["content-type"].startswith("application/problem+json")
    assert problem["type"] == PROBLEM + "awaiting-acceptance"
    assert "waiting for its receiver's acceptance" in problem["sentence"]

    # Only the receiver accepts; the sender may not.
    assert api.post(f"/v1/tokens/{piece}/accept", headers=tier1.headers).status_code == 403
    accepted = api.post(f"/v1/tokens/{piece}/accept", headers=tier2.headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["result"]["to"].lower() == tier2.address
    assert api.get(f"/v1/tokens/{piece}", headers=tier2.headers).json()["owner"] == tier2.address
    assert api.get("/v1/tokens/incoming", headers=tier2.headers).json()["items"] == []
    assert api.post(f"/v1/tokens/{piece}/accept", headers=tier2.headers).status_code == 404

    refused = _pay(api, tier1, root, tier3, 200_00)
    answer = api.post(f"/v1/tokens/{refused}/refuse", headers=tier3.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"]["reason"] == "refused" and answer.json()["result"]["merged_into"] == root

    withdrawn = _pay(api, tier1, root, tier3, 100_00)
    assert api.post(f"/v1/tokens/{withdrawn}/withdraw", headers=tier3.headers).status_code == 403
    answer = api.post(f"/v1/tokens/{withdrawn}/withdraw", headers=tier1.headers)
    assert answer.status_code == 200 and answer.json()["result"]["reason"] == "withdrawn"
    assert api.get(f"/v1/tokens/{root}", headers=tier1.headers).json()["value"] == 1_000_00 - 300_00

    # Expiring before the window passed is the contract's refusal, as problem+json.
    early = _pay(api, tier1, root, tier3, 100_00)
    answer = api.post(f"/v1/tokens/{early}/expire", headers=tier3.headers)
    assert answer.status_code == 409, answer.text
    assert answer.json()["type"] == PROBLEM + "move-not-expired"
    assert answer.json()["sentence"]


def test_self_custody_receiver_accepts_through_prepare_and_submit(
    api: TestClient, parties: dict[str, Party], issue_obligation: Callable[..., dict[str, Any]]
) -> None:
    tier1, outsider = parties["tier1"], parties["outsider"]
    assert outsider.signer is not None
    root = _bill_obligation(api, parties, issue_obligation)["token_id"]
    piece = _pay(api, tier1, root, outsider, 100_00)
    sender_try = api.post(
        "/v1/tx/prepare", json={"operation": "accept_move", "token_id": piece}, headers=tier1.headers
    )
    assert sender_try.status_code == 403
    unsigned = api.post(
        "/v1/tx/prepare", json={"operation": "accept_move", "token_id": piece}, headers=outsider.headers
    )
    assert unsigned.status_code == 200, unsigned.text
    tx = {k: v for k, v in unsigned.json().items() if v is not None and k != "type"}
    raw = "0x" + bytes(outsider.signer.sign_transaction(tx).raw_transaction).hex()
    sent = api.post("/v1/tx/submit", json={"raw_tx": raw}, headers=outsider.headers)
    assert sent.status_code == 200 and sent.json()["status"] == "mined", sent.text
    assert api.get(f"/v1/tokens/{piece}", headers=outsider.headers).json()["owner"] == outsider.address
