"""Tokens: one token, the caller's holdings, the lineage tree, and the holder's moves (split one or
many pieces, merge, whole transfer).

A split or transfer to anyone but a bank cites trade documents under the default policy (the
trade-background rule, docs/compliance.md): with `documents` the move goes through the IssuanceDesk's
`moveWithTrade`, which checks them; without, the token moves directly and the registry refuses a move
that needed them (`TradeBackgroundRequired`)."""

from __future__ import annotations

from typing import Annotated

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.access import can_see_token, held_token, sees_whole_slot, visible_token
from api.deps import ContextDep, CurrentParticipant, PageDep, SessionDep, WriterDep
from api.errors import Forbidden, NotFound, RefusedField, Unprocessable
from api.pagination import Page
from api.results import (
    BatchSplitResult,
    MergedResult,
    MoveAcceptedResult,
    MoveReturnedResult,
    SplitResult,
    TransferredResult,
)
from api.schemas import (
    MAX_ID,
    PROBLEM_RESPONSES,
    Address,
    Bytes32,
    IdPath,
    JsonInt,
    RequestModel,
    Uint,
    WriteResult,
)
from api.security import Principal
from ledger.client import TxResult
from ledger.client.models import Split, Transferred
from ledger.indexer import queries
from ledger.indexer.models import Token
from ledger.keys import Signer

router = APIRouter(prefix="/tokens", tags=["tokens"], responses=PROBLEM_RESPONSES)


MAX_DOCUMENTS = 32
Documents = Annotated[
    list[Bytes32] | None,
    Field(
        default=None,
        min_length=1,
        max_length=MAX_DOCUMENTS,
        description=(
            "fingerprints of attested trade documents the receiver issued to the holder (invoices, or a "
            "delivery note with its purchase order) that back this payment; required for a receiver that is "
            "not a bank under the trade-background rule"
        ),
    ),
]


class Piece(RequestModel):
    to: Address
    value: Uint = Field(gt=0, description="minor units; a multiple of the obligation's min unit")
    documents: Documents = None


class SplitRequest(RequestModel):
    pieces: list[Piece] = Field(min_length=1, max_length=100)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"pieces": [{"to": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "value": 40_000_000}]}
            ]
        },
    )


class MergeRequest(RequestModel):
    into_token_id: JsonInt = Field(
        ge=1, le=MAX_ID, description="a token of the same obligation the caller holds"
    )
    value: Uint = Field(gt=0)


class TransferRequest(RequestModel):
    to: Address
    documents: Documents = None


class LineageNode(BaseModel):
    """A token in a lineage; `owner` and `value` are null where the caller may not see them."""

    token_id: int
    parent_id: int | None
    depth: int
    slot: int
    owner: str | None
    value: int | None
    frozen: bool
    burned: bool
    pending: bool = Field(default=False, description="bill mode: waiting for its receiver's 签收")
    children: list[LineageNode] = []


class LineageTree(BaseModel):
    token: queries.TokenView
    ancestors: list[LineageNode] = Field(description="parent first, the root last")
    tree: LineageNode = Field(description="the token and the descendants visible to the caller")


@router.get("", summary="Live tokens held by the caller (regulator/operator: by `owner`)")
def list_tokens(
    caller: CurrentParticipant,
    session: SessionDep,
    page: PageDep,
    owner: Annotated[Address | None, Query(description="regulator and operator only")] = None,
) -> Page[queries.Holding]:
    if owner is not None and owner.lower() != caller.address and not caller.sees_everything:
        raise Forbidden("only a regulator or the operator may list another participant's tokens")
    rows = queries.holdings(session, (owner or caller.address).lower())
    return page.slice(rows, lambda h: h.token.token_id)


def _moves_of(caller: CurrentParticipant, participant: str | None) -> str:
    if participant is not None and participant.lower() != caller.address and not caller.sees_everything:
        raise Forbidden("only a regulator or the operator may list another participant's pending moves")
    return (participant or caller.address).lower()


@router.get("/incoming", summary="Moves waiting for the caller's 签收 (bill mode)")
def incoming(
    caller: CurrentParticipant,
    session: SessionDep,
    page: PageDep,
    participant: Annotated[Address | None, Query(description="regulator and operator only")] = None,
) -> Page[queries.PendingMoveView]:
    """Pieces other participants paid to the caller that wait for acceptance (待签收): accept or refuse each
    before its `expiry`."""
    rows = queries.pending_moves(session, receiver=_moves_of(caller, participant))
    return page.slice(rows, lambda m: m.token_id)


