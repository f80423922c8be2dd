"""Object-level authorization: who may see and move which record.

The rules, in one place: regulators and the operator see everything; a core enterprise sees the
whole tree of its own obligations; a holder sees its own tokens and the pieces it split off them; a
bank sees the tokens it made offers on or financed. Anything a caller may not see answers 404, as if
it did not exist; a record it may see but not act on answers 403.
"""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import Session, col, select

from api.errors import Forbidden, NotFound
from api.security import Principal, Role
from ledger.indexer.models import Financing, Obligation, Proposal, Token


def is_obligor(caller: Principal, obligation: Obligation | None) -> bool:
    return obligation is not None and obligation.obligor == caller.address


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
    if caller.has(Role.BANK):
        offered = session.exec(
            select(Financing.offer_id).where(
                col(Financing.bank) == caller.address,
                or_(
                    col(Financing.token_id) == token.token_id,
                    col(Financing.financed_token_id) == token.token_id,
                ),
            )
        ).first()
        return offered is not None
    return False


def visible_token(session: Session, caller: Principal, token_id: int) -> Token:
    token = session.get(Token, token_id)
    if token is None or not can_see_token(session, caller, token):
        raise NotFound(f"token {token_id} not found")
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
    if caller.has(Role.BANK):
        tokens = select(Token.token_id).where(col(Token.slot) == obligation.slot)
        offered = session.exec(
            select(Financing.offer_id).where(
                col(Financing.bank) == caller.address, col(Financing.token_id).in_(tokens)
            )
        ).first()
        return offered is not None
    return False


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
