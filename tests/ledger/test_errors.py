"""Revert decoding: custom errors by selector, Error(string), Panic, unknown data, subclasses."""

from __future__ import annotations

from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from ledger.errors import (
    ContractRevert,
    ErrorDecoder,
    InvalidOffer,
    InvalidTerms,
    MaturityNotInFuture,
    OfferValueExceedsToken,
    TierchainError,
    TokenFrozen,
    ZeroAddress,
)

ABI: list[dict[str, Any]] = [
    {"type": "error", "name": "TokenFrozen", "inputs": [{"name": "tokenId", "type": "uint256"}]},
    {
        "type": "error",
        "name": "Mismatch",
        "inputs": [
            {"name": "who", "type": "address"},
            {"name": "", "type": "bytes32"},
            {
                "name": "terms",
                "type": "tuple[]",
                "components": [{"name": "due", "type": "uint64"}, {"name": "amount", "type": "uint128"}],
            },
        ],
    },
    {"type": "function", "name": "ignored", "inputs": [], "outputs": []},
]


def revert_data(signature: str, types: list[str], values: list[Any]) -> bytes:
    return keccak(text=signature)[:4] + encode(types, values)


def test_registered_subclass_with_named_args() -> None:
    exc = ErrorDecoder([ABI], ["Token"]).decode(
        "0x" + revert_data("TokenFrozen(uint256)", ["uint256"], [42]).hex()
    )
    assert isinstance(exc, TokenFrozen) and isinstance(exc, TierchainError)
    assert exc.error_name == "TokenFrozen" and exc.args_by_name == {"tokenId": 42}
    assert exc.contract == "Token"
    assert str(exc) == "TokenFrozen(tokenId=42)"


def test_generic_error_with_tuple_array_and_unnamed_arg() -> None:
    who = "0x" + "ab" * 20
    data = revert_data(
        "Mismatch(address,bytes32,(uint64,uint128)[])",
        ["address", "bytes32", "(uint64,uint128)[]"],
        [who, b"\x01" * 32, [(1, 2), (3, 4)]],
    )
    exc = ErrorDecoder([ABI]).decode(data)
    assert type(exc) is ContractRevert and exc.error_name == "Mismatch"
    assert exc.args_by_name["who"].lower() == who and exc.args_by_name["who"] != who
    assert exc.args_by_name["arg1"] == b"\x01" * 32
    assert exc.args_by_name["terms"] == ((1, 2), (3, 4))


def test_error_string_and_panic() -> None:
    decoder = ErrorDecoder()
    reason = decoder.decode(revert_data("Error(string)", ["string"], ["nope"]))
    assert reason.error_name == "Error" and reason.args_by_name == {"reason": "nope"}
    panic = decoder.decode(revert_data("Panic(uint256)", ["uint256"], [0x11]))
    assert panic.error_name == "Panic" and panic.args_by_name == {"code": 0x11}
    assert "overflow" in str(panic)


def test_unknown_selector_and_garbage() -> None:
    exc = ErrorDecoder([ABI]).decode("0xdeadbeef0001")
    assert exc.error_name == "UnknownError" and str(exc) == "UnknownError(data=0xdeadbeef0001)"
    truncated = ErrorDecoder([ABI]).decode(revert_data("TokenFrozen(uint256)", ["uint256"], [1])[:20])
    assert truncated.error_name == "UnknownError"
    assert ErrorDecoder().decode(None).error_name == "UnknownError"


def test_subclass_declared_later_is_used() -> None:
    class Mismatch(ContractRevert):
        error_name = "Mismatch"

    data = revert_data(
        "Mismatch(address,bytes32,(uint64,uint128)[])", ["address", "bytes32", "(uint64,uint128)[]"],
        ["0x" + "22" * 20, b"\x00" * 32, []],
    )  # fmt: skip
    try:
        assert isinstance(ErrorDecoder([ABI]).decode(data), Mismatch)
    finally:
        ContractRevert._registry.pop("Mismatch")


TERMS_ABI: list[dict[str, Any]] = [
    {
        "type": "error",
        "name": "MaturityNotInFuture",
        "inputs": [{"name": "maturity", "type": "uint256"}, {"name": "currentTime", "type": "uint256"}],
    },
    {"type": "error", "name": "ZeroAddress", "inputs": [{"name": "field", "type": "string"}]},
    {
        "type": "error",
        "name": "OfferValueExceedsToken",
        "inputs": [
            {"name": "tokenId", "type": "uint256"},
            {"name": "value", "type": "uint256"},
            {"name": "tokenValue", "type": "uint256"},
        ],
    },
]


def test_refused_terms_and_offers_decode_to_typed_errors_naming_the_field() -> None:
    decoder = ErrorDecoder([TERMS_ABI], ["IssuanceDesk"])
    past = decoder.decode(revert_data("MaturityNotInFuture(uint256,uint256)", ["uint256"] * 2, [5, 9]))
    assert isinstance(past, MaturityNotInFuture) and isinstance(past, InvalidTerms)
    assert past.field == "maturity" and past.args_by_name == {"maturity": 5, "currentTime": 9}
    zero = decoder.decode(revert_data("ZeroAddress(string)", ["string"], ["settlementToken"]))
    assert isinstance(zero, ZeroAddress) and zero.field == "settlement_token"
    over = decoder.decode(
        revert_data("OfferValueExceedsToken(uint256,uint256,uint256)", ["uint256"] * 3, [7, 200, 100])
    )
    assert isinstance(over, OfferValueExceedsToken) and isinstance(over, InvalidOffer)
    assert over.field == "value"


def test_role_table_matches_roles_sol_and_errors_name_roles() -> None:
    import re
    from pathlib import Path

    from ledger.roles import ROLE_NAMES, role_id

    source = (Path(__file__).resolve().parents[2] / "contracts/libraries/Roles.sol").read_text()
    declared = re.findall(r'bytes32 internal constant (\w+) = keccak256\("(\w+)"\)', source)
    assert [name for name, _ in declared] == list(ROLE_NAMES)
    assert all(name == text for name, text in declared)
    refused = ContractRevert("MissingRole", {"account": "0x" + "11" * 20, "role": role_id("BANK")})
    assert "role=BANK" in str(refused) and role_id("BANK").hex() not in str(refused)
