"""The embedded chain: anvil on a free loopback port with its state in a temporary folder, the
project's contracts compiled (a cache hit unless `contracts/` changed) and deployed with
`deploy_system`, and one `TierchainClient` whose transaction manager signs for every party.

The deployment manifest is written where `Settings(data_dir=...)` expects it, so anything started
later against the same data dir (the indexer, the API behind `--serve`) finds the system.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.client import TierchainClient
from ledger.compile import compile_contracts
from ledger.config import NetworkConfig, Settings, parse_network
from ledger.deploy import Deployment, deploy_system, manifest_path
from ledger.errors import ConfigError, ErrorDecoder
from ledger.journal import TxJournal
from ledger.keys import Signer
from ledger.localchain import LocalChain
from ledger.rpc import make_web3
from ledger.tx import TransactionManager

ACCOUNTS = 20  # anvil funds this many accounts from the mnemonic; the cast needs 17


@dataclass
class Chain:
    local: LocalChain
    network: NetworkConfig
    settings: Settings
    deployment: Deployment
    client: TierchainClient
    abis: dict[str, list[dict[str, Any]]]
    deploy_txs: int

    @property
    def url(self) -> str:
        """The first RPC URL clients use (a fault proxy on a network that has them)."""
        return self.local.rpc_urls[0]

    @property
    def urls(self) -> list[str]:
        """Every RPC URL of the network, as the client and the indexer use them."""
        return self.local.rpc_urls

    def now(self) -> int:
        return int(self.client.w3.eth.get_block("latest")["timestamp"])

    def warp_to(self, timestamp: int) -> None:
        """Anvil-only: move the clock so the next block is at or after `timestamp`, and mine it.

        Under interval mining (local-consortium) a timed block may be sealed between reading the clock
        and moving it; that block carries the offset too, so the next block is still past `timestamp`."""
        self.local.increase_time(max(0, timestamp - self.now()))
        self.local.mine()


def start_chain(
    project_root: Path, data_dir: Path, *, detach: bool, network_name: str = "local"
) -> tuple[LocalChain, NetworkConfig]:
    """Anvil with the settings of local network `network_name` (chain_config/<name>.toml, which must have
    an [anvil] table), its state and logs under `data_dir`. On a network with fault proxies
    (local-consortium) one proxy per configured RPC URL runs in front of anvil, each on a free port."""
    path = project_root / "chain_config" / f"{network_name}.toml"
    network = parse_network(path, project_root)
    if network.anvil is None:
        raise ConfigError(f"{path}: no [anvil] table: the demo runs on a local network only")
    anvil = network.anvil.model_copy(
        update={"accounts": ACCOUNTS, "state_file": data_dir / network_name / "anvil-state.json"}
    )
    proxies = ["http://127.0.0.1:0"] * len(network.rpc_urls) if anvil.fault_proxies else None
    local = LocalChain(
        anvil, project_root, data_dir, detach=detach, name=network_name, proxy_urls=proxies
    ).start()
    network = network.model_copy(update={"rpc_urls": local.rpc_urls, "anvil": anvil})
    return local, network


def deploy(local: LocalChain, network: NetworkConfig, settings: Settings, admin: Signer) -> Chain:
    """Compile, deploy and wire the system; the client shares the deployer's transaction manager."""
    build = compile_contracts(settings.project_root, settings.build_dir)
    abis = {name: artifact.abi for name, artifact in build.artifacts.items()}
    manager = TransactionManager(
        make_web3(local.rpc_urls),
        network,
        admin,
        TxJournal(settings.data_dir / "journal.sqlite"),
        ErrorDecoder.from_artifacts(abis),
    )
    outcome = deploy_system(
        manager, network, build.artifacts, manifest_path(settings.data_dir, network.name), fresh=True
    )
    client = TierchainClient(manager, outcome.deployment, abis)
    return Chain(local, network, settings, outcome.deployment, client, abis, outcome.transactions)
