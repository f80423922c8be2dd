"""A participant's own history: every indexed event that moved, financed, redeemed or froze value held
by the caller (or an address it replaced), oldest first, one entry per event.

The entries are read from the indexer's history tables: ownership moves and value moves of tokens
(`transfers`), financings (`financings`), redemptions, freezes and court-ordered transfers. A value
move from one of the caller's pieces to another's is `paid`, the reverse `received`, between two of
its own pieces `split`; a move that delivered a financed piece to its bank is `financed` on both
sides; a value move of a court-ordered transfer is `enforced`. Owners are those at the time of each
event (replayed from the ownership moves), values those of the piece at that time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import or_
from sqlmodel import Session, col, select

from ledger.indexer.models import (
    Event,
    Financing,
    ForcedTransfer,
    Freeze,
    Obligation,
    PendingMove,
    Redemption,
    Token,
    Transfer,
)
from ledger.regulatory.directory import Directory

HistoryKind = Literal[
    "issued", "received", "paid", "split", "financed", "redeemed", "frozen", "unfrozen", "enforced"
]
CSV_COLUMNS = (
    "time",
    "block",
    "tx",
    "kind",
    "token_id",
    "obligation",
    "counterparty",
    "counterparty_name",
    "value",
    "currency",
)


class HistoryEntry(BaseModel):
    """One event of the caller's history."""

    event_id: int = Field(description="the event's id in the indexer: the list's order and cursor key")
    time: int = Field(description="the block's timestamp, unix seconds")
    block: int
    tx_hash: str
    kind: HistoryKind
    token_id: int = Field(description="the caller's piece the event touched")
    obligation: int | None = Field(description="the obligation (slot) of that piece")
    counterparty: str | None = Field(description="the other party's address; null when none")
    counterparty_name: str | None = Field(description="its legal name; null when not on file or none")
    value: int | None = Field(description="minor units of `currency_code` the event moved or concerned")
    currency_code: str | None


@dataclass(frozen=True)
class _Position:
    block: int
    log: int


class _Owners:
    """Owner of each token at any point of the chain, replayed from its ownership moves."""

    def __init__(self, moves: Iterable[Transfer]) -> None:
        self._moves: dict[int, list[tuple[int, int, str | None]]] = defaultdict(list)
        for m in moves:
            if m.token_id is not None:
                self._moves[m.token_id].append((m.block_number, m.log_index, m.to_address))
        for rows in self._moves.values():
            rows.sort(key=lambda r: (r[0], r[1]))

    def at(self, token_id: int, where: _Position) -> str | None:
        owner = None
        for block, log, to in self._moves.get(token_id, []):
            if (block, log) > (where.block, where.log):
                break
            owner = to
        return owner


class _Values:
    """Value of each of the caller's tokens at any point, replayed from its value moves."""

    def __init__(self, moves: Iterable[Transfer]) -> None:
        self._deltas: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for m in moves:
            value = m.value or 0
            if m.from_token_id:
                self._deltas[m.from_token_id].append((m.block_number, m.log_index, -value))
            if m.to_token_id:
                self._deltas[m.to_token_id].append((m.block_number, m.log_index, value))
        for rows in self._deltas.values():
            rows.sort(key=lambda r: (r[0], r[1]))

    def at(self, token_id: int, where: _Position) -> int:
        total = 0
        for block, log, delta in self._deltas.get(token_id, []):
            if (block, log) > (where.block, where.log):
                break
            total += delta
        return total


