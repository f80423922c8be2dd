"""Financing: the price of a receivable today, banks' offers, the holder's acceptance (delivery versus
payment in one transaction), and each bank's financing book.

A bank sees a token to offer on while an open financing request of its holder addresses it (or every
bank) (`POST /financing/requests`): the request is the market's call for quotes, with a value, the
banks asked and a deadline; the banks offer against it, the holder compares the offers side by side and
accepts one, and the others lapse. A bank offers only on tokens it sees, and a token it may not see
answers like a missing one. Only an accepted offer widens what the bank sees for good (the piece it
bought); see `api.access`. Offers are visible to the bank that made them and to the holder of the
offered token; regulators and the operator see all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, BeforeValidator, Field
from sqlalchemy import Connection, Engine, Row, and_, false, func, or_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from api.access import (
    ACCEPTED,
    addressed_to,
    held_token,
    ledger_now,
    offerable_token,
    request_is_open,
    visible_obligation,
)
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
    json_integer,
)
from api.security import Principal, Role
from api.tables import (
    financing_request_banks,
    financing_request_events,
    financing_request_offers,
    financing_requests,
)
from ledger.client import DayCount
from ledger.indexer import queries
from ledger.indexer.models import Event, Financing, Obligation, Participant, Token
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
    lapsed = lapsed_request(session, offer_id)
    if lapsed is not None:
        raise Conflict(
            f"offer {offer_id} lapsed: financing request {lapsed} it was made against is closed",
            sentence="FinancingRequestOfferLapsed",
            sentence_args={"offerId": offer_id, "requestId": lapsed},
        )
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


# ---------------------------------------------------------------------------------- financing requests
#
# A request (融资申请) is the holder's call for quotes: it names banks (or every bank), a value of a
# token (the whole token by default) and a deadline (截止时间). Only an open request shows the token to
# the banks it names (`api.access`); they quote and offer against it, the holder compares the offers
# side by side and accepts one (delivery versus payment on the chain, splitting off the value asked
# for if less than the token), and the others lapse (已失效). What the holder decided (accepted,
# withdrawn) is stored; `closed` (the token left the holder, or no longer covers the value) and
# `expired` (the deadline passed) follow from the ledger, and are recorded when a route first sees them.

DEFAULT_REQUEST_SECONDS = 7 * 86_400
PositiveAmount = Annotated[int, Field(gt=0, le=MAX_AMOUNT), BeforeValidator(json_integer)]
FutureTime = Annotated[int, Field(gt=0, le=MAX_TIMESTAMP), BeforeValidator(json_integer)]
MAX_REQUEST_BANKS = 50
RequestStatus = Literal["open", "accepted", "withdrawn", "closed", "expired"]
REQUEST_STATUSES: tuple[RequestStatus, ...] = ("open", "accepted", "withdrawn", "closed", "expired")
RequestOfferStatus = Literal["open", "financed", "cancelled", "expired", "lapsed"]


class FinancingRequestBody(RequestModel):
    token_id: JsonInt = Field(ge=1, le=MAX_ID, description="a live token the caller holds")
    bank: Address | None = Field(
        default=None,
        description="one bank asked (the earlier form of a request; same as `banks` with one bank)",
    )
    banks: list[Address] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_REQUEST_BANKS,
        description="the banks asked: each may then see the token while the request is open",
    )
    all_banks: bool = Field(default=False, description="ask every active bank instead of named ones")
    value: PositiveAmount | None = Field(
        default=None,
        description=(
            "minor units to finance: at most the token's value, a multiple of the obligation's minimum "
            "unit; the whole token if absent (less than the token: accepting splits it off)"
        ),
    )
    deadline: FutureTime | None = Field(
        default=None,
        description=(
            "unix seconds (chain time), after now and not after the obligation's maturity; offers expire "
            "by then; default 7 days ahead (at most the maturity)"
        ),
    )


class FinancingRequestView(BaseModel):
    """A holder's request for financing and its state. A bank sees the token only while the request is
    `open`; `closed` means the token left the holder (sold, split off whole, redeemed) or no longer
    covers the value asked for, `expired` that the deadline passed."""

    request_id: int
    token_id: int
    holder: str
    slot: int
    value: int = Field(description="minor units asked for")
    bank: str | None = Field(description="the bank asked, when the request names exactly one")
    banks: list[str] = Field(
        description="the banks asked (a bank reading it sees only itself); empty when all_banks"
    )
    all_banks: bool
    deadline: int | None = Field(description="unix seconds; null for a request made before deadlines")
    status: RequestStatus
    accepted_offer_id: int | None
    created_at: datetime


class RequestOfferView(BaseModel):
    """An offer made against a request, priced for the request's token as of now."""

    offer_id: int
    bank: str
    value: int
    rate_bps: int
    day_count: DayCountName
    recourse: bool
    expiry: int
    status: RequestOfferStatus = Field(
        description="`lapsed`: the request closed with another offer accepted, or was withdrawn or expired"
    )
    price: int | None = Field(description="what the bank pays (now, or as financed); null once matured")
    discount: int | None
    days: int | None = Field(description="days to maturity the price counts")
    best: bool = Field(description="the highest price among the open offers (shown to the holder)")


