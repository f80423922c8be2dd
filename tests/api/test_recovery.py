"""Lost-key recovery (密钥遗失恢复) over HTTP: the operator requests with a case reference, the service's
ENFORCEMENT key (a second key, from `TIERCHAIN_API_ENFORCEMENT_KEYSTORE`) approves and moves the tokens;
the lost participant's API keys are revoked, its financing requests withdrawn, its directory profile handed
to the replacement; regulators list recoveries and the audit export shows them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from api.config import ENFORCEMENT_PASSWORD_ENV, ApiSettings
from ledger.keys import create_keystore
from tests.api.support import ApiWorld, Party

pytestmark = pytest.mark.chain

PROBLEM = "https://tierchain.dev/problems/"
CASE = "\uff082026\uff09沪0115执1234号"
USCC = "91350100M000100Y43"
LEGAL_NAME = "华信汽车股份有限公司"


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM + slug, body
    return body


@pytest.fixture
def enforcing(
    api_world: ApiWorld, api_settings: ApiSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The API with an ENFORCEMENT keystore configured (the court's key, granted the role)."""
    court = api_world.actors["court"]
    api_world.client.grant_role(api_world.actors["admin"], court.address, "ENFORCEMENT")
    _, path = create_keystore(tmp_path / "enforcement", "s3cret", court.key, scrypt_n=2**4)
    monkeypatch.setenv(ENFORCEMENT_PASSWORD_ENV, "s3cret")
    app = api_world.make_app(api_settings.model_copy(update={"enforcement_keystore": path}))
    with TestClient(app) as client:
        yield client


def _lost_supplier(api: TestClient, operator_headers: dict[str, str]) -> Party:
    body = {"legal_id": USCC, "legal_name": LEGAL_NAME, "roles": ["SUPPLIER"], "custody": "custodial"}
    answer = _ok(api.post("/v1/participants", json=body, headers=operator_headers), 201)
    return Party("lostco", answer["participant"]["address"], answer["api_key"], answer["key_id"])


def _has_recover_tokens(api_world: ApiWorld) -> bool:
    return any(e.get("name") == "recoverTokens" for e in api_world.client.token.abi)


def test_request_cancel_and_the_refusals(
    api: TestClient,
    enforcing: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    api_settings: ApiSettings,
) -> None:
    op = operator_headers
    lost = _lost_supplier(api, op)
    new = Account.create().address
    url = f"/v1/participants/{lost.address}/recovery"

    # Without an ENFORCEMENT key configured the approval is refused, naming the setting.
    refused = _problem(
        api.post(f"{url}/approve", json={"case_ref": CASE}, headers=op), 409, "enforcement-key-missing"
    )
    assert "TIERCHAIN_API_ENFORCEMENT_KEYSTORE" in refused["detail"]
    # Only the operator asks; a participant may not.
    _problem(
        api.post(url, json={"replacement": new, "case_ref": CASE}, headers=lost.headers), 403, "forbidden"
    )
    assert _ok(api.get(url, headers=op)) == {
        "address": lost.address,
        "status": "active",
        "recovered_to": None,
        "recoveries": [],
    }
    unknown = Account.create().address
    _problem(
        api.post(
            f"/v1/participants/{unknown}/recovery", json={"replacement": new, "case_ref": CASE}, headers=op
        ),
        404,
        "not-found",
    )
    taken = _problem(
        api.post(url, json={"replacement": parties["tier2"].address, "case_ref": CASE}, headers=op),
        409,
        "already-registered",
    )
    assert taken["contract_error"]["name"] == "AlreadyRegistered"
    _problem(api.post(url, json={"replacement": new, "case_ref": " "}, headers=op), 422, "validation-error")

    asked = _ok(
        api.post(url, json={"replacement": new, "case_ref": CASE, "note": "笔记本遗失"}, headers=op), 201
    )
    assert asked["result"]["lost"] == lost.address and asked["result"]["replacement"] == new.lower()
    assert asked["result"]["case_ref"] == CASE and asked["result"]["case_hash"].startswith("0x")
    _problem(
        api.post(url, json={"replacement": new, "case_ref": "RC-2026-0042"}, headers=op),
        409,
        "recovery-already-requested",
    )
    view = _ok(api.get(url, headers=op))["recoveries"][-1]
    assert (view["state"], view["case_ref"], view["note"], view["replacement"]) == (
        "requested",
        CASE,
        "笔记本遗失",
        new.lower(),
    )
    regulator = parties["regulator"]
    assert _ok(api.get(url, headers=regulator.headers))["recoveries"][-1]["state"] == "requested"

    mismatch = _problem(
        enforcing.post(f"{url}/approve", json={"case_ref": "RC-2026-0042"}, headers=op),
        422,
        "recovery-case-mismatch",
    )
    assert mismatch["sentence"]
    _problem(enforcing.post(f"{url}/tokens", json={"case_ref": CASE}, headers=op), 409, "conflict")

    cancelled = _ok(api.delete(url, params={"case_ref": "(2026)沪0115执1234号"}, headers=op))
    assert cancelled["result"]["case_hash"] == asked["result"]["case_hash"]
    assert [r["state"] for r in _ok(api.get(url, headers=op))["recoveries"]] == ["cancelled"]
    _problem(api.delete(url, params={"case_ref": CASE}, headers=op), 409, "no-recovery-request")
    listed = _ok(api.get("/v1/regulator/recoveries", headers=regulator.headers))["items"]
    assert [(r["lost"], r["state"], r["case_ref"]) for r in listed] == [(lost.address, "cancelled", CASE)]
    _problem(api.get("/v1/regulator/recoveries", headers=lost.headers), 403, "forbidden")

    # The ENFORCEMENT key must not be the operator's: two parties, two keys.
    same = api_world.make_app(api_settings)
    same.state.ctx.enforcement = api_world.actors["admin"]
    with TestClient(same) as one_key:
        _ok(one_key.post(url, json={"replacement": new, "case_ref": CASE}, headers=op), 201)
        _problem(
            one_key.post(f"{url}/approve", json={"case_ref": CASE}, headers=op),
            409,
            "enforcement-key-is-operator",
        )


