"""Refused values answer 422 naming the field (at the API edge first, else decoded from the contract);
403 is kept for what the caller may not do; roles appear by name, never as hashes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.schemas import RequestModel
from api.security import PRINCIPAL_SCOPE_KEY, Principal
from ledger.client import role_id
from ledger.errors import ContractRevert, MaturityNotInFuture, MissingRole
from tests.api.support import DAY, ApiWorld, Party

pytestmark = pytest.mark.chain

PROBLEM = "https://tierchain.dev/problems/"


def _proposal(api_world: ApiWorld, parties: dict[str, Party], **changes: Any) -> dict[str, Any]:
    seller, core = parties["tier1"], parties["core"]
    body: dict[str, Any] = {
        "obligor": api_world.client.w3.to_checksum_address(core.address),
        "currency": "CNY",
        "face": 1_000_00,
        "maturity": api_world.now + 90 * DAY,
        "min_unit": 100,
        "documents": [api_world.attest_invoice(1_000_00, seller.address, core.address)],
    }
    return {**body, **changes}


def _refused(answer: Any, field: str) -> dict[str, Any]:
    assert answer.status_code == 422, answer.text
    problem: dict[str, Any] = answer.json()
    assert problem["field"] == field, problem
    assert field in problem["detail"]
    return problem


@pytest.mark.parametrize("maturity", ["past", 0])
def test_proposal_with_maturity_past_or_zero_is_422_naming_maturity(
    api: TestClient, api_world: ApiWorld, parties: dict[str, Party], maturity: str | int
) -> None:
    when = api_world.now - DAY if maturity == "past" else 0
    body = _proposal(api_world, parties, maturity=when)
    answer = api.post("/v1/obligations/proposals", json=body, headers=parties["tier1"].headers)
    _refused(answer, "maturity")


def test_proposal_face_not_multiple_of_min_unit_is_422_naming_face(
    api: TestClient, api_world: ApiWorld, parties: dict[str, Party]
) -> None:
    body = _proposal(api_world, parties, face=1_000_50, min_unit=100)
    answer = api.post("/v1/obligations/proposals", json=body, headers=parties["tier1"].headers)
    problem = _refused(answer, "face")
    assert "100" in problem["detail"]


def _offerable(
    api: TestClient, parties: dict[str, Party], issue_obligation: Callable[..., dict[str, Any]]
) -> int:
    token: int = issue_obligation(face=1_000_00)["token_id"]
    asked = api.post(
        "/v1/financing/requests",
        json={"token_id": token, "bank": parties["bank"].address},
        headers=parties["tier1"].headers,
    )
    assert asked.status_code in (200, 201), asked.text
    return token


def test_offer_with_expiry_past_is_422_naming_expiry(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    token = _offerable(api, parties, issue_obligation)
    body = {"token_id": token, "value": 1_000_00, "rate_bps": 500, "expiry": api_world.now - 1}
    _refused(api.post("/v1/financing/offers", json=body, headers=parties["bank"].headers), "expiry")


def test_offer_above_the_tokens_value_is_422_naming_value_when_made(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    token = _offerable(api, parties, issue_obligation)
    body = {"token_id": token, "value": 2_000_00, "rate_bps": 500, "expiry": api_world.now + DAY}
    problem = _refused(api.post("/v1/financing/offers", json=body, headers=parties["bank"].headers), "value")
    assert "1000" in problem["detail"].replace("_", "").replace(",", "")


def test_quote_with_past_maturity_is_422_naming_maturity(
    api: TestClient, api_world: ApiWorld, parties: dict[str, Party]
) -> None:
    params = {"value": 1_000_00, "rate_bps": 500, "maturity": api_world.now - DAY}
    _refused(api.get("/v1/financing/quote", params=params, headers=parties["bank"].headers), "maturity")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/obligations/proposals", {"face": "100000"}),
        ("/v1/obligations/proposals", {"min_unit": 100.5}),
        ("/v1/obligations/proposals", {"maturity": True}),
    ],
)
def test_money_and_times_must_be_json_integers_not_strings_fractions_or_booleans(
    api: TestClient, api_world: ApiWorld, parties: dict[str, Party], path: str, body: dict[str, Any]
) -> None:
    (field,) = body
    answer = api.post(path, json=_proposal(api_world, parties, **body), headers=parties["tier1"].headers)
    _refused(answer, field)


def test_offer_amounts_must_be_json_integers(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    token = _offerable(api, parties, issue_obligation)
    body = {"token_id": str(token), "value": 1_000_00, "rate_bps": 500, "expiry": api_world.now + DAY}
    _refused(api.post("/v1/financing/offers", json=body, headers=parties["bank"].headers), "token_id")
    body = {"token_id": token, "value": "100000", "rate_bps": 500, "expiry": api_world.now + DAY}
    _refused(api.post("/v1/financing/offers", json=body, headers=parties["bank"].headers), "value")


def test_obligor_without_the_role_is_422_with_the_role_by_name(
    api: TestClient, api_world: ApiWorld, parties: dict[str, Party]
) -> None:
    bank = api_world.client.w3.to_checksum_address(parties["bank"].address)
    body = _proposal(api_world, parties, obligor=bank)
    answer = api.post("/v1/obligations/proposals", json=body, headers=parties["tier1"].headers)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["contract_error"]["name"] == "MissingRole"
    assert problem["contract_error"]["args"]["role"] == "CORE_ENTERPRISE"
    assert problem["field"] == "obligor"
    assert (
        "CORE_ENTERPRISE" in problem["detail"] and "0x" + role_id("CORE_ENTERPRISE").hex() not in answer.text
    )


def test_receiver_not_registered_is_422(
    api: TestClient, parties: dict[str, Party], issue_obligation: Callable[..., dict[str, Any]]
) -> None:
    token = issue_obligation(face=1_000_00)["token_id"]
    stranger = "0x" + "5a" * 20
    body = {"pieces": [{"to": stranger, "value": 100_00}]}
    answer = api.post(f"/v1/tokens/{token}/split", json=body, headers=parties["tier1"].headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["contract_error"]["name"] == "ParticipantNotActive"
    assert answer.json()["field"] == "pieces.0.to"


def test_receiver_not_a_holder_is_422(
    api: TestClient, parties: dict[str, Party], issue_obligation: Callable[..., dict[str, Any]]
) -> None:
    token = issue_obligation(face=1_000_00)["token_id"]
    body = {"pieces": [{"to": parties["regulator"].address, "value": 100_00}]}
    answer = api.post(f"/v1/tokens/{token}/split", json=body, headers=parties["tier1"].headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["contract_error"]["name"] == "NotAHolder"
    assert answer.json()["field"] == "pieces.0.to"


def test_unknown_currency_is_422_naming_the_currency_field(
    api: TestClient, api_world: ApiWorld, parties: dict[str, Party]
) -> None:
    body = _proposal(api_world, parties, currency="XYZ")
    answer = api.post("/v1/obligations/proposals", json=body, headers=parties["tier1"].headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "currency" and "currency" in answer.json()["detail"]


def _raising(api_world: ApiWorld, refusal: ContractRevert, caller: str | None = None) -> TestClient:
    """An app with one route raising `refusal`, as if `caller` had called it."""
    app = api_world.make_app()

    @app.get("/v1/refusal")
    def refused(request: Request) -> None:
        if caller is not None:
            request.scope[PRINCIPAL_SCOPE_KEY] = Principal(
                address=caller, roles=frozenset(), status="active", scopes=frozenset(), via="api_key"
            )
        raise refusal

    return TestClient(app, raise_server_exceptions=False)


def test_caller_refused_by_the_contract_stays_403_with_the_role_by_name(api_world: ApiWorld) -> None:
    """The same contract error naming the caller itself means "you may not do this"."""
    caller = "0x" + "77" * 20
    refusal = MissingRole(
        "MissingRole", {"account": api_world.client.w3.to_checksum_address(caller), "role": role_id("BANK")}
    )
    answer = _raising(api_world, refusal, caller).get("/v1/refusal")
    assert answer.status_code == 403, answer.text
    assert answer.json()["contract_error"]["args"]["role"] == "BANK"
    assert "BANK" in answer.json()["detail"]


def test_decoded_terms_refusal_is_422_naming_the_field(api_world: ApiWorld) -> None:
    """A refusal the edge could not foresee (the chain's clock moved on) still names the field."""
    refusal = MaturityNotInFuture("MaturityNotInFuture", {"maturity": 5, "currentTime": 9})
    answer = _raising(api_world, refusal).get("/v1/refusal")
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["field"] == "maturity" and problem["type"] == PROBLEM + "maturity-not-in-future"
    assert problem["contract_error"]["args"] == {"maturity": 5, "currentTime": 9}


def _request_models() -> list[type[RequestModel]]:
    import api.app  # noqa: F401  (imports every route module, so every request model exists)

    found: list[type[RequestModel]] = []
    todo: list[type[RequestModel]] = [RequestModel]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def _integer_fields(model: type[RequestModel]) -> list[str]:
    """Fields whose JSON schema allows an integer (alone, or in an `anyOf` such as `int | None`)."""
    schema = model.model_json_schema()
    fields = []
    for name, prop in schema.get("properties", {}).items():
        kinds = [prop, *prop.get("anyOf", [])]
        if any(k.get("type") == "integer" for k in kinds):
            fields.append(name)
    return fields


def test_every_integer_of_every_request_body_is_strict() -> None:
    """Behaviour, not annotations: `"1"` and `true` in any integer field (optional ones too) are refused."""
    loose = []
    for model in _request_models():
        for name in _integer_fields(model):
            for sample in ("1", True):
                try:
                    model.model_validate({name: sample})
                except ValidationError as exc:
                    if any(e["loc"][:1] == (name,) for e in exc.errors()):
                        continue
                loose.append(f"{model.__module__}.{model.__name__}.{name}={sample!r}")
    assert loose == []


def test_request_schemas_state_bounds_in_json_schema_words() -> None:
    """`minimum`/`maximum`, never pydantic's `ge`/`le` (which Schemathesis and clients ignore)."""

    def python_words(node: Any) -> set[str]:
        if isinstance(node, dict):
            here = {k for k in ("ge", "le", "gt", "lt") if k in node and isinstance(node[k], int)}
            return here.union(*(python_words(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(python_words(v) for v in node))
        return set()

    wrong = {m.__name__: w for m in _request_models() if (w := python_words(m.model_json_schema()))}
    assert wrong == {}


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"legal_id": "91310000MA1FL8T999", "roles": ["KING"]}, "roles.0", "SUPPLIER"),
        ({"legal_id": "91310000MA1FL8T999", "roles": ["SUPPLIER"], "custody": "self"}, "address", "required"),
        ({"legal_id": "91310000MA1FL8T999", "roles": ["SUPPLIER"], "custody": "bank"}, "custody", "self"),
    ],
)
def test_onboarding_refusals_name_the_request_field_not_a_model(
    api: TestClient, operator_headers: dict[str, str], body: dict[str, Any], field: str, says: str
) -> None:
    answer = api.post("/v1/participants", json=body, headers=operator_headers)
    problem = _refused(answer, field)
    assert says in problem["detail"] and "Onboard" not in answer.text


def test_a_body_that_is_not_json_is_400_malformed_body(api: TestClient, parties: dict[str, Party]) -> None:
    headers = {**parties["tier1"].headers, "Content-Type": "application/json"}
    answer = api.post("/v1/obligations/proposals", content=b"{nope", headers=headers)
    assert answer.status_code == 400, answer.text
    problem = answer.json()
    assert problem["type"] == PROBLEM + "malformed-body"
    assert "not valid JSON" in problem["detail"] and "byte 1" in problem["detail"]
