"""A participant's own history (GET /v1/participants/me/history and .csv): every event touching its
pieces, with the counterparty's legal name, the value in minor units and the currency, in chain order,
paged; the CSV is UTF-8 with a byte-order mark and English snake_case headers."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.client import DayCount
from ledger.regulatory.uscc import ALPHABET, check_character
from tests.api.support import DAY, ApiWorld, Party

pytestmark = pytest.mark.chain

FACE = 1_000_000_00
TO_TIER2 = 400_000_00
TO_NAMED = 100_000_00
FINANCED = 50_000_00
NAMED = "杭州历史测试有限公司"


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _uscc() -> str:
    digits = f"{time.time_ns():017d}"[-9:]
    body = "91330100" + "".join(ALPHABET[int(d) + 10] for d in digits)
    return body + check_character(body)


@dataclass
class Settled:
    """Tier 2's piece (split off tier 1's root) paid a named supplier, was financed in part by the bank,
    frozen and unfrozen; the obligation was repaid and tier 2 redeemed what it kept."""

    slot: int
    root: int
    piece: int
    named_piece: int
    bank_piece: int
    named: str


def settled_obligation(
    api: TestClient,
    world: ApiWorld,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    issue: Callable[..., dict[str, Any]],
    *,
    redeem: bool = True,
) -> Settled:
    """The story of `Settled`; with `redeem=False` the obligation is repaid and nothing redeemed yet."""
    tier1, tier2, bank, core = parties["tier1"], parties["tier2"], parties["bank"], parties["core"]
    ctx = api.app.state.ctx  # type: ignore[attr-defined]
    body = {"legal_id": _uscc(), "roles": ["SUPPLIER"], "custody": "custodial", "legal_name": NAMED}
    named = _ok(api.post("/v1/participants", json=body, headers=operator_headers), 201)["participant"][
        "address"
    ]
    world.client.mint(world.actors["admin"], "CNY", bank.address, FACE)
    world.client.mint(world.actors["admin"], "CNY", core.address, FACE)
    issued = issue(face=FACE)
    slot, root = int(issued["slot"]), int(issued["token_id"])
    split = {"pieces": [{"to": tier2.address, "value": TO_TIER2}]}
    piece = int(
        _ok(api.post(f"/v1/tokens/{root}/split", json=split, headers=tier1.headers))["result"]["token_id"]
    )
    split = {"pieces": [{"to": named, "value": TO_NAMED}]}
    named_piece = int(
        _ok(api.post(f"/v1/tokens/{piece}/split", json=split, headers=tier2.headers))["result"]["token_id"]
    )
    offer = ctx.client.make_offer(
        ctx.keys.signer(bank.address), piece, FINANCED, 450, DayCount.ACT_360, world.now + 7 * DAY
    )
    financed = ctx.client.accept_offer(ctx.keys.signer(tier2.address), offer.offer_id)
    world.client.freeze(world.actors["regulator"], piece, 3)
    world.client.unfreeze(world.actors["regulator"], piece, 4)
    world.chain.increase_time(91 * DAY)
    world.chain.mine()
    ctx.sync()
    _ok(api.post("/v1/repayment/deposits", json={"slot": slot, "amount": FACE}, headers=core.headers))
    if redeem:
        _ok(api.post("/v1/repayment/redemptions", json={"token_id": piece}, headers=tier2.headers))
    ctx.sync()
    return Settled(slot, root, piece, named_piece, int(financed.financed_token_id), named)


def _story(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(e["kind"], e["token_id"], e["counterparty"], e["value"]) for e in entries]


def test_a_holder_reads_its_whole_history_in_chain_order(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    s = settled_obligation(api, api_world, parties, operator_headers, issue_obligation)
    tier1, tier2, bank = parties["tier1"], parties["tier2"], parties["bank"]
    regulator = api_world.actors["regulator"].address.lower()
    kept = TO_TIER2 - TO_NAMED - FINANCED
    mine = _ok(api.get("/v1/participants/me/history", headers=tier2.headers))
    assert mine["next_cursor"] is None
    assert _story(mine["items"]) == [
        ("received", s.piece, tier1.address, TO_TIER2),
        ("paid", s.piece, s.named, TO_NAMED),
        ("financed", s.piece, bank.address, FINANCED),
        ("frozen", s.piece, regulator, kept),
        ("unfrozen", s.piece, regulator, kept),
        ("redeemed", s.piece, parties["core"].address, kept),
    ]
    for entry in mine["items"]:
        assert (entry["obligation"], entry["currency_code"]) == (s.slot, "CNY")
        assert entry["time"] > 0 and entry["block"] > 0 and entry["tx_hash"].startswith("0x")
    assert [e["event_id"] for e in mine["items"]] == sorted(e["event_id"] for e in mine["items"])
    paid = mine["items"][1]
    assert paid["counterparty_name"] == NAMED
    receipt = api_world.client.w3.eth.get_transaction_receipt(paid["tx_hash"])
    assert receipt["blockNumber"] == paid["block"]

    # the issuer: its root, then the pieces it paid; the bank: the piece it financed
    issuer = _story(_ok(api.get("/v1/participants/me/history", headers=tier1.headers))["items"])
    assert issuer == [("issued", s.root, None, FACE), ("paid", s.root, tier2.address, TO_TIER2)]
    book = _story(_ok(api.get("/v1/participants/me/history", headers=bank.headers))["items"])
    assert book == [("financed", s.bank_piece, tier2.address, FINANCED)]
    # another participant sees nothing of it
    assert _ok(api.get("/v1/participants/me/history", headers=parties["tier3"].headers))["items"] == []

    # paged: two at a time, the same six in the same order
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = _ok(api.get("/v1/participants/me/history", params=params, headers=tier2.headers))
        assert len(page["items"]) <= 2
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == mine["items"]
    bad = api.get("/v1/participants/me/history", params={"cursor": "nonsense"}, headers=tier2.headers)
    assert bad.status_code == 422 and "cursor" in bad.json()["detail"]


def test_the_history_downloads_as_csv_with_a_byte_order_mark(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    s = settled_obligation(api, api_world, parties, operator_headers, issue_obligation, redeem=False)
    answer = api.get("/v1/participants/me/history.csv", headers=parties["tier2"].headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert "tierchain-history.csv" in answer.headers["content-disposition"]
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert list(rows[0]) == [
        "time",
        "block",
        "tx",
        "kind",
        "token_id",
        "obligation",
        "counterparty",
        "counterparty_name",
        "value",
        "currency",
    ]
    assert [(r["kind"], r["value"]) for r in rows] == [
        ("received", str(TO_TIER2)),
        ("paid", str(TO_NAMED)),
        ("financed", str(FINANCED)),
        ("frozen", str(TO_TIER2 - TO_NAMED - FINANCED)),
        ("unfrozen", str(TO_TIER2 - TO_NAMED - FINANCED)),
    ]
    assert rows[1]["counterparty_name"] == NAMED and rows[1]["counterparty"] == s.named
    assert all(r["currency"] == "CNY" and r["obligation"] == str(s.slot) for r in rows)
    assert rows[0]["time"].endswith("Z") and rows[0]["tx"].startswith("0x")
    unauthenticated = api.get("/v1/participants/me/history.csv")
    assert unauthenticated.status_code == 401
