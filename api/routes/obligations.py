"""Obligations: a supplier proposes, its obligor (core enterprise) confirms or rejects; reads of
proposals and of confirmed obligations with their pieces and holders."""

from __future__ import annotations

from eth_utils.address import to_checksum_address
from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import or_
from sqlmodel import col, select

from api.access import sees_whole_slot, visible_obligation, visible_proposal
from api.deps import (
    ContextDep,
    CurrentParticipant,
    ObligorParticipant,
    PageDep,
    SessionDep,
    SupplierParticipant,
    WriterDep,
)
from api.errors import Conflict, Forbidden, RefusedField
from api.pagination import Page
from api.results import IssuedResult, ProposalClosedResult, ProposedResult
from api.schemas import (
    MAX_MIN_UNIT,
    MAX_TIMESTAMP,
    PROBLEM_RESPONSES,
    Address,
    Bytes32,
    IdPath,
    JsonInt,
    RequestModel,
    Uint,
    WriteResult,
    chain_now,
)
from ledger.client import Terms
from ledger.client.models import agreed_term_ref
from ledger.indexer import queries
from ledger.indexer.models import Obligation, Proposal, Token

router = APIRouter(prefix="/obligations", tags=["obligations"], responses=PROBLEM_RESPONSES)


class ProposeRequest(RequestModel):
    obligor: Address
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["CNY"])
    face: Uint = Field(gt=0, description="minor units, a multiple of `min_unit`", examples=[100_000_000])
    maturity: Uint = Field(
        gt=0,
        le=MAX_TIMESTAMP,
        description="unix seconds, after the chain's current time",
        examples=[1_790_000_000],
    )
    min_unit: Uint = Field(
        gt=0, le=MAX_MIN_UNIT, description="minor units; pieces are multiples", examples=[100]
    )
    documents: list[Bytes32] = Field(min_length=1, description="fingerprints of attested documents")
    tenor_justification: JsonInt = Field(
        default=0,
        ge=0,
        lt=2**16,
        description="why the term runs past the policy's long-tenor threshold (a code; 0: none); recorded",
        examples=[0],
    )
    agreed_term: str | None = Field(
        default=None,
        max_length=512,
        description=(
            "the contract clause agreeing a payment term past the SME limit, as written (its keccak256 is "
            "recorded) or a 0x 32-byte reference; omit when none"
        ),
        examples=["采购合同 HT-2025-001 第4.2条"],
    )

    def check(self, now: int) -> None:
        """The rules the schema cannot say, refused before anything is signed (422 naming the field)."""
        if self.face % self.min_unit != 0:
            raise RefusedField("face", f"{self.face} is not a multiple of the minimum unit {self.min_unit}")
        if self.maturity <= now:
            raise RefusedField("maturity", f"{self.maturity} is not after the chain's current time {now}")

    def terms(self, supplier: str) -> Terms:
        """The on-chain terms this request proposes, with `supplier` (the caller) as the seller."""
        return Terms(
            supplier=to_checksum_address(supplier),
            obligor=to_checksum_address(self.obligor),
            currency=self.currency,
            face=self.face,
            maturity=self.maturity,
            min_unit=self.min_unit,
            documents=tuple(bytes.fromhex(d[2:]) for d in self.documents),
            tenor_justification=self.tenor_justification,
            agreed_term_ref=agreed_term_ref(self.agreed_term),
        )


class RejectRequest(RequestModel):
    reason_code: JsonInt = Field(ge=0, lt=2**8, description="why, as a code the parties agreed on")


class ProposalView(BaseModel):
    proposal_id: int
    supplier: str
    obligor: str
    currency: str
    face: int
    maturity: int
    min_unit: int
    documents: list[str]
    status: str
    reason_code: int | None
    slot: int | None
    tenor_justification: int = Field(description="long-tenor justification code; 0 for none")
    agreed_term_ref: str | None = Field(description="keccak256 of the agreed contract term; null for none")


class ObligationView(BaseModel):
    slot: int
    obligor: str
    currency_code: str | None
    face: int
    maturity: int
    min_unit: int
    root_token_id: int
    supply: int
    state: str
    paid: int
    documents: list[str]
    proposal_id: int | None
    tenor_justification: int = Field(description="long-tenor justification code; 0 for none")
    agreed_term_ref: str | None = Field(description="keccak256 of the agreed contract term; null for none")
    bill_window: int = Field(
        default=0,
        description="bill mode (moves pend until 签收): the acceptance window in seconds; 0 voucher mode",
    )


class ObligationDetail(ObligationView):
    holders: list[queries.HolderPosition] = Field(
        description="everyone (obligor, regulator) or the caller only"
    )
    pieces: list[queries.TokenView]


def _proposal(p: Proposal) -> ProposalView:
    return ProposalView(**p.model_dump(include=set(ProposalView.model_fields)))


def _obligation(o: Obligation) -> ObligationView:
    return ObligationView(**o.model_dump(include=set(ObligationView.model_fields)))


