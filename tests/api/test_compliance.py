"""The compliance rules over HTTP (docs/compliance.md), under the law's default policy: the session
deployment runs the mechanics policy, so each test first sets the default one through governance (the
local network: one seat, no delay), and the chain is reverted after it.

A term past the year and an SME paid late are refused naming the rule, with the numbers in days and a
sentence; a plain split to a supplier is refused for want of trade documents, and goes through with
them; the policy and an obligor's record read back; a size class recorded at onboarding shows."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from eth_utils.crypto import keccak
from fastapi.testclient import TestClient

from ledger.client import Attestation, DocumentKind
from ledger.client.compliance import SizeClass
from tests.api.support import DAY, ApiWorld, Party

pytestmark = pytest.mark.chain

LAW = {
    "max_tenor_days": 365,
    "long_tenor_days": 180,
    "sme_payment_term_days": 60,
    "max_depth": 32,
    "min_unit": 1,
    "trade_background": True,
}


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _enact(api: TestClient, operator: dict[str, str], action: str, args: dict[str, Any], text: str) -> None:
    body = {"actions": [{"action": action, "args": args}], "description": text}
    pid = _ok(api.post("/v1/governance/proposals", json=body, headers=operator), 201)["result"]["id"]
    _ok(api.post(f"/v1/governance/proposals/{pid}/approve", headers=operator))
    executed = _ok(api.post(f"/v1/governance/proposals/{pid}/execute", headers=operator))
    assert executed["result"]["state"] == "executed"


@pytest.fixture
def law(api: TestClient, operator_headers: dict[str, str], parties: dict[str, Party]) -> dict[str, Party]:
    """The deployment's policy set back to the law's default (the chain is reverted after the test)."""
    _enact(api, operator_headers, "set-policy", {**LAW, "reason": "the 2025 rules"}, "Law policy")
    return parties


def _attest(
    world: ApiWorld, kind: DocumentKind, amount: int, seller: str, buyer: str, *, issued: int, due: int
) -> str:
    attestation = Attestation(
        fingerprint=keccak(text=f"compliance-{kind.name}-{time.time_ns()}"),
        kind=kind,
        seller=world.client.w3.to_checksum_address(seller),
        buyer=world.client.w3.to_checksum_address(buyer),
        amount=amount,
        currency="CNY",
        issue_date=issued,
        due_date=due,
        nonce=time.time_ns() % 2**63,
        deadline=world.now + DAY,
    )
    world.client.sign_and_attest(
        world.actors["oracle1"], attestation, [world.actors["oracle1"], world.actors["oracle2"]]
    )
    return "0x" + attestation.fingerprint.hex()


def _propose(api: TestClient, seller: Party, core: Party, face: int, maturity: int, docs: list[str]) -> Any:
    body = {
        "obligor": core.address,
        "currency": "CNY",
        "face": face,
        "maturity": maturity,
        "min_unit": 100,
        "documents": docs,
    }
    return api.post("/v1/obligations/proposals", json=body, headers=seller.headers)


def test_the_policy_reads_back_with_the_rules_and_an_obligors_override(
    api: TestClient, law: dict[str, Party], operator_headers: dict[str, str]
) -> None:
    core = law["core"]
    answer = _ok(api.get("/v1/policy", headers=law["tier1"].headers))
    assert answer["policy"] == {
        "max_tenor_days": 365,
        "max_tenor_seconds": 365 * DAY,
        "long_tenor_days": 180,
        "long_tenor_seconds": 180 * DAY,
        "sme_payment_term_days": 60,
        "sme_payment_term_seconds": 60 * DAY,
        "max_depth": 32,
        "min_unit": 1,
        "trade_background": True,
    }
    assert answer["rules"] == {
        "overdue_window_days": 182,
        "overdue_window_seconds": 182 * DAY,
        "strikes_to_suspend": 3,
        "suspension_days": 730,
        "suspension_seconds": 730 * DAY,
    }
    assert answer["obligor_overrides"] is None
    assert api.get("/v1/policy").status_code == 401
    assert api.get("/v1/policy?obligor=0x12", headers=core.headers).status_code == 422

    plain = _ok(api.get(f"/v1/policy?obligor={core.address}", headers=core.headers))["obligor_overrides"]
    assert (plain["obligor"], plain["override"], plain["reason"]) == (core.address, False, None)
    assert plain["policy"] == answer["policy"]

    own = {**LAW, "max_tenor_days": 270, "obligor": core.address, "reason": "board decision 12"}
    _enact(api, operator_headers, "set-obligor-policy", own, "Core's own policy")
    shown = _ok(api.get(f"/v1/policy?obligor={core.address}", headers=core.headers))
    assert shown["policy"]["max_tenor_days"] == 365  # the deployment's is unchanged
    overrides = shown["obligor_overrides"]
    assert (overrides["override"], overrides["reason"]) == (True, "board decision 12")
    assert (overrides["policy"]["max_tenor_days"], overrides["policy"]["max_tenor_seconds"]) == (
        270,
        270 * DAY,
    )


def test_a_term_past_the_year_is_refused_naming_the_rule_and_the_numbers(
    api: TestClient, api_world: ApiWorld, law: dict[str, Party]
) -> None:
    tier1, core = law["tier1"], law["core"]
    now = api_world.now
    invoice = _attest(
        api_world,
        DocumentKind.INVOICE,
        1_000_000,
        tier1.address,
        core.address,
        issued=now - DAY,
        due=now + 300 * DAY,
    )
    refused = api.post(
        "/v1/obligations/proposals",
        json={
            "obligor": core.address,
            "currency": "CNY",
            "face": 1_000_000,
            "maturity": now + 400 * DAY,
            "min_unit": 100,
            "documents": [invoice],
        },
        headers=tier1.headers,
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"].endswith("/tenor-too-long")
    assert problem["contract_error"]["name"] == "TenorTooLong"
    args = problem["contract_error"]["args"]
    assert args["maxTenor"] == 365 * DAY and 399 * DAY < args["tenor"] <= 400 * DAY
    assert problem["field"] == "maturity"
    assert "the policy allows at most 365 days" in problem["detail"]
    assert "Yinfa [2025] No. 77" in problem["detail"]
    assert problem["sentence"].startswith("The maturity is too far away")
    assert "one year" in problem["sentence"]

    # Past six months it takes a justification code; with one, the proposal goes through.
    maturity = now + 200 * DAY
    unjustified = _propose(api, tier1, core, 1_000_000, maturity, [invoice]).json()
    assert unjustified["contract_error"]["name"] == "LongTenorNeedsJustification"
    assert "justification code" in unjustified["sentence"]
    body = {
        "obligor": core.address,
        "currency": "CNY",
        "face": 1_000_000,
        "maturity": maturity,
        "min_unit": 100,
        "documents": [invoice],
        "tenor_justification": 3,
    }
    justified = _ok(api.post("/v1/obligations/proposals", json=body, headers=tier1.headers), 201)
    proposal_id = justified["result"]["proposal_id"]
    shown = _ok(api.get(f"/v1/obligations/proposals/{proposal_id}", headers=core.headers))
    assert (shown["tenor_justification"], shown["agreed_term_ref"]) == (3, None)
    # The obligor confirms the terms as proposed, code included; the obligation records it.
    issued = _ok(api.post(f"/v1/obligations/proposals/{proposal_id}/confirm", headers=core.headers))
    obligation = _ok(api.get(f"/v1/obligations/{issued['result']['slot']}", headers=core.headers))
    assert (obligation["tenor_justification"], obligation["agreed_term_ref"]) == (3, None)


def test_a_large_obligor_paying_a_small_supplier_late_is_refused(
    api: TestClient, api_world: ApiWorld, law: dict[str, Party], operator_headers: dict[str, str]
) -> None:
    tier1, core = law["tier1"], law["core"]
    for party, size in ((core, "large"), (tier1, "small")):
        made = _ok(
            api.put(
                f"/v1/participants/{party.address}/size-class",
                json={"size_class": size},
                headers=operator_headers,
            )
        )
        assert made["result"]["current"] == size
    now = api_world.now
    delivery = _attest(
        api_world,
        DocumentKind.DELIVERY_NOTE,
        1_000_000,
        tier1.address,
        core.address,
        issued=now - 10 * DAY,
        due=now,
    )
    invoice = _attest(
        api_world,
        DocumentKind.INVOICE,
        1_000_000,
        tier1.address,
        core.address,
        issued=now - DAY,
        due=now + 80 * DAY,
    )
    refused = _propose(api, tier1, core, 1_000_000, now + 90 * DAY, [invoice, delivery])
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["contract_error"]["name"] == "SmePaymentTermExceeded"
    assert problem["contract_error"]["args"]["smePaymentTerm"] == 60 * DAY
    assert "within 60 days of delivery" in problem["detail"]
    assert "保障" not in problem["sentence"] and "60 days of delivery" in problem["sentence"]

    # Citing the contract clause that agreed the longer term, it goes through and the clause is recorded.
    clause = "采购合同 HT-2025-001 第4.2条"
    body = {
        "obligor": core.address,
        "currency": "CNY",
        "face": 1_000_000,
        "maturity": now + 90 * DAY,
        "min_unit": 100,
        "documents": [invoice, delivery],
        "agreed_term": clause,
    }
    agreed = _ok(api.post("/v1/obligations/proposals", json=body, headers=tier1.headers), 201)
    proposal_id = agreed["result"]["proposal_id"]
    issued = _ok(api.post(f"/v1/obligations/proposals/{proposal_id}/confirm", headers=core.headers))
    obligation = _ok(api.get(f"/v1/obligations/{issued['result']['slot']}", headers=core.headers))
    assert obligation["agreed_term_ref"] == "0x" + keccak(text=clause).hex()

    # Within 60 days of delivery, no clause is needed.
    again = _attest(
        api_world, DocumentKind.INVOICE, 1_000_000, tier1.address, core.address, issued=now - DAY, due=now
    )
    delivered = _attest(
        api_world, DocumentKind.DELIVERY_NOTE, 1, tier1.address, core.address, issued=now - 10 * DAY, due=0
    )
    _ok(_propose(api, tier1, core, 1_000_000, now + 45 * DAY, [again, delivered]), 201)


def test_a_split_to_a_supplier_cites_trade_documents(
    api: TestClient,
    api_world: ApiWorld,
    law: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    tier1, tier2, tier3 = law["tier1"], law["tier2"], law["tier3"]
    root = issue_obligation()["token_id"]

    plain = api.post(
        f"/v1/tokens/{root}/split",
        json={"pieces": [{"to": tier2.address, "value": 40_000_000}]},
        headers=tier1.headers,
    )
    assert plain.status_code == 422, plain.text
    problem = plain.json()
    assert problem["contract_error"]["name"] == "TradeBackgroundRequired"
    assert problem["field"] == "pieces.0.documents"
    assert "Yinfa [2025] No. 77" in problem["detail"]
    assert "trade documents" in problem["sentence"]

    invoice = api_world.attest_invoice(40_000_000, tier2.address, tier1.address)
    piece = {"to": tier2.address, "value": 40_000_000, "documents": [invoice]}
    done = _ok(api.post(f"/v1/tokens/{root}/split", json={"pieces": [piece]}, headers=tier1.headers))
    result = done["result"]
    assert (result["from_token_id"], result["value"]) == (root, 40_000_000)
    assert result["to"].lower() == tier2.address and result["token_id"] != root
    assert api_world.client.owner_of(result["token_id"]).lower() == tier2.address
    assert api_world.client.balance_of(result["token_id"]) == 40_000_000

    # The document is spent: it covers no second payment.
    again = api.post(f"/v1/tokens/{root}/split", json={"pieces": [piece]}, headers=tier1.headers)
    assert again.json()["contract_error"]["name"] == "InsufficientTradeCover", again.text

    # Several receivers in one transaction, each with its documents; all or none carry them.
    to2 = api_world.attest_invoice(10_000_000, tier2.address, tier1.address)
    to3 = api_world.attest_invoice(20_000_000, tier3.address, tier1.address)
    pieces = [
        {"to": tier2.address, "value": 10_000_000, "documents": [to2]},
        {"to": tier3.address, "value": 20_000_000},
    ]
    mixed = api.post(f"/v1/tokens/{root}/split", json={"pieces": pieces}, headers=tier1.headers)
    assert mixed.status_code == 422 and mixed.json()["field"] == "pieces.1.documents", mixed.text
    pieces[1]["documents"] = [to3]
    batch = _ok(api.post(f"/v1/tokens/{root}/split", json={"pieces": pieces}, headers=tier1.headers))[
        "result"
    ]
    assert batch["from_token_id"] == root and len(batch["token_ids"]) == 2
    assert [api_world.client.owner_of(t).lower() for t in batch["token_ids"]] == [
        tier2.address,
        tier3.address,
    ]

    # A whole piece passed on: tier 2 pays tier 3 with it, citing tier 3's invoice.
    mine = result["token_id"]
    bare = api.post(f"/v1/tokens/{mine}/transfer", json={"to": tier3.address}, headers=tier2.headers)
    assert bare.json()["contract_error"]["name"] == "TradeBackgroundRequired", bare.text
    assert bare.json()["field"] == "documents"
    cited = api_world.attest_invoice(40_000_000, tier3.address, tier2.address)
    moved = _ok(
        api.post(
            f"/v1/tokens/{mine}/transfer",
            json={"to": tier3.address, "documents": [cited]},
            headers=tier2.headers,
        )
    )["result"]
    assert (moved["token_id"], moved["to"].lower(), moved["sender"].lower()) == (
        mine,
        tier3.address,
        tier2.address,
    )
    assert api_world.client.owner_of(mine).lower() == tier3.address

    # On request, the 中登网 registration records of the transfers that delivered the piece: tier 1 to
    # tier 2 (the split), then tier 2 to tier 3 (the whole piece), each with the documents that backed it.
    api.app.state.ctx.sync()  # type: ignore[attr-defined]
    path = f"/v1/tokens/{mine}/registration"
    records = _ok(api.get(path, headers=law["regulator"].headers))
    assert [(r["transferor"]["address"], r["transferee"]["address"]) for r in records] == [
        (tier1.address, tier2.address),
        (tier2.address, tier3.address),
    ]
    assert [d["fingerprint"] for d in records[0]["backing_documents"]] == [invoice]
    assert records[0]["backing_documents"][0]["backed_value"] == 40_000_000
    assert [d["fingerprint"] for d in records[1]["backing_documents"]] == [cited]
    assert records[1]["property"]["lineage"] == [root, mine] and records[1]["transfer_value"] == 40_000_000
    # each party reads its own transfers; a stranger reads none of them
    assert len(_ok(api.get(path, headers=tier1.headers))) == 1
    assert len(_ok(api.get(path, headers=tier3.headers))) == 1
    assert api.get(path, headers=law["outsider"].headers).status_code == 404
    csv_rows = api.get(path + ".csv", headers=law["regulator"].headers).text.splitlines()
    assert len(csv_rows) == 3 and "贸易背景单据(backing_documents)" in csv_rows[0]
    assert api.get(f"/v1/tokens/{root}/registration", headers=tier1.headers).status_code == 404


def test_an_obligors_record_is_public(
    api: TestClient,
    law: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    core, tier1, tier2 = law["core"], law["tier1"], law["tier2"]
    path = f"/v1/participants/{core.address}/record"
    record = _ok(api.get(path, headers=core.headers))
    assert record["address"] == core.address
    assert (record["strikes"], record["overdue_count"]) == ([], 0)
    assert (record["suspended_until"], record["suspended"]) == (None, False)
    assert record["size_class"] == "unclassified" and record["as_of"].endswith("Z")
    assert _ok(api.get(path, headers=operator_headers)) == record

    # The record is public, as on-chain: a supplier with no dealings with the obligor yet reads it (to
    # weigh its paper before taking it); an unregistered address is not found.
    unknown = api.get(f"/v1/participants/0x{'ab' * 20}/record", headers=tier1.headers)
    assert unknown.status_code == 404
    assert _ok(api.get(path, headers=tier2.headers)) == record
    issue_obligation()
    assert _ok(api.get(path, headers=tier1.headers))["address"] == core.address

    supplier = api.get(f"/v1/participants/{tier1.address}/record", headers=tier1.headers)
    assert supplier.status_code == 422 and supplier.json()["field"] == "address"
    assert "is not a core enterprise" in supplier.json()["detail"]


def test_a_size_class_recorded_at_onboarding(
    api: TestClient, api_world: ApiWorld, operator_headers: dict[str, str]
) -> None:
    body = {"legal_id": f"USCC-small-{time.time_ns()}", "roles": ["SUPPLIER"], "size_class": "small"}
    made = _ok(api.post("/v1/participants", json=body, headers=operator_headers), 201)
    address = made["participant"]["address"]
    assert made["participant"]["size_class"] == "small"
    checksummed = api_world.client.w3.to_checksum_address(address)
    assert api_world.client.size_class(checksummed) is SizeClass.SMALL
    shown = _ok(api.get(f"/v1/participants/{address}", headers=operator_headers))
    assert shown["size_class"] == "small"
    me = _ok(api.get("/v1/participants/me", headers={"Authorization": f"Bearer {made['api_key']}"}))
    assert me["size_class"] == "small"

    changed = _ok(
        api.put(
            f"/v1/participants/{address}/size-class", json={"size_class": "medium"}, headers=operator_headers
        )
    )
    assert (changed["result"]["previous"], changed["result"]["current"]) == ("small", "medium")
    assert api_world.client.size_class(checksummed) is SizeClass.MEDIUM

    wrong = api.put(
        f"/v1/participants/{address}/size-class", json={"size_class": "huge"}, headers=operator_headers
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "size_class"
    supplier = {"Authorization": f"Bearer {made['api_key']}"}
    assert (
        api.put(
            f"/v1/participants/{address}/size-class", json={"size_class": "large"}, headers=supplier
        ).status_code
        == 403
    )
    plain = {"legal_id": f"USCC-plain-{time.time_ns()}", "roles": ["SUPPLIER"]}
    assert _ok(api.post("/v1/participants", json=plain, headers=operator_headers), 201)["participant"][
        "size_class"
    ] == ("unclassified")


def test_a_self_custody_split_is_prepared_through_the_desk_with_documents(
    api: TestClient,
    api_world: ApiWorld,
    law: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    tier1, tier2 = law["tier1"], law["tier2"]
    root = issue_obligation()["token_id"]
    op = {"operation": "split", "token_id": root, "to": tier2.address, "value": 40_000_000}
    bare = api.post("/v1/tx/prepare", json=op, headers=tier1.headers)
    assert bare.status_code == 422 and bare.json()["contract_error"]["name"] == "TradeBackgroundRequired"
    invoice = api_world.attest_invoice(40_000_000, tier2.address, tier1.address)
    unsigned = _ok(api.post("/v1/tx/prepare", json={**op, "documents": [invoice]}, headers=tier1.headers))
    assert unsigned["to"].lower() == api_world.client.issuance.address.lower()
    fn, args = api_world.client.issuance.decode_function_input(unsigned["data"])
    assert fn.fn_name == "moveWithTrade" and args["tokenId"] == root
    assert ("0x" + bytes(args["documents"][0][0]).hex(), args["values"]) == (invoice, [40_000_000])


def test_the_minimum_unit_and_the_depth_of_the_policy(
    api: TestClient,
    api_world: ApiWorld,
    law: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    """A policy change that names only what changes (the rest stays as on-chain), then its two rules."""
    change = {"max_depth": 1, "min_unit": 1_000, "reason": "whole 10-yuan units, one level of pieces"}
    _enact(api, operator_headers, "set-policy", change, "Depth one")
    policy = _ok(api.get("/v1/policy", headers=law["tier1"].headers))["policy"]
    assert (policy["max_depth"], policy["min_unit"], policy["max_tenor_days"]) == (1, 1_000, 365)

    tier1, tier2, tier3, core = law["tier1"], law["tier2"], law["tier3"], law["core"]
    invoice = api_world.attest_invoice(1_000_000, tier1.address, core.address)
    small = _propose(api, tier1, core, 1_000_000, api_world.now + 30 * DAY, [invoice])
    assert small.status_code == 422, small.text
    assert small.json()["contract_error"]["name"] == "MinUnitBelowPolicy"
    assert small.json()["contract_error"]["args"] == {"minUnit": 100, "policyMinUnit": 1_000}

    root = issue_obligation(face=1_000_000, min_unit=1_000)["token_id"]
    to2 = api_world.attest_invoice(500_000, tier2.address, tier1.address)
    first = {"pieces": [{"to": tier2.address, "value": 500_000, "documents": [to2]}]}
    piece = _ok(api.post(f"/v1/tokens/{root}/split", json=first, headers=tier1.headers))["result"]["token_id"]
    to3 = api_world.attest_invoice(100_000, tier3.address, tier2.address)
    second = {"pieces": [{"to": tier3.address, "value": 100_000, "documents": [to3]}]}
    deep = api.post(f"/v1/tokens/{piece}/split", json=second, headers=tier2.headers)
    assert deep.status_code == 422, deep.text
    assert deep.json()["contract_error"] == {
        "name": "SplitTooDeep",
        "args": {"depth": 2, "maxDepth": 1},
        "contract": deep.json()["contract_error"]["contract"],
    }
    assert deep.json()["sentence"]
    # The whole piece may still be paid on: a whole transfer makes no new piece.
    whole = {
        "to": tier3.address,
        "documents": [api_world.attest_invoice(500_000, tier3.address, tier2.address)],
    }
    moved = _ok(api.post(f"/v1/tokens/{piece}/transfer", json=whole, headers=tier2.headers))["result"]
    assert moved["to"].lower() == tier3.address


def test_three_overdue_obligations_suspend_the_obligor(
    api: TestClient,
    api_world: ApiWorld,
    law: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    tier1, core = law["tier1"], law["core"]
    slots = [issue_obligation(face=1_000_000)["slot"] for _ in range(3)]
    api_world.chain.increase_time(91 * DAY)
    api_world.chain.mine()
    for slot in slots:
        _ok(api.post(f"/v1/repayment/obligations/{slot}/mark-overdue", headers=core.headers))
    record = _ok(api.get(f"/v1/participants/{core.address}/record", headers=tier1.headers))
    assert (record["overdue_count"], len(record["strikes"]), record["suspended"]) == (3, 3, True)
    assert record["suspended_until"] is not None

    invoice = api_world.attest_invoice(1_000_000, tier1.address, core.address)
    refused = _propose(api, tier1, core, 1_000_000, api_world.now + 30 * DAY, [invoice])
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["contract_error"]["name"] == "ObligorSuspended"
    assert problem["contract_error"]["args"]["obligor"].lower() == core.address
    assert problem["sentence"]

    # Governance lifts it with a recorded reason; the obligor issues again.
    lift = {"obligor": core.address, "reason": "overdue caused by the settlement bank's outage"}
    _enact(api, operator_headers, "lift-suspension", lift, "Lift the suspension")
    assert (
        _ok(api.get(f"/v1/participants/{core.address}/record", headers=tier1.headers))["suspended"] is False
    )
    _ok(_propose(api, tier1, core, 1_000_000, api_world.now + 30 * DAY, [invoice]), 201)
