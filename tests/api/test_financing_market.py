"""Financing requests as an open market of quotes: a holder asks chosen banks (or every bank) to
finance a piece or part of it before a deadline; only that open request shows the piece to those banks;
they offer against it; the holder sees the offers side by side and accepts one (delivery versus payment,
splitting off the value asked for); the others lapse, and the banks that did not win lose sight of the
piece. The request's events reach only its holder, the banks it asks while it is open, and the overseers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.tables import upgrade
from tests.api.support import DAY, ApiWorld, Party, onboard

MINUTE = 60
PIECE = 300_000_00  # tier 3's piece
ASKED = 100_000_00  # the part of it tier 3 asks to finance


def _reads(api: TestClient, party: Party, token_id: int, slot: int) -> list[int]:
    """What a party gets from every read about the token and its obligation."""
    return [
        api.get(path, headers=party.headers).status_code
        for path in (
            f"/v1/tokens/{token_id}",
            f"/v1/tokens/{token_id}/lineage",
            f"/v1/obligations/{slot}",
            f"/v1/financing/obligations/{slot}/quote?value=100&rate_bps=500",
        )
    ]


def _events(api: TestClient, party: Party, **params: Any) -> list[dict[str, Any]]:
    streamed = api.get("/v1/events/stream", params={"max_seconds": 0.3, **params}, headers=party.headers).text
    return [json.loads(line[len("data: ") :]) for line in streamed.splitlines() if line.startswith("data: ")]


def _request_events(api: TestClient, party: Party, request_id: int) -> list[str]:
    return [
        e["name"]
        for e in _events(api, party)
        if e["name"].startswith("FinancingRequest") and e["args"]["requestId"] == request_id
    ]


@pytest.fixture
def market(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
) -> dict[str, Any]:
    """Tier 3 holds a piece of 300,000.00 two tiers below the root; three banks; the obligation's slot."""
    tier1, tier2, tier3 = parties["tier1"], parties["tier2"], parties["tier3"]
    issued = issue_obligation()
    root, slot = issued["token_id"], issued["slot"]

    def split(holder: Party, token: int, to: Party, value: int) -> int:
        body = {"pieces": [{"to": to.address, "value": value}]}
        done = api.post(f"/v1/tokens/{token}/split", json=body, headers=holder.headers)
        assert done.status_code == 200, done.text
        return int(done.json()["result"]["token_id"])

    piece2 = split(tier1, root, tier2, 600_000_00)
    piece3 = split(tier2, piece2, tier3, PIECE)
    bank2 = onboard(api, operator_headers, "bank2", ["BANK"], "custodial", None)
    bank3 = onboard(api, operator_headers, "bank3", ["BANK"], "custodial", None)
    return {
        "slot": slot,
        "root": root,
        "piece2": piece2,
        "piece": piece3,
        "holder": tier3,
        "bank": parties["bank"],
        "bank2": bank2,
        "bank3": bank3,
    }


def _ask(api: TestClient, holder: Party, body: dict[str, Any]) -> dict[str, Any]:
    asked = api.post("/v1/financing/requests", json=body, headers=holder.headers)
    assert asked.status_code == 201, asked.text
    answer: dict[str, Any] = asked.json()
    return answer


def _offer(api: TestClient, bank: Party, request_id: int, rate_bps: int, **extra: Any) -> int:
    made = api.post(
        f"/v1/financing/requests/{request_id}/offers",
        json={"rate_bps": rate_bps, **extra},
        headers=bank.headers,
    )
    assert made.status_code == 201, made.text
    return int(made.json()["result"]["offer_id"])


