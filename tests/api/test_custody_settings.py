"""A custodial write the service cannot sign says which setting is missing, not just "500"."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.support import PASSWORD_ENV

pytestmark = pytest.mark.chain


def test_custodial_onboarding_without_keystore_password_names_the_missing_setting(
    api: TestClient, operator_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV)
    body = {"legal_id": "91310000MA1FL8T123", "roles": ["SUPPLIER"], "custody": "custodial"}

    answer = api.post("/v1/participants", json=body, headers=operator_headers)

    assert answer.status_code == 500
    problem = answer.json()
    assert problem["type"].endswith("/signer-unavailable")
    assert PASSWORD_ENV in problem["detail"] and "not set" in problem["detail"], problem
    assert problem["setting"] == PASSWORD_ENV
