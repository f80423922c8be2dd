"""The CLI against the session anvil and deployment: a data dir that points at them, the way
`tierchain chain up` + `tierchain deploy` would leave one, and a populated world to act in."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger.client import TierchainClient
from ledger.deploy import Deployment, manifest_path
from ledger.keys import Signer
from ledger.localchain import LocalChain

LEDGER_TESTS = Path(__file__).resolve().parents[1] / "ledger"
if str(LEDGER_TESTS) not in sys.path:  # client_world: the populated world the client tests use
    sys.path.insert(0, str(LEDGER_TESTS))

from cli_support import CliEnv  # noqa: E402
from client_world import build_world  # noqa: E402


@pytest.fixture
def cli_env(
    tmp_path: Path,
    project_root: Path,
    anvil: LocalChain,
    tierchain_deployment: Deployment,
    tierchain_client: TierchainClient,
    clean_chain: LocalChain,
    actors: dict[str, Signer],
    session_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> CliEnv:
    """Settings (by environment) pointing at the session chain, its manifest and a fresh index DB."""
    data_dir = tmp_path / "data"
    (data_dir / "local").mkdir(parents=True)
    shutil.copy(anvil.run_file, data_dir / "local" / "anvil.json")
    manifest = manifest_path(data_dir, "local")
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(tierchain_deployment.model_dump_json(indent=2))
    config_dir = tmp_path / "chain_config"
    config_dir.mkdir()
    local = (project_root / "chain_config" / "local.toml").read_text()
    (config_dir / "local.toml").write_text(local.replace('"http://127.0.0.1:8545"', f'"{anvil.url}"'))
    env: dict[str, Any] = {
        "TIERCHAIN_PROJECT_ROOT": project_root,
        "TIERCHAIN_CHAIN_CONFIG_DIR": config_dir,
        "TIERCHAIN_DATA_DIR": data_dir,
        "TIERCHAIN_BUILD_DIR": project_root / "build",
        "TIERCHAIN_DATABASE_URL": f"sqlite:///{tmp_path / 'index.sqlite'}",
        "TIERCHAIN_NETWORK": "local",
        "TIERCHAIN_LOG_LEVEL": "WARNING",
        "TIERCHAIN_NO_PROGRESS": "1",
    }
    for name, signer in actors.items():
        env[f"TC_TEST_KEY_{name.upper()}"] = "0x" + bytes(signer.key).hex()
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    return CliEnv(data_dir, build_world(tierchain_client, clean_chain, actors))
