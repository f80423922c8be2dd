"""``ledger.fastsign``: the bulk path's signer gives eth-account's exact bytes, and declines what it
does not know how to sign."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account

from ledger.fastsign import FastSigner

KEY = "0x" + "5a" * 32
CALL: dict[str, Any] = {
    "to": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    "data": "0xa9059cbb" + "00" * 64,
    "value": 0,
    "gas": 127_128,
    "chainId": 31337,
    "maxFeePerGas": 2_000_000_007,
    "maxPriorityFeePerGas": 1_000_000_000,
}


@pytest.mark.parametrize("nonce", [0, 1, 127, 128, 2**20])
@pytest.mark.parametrize("value", [0, 10**18])
def test_fast_signature_is_byte_identical_to_eth_account(nonce: int, value: int) -> None:
    account = Account.from_key(KEY)
    fields = {**CALL, "nonce": nonce, "value": value}
    fast = FastSigner().sign(fields, account)
    reference = account.sign_transaction(fields)
    assert fast is not None
    assert bytes(fast.raw_transaction) == bytes(reference.raw_transaction)
    assert bytes(fast.hash) == bytes(reference.hash)
    assert (fast.r, fast.s, fast.v) == (reference.r, reference.s, reference.v)


def test_a_second_signer_gets_its_own_key() -> None:
    signer, other = FastSigner(), Account.from_key("0x" + "6b" * 32)
    fields = {**CALL, "nonce": 3}
    signer.sign(fields, Account.from_key(KEY))
    fast = signer.sign(fields, other)
    assert fast is not None and bytes(fast.raw_transaction) == bytes(
        other.sign_transaction(fields).raw_transaction
    )


@pytest.mark.parametrize(
    "change",
    [
        {"gasPrice": 1},  # legacy gas
        {"type": 2},  # fields beyond the plain call
        {"accessList": []},
        {"to": None},
        {"to": "0x5fbdb2315678afecb367f032d93F642f64180aa3"},  # a broken checksum
        {"to": "0x5fbdb2315678afecb367f032d93f642f64180aa3"},  # none (eth-account refuses both)
        {"data": "0xzz"},
        {"gas": 1.5},
        {"value": -1},
        {"nonce": True},
    ],
)
def test_anything_but_a_plain_eip1559_call_is_left_to_eth_account(change: dict[str, Any]) -> None:
    assert FastSigner().sign({**CALL, "nonce": 0, **change}, Account.from_key(KEY)) is None
