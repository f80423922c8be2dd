"""`/v1/governance` on the local network (one seat held by the operator's key, one approval, no
delay): the regulator reads and cannot write, other participants cannot read, the operator proposes,
approves and executes; refusals name the action, the argument, the proposal's state or its ETA; a
pause stops a split with a clear problem; a retried write with its Idempotency-Key is replayed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.support import Party

pytestmark = pytest.mark.chain

URI = "https://api.example/v1/metadata/"


def _propose(
    api: TestClient, headers: dict[str, str], description: str, actions: list[dict[str, Any]] | None = None
) -> int:
    body = {
        "actions": actions or [{"action": "set-base-uri", "args": {"uri": URI}}],
        "description": description,
    }
    made = api.post("/v1/governance/proposals", json=body, headers=headers)
    assert made.status_code == 201, made.text
    pid = made.json()["result"]["id"]
    assert isinstance(pid, int) and pid >= 1  # the governor's number, a JSON integer
    return int(pid)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_the_regulator_reads_settings_and_proposals(
    api: TestClient, parties: dict[str, Party], operator_headers: dict[str, str]
) -> None:
    regulator = parties["regulator"].headers
    settings = _ok(api.get("/v1/governance", headers=regulator))
    assert settings["approvals_required"] == 1 and len(settings["seats"]) == 1
    assert settings["admin_delay_seconds"] == settings["policy_delay_seconds"] == 0
    assert settings["paused_operations"] == [] and settings["guardian"] == settings["seats"][0]
    assert settings["action_delays"]["grant-role"] == 0

    pid = _propose(api, operator_headers, "Point metadata at the API")
    listed = _ok(api.get("/v1/governance/proposals", headers=regulator))["items"]
    assert [p["state"] for p in listed if p["id"] == pid] == ["pending"]
    one = _ok(api.get(f"/v1/governance/proposals/{pid}", headers=regulator))
    assert (one["description"], one["needed"], one["action_class"]) == (
        "Point metadata at the API",
        1,
        "policy",
    )
    assert one["actions"] == [
        {
            "action": "set-base-uri",
            "contract": "ReceivableToken",
            "target": one["actions"][0]["target"],
            "arguments": {"uri": URI},
            "action_class": "policy",
            "delay_seconds": 0,
        }
    ]


def test_the_regulator_cannot_write_and_a_supplier_cannot_read(
    api: TestClient, parties: dict[str, Party], operator_headers: dict[str, str]
) -> None:
    pid = _propose(api, operator_headers, "Regulator may not approve this")
    regulator = parties["regulator"].headers
    body = {"actions": [{"action": "set-threshold", "args": {"threshold": 1}}], "description": "x"}
    for method, path, payload in (
        ("POST", "/v1/governance/proposals", body),
        ("POST", f"/v1/governance/proposals/{pid}/approve", None),
        ("POST", f"/v1/governance/proposals/{pid}/execute", None),
        ("POST", f"/v1/governance/proposals/{pid}/cancel", None),
        ("POST", "/v1/governance/pause", {"operations": ["all"], "reason": "no"}),
    ):
        refused = api.request(method, path, json=payload, headers=regulator)
        assert refused.status_code == 403, refused.text
        assert refused.json()["detail"] == "this operation needs one of the roles: OPERATOR"
    supplier = parties["tier1"].headers
    for path in ("/v1/governance", "/v1/governance/proposals", f"/v1/governance/proposals/{pid}"):
        refused = api.get(path, headers=supplier)
        assert refused.status_code == 403, refused.text
        assert refused.json()["detail"] == "this operation needs one of the roles: REGULATOR, OPERATOR"
    assert _ok(api.get(f"/v1/governance/proposals/{pid}", headers=operator_headers))["approvals"] == 0


def test_the_operator_proposes_approves_and_executes(
    api: TestClient, operator_headers: dict[str, str]
) -> None:
    body = {"actions": [{"action": "set-base-uri", "args": {"uri": URI}}], "description": "Metadata"}
    made = _ok(api.post("/v1/governance/proposals", json=body, headers=operator_headers), 201)
    pid = made["result"]["id"]
    assert made["status"] == "mined" and made["tx_hash"].startswith("0x")
    assert (made["result"]["state"], made["result"]["needed"]) == ("pending", 1)

    approved = _ok(api.post(f"/v1/governance/proposals/{pid}/approve", headers=operator_headers))["result"]
    assert (approved["approvals"], approved["needed"], approved["state"]) == (1, 1, "succeeded")
    executed = _ok(api.post(f"/v1/governance/proposals/{pid}/execute", headers=operator_headers))
    assert executed["result"]["steps"] == ["queued", "executed"]
    assert executed["result"]["state"] == "executed"
    assert executed["tx_hash"] == executed["result"]["transactions"][-1]
    shown = _ok(api.get(f"/v1/governance/proposals/{pid}", headers=operator_headers))
    assert shown["state"] == "executed" and shown["eta"] is not None

    twice = api.post(f"/v1/governance/proposals/{pid}/execute", headers=operator_headers)
    assert twice.status_code == 409 and twice.json()["type"].endswith("/proposal-state")
    assert "is executed: it was executed already" in twice.json()["detail"]
    again = api.post("/v1/governance/proposals", json=body, headers=operator_headers)
    assert again.status_code == 409 and "already proposed with this description" in again.json()["detail"]
    cancel = api.post(f"/v1/governance/proposals/{pid}/cancel", headers=operator_headers)
    assert cancel.status_code == 409 and "is executed" in cancel.json()["detail"]


@pytest.mark.parametrize(
    ("actions", "field", "message"),
    [
        ([{"action": "make-coffee"}], "actions.0.action", "Input should be 'grant-role'"),
        (
            [{"action": "set-threshold", "args": {"threshold": 0}}],
            "actions.0.args.threshold",
            "greater than or equal to 1 (set-threshold)",
        ),
        (
            [{"action": "set-threshold", "args": {"threshold": 2, "level": 1}}],
            "actions.0.args.level",
            "not an argument of this action",
        ),
        (
            [
                {"action": "set-base-uri", "args": {"uri": URI}},
                {"action": "grant-role", "args": {"role": "ORACLE", "account": "0x12"}},
            ],
            "actions.1.args.account",
            "'0x12' is not an address",
        ),
        (
            [{"action": "grant-role", "args": {"role": "SUPPLIER", "account": "0x" + "ab" * 20}}],
            "actions.0.args.role",
            "by the onboarding key",
        ),
        ([], "actions", "at least 1 item"),
        (
            [{"action": "seat", "args": {"operator": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"}}],
            "actions.0.args.operator",
            "holds a seat already (seat)",
        ),
        (
            [
                {
                    "action": "upgrade",
                    "args": {"contract": "TradeRegistry", "implementation": "0x" + "ab" * 20},
                }
            ],
            "actions.0.args.implementation",
            "has no code on this chain (upgrade)",
        ),
    ],
)
def test_a_bad_action_or_argument_is_named(
    api: TestClient, operator_headers: dict[str, str], actions: list[dict[str, Any]], field: str, message: str
) -> None:
    refused = api.post(
        "/v1/governance/proposals", json={"actions": actions, "description": "bad"}, headers=operator_headers
    )
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert problem["field"] == field and problem["detail"].startswith(f"{field}: ")
    assert message in problem["detail"]


def test_unknown_ids_and_a_queued_proposal_that_is_not_ready(
    api: TestClient, operator_headers: dict[str, str]
) -> None:
    for method, path in (
        ("GET", "/v1/governance/proposals/12345"),
        ("POST", "/v1/governance/proposals/12345/approve"),
        ("POST", "/v1/governance/proposals/12345/execute"),
        ("POST", "/v1/governance/proposals/" + "9" * 78 + "/cancel"),
    ):
        missing = api.request(method, path, headers=operator_headers)
        assert missing.status_code == 404, missing.text
        assert "does not exist on the governor" in missing.json()["detail"]

    # Give set-base-uri an hour's delay (at once: no delay applies to that change yet), then walk one.
    delay = [{"action": "set-function-delay", "args": {"function": "set-base-uri", "delay_seconds": 3600}}]
    slow = _propose(api, operator_headers, "Metadata changes wait an hour", delay)
    _ok(api.post(f"/v1/governance/proposals/{slow}/approve", headers=operator_headers))
    _ok(api.post(f"/v1/governance/proposals/{slow}/execute", headers=operator_headers))
    pid = _propose(api, operator_headers, "Metadata, slowly")
    _ok(api.post(f"/v1/governance/proposals/{pid}/approve", headers=operator_headers))
    queued = _ok(api.post(f"/v1/governance/proposals/{pid}/execute", headers=operator_headers))["result"]
    assert queued["steps"] == ["queued"] and queued["state"] == "queued" and queued["eta"] is not None
    early = api.post(f"/v1/governance/proposals/{pid}/execute", headers=operator_headers)
    assert early.status_code == 409, early.text
    assert early.json()["type"].endswith("/proposal-not-ready")
    assert f"(eta {queued['eta']}, unix seconds)" in early.json()["detail"]
    assert queued["eta_iso"] in early.json()["detail"]
    assert 1 <= int(early.headers["Retry-After"]) <= 3600
    shown = _ok(api.get(f"/v1/governance/proposals/{pid}", headers=operator_headers))
    assert (shown["state"], shown["ready"], shown["delay_seconds"]) == ("queued", False, 3600)


def test_a_pause_stops_a_split_with_a_clear_problem(
    api: TestClient,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    token = issue_obligation()["token_id"]
    paused = _ok(
        api.post(
            "/v1/governance/pause",
            json={"operations": ["moves"], "reason": "incident 7"},
            headers=operator_headers,
        )
    )["result"]
    assert paused == {"operations": ["moves"], "paused": ["moves"], "reason": "incident 7"}
    assert _ok(api.get("/v1/governance", headers=parties["regulator"].headers))["paused_operations"] == [
        "moves"
    ]

    body = {"pieces": [{"to": parties["tier2"].address, "value": 100_00}]}
    refused = api.post(f"/v1/tokens/{token}/split", json=body, headers=parties["tier1"].headers)
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["contract_error"]["name"] == "OperationPaused"
    assert "moves paused by the guardian" in problem["detail"]

    again = api.post(
        "/v1/governance/pause", json={"operations": ["moves"], "reason": "again"}, headers=operator_headers
    )
    assert again.status_code == 422 and again.json()["contract_error"]["name"] == "AlreadyPaused"
    unknown = api.post(
        "/v1/governance/pause", json={"operations": ["coffee"], "reason": "x"}, headers=operator_headers
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "operations.0"


def test_proposal_ids_are_numbers_one_after_another(
    api: TestClient, parties: dict[str, Party], operator_headers: dict[str, str]
) -> None:
    first = _propose(api, operator_headers, "Numbered: first")
    second = _propose(api, operator_headers, "Numbered: second")
    assert second == first + 1
    listed = _ok(api.get("/v1/governance/proposals", headers=operator_headers))["items"]
    assert [p["id"] for p in listed] == list(range(1, second + 1))
    one = _ok(api.get(f"/v1/governance/proposals/{first}", headers=parties["regulator"].headers))
    assert (one["id"], one["description"]) == (first, "Numbered: first")
    padded = _ok(api.get(f"/v1/governance/proposals/000{second}", headers=operator_headers))
    assert padded["id"] == second
    for bad in ("-1", "0x1", "1.0", "one"):
        refused = api.get(f"/v1/governance/proposals/{bad}", headers=operator_headers)
        assert refused.status_code == 422, (bad, refused.text)
    missing = api.get(f"/v1/governance/proposals/{second + 1}", headers=operator_headers)
    assert missing.status_code == 404
    assert missing.json()["detail"] == (
        f"proposal {second + 1} does not exist on the governor; its proposals are numbered 1 to {second}"
    )


def test_a_retried_write_with_its_idempotency_key_is_replayed(
    api: TestClient, operator_headers: dict[str, str]
) -> None:
    body = {"actions": [{"action": "set-base-uri", "args": {"uri": URI}}], "description": "Metadata, once"}
    headers = {**operator_headers, "Idempotency-Key": "gov-propose-1"}
    first = api.post("/v1/governance/proposals", json=body, headers=headers)
    second = api.post("/v1/governance/proposals", json=body, headers=headers)
    assert first.status_code == second.status_code == 201, second.text
    assert second.json() == first.json() and second.headers.get("Idempotent-Replayed") == "true"
    pid = first.json()["result"]["id"]
    assert isinstance(pid, int)
    latest = _ok(api.get("/v1/governance/proposals", headers=operator_headers))["items"][-1]
    assert latest["id"] == pid and latest["description"] == "Metadata, once"  # proposed once

    _ok(api.post(f"/v1/governance/proposals/{pid}/approve", headers=operator_headers))
    keyed = {**operator_headers, "Idempotency-Key": "gov-execute-1"}
    executed = _ok(api.post(f"/v1/governance/proposals/{pid}/execute", headers=keyed))
    replayed = api.post(f"/v1/governance/proposals/{pid}/execute", headers=keyed)
    assert replayed.status_code == 200 and replayed.json() == executed
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    listed = _ok(api.get("/v1/governance/proposals", headers=operator_headers))["items"]
    assert [p["state"] for p in listed if p["id"] == pid] == ["executed"]


def test_governance_events_are_in_the_audit_export(
    api: TestClient, parties: dict[str, Party], operator_headers: dict[str, str]
) -> None:
    pid = _propose(api, operator_headers, "Audited change")
    _ok(api.post(f"/v1/governance/proposals/{pid}/approve", headers=operator_headers))
    _ok(api.post(f"/v1/governance/proposals/{pid}/execute", headers=operator_headers))
    pause = {"operations": ["financing"], "reason": "audited pause"}
    _ok(api.post("/v1/governance/pause", json=pause, headers=operator_headers))

    events = _ok(api.get("/v1/regulator/audit", headers=parties["regulator"].headers))["events"]
    seen = {(e["contract"], e["name"]) for e in events}
    for name in ("ProposalCreated", "VoteCast", "ProposalQueued", "ProposalExecuted"):
        assert ("TierchainGovernor", name) in seen, name
    assert {("TierchainTimelock", "CallScheduled"), ("TierchainTimelock", "CallExecuted")} <= seen
    assert ("ParticipantRegistry", "OperationsPaused") in seen
    assert {e["contract"] for e in events if e["name"] == "Upgraded"} >= {"ReceivableToken", "RepaymentDesk"}
    [created] = [e for e in events if e["name"] == "ProposalCreated" and int(e["args"]["proposalId"]) == pid]
    assert created["args"]["description"] == "Audited change"
    csv = api.get("/v1/regulator/audit.csv", headers=parties["regulator"].headers)
    assert csv.status_code == 200 and "ProposalExecuted" in csv.text and "audited pause" in csv.text