def test_two_banks_quote_the_holder_accepts_the_better_and_the_other_lapses(
    api: TestClient, api_world: ApiWorld, parties: dict[str, Party], market: dict[str, Any]
) -> None:
    holder, bank, bank2, bank3 = market["holder"], market["bank"], market["bank2"], market["bank3"]
    piece, slot = market["piece"], market["slot"]
    for b in (bank, bank2, bank3):
        assert _reads(api, b, piece, slot) == [404, 404, 404, 404]

    deadline = api_world.now + 10 * DAY
    request = _ask(
        api,
        holder,
        {"token_id": piece, "banks": [bank.address, bank2.address], "value": ASKED, "deadline": deadline},
    )
    request_id = request["request_id"]
    assert (request["status"], request["value"], request["deadline"]) == ("open", ASKED, deadline)
    assert request["banks"] == sorted([bank.address, bank2.address]) and request["bank"] is None

    # the two banks asked see the piece, a third bank nothing at all
    assert _reads(api, bank, piece, slot) == [200, 200, 200, 200]
    assert _reads(api, bank2, piece, slot) == [200, 200, 200, 200]
    assert _reads(api, bank3, piece, slot) == [404, 404, 404, 404]
    assert api.get(f"/v1/financing/requests/{request_id}", headers=bank3.headers).status_code == 404
    assert api.get("/v1/financing/requests", headers=bank3.headers).json()["items"] == []
    listed = api.get("/v1/financing/requests", headers=bank.headers).json()["items"]
    assert [(r["request_id"], r["banks"]) for r in listed] == [(request_id, [bank.address])]

    # the piece as a bank asked sees it: obligor, maturity, value, lineage, documents
    shown = api.get(f"/v1/financing/requests/{request_id}", headers=bank.headers).json()
    obligation = api.get(f"/v1/obligations/{slot}", headers=bank.headers).json()
    assert shown["obligor"] == parties["core"].address
    assert shown["maturity"] == obligation["maturity"]
    assert (shown["value"], shown["token_value"]) == (ASKED, PIECE)
    assert [step["token_id"] for step in shown["lineage"]] == [market["piece2"], market["root"]]
    assert shown["documents"] == obligation["documents"] and len(shown["documents"]) == 1

    # the quote for the request prices the value asked at the piece's real maturity
    quoted = api.get(
        f"/v1/financing/requests/{request_id}/quote", params={"rate_bps": 500}, headers=bank.headers
    )
    assert quoted.status_code == 200, quoted.text
    same = api.get(
        "/v1/financing/quote",
        params={"value": ASKED, "rate_bps": 500, "maturity": obligation["maturity"]},
        headers=bank.headers,
    ).json()
    assert quoted.json()["maturity"] == obligation["maturity"]
    assert quoted.json()["price"] == same["price"]
    assert (
        api.get(
            f"/v1/financing/requests/{request_id}/quote", params={"rate_bps": 500}, headers=bank3.headers
        ).status_code
        == 404
    )

    # offers: only the banks asked, expiring by the deadline
    late = api.post(
        f"/v1/financing/requests/{request_id}/offers",
        json={"rate_bps": 600, "expiry": deadline + 1},
        headers=bank.headers,
    )
    assert late.status_code == 422 and late.json()["field"] == "expiry", late.text
    assert "deadline" in late.json()["sentence"]
    refused = api.post(
        f"/v1/financing/requests/{request_id}/offers", json={"rate_bps": 300}, headers=bank3.headers
    )
    assert refused.status_code == 404, refused.text
    worse = _offer(api, bank, request_id, 600)
    better = _offer(api, bank2, request_id, 400)

    # side by side: the holder sees both and which is best; a bank only its own
    seen = api.get(f"/v1/financing/requests/{request_id}", headers=holder.headers).json()
    offers = {o["offer_id"]: o for o in seen["offers"]}
    assert set(offers) == {worse, better}
    assert all(
        o["value"] == ASKED and o["expiry"] == deadline and o["status"] == "open" for o in offers.values()
    )
    assert offers[better]["price"] > offers[worse]["price"]
    assert offers[better]["discount"] == ASKED - offers[better]["price"]
    assert (seen["best_offer_id"], offers[better]["best"], offers[worse]["best"]) == (better, True, False)
    own = api.get(f"/v1/financing/requests/{request_id}", headers=bank.headers).json()
    assert [o["offer_id"] for o in own["offers"]] == [worse] and own["best_offer_id"] is None

    # a bank cannot accept, nor the holder an offer not made against the request
    assert (
        api.post(
            f"/v1/financing/requests/{request_id}/accept", json={"offer_id": better}, headers=bank2.headers
        ).status_code
        == 403
    )
    stranger = api.post(
        f"/v1/financing/requests/{request_id}/accept", json={"offer_id": better + 100}, headers=holder.headers
    )
    assert stranger.status_code == 422 and stranger.json()["field"] == "offer_id", stranger.text

    # accept the better: DvP splits the value asked off the piece
    api_world.client.mint(api_world.actors["admin"], "CNY", bank2.address, ASKED)
    accepted = api.post(
        f"/v1/financing/requests/{request_id}/accept", json={"offer_id": better}, headers=holder.headers
    )
    assert accepted.status_code == 200, accepted.text
    financed = accepted.json()["result"]
    assert financed["value"] == ASKED and financed["financed_token_id"] != piece
    assert api.get(f"/v1/tokens/{piece}", headers=holder.headers).json()["value"] == PIECE - ASKED

    # the other offer lapsed: shown so, and refused by either accept route
    after = api.get(f"/v1/financing/requests/{request_id}", headers=holder.headers).json()
    assert (after["status"], after["accepted_offer_id"]) == ("accepted", better)
    statuses = {o["offer_id"]: o["status"] for o in after["offers"]}
    assert statuses == {better: "financed", worse: "lapsed"}
    again = api.post(
        f"/v1/financing/requests/{request_id}/accept", json={"offer_id": worse}, headers=holder.headers
    )
    assert again.status_code == 409, again.text
    assert again.json()["sentence"].startswith(f"Financing request {request_id} is accepted")
    direct = api.post(f"/v1/financing/offers/{worse}/accept", headers=holder.headers)
    assert direct.status_code == 409, direct.text
    assert "lapsed" in direct.json()["sentence"]

    # the bank that did not win sees nothing any more; the winner sees the piece it bought, not the rest
    assert _reads(api, bank, piece, slot) == [404, 404, 404, 404]
    assert api.get(f"/v1/financing/requests/{request_id}", headers=bank.headers).status_code == 404
    assert api.get("/v1/financing/requests", headers=bank.headers).json()["items"] == []
    assert _reads(api, bank2, financed["financed_token_id"], slot) == [200, 200, 200, 200]
    assert api.get(f"/v1/tokens/{piece}", headers=bank2.headers).status_code == 404
    assert api.get(f"/v1/financing/requests/{request_id}", headers=bank2.headers).status_code == 200
    closed = api.post(
        f"/v1/financing/requests/{request_id}/offers", json={"rate_bps": 300}, headers=bank2.headers
    )
    assert closed.status_code == 409, closed.text


