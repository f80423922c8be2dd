"""Financing: the price of a receivable today, banks' offers, the holder's acceptance (delivery versus
payment in one transaction), and each bank's financing book.

A bank sees a token to offer on when its holder asks it for financing (`POST /financing/requests`);
it offers only on tokens it sees, and a token it may not see answers like a missing one. Only an
accepted offer widens what the bank sees (the piece it bought); see `api.access`. Offers are visible
to the bank that made them and to the holder of the offered token; regulators and the operator see all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import and_, false, or_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from api.access import held_token, offerable_token, visible_obligation
from api.deps import BankParticipant, ContextDep, CurrentParticipant, PageDep, SessionDep, WriterDep
from api.errors import Conflict, Forbidden, NotFound, RefusedField, Unprocessable
from api.pagination import Page
from api.results import (
    CreditLimitSetResult,
    ExposureReleasedResult,
    FinancedResult,
    OfferCancelledResult,
    OfferMadeResult,
    RegistrationRecordedResult,
)
from api.schemas import (
    MAX_AMOUNT,
    MAX_ID,
    MAX_TIMESTAMP,
    PROBLEM_RESPONSES,
    Address,
    IdPath,
    JsonInt,
    RequestModel,
    Uint,
    WriteResult,
    chain_now,
)
from api.security import Principal, Role
from api.tables import financing_requests
from ledger.client import DayCount
from ledger.indexer import queries
from ledger.indexer.models import Financing, Participant, Token
from ledger.regulatory import limits as credit

router = APIRouter(prefix="/financing", tags=["financing"], responses=PROBLEM_RESPONSES)

DayCountName = Literal["ACT_360", "ACT_365F"]
BPS = 10_000
_INDEXED_DAY_COUNT = {"ACT/360": "ACT_360", "ACT/365F": "ACT_365F"}


class QuoteBreakdown(BaseModel):
    """How the price follows from the inputs: DiscountMath.discountPrice, exactly."""

    basis_days: int = Field(description="360 (ACT/360) or 365 (ACT/365F)")
    denominator: int = Field(description="basis_days x 10,000")
    charge: int = Field(description="rate_bps x days_to_maturity")
    price_numerator: int = Field(description="value x (denominator - charge)")
    formula: str
    rounding: str


class QuoteView(BaseModel):
    value: int
    days_to_maturity: int = Field(description="whole days from the latest block to maturity, rounded up")
    rate_bps: int
    day_count: DayCountName
    discount: int = Field(description="value - price")
    price: int = Field(description="what the bank pays, minor units, rounded down")
    maturity: int
    breakdown: QuoteBreakdown


class OfferRequest(RequestModel):
    token_id: JsonInt = Field(ge=1, le=MAX_ID)
    value: JsonInt = Field(
        gt=0,
        le=MAX_AMOUNT,
        description="minor units of the token to buy (all or part), at most the token's value now",
    )
    rate_bps: JsonInt = Field(gt=0, le=65_535, description="yearly discount rate in basis points")
    day_count: DayCountName = "ACT_360"
    expiry: JsonInt = Field(
        gt=0,
        le=MAX_TIMESTAMP,
        description="unix seconds, after the chain's current time; the offer lapses after",
    )
    recourse: bool = False


class OfferView(BaseModel):
    offer_id: int
    bank: str
    token_id: int
    value: int
    rate_bps: int
    day_count: DayCountName
    recourse: bool
    expiry: int
    status: Literal["open", "financed", "cancelled"]
    holder: str | None = Field(description="who accepted (set once financed)")
    financed_token_id: int | None
    price: int | None
    discount: int | None
    days: int | None
    registration_number: str | None = Field(
        description="中登网 registration number, once the bank recorded it"
    )


def _offer_view(f: Financing) -> OfferView:
    return OfferView(
        offer_id=f.offer_id,
        bank=f.bank,
        token_id=f.token_id,
        value=f.value,
        rate_bps=f.rate_bps,
        day_count=_INDEXED_DAY_COUNT.get(f.day_count, "ACT_360"),
        recourse=f.recourse,
        expiry=f.expiry,
        status=f.status,
        holder=f.holder,
        financed_token_id=f.financed_token_id,
        price=f.price,
        discount=f.discount,
        days=f.days,
        registration_number=f.registration_number,
    )


def can_see_offer(session: Session, caller: Principal, offer: Financing) -> bool:
    if caller.sees_everything or caller.address in (offer.bank, offer.holder):
        return True
    token = session.get(Token, offer.token_id)
    return token is not None and token.owner == caller.address


def visible_offer(session: Session, caller: Principal, offer_id: int) -> Financing:
    offer = session.get(Financing, offer_id)
    if offer is None or not can_see_offer(session, caller, offer):
        raise NotFound(f"offer {offer_id} not found")
    return offer


def _breakdown(value: int, rate_bps: int, days: int, day_count: DayCount) -> QuoteBreakdown:
    basis = 360 if day_count == DayCount.ACT_360 else 365
    denominator = basis * BPS
    charge = rate_bps * days
    return QuoteBreakdown(
        basis_days=basis,
        denominator=denominator,
        charge=charge,
        price_numerator=value * (denominator - charge),
        formula="price = floor(value x (denominator - charge) / denominator); discount = value - price",
        rounding="price rounded down: the seller is short by less than one minor unit",
    )


def _quote(ctx: ContextDep, value: int, rate_bps: int, day_count: DayCountName, maturity: int) -> QuoteView:
    now = chain_now(ctx.client)
    if maturity <= now:
        # The desk would price it at its full value (no days left), but nothing matured is sold: say so.
        raise RefusedField("maturity", f"{maturity} is not after the chain's current time {now}")
    dc = DayCount[day_count]
    q = ctx.client.quote(value, rate_bps, dc, maturity)
    return QuoteView(
        value=q.value,
        days_to_maturity=q.days_to_maturity,
        rate_bps=q.rate_bps,
        day_count=day_count,
        discount=q.discount,
        price=q.price,
        maturity=maturity,
        breakdown=_breakdown(q.value, q.rate_bps, q.days_to_maturity, dc),
    )


Value = Annotated[int, Query(gt=0, le=MAX_AMOUNT, description="minor units")]
RateBps = Annotated[int, Query(gt=0, le=65_535, description="yearly discount rate, basis points")]
DayCountQuery = Annotated[DayCountName, Query()]


@router.get("/quote", summary="Price today of a value maturing at a given time (the desk's own maths)")
def quote(
    ctx: ContextDep,
    _: CurrentParticipant,
    value: Value,
    rate_bps: RateBps,
    maturity: Annotated[int, Query(ge=0, le=MAX_TIMESTAMP, description="unix seconds")],
    day_count: DayCountQuery = "ACT_360",
) -> QuoteView:
    return _quote(ctx, value, rate_bps, day_count, maturity)


@router.get("/obligations/{slot}/quote", summary="Price today of a value of an obligation the caller sees")
def quote_obligation(
    slot: IdPath,
    ctx: ContextDep,
    session: SessionDep,
    caller: CurrentParticipant,
    value: Value,
    rate_bps: RateBps,
    day_count: DayCountQuery = "ACT_360",
) -> QuoteView:
    maturity = visible_obligation(session, caller, slot).maturity
    if maturity <= chain_now(ctx.client):
        raise Conflict(f"obligation {slot} matured at {maturity}: its value can no longer be sold")
    return _quote(ctx, value, rate_bps, day_count, maturity)


@router.post("/offers", status_code=201, summary="Offer to buy (part of) a token at a discount (bank)")
def make_offer(
    body: OfferRequest, ctx: ContextDep, session: SessionDep, caller: BankParticipant, writer: WriterDep
) -> WriteResult[OfferMadeResult]:
    token = offerable_token(session, caller, body.token_id)
    if body.value > token.value:
        raise RefusedField(
            "value",
            f"{body.value} exceeds token {body.token_id}'s value {token.value}"
            " (accepting checks again: the token may shrink before then)",
        )
    now = chain_now(ctx.client)
    if body.expiry <= now:
        raise RefusedField("expiry", f"{body.expiry} is not after the chain's current time {now}")
    dc = DayCount[body.day_count]
    return writer.run(
        lambda signer, key: ctx.client.make_offer(
            signer,
            body.token_id,
            body.value,
            body.rate_bps,
            dc,
            body.expiry,
            recourse=body.recourse,
            key=key,
        ),
        status_code=201,
    )


@router.get("/offers", summary="Offers the caller made (bank) or received on tokens it holds")
def list_offers(
    caller: CurrentParticipant,
    session: SessionDep,
    page: PageDep,
    status: Annotated[Literal["open", "financed", "cancelled"] | None, Query()] = None,
) -> Page[OfferView]:
    query = select(Financing).order_by(col(Financing.offer_id))
    if not caller.sees_everything:
        held = select(Token.token_id).where(col(Token.owner) == caller.address)
        query = query.where(
            or_(
                col(Financing.bank) == caller.address,
                col(Financing.holder) == caller.address,
                col(Financing.token_id).in_(held),
            )
        )
    if status is not None:
        query = query.where(col(Financing.status) == status)
    if (after := page.after_int()) is not None:
        query = query.where(col(Financing.offer_id) > after)
    rows = [_offer_view(f) for f in session.exec(query.limit(page.limit + 1)).all()]
    return page.page(rows, lambda o: o.offer_id)


@router.get("/offers/{offer_id}", summary="One offer")
def get_offer(offer_id: IdPath, caller: CurrentParticipant, session: SessionDep) -> OfferView:
    return _offer_view(visible_offer(session, caller, offer_id))


@router.post("/offers/{offer_id}/accept", summary="Sell to the bank: token for cash at once (holder)")
def accept_offer(
    offer_id: IdPath, ctx: ContextDep, session: SessionDep, caller: CurrentParticipant, writer: WriterDep
) -> WriteResult[FinancedResult]:
    offer = visible_offer(session, caller, offer_id)
    held_token(session, caller, offer.token_id)
    if offer.status != "open":
        raise Conflict(f"offer {offer_id} is {offer.status}")
    return writer.run(lambda signer, key: ctx.client.accept_offer(signer, offer_id, key=key))


@router.post("/offers/{offer_id}/cancel", summary="Withdraw an open offer (its bank)")
def cancel_offer(
    offer_id: IdPath, ctx: ContextDep, session: SessionDep, caller: BankParticipant, writer: WriterDep
) -> WriteResult[OfferCancelledResult]:
    offer = visible_offer(session, caller, offer_id)
    if offer.bank != caller.address:
        raise Forbidden(f"offer {offer_id} belongs to another bank")
    if offer.status != "open":
        raise Conflict(f"offer {offer_id} is {offer.status}")
    return writer.run(lambda signer, key: ctx.client.cancel_offer(signer, offer_id, key=key))


class RegistrationBody(RequestModel):
    registration_number: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[0-9A-Za-z-]+$",
        description="the number 中登网 (动产融资统一登记公示系统) gave the transfer registration",
        examples=["04487955000012345678"],
    )


@router.post(
    "/offers/{offer_id}/registration-number",
    summary="Record the 中登网 registration number of a financing (its bank; again to correct it)",
)
def record_registration(
    offer_id: IdPath,
    body: RegistrationBody,
    ctx: ContextDep,
    session: SessionDep,
    caller: BankParticipant,
    writer: WriterDep,
) -> WriteResult[RegistrationRecordedResult]:
    offer = visible_offer(session, caller, offer_id)
    if offer.bank != caller.address:
        raise Forbidden(f"offer {offer_id} belongs to another bank")
    if offer.status != "financed":
        raise Conflict(f"offer {offer_id} is {offer.status}: only a settled financing is registered")
    number = body.registration_number
    return writer.run(lambda signer, key: ctx.client.record_registration(signer, offer_id, number, key=key))


class LimitBody(RequestModel):
    counterparty: Address = Field(description="the core enterprise (obligor) or the seller the limit is on")
    kind: Literal["obligor", "seller"] = "obligor"
    limit: Uint = Field(
        description="minor units; 0 removes the limit (none: unlimited)", examples=[500_000_000]
    )


@router.get(
    "/limits", summary="A bank's credit limits (授信) on obligors and sellers, their use and concentration"
)
def get_limits(
    caller: CurrentParticipant,
    ctx: ContextDep,
    session: SessionDep,
    bank: Annotated[Address | None, Query(description="whose (regulator and operator: required)")] = None,
) -> credit.BankLimits:
    if caller.sees_everything:
        if bank is None:
            raise Unprocessable("name the bank whose limits to read (`?bank=0x…`)", field="bank")
        whose = bank.lower()
    elif caller.has(Role.BANK):
        if bank is not None and bank.lower() != caller.address:
            raise Forbidden("a bank reads only its own limits")
        whose = caller.address
    else:
        raise Forbidden("this operation needs one of the roles: BANK, REGULATOR, OPERATOR")
    return credit.bank_limits(session, ctx.client, whose)


@router.put("/limits", summary="Record a credit limit (授信额度) on an obligor or a seller (bank)")
def set_limit(
    body: LimitBody, ctx: ContextDep, caller: BankParticipant, writer: WriterDep
) -> WriteResult[CreditLimitSetResult]:
    per_obligor = body.kind == "obligor"
    return writer.run(
        lambda signer, key: ctx.client.set_credit_limit(
            signer, body.counterparty, body.limit, per_obligor=per_obligor, key=key
        )
    )


@router.post(
    "/offers/{offer_id}/release-exposure",
    summary="Free a financing from its bank's limits once the bank no longer holds the piece",
)
def release_exposure(
    offer_id: IdPath, ctx: ContextDep, session: SessionDep, caller: CurrentParticipant, writer: WriterDep
) -> WriteResult[ExposureReleasedResult]:
    offer = visible_offer(session, caller, offer_id)
    if offer.status != "financed":
        raise Conflict(f"offer {offer_id} is {offer.status}: only a settled financing counts against a limit")
    return writer.run(lambda signer, key: ctx.client.release_exposure(signer, offer_id, key=key))


class FinancingRequestBody(RequestModel):
    token_id: JsonInt = Field(ge=1, le=MAX_ID, description="a live token the caller holds")
    bank: Address = Field(description="the bank asked to finance it: it may then see the token")


class FinancingRequestView(BaseModel):
    """A holder's request to a bank; it lapses when the token leaves the holder (sold, split off whole,
    redeemed), so a bank sees a token only while the holder who asked still holds it."""

    token_id: int
    bank: str
    holder: str
    slot: int
    value: int
    created_at: datetime


def _utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _request_key(r: FinancingRequestView) -> int:
    """A unique, ordered paging key for (token, bank): a bank address is 160 bits."""
    return (r.token_id << 160) | int(r.bank, 16)


def _live_requests(session: Session, caller: Principal) -> list[FinancingRequestView]:
    requests = financing_requests.c
    query = (
        core_select(
            requests.token_id,
            requests.bank,
            requests.holder,
            requests.created_at,
            col(Token.slot),
            col(Token.value),
        )
        .join(Token, and_(col(Token.token_id) == requests.token_id, col(Token.owner) == requests.holder))
        .where(col(Token.burned) == false())
        .order_by(requests.token_id, requests.bank)
    )
    if not caller.sees_everything:
        query = query.where(or_(requests.bank == caller.address, requests.holder == caller.address))
    return [
        FinancingRequestView(
            token_id=row.token_id,
            bank=row.bank,
            holder=row.holder,
            slot=row.slot,
            value=row.value,
            created_at=_utc(row.created_at),
        )
        for row in session.connection().execute(query)
    ]


@router.post(
    "/requests",
    status_code=201,
    summary="Ask a bank to finance a token the caller holds: the bank may then see it (holder)",
)
def request_financing(
    body: FinancingRequestBody, ctx: ContextDep, session: SessionDep, caller: CurrentParticipant
) -> FinancingRequestView:
    token = held_token(session, caller, body.token_id)
    if token.burned:
        raise NotFound(f"token {body.token_id} not found")
    bank = body.bank.lower()
    participant = session.get(Participant, bank)
    if participant is None or participant.status != "active" or Role.BANK not in participant.roles:
        raise Unprocessable(f"{body.bank} is not an active bank", field="bank")
    row = {"token_id": token.token_id, "bank": bank, "holder": caller.address}
    with ctx.engine.begin() as conn:
        found = conn.execute(
            core_select(financing_requests.c.created_at).where(
                *(financing_requests.c[k] == v for k, v in row.items())
            )
        ).first()
        created = _utc(found.created_at) if found is not None else datetime.now(UTC)
        if found is None:
            conn.execute(financing_requests.insert().values(**row, created_at=created))
    return FinancingRequestView(**row, slot=token.slot, value=token.value, created_at=created)


@router.get("/requests", summary="Live financing requests: those a bank received, or a holder made")
def list_requests(
    caller: CurrentParticipant, session: SessionDep, page: PageDep
) -> Page[FinancingRequestView]:
    return page.slice(_live_requests(session, caller), _request_key)


class BookLine(queries.BookEntry):
    bank: str


@router.get("/book", summary="Financing book: a bank's own; regulator/operator: every bank's, or one ?bank=")
def book(
    caller: CurrentParticipant,
    session: SessionDep,
    page: PageDep,
    bank: Annotated[
        Address | None, Query(description="whose book (regulator and operator: any bank)")
    ] = None,
) -> Page[BookLine]:
    if caller.sees_everything:
        banks = (
            [bank.lower()]
            if bank is not None
            else list(session.exec(select(Financing.bank).distinct()).all())
        )
    elif caller.has(Role.BANK):
        if bank is not None and bank.lower() != caller.address:
            raise Forbidden("a bank reads only its own book")
        banks = [caller.address]
    else:
        raise Forbidden("this operation needs one of the roles: BANK, REGULATOR, OPERATOR")
    lines = [
        BookLine(**entry.model_dump(), bank=whose)
        for whose in banks
        for entry in queries.financing_book(session, whose)
    ]
    lines.sort(key=lambda line: line.offer_id)
    return page.slice(lines, lambda line: line.offer_id)
