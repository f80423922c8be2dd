"""Network files and settings: the shipped examples load, and bad files name the field at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.config import Eip1559Gas, KeystoreKeys, LegacyGas, Settings, load_network, parse_network
from ledger.errors import ConfigError

LOCAL = """
name = "local"
rpc_urls = ["http://127.0.0.1:8545"]
chain_id = 31337
[gas]
type = "eip1559"
[keys]
source = "env"
[anvil]
chain_id = 31337
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_shipped_networks_load(project_root: Path) -> None:
    settings = Settings(project_root=project_root)
    local = load_network(settings)
    assert local.is_local and local.anvil is not None and local.anvil.block_time_seconds is None
    assert local.anvil.state_file is None  # the chain's state follows the data dir
    besu = load_network(settings, "besu-qbft")
    assert isinstance(besu.gas, LegacyGas) and besu.gas.gas_price_wei == 0 and len(besu.rpc_urls) > 1
    assert isinstance(besu.keys, KeystoreKeys) and besu.keys.dir.is_absolute()
    sepolia = load_network(settings, "sepolia")
    assert isinstance(sepolia.gas, Eip1559Gas) and sepolia.gas.max_fee_per_gas_wei
    assert not sepolia.is_local


def test_settings_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERCHAIN_NETWORK", "sepolia")
    monkeypatch.setenv("TIERCHAIN_PROJECT_ROOT", str(tmp_path))
    monkeypatch.setenv("TIERCHAIN_PRIVATE_KEY", "0x" + "11" * 32)  # not a setting; must be ignored
    settings = Settings()
    assert settings.network == "sepolia"
    assert settings.build_dir == tmp_path / "build" and settings.data_dir == tmp_path / ".tierchain"
    assert settings.database_url == f"sqlite:///{tmp_path / '.tierchain' / 'tierchain.sqlite'}"


def test_local_example_parses(tmp_path: Path) -> None:
    assert parse_network(write(tmp_path, "local", LOCAL)).chain_id == 31337


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (LOCAL.replace('type = "eip1559"', 'type = "cheap"'), "gas"),
        (LOCAL.replace("chain_id = 31337\n[gas]", "chain_id = -1\n[gas]"), "chain_id"),
        (LOCAL.replace('rpc_urls = ["http://127.0.0.1:8545"]', "rpc_urls = []"), "rpc_urls"),
        (LOCAL.replace('"http://127.0.0.1:8545"', '"ws://x"'), "rpc_urls"),
        (LOCAL.replace("[gas]\n", "[gas]\ngas_limit_multiplier = 0.5\n"), "gas.eip1559.gas_limit_multiplier"),
        (LOCAL.replace("[keys]", "colour = 'red'\n[keys]"), "colour"),
        (LOCAL.replace("[anvil]\nchain_id = 31337", ""), "keys.source = 'env'"),
    ],
)
def test_errors_name_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    path = write(tmp_path, "local", text)
    with pytest.raises(ConfigError) as info:
        parse_network(path)
    assert str(path) in str(info.value) and field in str(info.value)


def test_invalid_toml_and_unknown_network(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid TOML"):
        parse_network(write(tmp_path, "bad", "name = "))
    settings = Settings(project_root=tmp_path, chain_config_dir=tmp_path)
    with pytest.raises(ConfigError, match="no such network 'mainnet'; available: bad"):
        load_network(settings, "mainnet")


def test_name_must_match_file(tmp_path: Path) -> None:
    write(tmp_path, "other", LOCAL)
    with pytest.raises(ConfigError, match="name"):
        load_network(Settings(project_root=tmp_path, chain_config_dir=tmp_path), "other")
