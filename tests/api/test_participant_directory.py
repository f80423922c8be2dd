"""The participant directory a payer picks receivers from: every active holder (core enterprise,
supplier, bank) by legal name, for any participant; nobody else in it, and nothing but names."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.regulatory.uscc import ALPHABET, check_character
from tests.api.support import Party

pytestmark = pytest.mark.chain

LEGAL_NAME = "苏州精密零件有限公司"


def _uscc() -> str:
    digits = f"{time.time_ns():017d}"[-9:]
    body = "91320500" + "".join(ALPHABET[int(d) + 10] for d in digits)
    return body + check_character(body)


def _directory(api: TestClient, party: Party) -> list[dict[str, Any]]:
    answer = api.get("/v1/participants/directory", headers=party.headers)
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()
    return rows


def test_every_participant_reads_the_active_holders_by_legal_name(
    api: TestClient, parties: dict[str, Party], operator_headers: dict[str, str]
) -> None:
    body = {"legal_id": _uscc(), "roles": ["SUPPLIER"], "custody": "custodial", "legal_name": LEGAL_NAME}
    created = api.post("/v1/participants", json=body, headers=operator_headers)
    assert created.status_code == 201, created.text
    named = created.json()["participant"]["address"]

    rows = _directory(api, parties["tier3"])
    by_address = {r["address"]: r for r in rows}
    assert all(set(r) == {"address", "legal_name", "roles"} for r in rows)
    assert by_address[named] == {"address": named, "legal_name": LEGAL_NAME, "roles": ["SUPPLIER"]}
    assert rows[0]["address"] == named, "named holders come first"
    for holder, role in (("core", "CORE_ENTERPRISE"), ("tier1", "SUPPLIER"), ("bank", "BANK")):
        assert role in by_address[parties[holder].address]["roles"]
    assert parties["regulator"].address not in by_address
    assert all(set(r["roles"]) <= {"CORE_ENTERPRISE", "SUPPLIER", "BANK"} for r in rows)
    assert _directory(api, parties["regulator"]) == rows

    status = api.post(
        f"/v1/participants/{named}/status", json={"status": "suspended"}, headers=operator_headers
    )
    assert status.status_code == 200, status.text
    assert named not in {r["address"] for r in _directory(api, parties["bank"])}
    assert api.get("/v1/participants/directory").status_code == 401