def participant_history(
    session: Session, identities: frozenset[str], directory: Directory
) -> list[HistoryEntry]:
    """Every event touching the pieces of `identities`, oldest first."""
    me = {a.lower() for a in identities}
    moves = session.exec(
        select(Transfer).where(
            col(Transfer.kind) != "value",
            or_(col(Transfer.to_address).in_(me), col(Transfer.from_address).in_(me)),
        )
    ).all()
    mine = {m.token_id for m in moves if m.token_id is not None}
    if not mine:
        return []
    value_moves = session.exec(
        select(Transfer).where(
            col(Transfer.kind) == "value",
            or_(col(Transfer.from_token_id).in_(mine), col(Transfer.to_token_id).in_(mine)),
        )
    ).all()
    related = set(mine)
    for v in value_moves:
        related.update(t for t in (v.from_token_id, v.to_token_id) if t)
    ownership = session.exec(
        select(Transfer).where(col(Transfer.kind) != "value", col(Transfer.token_id).in_(related))
    ).all()
    owners, values = _Owners(ownership), _Values(value_moves)
    slots = {t.token_id: t.slot for t in session.exec(select(Token).where(col(Token.token_id).in_(related)))}
    obligations = {
        o.slot: o
        for o in session.exec(select(Obligation).where(col(Obligation.slot).in_(set(slots.values()))))
    }
    financings = session.exec(select(Financing).where(col(Financing.financed_token_id).in_(related))).all()
    financed = {f.financed_token_id: f for f in financings if f.status == "financed"}
    forced_txs = set(
        session.exec(
            select(ForcedTransfer.tx_hash).where(
                or_(col(ForcedTransfer.from_token_id).in_(mine), col(ForcedTransfer.to_token_id).in_(mine))
            )
        ).all()
    )
    senders = {
        p.token_id: p.sender
        for p in session.exec(select(PendingMove).where(col(PendingMove.token_id).in_(mine)))
    }
    redemptions = session.exec(select(Redemption).where(col(Redemption.holder).in_(me))).all()
    freezes = session.exec(select(Freeze).where(col(Freeze.token_id).in_(mine))).all()

    drafts: list[tuple[int, int, str, HistoryKind, int, str | None, int | None]] = []

    def add(
        row: Transfer | Redemption | Freeze,
        kind: HistoryKind,
        token: int,
        other: str | None,
        value: int | None,
    ) -> None:
        drafts.append((row.event_id, row.block_number, row.tx_hash, kind, token, other, value))

    for v in value_moves:
        where = _Position(v.block_number, v.log_index)
        src, dst = v.from_token_id or 0, v.to_token_id or 0
        if dst == 0:
            continue  # a redemption's burn of value: the redemption row tells it
        to_owner = owners.at(dst, where)
        if src == 0:
            if to_owner in me:
                add(v, "issued", dst, None, v.value)
            continue
        from_owner = owners.at(src, where)
        deal = financed.get(dst)
        kind: HistoryKind
        if v.tx_hash in forced_txs:
            kind = "enforced"
        elif deal is not None:
            kind = "financed"
        elif from_owner in me and to_owner in me:
            kind = "split"
        else:
            kind = "paid" if from_owner in me else "received"
        if from_owner in me:
            add(v, kind, src, None if kind == "split" else to_owner, v.value)
        elif to_owner in me:
            add(v, kind, dst, from_owner, v.value)
    for m in moves:
        if m.kind != "transfer" or m.token_id is None:
            continue
        where = _Position(m.block_number, m.log_index)
        worth = values.at(m.token_id, where)
        if m.from_address in me and m.to_address in me:
            continue
        if m.tx_hash in forced_txs:
            kind = "enforced"
        elif m.token_id in financed:
            kind = "financed"
        else:
            kind = "paid" if m.from_address in me else "received"
        other = m.to_address if m.from_address in me else senders.get(m.token_id, m.from_address)
        add(m, kind, m.token_id, other, worth)
    for r in redemptions:
        obligation = obligations.get(r.slot)
        slots.setdefault(r.token_id, r.slot)
        add(r, "redeemed", r.token_id, obligation.obligor if obligation else None, r.payout)
    for f in freezes:
        where = _Position(f.block_number, f.log_index)
        if owners.at(f.token_id, where) not in me:
            continue
        add(
            f,
            "frozen" if f.action == "freeze" else "unfrozen",
            f.token_id,
            f.regulator,
            values.at(f.token_id, where),
        )

    times = dict(
        session.exec(
            select(Event.id, Event.block_timestamp).where(col(Event.id).in_([d[0] for d in drafts]))
        ).all()
    )
    entries = []
    for event_id, block, tx, kind, token, other, value in sorted(drafts):
        slot = slots.get(token)
        obligation = obligations.get(slot) if slot is not None else None
        named = directory.get(other.lower()) if other else None
        entries.append(
            HistoryEntry(
                event_id=event_id,
                time=int(times.get(event_id, 0)),
                block=block,
                tx_hash=tx,
                kind=kind,
                token_id=token,
                obligation=slot,
                counterparty=other.lower() if other else None,
                counterparty_name=named[0] if named else None,
                value=value,
                currency_code=obligation.currency_code if obligation else None,
            )
        )
    return entries