@router.get("/outgoing", summary="The caller's moves waiting for the receiver's 签收 (bill mode)")
def outgoing(
    caller: CurrentParticipant,
    session: SessionDep,
    page: PageDep,
    participant: Annotated[Address | None, Query(description="regulator and operator only")] = None,
) -> Page[queries.PendingMoveView]:
    """Pieces the caller paid that wait for the receiver's acceptance; the caller may withdraw (撤回) them."""
    rows = queries.pending_moves(session, sender=_moves_of(caller, participant))
    return page.slice(rows, lambda m: m.token_id)


@router.get("/{token_id}", summary="One token", response_model=queries.TokenView)
async def get_token(token_id: IdPath, ctx: ContextDep, caller: CurrentParticipant) -> Response:
    """Cached per caller (address and roles decide visibility) until the indexer cursor moves, as the
    JSON it answers: a cached answer is served from the event loop, without a thread, a database
    connection or serializing again."""
    key = ("token", caller.address, caller.roles, token_id)
    kept = ctx.reads.peek(key)
    if not isinstance(kept, bytes):

        def read() -> bytes:
            with Session(ctx.engine) as session:
                return ctx.reads.get(
                    key,
                    lambda: (
                        queries.TokenView.of(visible_token(session, caller, token_id))
                        .model_dump_json()
                        .encode()
                    ),
                )

        kept = await run_in_threadpool(read)
    return Response(kept, media_type="application/json")


@router.get("/{token_id}/lineage", summary="Ancestors and the subtree of a token")
def lineage(token_id: IdPath, caller: CurrentParticipant, session: SessionDep) -> LineageTree:
    token = visible_token(session, caller, token_id)
    found = queries.lineage(session, token_id)
    assert found is not None
    everything = sees_whole_slot(session, caller, token.slot)
    pending = queries.pending_token_ids(session, token.slot)

    def node(view: queries.TokenView, *, reveal: bool) -> LineageNode:
        shown = reveal or everything or view.owner == caller.address
        return LineageNode(
            token_id=view.token_id,
            parent_id=view.parent_id,
            depth=view.depth,
            slot=view.slot,
            owner=view.owner if shown else None,
            value=view.value if shown else None,
            frozen=view.frozen,
            burned=view.burned,
            pending=view.token_id in pending,
        )

    nodes = {token_id: node(found.token, reveal=True)}
    for view in found.descendants:
        row = session.get(Token, view.token_id)
        if (
            row is not None
            and (everything or can_see_token(session, caller, row))
            and view.parent_id in nodes
        ):
            nodes[view.token_id] = node(view, reveal=True)
            nodes[view.parent_id].children.append(nodes[view.token_id])
    return LineageTree(
        token=found.token,
        ancestors=[node(a, reveal=False) for a in found.ancestors],
        tree=nodes[token_id],
    )


@router.post("/{token_id}/split", summary="Split one or many pieces off a token (holder)")
def split(
    token_id: IdPath,
    body: SplitRequest,
    ctx: ContextDep,
    session: SessionDep,
    caller: CurrentParticipant,
    writer: WriterDep,
) -> WriteResult[SplitResult | BatchSplitResult]:
    held_token(session, caller, token_id)
    pieces = [(to_checksum_address(p.to), p.value) for p in body.pieces]
    backed = [p.documents is not None for p in body.pieces]
    if any(backed) and not all(backed):
        missing = backed.index(False)
        raise RefusedField(
            f"pieces.{missing}.documents",
            "a payment cites trade documents for every receiver or for none (the pieces go in one "
            "transaction)",
        )

    def op(signer: Signer, key: str | None) -> TxResult:
        if all(backed):
            payments = [(p.to, p.value, list(p.documents or [])) for p in body.pieces]
            paid = ctx.client.pay_with_trade(signer, token_id, payments, key=key)
            if len(pieces) > 1:
                return paid
            return Split(
                tx_hash=paid.tx_hash,
                block_number=paid.block_number,
                gas_used=paid.gas_used,
                from_token_id=token_id,
                token_id=paid.token_ids[0],
                to=pieces[0][0],
                value=pieces[0][1],
            )
        if len(pieces) == 1:
            return ctx.client.split(signer, token_id, pieces[0][0], pieces[0][1], key=key)
        return ctx.client.split_batch(signer, token_id, pieces, key=key)

    return writer.run(op)


