"""The API talks to every RPC URL of its network: with the first node unreachable, writes, chain reads
and the indexer go to the next one (the transaction manager and the indexer's source fail over)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.config import NetworkConfig
from ledger.deploy import Deployment
from ledger.rpc import provider_urls
from tests.api.support import ApiWorld, onboard

pytestmark = pytest.mark.chain


def _dead_url() -> str:
    """A local port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def failover_api(
    api_world: ApiWorld,
    local_network: NetworkConfig,
    tierchain_deployment: Deployment,
    tierchain_abis: dict[str, list[dict[str, Any]]],
) -> Iterator[TestClient]:
    network = local_network.model_copy(update={"rpc_urls": [_dead_url(), *local_network.rpc_urls]})
    client = TestClient(
        create_app(
            api_world.settings,
            api_world.api_settings,
            network=network,
            deployment=tierchain_deployment,
            operator=api_world.actors["admin"],
            abis=tierchain_abis,
        )
    )
    yield client
    client.app.state.ctx.close()  # type: ignore[attr-defined]


def test_the_api_uses_the_second_url_when_the_first_is_dead(
    failover_api: TestClient, operator_headers: dict[str, str], local_network: NetworkConfig
) -> None:
    ctx = failover_api.app.state.ctx  # type: ignore[attr-defined]
    assert len(ctx.network.rpc_urls) == 2  # both kept, not just the first

    # a custodial participant onboarded: a registration and a funding transaction through the live
    # node; the participant then reads itself from the index
    party = onboard(failover_api, operator_headers, "backup-node", ["SUPPLIER"], "custodial", None)
    me = failover_api.get("/v1/participants/me", headers=party.headers)
    assert me.status_code == 200, me.text
    assert me.json()["address"].lower() == party.address.lower()
    ready = failover_api.get("/v1/ready")  # the indexer, over the same two URLs, caught up
    assert ready.status_code == 200, ready.text

    # the transaction manager's web3 now prefers the live URL
    assert provider_urls(ctx.client.w3)[0] == local_network.rpc_urls[0]
