"""Recourse (追索): a financing made with recourse gives its bank, once the obligation is in default, a
claim on the seller for the shortfall (the financed value less what the piece redeems). The bank opens
it, the seller settles it in parts (清偿), the bank may waive it (放弃追索). Claims are visible to their
bank and seller; regulators and the operator see all. The contract decides every refusal (no recourse,
not in default, the piece no longer held, more than remains, …); the routes check who may ask.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field
from sqlmodel import Session

from api.deps import BankParticipant, ContextDep, CurrentParticipant, PageDep, SessionDep, WriterDep
from api.errors import Conflict, Forbidden, NotFound
from api.pagination import Page
from api.results import RecourseOpenedResult, RecourseSettledResult, RecourseWaivedResult
from api.routes.financing import visible_offer
from api.schemas import (
    MAX_AMOUNT,
    MAX_ID,
    PROBLEM_RESPONSES,
    Address,
    IdPath,
    JsonInt,
    RequestModel,
    WriteResult,
)
from api.security import Principal
from ledger.indexer import queries

router = APIRouter(prefix="/financing", tags=["recourse"], responses=PROBLEM_RESPONSES)

RecourseStateName = Literal["open", "partly_settled", "settled", "waived"]


class SettlementRequest(RequestModel):
    amount: JsonInt = Field(
        gt=0, le=MAX_AMOUNT, description="minor units of the obligation's currency, at most what remains"
    )


def _visible_claim(session: Session, caller: Principal, offer_id: int) -> queries.RecourseView:
    claim = queries.recourse_claim(session, offer_id)
    if claim is None or not (
        caller.sees_everything or caller.acts_for(claim.bank) or caller.acts_for(claim.seller)
    ):
        raise NotFound(f"no recourse claim for offer {offer_id}")
    return claim


@router.get(
    "/recourse",
    summary="Recourse claims (追索): a bank's and a seller's own; regulator/operator: all, with filters",
)
def list_claims(
    caller: CurrentParticipant,
    session: SessionDep,
    page: PageDep,
    bank: Annotated[Address | None, Query(description="claims of this bank")] = None,
    seller: Annotated[Address | None, Query(description="claims on this seller")] = None,
    state: Annotated[RecourseStateName | None, Query()] = None,
    slot: Annotated[int | None, Query(ge=1, le=MAX_ID, description="claims on this obligation")] = None,
) -> Page[queries.RecourseView]:
    # A participant sees its claims and those of the addresses it replaced (a lost-key recovery).
    parties: list[str | None] = [None] if caller.sees_everything else [*sorted(caller.identities)]
    found = {
        c.offer_id: c
        for party in parties
        for c in queries.recourse_claims(
            session, bank=bank, seller=seller, party=party, state=state, slot=slot
        )
    }
    return page.slice([found[k] for k in sorted(found)], lambda c: c.offer_id)


@router.get("/recourse/{offer_id}", summary="One recourse claim: shortfall, settled, remaining, state")
def get_claim(offer_id: IdPath, caller: CurrentParticipant, session: SessionDep) -> queries.RecourseView:
    return _visible_claim(session, caller, offer_id)


@router.post(
    "/offers/{offer_id}/recourse",
    summary="Open the recourse claim (追索) of a with-recourse financing after default (its bank)",
)
def open_claim(
    offer_id: IdPath, ctx: ContextDep, session: SessionDep, caller: BankParticipant, writer: WriterDep
) -> WriteResult[RecourseOpenedResult]:
    offer = visible_offer(session, caller, offer_id)
    if offer.bank != caller.address:
        raise Forbidden(f"only the bank of offer {offer_id} opens its recourse claim")
    if offer.status != "financed":
        raise Conflict(f"offer {offer_id} is {offer.status}: only a settled financing has a recourse claim")
    return writer.run(lambda signer, key: ctx.client.open_recourse(signer, offer_id, key=key))


@router.post(
    "/recourse/{offer_id}/settlements",
    summary="Pay (part of) a recourse claim (清偿) to the bank (its seller)",
)
def settle_claim(
    offer_id: IdPath,
    body: SettlementRequest,
    ctx: ContextDep,
    session: SessionDep,
    caller: CurrentParticipant,
    writer: WriterDep,
) -> WriteResult[RecourseSettledResult]:
    claim = _visible_claim(session, caller, offer_id)
    if not caller.acts_for(claim.seller):  # the seller, or the address it was recovered to
        raise Forbidden(f"only the seller of financing {offer_id} settles its recourse claim")
    return writer.run(lambda signer, key: ctx.client.settle_recourse(signer, offer_id, body.amount, key=key))


@router.post(
    "/recourse/{offer_id}/waive", summary="Waive what remains of a recourse claim (放弃追索) (its bank)"
)
def waive_claim(
    offer_id: IdPath, ctx: ContextDep, session: SessionDep, caller: BankParticipant, writer: WriterDep
) -> WriteResult[RecourseWaivedResult]:
    claim = _visible_claim(session, caller, offer_id)
    if claim.bank != caller.address:
        raise Forbidden(f"only the bank of financing {offer_id} waives its recourse claim")
    return writer.run(lambda signer, key: ctx.client.waive_recourse(signer, offer_id, key=key))
