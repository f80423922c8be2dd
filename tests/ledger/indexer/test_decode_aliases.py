"""Overloaded events decode under their own names: the token's ERC-7943 `Frozen` and `ForcedTransfer`."""

from __future__ import annotations

from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from ledger.compile import CompileResult
from ledger.indexer.decode import EventDecoder, RawLog

TOKEN = "0x" + "ab" * 20
ACCOUNT = "0x" + "12" * 20
REGULATOR = "0x" + "34" * 20


def _topic_address(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


def _topic_uint(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _log(signature: str, topics: list[bytes], data: bytes) -> RawLog:
    return RawLog(1, "0x" + "00" * 32, "0x" + "11" * 32, 0, TOKEN, (keccak(text=signature), *topics), data)


def _decoder(abi: list[dict[str, Any]]) -> EventDecoder:
    return EventDecoder({TOKEN: "ReceivableToken"}, {"ReceivableToken": abi})


def test_both_frozen_events_decode_apart(tierchain_build: CompileResult) -> None:
    decoder = _decoder(tierchain_build.artifacts["ReceivableToken"].abi)
    tierchain = decoder.decode(
        _log(
            "Frozen(uint256,address,uint32)",
            [_topic_uint(7), _topic_address(REGULATOR)],
            encode(["uint32"], [3]),
        )
    )
    assert tierchain is not None and tierchain.name == "Frozen"
    assert tierchain.args == {"tokenId": 7, "regulator": REGULATOR, "reasonCode": 3}
    standard = decoder.decode(
        _log(
            "Frozen(address,uint256,uint256)",
            [_topic_address(ACCOUNT), _topic_uint(7)],
            encode(["uint256"], [500]),
        )
    )
    assert standard is not None and standard.name == "ERC7943Frozen"
    assert standard.args == {"account": ACCOUNT, "tokenId": 7, "amount": 500}


def test_both_forced_transfer_events_decode_apart(tierchain_build: CompileResult) -> None:
    decoder = _decoder(tierchain_build.artifacts["ReceivableToken"].abi)
    standard = decoder.decode(
        _log(
            "ForcedTransfer(address,address,uint256,uint256)",
            [_topic_address(ACCOUNT), _topic_address(REGULATOR), _topic_uint(9)],
            encode(["uint256"], [1_000]),
        )
    )
    assert standard is not None and standard.name == "ERC7943ForcedTransfer"
    assert standard.args == {"from": ACCOUNT, "to": REGULATOR, "tokenId": 9, "amount": 1_000}
    tierchain = decoder.decode(
        _log(
            "ForcedTransfer(uint256,uint256,address,uint256,bytes32,address)",
            [_topic_uint(9), _topic_uint(10), _topic_address(ACCOUNT)],
            encode(["uint256", "bytes32", "address"], [1_000, b"\x01" * 32, REGULATOR]),
        )
    )
    assert tierchain is not None and tierchain.name == "ForcedTransfer"
    assert tierchain.args["toTokenId"] == 10 and tierchain.args["enforcer"] == REGULATOR
