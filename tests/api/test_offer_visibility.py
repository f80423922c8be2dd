"""Offers follow the read rule: a bank offers only on a token it may see, a token it may not see
answers exactly like a missing one, and only an accepted offer (the bank bought the piece) lets the
bank see anything it did not see before. A holder lets a bank see a token by asking it for financing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from ledger.client import DayCount
from tests.api.support import DAY, ApiWorld, Party, onboard

pytestmark = pytest.mark.chain

PIECE = 10_000_00


def _offer(token_id: int, expiry: int) -> dict[str, Any]:
    return {"token_id": token_id, "value": PIECE, "rate_bps": 500, "expiry": expiry}


def _post_offer(api: TestClient, bank: Party, token_id: int, expiry: int) -> Response:
    """A custodial bank's offer for `PIECE` of the token, through `POST /v1/financing/offers`."""
    return api.post("/v1/financing/offers", json=_offer(token_id, expiry), headers=bank.headers)


def _reads(api: TestClient, party: Party, token_id: int, slot: int) -> list[int]:
    """What the bank gets from every read about the token and its obligation."""
    return [
        api.get(path, headers=party.headers).status_code
        for path in (
            f"/v1/tokens/{token_id}",
            f"/v1/tokens/{token_id}/lineage",
            f"/v1/obligations/{slot}",
            f"/v1/financing/obligations/{slot}/quote?value=100&rate_bps=500",
        )
    ]


def _shape(response: Response, token_id: int) -> tuple[int, str]:
    """Status and body with the token id blanked: what tells one answer from another."""
    return response.status_code, re.sub(rf"\b{token_id}\b", "ID", json.dumps(response.json(), sort_keys=True))


