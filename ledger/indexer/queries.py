"""Read-side queries over the projections; the API's routes call these and shape the answers.

Money is summed in Python: values are exact `int`s on both databases, while SQLite can only SUM the
fixed-width digit strings `U256` stores there as lossy floats. The rows summed are already narrowed
by indexed columns (tokens by slot, owner or parent), so this stays cheap: the holder list of a
10,000-piece obligation and the lineage of a 10-deep piece each take milliseconds.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

from pydantic import BaseModel
from sqlalchemy import false
from sqlmodel import Session, col, select

from ledger.indexer.models import (
    DEFAULTED,
    OUTSTANDING,
    OVERDUE,
    PENDING,
    Financing,
    Obligation,
    Participant,
    PendingMove,
    RecourseClaim,
    Recovery,
    Token,
)


class TokenView(BaseModel):
    token_id: int
    slot: int
    owner: str
    value: int
    parent_id: int | None
    root_id: int | None
    depth: int
    frozen: bool
    burned: bool

    @classmethod
    def of(cls, t: Token) -> TokenView:
        return cls(
            token_id=t.token_id,
            slot=t.slot,
            owner=t.owner,
            value=t.value,
            parent_id=t.parent_id,
            root_id=t.root_id,
            depth=t.depth,
            frozen=t.frozen,
            burned=t.burned,
        )


class Holding(BaseModel):
    token: TokenView
    obligor: str | None
    currency_code: str | None
    maturity: int | None
    state: str | None


class Lineage(BaseModel):
    """`ancestors` runs from the parent up to the root; `descendants` by depth, then token id."""

    token: TokenView
    ancestors: list[TokenView]
    descendants: list[TokenView]


class HolderPosition(BaseModel):
    owner: str
    value: int
    tokens: list[int]


class HolderList(BaseModel):
    slot: int
    supply: int
    holders: list[HolderPosition]


class ObligorExposure(BaseModel):
    obligor: str
    obligations: int
    face: int
    paid: int
    outstanding: int
    overdue: int
    defaulted: int


class BankExposure(BaseModel):
    bank: str
    tokens: int
    held_value: int
    by_obligor: dict[str, int]
    financed_value: int
    price_paid: int
    recourse_open: int = 0  # recourse claims (追索) still owed to the bank by sellers


class TierExposure(BaseModel):
    depth: int
    tokens: int
    value: int
    holders: int


class MaturityEntry(BaseModel):
    maturity_date: date
    maturity: int
    slot: int
    obligor: str
    currency_code: str | None
    face: int
    paid: int
    outstanding: int
    state: str


class BookEntry(BaseModel):
    offer_id: int
    status: str
    token_id: int
    financed_token_id: int | None
    value: int
    price: int | None
    discount: int | None
    days: int | None
    rate_bps: int
    day_count: str
    recourse: bool
    holder: str | None
    slot: int | None
    obligor: str | None
    maturity: int | None
    current_value: int | None
    redeemed: bool | None
    registration_number: str | None = None
    recourse_state: str | None = None  # the recourse claim (追索), once opened
    recourse_remaining: int | None = None


RECOURSE_OPEN_STATES = ("open", "partly_settled")


class RecourseView(BaseModel):
    """A recourse claim (追索) of a financing's bank on its seller; `remaining` is what is still owed."""

    offer_id: int
    bank: str
    seller: str
    slot: int
    obligor: str | None
    currency_code: str | None
    shortfall: int
    settled: int
    waived: int
    remaining: int
    state: str
    opened_block: int
    opened_at: int
    closed_block: int | None

    @classmethod
    def of(cls, c: RecourseClaim, obligation: Obligation | None) -> RecourseView:
        open_ = c.state in RECOURSE_OPEN_STATES
        return cls(
            offer_id=c.offer_id,
            bank=c.bank,
            seller=c.seller,
            slot=c.slot,
            obligor=obligation.obligor if obligation else None,
            currency_code=obligation.currency_code if obligation else None,
            shortfall=c.shortfall,
            settled=c.settled,
            waived=c.waived,
            remaining=c.shortfall - c.settled if open_ else 0,
            state=c.state,
            opened_block=c.opened_block,
            opened_at=c.opened_at,
            closed_block=c.closed_block,
        )


