"""`GET /v1/participants/me` for the operator's key: the operator is the registry admin, not a
participant, even once the indexer has recorded its address (the contract roles it was granted at
deployment), so the answer keeps naming the OPERATOR role the dashboard draws its pages from."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.chain


def test_the_operators_own_entry_names_its_role_after_the_indexer_saw_its_address(
    api: TestClient, parties: dict[str, Any], operator_headers: dict[str, str]
) -> None:
    api.app.state.ctx.sync()  # type: ignore[attr-defined]
    answer = api.get("/v1/participants/me", headers=operator_headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["roles"] == ["OPERATOR"]
    assert body["custodial"] is False and body["legal_id_hash"] is None