def proposal_terms(p: Proposal) -> Terms:
    """The on-chain terms of an indexed proposal: what confirm and reject must pass back."""
    return Terms(
        supplier=to_checksum_address(p.supplier),
        obligor=to_checksum_address(p.obligor),
        currency=p.currency,
        face=p.face,
        maturity=p.maturity,
        min_unit=p.min_unit,
        documents=tuple(bytes.fromhex(d.removeprefix("0x")) for d in p.documents),
        tenor_justification=p.tenor_justification,
        agreed_term_ref=bytes.fromhex(p.agreed_term_ref[2:]) if p.agreed_term_ref else b"\x00" * 32,
    )


@router.post("/proposals", status_code=201, summary="Propose an obligation (supplier)")
def propose(
    body: ProposeRequest, ctx: ContextDep, caller: SupplierParticipant, writer: WriterDep
) -> WriteResult[ProposedResult]:
    body.check(chain_now(ctx.client))
    terms = body.terms(caller.address)
    return writer.run(lambda signer, key: ctx.client.propose(signer, terms, key=key), status_code=201)


def _pending_for_obligor(session: SessionDep, caller: ObligorParticipant, proposal_id: int) -> Proposal:
    proposal = visible_proposal(session, caller, proposal_id)
    if proposal.obligor != caller.address:
        raise Forbidden(f"only the obligor of proposal {proposal_id} may decide on it")
    if proposal.status != "pending":
        raise Conflict(f"proposal {proposal_id} is {proposal.status}")
    return proposal


@router.post("/proposals/{proposal_id}/confirm", summary="Confirm a proposal: issues the token (obligor)")
def confirm(
    proposal_id: IdPath, ctx: ContextDep, session: SessionDep, caller: ObligorParticipant, writer: WriterDep
) -> WriteResult[IssuedResult]:
    terms = proposal_terms(_pending_for_obligor(session, caller, proposal_id))
    return writer.run(lambda signer, key: ctx.client.confirm(signer, proposal_id, terms, key=key))


@router.post("/proposals/{proposal_id}/reject", summary="Reject a proposal with a reason (obligor)")
def reject(
    proposal_id: IdPath,
    body: RejectRequest,
    ctx: ContextDep,
    session: SessionDep,
    caller: ObligorParticipant,
    writer: WriterDep,
) -> WriteResult[ProposalClosedResult]:
    terms = proposal_terms(_pending_for_obligor(session, caller, proposal_id))
    return writer.run(
        lambda signer, key: ctx.client.reject(signer, proposal_id, terms, body.reason_code, key=key)
    )


@router.get("/proposals", summary="Proposals the caller made or must decide on")
def list_proposals(caller: CurrentParticipant, session: SessionDep, page: PageDep) -> Page[ProposalView]:
    query = select(Proposal).order_by(col(Proposal.proposal_id))
    if not caller.sees_everything:
        query = query.where(
            or_(col(Proposal.supplier) == caller.address, col(Proposal.obligor) == caller.address)
        )
    if (after := page.after_int()) is not None:
        query = query.where(col(Proposal.proposal_id) > after)
    rows = [_proposal(p) for p in session.exec(query.limit(page.limit + 1)).all()]
    return page.page(rows, lambda p: p.proposal_id)


@router.get("/proposals/{proposal_id}", summary="One proposal")
def get_proposal(proposal_id: IdPath, caller: CurrentParticipant, session: SessionDep) -> ProposalView:
    return _proposal(visible_proposal(session, caller, proposal_id))


@router.get("", summary="Obligations the caller owes, holds a piece of, or oversees")
def list_obligations(caller: CurrentParticipant, session: SessionDep, page: PageDep) -> Page[ObligationView]:
    query = select(Obligation).order_by(col(Obligation.slot))
    if not caller.sees_everything:
        held = select(Token.slot).where(col(Token.owner) == caller.address)
        owed = col(Obligation.obligor).in_(caller.identities)  # its own, and those of addresses it replaced
        query = query.where(or_(owed, col(Obligation.slot).in_(held)))
    if (after := page.after_int()) is not None:
        query = query.where(col(Obligation.slot) > after)
    rows = [_obligation(o) for o in session.exec(query.limit(page.limit + 1)).all()]
    return page.page(rows, lambda o: o.slot)


@router.get("/{slot}", summary="One obligation with its pieces and holders")
def get_obligation(slot: IdPath, caller: CurrentParticipant, session: SessionDep) -> ObligationDetail:
    obligation = visible_obligation(session, caller, slot)
    listed = queries.holders(session, slot)
    holders = listed.holders if listed else []
    pieces = session.exec(
        select(Token)
        .where(col(Token.slot) == slot, col(Token.burned).is_(False))
        .order_by(col(Token.token_id))
    ).all()
    views = [queries.TokenView.of(t) for t in pieces]
    if not sees_whole_slot(session, caller, slot):
        holders = [h for h in holders if h.owner == caller.address]
        views = [v for v in views if v.owner == caller.address]
    return ObligationDetail(**_obligation(obligation).model_dump(), holders=holders, pieces=views)