def recourse_claims(
    session: Session,
    *,
    bank: str | None = None,
    seller: str | None = None,
    party: str | None = None,
    state: str | None = None,
    slot: int | None = None,
    open_only: bool = False,
) -> list[RecourseView]:
    """Recourse claims by offer id, narrowed by bank, seller, either party (`party`), state or slot."""
    query = select(RecourseClaim)
    if bank is not None:
        query = query.where(col(RecourseClaim.bank) == bank.lower())
    if seller is not None:
        query = query.where(col(RecourseClaim.seller) == seller.lower())
    if party is not None:
        query = query.where(
            (col(RecourseClaim.bank) == party.lower()) | (col(RecourseClaim.seller) == party.lower())
        )
    if state is not None:
        query = query.where(col(RecourseClaim.state) == state)
    if open_only:
        query = query.where(col(RecourseClaim.state).in_(RECOURSE_OPEN_STATES))
    if slot is not None:
        query = query.where(col(RecourseClaim.slot) == slot)
    claims = session.exec(query.order_by(col(RecourseClaim.offer_id))).all()
    slots = {c.slot for c in claims}
    rows = session.exec(select(Obligation).where(col(Obligation.slot).in_(slots))).all()
    obligations = {o.slot: o for o in rows}
    return [RecourseView.of(c, obligations.get(c.slot)) for c in claims]


def recourse_claim(session: Session, offer_id: int) -> RecourseView | None:
    claim = session.get(RecourseClaim, offer_id)
    if claim is None:
        return None
    return RecourseView.of(claim, session.get(Obligation, claim.slot))


class RecoveryView(BaseModel):
    """A lost-key recovery (密钥遗失恢复): `state` is requested, approved or cancelled; `tokens_moved` counts
    the tokens moved to the replacement so far. `case_ref` is the 32 bytes recorded on-chain."""

    id: int
    lost: str
    replacement: str
    case_ref: str
    state: str
    requested_by: str
    requested_block: int
    requested_at: int
    requested_tx: str
    approved_by: str | None
    cancelled_by: str | None
    closed_block: int | None
    closed_at: int | None
    closed_tx: str | None
    tokens_moved: int
    last_tokens_block: int | None

    @classmethod
    def of(cls, r: Recovery) -> RecoveryView:
        return cls.model_validate(r, from_attributes=True)


def recoveries(
    session: Session,
    *,
    lost: str | None = None,
    replacement: str | None = None,
    state: str | None = None,
    since_block: int | None = None,
    until_block: int | None = None,
) -> list[RecoveryView]:
    """Recoveries in request order, narrowed by the lost or the replacement address, state, or blocks
    (a recovery counts in a period when any of its steps falls in it)."""
    query = select(Recovery)
    if lost is not None:
        query = query.where(col(Recovery.lost) == lost.lower())
    if replacement is not None:
        query = query.where(col(Recovery.replacement) == replacement.lower())
    if state is not None:
        query = query.where(col(Recovery.state) == state)
    rows = session.exec(query.order_by(col(Recovery.id))).all()
    views = [RecoveryView.of(r) for r in rows]
    if since_block is None and until_block is None:
        return views
    lo, hi = since_block or 0, until_block if until_block is not None else 2**63

    def touches(v: RecoveryView) -> bool:
        steps = [v.requested_block, v.closed_block, v.last_tokens_block]
        return any(b is not None and lo <= b <= hi for b in steps)

    return [v for v in views if touches(v)]


MAX_RECOVERY_HOPS = 8  # as the registry's `currentAccount` follows at most a few recoveries


