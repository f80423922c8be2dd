"""What a demo run produced, as plain data: the rich view and `--json` are two renderings of this.

Money is `int` minor units throughout (CNY fen); only `render` turns it into text.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, computed_field


class Actor(BaseModel):
    """One party of the scenario and how it is known on-chain."""

    key: str  # short handle used everywhere else in the report ("t3a", "bank_a")
    name: str
    role: str  # the registry role, or ENFORCEMENT for the court
    tier: int | None  # 1..5 for suppliers, 0 for the core enterprise, None otherwise
    address: str
    uscc: str
    legal_id_hash: str | None  # None for the court, which holds a role but is not a participant
    size_class: str | None = None  # large, medium, small, micro as recorded; None: unclassified


class Step(BaseModel):
    """One transaction the scenario sent, in order."""

    step: int  # the scenario's stage (1 set-up ... 9 maturity, 10 the bill-mode obligation)
    action: str
    actor: str
    tx_hash: str
    gas_used: int
    block: int


class Piece(BaseModel):
    """One token of the obligation as the scenario saw it, before redemption burned it."""

    token_id: int
    parent_id: int | None
    tier: int  # depth + 1: the tier-1 supplier's issued token is tier 1
    owner: str  # actor key of the holder at maturity
    received_by: str  # actor key of the supplier who was paid with it
    value: int  # at maturity, just before redemption
    financed_by: str | None = None
    frozen_once: bool = False
    payout: int | None = None
    lineage_on_chain: list[int] = Field(default_factory=list)


class FinancingDeal(BaseModel):
    bank: str
    holder: str
    token_id: int
    financed_token_id: int
    value: int
    rate_bps: int
    day_count: str
    days: int
    price: int
    discount: int
    expected_price: int  # the pricing formula evaluated here, independently of the contract
    registration_number: str = ""  # the 中登网 number the bank recorded on-chain after registering
    recourse: bool = False  # with recourse (有追索权): the seller answers for a default


class RegistrationLine(BaseModel):
    """One financing's 中登网 registration record (应收账款转让登记), as the indexer's export builds it."""

    offer_id: int
    transferor: str  # legal name (USCC)
    transferee: str
    obligor: str
    piece: int
    value: int
    lineage: list[int]
    documents: int  # trade documents backing the obligation
    financing_amount: int
    financing_date: str
    registration_number: str | None


class Refusal(BaseModel):
    """An action the system refused, with the decoded reasons."""

    what: str
    by: str
    codes: list[str]
    detail: str


class Governed(BaseModel):
    """The administrative change the demo carried through governance, step by step."""

    proposal_id: int
    action: str
    description: str
    approvals: int
    needed: int
    delay_seconds: int
    eta: int
    state: str
    executed_block: int


class FreezeEvent(BaseModel):
    token_id: int
    frozen_tx: str
    refused_transfer: str  # the decoded revert of the attempt made while frozen
    unfrozen_tx: str


class CashLine(BaseModel):
    """Who was paid what: every settlement-token movement per party, and the balance check."""

    actor: str
    start: int
    financing_received: int = 0
    financing_paid: int = 0
    redeemed: int = 0
    repaid: int = 0
    recourse_received: int = 0  # a bank's recourse claim settled by its seller (清偿)
    recourse_paid: int = 0
    dust_returned: int = 0  # the repayment desk's rounding dust swept back to the obligor
    end: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def expected_end(self) -> int:
        return (
            self.start
            + self.financing_received
            - self.financing_paid
            + self.redeemed
            - self.repaid
            + self.recourse_received
            - self.recourse_paid
            + self.dust_returned
        )


class TradeInvoice(BaseModel):
    """An attested invoice between two suppliers: the trade background a tier-to-tier payment cites."""

    fingerprint: str
    seller: str  # actor key: the receiver of the payment
    buyer: str  # actor key: the payer
    amount: int
    moved_value: int = 0  # `TradeRegistry.movedValue`, read back once the payments are done


class TradePayment(BaseModel):
    """One payment made with a piece through `IssuanceDesk.moveWithTrade`, citing one invoice."""

    payer: str
    receiver: str
    token_id: int  # the piece paid with
    piece_id: int  # the piece the receiver got
    value: int
    document: str  # fingerprint of the invoice cited
    tx_hash: str


class ComplianceRefusal(BaseModel):
    """A move the 2025 rules forbid, refused by the contracts: one sentence, the decoded error, and
    whether the chain's state was left exactly as it was."""

    rule: str  # tenor / sme-term / trade-background
    sentence: str
    error_name: str
    error: str  # the decoded revert, as `ledger.errors` prints it
    unchanged: bool
    unchanged_detail: str


