"""The indexer's tables: raw chain data (blocks, cursor, events) and the projections derived from it.

Raw tables are the source of truth: `events` holds every decoded log of the deployment, identified by
(chain_id, block_hash, tx_hash, log_index). Every other table is a projection that
`ledger.indexer.project.Projector` derives from the events alone, which is what makes reorg recovery
simple: drop the events above the common ancestor and rebuild the projections from what is left.

Conventions: addresses are lower-case hex; hashes and fingerprints are `0x`-prefixed lower-case hex;
money and EVM integers that may exceed 2^63 use `U256`; dates are unix seconds; one database holds
one deployment (the cursor records which).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.indexer.types import U256

# SQLite autoincrements only an INTEGER PRIMARY KEY (the rowid alias), so surrogate keys are BIGINT elsewhere.
SERIAL = BigInteger().with_variant(Integer(), "sqlite")

# Obligation states, as the RepaymentDesk names them.
OUTSTANDING, OVERDUE, REPAID, DEFAULTED = "outstanding", "overdue", "repaid", "defaulted"


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Block(SQLModel, table=True):
    """Headers of recently indexed blocks: what reorg detection compares the chain against."""

    __tablename__ = "blocks"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    number: int = Field(primary_key=True, sa_type=BigInteger)
    hash: str = Field(max_length=66)
    parent_hash: str = Field(max_length=66)
    timestamp: int = Field(sa_type=BigInteger)


class Cursor(SQLModel, table=True):
    """How far a deployment is indexed: the last block whose events are all applied, and its hash."""

    __tablename__ = "cursors"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    deployment: str = Field(primary_key=True, max_length=100)
    start_block: int = Field(sa_type=BigInteger)
    block_number: int = Field(sa_type=BigInteger)
    block_hash: str | None = Field(default=None, max_length=66)
    updated_at: int = Field(default=0, sa_type=BigInteger)
    # Why indexing stopped (a reorg deeper than the confirmations), until a sync succeeds; every
    # process reading the index sees it (`/v1/ready` answers 503 with it as the reason).
    halted: str | None = Field(default=None, max_length=1000)


class Event(SQLModel, table=True):
    """One decoded log: the indexer's source of truth."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("chain_id", "block_hash", "tx_hash", "log_index", name="uq_events_identity"),
        Index("ix_events_chain_block", "chain_id", "block_number", "log_index"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=SERIAL)
    chain_id: int = Field(sa_type=BigInteger)
    block_number: int = Field(sa_type=BigInteger)
    block_hash: str = Field(max_length=66)
    block_timestamp: int = Field(sa_type=BigInteger)
    tx_hash: str = Field(max_length=66)
    log_index: int
    address: str = Field(max_length=42)
    contract: str = Field(max_length=40)
    name: str = Field(max_length=40, index=True)
    args: dict[str, Any] = _json()


class Participant(SQLModel, table=True):
    """A registered participant, or an account that holds an infrastructure role (status `none`)."""

    __tablename__ = "participants"

    address: str = Field(primary_key=True, max_length=42)
    legal_id_hash: str | None = Field(default=None, max_length=66, index=True)
    status: str = Field(default="none", max_length=16)
    roles: list[str] = _json_list()
    registered_block: int | None = Field(default=None, sa_type=BigInteger)


class Currency(SQLModel, table=True):
    """ISO 4217 code to the settlement ERC-20 the IssuanceDesk maps it to."""

    __tablename__ = "currencies"

    code: str = Field(primary_key=True, max_length=3)
    token_address: str | None = Field(default=None, max_length=42, index=True)


class Document(SQLModel, table=True):
    """A trade document attested by the oracles; `used_by_slot` is the obligation it backs."""

    __tablename__ = "documents"

    fingerprint: str = Field(primary_key=True, max_length=66)
    kind: str = Field(max_length=20)
    seller: str = Field(max_length=42, index=True)
    buyer: str = Field(max_length=42, index=True)
    amount: int = Field(sa_type=U256)
    currency: str = Field(max_length=3)
    issue_date: int = Field(sa_type=U256)
    due_date: int = Field(sa_type=U256)
    nonce: int = Field(sa_type=U256)
    signers: list[str] = _json_list()
    attested_block: int = Field(sa_type=BigInteger)
    attested_at: int = Field(sa_type=BigInteger)
    used_by_slot: int | None = Field(default=None, sa_type=BigInteger, index=True)
    moved_value: int = Field(default=0, sa_type=U256, description="value of onward moves it backed")


