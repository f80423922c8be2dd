"""Banks' credit limits (授信) and their use, and each bank's concentration in each core enterprise.

The limits live on-chain in the FinancingDesk (`setCreditLimit`, `creditLimit`): `used` is the face value
of pieces the bank financed that still count (not yet released after redemption or an onward sale). The
counterparties worth listing come from the index: every limit a bank set (`CreditLimitSet` events) and
every obligor and seller it financed. Concentration is the bank's outstanding financed value on one
obligor over its outstanding financed value on all of them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Literal, Protocol

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from ledger.client.models import CreditLimit
from ledger.indexer.models import Event, Financing, Obligation, Token

Kind = Literal["obligor", "seller"]


class LimitReader(Protocol):
    def credit_limit(self, bank: str, counterparty: str, *, per_obligor: bool = True) -> CreditLimit: ...


class LimitLine(BaseModel):
    counterparty: str
    kind: Kind = Field(description="a core enterprise (obligor) or a seller")
    limit: int | None = Field(description="minor units; null when the bank recorded none (unlimited)")
    used: int = Field(description="outstanding financed value counted against it, minor units")
    available: int | None = Field(description="limit - used; null when unlimited")
    share: float | None = Field(
        default=None, description="obligors: this obligor's part of the bank's outstanding financed value"
    )


class BankLimits(BaseModel):
    bank: str
    outstanding: int = Field(description="the bank's outstanding financed value on all obligors")
    lines: list[LimitLine]


def _counterparties(session: Session, bank: str) -> set[tuple[str, Kind]]:
    found: set[tuple[str, Kind]] = set()
    events = session.exec(
        select(Event).where(col(Event.contract) == "FinancingDesk", col(Event.name) == "CreditLimitSet")
    ).all()
    for e in events:
        if str(e.args["bank"]).lower() == bank:
            kind: Kind = "obligor" if e.args["perObligor"] else "seller"
            found.add((str(e.args["counterparty"]).lower(), kind))
    financed = session.exec(
        select(Financing).where(col(Financing.bank) == bank, col(Financing.status) == "financed")
    ).all()
    for f in financed:
        if f.holder is not None:
            found.add((f.holder.lower(), "seller"))
        token = session.get(Token, f.token_id)
        obligation = session.get(Obligation, token.slot) if token is not None else None
        if obligation is not None:
            found.add((obligation.obligor.lower(), "obligor"))
    return found


def bank_limits(session: Session, reader: LimitReader, bank: str) -> BankLimits:
    """One bank's limits and their use, obligors first (by use), then sellers."""
    bank = bank.lower()
    lines = []
    for counterparty, kind in _counterparties(session, bank):
        read = reader.credit_limit(bank, counterparty, per_obligor=kind == "obligor")
        lines.append(
            LimitLine(
                counterparty=counterparty,
                kind=kind,
                limit=read.limit or None,
                used=read.used,
                available=read.available,
            )
        )
    outstanding = sum(line.used for line in lines if line.kind == "obligor")
    for line in lines:
        if line.kind == "obligor":
            line.share = round(line.used / outstanding, 4) if outstanding else 0.0
    lines.sort(key=lambda line: (line.kind != "obligor", -line.used, line.counterparty))
    return BankLimits(bank=bank, outstanding=outstanding, lines=lines)


class ObligorConcentration(BaseModel):
    obligor: str
    banks: int = Field(description="banks with value outstanding on this obligor (multi-bank credit)")
    outstanding: int = Field(description="Σ over banks of outstanding financed value, minor units")
    by_bank: dict[str, int]


def all_banks(session: Session, reader: LimitReader) -> tuple[list[BankLimits], list[ObligorConcentration]]:
    """Every bank that set a limit or financed; and per obligor, how many banks carry it and how much."""
    banks = {str(b).lower() for b in session.exec(select(Financing.bank).distinct()).all()}
    events = session.exec(
        select(Event).where(col(Event.contract) == "FinancingDesk", col(Event.name) == "CreditLimitSet")
    ).all()
    banks |= {str(e.args["bank"]).lower() for e in events}
    per_bank = [bank_limits(session, reader, b) for b in sorted(banks)]
    by_obligor: dict[str, dict[str, int]] = defaultdict(dict)
    for b in per_bank:
        for line in b.lines:
            if line.kind == "obligor" and line.used:
                by_obligor[line.counterparty][b.bank] = line.used
    concentration = [
        ObligorConcentration(obligor=o, banks=len(v), outstanding=sum(v.values()), by_bank=v)
        for o, v in sorted(by_obligor.items(), key=lambda kv: -sum(kv[1].values()))
    ]
    return per_bank, concentration
