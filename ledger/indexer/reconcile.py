"""Reconciliation: does the database say what the chain says, at the block the database is at?

Every number the indexer derives is checked against the contracts' own view at the cursor block
(eth_call with that block number): per slot the supply, Σ of live token values, face and root; per
token its owner, value and frozen flag (burned tokens must not exist); per slot the RepaymentDesk
account; and the RepaymentDesk's settlement-token balance per currency against Σ(paid - paid out).
Calls go out in JSON-RPC batches, so 10,000 tokens cost a few round trips, not 30,000.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from ledger.indexer.errors import IndexerError
from ledger.indexer.manifest import IndexedDeployment
from ledger.indexer.models import Cursor, Obligation, Token
from ledger.indexer.source import RpcSource

log = logging.getLogger(__name__)

REPAYMENT_STATES = ("outstanding", "overdue", "repaid", "defaulted")
SLOT_TERMS = "(address,uint48,uint48,address,uint96,uint128,uint128)"
ACCOUNT = "(uint128,uint128,uint128,uint128,address,uint48,uint8)"


@dataclass(frozen=True)
class Mismatch:
    """One disagreement: what (`kind`), about which object (`key`), the database's and the chain's value."""

    kind: str
    key: str
    db: Any
    chain: Any

    def __str__(self) -> str:
        return f"{self.kind} {self.key}: db={self.db!r} chain={self.chain!r}"


@dataclass(frozen=True)
class _Call:
    to: str
    signature: str
    args: tuple[Any, ...]
    returns: tuple[str, ...]

    def data(self) -> str:
        _, _, rest = self.signature.partition("(")
        types = [t for t in rest.rstrip(")").split(",") if t]
        selector = keccak(text=self.signature)[:4]
        return "0x" + (selector + abi_encode(types, list(self.args))).hex()


class _Reader:
    """Batched eth_call at one block."""

    def __init__(self, source: RpcSource, block: int) -> None:
        self.source = source
        self.block = hex(block)

    def run(self, calls: Sequence[_Call]) -> list[tuple[Any, ...]]:
        raw = self.source.call_many(
            [("eth_call", [{"to": c.to, "data": c.data()}, self.block]) for c in calls]
        )
        return [
            tuple(abi_decode(list(c.returns), bytes.fromhex(r[2:]))) for c, r in zip(calls, raw, strict=True)
        ]


def reconcile(
    engine: Engine, source: RpcSource, deployment: IndexedDeployment, at_block: int | None = None
) -> list[Mismatch]:
    """Mismatches between the database and the chain at the cursor block (empty when all agree)."""
    token = deployment.address("ReceivableToken")
    desk = deployment.address("RepaymentDesk")
    with Session(engine) as session:
        cursor = session.get(Cursor, (deployment.chain_id, deployment.key))
        if cursor is None:
            raise IndexerError(f"deployment {deployment.key} is not indexed in this database")
        block = cursor.block_number
        if at_block is not None and at_block != block:
            raise IndexerError(f"the database is at block {block}; it cannot be compared at block {at_block}")
        obligations = list(session.exec(select(Obligation).order_by(col(Obligation.slot))).all())
        tokens = list(session.exec(select(Token).order_by(col(Token.token_id))).all())
    reader = _Reader(source, block)
    found: list[Mismatch] = []

    def check(kind: str, key: str, db: Any, chain: Any) -> None:
        if db != chain:
            found.append(Mismatch(kind, key, db, chain))

    (last_slot,), (last_token,) = reader.run(
        [_Call(token, "lastSlot()", (), ("uint256",)), _Call(token, "lastTokenId()", (), ("uint256",))]
    )
    check("slots.count", "all", len(obligations), last_slot)
    check("tokens.last_id", "all", max((t.token_id for t in tokens), default=0), last_token)

    live_values: dict[int, int] = defaultdict(int)
    for t in tokens:
        if not t.burned:
            live_values[t.slot] += t.value
    terms = reader.run([_Call(token, "slotTerms(uint256)", (o.slot,), (SLOT_TERMS,)) for o in obligations])
    accounts = reader.run([_Call(desk, "account(uint256)", (o.slot,), (ACCOUNT,)) for o in obligations])
    held: dict[str, int] = defaultdict(int)
    for o, (t,), (a,) in zip(obligations, terms, accounts, strict=True):
        key = f"slot {o.slot}"
        obligor, _maturity, root, currency, _min_unit, face, supply = t
        check("slot.supply", key, o.supply, supply)
        check("slot.sum_of_token_values", key, live_values.get(o.slot, 0), supply)
        check("slot.face", key, o.face, face)
        check("slot.root_token_id", key, o.root_token_id, root)
        check("slot.obligor", key, o.obligor, obligor.lower())
        paid, _face, paid_out, redeemed, _currency, _m, state = a
        check("repayment.paid", key, o.paid, paid)
        check("repayment.paid_out", key, o.paid_out, paid_out)
        check("repayment.redeemed_value", key, o.redeemed_value, redeemed)
        check("repayment.state", key, o.state, REPAYMENT_STATES[state])
        held[currency.lower()] += o.paid - o.paid_out

    live = [t for t in tokens if not t.burned]
    per_token = [
        _Call(token, sig, (t.token_id,), (ret,))
        for t in live
        for sig, ret in (
            ("ownerOf(uint256)", "address"),
            ("balanceOf(uint256)", "uint256"),
            ("isFrozen(uint256)", "bool"),
        )
    ]
    answers = reader.run(per_token)
    for i, t in enumerate(live):
        (owner,), (value,), (frozen,) = answers[3 * i : 3 * i + 3]
        key = f"token {t.token_id}"
        check("token.owner", key, t.owner, owner.lower())
        check("token.value", key, t.value, value)
        check("token.frozen", key, t.frozen, frozen)
    burned = [t for t in tokens if t.burned]
    gone = reader.run([_Call(token, "exists(uint256)", (t.token_id,), ("bool",)) for t in burned])
    for t, (exists,) in zip(burned, gone, strict=True):
        check("token.burned", f"token {t.token_id}", False, exists)

    currencies = sorted(held)
    balances = reader.run([_Call(c, "balanceOf(address)", (desk,), ("uint256",)) for c in currencies])
    for currency, (balance,) in zip(currencies, balances, strict=True):
        check("repayment_desk.balance", f"currency {currency}", held[currency], balance)

    log.info(
        "reconciled block=%d slots=%d tokens=%d mismatches=%d",
        block,
        len(obligations),
        len(tokens),
        len(found),
    )
    for mismatch in found:
        log.error("reconcile mismatch %s", mismatch)
    return found


@dataclass(frozen=True)
class ChainSlot:
    """One obligation as the contracts report it: ReceivableToken's terms and RepaymentDesk's account."""

    obligor: str
    face: int
    supply: int
    paid: int
    state: str


def chain_slots(
    source: RpcSource, deployment: IndexedDeployment, block: int, slots: Sequence[int]
) -> dict[int, ChainSlot]:
    """The chain's view of `slots` at `block` (batched eth_call), for reports that reconcile a subset."""
    token = deployment.address("ReceivableToken")
    desk = deployment.address("RepaymentDesk")
    reader = _Reader(source, block)
    terms = reader.run([_Call(token, "slotTerms(uint256)", (s,), (SLOT_TERMS,)) for s in slots])
    accounts = reader.run([_Call(desk, "account(uint256)", (s,), (ACCOUNT,)) for s in slots])
    found = {}
    for s, (t,), (a,) in zip(slots, terms, accounts, strict=True):
        obligor, _maturity, _root, _currency, _min_unit, face, supply = t
        paid, _face, _paid_out, _redeemed, _c, _m, state = a
        found[s] = ChainSlot(obligor.lower(), face, supply, paid, REPAYMENT_STATES[state])
    return found