class LineageStep(BaseModel):
    token_id: int
    depth: int


class FinancingRequestDetail(FinancingRequestView):
    """The piece as the banks asked may see it, and every offer against the request side by side."""

    obligor: str
    currency: str | None = Field(description="currency code of the obligation")
    maturity: int
    min_unit: int
    token_value: int = Field(description="the token's value now (the request may ask for less)")
    lineage: list[LineageStep] = Field(description="the token's ancestors, parent first, the root last")
    documents: list[str] = Field(description="fingerprints of the trade documents the obligation cites")
    offers: list[RequestOfferView] = Field(
        description="a bank sees its own offers; the holder, regulators and the operator see all"
    )
    best_offer_id: int | None = Field(description="the open offer with the highest price (holder)")


class RequestOfferBody(RequestModel):
    rate_bps: JsonInt = Field(gt=0, le=65_535, description="yearly discount rate in basis points")
    day_count: DayCountName = "ACT_360"
    expiry: FutureTime | None = Field(
        default=None,
        description="unix seconds, after now and not after the request's deadline (its default)",
    )
    recourse: bool = False


class RequestAcceptBody(RequestModel):
    offer_id: JsonInt = Field(ge=1, le=MAX_ID, description="an open offer made against this request")


def _utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _request_row(conn: Connection, request_id: int) -> Row[Any] | None:
    return conn.execute(
        core_select(financing_requests).where(financing_requests.c.request_id == request_id)
    ).first()


def _request_banks(conn: Connection, request_id: int) -> list[str]:
    banks = financing_request_banks.c
    return list(
        conn.execute(
            core_select(banks.bank).where(banks.request_id == request_id).order_by(banks.bank)
        ).scalars()
    )


def _linked_offers(session: Session, request_id: int) -> list[Financing]:
    linked = core_select(financing_request_offers.c.offer_id).where(
        financing_request_offers.c.request_id == request_id
    )
    return list(
        session.exec(
            select(Financing).where(col(Financing.offer_id).in_(linked)).order_by(col(Financing.offer_id))
        ).all()
    )


def request_status(row: Row[Any], token: Token | None, financed: Financing | None, now: int) -> RequestStatus:
    """What the request is now: its stored decision, or what the ledger makes of an open one."""
    stored: RequestStatus = row.status
    if stored != "open":
        return stored
    if financed is not None:
        return "accepted"
    if (
        token is None
        or token.burned
        or token.owner != row.holder
        or (row.value is not None and token.value < row.value)
    ):
        return "closed"
    if row.deadline is not None and row.deadline <= now:
        return "expired"
    return "open"


def _chain_anchor(conn: Connection) -> int:
    last = conn.execute(core_select(func.max(col(Event.id)))).scalar()
    return int(last) if last is not None else 0


def record_request_event(conn: Connection, request_id: int, name: str, **args: Any) -> None:
    """Note what happened to a request, for the event stream (`api.routes.events`)."""
    conn.execute(
        financing_request_events.insert().values(
            request_id=request_id,
            name=name,
            args={"requestId": request_id, **args},
            anchor=_chain_anchor(conn),
            created_at=datetime.now(UTC),
        )
    )


_STATUS_EVENTS = {
    "accepted": "FinancingRequestAccepted",
    "closed": "FinancingRequestClosed",
    "expired": "FinancingRequestExpired",
}


