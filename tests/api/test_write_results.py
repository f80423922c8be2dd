"""Every write documents what its `result` holds: a typed model per operation in /openapi.json, with
an example, and the answers keep the keys they always had."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.support import Party

pytestmark = pytest.mark.chain

# (method, path) → keys its `result` documents (the union's members for split)
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("post", "/v1/obligations/proposals"): {"proposal_id", "terms_hash"},
    ("post", "/v1/obligations/proposals/{proposal_id}/confirm"): {"proposal_id", "slot", "token_id"},
    ("post", "/v1/obligations/proposals/{proposal_id}/reject"): {"proposal_id", "outcome"},
    ("post", "/v1/financing/offers"): {"offer_id"},
    ("post", "/v1/financing/offers/{offer_id}/accept"): {
        "offer_id",
        "token_id",
        "financed_token_id",
        "bank",
        "holder",
        "value",
        "price",
        "discount",
        "days_to_maturity",
    },
    ("post", "/v1/financing/offers/{offer_id}/cancel"): {"offer_id"},
    ("post", "/v1/financing/offers/{offer_id}/recourse"): {"offer_id", "bank", "seller", "slot", "shortfall"},
    ("post", "/v1/financing/recourse/{offer_id}/settlements"): {"offer_id", "seller", "amount", "remaining"},
    ("post", "/v1/financing/recourse/{offer_id}/waive"): {"offer_id", "bank", "remaining"},
    ("post", "/v1/tokens/{token_id}/split"): {"from_token_id", "token_id", "to", "value", "token_ids"},
    ("post", "/v1/tokens/{token_id}/merge"): {"from_token_id", "to_token_id", "value"},
    ("post", "/v1/tokens/{token_id}/transfer"): {"token_id", "sender", "to"},
    ("post", "/v1/repayment/deposits"): {"slot", "amount", "paid_total", "repaid"},
    ("post", "/v1/repayment/redemptions"): {"token_id", "slot", "holder", "value", "payout"},
    ("post", "/v1/repayment/obligations/{slot}/mark-overdue"): {"slot", "state"},
    ("post", "/v1/repayment/obligations/{slot}/declare-default"): {"slot", "state"},
    ("post", "/v1/repayment/obligations/{slot}/sweep-dust"): {"slot", "to", "amount"},
    ("post", "/v1/regulator/tokens/{token_id}/freeze"): {"token_id", "frozen", "reason_code"},
    ("post", "/v1/regulator/tokens/{token_id}/unfreeze"): {"token_id", "frozen", "reason_code"},
    ("post", "/v1/participants/{address}/status"): {"account", "previous", "current"},
    ("post", "/v1/tx/submit"): {"from", "to", "logs"},
    ("post", "/v1/governance/proposals"): {
        "id",
        "description",
        "description_hash",
        "state",
        "needed",
        "action_class",
        "delay_seconds",
    },
    ("post", "/v1/governance/proposals/{governance_id}/approve"): {
        "id",
        "voter",
        "approvals",
        "needed",
        "state",
    },
    ("post", "/v1/governance/proposals/{governance_id}/execute"): {
        "id",
        "steps",
        "transactions",
        "state",
        "eta",
        "eta_iso",
    },
    ("post", "/v1/governance/proposals/{governance_id}/cancel"): {"id", "by", "via", "state"},
    ("post", "/v1/governance/pause"): {"operations", "paused", "reason"},
}


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = spec["components"]["schemas"][name]
    return schema


def _result_members(spec: dict[str, Any], method: str, path: str) -> list[dict[str, Any]]:
    responses = spec["paths"][path][method]["responses"]
    ok = next(r for status, r in responses.items() if status.startswith("2"))
    answer = _resolve(spec, ok["content"]["application/json"]["schema"])
    result = _resolve(spec, answer["properties"]["result"])
    members = result.get("anyOf") or result.get("oneOf") or [result]
    return [_resolve(spec, m) for m in members]


def test_openapi_documents_each_writes_result_fields_with_an_example(api: TestClient) -> None:
    spec = api.get("/v1/openapi.json").json()
    for (method, path), keys in EXPECTED.items():
        members = _result_members(spec, method, path)
        documented = {k for m in members for k in m.get("properties", {})}
        assert documented == keys, (path, documented)
        for member in members:
            assert member.get("examples"), (path, member.get("title"))
            assert set(member["examples"][0]) == set(member["properties"]), (path, member.get("title"))


def test_every_write_documents_a_typed_result(api: TestClient) -> None:
    spec = api.get("/v1/openapi.json").json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            ok = [r for s, r in operation.get("responses", {}).items() if s.startswith("2")]
            if not ok or "application/json" not in ok[0].get("content", {}):
                continue
            answer = _resolve(spec, ok[0]["content"]["application/json"]["schema"])
            if "tx_hash" not in answer.get("properties", {}) or "result" not in answer["properties"]:
                continue
            members = _result_members(spec, method, path)
            assert all(m.get("properties") for m in members), f"{method} {path} has an untyped result"


def test_onboarding_answers_roles_by_name(
    api: TestClient, operator_headers: dict[str, str], parties: dict[str, Party]
) -> None:
    body = {"legal_id": "91310000ROLES0001X", "roles": ["SUPPLIER", "BANK"], "custody": "custodial"}
    answer = api.post("/v1/participants", json=body, headers=operator_headers)
    assert answer.status_code == 201, answer.text
    assert sorted(answer.json()["registration"]["result"]["roles"]) == ["BANK", "SUPPLIER"]
    spec = api.get("/v1/openapi.json").json()
    onboarded = _resolve(spec, spec["components"]["schemas"]["Onboarded"])
    registration = _resolve(spec, onboarded["properties"]["registration"])
    assert "roles" in _resolve(spec, registration["properties"]["result"])["properties"]
