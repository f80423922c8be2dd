"""Signing keys: encrypted Web3 Secret Storage keystores, and raw env keys for local chains only.

Keystore files use scrypt, live one per account in a directory with the address in the file name,
and are readable only by their owner (0600). A raw private key in an environment variable is
convenient on anvil and dangerous anywhere else, so `signer_from_env` refuses non-local networks.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from ledger.config import EnvKeys, KeystoreKeys, NetworkConfig
from ledger.errors import SignerError

log = logging.getLogger(__name__)

Signer = LocalAccount

# scrypt parameters of geth's "standard" profile: slow enough to resist guessing at rest.
SCRYPT_N = 2**18


def signing_backend() -> str:
    """Name of the secp256k1 backend eth-keys uses (coincurve when installed; pure Python otherwise)."""
    from eth_keys.backends import get_backend

    return type(get_backend()).__name__


def _file_name(address: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%S.%fZ")
    return f"UTC--{stamp}--{address[2:].lower()}.json"


def create_keystore(
    directory: Path, password: str, private_key: str | bytes | None = None, *, scrypt_n: int = SCRYPT_N
) -> tuple[Signer, Path]:
    """Encrypt a new (or the given) key into `directory`; returns the signer and its file."""
    account: LocalAccount = Account.from_key(private_key) if private_key is not None else Account.create()
    if find_keystore(directory, account.address) is not None:
        raise SignerError(f"{directory}: a keystore for {account.address} already exists")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    keystore = Account.encrypt(account.key, password, kdf="scrypt", iterations=scrypt_n)
    path = directory / _file_name(account.address)
    # Create with 0600 from the start, so the secret is never world-readable even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(keystore, out)
    log.info("keystore created address=%s file=%s", account.address, path.name)
    return account, path


def list_keystores(directory: Path) -> dict[str, Path]:
    """Checksummed address to keystore file, for every keystore in `directory`."""
    found: dict[str, Path] = {}
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob("*.json")):
        try:
            address = json.loads(path.read_text()).get("address")
        except (OSError, json.JSONDecodeError):
            log.warning("keystore unreadable file=%s", path)
            continue
        if isinstance(address, str):
            found[to_checksum_address("0x" + address.removeprefix("0x"))] = path
    return found


def find_keystore(directory: Path, address: str) -> Path | None:
    return list_keystores(directory).get(to_checksum_address(address))


def load_keystore(path: Path, password: str) -> Signer:
    """Decrypt one keystore file; a wrong password raises `SignerError`, not a bare ValueError."""
    try:
        keystore = json.loads(path.read_text())
        key = Account.decrypt(keystore, password)
    except FileNotFoundError as exc:
        raise SignerError(f"{path}: keystore not found") from exc
    except (ValueError, KeyError) as exc:
        raise SignerError(f"{path}: cannot decrypt keystore: {exc}") from exc
    account: LocalAccount = Account.from_key(key)
    return account


def keystore_password(env_var: str, what: str = "keystore password") -> str:
    """The password in `env_var`; unset, a `SignerError` naming the variable and `what` it should hold."""
    password = os.environ.get(env_var)
    if password is None:
        raise SignerError(f"environment variable {env_var} ({what}) is not set")
    return password


def signer_from_env(network: NetworkConfig, env_var: str | None = None) -> Signer:
    """A signer from a raw hex key in the environment; only for local (anvil) networks."""
    if not network.is_local:
        raise SignerError(f"network {network.name!r}: raw private keys from the environment are local-only")
    var = env_var or (network.keys.env_var if isinstance(network.keys, EnvKeys) else "TIERCHAIN_PRIVATE_KEY")
    raw = os.environ.get(var)
    if not raw:
        raise SignerError(f"environment variable {var} is not set")
    try:
        account: LocalAccount = Account.from_key(raw)
    except ValueError as exc:
        raise SignerError(f"environment variable {var} does not hold a valid private key") from exc
    return account


def load_signer(network: NetworkConfig, address: str | None = None) -> Signer:
    """The signer the network's `keys` table describes (first keystore when no address is given)."""
    keys = network.keys
    if isinstance(keys, EnvKeys):
        return signer_from_env(network, keys.env_var)
    assert isinstance(keys, KeystoreKeys)
    password = keystore_password(keys.password_env)
    stores = list_keystores(keys.dir)
    if not stores:
        raise SignerError(f"{keys.dir}: no keystore files")
    path = stores.get(to_checksum_address(address)) if address else next(iter(stores.values()))
    if path is None:
        raise SignerError(f"{keys.dir}: no keystore for {address}")
    return load_keystore(path, password)


def local_accounts(mnemonic: str, count: int) -> list[Signer]:
    """The accounts anvil funds from its mnemonic (BIP-44 path m/44'/60'/0'/0/i)."""
    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)]
