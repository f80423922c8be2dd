"""Recourse exposure (追索): what sellers still owe banks under recourse claims opened after defaults.

A financing made with recourse (有追索权保理) leaves the seller liable for the shortfall should the
obligation default; once the bank opens the claim on-chain (`FinancingDesk.openRecourse`) it counts here
until the seller settles it (清偿) or the bank waives it (放弃追索). Financings without recourse
(无追索权) never appear: their default loss stays with the bank.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, Field
from sqlmodel import Session

from ledger.indexer import queries


class RecourseExposure(BaseModel):
    """Open and partly settled recourse claims, with what remains owed by bank and by seller (minor
    units; claims in different currencies are summed only per claim's own currency code)."""

    claims: list[queries.RecourseView]
    total_remaining: dict[str, int] = Field(description="by currency code")
    by_bank: dict[str, dict[str, int]] = Field(description="bank → currency code → remaining")
    by_seller: dict[str, dict[str, int]] = Field(description="seller → currency code → remaining")


def recourse_exposure(session: Session, *, bank: str | None = None) -> RecourseExposure:
    claims = queries.recourse_claims(session, bank=bank, open_only=True)
    total: dict[str, int] = defaultdict(int)
    by_bank: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_seller: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in claims:
        code = c.currency_code or "?"
        total[code] += c.remaining
        by_bank[c.bank][code] += c.remaining
        by_seller[c.seller][code] += c.remaining
    return RecourseExposure(
        claims=claims,
        total_remaining=dict(total),
        by_bank={k: dict(v) for k, v in by_bank.items()},
        by_seller={k: dict(v) for k, v in by_seller.items()},
    )