def settle_requests(engine: Engine, now: int | None = None) -> None:
    """Record the requests the ledger has closed since (an offer accepted on the chain directly, the token
    gone, the deadline passed): their status is stored and an event noted, once."""
    with Session(engine) as session:
        when = ledger_now(session) if now is None else now
        rows = (
            session.connection()
            .execute(core_select(financing_requests).where(financing_requests.c.status == "open"))
            .all()
        )
        changes: list[tuple[int, RequestStatus, int | None]] = []
        for row in rows:
            financed = next(
                (f for f in _linked_offers(session, row.request_id) if f.status == ACCEPTED), None
            )
            status = request_status(row, session.get(Token, row.token_id), financed, when)
            if status != "open":
                changes.append((row.request_id, status, financed.offer_id if financed else None))
    if not changes:
        return
    with engine.begin() as conn:
        for request_id, status, offer_id in changes:
            updated = conn.execute(
                financing_requests.update()
                .where(financing_requests.c.request_id == request_id, financing_requests.c.status == "open")
                .values(status=status, accepted_offer_id=offer_id, decided_at=datetime.now(UTC))
            )
            if updated.rowcount:
                extra = {"offerId": offer_id} if offer_id is not None else {}
                record_request_event(conn, request_id, _STATUS_EVENTS[status], **extra)


def can_see_request(session: Session, caller: Principal, row: Row[Any], now: int) -> bool:
    """The holder, regulators and the operator; a bank it is addressed to while it is open; the bank
    whose offer against it was accepted (it financed the piece)."""
    if caller.sees_everything or row.holder == caller.address:
        return True
    if not caller.has(Role.BANK):
        return False
    offers = _linked_offers(session, row.request_id)
    if any(f.bank == caller.address and f.status == ACCEPTED for f in offers):
        return True
    financed = next((f for f in offers if f.status == ACCEPTED), None)
    if request_status(row, session.get(Token, row.token_id), financed, now) != "open":
        return False
    return row.all_banks or caller.address in _request_banks(session.connection(), row.request_id)


def _visible_request(session: Session, caller: Principal, request_id: int) -> Row[Any]:
    row = _request_row(session.connection(), request_id)
    if row is None or not can_see_request(session, caller, row, ledger_now(session)):
        raise NotFound(f"financing request {request_id} not found")
    return row


def _view(session: Session, caller: Principal, row: Row[Any], now: int) -> FinancingRequestView:
    token = session.get(Token, row.token_id)
    offers = _linked_offers(session, row.request_id)
    financed = next((f for f in offers if f.status == ACCEPTED), None)
    banks = _request_banks(session.connection(), row.request_id)
    if not (caller.sees_everything or row.holder == caller.address):
        banks = [b for b in banks if b == caller.address]  # a bank is not told who else was asked
    value = row.value if row.value is not None else (token.value if token is not None else 0)
    return FinancingRequestView(
        request_id=row.request_id,
        token_id=row.token_id,
        holder=row.holder,
        slot=token.slot if token is not None else 0,
        value=value,
        bank=banks[0] if len(banks) == 1 and not row.all_banks else None,
        banks=banks,
        all_banks=row.all_banks,
        deadline=row.deadline,
        status=request_status(row, token, financed, now),
        accepted_offer_id=row.accepted_offer_id or (financed.offer_id if financed else None),
        created_at=_utc(row.created_at),
    )


def _offer_status(offer: Financing, request: RequestStatus, now: int) -> RequestOfferStatus:
    if offer.status != "open":
        return "financed" if offer.status == ACCEPTED else "cancelled"
    if request != "open":
        return "lapsed"
    return "expired" if offer.expiry <= now else "open"


def _priced(
    ctx: ContextDep, offer: Financing, maturity: int, now: int
) -> tuple[int | None, int | None, int | None]:
    """(price, discount, days) of an offer: as financed, or the desk's quote now for an open one."""
    if offer.status == ACCEPTED:
        return offer.price, offer.discount, offer.days
    if maturity <= now:
        return None, None, None
    dc = DayCount[_INDEXED_DAY_COUNT.get(offer.day_count, "ACT_360")]
    q = ctx.client.quote(offer.value, offer.rate_bps, dc, maturity)
    return q.price, q.discount, q.days_to_maturity


def _ancestors(session: Session, token: Token) -> list[LineageStep]:
    steps: list[LineageStep] = []
    parent_id = token.parent_id
    while parent_id is not None:
        parent = session.get(Token, parent_id)
        if parent is None:
            break
        steps.append(LineageStep(token_id=parent.token_id, depth=parent.depth))
        parent_id = parent.parent_id
    return steps


