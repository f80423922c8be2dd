"""The aggregator's submitting key is a setting: required off the local network, announced on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.config import Settings, load_network
from ledger.errors import SignerError
from ledger.keys import create_keystore, local_accounts
from oracles.cli import _node_signer, aggregator_signer, app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(project_root=ROOT, data_dir=tmp_path / "data")


def test_aggregator_refuses_to_start_off_the_local_network_without_its_own_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TIERCHAIN_AGGREGATOR_KEYSTORE", raising=False)
    monkeypatch.setenv("TIERCHAIN_PROJECT_ROOT", str(ROOT))
    monkeypatch.setenv("TIERCHAIN_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(
        app, ["aggregator", "run", "--nodes", "http://127.0.0.1:9", "--network", "sepolia"]
    )
    assert result.exit_code == 1, result.output
    assert "TIERCHAIN_AGGREGATOR_KEYSTORE" in result.output.replace("\n", "")


def test_aggregator_on_the_local_network_defaults_to_the_dev_account_and_says_so(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TIERCHAIN_AGGREGATOR_KEYSTORE", raising=False)
    monkeypatch.delenv("TIERCHAIN_PRIVATE_KEY", raising=False)
    network = load_network(settings, "local")
    assert network.anvil is not None
    signer, note = aggregator_signer(network, keystore=None, password_env="UNSET", key_env=None)
    dev = local_accounts(network.anvil.mnemonic, 1)[0]
    assert signer.address == dev.address
    assert "dev account 0" in note and dev.address in note and "TIERCHAIN_AGGREGATOR_KEYSTORE" in note


def test_aggregator_signs_with_the_keystore_its_setting_names(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account, path = create_keystore(tmp_path / "keys", "pw", scrypt_n=2)
    monkeypatch.setenv("TIERCHAIN_AGGREGATOR_KEYSTORE", str(path))
    monkeypatch.setenv("AGG_PW", "pw")
    signer, note = aggregator_signer(
        load_network(settings, "sepolia"), keystore=None, password_env="AGG_PW", key_env=None
    )
    assert signer.address == account.address and str(path) in note


def test_raw_aggregator_key_is_refused_off_the_local_network(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGG_KEY", "0x" + "11" * 32)
    with pytest.raises(SignerError, match="local-only"):
        aggregator_signer(
            load_network(settings, "sepolia"), keystore=None, password_env="X", key_env="AGG_KEY"
        )


def test_an_oracle_node_never_signs_with_the_aggregators_keystore(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each node attests with a key of its own: the aggregator's setting must not leak into a node."""
    _, path = create_keystore(tmp_path / "keys", "pw", scrypt_n=2)
    monkeypatch.setenv("TIERCHAIN_AGGREGATOR_KEYSTORE", str(path))
    monkeypatch.setenv("TIERCHAIN_ORACLE_PASSWORD", "pw")
    network = load_network(settings, "local")
    with pytest.raises(SignerError, match="give the node a key"):
        _node_signer(network, None, None, "TIERCHAIN_ORACLE_PASSWORD")
