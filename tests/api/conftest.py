"""API fixtures: an app factory on the session anvil (chain reverted after each test, a fresh SQLite
database per test) and participants onboarded through HTTP, each with an API key.

Reuse them for new routes: `api` is a `TestClient`, `parties["tier1"].headers` authenticates as
tier 1, `operator_headers` as the operator, `issue_obligation(...)` gets a confirmed obligation,
`api_world.make_app()` builds another app on the same database (a restart).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiSettings
from ledger.client import TierchainClient
from ledger.config import NetworkConfig, Settings
from ledger.deploy import Deployment
from ledger.keys import Signer
from ledger.localchain import LocalChain
from tests.api.support import DAY, OPERATOR_KEY, PARTIES, PASSWORD_ENV, ApiWorld, Party, onboard

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def api_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ApiSettings:
    monkeypatch.setenv(PASSWORD_ENV, "correct horse battery staple")
    return ApiSettings(
        keystore_dir=tmp_path / "keystores",
        keystore_password_env=PASSWORD_ENV,
        keystore_scrypt_n=2**4,  # tests only: production keeps the slow default
        operator_key=OPERATOR_KEY,
        rate_limit_per_minute=100_000,
        auth_failures_per_minute=100_000,  # tests send bad credentials on purpose, many times
        sync_interval_seconds=0,
        onboarding_fund_wei=10**18,
    )


@pytest.fixture
def api_world(
    clean_chain: LocalChain,
    local_network: NetworkConfig,
    tierchain_deployment: Deployment,
    tierchain_abis: dict[str, list[dict[str, Any]]],
    tierchain_client: TierchainClient,
    actors: dict[str, Signer],
    api_settings: ApiSettings,
    tmp_path: Path,
) -> ApiWorld:
    data_dir = tmp_path / "api-data"
    settings = Settings(
        project_root=PROJECT_ROOT,
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'tierchain.sqlite'}",
    )

    def make_app(api: ApiSettings | None = None) -> FastAPI:
        """A new app on the same database, journal and keystores: what a restart gives."""
        return create_app(
            settings,
            api or api_settings,
            network=local_network,
            deployment=tierchain_deployment,
            operator=actors["admin"],
            abis=tierchain_abis,
        )

    return ApiWorld(settings, api_settings, make_app, tierchain_client, clean_chain, actors)


@pytest.fixture
def api(api_world: ApiWorld) -> Iterator[TestClient]:
    client = TestClient(api_world.make_app())
    yield client
    client.app.state.ctx.close()  # type: ignore[attr-defined]


@pytest.fixture
def remote(
    api_world: ApiWorld,
    api_settings: ApiSettings,
    local_network: NetworkConfig,
    tierchain_deployment: Deployment,
    tierchain_abis: dict[str, list[dict[str, Any]]],
) -> Iterator[TestClient]:
    """The API with every setting at its default, over the same chain presented as a network that is
    not local (no [anvil] table): what an operator of a test or production network runs."""
    defaults = api_settings.model_copy(update={"onboarding_fund_wei": None})
    network = local_network.model_copy(update={"anvil": None, "name": "testnet"})
    client = TestClient(
        create_app(
            api_world.settings,
            defaults,
            network=network,
            deployment=tierchain_deployment,
            operator=api_world.actors["admin"],
            abis=tierchain_abis,
        )
    )
    yield client
    client.app.state.ctx.close()  # type: ignore[attr-defined]


@pytest.fixture
def operator_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {OPERATOR_KEY}"}


@pytest.fixture
def parties(api: TestClient, api_world: ApiWorld, operator_headers: dict[str, str]) -> dict[str, Party]:
    """Every party in `PARTIES`, registered on-chain and holding an API key with read and write."""
    return {
        name: onboard(
            api, operator_headers, name, roles, custody, api_world.actors[name] if custody == "self" else None
        )
        for name, (roles, custody) in PARTIES.items()
    }


@pytest.fixture
def issue_obligation(
    api: TestClient, api_world: ApiWorld, parties: dict[str, Party]
) -> Callable[..., dict[str, Any]]:
    """Propose as `supplier` (default tier1) and confirm as core: returns the confirm `result`
    (`slot`, `token_id`, `proposal_id`)."""

    def issue(face: int = 1_000_000_00, supplier: str = "tier1", min_unit: int = 100) -> dict[str, Any]:
        seller, core = parties[supplier], parties["core"]
        fingerprint = api_world.attest_invoice(face, seller.address, core.address)
        proposal = {
            "obligor": api_world.client.w3.to_checksum_address(core.address),
            "currency": "CNY",
            "face": face,
            "maturity": api_world.now + 90 * DAY,
            "min_unit": min_unit,
            "documents": [fingerprint],
        }
        proposed = api.post("/v1/obligations/proposals", json=proposal, headers=seller.headers)
        assert proposed.status_code == 201, proposed.text
        proposal_id = proposed.json()["result"]["proposal_id"]
        confirmed = api.post(f"/v1/obligations/proposals/{proposal_id}/confirm", headers=core.headers)
        assert confirmed.status_code == 200, confirmed.text
        result: dict[str, Any] = confirmed.json()["result"]
        return result

    return issue
