"""Rate limits: one bucket per participant across its keys and its wallet, and failed
authentication metered per client address before any key lookup or signature recovery."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import security
from tests.api.support import ApiWorld, Party, signed_headers

pytestmark = pytest.mark.chain

PROBLEM = "https://tierchain.dev/problems/"
ME = "/v1/participants/me"


@pytest.fixture
def limited_api(api_world: ApiWorld) -> Iterator[Callable[..., TestClient]]:
    """Make a client of an app with these limits; each app's context is closed after the test."""
    made: list[TestClient] = []

    def make(**limits: int) -> TestClient:
        made.append(TestClient(api_world.make_app(api_world.api_settings.model_copy(update=limits))))
        return made[-1]

    yield make
    for client in made:
        client.app.state.ctx.close()  # type: ignore[attr-defined]


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """Count calls of `api.security.<name>` (the costly step a flood must not reach)."""
    calls: list[int] = []
    real: Callable[..., Any] = getattr(security, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(security, name, counted)
    return calls


def _assert_429(answer: Any, says: str = "") -> None:
    assert answer.status_code == 429, answer.text
    assert int(answer.headers["Retry-After"]) >= 1
    assert answer.json()["type"] == PROBLEM + "rate-limited"
    assert says in answer.json()["detail"], answer.json()["detail"]


def test_two_keys_and_the_wallet_of_one_participant_share_one_bucket(
    limited_api: Callable[..., TestClient], parties: dict[str, Party], operator_headers: dict[str, str]
) -> None:
    limited = limited_api(rate_limit_per_minute=3)
    wallet = parties["outsider"]
    assert wallet.signer is not None
    second = limited.post(
        f"/v1/participants/{wallet.address}/api-keys", json={"scopes": ["read"]}, headers=operator_headers
    ).json()["api_key"]
    signed = signed_headers(wallet.signer, "GET", ME, nonce=41, deadline=int(time.time()) + 60)
    first_key, second_key = wallet.headers, {"Authorization": f"Bearer {second}"}
    for headers in (first_key, second_key, signed):
        assert limited.get(ME, headers=headers).status_code == 200
    _assert_429(limited.get(ME, headers=first_key), says="this participant's limit")
    _assert_429(limited.get(ME, headers=second_key), says="this participant's limit")
    assert limited.get(ME, headers=parties["tier1"].headers).status_code == 200  # others unaffected


def test_flood_of_bad_keys_from_one_address_is_429_before_any_key_lookup(
    limited_api: Callable[..., TestClient], parties: dict[str, Party], monkeypatch: pytest.MonkeyPatch
) -> None:
    limited = limited_api(auth_failures_per_minute=3)
    lookups = _counting(monkeypatch, "check_api_key")
    for guess in range(3):
        answer = limited.get(ME, headers={"Authorization": f"Bearer tc_{guess:016x}_deadbeef"})
        assert answer.status_code == 401
    assert len(lookups) == 3
    _assert_429(limited.get(ME, headers={"Authorization": "Bearer tc_0000000000000009_deadbeef"}))
    # a body changes nothing: refused before it is read, and before the lookup
    _assert_429(limited.post("/v1/tokens/1/transfer", json={"to": "0x" + "11" * 20},
                             headers={"Authorization": "Bearer tc_000000000000000a_deadbeef"}))  # fmt: skip
    # the address is locked out for a while, whatever it sends, and the answer says why
    locked_out = limited.get(ME, headers=parties["tier1"].headers)
    _assert_429(locked_out, says="failed authentications from this address")
    assert len(lookups) == 3
    elsewhere = TestClient(limited.app, client=("203.0.113.9", 50000))
    assert elsewhere.get(ME, headers=parties["tier1"].headers).status_code == 200


def test_flood_of_bad_signatures_is_429_before_any_signature_recovery(
    limited_api: Callable[..., TestClient], parties: dict[str, Party], monkeypatch: pytest.MonkeyPatch
) -> None:
    limited = limited_api(auth_failures_per_minute=2)
    recoveries = _counting(monkeypatch, "verify_signed_request")
    wallet = parties["outsider"]
    assert wallet.signer is not None
    for nonce in (51, 52):
        headers = signed_headers(wallet.signer, "GET", ME, nonce=nonce, deadline=int(time.time()) + 60)
        headers["X-Tierchain-Signature"] = "0x" + "00" * 65
        assert limited.get(ME, headers=headers).status_code == 401
    good = signed_headers(wallet.signer, "GET", ME, nonce=53, deadline=int(time.time()) + 60)
    _assert_429(limited.get(ME, headers=good))
    assert len(recoveries) == 2
