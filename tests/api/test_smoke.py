from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.support import Party

pytestmark = pytest.mark.chain


def test_onboarded_party_sees_itself(api: TestClient, parties: dict[str, Party]) -> None:
    me = api.get("/v1/participants/me", headers=parties["tier1"].headers)
    assert me.status_code == 200, me.text
    assert me.json()["roles"] == ["SUPPLIER"] and me.json()["custodial"] is True