class Compliance(BaseModel):
    """The deployment's default policy as read from the registry, the agreed term the obligation cites,
    the trade background of every tier-to-tier payment, and the refusals of stage 7."""

    max_tenor_days: int = 0
    long_tenor_days: int = 0
    sme_payment_term_days: int = 0
    trade_background: bool = False
    agreed_term: str = ""  # the contract clause the obligation cites
    agreed_term_text: str = ""  # what the clause says
    agreed_term_ref: str = ""  # keccak256 of the clause reference, recorded on chain with the terms
    invoices: list[TradeInvoice] = Field(default_factory=list)
    payments: list[TradePayment] = Field(default_factory=list)
    refusals: list[ComplianceRefusal] = Field(default_factory=list)


class Lifecycle(BaseModel):
    """Stage 10: the second obligation, in bill mode: pending payments refused and accepted, a financing
    with recourse, a bank refused above its credit limit, a partial repayment, the default, the bank's
    recourse claim and the seller's settlements. Money in minor units."""

    face: int
    tenor_days: int
    slot: int = 0
    maturity: int = 0
    root_token_id: int = 0
    acceptance_window_days: int = 0
    pending_after_payment: int = 0  # value waiting for acceptance right after tier 1 paid
    refused_token_id: int = 0
    refused_value: int = 0
    accepted_value: int = 0
    returned_into: int = 0  # the piece the refused value merged back into
    t1_after_return: int = 0
    accepted_token_id: int = 0
    limit_refusal: str = ""
    paid: int = 0  # what the obligor paid before the default
    claim_offer_id: int = 0
    shortfall: int = 0
    settlements: list[int] = Field(default_factory=list)
    claim_state: str = ""
    redemptions: list[tuple[str, int, int, int]] = Field(default_factory=list)  # holder, piece, value, payout
    dust: int = 0


class Recovery(BaseModel):
    """Stage 11: a supplier's lost key recovered — its record and pieces moved to a new key (密钥遗失恢复)."""

    supplier: str
    lost: str
    replacement: str
    case: str
    token_ids: list[int] = Field(default_factory=list)
    value: int = 0  # the moved pieces' value, minor units
    kept: bool = False  # same ids, values and lineage; every piece the new key's
    record_moved: bool = False  # legal id, size class and the registry's pointer now at the new key
    lost_refusal: str = ""  # the error a payment to the lost key got


class MarketOffer(BaseModel):
    bank: str
    offer_id: int
    rate_bps: int
    quoted: int  # the desk's quote the bank read before offering, minor units
    price: int | None = None  # the price the holder saw beside the other offer


class Market(BaseModel):
    """Stage 12: a financing request answered by two banks; the better offer accepted, the other lapsed."""

    request_id: int
    holder: str
    token_id: int
    asked: int
    offers: list[MarketOffer] = Field(default_factory=list)
    best_offer_id: int = 0
    accepted_offer_id: int = 0
    status: str = ""
    lapsed: list[int] = Field(default_factory=list)


class Check(BaseModel):
    name: str
    ok: bool
    detail: str
    skipped: bool = False  # could not run here (an optional part); neither passes nor fails the run


class IndexReport(BaseModel):
    """The indexer's database compared with the chain (None fields: that comparison did not run)."""

    database: str
    events: int
    holders_match: bool | None = None
    lineage_match: bool | None = None
    mismatches: list[str] = Field(default_factory=list)
    error: str | None = None
    registrations: list[RegistrationLine] = Field(default_factory=list)


class Summary(BaseModel):
    ok: bool = False
    seed: int
    seconds: float = 0.0
    chain_url: str
    chain_id: int
    contracts: dict[str, str]
    face: int
    currency: str
    slot: int = 0
    maturity: int = 0
    actors: list[Actor] = Field(default_factory=list)
    attested: list[str] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    pieces: list[Piece] = Field(default_factory=list)
    financings: list[FinancingDeal] = Field(default_factory=list)
    refusals: list[Refusal] = Field(default_factory=list)
    freezes: list[FreezeEvent] = Field(default_factory=list)
    governance: Governed | None = None
    compliance: Compliance = Field(default_factory=Compliance)
    lifecycle: Lifecycle | None = None
    recovery: Recovery | None = None
    market: Market | None = None
    cash: list[CashLine] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    index: IndexReport | None = None
    kept: bool = False

    def actor(self, key: str) -> Actor:
        return next(a for a in self.actors if a.key == key)
