"""Repayment: the obligor deposits, holders redeem once the obligation is settled, the maturity
calendar and the list of overdue and defaulted obligations, and the state changes the contract lets
anyone make when the facts allow (mark overdue, declare default, sweep dust), which the API offers
to those with a stake in the obligation: its obligor, its holders, the regulator and the operator.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field
from sqlalchemy import or_
from sqlmodel import Session, col, select

from api.access import held_token, visible_obligation
from api.deps import ContextDep, CurrentParticipant, ObligorParticipant, PageDep, SessionDep, WriterDep
from api.errors import Forbidden
from api.pagination import Page
from api.results import DepositedResult, DustSweptResult, RedeemedResult, SlotStateChangedResult
from api.schemas import MAX_AMOUNT, MAX_ID, PROBLEM_RESPONSES, IdPath, JsonInt, RequestModel, WriteResult
from api.security import Principal
from ledger.indexer import queries
from ledger.indexer.models import DEFAULTED, OUTSTANDING, OVERDUE, Obligation, Redemption, Token

router = APIRouter(prefix="/repayment", tags=["repayment"], responses=PROBLEM_RESPONSES)

_KEY_SHIFT = 2**63  # calendar cursor: (maturity, slot) folded into one increasing integer


class DepositRequest(RequestModel):
    slot: JsonInt = Field(ge=1, le=MAX_ID)
    amount: JsonInt = Field(gt=0, le=MAX_AMOUNT, description="minor units of the obligation's currency")


class RedeemRequest(RequestModel):
    token_id: JsonInt = Field(ge=1, le=MAX_ID)


class OverdueEntry(queries.MaturityEntry):
    needs_marking: bool = Field(description="past maturity but not yet marked overdue on-chain")


def _scoped_slots(session: Session, caller: Principal) -> set[int] | None:
    """Slots the caller owes or holds a live piece of; None (no filter) for overseers."""
    if caller.sees_everything:
        return None
    held = select(Token.slot).where(col(Token.owner) == caller.address, col(Token.burned).is_(False))
    query = select(Obligation.slot).where(
        or_(col(Obligation.obligor).in_(caller.identities), col(Obligation.slot).in_(held))
    )
    return set(session.exec(query).all())


def _calendar_key(e: queries.MaturityEntry) -> int:
    return e.maturity * _KEY_SHIFT + e.slot


def _has_stake(session: Session, caller: Principal, obligation: Obligation) -> bool:
    if caller.sees_everything or caller.acts_for(obligation.obligor):
        return True
    held = session.exec(
        select(Token.token_id).where(col(Token.slot) == obligation.slot, col(Token.owner) == caller.address)
    ).first()
    redeemed = session.exec(
        select(Redemption.id).where(
            col(Redemption.slot) == obligation.slot, col(Redemption.holder) == caller.address
        )
    ).first()
    return held is not None or redeemed is not None


def _staked_obligation(session: Session, caller: Principal, slot: int) -> Obligation:
    obligation = visible_obligation(session, caller, slot)
    if not _has_stake(session, caller, obligation):
        raise Forbidden(f"only the obligor, holders, the regulator or the operator act on obligation {slot}")
    return obligation


@router.post("/deposits", summary="Pay (part of) an obligation into the repayment desk (its obligor)")
def deposit(
    body: DepositRequest, ctx: ContextDep, session: SessionDep, caller: ObligorParticipant, writer: WriterDep
) -> WriteResult[DepositedResult]:
    obligation = visible_obligation(session, caller, body.slot)
    if not caller.acts_for(obligation.obligor):  # the obligor, or the address it was recovered to
        raise Forbidden(f"obligation {body.slot} is owed by another obligor")
    return writer.run(lambda signer, key: ctx.client.deposit(signer, body.slot, body.amount, key=key))


@router.post("/redemptions", summary="Redeem a settled token for its payout (holder)")
def redeem(
    body: RedeemRequest, ctx: ContextDep, session: SessionDep, caller: CurrentParticipant, writer: WriterDep
) -> WriteResult[RedeemedResult]:
    held_token(session, caller, body.token_id)
    return writer.run(lambda signer, key: ctx.client.redeem(signer, body.token_id, key=key))


@router.get("/calendar", summary="Maturity calendar of the obligations the caller owes, holds or oversees")
def calendar(
    caller: CurrentParticipant,
    session: SessionDep,
    page: PageDep,
    start: Annotated[int | None, Query(alias="from", ge=0, le=MAX_ID, description="unix seconds")] = None,
    end: Annotated[int | None, Query(alias="to", ge=0, le=MAX_ID, description="unix seconds")] = None,
) -> Page[queries.MaturityEntry]:
    slots = _scoped_slots(session, caller)
    entries = [e for e in queries.maturity_calendar(session, start, end) if slots is None or e.slot in slots]
    return page.slice(entries, _calendar_key)


@router.get("/overdue", summary="Overdue and defaulted obligations, and those past maturity not yet marked")
def overdue(
    ctx: ContextDep,
    caller: CurrentParticipant,
    session: SessionDep,
    page: PageDep,
    state: Annotated[Literal["overdue", "defaulted"] | None, Query()] = None,
) -> Page[OverdueEntry]:
    now = int(ctx.client.w3.eth.get_block("latest")["timestamp"])
    slots = _scoped_slots(session, caller)
    wanted = {state} if state else {OVERDUE, DEFAULTED, OUTSTANDING}
    entries = []
    for e in queries.maturity_calendar(session, None, now):
        if (slots is not None and e.slot not in slots) or e.state not in wanted:
            continue
        late = e.state == OUTSTANDING
        if late and e.outstanding == 0:
            continue
        entries.append(OverdueEntry(**e.model_dump(), needs_marking=late))
    return page.slice(entries, _calendar_key)


@router.post("/obligations/{slot}/mark-overdue", summary="Record that an obligation passed maturity unpaid")
def mark_overdue(
    slot: IdPath, ctx: ContextDep, session: SessionDep, caller: CurrentParticipant, writer: WriterDep
) -> WriteResult[SlotStateChangedResult]:
    _staked_obligation(session, caller, slot)
    return writer.run(lambda signer, key: ctx.client.mark_overdue(signer, slot, key=key))


@router.post("/obligations/{slot}/declare-default", summary="Declare default once the grace period ended")
def declare_default(
    slot: IdPath, ctx: ContextDep, session: SessionDep, caller: CurrentParticipant, writer: WriterDep
) -> WriteResult[SlotStateChangedResult]:
    _staked_obligation(session, caller, slot)
    return writer.run(lambda signer, key: ctx.client.declare_default(signer, slot, key=key))


@router.post(
    "/obligations/{slot}/sweep-dust", summary="Return rounding dust to the obligor after redemptions"
)
def sweep_dust(
    slot: IdPath, ctx: ContextDep, session: SessionDep, caller: CurrentParticipant, writer: WriterDep
) -> WriteResult[DustSweptResult]:
    _staked_obligation(session, caller, slot)
    return writer.run(lambda signer, key: ctx.client.sweep_dust(signer, slot, key=key))