def predecessors(session: Session, account: str) -> frozenset[str]:
    """The addresses `account` acts for through approved recoveries: each lost address whose record (and
    chain of recoveries) ended at `account`, as the registry's `currentAccount` maps them to it."""
    found: set[str] = set()
    frontier = {account.lower()}
    for _ in range(MAX_RECOVERY_HOPS):
        rows = session.exec(
            select(Recovery.lost).where(
                col(Recovery.replacement).in_(frontier), col(Recovery.state) == "approved"
            )
        ).all()
        frontier = {str(r) for r in rows} - found
        if not frontier:
            break
        found |= frontier
    return frozenset(found)


def recovery(session: Session, lost: str) -> RecoveryView | None:
    """The latest recovery of `lost` (open, approved or cancelled), or None."""
    found = recoveries(session, lost=lost)
    return found[-1] if found else None


def _unpaid(o: Obligation) -> int:
    return max(o.face - o.paid, 0)


def holdings(session: Session, owner: str) -> list[Holding]:
    """Live tokens of `owner`, with the terms of their obligations."""
    rows = session.exec(
        select(Token, Obligation)
        .join(Obligation, col(Obligation.slot) == col(Token.slot), isouter=True)
        .where(col(Token.owner) == owner.lower(), col(Token.burned) == false())
        .order_by(col(Token.token_id))
    ).all()
    return [
        Holding(
            token=TokenView.of(t),
            obligor=o.obligor if o else None,
            currency_code=o.currency_code if o else None,
            maturity=o.maturity if o else None,
            state=o.state if o else None,
        )
        for t, o in rows
    ]


def lineage(session: Session, token_id: int) -> Lineage | None:
    """The token, its ancestors to the root and its whole subtree, each with one recursive query."""
    token = session.get(Token, token_id)
    if token is None:
        return None
    up = select(Token.token_id, Token.parent_id).where(col(Token.token_id) == token.parent_id)
    up_cte = up.cte("ancestors", recursive=True)
    up_cte = up_cte.union_all(
        select(Token.token_id, Token.parent_id).where(col(Token.token_id) == up_cte.c.parent_id)
    )
    ancestors = session.exec(
        select(Token)
        .where(col(Token.token_id).in_(select(up_cte.c.token_id)))
        .order_by(col(Token.depth).desc())
    ).all()
    down = select(Token.token_id).where(col(Token.parent_id) == token_id)
    down_cte = down.cte("descendants", recursive=True)
    down_cte = down_cte.union_all(select(Token.token_id).where(col(Token.parent_id) == down_cte.c.token_id))
    descendants = session.exec(
        select(Token)
        .where(col(Token.token_id).in_(select(down_cte.c.token_id)))
        .order_by(col(Token.depth), col(Token.token_id))
    ).all()
    return Lineage(
        token=TokenView.of(token),
        ancestors=[TokenView.of(t) for t in ancestors],
        descendants=[TokenView.of(t) for t in descendants],
    )


def holders(session: Session, slot: int) -> HolderList | None:
    """Everyone holding a live piece of obligation `slot`, largest position first."""
    obligation = session.get(Obligation, slot)
    if obligation is None:
        return None
    rows = session.exec(
        select(Token.owner, Token.value, Token.token_id).where(
            col(Token.slot) == slot, col(Token.burned) == false()
        )
    ).all()
    value: dict[str, int] = defaultdict(int)
    tokens: dict[str, list[int]] = defaultdict(list)
    for owner, amount, token_id in rows:
        value[owner] += amount
        tokens[owner].append(token_id)
    # Built without validation (`model_construct`): every field comes typed from the database, and
    # validating each of 10,000 token ids again was most of the time this query took.
    positions = [
        HolderPosition.model_construct(owner=o, value=v, tokens=sorted(tokens[o])) for o, v in value.items()
    ]
    positions.sort(key=lambda p: (-p.value, p.owner))
    return HolderList.model_construct(slot=slot, supply=obligation.supply, holders=positions)