class Proposal(SQLModel, table=True):
    """A supplier's proposed obligation and what became of it."""

    __tablename__ = "proposals"

    proposal_id: int = Field(primary_key=True, sa_type=BigInteger)
    supplier: str = Field(max_length=42, index=True)
    obligor: str = Field(max_length=42, index=True)
    currency: str = Field(max_length=3)
    face: int = Field(sa_type=U256)
    maturity: int = Field(sa_type=U256)
    min_unit: int = Field(sa_type=U256)
    documents: list[str] = _json_list()
    status: str = Field(default="pending", max_length=16)
    reason_code: int | None = Field(default=None, sa_type=BigInteger)
    slot: int | None = Field(default=None, sa_type=BigInteger)
    proposed_block: int = Field(sa_type=BigInteger)
    closed_block: int | None = Field(default=None, sa_type=BigInteger)
    tenor_justification: int = Field(default=0, description="long-tenor justification code; 0 for none")
    agreed_term_ref: str | None = Field(default=None, max_length=66, description="agreed contract term")


class Obligation(SQLModel, table=True):
    """One slot: a confirmed obligation, its live supply and its repayment accounting."""

    __tablename__ = "obligations"

    slot: int = Field(primary_key=True, sa_type=BigInteger)
    obligor: str = Field(max_length=42, index=True)
    currency: str = Field(max_length=42, description="settlement ERC-20 address")
    currency_code: str | None = Field(default=None, max_length=3)
    face: int = Field(sa_type=U256)
    maturity: int = Field(sa_type=BigInteger, index=True)
    min_unit: int = Field(sa_type=U256)
    root_token_id: int = Field(sa_type=BigInteger)
    supply: int = Field(sa_type=U256)
    proposal_id: int | None = Field(default=None, sa_type=BigInteger)
    confirmed_by: str | None = Field(default=None, max_length=42)
    documents: list[str] = _json_list()
    state: str = Field(default=OUTSTANDING, max_length=16, index=True)
    paid: int = Field(default=0, sa_type=U256)
    paid_out: int = Field(default=0, sa_type=U256)
    redeemed_value: int = Field(default=0, sa_type=U256)
    dust_swept: int = Field(default=0, sa_type=U256)
    issued_block: int = Field(sa_type=BigInteger)
    issued_at: int = Field(sa_type=BigInteger)
    tenor_justification: int = Field(default=0, description="long-tenor justification code; 0 for none")
    agreed_term_ref: str | None = Field(default=None, max_length=66, description="agreed contract term")
    bill_window: int = Field(
        default=0, sa_type=BigInteger, description="bill mode acceptance window in seconds; 0 in voucher mode"
    )


class Token(SQLModel, table=True):
    """A piece of an obligation. `parent_id` is None for the root; burned pieces keep their lineage."""

    __tablename__ = "tokens"

    token_id: int = Field(primary_key=True, sa_type=BigInteger)
    slot: int = Field(default=0, sa_type=BigInteger, index=True)
    owner: str = Field(max_length=42, index=True)
    value: int = Field(default=0, sa_type=U256)
    parent_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    root_id: int | None = Field(default=None, sa_type=BigInteger)
    depth: int = Field(default=0)
    frozen: bool = Field(default=False)
    burned: bool = Field(default=False)
    minted_block: int = Field(sa_type=BigInteger)
    minted_tx: str = Field(max_length=66)
    burned_block: int | None = Field(default=None, sa_type=BigInteger)


# Pending move states: waiting for 签收, then accepted or returned for one of the contract's reasons.
PENDING, ACCEPTED = "pending", "accepted"
RETURN_REASONS = ("refused", "withdrawn", "expired", "matured", "enforced")


class PendingMove(SQLModel, table=True):
    """A bill-mode move (MovePending) and how it ended. `source_token_id` is 0 for a whole token; the piece
    stays the sender's until accepted; `merged_into` is the piece a returned value went back into."""

    __tablename__ = "pending_moves"

    token_id: int = Field(primary_key=True, sa_type=BigInteger)
    source_token_id: int = Field(default=0, sa_type=BigInteger)
    slot: int = Field(default=0, sa_type=BigInteger, index=True)
    sender: str = Field(max_length=42, index=True)
    receiver: str = Field(max_length=42, index=True)
    value: int = Field(sa_type=U256)
    expiry: int = Field(sa_type=BigInteger)
    status: str = Field(default=PENDING, max_length=16, index=True)
    merged_into: int | None = Field(default=None, sa_type=BigInteger)
    created_block: int = Field(sa_type=BigInteger)
    created_tx: str = Field(max_length=66)
    closed_block: int | None = Field(default=None, sa_type=BigInteger)
    closed_tx: str | None = Field(default=None, max_length=66)