def _detail(ctx: ContextDep, session: Session, caller: Principal, row: Row[Any]) -> FinancingRequestDetail:
    now = ledger_now(session)
    view = _view(session, caller, row, now)
    token = session.get(Token, row.token_id)
    obligation = session.get(Obligation, token.slot) if token is not None else None
    if token is None or obligation is None:
        raise NotFound(f"financing request {row.request_id} not found")
    full = caller.sees_everything or row.holder == caller.address
    offers: list[RequestOfferView] = []
    for f in _linked_offers(session, row.request_id):
        if not full and f.bank != caller.address:
            continue
        price, discount, days = _priced(ctx, f, obligation.maturity, chain_now(ctx.client))
        offers.append(
            RequestOfferView(
                offer_id=f.offer_id,
                bank=f.bank,
                value=f.value,
                rate_bps=f.rate_bps,
                day_count=_INDEXED_DAY_COUNT.get(f.day_count, "ACT_360"),
                recourse=f.recourse,
                expiry=f.expiry,
                status=_offer_status(f, view.status, now),
                price=price,
                discount=discount,
                days=days,
                best=False,
            )
        )
    live = [o for o in offers if o.status == "open" and o.price is not None]
    best = max(live, key=lambda o: (o.price or 0, -o.offer_id), default=None) if full else None
    if best is not None:
        best.best = True
    return FinancingRequestDetail(
        **view.model_dump(),
        obligor=obligation.obligor,
        currency=obligation.currency_code,
        maturity=obligation.maturity,
        min_unit=obligation.min_unit,
        token_value=token.value,
        lineage=_ancestors(session, token),
        documents=list(obligation.documents),
        offers=offers,
        best_offer_id=best.offer_id if best is not None else None,
    )


def _requested_banks(session: Session, body: FinancingRequestBody) -> list[str]:
    named = [body.bank] if body.bank is not None else []
    named += body.banks or []
    if body.all_banks:
        if named:
            raise RefusedField("banks", "name banks or ask every bank (`all_banks`), not both")
        return []
    if not named:
        raise Unprocessable("name the banks asked (`banks`) or ask every bank (`all_banks`)", field="banks")
    if body.bank is not None and body.banks is not None:
        raise RefusedField("bank", "give `banks` (a list) or `bank` (one), not both")
    field = "bank" if body.bank is not None else "banks"
    chosen: list[str] = []
    for index, address in enumerate(named):
        bank = address.lower()
        participant = session.get(Participant, bank)
        if participant is None or participant.status != "active" or Role.BANK not in participant.roles:
            where = field if field == "bank" else f"banks.{index}"
            raise Unprocessable(f"{address} is not an active bank", field=where)
        if bank not in chosen:
            chosen.append(bank)
    return chosen


