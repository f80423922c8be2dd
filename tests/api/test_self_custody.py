"""Self-custody for the money moves: approve, offer, cancel, accept, deposit, redeem, freeze and
unfreeze, each built by `/v1/tx/prepare`, signed by the participant's own wallet, relayed by
`/v1/tx/submit`, and seen by the indexer like the custodial routes' writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.keys import Signer
from tests.api.support import DAY, ApiWorld, Party, onboard

pytestmark = pytest.mark.chain

PIECE = 10_000_00


def _sign_and_submit(api: TestClient, party: Party, signer: Signer, op: dict[str, Any]) -> dict[str, Any]:
    unsigned = api.post("/v1/tx/prepare", json=op, headers=party.headers)
    assert unsigned.status_code == 200, unsigned.text
    tx = {k: v for k, v in unsigned.json().items() if v is not None and k != "type"}
    raw = "0x" + bytes(signer.sign_transaction(tx).raw_transaction).hex()
    sent = api.post("/v1/tx/submit", json={"raw_tx": raw}, headers=party.headers)
    assert sent.status_code == 200, sent.text
    answer: dict[str, Any] = sent.json()
    assert answer["status"] == "mined"
    return answer


def test_money_moves_prepare_sign_submit(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    client, admin = api_world.client, api_world.actors["admin"]
    tier1, holder, regulator, core = (
        parties["tier1"],
        parties["outsider"],
        parties["regulator"],
        parties["core"],
    )
    assert holder.signer is not None and regulator.signer is not None
    bank_wallet = api_world.actors["court"]
    bank = onboard(api, operator_headers, "self-bank", ["BANK"], "self", bank_wallet)
    issued = issue_obligation()
    root, slot = issued["token_id"], issued["slot"]
    split = {"pieces": [{"to": holder.address, "value": PIECE}]}
    piece = api.post(f"/v1/tokens/{root}/split", json=split, headers=tier1.headers).json()["result"][
        "token_id"
    ]
    client.mint(admin, "CNY", bank.address, PIECE)

    def offers(status: str) -> list[int]:
        listed = api.get("/v1/financing/offers", params={"status": status}, headers=bank.headers)
        return [o["offer_id"] for o in listed.json()["items"]]

    # the holder asks the bank to finance its piece (self-custody: a signed request, like any other);
    # the bank approves the desk, offers, withdraws, offers again; the holder accepts
    asked = {"token_id": piece, "bank": bank.address}
    assert api.post("/v1/financing/requests", json=asked, headers=holder.headers).status_code == 201
    approve = {"operation": "approve", "spender": "financing", "currency": "CNY", "amount": PIECE}
    _sign_and_submit(api, bank, bank_wallet, approve)
    offer = {
        "operation": "offer",
        "token_id": piece,
        "value": PIECE,
        "rate_bps": 1200,
        "expiry": api_world.now + 7 * DAY,
    }
    _sign_and_submit(api, bank, bank_wallet, offer)
    (first,) = offers("open")
    _sign_and_submit(api, bank, bank_wallet, {"operation": "cancel_offer", "offer_id": first})
    assert offers("cancelled") == [first]
    _sign_and_submit(api, bank, bank_wallet, offer)
    (second,) = offers("open")
    # only the holder may accept, and only the bank that made it may cancel
    wrong = api.post(
        "/v1/tx/prepare", json={"operation": "accept", "offer_id": second}, headers=tier1.headers
    )
    assert wrong.status_code in (403, 404)
    cancel = {"operation": "cancel_offer", "offer_id": second}
    assert api.post("/v1/tx/prepare", json=cancel, headers=holder.headers).status_code == 403
    cash_before = client.cash_balance("CNY", holder.address)
    _sign_and_submit(api, holder, holder.signer, {"operation": "accept", "offer_id": second})
    assert offers("financed") == [second]
    assert client.cash_balance("CNY", holder.address) > cash_before
    financed = api.get(f"/v1/financing/offers/{second}", headers=bank.headers).json()["financed_token_id"]

    # the regulator freezes the bank's piece with its own wallet, then lifts the freeze
    freeze = {"operation": "freeze", "token_id": financed, "reason_code": 7}
    assert api.post("/v1/tx/prepare", json=freeze, headers=bank.headers).status_code == 403
    _sign_and_submit(api, regulator, regulator.signer, freeze)
    assert api.get(f"/v1/tokens/{financed}", headers=bank.headers).json()["frozen"] is True
    _sign_and_submit(api, regulator, regulator.signer, {**freeze, "operation": "unfreeze"})
    assert api.get(f"/v1/tokens/{financed}", headers=bank.headers).json()["frozen"] is False

    # the obligor pays the whole face (signing with its key as a wallet would), the bank redeems
    face = 1_000_000_00
    core_key: Signer = api.app.state.ctx.keys.signer(core.address)  # type: ignore[attr-defined]
    client.mint(admin, "CNY", core.address, face)
    deposit_op = {"operation": "deposit", "slot": slot, "amount": face}
    assert api.post("/v1/tx/prepare", json=deposit_op, headers=bank.headers).status_code == 403
    approve = {"operation": "approve", "spender": "repayment", "currency": "CNY", "amount": face}
    _sign_and_submit(api, core, core_key, approve)
    _sign_and_submit(api, core, core_key, deposit_op)
    assert api.get(f"/v1/obligations/{slot}", headers=core.headers).json()["paid"] == face
    api_world.chain.increase_time(91 * DAY)  # redemption opens at maturity
    api_world.chain.mine()
    cash_before = client.cash_balance("CNY", bank.address)
    _sign_and_submit(api, bank, bank_wallet, {"operation": "redeem", "token_id": financed})
    assert client.cash_balance("CNY", bank.address) - cash_before == PIECE
    assert api.get(f"/v1/tokens/{financed}", headers=bank.headers).json()["burned"] is True