class _EventRow(SQLModel):
    """Columns shared by history tables: which event produced the row."""

    id: int | None = Field(default=None, primary_key=True, sa_type=SERIAL)
    event_id: int = Field(sa_type=BigInteger, foreign_key="events.id", unique=True)
    block_number: int = Field(sa_type=BigInteger, index=True)
    tx_hash: str = Field(max_length=66)
    log_index: int


class Transfer(_EventRow, table=True):
    """An ownership move (kind mint / transfer / burn) or a value move (kind value) of tokens."""

    __tablename__ = "transfers"

    kind: str = Field(max_length=10)
    token_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    from_address: str | None = Field(default=None, max_length=42)
    to_address: str | None = Field(default=None, max_length=42)
    from_token_id: int | None = Field(default=None, sa_type=BigInteger)
    to_token_id: int | None = Field(default=None, sa_type=BigInteger)
    value: int | None = Field(default=None, sa_type=U256)


class Financing(SQLModel, table=True):
    """A bank's offer and, once accepted, the financing it became."""

    __tablename__ = "financings"

    offer_id: int = Field(primary_key=True, sa_type=BigInteger)
    bank: str = Field(max_length=42, index=True)
    token_id: int = Field(sa_type=BigInteger, index=True)
    value: int = Field(sa_type=U256)
    rate_bps: int = Field(sa_type=BigInteger)
    day_count: str = Field(max_length=10)
    recourse: bool
    expiry: int = Field(sa_type=U256)
    status: str = Field(default="open", max_length=16, index=True)
    holder: str | None = Field(default=None, max_length=42)
    financed_token_id: int | None = Field(default=None, sa_type=BigInteger)
    price: int | None = Field(default=None, sa_type=U256)
    discount: int | None = Field(default=None, sa_type=U256)
    days: int | None = Field(default=None, sa_type=BigInteger)
    offered_block: int = Field(sa_type=BigInteger)
    closed_block: int | None = Field(default=None, sa_type=BigInteger)
    financed_at: int | None = Field(default=None, sa_type=BigInteger)
    registration_number: str | None = Field(
        default=None, max_length=64, description="中登网 registration number the bank recorded"
    )


class RecourseClaim(SQLModel, table=True):
    """A recourse claim (追索) of a financing's bank on its seller, opened after the obligation defaulted:
    `state` is open, partly_settled, settled or waived; `waived` is what the bank forgave."""

    __tablename__ = "recourse_claims"

    offer_id: int = Field(primary_key=True, sa_type=BigInteger)
    bank: str = Field(max_length=42, index=True)
    seller: str = Field(max_length=42, index=True)
    slot: int = Field(sa_type=BigInteger, index=True)
    shortfall: int = Field(sa_type=U256)
    settled: int = Field(default=0, sa_type=U256)
    waived: int = Field(default=0, sa_type=U256)
    state: str = Field(default="open", max_length=16, index=True)
    opened_block: int = Field(sa_type=BigInteger)
    opened_at: int = Field(sa_type=BigInteger)
    closed_block: int | None = Field(default=None, sa_type=BigInteger)


class Repayment(_EventRow, table=True):
    """A deposit by the obligor towards a slot."""

    __tablename__ = "repayments"

    slot: int = Field(sa_type=BigInteger, index=True)
    obligor: str = Field(max_length=42)
    amount: int = Field(sa_type=U256)
    paid_total: int = Field(sa_type=U256)


class Redemption(_EventRow, table=True):
    """A holder redeemed (burned) a token after settlement and was paid `payout`."""

    __tablename__ = "redemptions"

    token_id: int = Field(sa_type=BigInteger, index=True)
    slot: int = Field(sa_type=BigInteger, index=True)
    holder: str = Field(max_length=42, index=True)
    value: int = Field(sa_type=U256)
    payout: int = Field(sa_type=U256)