@router.post(
    "/requests",
    status_code=201,
    summary="Ask banks (or every bank) to finance a token or part of it by a deadline (holder)",
)
def request_financing(
    body: FinancingRequestBody, ctx: ContextDep, session: SessionDep, caller: CurrentParticipant
) -> FinancingRequestView:
    token = held_token(session, caller, body.token_id)
    if token.burned:
        raise NotFound(f"token {body.token_id} not found")
    banks = _requested_banks(session, body)
    obligation = session.get(Obligation, token.slot)
    if obligation is None:
        raise NotFound(f"token {body.token_id} not found")
    if body.value is not None:
        if body.value > token.value:
            raise RefusedField(
                "value",
                f"{body.value} exceeds token {token.token_id}'s value {token.value}",
                sentence="FinancingRequestValue",
                sentence_args={
                    "value": body.value,
                    "tokenValue": token.value,
                    "minUnit": obligation.min_unit,
                },
            )
        if body.value % obligation.min_unit:
            raise RefusedField(
                "value",
                f"{body.value} is not a multiple of the obligation's minimum unit {obligation.min_unit}",
                sentence="FinancingRequestValue",
                sentence_args={
                    "value": body.value,
                    "tokenValue": token.value,
                    "minUnit": obligation.min_unit,
                },
            )
    now = chain_now(ctx.client)
    if obligation.maturity <= now:
        raise Conflict(
            f"obligation {token.slot} matured at {obligation.maturity}: its value can no longer be sold"
        )
    if body.deadline is None:
        deadline = min(now + DEFAULT_REQUEST_SECONDS, obligation.maturity)
    elif body.deadline <= now or body.deadline > obligation.maturity:
        raise RefusedField(
            "deadline",
            f"{body.deadline} must be after the chain's current time {now} and not after the maturity "
            f"{obligation.maturity}",
            sentence="FinancingRequestDeadline",
            sentence_args={"deadline": body.deadline, "now": now, "maturity": obligation.maturity},
        )
    else:
        deadline = body.deadline
    value = body.value if body.value is not None and body.value < token.value else None
    legacy = body.bank is not None and body.value is None and body.deadline is None
    with ctx.engine.begin() as conn:
        if legacy:  # asking the same bank again for the same token changes nothing
            again = conn.execute(
                core_select(financing_requests.c.request_id)
                .where(
                    financing_requests.c.holder == caller.address,
                    financing_requests.c.token_id == token.token_id,
                    financing_requests.c.status == "open",
                    financing_requests.c.all_banks == false(),
                    financing_requests.c.value.is_(None),
                    or_(financing_requests.c.deadline.is_(None), financing_requests.c.deadline > now),
                )
                .order_by(financing_requests.c.request_id)
            ).scalars()
            for request_id in again:
                if _request_banks(conn, request_id) == banks:
                    found = _request_row(conn, request_id)
                    assert found is not None
                    return _view(session, caller, found, ledger_now(session))
        inserted = conn.execute(
            financing_requests.insert().values(
                holder=caller.address,
                token_id=token.token_id,
                value=value,
                all_banks=body.all_banks,
                deadline=deadline,
                status="open",
                created_at=datetime.now(UTC),
            )
        )
        key = inserted.inserted_primary_key
        assert key is not None
        request_id = int(key[0])
        for bank in banks:
            conn.execute(financing_request_banks.insert().values(request_id=request_id, bank=bank))
        record_request_event(
            conn,
            request_id,
            "FinancingRequestOpened",
            holder=caller.address,
            tokenId=token.token_id,
            value=value if value is not None else token.value,
            banks=banks,
            allBanks=body.all_banks,
            deadline=deadline,
        )
        row = _request_row(conn, request_id)
    assert row is not None
    return _view(session, caller, row, ledger_now(session))


@router.get(
    "/requests",
    summary="Financing requests: the open ones a bank was asked, a holder's own; regulator/operator: all",
)
def list_requests(
    ctx: ContextDep,
    caller: CurrentParticipant,
    session: SessionDep,
    page: PageDep,
    status: Annotated[RequestStatus | None, Query(description="only requests in this state")] = None,
) -> Page[FinancingRequestView]:
    settle_requests(ctx.engine)
    now = ledger_now(session)
    r = financing_requests.c
    query = (
        core_select(financing_requests)
        .select_from(financing_requests.outerjoin(Token, col(Token.token_id) == r.token_id))
        .order_by(r.request_id)
    )
    if not caller.sees_everything:
        mine = r.holder == caller.address
        if caller.has(Role.BANK):
            query = query.where(or_(mine, and_(request_is_open(now), addressed_to(caller.address))))
        else:
            query = query.where(mine)
    if (after := page.after_int()) is not None:
        query = query.where(r.request_id > after)
    views = [_view(session, caller, row, now) for row in session.connection().execute(query)]
    rows = [v for v in views if status is None or v.status == status]
    return page.slice(rows, lambda v: v.request_id)


@router.get(
    "/requests/{request_id}",
    summary="A request: the piece as the banks asked may see it, with every offer against it side by side",
)
def get_request(
    request_id: IdPath, ctx: ContextDep, caller: CurrentParticipant, session: SessionDep
) -> FinancingRequestDetail:
    settle_requests(ctx.engine)
    return _detail(ctx, session, caller, _visible_request(session, caller, request_id))


@router.get(
    "/requests/{request_id}/quote",
    summary="Price today of the value a request asks for, at the piece's real maturity",
)
def quote_request(
    request_id: IdPath,
    ctx: ContextDep,
    caller: CurrentParticipant,
    session: SessionDep,
    rate_bps: RateBps,
    day_count: DayCountQuery = "ACT_360",
) -> QuoteView:
    row = _visible_request(session, caller, request_id)
    view = _view(session, caller, row, ledger_now(session))
    obligation = session.get(Obligation, view.slot)
    if obligation is None:
        raise NotFound(f"financing request {request_id} not found")
    if obligation.maturity <= chain_now(ctx.client):
        raise Conflict(
            f"obligation {view.slot} matured at {obligation.maturity}: its value can no longer be sold"
        )
    return _quote(ctx, view.value, rate_bps, day_count, obligation.maturity)


