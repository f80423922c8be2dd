"""A supplier's flow through HTTP, with object-level visibility checked at each step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.support import DAY, ApiWorld, Party

pytestmark = pytest.mark.chain


def test_propose_confirm_split_and_who_sees_what(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    tier1, tier2, tier3, core, regulator = (
        parties[n] for n in ("tier1", "tier2", "tier3", "core", "regulator")
    )
    issued = issue_obligation(face=1_000_000_00)
    root, slot = issued["token_id"], issued["slot"]
    proposal = api.get(f"/v1/obligations/proposals/{issued['proposal_id']}", headers=tier1.headers).json()
    assert proposal["status"] == "issued" and proposal["slot"] == slot
    assert (
        api.get(f"/v1/obligations/proposals/{issued['proposal_id']}", headers=tier3.headers).status_code
        == 404
    )

    split = api.post(
        f"/v1/tokens/{root}/split",
        json={"pieces": [{"to": tier2.address, "value": 400_000_00}]},
        headers=tier1.headers,
    )
    assert split.status_code == 200, split.text
    answer = split.json()
    assert answer["status"] == "mined" and answer["tx_hash"].startswith("0x") and answer["block_number"] > 0
    piece = answer["result"]["token_id"]

    # tier 2 sees its piece at once (the write synced the indexer); tier 3 does not know it exists
    mine = api.get(f"/v1/tokens/{piece}", headers=tier2.headers)
    assert (
        mine.status_code == 200
        and mine.json()["owner"] == tier2.address
        and mine.json()["value"] == 400_000_00
    )
    assert api.get(f"/v1/tokens/{piece}", headers=tier3.headers).status_code == 404
    steal = api.post(
        f"/v1/tokens/{piece}/split",
        json={"pieces": [{"to": tier3.address, "value": 100}]},
        headers=tier3.headers,
    )
    assert steal.status_code == 404
    # the obligor sees every piece but cannot move one; the regulator sees everything
    assert api.get(f"/v1/tokens/{piece}", headers=core.headers).status_code == 200
    move = api.post(f"/v1/tokens/{piece}/transfer", json={"to": tier3.address}, headers=core.headers)
    assert move.status_code == 403
    assert api.get(f"/v1/tokens/{piece}", headers=regulator.headers).status_code == 200
    listed = api.get("/v1/tokens", params={"owner": tier2.address}, headers=regulator.headers).json()["items"]
    assert [h["token"]["token_id"] for h in listed] == [piece]
    assert api.get("/v1/tokens", params={"owner": tier2.address}, headers=tier3.headers).status_code == 403

    # tier 2 pays tier 3 with two pieces in one transaction
    batch = api.post(
        f"/v1/tokens/{piece}/split",
        json={
            "pieces": [{"to": tier3.address, "value": 100_000_00}, {"to": tier3.address, "value": 50_000_00}]
        },
        headers=tier2.headers,
    )
    assert batch.status_code == 200, batch.text
    grand_a, grand_b = batch.json()["result"]["token_ids"]
    merged = api.post(
        f"/v1/tokens/{grand_b}/merge",
        json={"into_token_id": grand_a, "value": 50_000_00},
        headers=tier3.headers,
    )
    assert merged.status_code == 200, merged.text

    # lineage: the obligor sees the whole tree; tier 2 sees its piece, its children, not who holds the root
    full = api.get(f"/v1/tokens/{root}/lineage", headers=core.headers).json()
    assert [c["token_id"] for c in full["tree"]["children"]] == [piece]
    assert {c["token_id"] for c in full["tree"]["children"][0]["children"]} == {grand_a, grand_b}
    seen_by_tier2 = api.get(f"/v1/tokens/{piece}/lineage", headers=tier2.headers).json()
    assert [a["token_id"] for a in seen_by_tier2["ancestors"]] == [root]
    assert seen_by_tier2["ancestors"][0]["owner"] is None and seen_by_tier2["ancestors"][0]["value"] is None
    assert {c["token_id"] for c in seen_by_tier2["tree"]["children"]} == {grand_a, grand_b}
    assert api.get(f"/v1/tokens/{root}/lineage", headers=tier3.headers).status_code == 404
    # ancestors run from the parent up to the root
    seen_by_tier3 = api.get(f"/v1/tokens/{grand_a}/lineage", headers=tier3.headers).json()
    assert [(a["token_id"], a["depth"]) for a in seen_by_tier3["ancestors"]] == [(piece, 1), (root, 0)]

    # the obligation: the obligor sees all holders, tier 3 only itself
    everyone = api.get(f"/v1/obligations/{slot}", headers=core.headers).json()
    assert {h["owner"] for h in everyone["holders"]} == {tier1.address, tier2.address, tier3.address}
    own = api.get(f"/v1/obligations/{slot}", headers=tier3.headers).json()
    assert [h["owner"] for h in own["holders"]] == [tier3.address] and own["holders"][0][
        "value"
    ] == 150_000_00
    assert api.get(f"/v1/obligations/{slot}", headers=parties["bank"].headers).status_code == 404


def test_reject_with_reason(api: TestClient, api_world: ApiWorld, parties: dict[str, Party]) -> None:
    tier1, core = parties["tier1"], parties["core"]
    fingerprint = api_world.attest_invoice(5_000_00, tier1.address, core.address)
    body = {
        "obligor": core.address,
        "currency": "CNY",
        "face": 5_000_00,
        "maturity": api_world.now + 30 * DAY,
        "min_unit": 100,
        "documents": [fingerprint],
    }
    proposal_id = api.post("/v1/obligations/proposals", json=body, headers=tier1.headers).json()["result"][
        "proposal_id"
    ]
    assert (
        api.post(
            f"/v1/obligations/proposals/{proposal_id}/reject", json={"reason_code": 3}, headers=tier1.headers
        ).status_code
        == 403
    )
    rejected = api.post(
        f"/v1/obligations/proposals/{proposal_id}/reject", json={"reason_code": 3}, headers=core.headers
    )
    assert rejected.status_code == 200 and rejected.json()["result"]["outcome"] == "rejected"
    seen = api.get(f"/v1/obligations/proposals/{proposal_id}", headers=tier1.headers).json()
    assert (seen["status"], seen["reason_code"]) == ("rejected", 3)
    again = api.post(f"/v1/obligations/proposals/{proposal_id}/confirm", headers=core.headers)
    assert again.status_code == 409


def test_propose_maturity_deferring_the_invoice_too_long_is_a_clear_422(
    api: TestClient, api_world: ApiWorld, parties: dict[str, Party]
) -> None:
    tier1, core = parties["tier1"], parties["core"]
    fingerprint = api_world.attest_invoice(5_000_00, tier1.address, core.address)  # due in 90 days
    body = {
        "obligor": core.address,
        "currency": "CNY",
        "face": 5_000_00,
        "maturity": api_world.now + 50 * 365 * DAY,
        "min_unit": 100,
        "documents": [fingerprint],
    }
    refused = api.post("/v1/obligations/proposals", json=body, headers=tier1.headers)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["contract_error"]["name"] == "MaturityTooLate"
    args = problem["contract_error"]["args"]
    assert int(args["maturity"]) == body["maturity"] and int(args["latestMaturity"]) < body["maturity"]


def test_self_custody_prepare_and_submit(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    tier1, wallet, tier3 = parties["tier1"], parties["outsider"], parties["tier3"]
    assert wallet.signer is not None
    root = issue_obligation()["token_id"]
    given = api.post(
        f"/v1/tokens/{root}/split",
        json={"pieces": [{"to": wallet.address, "value": 10_000_00}]},
        headers=tier1.headers,
    )
    piece = given.json()["result"]["token_id"]

    # the service holds no key for a self-custody participant
    custodial = api.post(f"/v1/tokens/{piece}/transfer", json={"to": tier3.address}, headers=wallet.headers)
    assert custodial.status_code == 409 and custodial.json()["type"].endswith("/self-custody")

    op = {"operation": "split", "token_id": piece, "to": tier3.address, "value": 4_000_00}
    unsigned = api.post("/v1/tx/prepare", json=op, headers=wallet.headers)
    assert unsigned.status_code == 200, unsigned.text
    fields = unsigned.json()
    assert fields["chainId"] == 31337 and fields["gas"] > 21_000 and fields["type"] == "eip1559"
    tx = {k: v for k, v in fields.items() if v is not None and k != "type"}
    raw = "0x" + bytes(wallet.signer.sign_transaction(tx).raw_transaction).hex()

    forged = api.post("/v1/tx/submit", json={"raw_tx": raw}, headers=tier3.headers)
    assert forged.status_code == 403
    sent = api.post("/v1/tx/submit", json={"raw_tx": raw}, headers=wallet.headers)
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "mined"
    holdings = api.get("/v1/tokens", headers=tier3.headers).json()["items"]
    assert [h["token"]["value"] for h in holdings] == [4_000_00]

    stranger = api.post("/v1/tx/prepare", json={**op, "token_id": root}, headers=wallet.headers)
    assert stranger.status_code == 404
