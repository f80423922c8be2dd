"""Object-level authorization: who may see and move which record.

The rules, in one place: regulators and the operator see everything; a core enterprise sees the
whole tree of its own obligations; a holder sees its own tokens and the pieces it split off them. A
bank sees, besides its own tokens, the pieces it bought (an accepted offer) and the tokens an open
financing request addressed to it (or to every bank) covers (`POST /financing/requests`): a request is
open until its holder accepts an offer against it or withdraws it, its deadline passes, the token
leaves the holder who asked, or the token's value no longer covers the value asked for. When it
closes the bank loses sight of the token, unless it bought a piece. An offer that is open, cancelled
or expired grants nothing: a bank offers only on a token it already sees, and an offer made on the
chain directly must not widen what the API shows it. Anything a caller may not see answers 404, as if
it did not exist; a record it may see but not act on answers 403.
"""

from __future__ import annotations

import time

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, true
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from api.errors import Conflict, Forbidden, NotFound
from api.security import Principal, Role
from api.tables import financing_request_banks, financing_request_offers, financing_requests
from ledger.indexer.models import Block, Financing, Obligation, Proposal, Token

# The indexer's status of an accepted offer: the bank paid and holds the piece it bought.
ACCEPTED = "financed"


def is_obligor(caller: Principal, obligation: Obligation | None) -> bool:
    return obligation is not None and caller.acts_for(obligation.obligor)


def sees_whole_slot(session: Session, caller: Principal, slot: int) -> bool:
    """The regulator, the operator and the obligor see every piece of an obligation."""
    return caller.sees_everything or is_obligor(caller, session.get(Obligation, slot))


def can_see_token(session: Session, caller: Principal, token: Token) -> bool:
    if caller.sees_everything or token.owner == caller.address:
        return True
    if is_obligor(caller, session.get(Obligation, token.slot)):
        return True
    if token.parent_id is not None:
        parent = session.get(Token, token.parent_id)
        if parent is not None and parent.owner == caller.address:
            return True
    return caller.has(Role.BANK) and bank_sees_token(session, caller.address, token)


def ledger_now(session: Session) -> int:
    """The time of the latest indexed block: what a request's deadline is compared with when deciding
    what a bank sees (the chain's clock, as far as the database knows it; the wall clock before any
    block is indexed)."""
    latest = session.exec(select(func.max(Block.timestamp))).one()
    return int(latest) if latest is not None else int(time.time())


def request_financed(request_id: ColumnElement[int]) -> ColumnElement[bool]:
    """An offer made against the request was accepted (through the API or on the chain directly)."""
    linked = financing_request_offers.c
    return exists().where(
        and_(
            linked.request_id == request_id,
            col(Financing.offer_id) == linked.offer_id,
            col(Financing.status) == ACCEPTED,
        )
    )


def request_is_open(now: int) -> ColumnElement[bool]:
    """The request (joined to its token as `Token`) is open: neither accepted nor withdrawn, before its
    deadline, its token still held whole enough by the holder who asked."""
    r = financing_requests.c
    return and_(
        r.status == "open",
        or_(r.deadline.is_(None), r.deadline > now),
        col(Token.token_id) == r.token_id,
        col(Token.owner) == r.holder,
        col(Token.burned) == false(),
        or_(r.value.is_(None), col(Token.value) >= r.value),
        ~request_financed(r.request_id),
    )


def addressed_to(bank: str) -> ColumnElement[bool]:
    """The request names `bank`, or every bank."""
    r = financing_request_banks.c
    return or_(
        financing_requests.c.all_banks == true(),
        exists().where(and_(r.request_id == financing_requests.c.request_id, r.bank == bank)),
    )


def bank_sees_token(session: Session, bank: str, token: Token) -> bool:
    """The piece `bank` bought (an accepted offer), or a live token an open request addressed to it
    covers."""
    bought = session.exec(
        select(Financing.offer_id).where(
            col(Financing.bank) == bank,
            col(Financing.status) == ACCEPTED,
            col(Financing.financed_token_id) == token.token_id,
        )
    ).first()
    if bought is not None:
        return True
    if token.burned:  # a redeemed token has left its holder: the request closed with it
        return False
    asked = (
        core_select(financing_requests.c.request_id)
        .select_from(financing_requests.join(Token, col(Token.token_id) == financing_requests.c.token_id))
        .where(
            financing_requests.c.token_id == token.token_id,
            request_is_open(ledger_now(session)),
            addressed_to(bank),
        )
    )
    return session.connection().execute(asked).first() is not None


def _bank_sees_slot(session: Session, bank: str, slot: int) -> bool:
    """A bank sees an obligation it bought a piece of, or one an open request addressed to it covers a
    piece of."""
    pieces = select(Token.token_id).where(col(Token.slot) == slot)
    bought = session.exec(
        select(Financing.offer_id).where(
            col(Financing.bank) == bank,
            col(Financing.status) == ACCEPTED,
            col(Financing.financed_token_id).in_(pieces),
        )
    ).first()
    if bought is not None:
        return True
    asked = (
        core_select(financing_requests.c.request_id)
        .select_from(financing_requests.join(Token, col(Token.token_id) == financing_requests.c.token_id))
        .where(col(Token.slot) == slot, request_is_open(ledger_now(session)), addressed_to(bank))
    )
    return session.connection().execute(asked).first() is not None


def visible_token(session: Session, caller: Principal, token_id: int) -> Token:
    token = session.get(Token, token_id)
    if token is None or not can_see_token(session, caller, token):
        raise NotFound(f"token {token_id} not found")
    return token


def offerable_token(session: Session, caller: Principal, token_id: int) -> Token:
    """A live token a bank may offer on: one it sees and does not hold. A token it may not see, a
    burned one and a missing one answer the same 404, so an offer tells a bank nothing new."""
    token = session.get(Token, token_id)
    if token is None or token.burned or not can_see_token(session, caller, token):
        raise NotFound(f"token {token_id} not found")
    if token.owner == caller.address:
        raise Conflict("a bank cannot finance a token it holds")
    return token


def held_token(session: Session, caller: Principal, token_id: int) -> Token:
    """A token the caller holds: only the holder moves value (404 if invisible, 403 if not its own)."""
    token = visible_token(session, caller, token_id)
    if token.owner != caller.address:
        raise Forbidden(f"token {token_id} is not held by {caller.address}")
    return token


def can_see_obligation(session: Session, caller: Principal, obligation: Obligation) -> bool:
    if caller.sees_everything or is_obligor(caller, obligation):
        return True
    held = session.exec(
        select(Token.token_id).where(col(Token.slot) == obligation.slot, col(Token.owner) == caller.address)
    ).first()
    if held is not None:
        return True
    return caller.has(Role.BANK) and _bank_sees_slot(session, caller.address, obligation.slot)


def visible_obligation(session: Session, caller: Principal, slot: int) -> Obligation:
    obligation = session.get(Obligation, slot)
    if obligation is None or not can_see_obligation(session, caller, obligation):
        raise NotFound(f"obligation {slot} not found")
    return obligation


def visible_proposal(session: Session, caller: Principal, proposal_id: int) -> Proposal:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or not (
        caller.sees_everything or caller.address in (proposal.supplier, proposal.obligor)
    ):
        raise NotFound(f"proposal {proposal_id} not found")
    return proposal
