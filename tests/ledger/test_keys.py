"""Keys: keystore round trip with owner-only files, and raw env keys refused off local chains."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from eth_account import Account

from ledger.config import NetworkConfig, Settings, load_network
from ledger.errors import SignerError
from ledger.keys import (
    create_keystore,
    list_keystores,
    load_keystore,
    load_signer,
    signer_from_env,
    signing_backend,
)

FAST_SCRYPT = 2**12  # production uses 2**18; tests only need the format, not the cost


@pytest.fixture
def networks(project_root: Path) -> dict[str, NetworkConfig]:
    settings = Settings(project_root=project_root)
    return {n: load_network(settings, n) for n in ("local", "besu-qbft", "sepolia")}


def test_keystore_round_trip(tmp_path: Path) -> None:
    account, path = create_keystore(tmp_path / "ks", "correct horse", scrypt_n=FAST_SCRYPT)
    assert account.address[2:].lower() in path.name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list_keystores(tmp_path / "ks") == {account.address: path}
    loaded = load_keystore(path, "correct horse")
    assert loaded.address == account.address and loaded.key == account.key
    with pytest.raises(SignerError, match="cannot decrypt"):
        load_keystore(path, "wrong")


def test_keystore_refuses_duplicate_and_uses_scrypt(tmp_path: Path) -> None:
    key = "0x" + "42" * 32
    _, path = create_keystore(tmp_path, "pw", key, scrypt_n=FAST_SCRYPT)
    assert '"kdf": "scrypt"' in path.read_text()
    with pytest.raises(SignerError, match="already exists"):
        create_keystore(tmp_path, "pw", key, scrypt_n=FAST_SCRYPT)


def test_load_signer_from_keystore_network(
    tmp_path: Path, networks: dict[str, NetworkConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    besu = networks["besu-qbft"]
    keys = besu.keys.model_copy(update={"dir": tmp_path})
    besu = besu.model_copy(update={"keys": keys})
    account, _ = create_keystore(tmp_path, "pw", scrypt_n=FAST_SCRYPT)
    with pytest.raises(SignerError, match="TIERCHAIN_KEYSTORE_PASSWORD"):
        load_signer(besu)
    monkeypatch.setenv("TIERCHAIN_KEYSTORE_PASSWORD", "pw")
    assert load_signer(besu).address == account.address


def test_env_key_local_only(networks: dict[str, NetworkConfig], monkeypatch: pytest.MonkeyPatch) -> None:
    key = Account.create()
    monkeypatch.setenv("TIERCHAIN_PRIVATE_KEY", key.key.hex())
    assert signer_from_env(networks["local"]).address == key.address
    for name in ("besu-qbft", "sepolia"):
        with pytest.raises(SignerError, match="local-only"):
            signer_from_env(networks[name], "TIERCHAIN_PRIVATE_KEY")


def test_env_key_missing_or_invalid(
    networks: dict[str, NetworkConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TIERCHAIN_PRIVATE_KEY", raising=False)
    with pytest.raises(SignerError, match="not set"):
        signer_from_env(networks["local"])
    monkeypatch.setenv("TIERCHAIN_PRIVATE_KEY", "0x1234")
    with pytest.raises(SignerError, match="valid private key"):
        signer_from_env(networks["local"])


def test_coincurve_backend_is_used() -> None:
    assert signing_backend() == "CoinCurveECCBackend"
