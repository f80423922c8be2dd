"""A custodial onboarding that fails after its registration was sent (the receipt of a later step timed
out) and is retried under the same Idempotency-Key: the retry reuses the key the first attempt created,
so the answer names the account the chain registered, and that account's key is kept. A registration
the chain refuses discards the new key."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.tables import custodial_keys
from ledger.client import ParticipantStatus
from ledger.errors import ReceiptTimeout
from tests.api.support import ApiWorld

pytestmark = pytest.mark.chain


def _key_count(ctx: Any) -> int:
    with ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(custodial_keys)).scalar_one())


def test_a_retried_onboarding_reuses_the_key_whose_registration_was_sent(
    api: TestClient, api_world: ApiWorld, operator_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = api.app.state.ctx  # type: ignore[attr-defined]
    real = ctx.client.set_size_class
    calls = {"n": 0}

    def times_out_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ReceiptTimeout("size class: no receipt within the wait")
        return real(*args, **kwargs)

    monkeypatch.setattr(ctx.client, "set_size_class", times_out_once)
    body = {
        "legal_id": "USCC-retry-0001",
        "roles": ["SUPPLIER"],
        "custody": "custodial",
        "size_class": "small",
    }
    headers = {**operator_headers, "Idempotency-Key": "onboard-retry-0001"}
    before = _key_count(ctx)

    first = api.post("/v1/participants", json=body, headers=headers)
    assert first.status_code >= 500, first.text  # the outcome of the later step is not known
    assert _key_count(ctx) == before + 1  # the key whose registration was sent is kept

    second = api.post("/v1/participants", json=body, headers=headers)
    assert second.status_code == 201, second.text
    address = second.json()["participant"]["address"]
    assert _key_count(ctx) == before + 1  # no second key
    assert ctx.keys.is_custodial(address)
    # the account named is the one the chain registered
    assert ctx.client.participant(address).status == ParticipantStatus.ACTIVE
    assert second.json()["registration"]["tx_hash"]


def test_a_refused_registration_discards_the_new_key(
    api: TestClient, api_world: ApiWorld, operator_headers: dict[str, str]
) -> None:
    ctx = api.app.state.ctx  # type: ignore[attr-defined]
    body = {"legal_id": "USCC-refused-0001", "roles": ["SUPPLIER"], "custody": "custodial"}
    assert api.post("/v1/participants", json=body, headers=operator_headers).status_code == 201
    before = _key_count(ctx)
    again = api.post("/v1/participants", json=body, headers=operator_headers)  # the same legal id
    assert again.status_code == 409, again.text
    assert "LegalIdAlreadyRegistered" in again.text
    assert _key_count(ctx) == before