@router.post("/{token_id}/merge", summary="Merge value of this token into another of the same obligation")
def merge(
    token_id: IdPath,
    body: MergeRequest,
    ctx: ContextDep,
    session: SessionDep,
    caller: CurrentParticipant,
    writer: WriterDep,
) -> WriteResult[MergedResult]:
    if body.into_token_id == token_id:
        raise Unprocessable("a token cannot merge into itself", field="into_token_id")
    held_token(session, caller, token_id)
    held_token(session, caller, body.into_token_id)
    return writer.run(
        lambda signer, key: ctx.client.merge(signer, token_id, body.into_token_id, body.value, key=key)
    )


@router.post("/{token_id}/transfer", summary="Transfer the whole token (holder)")
def transfer(
    token_id: IdPath,
    body: TransferRequest,
    ctx: ContextDep,
    session: SessionDep,
    caller: CurrentParticipant,
    writer: WriterDep,
) -> WriteResult[TransferredResult]:
    held_token(session, caller, token_id)
    to = to_checksum_address(body.to)

    def op(signer: Signer, key: str | None) -> TxResult:
        if body.documents is None:
            return ctx.client.transfer(signer, token_id, to, key=key)
        # Paying the whole value moves the token itself (IssuanceDesk.moveWithTrade).
        value = ctx.client.balance_of(token_id)
        paid = ctx.client.pay_with_trade(signer, token_id, [(to, value, list(body.documents))], key=key)
        return Transferred(
            tx_hash=paid.tx_hash,
            block_number=paid.block_number,
            gas_used=paid.gas_used,
            token_id=token_id,
            sender=to_checksum_address(signer.address),
            to=to,
        )

    return writer.run(op)


# ---------------------------------------------------------------------------------- bill mode (签收)


def pending_for(session: Session, caller: Principal, token_id: int, party: str) -> None:
    """The indexer's view of the pending move: refuse early (404/403) when the caller is not its `party`
    ("receiver" or "sender"); the contract decides the rest (expiry, freeze, pause)."""
    move = queries.pending_move(session, token_id)
    if move is None or move.status != "pending":
        raise NotFound(f"token {token_id} has no pending move")
    if party == "receiver" and move.receiver != caller.address:
        raise Forbidden("only the receiver of a pending move accepts (签收) or refuses (拒收) it")
    if party == "sender" and move.sender != caller.address:
        raise Forbidden("only the sender of a pending move withdraws (撤回) it")


@router.post("/{token_id}/accept", summary="Accept (签收) a pending move (receiver)")
def accept(
    token_id: IdPath, ctx: ContextDep, session: SessionDep, caller: CurrentParticipant, writer: WriterDep
) -> WriteResult[MoveAcceptedResult]:
    pending_for(session, caller, token_id, "receiver")
    return writer.run(lambda signer, key: ctx.client.accept_move(signer, token_id, key=key))


@router.post("/{token_id}/refuse", summary="Refuse (拒收) a pending move (receiver)")
def refuse(
    token_id: IdPath, ctx: ContextDep, session: SessionDep, caller: CurrentParticipant, writer: WriterDep
) -> WriteResult[MoveReturnedResult]:
    pending_for(session, caller, token_id, "receiver")
    return writer.run(lambda signer, key: ctx.client.refuse_move(signer, token_id, key=key))


@router.post("/{token_id}/withdraw", summary="Withdraw (撤回) a pending move before acceptance (sender)")
def withdraw(
    token_id: IdPath, ctx: ContextDep, session: SessionDep, caller: CurrentParticipant, writer: WriterDep
) -> WriteResult[MoveReturnedResult]:
    pending_for(session, caller, token_id, "sender")
    return writer.run(lambda signer, key: ctx.client.withdraw_move(signer, token_id, key=key))


@router.post("/{token_id}/expire", summary="Return an expired (已过期) pending move to its sender (anyone)")
def expire(
    token_id: IdPath, ctx: ContextDep, session: SessionDep, caller: CurrentParticipant, writer: WriterDep
) -> WriteResult[MoveReturnedResult]:
    pending_for(session, caller, token_id, "anyone")
    return writer.run(lambda signer, key: ctx.client.expire_move(signer, token_id, key=key))
