"""`GET /v1/documents`: the attested trade documents a caller is a party to, with the cover each has
left for payments between holders. A payment citing an invoice grows its `moved_value` and shrinks
its `remaining` until it is no longer citable; a document backing an obligation is never citable; a
delivery note is; filters, pages and who sees what."""

from __future__ import annotations

import time
from typing import Any

import pytest
from eth_utils.crypto import keccak
from fastapi.testclient import TestClient

from ledger.client import Attestation, DocumentKind
from tests.api.support import DAY, ApiWorld, Party

pytestmark = pytest.mark.chain


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _attest(
    world: ApiWorld, kind: DocumentKind, amount: int, seller: Party, buyer: Party, *, issued: int
) -> str:
    attestation = Attestation(
        fingerprint=keccak(text=f"list-{kind.name}-{time.time_ns()}"),
        kind=kind,
        seller=world.client.w3.to_checksum_address(seller.address),
        buyer=world.client.w3.to_checksum_address(buyer.address),
        amount=amount,
        currency="CNY",
        issue_date=issued,
        due_date=issued + 60 * DAY,
        nonce=time.time_ns() % 2**63,
        deadline=world.now + DAY,
    )
    world.client.sign_and_attest(
        world.actors["oracle1"], attestation, [world.actors["oracle1"], world.actors["oracle2"]]
    )
    return "0x" + attestation.fingerprint.hex()


def _listed(api: TestClient, party: Party, query: str = "") -> dict[str, dict[str, Any]]:
    api.app.state.ctx.sync()  # type: ignore[attr-defined]  # what the background follower does
    page = _ok(api.get(f"/v1/documents{query}", headers=party.headers))
    assert page["next_cursor"] is None
    return {item["fingerprint"]: item for item in page["items"]}


def test_documents_list_with_cover_left_and_a_payment_spends_it(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Any,
) -> None:
    tier1, tier2, tier3 = parties["tier1"], parties["tier2"], parties["tier3"]
    issued = issue_obligation(face=1_000_000_00)
    root = int(issued["token_id"])
    now = api_world.now
    invoice = _attest(api_world, DocumentKind.INVOICE, 400_000_00, tier2, tier1, issued=now - 2 * DAY)
    later = _attest(api_world, DocumentKind.INVOICE, 50_000_00, tier2, tier1, issued=now - DAY)
    order = _attest(api_world, DocumentKind.PURCHASE_ORDER, 70_000_00, tier2, tier1, issued=now - 3 * DAY)
    note = _attest(api_world, DocumentKind.DELIVERY_NOTE, 70_000_00, tier2, tier1, issued=now - DAY)
    elsewhere = _attest(api_world, DocumentKind.INVOICE, 10_000_00, tier3, tier2, issued=now - DAY)

    mine = _listed(api, tier1)
    assert {invoice, later, order, note} <= set(mine) and elsewhere not in mine
    # the invoice behind tier 1's obligation is listed, and backs no payment
    used = [d for d in mine.values() if d["used_by_slot"] is not None]
    assert len(used) == 1 and used[0]["used_by_slot"] == int(issued["slot"])
    assert (used[0]["citable"], used[0]["seller"], used[0]["buyer"]) == (
        False,
        tier1.address,
        parties["core"].address,
    )
    first = mine[invoice]
    assert first == {
        "fingerprint": invoice,
        "kind": "invoice",
        "seller": tier2.address,
        "buyer": tier1.address,
        "amount": 400_000_00,
        "currency": "CNY",
        "issue_date": now - 2 * DAY,
        "due_date": now + 58 * DAY,
        "used_by_slot": None,
        "moved_value": 0,
        "remaining": 400_000_00,
        "citable": True,
    }
    assert (mine[note]["remaining"], mine[note]["citable"]) == (None, True)
    assert (mine[order]["remaining"], mine[order]["kind"]) == (70_000_00, "purchase_order")

    # what tier 1 may cite paying tier 2: in issue-date order
    citable = f"?seller={tier2.address}&buyer={tier1.address}&citable=true"
    api.app.state.ctx.sync()  # type: ignore[attr-defined]
    page = _ok(api.get(f"/v1/documents{citable}", headers=tier1.headers))
    assert [d["fingerprint"] for d in page["items"]] == [order, invoice, *sorted([later, note])]
    assert list(_listed(api, tier1, "?kind=delivery_note")) == [note]
    assert list(_listed(api, tier1, f"?citable=false&seller={tier1.address}")) == [used[0]["fingerprint"]]
    assert _listed(api, tier1, "?currency=USD") == {}

    # tier 1 pays tier 2 citing the invoice: its moved value grows, its cover shrinks
    piece = {"to": tier2.address, "value": 150_000_00, "documents": [invoice]}
    _ok(api.post(f"/v1/tokens/{root}/split", json={"pieces": [piece]}, headers=tier1.headers))
    after = _listed(api, tier2, f"?buyer={tier1.address}")[invoice]
    assert (after["moved_value"], after["remaining"], after["citable"]) == (150_000_00, 250_000_00, True)

    # the rest of its cover, and it is no longer citable
    piece = {"to": tier2.address, "value": 250_000_00, "documents": [invoice]}
    _ok(api.post(f"/v1/tokens/{root}/split", json={"pieces": [piece]}, headers=tier1.headers))
    spent = _listed(api, tier1)[invoice]
    assert (spent["moved_value"], spent["remaining"], spent["citable"]) == (400_000_00, 0, False)
    assert invoice not in _listed(api, tier1, citable)
    assert invoice in _listed(api, tier1, f"?seller={tier2.address}&citable=false")


def test_who_sees_which_documents_and_pages(
    api: TestClient, api_world: ApiWorld, parties: dict[str, Party]
) -> None:
    tier1, tier2, tier3 = parties["tier1"], parties["tier2"], parties["tier3"]
    now = api_world.now
    made = [
        _attest(api_world, DocumentKind.INVOICE, (i + 1) * 1_000_00, tier2, tier1, issued=now - (i % 2) * DAY)
        for i in range(5)
    ]
    assert _listed(api, tier3) == {}
    assert set(_listed(api, parties["regulator"])) == set(made)
    assert set(_listed(api, tier2)) == set(made)

    seen: list[str] = []
    api.app.state.ctx.sync()  # type: ignore[attr-defined]
    cursor: str | None = None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = _ok(api.get(f"/v1/documents{query}", headers=tier1.headers))
        assert len(page["items"]) <= 2
        seen += [d["fingerprint"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 5
    dates = [_listed(api, tier1)[fp]["issue_date"] for fp in seen]
    assert dates == sorted(dates)

    refused = api.get("/v1/documents?cursor=bm90LW91cnM", headers=tier1.headers)
    assert refused.status_code == 422 and refused.json()["field"] == "cursor", refused.text
    assert api.get("/v1/documents?kind=receipt", headers=tier1.headers).status_code == 422
    assert api.get("/v1/documents?seller=0x12", headers=tier1.headers).status_code == 422
    assert api.get("/v1/documents?colour=red", headers=tier1.headers).status_code == 422
    assert api.get("/v1/documents").status_code == 401
