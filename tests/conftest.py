"""Shared fixtures: one anvil per test session, snapshot/revert around tests that change state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.compile import CompileResult, compile_contracts
from ledger.config import AnvilConfig, NetworkConfig, Settings, parse_network
from ledger.errors import ErrorDecoder
from ledger.keys import Signer, local_accounts
from ledger.localchain import LocalChain

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
    return network.model_copy(update={"rpc_urls": [anvil.url], "receipt_timeout_seconds": 20.0})


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