class Freeze(_EventRow, table=True):
    """A regulator's freeze or unfreeze of a token, with its reason code."""

    __tablename__ = "freezes"

    token_id: int = Field(sa_type=BigInteger, index=True)
    action: str = Field(max_length=10)
    regulator: str = Field(max_length=42)
    reason_code: int = Field(sa_type=BigInteger)


class ForcedTransfer(_EventRow, table=True):
    """A court-ordered transfer executed by an ENFORCEMENT account."""

    __tablename__ = "forced_transfers"

    from_token_id: int = Field(sa_type=BigInteger, index=True)
    to_token_id: int = Field(sa_type=BigInteger)
    to_address: str = Field(max_length=42)
    value: int = Field(sa_type=U256)
    order_ref: str = Field(max_length=66)
    enforcer: str = Field(max_length=42)


class GovernanceProposal(SQLModel, table=True):
    """A governance proposal as the governor's and timelock's events tell it.

    `state` is what the events alone say: `proposed`, `queued`, `executed` or `cancelled` (a veto on
    the timelock included). Whether a proposed one is still open, has passed or expired depends on the
    chain's clock; `tierchain gov status` and `GET /v1/governance/proposals` read that from the chain.
    `proposal_id` is the governor's number (1, 2, 3... in the order proposals were made), from
    `ProposalCreated`; the column stays a uint256, as the governor's ids are.
    """

    __tablename__ = "governance_proposals"

    proposal_id: int = Field(primary_key=True, sa_type=U256)
    proposer: str = Field(max_length=42, index=True)
    description: str = Field(sa_type=Text)
    state: str = Field(default="proposed", max_length=16, index=True)
    approvals: int = Field(default=0, sa_type=BigInteger)
    against: int = Field(default=0, sa_type=BigInteger)
    targets: list[str] = _json_list()
    calldatas: list[str] = _json_list()
    vote_start: int = Field(sa_type=BigInteger)
    vote_end: int = Field(sa_type=BigInteger)
    eta: int | None = Field(default=None, sa_type=BigInteger)
    operation_id: str | None = Field(default=None, max_length=66, index=True)
    created_block: int = Field(sa_type=BigInteger)
    created_tx: str = Field(max_length=66)
    queued_block: int | None = Field(default=None, sa_type=BigInteger)
    executed_block: int | None = Field(default=None, sa_type=BigInteger)
    cancelled_block: int | None = Field(default=None, sa_type=BigInteger)


class Recovery(SQLModel, table=True):
    """A lost-key recovery (密钥遗失恢复) of a participant, from its request (`RecoveryRequested`) to its
    approval (`ParticipantRecovered`) or cancellation (`RecoveryCancelled`); `tokens_moved` counts the
    `TokenRecovered` events since (each token owned by, or pending to, the lost address moved once).
    `id` is the request event's id: a lost address may have a cancelled request before the approved one.
    `case_ref` is the 32-byte case reference as recorded on-chain (the API keeps the plain text)."""

    __tablename__ = "recoveries"

    id: int = Field(primary_key=True, sa_type=BigInteger)
    lost: str = Field(max_length=42, index=True)
    replacement: str = Field(max_length=42, index=True)
    case_ref: str = Field(max_length=66, index=True)
    state: str = Field(default="requested", max_length=16, index=True)
    requested_by: str = Field(max_length=42)
    requested_block: int = Field(sa_type=BigInteger)
    requested_at: int = Field(sa_type=BigInteger)
    requested_tx: str = Field(max_length=66)
    approved_by: str | None = Field(default=None, max_length=42)
    cancelled_by: str | None = Field(default=None, max_length=42)
    closed_block: int | None = Field(default=None, sa_type=BigInteger)
    closed_at: int | None = Field(default=None, sa_type=BigInteger)
    closed_tx: str | None = Field(default=None, max_length=66)
    tokens_moved: int = Field(default=0, sa_type=BigInteger)
    last_tokens_block: int | None = Field(default=None, sa_type=BigInteger)


RAW_TABLES: tuple[type[SQLModel], ...] = (Block, Cursor, Event)
# Children first, so deleting in this order never trips a foreign key.
PROJECTION_TABLES: tuple[type[SQLModel], ...] = (
    PendingMove,
    Transfer,
    Repayment,
    Redemption,
    Freeze,
    ForcedTransfer,
    RecourseClaim,
    Recovery,
    Financing,
    Token,
    Obligation,
    Proposal,
    Document,
    Currency,
    Participant,
    GovernanceProposal,
)