def _open_request(
    session: Session, caller: Principal, request_id: int
) -> tuple[Row[Any], FinancingRequestView]:
    row = _visible_request(session, caller, request_id)
    view = _view(session, caller, row, ledger_now(session))
    if view.status != "open":
        raise Conflict(
            f"financing request {request_id} is {view.status}: it takes no more offers or decisions",
            sentence="FinancingRequestNotOpen",
            sentence_args={"requestId": request_id, "status": view.status},
        )
    return row, view


@router.post(
    "/requests/{request_id}/offers",
    status_code=201,
    summary="Offer on the value a request asks for, expiring by its deadline (a bank asked)",
)
def offer_on_request(
    request_id: IdPath,
    body: RequestOfferBody,
    ctx: ContextDep,
    session: SessionDep,
    caller: BankParticipant,
    writer: WriterDep,
) -> WriteResult[OfferMadeResult]:
    row, view = _open_request(session, caller, request_id)
    token = offerable_token(session, caller, row.token_id)
    obligation = session.get(Obligation, token.slot)
    assert obligation is not None
    now = chain_now(ctx.client)
    latest = view.deadline if view.deadline is not None else obligation.maturity
    expiry = body.expiry if body.expiry is not None else latest
    if expiry <= now or expiry > latest:
        raise RefusedField(
            "expiry",
            f"{expiry} must be after the chain's current time {now} and not after the request's deadline "
            f"{latest}",
            sentence="FinancingRequestOfferExpiry",
            sentence_args={"expiry": expiry, "deadline": latest},
        )
    dc = DayCount[body.day_count]
    value = view.value
    made = writer.run(
        lambda signer, key: ctx.client.make_offer(
            signer, token.token_id, value, body.rate_bps, dc, expiry, recourse=body.recourse, key=key
        ),
        status_code=201,
    )
    offer_id = int(made.result["offer_id"] if isinstance(made.result, dict) else made.result.offer_id)
    with ctx.engine.begin() as conn:
        linked = conn.execute(
            core_select(financing_request_offers.c.offer_id).where(
                financing_request_offers.c.offer_id == offer_id
            )
        ).first()
        if linked is None:
            conn.execute(
                financing_request_offers.insert().values(
                    offer_id=offer_id, request_id=request_id, bank=caller.address
                )
            )
            record_request_event(
                conn, request_id, "FinancingRequestOfferMade", offerId=offer_id, bank=caller.address
            )
    return made


class LinkOfferBody(RequestModel):
    offer_id: JsonInt = Field(
        ge=1, le=MAX_ID, description="an open offer the calling bank made on chain with its own key"
    )


class LinkedOffer(BaseModel):
    """An offer a bank signed itself, now counted against the request (its holder sees it side by side)."""

    request_id: int
    offer_id: int
    bank: str


@router.post(
    "/requests/{request_id}/offers/link",
    status_code=201,
    summary="Count an offer the bank made with its own key against a request (a bank asked; self-custody)",
)
def link_offer(
    request_id: IdPath, body: LinkOfferBody, ctx: ContextDep, session: SessionDep, caller: BankParticipant
) -> LinkedOffer:
    """For a bank that signs its own transactions: it makes the offer on chain (`makeOffer`, or
    `/v1/tx/prepare` with `operation: offer`) for exactly the request's token and value, expiring by the
    request's deadline, then names it here. Anything else about the offer is refused with 422 `offer_id`."""
    row, view = _open_request(session, caller, request_id)
    ctx.sync()  # the offer was just mined: the index must know it
    session.expire_all()
    offer = session.get(Financing, body.offer_id)
    latest = view.deadline if view.deadline is not None else None
    problems = []
    if offer is None or offer.bank != caller.address:
        problems.append("is not an offer of yours")
    else:
        if offer.status != "open":
            problems.append(f"is {offer.status}")
        if offer.token_id != row.token_id:
            problems.append(f"is on token {offer.token_id}, the request on {row.token_id}")
        if offer.value != view.value:
            problems.append(f"offers {offer.value}, the request asks for {view.value}")
        if latest is not None and offer.expiry > latest:
            problems.append(f"expires at {offer.expiry}, after the request's deadline {latest}")
    if problems:
        raise RefusedField("offer_id", f"offer {body.offer_id} " + "; ".join(problems))
    with ctx.engine.begin() as conn:
        linked = conn.execute(
            core_select(financing_request_offers.c.request_id).where(
                financing_request_offers.c.offer_id == body.offer_id
            )
        ).scalar()
        if linked is not None and int(linked) != request_id:
            raise RefusedField(
                "offer_id", f"offer {body.offer_id} already answers financing request {linked}"
            )
        if linked is None:
            conn.execute(
                financing_request_offers.insert().values(
                    offer_id=body.offer_id, request_id=request_id, bank=caller.address
                )
            )
            record_request_event(
                conn, request_id, "FinancingRequestOfferMade", offerId=body.offer_id, bank=caller.address
            )
    return LinkedOffer(request_id=request_id, offer_id=body.offer_id, bank=caller.address)