def test_a_request_closes_at_its_deadline_and_the_bank_loses_sight(
    api: TestClient, api_world: ApiWorld, market: dict[str, Any]
) -> None:
    holder, bank, piece, slot = market["holder"], market["bank"], market["piece"], market["slot"]
    deadline = api_world.now + 2 * DAY
    request_id = _ask(api, holder, {"token_id": piece, "banks": [bank.address], "deadline": deadline})[
        "request_id"
    ]
    assert _reads(api, bank, piece, slot) == [200, 200, 200, 200]
    offer_id = _offer(api, bank, request_id, 500)

    api_world.chain.increase_time(3 * DAY)
    api_world.chain.mine()
    api.app.state.ctx.sync()  # type: ignore[attr-defined]

    assert _reads(api, bank, piece, slot) == [404, 404, 404, 404]
    assert api.get(f"/v1/financing/requests/{request_id}", headers=bank.headers).status_code == 404
    expired = api.get("/v1/financing/requests", params={"status": "expired"}, headers=holder.headers).json()
    assert [r["request_id"] for r in expired["items"]] == [request_id]
    shown = api.get(f"/v1/financing/requests/{request_id}", headers=holder.headers).json()
    assert shown["status"] == "expired"
    assert [o["status"] for o in shown["offers"]] == ["lapsed"] and offer_id == shown["offers"][0]["offer_id"]
    withdrawn = api.post(f"/v1/financing/requests/{request_id}/withdraw", headers=holder.headers)
    assert withdrawn.status_code == 409, withdrawn.text
    assert holder.address in [e["args"].get("holder") for e in _events(api, holder)]
    assert "FinancingRequestExpired" in _request_events(api, holder, request_id)