def exposure_by_obligor(session: Session) -> list[ObligorExposure]:
    """Per obligor: face issued, paid, and what is unpaid by state (outstanding / overdue / defaulted)."""
    out: dict[str, ObligorExposure] = {}
    for o in session.exec(select(Obligation)).all():
        e = out.setdefault(
            o.obligor,
            ObligorExposure(
                obligor=o.obligor, obligations=0, face=0, paid=0, outstanding=0, overdue=0, defaulted=0
            ),
        )
        e.obligations += 1
        e.face += o.face
        e.paid += o.paid
        if o.state in (OUTSTANDING, OVERDUE):
            e.outstanding += _unpaid(o)
        if o.state == OVERDUE:
            e.overdue += _unpaid(o)
        if o.state == DEFAULTED:
            e.defaulted += _unpaid(o)
    return sorted(out.values(), key=lambda e: (-e.outstanding, e.obligor))


def exposure_by_bank(session: Session) -> list[BankExposure]:
    """Per bank (participant with the BANK role): receivables held now, by obligor, and what it financed."""
    banks = [p.address for p in session.exec(select(Participant)).all() if "BANK" in p.roles]
    obligors = {o.slot: o.obligor for o in session.exec(select(Obligation)).all()}
    result = []
    for bank in sorted(banks):
        by_obligor: dict[str, int] = defaultdict(int)
        count = 0
        for slot, amount in session.exec(
            select(Token.slot, Token.value).where(col(Token.owner) == bank, col(Token.burned) == false())
        ).all():
            by_obligor[obligors.get(slot, "?")] += amount
            count += 1
        financed = session.exec(
            select(Financing).where(col(Financing.bank) == bank, col(Financing.status) == "financed")
        ).all()
        claims = session.exec(
            select(RecourseClaim).where(
                col(RecourseClaim.bank) == bank, col(RecourseClaim.state).in_(RECOURSE_OPEN_STATES)
            )
        ).all()
        result.append(
            BankExposure(
                bank=bank,
                tokens=count,
                held_value=sum(by_obligor.values()),
                by_obligor=dict(by_obligor),
                financed_value=sum(f.value for f in financed),
                price_paid=sum(f.price or 0 for f in financed),
                recourse_open=sum(c.shortfall - c.settled for c in claims),
            )
        )
    return result


def exposure_by_tier(session: Session, slot: int | None = None) -> list[TierExposure]:
    """Live value per depth in the supply chain (0 = tier-1 supplier's issued token), optionally one slot."""
    query = select(Token.depth, Token.value, Token.owner).where(col(Token.burned) == false())
    if slot is not None:
        query = query.where(col(Token.slot) == slot)
    tiers: dict[int, TierExposure] = {}
    owners: dict[int, set[str]] = defaultdict(set)
    for depth, amount, owner in session.exec(query).all():
        t = tiers.setdefault(depth, TierExposure(depth=depth, tokens=0, value=0, holders=0))
        t.tokens += 1
        t.value += amount
        owners[depth].add(owner)
    for depth, t in tiers.items():
        t.holders = len(owners[depth])
    return [tiers[d] for d in sorted(tiers)]


def maturity_calendar(
    session: Session, start: int | None = None, end: int | None = None
) -> list[MaturityEntry]:
    """Obligations by maturity (unix seconds, optional [start, end]) with what is still unpaid."""
    query = select(Obligation)
    if start is not None:
        query = query.where(col(Obligation.maturity) >= start)
    if end is not None:
        query = query.where(col(Obligation.maturity) <= end)
    entries = []
    for o in session.exec(query.order_by(col(Obligation.maturity), col(Obligation.slot))).all():
        entries.append(
            MaturityEntry(
                maturity_date=datetime.fromtimestamp(o.maturity, UTC).date(),
                maturity=o.maturity,
                slot=o.slot,
                obligor=o.obligor,
                currency_code=o.currency_code,
                face=o.face,
                paid=o.paid,
                outstanding=_unpaid(o) if o.state in (OUTSTANDING, OVERDUE) else 0,
                state=o.state,
            )
        )
    return entries


