"""EIP-1559 transactions signed straight on libsecp256k1 (coincurve), for the transaction manager.

eth-account validates and normalizes every field of every transaction it signs, and builds a new
libsecp256k1 key per signature; for a batch of thousands of attestations that costs more than the
signature itself. ``FastSigner`` produces exactly eth-account's bytes (same RLP, same RFC 6979
nonce, low ``s``; ``tests/ledger/test_fastsign.py`` compares the two) for the one shape the
transaction manager sends in bulk: a type-2 call with ``to``, ``data``, ``value``, ``gas``,
``chainId``, ``nonce`` and both fee caps. Anything else (legacy gas, access lists, contract
creation, a field of an unexpected type) answers None and is signed by eth-account as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import coincurve
import rlp  # type: ignore[import-untyped]
from eth_account.datastructures import SignedTransaction
from eth_utils.address import is_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes

from ledger.keys import Signer

_EIP1559_CALL = frozenset(
    {"to", "data", "value", "gas", "chainId", "nonce", "maxFeePerGas", "maxPriorityFeePerGas"}
)
_INTS = ("value", "gas", "chainId", "nonce", "maxFeePerGas", "maxPriorityFeePerGas")


def _uint(value: Any) -> bool:
    return type(value) is int and value >= 0


def _data(value: Any) -> bytes | None:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str) and value.startswith("0x") and len(value) % 2 == 0:
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return None
    return None


class FastSigner:
    """Signs the common transaction shape on a libsecp256k1 key kept per signer address."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[bytes, coincurve.PrivateKey]] = {}

    def _key(self, signer: Signer) -> coincurve.PrivateKey:
        secret = bytes(signer.key)
        known = self._keys.get(signer.address)
        if known is None or known[0] != secret:
            known = (secret, coincurve.PrivateKey(secret))
            self._keys[signer.address] = known
        return known[1]

    def sign(self, fields: Mapping[str, Any], signer: Signer) -> SignedTransaction | None:
        """The signed transaction, or None when ``fields`` are not a plain EIP-1559 call."""
        if set(fields) != _EIP1559_CALL or not all(_uint(fields[name]) for name in _INTS):
            return None
        to, data = fields["to"], _data(fields["data"])
        if not isinstance(to, str) or not is_checksum_address(to) or data is None:  # as eth-account asks
            return None
        payload = [
            fields["chainId"],
            fields["nonce"],
            fields["maxPriorityFeePerGas"],
            fields["maxFeePerGas"],
            fields["gas"],
            bytes.fromhex(to[2:]),
            fields["value"],
            data,
            [],
        ]
        signature = self._key(signer).sign_recoverable(keccak(b"\x02" + rlp.encode(payload)), hasher=None)
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:64], "big")
        v = signature[64]
        raw = b"\x02" + rlp.encode([*payload, v, r, s])
        return SignedTransaction(raw_transaction=HexBytes(raw), hash=HexBytes(keccak(raw)), r=r, s=s, v=v)