def test_bank_offer_on_a_token_it_cannot_see_is_refused_and_reveals_nothing(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    bank = parties["bank"]
    issued = issue_obligation()
    root, slot = issued["token_id"], issued["slot"]
    assert _reads(api, bank, root, slot) == [404, 404, 404, 404]

    made = _post_offer(api, bank, root, api_world.now + DAY)
    assert made.status_code == 404, made.text
    assert _reads(api, bank, root, slot) == [404, 404, 404, 404]
    assert api.get("/v1/financing/offers", headers=bank.headers).json()["items"] == []


def test_offer_on_an_invisible_token_answers_like_a_missing_one(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    bank = parties["bank"]
    wallet_bank = onboard(api, operator_headers, "wallet-bank", ["BANK"], "self", api_world.actors["court"])
    root = issue_obligation()["token_id"]
    missing = root + 1_000
    expiry = api_world.now + DAY

    def custodial(token_id: int) -> Response:
        return _post_offer(api, bank, token_id, expiry)

    def prepared(token_id: int) -> Response:
        op = {"operation": "offer", **_offer(token_id, expiry)}
        return api.post("/v1/tx/prepare", json=op, headers=wallet_bank.headers)

    def submitted(token_id: int) -> Response:
        """A makeOffer the bank built and signed itself, relayed by /tx/submit."""
        client, wallet = api_world.client, api_world.actors["court"]
        data = client.financing.encode_abi("makeOffer", args=[token_id, PIECE, 500, 0, False, expiry])
        tx = {
            "to": client.financing.address,
            "data": data,
            "value": 0,
            "gas": 300_000,
            "nonce": client.w3.eth.get_transaction_count(wallet.address),
            "chainId": client.w3.eth.chain_id,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 10**9,
        }
        raw = "0x" + bytes(wallet.sign_transaction(tx).raw_transaction).hex()
        return api.post("/v1/tx/submit", json={"raw_tx": raw}, headers=wallet_bank.headers)

    for route in (custodial, prepared, submitted):
        invisible, absent = _shape(route(root), root), _shape(route(missing), missing)
        assert invisible == absent, f"{route.__name__}: {invisible} != {absent}"
        assert invisible[0] == 404


def test_an_open_or_cancelled_offer_grants_the_bank_no_view(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    """An offer made on the chain directly (the API cannot refuse it) still shows the bank nothing."""
    wallet = api_world.actors["court"]
    bank = onboard(api, operator_headers, "wallet-bank", ["BANK"], "self", wallet)
    issued = issue_obligation()
    root, slot = issued["token_id"], issued["slot"]
    client, ctx = api_world.client, api.app.state.ctx  # type: ignore[attr-defined]
    client.mint(api_world.actors["admin"], "CNY", bank.address, PIECE)
    offer_id = client.make_offer(wallet, root, PIECE, 500, DayCount.ACT_360, api_world.now + DAY).offer_id
    ctx.sync()
    assert api.get(f"/v1/financing/offers/{offer_id}", headers=bank.headers).json()["status"] == "open"
    assert _reads(api, bank, root, slot) == [404, 404, 404, 404]
    client.cancel_offer(wallet, offer_id)
    ctx.sync()
    assert _reads(api, bank, root, slot) == [404, 404, 404, 404]
    # the holder still sees the offer on its token, and the event stream shows the bank only its own
    assert api.get(f"/v1/financing/offers/{offer_id}", headers=parties["tier1"].headers).status_code == 200
    streamed = api.get("/v1/events/stream", params={"max_seconds": 0.3}, headers=bank.headers).text
    events = [
        json.loads(line[len("data: ") :]) for line in streamed.splitlines() if line.startswith("data: ")
    ]
    about_root = {e["name"] for e in events if root in (e["args"].get("tokenId"), e["args"].get("_tokenId"))}
    assert about_root == {"OfferMade"}, events


def test_a_financing_request_shows_the_token_to_the_named_bank_until_the_token_changes_hands(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    tier1, tier2, bank = parties["tier1"], parties["tier2"], parties["bank"]
    other_bank = onboard(api, operator_headers, "other-bank", ["BANK"], "custodial", None)
    issued = issue_obligation()
    root, slot = issued["token_id"], issued["slot"]
    ask = {"token_id": root, "bank": bank.address}

    # only the holder asks, and only a bank
    assert api.post("/v1/financing/requests", json=ask, headers=tier2.headers).status_code == 404
    not_a_bank = api.post(
        "/v1/financing/requests", json={**ask, "bank": tier2.address}, headers=tier1.headers
    )
    assert not_a_bank.status_code == 422, not_a_bank.text
    asked = api.post("/v1/financing/requests", json=ask, headers=tier1.headers)
    assert asked.status_code == 201, asked.text
    again = api.post("/v1/financing/requests", json=ask, headers=tier1.headers)
    assert again.status_code == 201 and again.json() == asked.json()  # asking twice changes nothing
    listed = api.get("/v1/financing/requests", headers=bank.headers).json()["items"]
    assert [(r["token_id"], r["holder"]) for r in listed] == [(root, tier1.address)]
    assert api.get("/v1/financing/requests", headers=other_bank.headers).json()["items"] == []

    assert _reads(api, bank, root, slot) == [200, 200, 200, 200]
    assert _reads(api, other_bank, root, slot) == [404, 404, 404, 404]
    made = _post_offer(api, bank, root, api_world.now + DAY)
    assert made.status_code == 201, made.text

    # the holder sells the token whole: the request lapses, and the open offer grants nothing
    moved = api.post(f"/v1/tokens/{root}/transfer", json={"to": tier2.address}, headers=tier1.headers)
    assert moved.status_code == 200, moved.text
    assert _reads(api, bank, root, slot) == [404, 404, 404, 404]
    assert api.get("/v1/financing/requests", headers=bank.headers).json()["items"] == []


def test_an_accepted_offer_lets_the_bank_see_the_piece_it_bought_and_no_more(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    tier1, tier2, bank = parties["tier1"], parties["tier2"], parties["bank"]
    issued = issue_obligation()
    root, slot = issued["token_id"], issued["slot"]
    api_world.client.mint(api_world.actors["admin"], "CNY", bank.address, PIECE)
    ask = {"token_id": root, "bank": bank.address}
    assert api.post("/v1/financing/requests", json=ask, headers=tier1.headers).status_code == 201
    made = _post_offer(api, bank, root, api_world.now + DAY)
    offer_id = made.json()["result"]["offer_id"]
    accepted = api.post(f"/v1/financing/offers/{offer_id}/accept", headers=tier1.headers)
    assert accepted.status_code == 200, accepted.text
    piece = accepted.json()["result"]["financed_token_id"]

    # the bank passes its piece on: it still sees what it financed; the holder's token goes away with
    # the holder's request when that token changes hands
    moved = api.post(f"/v1/tokens/{piece}/transfer", json={"to": tier2.address}, headers=bank.headers)
    assert moved.status_code == 200, moved.text
    moved = api.post(f"/v1/tokens/{root}/transfer", json={"to": tier2.address}, headers=tier1.headers)
    assert moved.status_code == 200, moved.text
    assert _reads(api, bank, piece, slot) == [200, 200, 200, 200]
    assert api.get(f"/v1/tokens/{root}", headers=bank.headers).status_code == 404
    ancestors = api.get(f"/v1/tokens/{piece}/lineage", headers=bank.headers).json()["ancestors"]
    assert [(a["token_id"], a["owner"], a["value"]) for a in ancestors] == [(root, None, None)]