def test_a_request_to_every_bank_until_the_holder_withdraws_it(
    api: TestClient, market: dict[str, Any]
) -> None:
    holder, bank3, piece, slot = market["holder"], market["bank3"], market["piece"], market["slot"]
    request = _ask(api, holder, {"token_id": piece, "all_banks": True})
    request_id = request["request_id"]
    assert (request["all_banks"], request["banks"], request["value"]) == (True, [], PIECE)
    assert _reads(api, bank3, piece, slot) == [200, 200, 200, 200]
    assert _reads(api, market["bank"], piece, slot) == [200, 200, 200, 200]
    offer_id = _offer(api, bank3, request_id, 500)

    # only its holder withdraws it
    assert api.post(f"/v1/financing/requests/{request_id}/withdraw", headers=bank3.headers).status_code == 403
    withdrawn = api.post(f"/v1/financing/requests/{request_id}/withdraw", headers=holder.headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn", withdrawn.text
    assert _reads(api, bank3, piece, slot) == [404, 404, 404, 404]
    assert (
        api.post(f"/v1/financing/requests/{request_id}/withdraw", headers=holder.headers).status_code == 409
    )
    lapsed = api.post(f"/v1/financing/offers/{offer_id}/accept", headers=holder.headers)
    assert lapsed.status_code == 409, lapsed.text


def test_what_a_request_may_ask_for(api: TestClient, api_world: ApiWorld, market: dict[str, Any]) -> None:
    holder, bank, piece = market["holder"], market["bank"], market["piece"]

    def refused(body: dict[str, Any]) -> dict[str, Any]:
        answer = api.post("/v1/financing/requests", json={"token_id": piece, **body}, headers=holder.headers)
        assert answer.status_code == 422, answer.text
        problem: dict[str, Any] = answer.json()
        return problem

    banks = {"banks": [bank.address]}
    assert refused({**banks, "value": PIECE + 100})["field"] == "value"
    uneven = refused({**banks, "value": ASKED + 1})
    assert uneven["field"] == "value" and "minimum unit 100" in uneven["sentence"]
    assert refused({**banks, "deadline": api_world.now - MINUTE})["field"] == "deadline"
    assert refused({**banks, "deadline": api_world.now + 365 * DAY})["field"] == "deadline"
    assert refused({**banks, "all_banks": True})["field"] == "banks"
    assert refused({})["field"] == "banks"
    assert refused({"banks": [holder.address]})["field"] == "banks.0"
    # a holder asks only about its own tokens; other holders get 404
    other = api.post(
        "/v1/financing/requests", json={"token_id": market["root"], **banks}, headers=holder.headers
    )
    assert other.status_code == 404


def test_the_single_bank_body_still_asks_one_bank_with_a_default_deadline(
    api: TestClient, api_world: ApiWorld, market: dict[str, Any]
) -> None:
    holder, bank, piece = market["holder"], market["bank"], market["piece"]
    now = api_world.now
    asked = _ask(api, holder, {"token_id": piece, "bank": bank.address})
    assert (asked["bank"], asked["banks"], asked["status"], asked["value"]) == (
        bank.address,
        [bank.address],
        "open",
        PIECE,
    )
    assert now < asked["deadline"] <= now + 7 * DAY + MINUTE
    assert _ask(api, holder, {"token_id": piece, "bank": bank.address}) == asked
    # the plain offer route still works on a requested token, and its offer is no offer of the request
    made = api.post(
        "/v1/financing/offers",
        json={"token_id": piece, "value": PIECE, "rate_bps": 500, "expiry": now + DAY},
        headers=bank.headers,
    )
    assert made.status_code == 201, made.text
    shown = api.get(f"/v1/financing/requests/{asked['request_id']}", headers=holder.headers).json()
    assert shown["offers"] == []


def test_request_events_reach_only_the_holder_the_banks_asked_while_open_and_the_overseers(
    api: TestClient, api_world: ApiWorld, parties: dict[str, Party], market: dict[str, Any]
) -> None:
    holder, bank, bank2, bank3 = market["holder"], market["bank"], market["bank2"], market["bank3"]
    regulator = parties["regulator"]
    request_id = _ask(api, holder, {"token_id": market["piece"], "banks": [bank.address, bank2.address]})[
        "request_id"
    ]
    worse = _offer(api, bank, request_id, 600)
    better = _offer(api, bank2, request_id, 400)

    opened = ["FinancingRequestOpened", "FinancingRequestOfferMade", "FinancingRequestOfferMade"]
    assert _request_events(api, holder, request_id) == opened
    assert _request_events(api, bank, request_id) == opened
    assert _request_events(api, bank3, request_id) == []
    made = [e for e in _events(api, holder) if e["name"] == "FinancingRequestOfferMade"]
    assert [(e["args"]["offerId"], e["args"]["bank"]) for e in made] == [
        (worse, bank.address),
        (better, bank2.address),
    ]
    # a bank asked is not told who else was asked, nor who else offered
    told = [e for e in _events(api, bank) if e["name"].startswith("FinancingRequest")]
    assert told[0]["args"]["banks"] == [bank.address]
    assert [e["args"].get("bank") for e in told[1:]] == [bank.address, None]
    assert bank2.address not in json.dumps(told)

    # resuming after a request event (`N:M`) gives what followed it, and nothing before
    first = next(e for e in _events(api, holder) if e["name"] == "FinancingRequestOpened")
    resumed = api.get(
        "/v1/events/stream",
        params={"max_seconds": 0.3},
        headers={**holder.headers, "Last-Event-ID": first["id"]},
    ).text
    names = [line[len("event: ") :] for line in resumed.splitlines() if line.startswith("event: ")]
    assert names.count("FinancingRequestOpened") == 0 and names.count("FinancingRequestOfferMade") == 2
    bad = api.get("/v1/events/stream", headers={**holder.headers, "Last-Event-ID": "1:x"})
    assert bad.status_code == 422

    api_world.client.mint(api_world.actors["admin"], "CNY", bank2.address, PIECE)
    accepted = api.post(
        f"/v1/financing/requests/{request_id}/accept", json={"offer_id": better}, headers=holder.headers
    )
    assert accepted.status_code == 200, accepted.text
    closed = [*opened, "FinancingRequestAccepted"]
    assert _request_events(api, holder, request_id) == closed
    assert _request_events(api, regulator, request_id) == closed
    assert _request_events(api, bank2, request_id) == closed  # it financed the piece
    assert _request_events(api, bank, request_id) == []  # no longer asked: the request closed
    assert _request_events(api, bank3, request_id) == []


def test_the_migration_carries_earlier_requests_over(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'api.sqlite'}")
    upgrade(engine, "api_0004_participant_profiles")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO financing_requests (token_id, bank, holder, created_at) "
                "VALUES (7, '0xbank', '0xholder', '2026-01-01 00:00:00')"
            )
        )
    upgrade(engine)
    with engine.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT request_id, holder, token_id, value, all_banks, deadline, status "
                "FROM financing_requests"
            )
        ).all()
        banks = conn.execute(text("SELECT request_id, bank FROM financing_request_banks")).all()
    assert [tuple(r) for r in rows] == [(1, "0xholder", 7, None, 0, None, "open")]
    assert [tuple(b) for b in banks] == [(1, "0xbank")]


