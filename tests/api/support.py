"""Helpers for the API tests (imported by `conftest.py` and by test modules)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from eth_utils.crypto import keccak
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.config import ApiSettings
from api.security import sign_request
from ledger.client import Attestation, DocumentKind, TierchainClient
from ledger.config import Settings
from ledger.keys import Signer
from ledger.localchain import LocalChain

OPERATOR_KEY = "tc_operator_test-secret"
PASSWORD_ENV = "TIERCHAIN_API_TEST_KEYSTORE_PASSWORD"
DAY = 86_400

# name → (roles, custody); self-custody parties use the conftest actor of the same name.
PARTIES: dict[str, tuple[list[str], str]] = {
    "core": (["CORE_ENTERPRISE"], "custodial"),
    "tier1": (["SUPPLIER"], "custodial"),
    "tier2": (["SUPPLIER"], "custodial"),
    "tier3": (["SUPPLIER"], "custodial"),
    "bank": (["BANK"], "custodial"),
    "regulator": (["REGULATOR"], "self"),
    "oracle1": (["ORACLE"], "self"),
    "oracle2": (["ORACLE"], "self"),
    "outsider": (["SUPPLIER"], "self"),  # a self-custody supplier with a wallet the tests hold
}


@dataclass
class Party:
    name: str
    address: str  # lower case, as the API answers
    api_key: str
    key_id: str
    signer: Signer | None = None  # only for self-custody parties

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@dataclass
class ApiWorld:
    """What a test needs besides the HTTP client: the chain client, actors, a way to restart."""

    settings: Settings
    api_settings: ApiSettings
    make_app: Callable[..., FastAPI]
    client: TierchainClient
    chain: LocalChain
    actors: dict[str, Signer]
    _nonces: count[int] = field(default_factory=lambda: count(1))

    @property
    def now(self) -> int:
        return int(self.client.w3.eth.get_block("latest")["timestamp"])

    def attest_invoice(self, amount: int, seller: str, buyer: str) -> str:
        """Attest an invoice seller → buyer with two oracles; returns its fingerprint (0x hex)."""
        nonce = next(self._nonces)
        attestation = Attestation(
            fingerprint=keccak(text=f"api-invoice-{nonce}-{time.time_ns()}"),
            kind=DocumentKind.INVOICE,
            seller=self.client.w3.to_checksum_address(seller),
            buyer=self.client.w3.to_checksum_address(buyer),
            amount=amount,
            currency="CNY",
            issue_date=self.now - DAY,
            due_date=self.now + 90 * DAY,
            nonce=nonce,
            deadline=self.now + DAY,
        )
        oracles = [self.actors["oracle1"], self.actors["oracle2"]]
        self.client.sign_and_attest(self.actors["oracle1"], attestation, oracles)
        return "0x" + attestation.fingerprint.hex()


def onboard(
    api: TestClient,
    operator_headers: dict[str, str],
    name: str,
    roles: list[str],
    custody: str,
    signer: Signer | None,
) -> Party:
    body: dict[str, Any] = {"legal_id": f"USCC-{name}-{time.time_ns()}", "roles": roles, "custody": custody}
    if custody == "self":
        assert signer is not None
        body["address"] = signer.address
    response = api.post("/v1/participants", json=body, headers=operator_headers)
    assert response.status_code == 201, response.text
    answer = response.json()
    return Party(
        name=name,
        address=answer["participant"]["address"],
        api_key=answer["api_key"],
        key_id=answer["key_id"],
        signer=signer if custody == "self" else None,
    )


def signed_headers(
    signer: Signer,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    nonce: int,
    deadline: int,
    chain_id: int = 31337,
) -> dict[str, str]:
    return sign_request(
        signer, method=method, path=path, body=body, nonce=nonce, deadline=deadline, chain_id=chain_id
    )
