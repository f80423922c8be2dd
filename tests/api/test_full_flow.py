"""The whole multi-tier life of a receivable through HTTP: onboarding, attested documents, issue,
splits down the chain, bank financing, a regulator's freeze, maturity, repayment and redemption, with
every unit of cash accounted for."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.api.support import DAY, ApiWorld, Party, onboard

pytestmark = pytest.mark.chain

FACE = 1_000_000_00
CASH = 10_000_000_00


def _ok(response: object, status: int = 200) -> dict[str, object]:
    assert getattr(response, "status_code", None) == status, getattr(response, "text", response)
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    return body


def test_invoice_to_redemption_through_http(
    api: TestClient, api_world: ApiWorld, operator_headers: dict[str, str]
) -> None:
    client, admin = api_world.client, api_world.actors["admin"]

    def party(name: str, roles: list[str], custody: str = "custodial") -> Party:
        signer = api_world.actors[name] if custody == "self" else None
        return onboard(api, operator_headers, name, roles, custody, signer)

    core, tier1, tier2, tier3 = (
        party("core", ["CORE_ENTERPRISE"]),
        party("tier1", ["SUPPLIER"]),
        party("tier2", ["SUPPLIER"]),
        party("tier3", ["SUPPLIER"]),
    )
    bank, regulator = party("bank", ["BANK"]), party("regulator", ["REGULATOR"])
    party("oracle1", ["ORACLE"], "self"), party("oracle2", ["ORACLE"], "self")
    client.mint(admin, "CNY", bank.address, CASH)
    client.mint(admin, "CNY", core.address, CASH)

    # the oracles attest the invoice (their own signing keys); the API shows the attestation
    fingerprint = api_world.attest_invoice(FACE, tier1.address, core.address)
    api.app.state.ctx.sync()  # type: ignore[attr-defined]  # what the background follower does
    document = _ok(api.get(f"/v1/documents/{fingerprint}", headers=core.headers))
    assert document["status"] == "attested"
    assert api.get(f"/v1/documents/{fingerprint}", headers=tier3.headers).status_code == 404

    # tier 1 proposes, the core enterprise confirms: one token for the whole face
    maturity = api_world.now + 90 * DAY
    proposal = {
        "obligor": core.address,
        "currency": "CNY",
        "face": FACE,
        "maturity": maturity,
        "min_unit": 100,
        "documents": [fingerprint],
    }
    proposal_id = _ok(api.post("/v1/obligations/proposals", json=proposal, headers=tier1.headers), 201)[
        "result"
    ]["proposal_id"]  # type: ignore[index]
    issued = _ok(api.post(f"/v1/obligations/proposals/{proposal_id}/confirm", headers=core.headers))["result"]
    root, slot = issued["token_id"], issued["slot"]  # type: ignore[index]

    # tier 1 pays tier 2 with a piece; tier 2 pays tier 3 with a piece of that piece
    split = {"pieces": [{"to": tier2.address, "value": 600_000_00}]}
    piece2 = _ok(api.post(f"/v1/tokens/{root}/split", json=split, headers=tier1.headers))["result"][
        "token_id"
    ]  # type: ignore[index]
    split = {"pieces": [{"to": tier3.address, "value": 300_000_00}]}
    piece3 = _ok(api.post(f"/v1/tokens/{piece2}/split", json=split, headers=tier2.headers))["result"][
        "token_id"
    ]  # type: ignore[index]

    # tier 3 asks the bank to finance its piece; the bank quotes and offers for the whole piece;
    # tier 3 sees the offer and accepts
    asked = {"token_id": piece3, "bank": bank.address}
    assert api.post("/v1/financing/requests", json=asked, headers=tier3.headers).status_code == 201
    quote = _ok(
        api.get(
            "/v1/financing/quote",
            params={"value": 300_000_00, "rate_bps": 1200, "day_count": "ACT_360", "maturity": maturity},
            headers=bank.headers,
        )
    )
    days = quote["days_to_maturity"]
    assert days == 90 and quote["price"] == 300_000_00 * (3_600_000 - 1200 * days) // 3_600_000
    assert quote["discount"] == 300_000_00 - quote["price"]  # type: ignore[operator]
    offer = {
        "token_id": piece3,
        "value": 300_000_00,
        "rate_bps": 1200,
        "day_count": "ACT_360",
        "expiry": api_world.now + 7 * DAY,
    }
    offer_id = _ok(api.post("/v1/financing/offers", json=offer, headers=bank.headers), 201)["result"][
        "offer_id"
    ]  # type: ignore[index]
    seen = _ok(api.get("/v1/financing/offers", headers=tier3.headers))["items"]
    assert [o["offer_id"] for o in seen] == [offer_id]  # type: ignore[union-attr]
    assert _ok(api.get("/v1/financing/offers", headers=tier2.headers))["items"] == []
    assert api.post(f"/v1/financing/offers/{offer_id}/accept", headers=tier2.headers).status_code == 404
    cash_before = client.cash_balance("CNY", tier3.address)
    financed = _ok(api.post(f"/v1/financing/offers/{offer_id}/accept", headers=tier3.headers))["result"]
    price = financed["price"]  # type: ignore[index]
    assert price == quote["price"]
    assert client.cash_balance("CNY", tier3.address) - cash_before == price
    bank_piece = financed["financed_token_id"]  # type: ignore[index]
    book = _ok(api.get("/v1/financing/book", headers=bank.headers))["items"]
    assert [(b["status"], b["financed_token_id"]) for b in book] == [("financed", bank_piece)]  # type: ignore[union-attr]
    assert _ok(api.get("/v1/financing/book", params={"bank": bank.address}, headers=regulator.headers))[
        "items"
    ]

    # the regulator freezes the bank's piece: it cannot move; unfrozen, it can
    frozen = api.post(
        f"/v1/regulator/tokens/{bank_piece}/freeze", json={"reason_code": 7}, headers=regulator.headers
    )
    assert frozen.status_code == 200, frozen.text
    listed = _ok(api.get("/v1/regulator/frozen", headers=regulator.headers))["items"]
    assert [(f["token"]["token_id"], f["reason_code"]) for f in listed] == [(bank_piece, 7)]  # type: ignore[union-attr]
    blocked = api.post(
        f"/v1/tokens/{bank_piece}/split",
        json={"pieces": [{"to": tier1.address, "value": 100}]},
        headers=bank.headers,
    )
    assert blocked.status_code == 409 and blocked.json()["contract_error"]["name"] == "TokenFrozen"
    _ok(
        api.post(
            f"/v1/regulator/tokens/{bank_piece}/unfreeze", json={"reason_code": 8}, headers=regulator.headers
        )
    )
    assert _ok(api.get("/v1/regulator/frozen", headers=regulator.headers))["items"] == []

    # the regulator's graph: the document backs the obligation, which splits down three tiers
    graph = _ok(api.get(f"/v1/regulator/obligations/{slot}/graph", headers=regulator.headers))
    kinds = {(e["source"], e["target"], e["kind"], e["value"]) for e in graph["edges"]}  # type: ignore[union-attr]
    assert (f"document:{fingerprint}", f"obligation:{slot}", "backs", FACE) in kinds
    assert (f"token:{root}", f"token:{piece2}", "split", 600_000_00) in kinds
    assert (f"token:{piece2}", f"token:{piece3}", "split", 300_000_00) in kinds
    financed_nodes = [n["id"] for n in graph["nodes"] if n["financed"]]  # type: ignore[union-attr]
    assert financed_nodes == [f"token:{bank_piece}"]

    # maturity: too early to redeem; the obligor repays in full; every holder redeems at par
    early = api.post("/v1/repayment/redemptions", json={"token_id": root}, headers=tier1.headers)
    assert early.status_code == 409
    api_world.chain.increase_time(91 * DAY)
    api_world.chain.mine()
    calendar = _ok(api.get("/v1/repayment/calendar", headers=tier2.headers))["items"]
    assert [c["slot"] for c in calendar] == [slot]  # type: ignore[union-attr]
    overdue = _ok(api.get("/v1/repayment/overdue", headers=core.headers))["items"]
    assert [(o["slot"], o["needs_marking"]) for o in overdue] == [(slot, True)]  # type: ignore[union-attr]
    assert (
        api.post(
            "/v1/repayment/deposits", json={"slot": slot, "amount": FACE}, headers=tier1.headers
        ).status_code
        == 403
    )
    paid = _ok(api.post("/v1/repayment/deposits", json={"slot": slot, "amount": FACE}, headers=core.headers))
    assert paid["result"]["repaid"] is True  # type: ignore[index]
    desk = client.repayment.address
    assert client.cash_balance("CNY", desk) == FACE

    holders = [(tier1, root), (tier2, piece2), (bank, bank_piece)]
    payouts = 0
    for holder, token in holders:
        before = client.cash_balance("CNY", holder.address)
        redeemed = _ok(
            api.post("/v1/repayment/redemptions", json={"token_id": token}, headers=holder.headers)
        )
        payout = redeemed["result"]["payout"]  # type: ignore[index]
        assert client.cash_balance("CNY", holder.address) - before == payout
        payouts += payout
    assert payouts == FACE and client.cash_balance("CNY", desk) == 0
    assert client.cash_balance("CNY", bank.address) == CASH - price + 300_000_00
    assert client.cash_balance("CNY", core.address) == CASH - FACE
    assert _ok(api.get(f"/v1/obligations/{slot}", headers=core.headers))["state"] == "repaid"

    # the audit export has the whole story, the event stream what tier 3 may see
    audit = _ok(
        api.get("/v1/regulator/audit", params={"from": "0", "to": "999999"}, headers=regulator.headers)
    )
    names = {e["name"] for e in audit["events"]}  # type: ignore[union-attr]
    assert {
        "DocumentAttested",
        "ObligationIssued",
        "Financed",
        "Frozen",
        "Unfrozen",
        "Deposited",
        "Redeemed",
    } <= names
    csv_export = api.get(
        "/v1/regulator/audit.csv", params={"from": "0", "to": "999999"}, headers=regulator.headers
    )
    assert csv_export.headers["content-type"].startswith("text/csv")
    assert len(csv_export.text.strip().splitlines()) == audit["count"] + 1  # type: ignore[operator]
    stream = api.get("/v1/events/stream", params={"max_seconds": 0.5}, headers=tier3.headers)
    assert stream.headers["content-type"].startswith("text/event-stream")
    messages = [json.loads(line[6:]) for line in stream.text.splitlines() if line.startswith("data: ")]
    seen_names = {m["name"] for m in messages}
    assert "Financed" in seen_names and "Deposited" in seen_names
    others = [m for m in messages if m["name"] == "Redeemed" and int(m["args"]["tokenId"]) != piece3]
    assert others == []  # tier 3 never learns who else redeemed what