def test_a_bank_that_signs_its_own_offer_links_it_to_the_request(
    api: TestClient, api_world: ApiWorld, market: dict[str, Any]
) -> None:
    """A self-custody bank makes its offer on chain itself and names it against the request: counted side by
    side like any other; an offer on another value, someone else's offer or a bank not asked is refused."""
    from ledger.client import DayCount

    holder, bank, bank2, bank3 = market["holder"], market["bank"], market["bank2"], market["bank3"]
    piece = market["piece"]
    deadline = api_world.now + 10 * DAY
    request_id = _ask(
        api,
        holder,
        {"token_id": piece, "banks": [bank.address, bank2.address], "value": ASKED, "deadline": deadline},
    )["request_id"]
    ctx = api.app.state.ctx  # type: ignore[attr-defined]
    signer = ctx.keys.signer(bank.address)  # the bank's own key, used outside the API
    own = api_world.client.make_offer(signer, piece, ASKED, 480, DayCount.ACT_360, deadline).offer_id
    other_value = api_world.client.make_offer(
        signer, piece, ASKED - 100_00, 480, DayCount.ACT_360, deadline
    ).offer_id
    path = f"/v1/financing/requests/{request_id}/offers/link"

    wrong = api.post(path, json={"offer_id": other_value}, headers=bank.headers)
    assert wrong.status_code == 422 and wrong.json()["field"] == "offer_id", wrong.text
    assert "asks for" in wrong.json()["detail"]
    stolen = api.post(path, json={"offer_id": own}, headers=bank2.headers)
    assert stolen.status_code == 422 and "not an offer of yours" in stolen.json()["detail"]
    assert api.post(path, json={"offer_id": own}, headers=bank3.headers).status_code == 404

    linked = api.post(path, json={"offer_id": own}, headers=bank.headers)
    assert linked.status_code == 201, linked.text
    assert linked.json() == {"request_id": request_id, "offer_id": own, "bank": bank.address}
    again = api.post(path, json={"offer_id": own}, headers=bank.headers)
    assert again.status_code == 201  # naming it twice changes nothing
    detail = api.get(f"/v1/financing/requests/{request_id}", headers=holder.headers).json()
    assert [o["offer_id"] for o in detail["offers"]] == [own] and detail["best_offer_id"] == own

    api_world.client.mint(api_world.actors["admin"], "CNY", bank.address, ASKED)
    accepted = api.post(
        f"/v1/financing/requests/{request_id}/accept", json={"offer_id": own}, headers=holder.headers
    )
    assert accepted.status_code == 200, accepted.text
    assert (
        api.get(f"/v1/financing/requests/{request_id}", headers=holder.headers).json()["status"] == "accepted"
    )
