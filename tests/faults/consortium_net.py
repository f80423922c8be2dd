"""The consortium-like local network (chain_config/local-consortium.toml) for the fault tests: anvil on
timed blocks with a fault proxy per RPC URL, each proxy its own process the tests break through its
admin endpoint.

The system is deployed and the parties set up while anvil mines a block per transaction (it takes a
second instead of a minute of 2-second blocks); the chain is then switched to the profile's interval
mining before any test runs, so everything a test measures happens on 2-second blocks, through the
proxies, as on a QBFT network.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_utils.crypto import keccak

from ledger.client import TierchainClient
from ledger.compile import compile_contracts
from ledger.config import NetworkConfig, parse_network
from ledger.deploy import Deployment, deploy_system, manifest_path
from ledger.errors import ErrorDecoder
from ledger.faultproxy import ProxyControl
from ledger.journal import TxJournal
from ledger.keys import Signer, local_accounts
from ledger.localchain import LocalChain
from ledger.rpc import make_web3
from ledger.tx import TransactionManager
from tests.support.policy import MECHANICS_POLICY
from tierchain.bench.soak import consortium_client

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROFILE = PROJECT_ROOT / "chain_config" / "local-consortium.toml"
CASH = 100_000_000_00  # CNY 100 million in fen, per bank

ROLES = {
    "oracle1": ["ORACLE"],
    "oracle2": ["ORACLE"],
    "core": ["CORE_ENTERPRISE"],
    "tier1": ["SUPPLIER"],
    "tier2": ["SUPPLIER"],
    "bank1": ["BANK"],
    "bank2": ["BANK"],
}
ACTORS = ("admin", *ROLES)


def consortium_network() -> NetworkConfig:
    network = parse_network(PROFILE, PROJECT_ROOT)
    assert network.anvil is not None and network.anvil.fault_proxies
    return network


@dataclass
class Consortium:
    """One anvil behind one fault proxy per RPC URL of the profile."""

    chain: LocalChain
    network: NetworkConfig  # the profile, its rpc_urls replaced by the proxies' (free ports)
    controls: list[ProxyControl]

    @property
    def mnemonic(self) -> str:
        assert self.network.anvil is not None
        return self.network.anvil.mnemonic

    @property
    def block_time(self) -> float:
        assert self.network.anvil is not None and self.network.anvil.block_time_seconds is not None
        return self.network.anvil.block_time_seconds

    def clear_faults(self) -> None:
        for control in self.controls:
            control.clear()


def start_consortium(data_dir: Path, *, accounts: int = 10) -> Consortium:
    """The profile's anvil (state under `data_dir`) and a proxy per RPC URL, each on a free port."""
    network = consortium_network()
    assert network.anvil is not None
    anvil = network.anvil.model_copy(
        update={"accounts": accounts, "state_file": data_dir / "consortium" / "anvil-state.json"}
    )
    proxies = ["http://127.0.0.1:0"] * len(network.rpc_urls)
    chain = LocalChain(anvil, PROJECT_ROOT, data_dir, name=network.name, proxy_urls=proxies).start()
    network = network.model_copy(update={"rpc_urls": chain.rpc_urls, "anvil": anvil})
    return Consortium(chain, network, [ProxyControl(p.admin_url) for p in chain.proxies])


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Consortium]:
    net = start_consortium(tmp_path_factory.mktemp("consortium"))
    try:
        yield net
    finally:
        for control in net.controls:
            control.close()
        net.chain.stop()


@dataclass
class System:
    """The whole Tierchain system on the consortium network, its parties registered and banks funded."""

    net: Consortium
    network: NetworkConfig
    deployment: Deployment
    abis: dict[str, list[dict[str, Any]]]
    actors: dict[str, Signer]
    data_dir: Path

    def client(self, journal: Path) -> TierchainClient:
        """A client of its own (transaction manager, nonces, journal) over every RPC URL of the network."""
        return consortium_client(self.network, self.actors["admin"], self.deployment, self.abis, journal)


@pytest.fixture(scope="module")
def system(consortium: Consortium, tmp_path_factory: pytest.TempPathFactory) -> System:
    data_dir = tmp_path_factory.mktemp("consortium-system")
    build = compile_contracts(PROJECT_ROOT, PROJECT_ROOT / "build")
    abis = {name: artifact.abi for name, artifact in build.artifacts.items()}
    deploy = consortium.network.deploy.model_copy(update={"policy": MECHANICS_POLICY})
    network = consortium.network.model_copy(update={"deploy": deploy})
    signers = local_accounts(consortium.mnemonic, len(ACTORS))
    actors = dict(zip(ACTORS, signers, strict=True))
    consortium.chain.set_mining(None)  # set-up on automine; the tests run on timed blocks
    try:
        manager = TransactionManager(
            make_web3(network.rpc_urls),
            network,
            actors["admin"],
            TxJournal(data_dir / "deploy-journal.sqlite"),
            ErrorDecoder.from_artifacts(abis),
        )
        outcome = deploy_system(manager, network, build.artifacts, manifest_path(data_dir, network.name))
        client = TierchainClient(manager, outcome.deployment, abis)
        admin = actors["admin"]
        for i, (name, roles) in enumerate(ROLES.items()):
            client.register_participant(
                admin, actors[name].address, keccak(text=f"USCC-{i:04d}-{name}"), roles
            )
        for bank in ("bank1", "bank2"):
            client.mint(admin, "CNY", actors[bank].address, CASH)
    finally:
        consortium.chain.set_mining(consortium.block_time)
    return System(consortium, network, outcome.deployment, abis, actors, data_dir)
