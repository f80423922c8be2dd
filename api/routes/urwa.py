"""ERC-7943 (uRWA) over HTTP: whether a move would pass (`transferable`), and the regulator's value-level
freeze (部分冻结) of a piece — part of its value frozen, the rest movable by its holder."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.access import visible_token
from api.deps import ContextDep, CurrentParticipant, RegulatorParticipant, SessionDep, WriterDep
from api.errors import NotFound
from api.schemas import MAX_AMOUNT, PROBLEM_RESPONSES, Address, IdPath, RequestModel, Uint, WriteResult

router = APIRouter(tags=["erc-7943"], responses=PROBLEM_RESPONSES)


class Transferability(BaseModel):
    """ERC-7943's `canTransfer` for one move, with the piece's frozen value beside it."""

    token_id: int
    sender: str
    to: str
    value: int
    allowed: bool = Field(
        description="every rule a holder move of `value` would face passes now (owner, pending acceptance, "
        "freezes, maturity, minimum unit, both parties active, trade background, depth)"
    )
    frozen_value: int = Field(description="what of the piece is frozen (its whole value while frozen whole)")
    unfrozen_value: int = Field(description="what its holder may move now, freezes considered")


class FrozenValueRequest(RequestModel):
    amount: Uint = Field(
        description="minor units of the piece to freeze (above its value: nothing moves); 0 lifts it"
    )


class FrozenValueResult(BaseModel):
    token_id: int
    account: str = Field(description="the piece's holder")
    amount: int = Field(description="the frozen value now")


@router.get(
    "/tokens/{token_id}/transferable",
    summary="Whether a move of a value of a token to a receiver would pass every rule now (ERC-7943)",
)
def transferable(
    token_id: IdPath,
    ctx: ContextDep,
    session: SessionDep,
    caller: CurrentParticipant,
    to: Annotated[Address, Query(description="the receiver")],
    value: Annotated[int, Query(gt=0, le=MAX_AMOUNT, description="minor units to move")],
) -> Transferability:
    token = visible_token(session, caller, token_id)
    if token.burned or token.owner is None:
        raise NotFound(f"token {token_id} not found")
    client = ctx.client
    frozen = client.frozen_value(token_id)
    held = client.balance_of(token_id)
    return Transferability(
        token_id=token_id,
        sender=token.owner,
        to=to.lower(),
        value=value,
        allowed=client.can_transfer(token.owner, to, token_id, value),
        frozen_value=frozen,
        unfrozen_value=max(0, held - frozen),
    )


@router.put(
    "/regulator/tokens/{token_id}/frozen-value",
    summary="Freeze part of a token's value, or lift it with 0 (regulator; ERC-7943 setFrozenTokens)",
)
def set_frozen_value(
    token_id: IdPath,
    body: FrozenValueRequest,
    ctx: ContextDep,
    session: SessionDep,
    regulator: RegulatorParticipant,
    writer: WriterDep,
) -> WriteResult[FrozenValueResult]:
    token = visible_token(session, regulator, token_id)
    if token.burned:
        raise NotFound(f"token {token_id} not found")
    return writer.run(lambda signer, key: ctx.client.set_frozen_value(signer, token_id, body.amount, key=key))