@router.post(
    "/requests/{request_id}/accept",
    summary="Accept one offer against a request: token for cash at once; the other offers lapse (holder)",
)
def accept_request_offer(
    request_id: IdPath,
    body: RequestAcceptBody,
    ctx: ContextDep,
    session: SessionDep,
    caller: CurrentParticipant,
    writer: WriterDep,
) -> WriteResult[FinancedResult]:
    row = _visible_request(session, caller, request_id)
    if row.holder != caller.address:
        raise Forbidden(f"financing request {request_id} belongs to another holder")
    _open_request(session, caller, request_id)
    offer = next((f for f in _linked_offers(session, request_id) if f.offer_id == body.offer_id), None)
    if offer is None:
        raise RefusedField(
            "offer_id",
            f"offer {body.offer_id} was not made against financing request {request_id}",
            sentence="FinancingRequestOfferUnknown",
            sentence_args={"offerId": body.offer_id, "requestId": request_id},
        )
    if offer.status != "open":
        raise Conflict(f"offer {offer.offer_id} is {offer.status}")
    offer_id = offer.offer_id
    accepted = writer.run(lambda signer, key: ctx.client.accept_offer(signer, offer_id, key=key))
    with ctx.engine.begin() as conn:
        updated = conn.execute(
            financing_requests.update()
            .where(financing_requests.c.request_id == request_id, financing_requests.c.status == "open")
            .values(status="accepted", accepted_offer_id=offer_id, decided_at=datetime.now(UTC))
        )
        if updated.rowcount:
            record_request_event(conn, request_id, "FinancingRequestAccepted", offerId=offer_id)
    return accepted


@router.post(
    "/requests/{request_id}/withdraw",
    summary="Withdraw an open request: the banks asked no longer see the token; its offers lapse (holder)",
)
def withdraw_request(
    request_id: IdPath, ctx: ContextDep, session: SessionDep, caller: CurrentParticipant
) -> FinancingRequestView:
    row = _visible_request(session, caller, request_id)
    if row.holder != caller.address:
        raise Forbidden(f"financing request {request_id} belongs to another holder")
    _open_request(session, caller, request_id)
    with ctx.engine.begin() as conn:
        conn.execute(
            financing_requests.update()
            .where(financing_requests.c.request_id == request_id)
            .values(status="withdrawn", decided_at=datetime.now(UTC))
        )
        record_request_event(conn, request_id, "FinancingRequestWithdrawn")
        changed = _request_row(conn, request_id)
    assert changed is not None
    return _view(session, caller, changed, ledger_now(session))


def lapsed_request(session: Session, offer_id: int) -> int | None:
    """The request an offer was made against, when that request is no longer open (the offer lapsed)."""
    linked = (
        session.connection()
        .execute(
            core_select(financing_request_offers.c.request_id).where(
                financing_request_offers.c.offer_id == offer_id
            )
        )
        .scalar()
    )
    if linked is None:
        return None
    row = _request_row(session.connection(), int(linked))
    if row is None:
        return None
    offers = _linked_offers(session, row.request_id)
    financed = next((f for f in offers if f.status == ACCEPTED), None)
    status = request_status(row, session.get(Token, row.token_id), financed, ledger_now(session))
    return None if status == "open" else row.request_id


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
