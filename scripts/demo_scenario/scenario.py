"""The story, stage by stage, on a deployed system. Every number shown later is read from a receipt, an
event or a view here; nothing is precomputed except the plan of who pays whom (drawn from the seed).

Stages: 1 onboarding, 2 documents attested by 2-of-3 oracles, 3 issuance (propose + confirm),
4 payments down the supplier tree, each citing an attested invoice, 5 financing by two banks,
6 an invoice reuse refused, 7 the 2025 rules refusing what they forbid, 8 a regulator's freeze,
9 maturity: repayment and redemption of every piece, 10 a second obligation in bill mode (acceptance,
refusal, recourse, a credit limit), 11 a supplier's lost key recovered, 12 a financing request answered by
two banks through the API.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from eth_utils.crypto import keccak

from ledger.client import TxResult

from .cast import Party
from .chain import Chain
from .report import Piece, Step, Summary

DAY = 86_400
MIN_UNIT = 100  # CNY 1.00
CURRENCY = "CNY"
HUNDRED_CNY = 100_00
# The payment term the core enterprise and its tier-1 supplier agreed in their purchase contract: a
# large buyer may pay a small or medium supplier later than 60 days after delivery only under such a
# clause, which the obligation cites (keccak256 of the clause reference, recorded with the terms).
AGREED_TERM = "采购合同 HT-2025-001 第4.2条"
AGREED_TERM_TEXT = "付款期限180日 (payment within 180 days)"  # what the clause says, for the reader
# A tenor justification code from the suggested list (docs/compliance.md): 4, long production or delivery
# cycle (长周期), which a term past 180 days must carry.
TENOR_JUSTIFICATION = 4


def agreed_term_ref(clause: str = AGREED_TERM) -> bytes:
    return keccak(text=clause)


def hundreds(minor: int) -> int:
    """Round down to whole CNY 100s, so every planned payment is a multiple of the minimum unit."""
    return minor // HUNDRED_CNY * HUNDRED_CNY


@dataclass(frozen=True)
class Plan:
    """Who pays whom how much (minor units); drawn from the seed, checked by the contracts."""

    face: int
    tier2: dict[str, int]
    tier3: dict[str, int]
    t4: int
    t5: int
    t4_after_unfreeze: int
    bank_b_share: int  # the part of tier-2 b's piece bank B buys
    tenor_days: int = 180

    @classmethod
    def draw(cls, rng: random.Random, face: int) -> Plan:
        cny = 100
        a = rng.randrange(300_000, 450_001, 10_000) * cny
        b = rng.randrange(150_000, 250_001, 10_000) * cny
        c = rng.randrange(80_000, 150_001, 10_000) * cny
        t3a = hundreds(a * rng.choice((45, 50, 55)) // 100)
        t3b = hundreds(a * rng.choice((20, 25, 30)) // 100)
        t4 = hundreds(t3a * rng.choice((40, 50, 60)) // 100)
        t5 = hundreds(t4 * rng.choice((40, 50, 60)) // 100)
        return cls(
            face=face,
            tier2={"t2a": a, "t2b": b, "t2c": c},
            tier3={"t3a": t3a, "t3b": t3b},
            t4=t4,
            t5=t5,
            t4_after_unfreeze=hundreds((t3a - t4) // 4),
            bank_b_share=hundreds(b * 60 // 100),
        )


@dataclass
class Run:
    """The scenario's working state: the chain, the cast, and the summary being filled in."""

    chain: Chain
    parties: dict[str, Party]
    summary: Summary
    rng: random.Random
    plan: Plan
    pieces: dict[int, Piece] = field(default_factory=dict)
    by_address: dict[str, str] = field(default_factory=dict)
    invoices: dict[tuple[str, str], str] = field(default_factory=dict)  # (payer, receiver) -> fingerprint
    say: Callable[[str], None] = field(default=lambda _message: None)  # a progress line, as the run goes

    def __post_init__(self) -> None:
        self.by_address = {p.address.lower(): k for k, p in self.parties.items()}

    def p(self, key: str) -> Party:
        return self.parties[key]

    def who(self, address: str) -> str:
        return self.by_address.get(address.lower(), address)

    def now(self) -> int:
        return self.chain.now()

    def now_dt(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def record(self, stage: int, action: str, actor: str, result: TxResult) -> None:
        self.summary.steps.append(
            Step(
                step=stage,
                action=action,
                actor=actor,
                tx_hash=result.tx_hash,
                gas_used=result.gas_used,
                block=result.block_number,
            )
        )

    def record_receipt(self, stage: int, action: str, actor: str, tx_hash: str) -> None:
        receipt = self.chain.client.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        self.record(
            stage,
            action,
            actor,
            TxResult(
                tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
                block_number=int(receipt["blockNumber"]),
                gas_used=int(receipt["gasUsed"]),
            ),
        )

    def add_piece(self, token_id: int, parent_id: int | None, holder: str) -> None:
        tier = 1 if parent_id is None else self.pieces[parent_id].tier + 1
        self.pieces[token_id] = Piece(
            token_id=token_id, parent_id=parent_id, tier=tier, owner=holder, received_by=holder, value=0
        )
