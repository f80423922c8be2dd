"""Request and response models shared by the routes. Requests forbid unknown fields; money is `int`
minor units; addresses are 0x hex (answers use the indexer's lower case)."""

from __future__ import annotations

import dataclasses
from enum import IntEnum
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from ledger.client import TxResult

Address = Annotated[
    str, Field(pattern=r"^0x[0-9a-fA-F]{40}$", examples=["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"])
]
Bytes32 = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$")]
# Ids and amounts are JSON-safe integers (at most 2^53 - 1, JavaScript's MAX_SAFE_INTEGER): every client
# reads them exactly, and they fit a SQL BIGINT. 2^53 - 1 minor units is 90 trillion in a currency with
# cents, beyond any receivable; the contracts would take more, the API does not offer it.
MAX_SAFE_INTEGER = 2**53 - 1
MAX_ID = MAX_SAFE_INTEGER
MAX_AMOUNT = MAX_SAFE_INTEGER
Uint = Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
IdPath = Annotated[int, Path(ge=0, le=MAX_ID, description="a token id, slot, proposal or offer id")]


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are refused (422 naming the field)."""

    model_config = ConfigDict(extra="forbid")


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, IntEnum):
        return value.name.lower()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


class WriteResult(BaseModel):
    """Every write answers once its transaction is mined: the hash, the block, and what it did."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tx_hash": "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060",
                    "status": "mined",
                    "block_number": 42,
                    "gas_used": 98123,
                    "result": {"from_token_id": 1, "token_id": 2, "to": "0x…", "value": 40000000},
                }
            ]
        }
    )

    tx_hash: str
    status: Literal["mined"] = "mined"
    block_number: int
    gas_used: int
    result: dict[str, Any]

    @classmethod
    def of(cls, outcome: TxResult, **extra: Any) -> WriteResult:
        fields = {f.name: _plain(getattr(outcome, f.name)) for f in dataclasses.fields(outcome)}
        meta = {k: fields.pop(k) for k in ("tx_hash", "block_number", "gas_used")}
        return cls(**meta, result={**fields, **extra})


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is answered (`application/problem+json`)."""

    type: str = Field(examples=["https://tierchain.dev/problems/token-frozen"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    field: str | None = None
    contract_error: dict[str, Any] | None = Field(
        default=None,
        examples=[{"name": "TokenFrozen", "args": {"tokenId": 7}, "contract": "ReceivableToken"}],
    )


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}, "description": text}
    for status, text in (
        (400, "the body could not be read (not JSON, nested too deeply, or not the declared media type)"),
        (401, "missing, invalid or revoked credentials"),
        (403, "the caller may not do this"),
        (404, "unknown, or not visible to the caller"),
        (409, "conflicts with the current state (frozen token, replayed nonce, …)"),
        (413, "the body exceeds the configured limit (`TIERCHAIN_API_MAX_BODY_BYTES`)"),
        (422, "invalid request or value refused by the contract"),
        (429, "rate limit exceeded; see Retry-After"),
    )
}
