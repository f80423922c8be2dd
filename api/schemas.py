"""Request and response models shared by the routes. Requests forbid unknown fields; money is `int`
minor units, and every integer of a request body must be a JSON number (`"100"` and `true` are
refused, naming the field); addresses are 0x hex (answers use the indexer's lower case)."""

from __future__ import annotations

import dataclasses
from enum import IntEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from ledger.client import TierchainClient, TxResult, role_name

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


def json_integer(value: Any) -> Any:
    """Refuse a string or a boolean where an integer belongs; numbers go on to pydantic's `int`, which
    takes a whole number (`100` or `100.0`, both integers in JSON Schema) and refuses a fraction."""
    if isinstance(value, bool | str):
        kind = "a boolean" if isinstance(value, bool) else "a string"
        raise PydanticCustomError("int_type", "must be a JSON integer, not {kind}", {"kind": kind})
    return value


# Bounds go before the validator: pydantic writes bounds given after it into the JSON Schema under
# their Python names (`le`), which no schema reader understands.
JsonInt = Annotated[int, BeforeValidator(json_integer)]
Uint = Annotated[int, Field(ge=0, le=MAX_AMOUNT), BeforeValidator(json_integer)]
JsonId = Annotated[int, Field(ge=0, le=MAX_ID), BeforeValidator(json_integer)]
MAX_TIMESTAMP = 2**40 - 1  # the desks store expiries as uint40; maturities fit the same range
MAX_MIN_UNIT = 2**48 - 1  # the token stores a slot's minimum unit as uint48
IdPath = Annotated[int, Path(ge=0, le=MAX_ID, description="a token id, slot, proposal or offer id")]


def chain_now(client: TierchainClient) -> int:
    """The latest block's time: what the contracts compare maturities and expiries with (the local chain's
    clock may run ahead of the wall clock)."""
    return int(client.w3.eth.get_block("latest")["timestamp"])


R = TypeVar("R")


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are refused (422 naming the field).

    Integer fields are `JsonInt` (or `Uint`): pydantic's default would read `"100"` as 100 and `true`
    as 1, so a client's type error would become a transaction. JSON integers of any size parse exactly,
    then each field's bounds apply. Query and path parameters are text by nature and stay lax."""

    model_config = ConfigDict(extra="forbid")


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, IntEnum):
        return value.name.lower()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


class WriteResult(BaseModel, Generic[R]):
    """Every write answers once its transaction is mined: the hash, the block, and what it did.

    `result` is the operation's own model (`api.results`), so /openapi.json documents it per route;
    `WriteResult` unparametrised (as `of` builds it) is the same JSON, checked against the route's
    declared `WriteResult[...]` when answered."""

    tx_hash: str = Field(examples=["0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"])
    status: Literal["mined"] = "mined"
    block_number: int = Field(examples=[42])
    gas_used: int = Field(examples=[98_123])
    result: R

    @classmethod
    def of(cls, outcome: TxResult, **extra: Any) -> WriteResult[Any]:
        fields = {f.name: _plain(getattr(outcome, f.name)) for f in dataclasses.fields(outcome)}
        meta = {k: fields.pop(k) for k in ("tx_hash", "block_number", "gas_used")}
        if "roles" in fields:  # role ids → names, as everywhere in the API
            fields["roles"] = [role_name(bytes.fromhex(r[2:])) or r for r in fields["roles"]]
        return WriteResult[Any](**meta, result={**fields, **extra})


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
    sentence: str | None = Field(
        default=None,
        description=(
            "a contract's refusal in one English sentence: what happened, why (the rule it enforces) and "
            "what to do next; the dashboard's catalogue sentence `error.<Name>`, in English"
        ),
        examples=[
            "This piece is frozen by the regulator, so it cannot be moved, split, financed or frozen again."
        ],
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
