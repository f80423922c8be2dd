"""Shared fixtures: one anvil per test session, snapshot/revert around tests that change state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.client import TierchainClient
from ledger.compile import CompileResult, compile_contracts
from ledger.config import AnvilConfig, NetworkConfig, Settings, parse_network
from ledger.deploy import Deployment, deploy_system, manifest_path
from ledger.errors import ErrorDecoder
from ledger.journal import TxJournal
from ledger.keys import Signer, local_accounts
from ledger.localchain import LocalChain
from ledger.rpc import make_web3
from ledger.tx import TransactionManager
from tests.support.policy import MECHANICS_POLICY

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIXTURE_CONTRACTS = PROJECT_ROOT / "tests" / "fixtures" / "contracts"
TEST_MNEMONIC = "test test test test test test test test test test test junk"


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tierchain")


@pytest.fixture(scope="session")
def settings(session_dir: Path) -> Settings:
    return Settings(project_root=PROJECT_ROOT, data_dir=session_dir / "data", build_dir=session_dir / "build")


@pytest.fixture(scope="session")
def anvil(session_dir: Path) -> Iterator[LocalChain]:
    config = AnvilConfig(mnemonic=TEST_MNEMONIC, state_file=session_dir / "anvil-state.json")
    with LocalChain(config, PROJECT_ROOT, session_dir / "data") as chain:
        yield chain


@pytest.fixture(scope="session")
def local_network(anvil: LocalChain) -> NetworkConfig:
    network = parse_network(PROJECT_ROOT / "chain_config" / "local.toml", PROJECT_ROOT)
    # The mechanics suites move pieces between suppliers freely (tests/support/policy.py).
    deploy = network.deploy.model_copy(update={"policy": MECHANICS_POLICY})
    return network.model_copy(
        update={"rpc_urls": [anvil.url], "receipt_timeout_seconds": 20.0, "deploy": deploy}
    )


@pytest.fixture(scope="session")
def accounts() -> list[Signer]:
    return local_accounts(TEST_MNEMONIC, 4)


@pytest.fixture(scope="session")
def fixture_build(settings: Settings) -> CompileResult:
    return compile_contracts(PROJECT_ROOT, settings.build_dir, FIXTURE_CONTRACTS)


@pytest.fixture(scope="session")
def decoder(fixture_build: CompileResult) -> ErrorDecoder:
    return ErrorDecoder.from_artifacts({n: a.abi for n, a in fixture_build.artifacts.items()})


@pytest.fixture
def clean_chain(anvil: LocalChain) -> Iterator[LocalChain]:
    """Undo whatever the test did to the chain, so tests stay independent."""
    snapshot = anvil.snapshot()
    yield anvil
    assert anvil.revert(snapshot)


# --- Tierchain system: the real contracts deployed once per session --------------------------------

TIERCHAIN_ACTORS = (
    "admin",
    "oracle1",
    "oracle2",
    "oracle3",
    "core",
    "tier1",
    "tier2",
    "tier3",
    "bank",
    "regulator",
    "court",
    "outsider",
)


@pytest.fixture(scope="session")
def tierchain_build() -> CompileResult:
    """The project's contracts, compiled into build/ (a cache hit unless contracts/ changed)."""
    return compile_contracts(PROJECT_ROOT, PROJECT_ROOT / "build")


@pytest.fixture(scope="session")
def tierchain_abis(tierchain_build: CompileResult) -> dict[str, list[dict[str, Any]]]:
    return {n: a.abi for n, a in tierchain_build.artifacts.items()}


@pytest.fixture(scope="session")
def actors(anvil: LocalChain) -> dict[str, Signer]:
    """Named parties; accounts past anvil's ten are funded here, before any test snapshot."""
    signers = local_accounts(TEST_MNEMONIC, len(TIERCHAIN_ACTORS))
    for signer in signers[10:]:
        anvil.rpc("anvil_setBalance", [signer.address, hex(10**22)])
    return dict(zip(TIERCHAIN_ACTORS, signers, strict=True))


@pytest.fixture(scope="session")
def tierchain_deployment(
    anvil: LocalChain,
    local_network: NetworkConfig,
    tierchain_build: CompileResult,
    actors: dict[str, Signer],
    session_dir: Path,
) -> Deployment:
    """The whole system deployed and wired on the session anvil (manifest under the session dir)."""
    data_dir = session_dir / "tierchain-deploy"
    decoder = ErrorDecoder.from_artifacts({n: a.abi for n, a in tierchain_build.artifacts.items()})
    manager = TransactionManager(
        make_web3(anvil.url), local_network, actors["admin"], TxJournal(data_dir / "journal.sqlite"), decoder
    )
    outcome = deploy_system(
        manager, local_network, tierchain_build.artifacts, manifest_path(data_dir, local_network.name)
    )
    return outcome.deployment


@pytest.fixture
def tierchain_client(
    clean_chain: LocalChain,
    local_network: NetworkConfig,
    tierchain_deployment: Deployment,
    tierchain_abis: dict[str, list[dict[str, Any]]],
    actors: dict[str, Signer],
    tmp_path: Path,
) -> TierchainClient:
    """A client with a fresh transaction manager (nonces and journal) on a chain reverted after the test."""
    manager = TransactionManager(
        make_web3(clean_chain.url),
        local_network,
        actors["admin"],
        TxJournal(tmp_path / "client-journal.sqlite"),
        ErrorDecoder.from_artifacts(tierchain_abis),
    )
    return TierchainClient(manager, tierchain_deployment, tierchain_abis)