def financing_book(session: Session, bank: str) -> list[BookEntry]:
    """Every offer of `bank`, and for financed ones the piece it holds now and its obligation."""
    offers = session.exec(
        select(Financing).where(col(Financing.bank) == bank.lower()).order_by(col(Financing.offer_id))
    ).all()
    book = []
    for f in offers:
        claim = session.get(RecourseClaim, f.offer_id) if f.recourse else None
        claim_view = RecourseView.of(claim, None) if claim else None
        piece = session.get(Token, f.financed_token_id) if f.financed_token_id else None
        obligation = session.get(Obligation, piece.slot) if piece else None
        book.append(
            BookEntry(
                offer_id=f.offer_id,
                status=f.status,
                token_id=f.token_id,
                financed_token_id=f.financed_token_id,
                value=f.value,
                price=f.price,
                discount=f.discount,
                days=f.days,
                rate_bps=f.rate_bps,
                day_count=f.day_count,
                recourse=f.recourse,
                holder=f.holder,
                slot=piece.slot if piece else None,
                obligor=obligation.obligor if obligation else None,
                maturity=obligation.maturity if obligation else None,
                current_value=piece.value if piece else None,
                redeemed=piece.burned if piece else None,
                registration_number=f.registration_number,
                recourse_state=claim_view.state if claim_view else None,
                recourse_remaining=claim_view.remaining if claim_view else None,
            )
        )
    return book


class PendingMoveView(BaseModel):
    """A bill-mode move waiting for 签收 (or, with `status`, how it ended). `source_token_id` is 0 when the
    whole token pends; the piece is the sender's until the receiver accepts."""

    token_id: int
    source_token_id: int
    slot: int
    sender: str
    receiver: str
    value: int
    expiry: int
    status: str
    merged_into: int | None
    created_block: int
    closed_block: int | None
    obligor: str | None
    currency_code: str | None
    maturity: int | None

    @classmethod
    def of(cls, m: PendingMove, o: Obligation | None) -> PendingMoveView:
        return cls(
            token_id=m.token_id,
            source_token_id=m.source_token_id,
            slot=m.slot,
            sender=m.sender,
            receiver=m.receiver,
            value=m.value,
            expiry=m.expiry,
            status=m.status,
            merged_into=m.merged_into,
            created_block=m.created_block,
            closed_block=m.closed_block,
            obligor=o.obligor if o is not None else None,
            currency_code=o.currency_code if o is not None else None,
            maturity=o.maturity if o is not None else None,
        )


def pending_moves(
    session: Session, *, receiver: str | None = None, sender: str | None = None, status: str | None = PENDING
) -> list[PendingMoveView]:
    """Pending moves to `receiver` (incoming) or from `sender` (outgoing), by token id; `status` None
    lists every state."""
    query = select(PendingMove)
    if receiver is not None:
        query = query.where(col(PendingMove.receiver) == receiver)
    if sender is not None:
        query = query.where(col(PendingMove.sender) == sender)
    if status is not None:
        query = query.where(col(PendingMove.status) == status)
    rows = session.exec(query.order_by(col(PendingMove.token_id))).all()
    obligations = {
        o.slot: o
        for o in session.exec(
            select(Obligation).where(col(Obligation.slot).in_({r.slot for r in rows}))
        ).all()
    }
    return [PendingMoveView.of(r, obligations.get(r.slot)) for r in rows]


def pending_move(session: Session, token_id: int) -> PendingMoveView | None:
    row = session.get(PendingMove, token_id)
    return None if row is None else PendingMoveView.of(row, session.get(Obligation, row.slot))


def pending_token_ids(session: Session, slot: int) -> set[int]:
    """The pieces of obligation `slot` pending acceptance now (the lineage marks them)."""
    query = select(PendingMove.token_id).where(
        col(PendingMove.slot) == slot, col(PendingMove.status) == PENDING
    )
    return set(session.exec(query).all())
