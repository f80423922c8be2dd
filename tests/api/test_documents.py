"""Documents through HTTP without an aggregator: per-record results with refusal codes, verdicts that
say plainly that nothing attests them yet, and who may look one up."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.config import ApiSettings
from oracles.documents import Invoice
from oracles.signatures import sign_document
from oracles.testing_pki import build_pki, write_trust_store
from tests.api.support import ApiWorld, Party

pytestmark = pytest.mark.chain

SELLER_ID, BUYER_ID = "91310000MA1FL8T1A1", "91310000MA1FL8T1B2"


def _register(api: TestClient, operator: dict[str, str], legal_id: str, role: str) -> Party:
    answer = api.post("/v1/participants", json={"legal_id": legal_id, "roles": [role]}, headers=operator)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return Party(role, body["participant"]["address"], body["api_key"], body["key_id"])


def _invoice(number: str, buyer: str = BUYER_ID) -> Invoice:
    today = date.today()
    return Invoice.model_validate(
        {
            "kind": 1,
            "currency": "CNY",
            "invoice_code": "044001900111",
            "invoice_number": number,
            "issue_date": today - timedelta(days=10),
            "seller_tax_id": SELLER_ID,
            "buyer_tax_id": buyer,
            "amount_without_tax": 100_000_00,
            "tax_amount": 13_000_00,
            "total_with_tax": 113_000_00,
            "line_items_hash": "0x" + "ab" * 32,
            "due_date": today + timedelta(days=80),
        }
    )


def test_batch_verified_locally_with_refusal_codes(
    api_world: ApiWorld, api_settings: ApiSettings, operator_headers: dict[str, str], tmp_path: Path
) -> None:
    pki = build_pki(random.Random(11), datetime.now(UTC))
    trusted = api_settings.model_copy(update={"trust_store_dir": write_trust_store(tmp_path / "trust", pki)})
    api = TestClient(api_world.make_app(trusted))
    seller = _register(api, operator_headers, SELLER_ID, "SUPPLIER")
    _register(api, operator_headers, BUYER_ID, "CORE_ENTERPRISE")
    stranger = _register(api, operator_headers, "91310000MA1FL8T1C3", "SUPPLIER")
    key, chain = pki.issuers["einvoice"]
    good = sign_document(_invoice("00000001"), key, chain).model_dump(mode="json")
    unknown_buyer = sign_document(_invoice("00000002", buyer="91310000ZZ9ZZ9Z9Z9"), key, chain)
    batch: list[Any] = [good, {"document": {"kind": "invoice"}}, unknown_buyer.model_dump(mode="json")]

    answer = api.post("/v1/documents", json={"documents": batch}, headers=seller.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["mode"], body["accepted"], body["rejected"]) == ("verified_locally", 1, 2)
    first, second, third = body["results"]
    assert first["status"] == "verified_awaiting_attestation" and "no oracle aggregator" in first["note"]
    assert second["status"] == "malformed" and {r["code"] for r in second["refusals"]} == {"MALFORMED"}
    assert third["status"] == "refused" and "UNKNOWN_BUYER" in {r["code"] for r in third["refusals"]}

    fingerprint = first["fingerprint"]
    seen = api.get(f"/v1/documents/{fingerprint}", headers=seller.headers).json()
    assert (seen["status"], seen["attestation"]) == ("verified_awaiting_attestation", None)
    assert "awaiting attestation" in seen["note"]
    refused = api.get(f"/v1/documents/{third['fingerprint']}", headers=seller.headers).json()
    assert refused["status"] == "refused" and refused["refusals"][0]["code"] == "UNKNOWN_BUYER"
    assert api.get(f"/v1/documents/{fingerprint}", headers=stranger.headers).status_code == 404
    assert api.get(f"/v1/documents/{fingerprint}", headers=operator_headers).status_code == 200
    api.app.state.ctx.close()  # type: ignore[attr-defined]


def test_without_aggregator_or_trust_store_the_route_says_so(
    api: TestClient, operator_headers: dict[str, str]
) -> None:
    answer = api.post("/v1/documents", json={"documents": [{}]}, headers=operator_headers)
    assert answer.status_code == 503
    assert "no oracle aggregator and no trust store" in answer.json()["detail"]
