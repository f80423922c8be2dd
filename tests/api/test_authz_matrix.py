"""The authorization matrix: every route of the OpenAPI document, every role, the role's own object
and another participant's object, against a table of who may do what.

Routes are read from the app's OpenAPI, so a new route fails this test until the table says who may
call it. A denied cell must answer 403 or 404 (never 2xx); an allowed cell 2xx or a business-rule
4xx (the contract's refusal, even a 403 the contract decided, or a conflict), never an API 401/403/404
nor a 5xx. Writes use bodies the contract
refuses where they could change the world under the other cells (an oversized value, an expiry in the
past). Every 2xx answered to a participant must not mention the strangers of world B (their
addresses), which none of the participants here has any business with (the oracles excepted: they
attested world B's documents, and see their own attestations).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.config import ApiSettings
from oracles.testing_pki import build_pki, write_trust_store
from tests.api.support import DAY, PARTIES, ApiWorld, Party, onboard

pytestmark = pytest.mark.chain

ROLES = ("core", "tier1", "tier2", "tier3", "bank", "regulator", "oracle1", "outsider", "operator")
EVERYONE = frozenset(ROLES)
OVERSEERS = frozenset({"regulator", "operator"})
HOLDERS = frozenset({"tier1", "tier2", "tier3"})
SUPPLIERS = frozenset({"tier1", "tier2", "tier3", "outsider"})
SEE_A = frozenset({"core", "tier1", "tier2", "tier3", "bank"}) | OVERSEERS
NOBODY: frozenset[str] = frozenset()
HUGE = 2**53 - 1  # schema-valid, more than any token holds: the contract refuses
ZERO_ADDRESS = "0x" + "00" * 20
UNATTESTED = "0x" + "ab" * 32


@dataclass(frozen=True)
class Objects:
    """The objects a cell addresses: a role's own (world A, nearest to it) or another's (world B)."""

    address: str
    token: int
    token2: int
    slot: int
    proposal: int
    offer: int
    document: str
    bank: str
    obligor: str


@dataclass(frozen=True)
class Rule:
    own: frozenset[str]
    other: frozenset[str]
    query: Callable[[Objects, str], dict[str, Any]] | None = None
    body: Callable[[Objects, str], Any] | None = None


def _split(o: Objects, _: str) -> dict[str, Any]:
    return {"pieces": [{"to": o.address, "value": HUGE}]}


def _propose(o: Objects, _: str) -> dict[str, Any]:
    return {
        "obligor": o.obligor,
        "currency": "CNY",
        "face": 100_00,
        "maturity": int(time.time()) + 90 * DAY,
        "min_unit": 100,
        "documents": [UNATTESTED],
    }


# (method, path) → who may call it on its own object / on another's object (+ query and body)
TABLE: dict[tuple[str, str], Rule] = {
    ("GET", "/v1/health"): Rule(EVERYONE, EVERYONE),
    ("GET", "/v1/ready"): Rule(EVERYONE, EVERYONE),
    ("POST", "/v1/participants"): Rule(
        frozenset({"operator"}),
        frozenset({"operator"}),
        body=lambda o, r: {"legal_id": f"USCC-matrix-{r}-{time.time_ns()}", "roles": ["SUPPLIER"]},
    ),
    ("GET", "/v1/participants/me"): Rule(EVERYONE, EVERYONE),
    ("GET", "/v1/participants/{address}"): Rule(OVERSEERS, OVERSEERS),
    ("POST", "/v1/participants/{address}/status"): Rule(
        frozenset({"operator"}), frozenset({"operator"}), body=lambda o, r: {"status": "active"}
    ),
    ("POST", "/v1/participants/{address}/api-keys"): Rule(
        frozenset({"operator"}), frozenset({"operator"}), body=lambda o, r: {"scopes": ["read"]}
    ),
    ("GET", "/v1/participants/{address}/api-keys"): Rule(frozenset({"operator"}), frozenset({"operator"})),
    ("DELETE", "/v1/participants/{address}/api-keys/{key_id}"): Rule(
        frozenset({"operator"}), frozenset({"operator"})
    ),
    ("POST", "/v1/documents"): Rule(
        SUPPLIERS | {"core", "oracle1", "operator"},
        SUPPLIERS | {"core", "oracle1", "operator"},
        body=lambda o, r: {"documents": [{"document": {"kind": "invoice"}, "signature": "x"}]},
    ),
    ("GET", "/v1/documents/{fingerprint}"): Rule(frozenset({"core", "tier1"}) | OVERSEERS, OVERSEERS),
    ("POST", "/v1/obligations/proposals"): Rule(SUPPLIERS, SUPPLIERS, body=_propose),
    ("GET", "/v1/obligations/proposals"): Rule(EVERYONE, EVERYONE),
    ("POST", "/v1/obligations/proposals/{proposal_id}/confirm"): Rule(frozenset({"core"}), NOBODY),
    ("POST", "/v1/obligations/proposals/{proposal_id}/reject"): Rule(
        frozenset({"core"}), NOBODY, body=lambda o, r: {"reason_code": 1}
    ),
    ("GET", "/v1/obligations/proposals/{proposal_id}"): Rule(
        frozenset({"core", "tier1"}) | OVERSEERS, OVERSEERS
    ),
    ("GET", "/v1/obligations"): Rule(EVERYONE, EVERYONE),
    ("GET", "/v1/obligations/{slot}"): Rule(SEE_A, OVERSEERS),
    ("GET", "/v1/tokens"): Rule(EVERYONE, OVERSEERS, query=lambda o, r: {"owner": o.address}),
    ("GET", "/v1/tokens/{token_id}"): Rule(SEE_A, OVERSEERS),
    ("GET", "/v1/tokens/{token_id}/lineage"): Rule(SEE_A, OVERSEERS),
    ("POST", "/v1/tokens/{token_id}/split"): Rule(HOLDERS, NOBODY, body=_split),
    ("POST", "/v1/tokens/{token_id}/merge"): Rule(
        HOLDERS, NOBODY, body=lambda o, r: {"into_token_id": o.token2, "value": HUGE}
    ),
    ("POST", "/v1/tokens/{token_id}/transfer"): Rule(HOLDERS, NOBODY, body=lambda o, r: {"to": ZERO_ADDRESS}),
    ("GET", "/v1/financing/quote"): Rule(
        EVERYONE,
        EVERYONE,
        query=lambda o, r: {"value": 100_00, "rate_bps": 500, "maturity": int(time.time()) + 90 * DAY},
    ),
    ("GET", "/v1/financing/obligations/{slot}/quote"): Rule(
        SEE_A, OVERSEERS, query=lambda o, r: {"value": 100_00, "rate_bps": 500}
    ),
    # a bank may offer on any live token whose id the holder gave it (see api/routes/financing.py)
    ("POST", "/v1/financing/offers"): Rule(
        frozenset({"bank"}),
        frozenset({"bank"}),
        body=lambda o, r: {"token_id": o.token, "value": 100_00, "rate_bps": 500, "expiry": 1},
    ),
    ("GET", "/v1/financing/offers"): Rule(EVERYONE, EVERYONE),
    ("GET", "/v1/financing/offers/{offer_id}"): Rule(frozenset({"bank", "tier3"}) | OVERSEERS, OVERSEERS),
    ("POST", "/v1/financing/offers/{offer_id}/accept"): Rule(frozenset({"tier3"}), NOBODY),
    ("POST", "/v1/financing/offers/{offer_id}/cancel"): Rule(frozenset({"bank"}), NOBODY),
    ("GET", "/v1/financing/book"): Rule(
        frozenset({"bank"}) | OVERSEERS,
        OVERSEERS,
        query=lambda o, r: {"bank": o.bank},
    ),
    ("POST", "/v1/repayment/deposits"): Rule(
        frozenset({"core"}), NOBODY, body=lambda o, r: {"slot": o.slot, "amount": HUGE}
    ),
    ("POST", "/v1/repayment/redemptions"): Rule(HOLDERS, NOBODY, body=lambda o, r: {"token_id": o.token}),
    ("GET", "/v1/repayment/calendar"): Rule(EVERYONE, EVERYONE),
    ("GET", "/v1/repayment/overdue"): Rule(EVERYONE, EVERYONE),
    ("POST", "/v1/repayment/obligations/{slot}/mark-overdue"): Rule(
        HOLDERS | {"core"} | OVERSEERS, OVERSEERS
    ),
    ("POST", "/v1/repayment/obligations/{slot}/declare-default"): Rule(
        HOLDERS | {"core"} | OVERSEERS, OVERSEERS
    ),
    ("POST", "/v1/repayment/obligations/{slot}/sweep-dust"): Rule(HOLDERS | {"core"} | OVERSEERS, OVERSEERS),
    ("GET", "/v1/regulator/search"): Rule(OVERSEERS, OVERSEERS, query=lambda o, r: {"q": o.address}),
    ("GET", "/v1/regulator/obligations/{slot}/graph"): Rule(OVERSEERS, OVERSEERS),
    ("GET", "/v1/regulator/exposures/obligors"): Rule(OVERSEERS, OVERSEERS),
    ("GET", "/v1/regulator/exposures/banks"): Rule(OVERSEERS, OVERSEERS),
    ("GET", "/v1/regulator/exposures/tiers"): Rule(OVERSEERS, OVERSEERS, query=lambda o, r: {"slot": o.slot}),
    ("GET", "/v1/regulator/frozen"): Rule(OVERSEERS, OVERSEERS),
    ("POST", "/v1/regulator/tokens/{token_id}/freeze"): Rule(
        frozenset({"regulator"}), frozenset({"regulator"}), body=lambda o, r: {"reason_code": 1}
    ),
    ("POST", "/v1/regulator/tokens/{token_id}/unfreeze"): Rule(
        frozenset({"regulator"}), frozenset({"regulator"}), body=lambda o, r: {"reason_code": 1}
    ),
    ("GET", "/v1/regulator/audit"): Rule(OVERSEERS, OVERSEERS),
    ("GET", "/v1/regulator/audit.csv"): Rule(OVERSEERS, OVERSEERS),
    ("GET", "/v1/events/stream"): Rule(
        EVERYONE, EVERYONE, query=lambda o, r: {"max_seconds": 0.05, "heartbeat": 1}
    ),
    ("POST", "/v1/tx/prepare"): Rule(
        HOLDERS,
        NOBODY,
        body=lambda o, r: {"operation": "split", "token_id": o.token, "to": ZERO_ADDRESS, "value": HUGE},
    ),
    ("POST", "/v1/tx/submit"): Rule(EVERYONE, EVERYONE, body=lambda o, r: {"raw_tx": "0x02"}),
}
PUBLIC = {("GET", "/v1/health"), ("GET", "/v1/ready")}


@dataclass
class Matrix:
    api: TestClient
    headers: dict[str, dict[str, str]]
    own: dict[str, Objects]
    other: Objects
    strangers: tuple[str, ...]
    issue_key: Callable[[str], str]


@pytest.fixture
def matrix(
    api_world: ApiWorld,
    api_settings: ApiSettings,
    operator_headers: dict[str, str],
    tmp_path: Path,
) -> Iterator[Matrix]:
    pki = build_pki(random.Random(7), datetime.now(UTC))
    trusted = api_settings.model_copy(update={"trust_store_dir": write_trust_store(tmp_path / "trust", pki)})
    api = TestClient(api_world.make_app(trusted))
    parties: dict[str, Party] = {
        name: onboard(
            api, operator_headers, name, roles, custody, api_world.actors[name] if custody == "self" else None
        )
        for name, (roles, custody) in PARTIES.items()
    }
    for name, roles in (("core_b", ["CORE_ENTERPRISE"]), ("supplier_b", ["SUPPLIER"]), ("bank_b", ["BANK"])):
        parties[name] = onboard(api, operator_headers, name, roles, "custodial", None)

    def ok(response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()["result"]

    def obligation(supplier: str, obligor: str) -> tuple[int, int, int]:
        """(slot, root token, pending proposal id) with a second proposal left pending."""
        seller, payer = parties[supplier], parties[obligor]
        ids = []
        for _ in range(2):
            fp = api_world.attest_invoice(1_000_000_00, seller.address, payer.address)
            body = {
                "obligor": payer.address,
                "currency": "CNY",
                "face": 1_000_000_00,
                "maturity": api_world.now + 90 * DAY,
                "min_unit": 100,
                "documents": [fp],
            }
            ids.append(
                ok(api.post("/v1/obligations/proposals", json=body, headers=seller.headers), 201)[
                    "proposal_id"
                ]
            )
        issued = ok(api.post(f"/v1/obligations/proposals/{ids[0]}/confirm", headers=payer.headers))
        return issued["slot"], issued["token_id"], ids[1]

    def split(holder: str, token: int, to: str, value: int) -> int:
        body = {"pieces": [{"to": parties[to].address, "value": value}]}
        return int(
            ok(api.post(f"/v1/tokens/{token}/split", json=body, headers=parties[holder].headers))["token_id"]
        )

    slot_a, root_a, pending_a = obligation("tier1", "core")
    piece2 = split("tier1", root_a, "tier2", 600_000_00)
    piece3 = split("tier2", piece2, "tier3", 300_000_00)
    second = {"tier1": split("tier1", root_a, "tier1", 100_000_00)}
    second["tier2"] = split("tier2", piece2, "tier2", 100_000_00)
    second["tier3"] = split("tier3", piece3, "tier3", 100_000_00)
    slot_b, root_b, pending_b = obligation("supplier_b", "core_b")

    def offer(bank: str, token: int) -> int:
        body = {"token_id": token, "value": 100_00, "rate_bps": 500, "expiry": api_world.now + 30 * DAY}
        return int(
            ok(api.post("/v1/financing/offers", json=body, headers=parties[bank].headers), 201)["offer_id"]
        )

    offer_a, offer_b = offer("bank", piece3), offer("bank_b", root_b)
    api.app.state.ctx.sync()  # type: ignore[attr-defined]
    doc_a = api.get(f"/v1/obligations/{slot_a}", headers=parties["core"].headers).json()["documents"][0]
    doc_b = api.get(f"/v1/obligations/{slot_b}", headers=operator_headers).json()["documents"][0]

    base = Objects(
        address=parties["tier1"].address,
        token=root_a,
        token2=second["tier1"],
        slot=slot_a,
        proposal=pending_a,
        offer=offer_a,
        document=doc_a,
        bank=parties["bank"].address,
        obligor=parties["core"].address,
    )
    tokens = {"tier1": root_a, "tier2": piece2, "tier3": piece3, "bank": piece3}
    own = {
        role: replace(
            base,
            address=parties[role].address if role in parties else base.address,
            token=tokens.get(role, root_a),
            token2=second.get(role, base.token2),
        )
        for role in ROLES
    }
    other = Objects(
        address=parties["supplier_b"].address,
        token=root_b,
        token2=root_a,
        slot=slot_b,
        proposal=pending_b,
        offer=offer_b,
        document=doc_b,
        bank=parties["bank_b"].address,
        obligor=parties["core_b"].address,
    )
    headers = {name: parties[name].headers for name in ROLES if name in parties}
    headers["operator"] = operator_headers

    def issue_key(address: str) -> str:
        issued = api.post(
            f"/v1/participants/{address}/api-keys", json={"scopes": ["read"]}, headers=operator_headers
        )
        assert issued.status_code == 201, issued.text
        return str(issued.json()["key_id"])

    strangers = tuple(parties[n].address for n in ("core_b", "supplier_b", "bank_b"))
    yield Matrix(api, headers, own, other, strangers, issue_key)
    api.app.state.ctx.close()  # type: ignore[attr-defined]


def _routes(api: TestClient) -> list[tuple[str, str]]:
    spec = api.get("/v1/openapi.json").json()
    return [
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        if path.startswith("/v1/")
        for method in operations
    ]


def _fill(path: str, objects: Objects, key_id: Callable[[str], str]) -> str:
    values = {
        "address": objects.address,
        "token_id": objects.token,
        "slot": objects.slot,
        "proposal_id": objects.proposal,
        "offer_id": objects.offer,
        "fingerprint": objects.document,
    }
    if "{key_id}" in path:
        values["key_id"] = key_id(objects.address)
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)


def test_every_route_against_every_role_and_ownership(matrix: Matrix) -> None:
    api = matrix.api
    routes = _routes(api)
    missing = sorted(set(routes) - set(TABLE))
    assert not missing, f"add these routes to the authorization matrix: {missing}"

    cells = unauthorized = 0
    failures: list[str] = []
    for method, template in routes:
        rule = TABLE[(method, template)]
        for role in ROLES:
            for ownership in ("own", "other"):
                objects = matrix.own[role] if ownership == "own" else matrix.other
                allowed = role in (rule.own if ownership == "own" else rule.other)
                path = _fill(template, objects, matrix.issue_key)
                params = rule.query(objects, role) if rule.query else None
                body = rule.body(objects, role) if rule.body else None
                response = api.request(method, path, params=params, json=body, headers=matrix.headers[role])
                cells += 1
                status = response.status_code
                where = f"{method} {path} as {role} ({ownership}) → {status}: {response.text[:200]}"
                if not allowed and 200 <= status < 300:
                    unauthorized += 1
                    failures.append("UNAUTHORIZED SUCCESS " + where)
                elif not allowed and status not in (403, 404):
                    failures.append("expected 403/404 " + where)
                elif allowed and (
                    status in (401, 404)
                    or (status == 403 and "contract_error" not in response.json())
                    or (status >= 500 and template != "/v1/ready")
                ):
                    failures.append("expected allowed " + where)
                if 200 <= status < 300 and role not in OVERSEERS:
                    strangers = matrix.strangers[-1:] if role == "oracle1" else matrix.strangers
                    leaked = [s for s in strangers if s in response.text.lower()]
                    if leaked:
                        unauthorized += 1
                        failures.append(f"LEAK of {leaked} " + where)
    print(f"authorization matrix: {len(routes)} routes x {len(ROLES)} roles x 2 = {cells} cells")
    assert unauthorized == 0 and not failures, "\n".join(failures)


def test_every_route_but_health_needs_credentials(matrix: Matrix) -> None:
    for method, template in _routes(matrix.api):
        if (method, template) in PUBLIC:
            continue
        path = _fill(template, matrix.other, lambda _address: "0123456789abcdef")
        response = matrix.api.request(method, path)
        assert response.status_code == 401, f"{method} {path} → {response.status_code}"