def test_approval_moves_record_and_tokens_and_voids_what_the_service_holds(
    enforcing: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    if not _has_recover_tokens(api_world):
        pytest.skip("the token of this build has no recoverTokens yet")
    api, op = enforcing, operator_headers
    lost = _lost_supplier(api, op)
    root = issue_obligation(face=1_000_000_00)["token_id"]
    _ok(api.post(f"/v1/tokens/{root}/transfer", json={"to": lost.address}, headers=parties["tier1"].headers))
    request = _ok(
        api.post(
            "/v1/financing/requests",
            json={"token_id": root, "bank": parties["bank"].address},
            headers=lost.headers,
        ),
        201,
    )
    new = Account.create().address
    url = f"/v1/participants/{lost.address}/recovery"
    _ok(api.post(url, json={"replacement": new, "case_ref": CASE}, headers=op), 201)

    done = _ok(api.post(f"{url}/approve", json={"case_ref": " (2026)沪0115执1234号 "}, headers=op))
    assert done["approval"]["result"]["replacement"] == new.lower()
    assert done["tokens"]["token_ids"] == [root] and len(done["tokens"]["batches"]) == 1
    assert done["voided"] == {
        "api_keys_revoked": [lost.key_id],
        "financing_requests_withdrawn": [request["request_id"]],
        "profile_copied": True,
    }
    assert new.lower() in done["next_steps"]
    assert api_world.client.owner_of(root) == new
    _problem(api.get("/v1/participants/me", headers=lost.headers), 401, "unauthorized")
    profile = _ok(api.get(f"/v1/participants/{new}/profile", headers=op))
    assert (profile["legal_name"], profile["uscc"]) == (LEGAL_NAME, USCC)
    moved = _ok(api.get(f"/v1/participants/{new}", headers=op))
    assert (moved["status"], moved["roles"]) == ("active", ["SUPPLIER"])
    assert _ok(api.get(f"/v1/participants/{lost.address}", headers=op))["status"] == "recovered"
    standing = _ok(api.get(url, headers=op))
    assert (standing["status"], standing["recovered_to"]) == ("recovered", new.lower())

    # Repeated, or through the tokens route: nothing is left; the approval is not sent again.
    again = _ok(api.post(f"{url}/approve", json={"case_ref": CASE}, headers=op))
    assert again["approval"] is None and again["tokens"]["batches"] == []
    assert _ok(api.post(f"{url}/tokens", json={"case_ref": CASE}, headers=op))["tokens"]["token_ids"] == []
    _problem(api.post(f"{url}/tokens", json={"case_ref": "RC-1"}, headers=op), 422, "validation-error")

    regulator = parties["regulator"]
    (row,) = _ok(api.get("/v1/regulator/recoveries?state=approved", headers=regulator.headers))["items"]
    assert (row["tokens_moved"], row["tokens_left"], row["case_ref"]) == (1, 0, CASE)
    audit = _ok(api.get("/v1/regulator/audit", headers=regulator.headers))
    names = {e["name"] for e in audit["events"]}
    assert {"RecoveryRequested", "ParticipantRecovered", "TokenRecovered"} <= names
    assert [r["lost"] for r in audit["recoveries"]] == [lost.address]
    csv = api.get("/v1/regulator/audit.csv", headers=regulator.headers).text
    assert "ParticipantRecovered" in csv and "TokenRecovered" in csv


def test_a_recovered_core_enterprise_sees_its_obligations_under_the_new_address(
    enforcing: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    api, op, core = enforcing, operator_headers, parties["core"]
    slot = issue_obligation(face=1_000_000_00)["slot"]
    new = Account.create().address
    url = f"/v1/participants/{core.address}/recovery"
    _ok(api.post(url, json={"replacement": new, "case_ref": "RC-2026-0007"}, headers=op), 201)
    done = _ok(api.post(f"{url}/approve", json={"case_ref": "RC-2026-0007"}, headers=op))
    assert done["tokens"]["batches"] == [] and done["voided"]["api_keys_revoked"] == [core.key_id]
    key = _ok(api.post(f"/v1/participants/{new}/api-keys", json={"scopes": ["read"]}, headers=op), 201)
    headers = {"Authorization": f"Bearer {key['api_key']}"}
    me = _ok(api.get("/v1/participants/me", headers=headers))
    assert (me["address"], me["roles"]) == (new.lower(), ["CORE_ENTERPRISE"])
    owed = _ok(api.get("/v1/obligations", headers=headers))["items"]
    assert [o["slot"] for o in owed] == [slot]
    assert _ok(api.get(f"/v1/obligations/{slot}", headers=headers))["obligor"] == core.address
