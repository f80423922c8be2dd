"""What the client takes and gives back: typed inputs for the contracts' structs, and one small frozen
result per operation carrying the transaction's hash, block and gas beside the outcome read from its
events (never from a second call, which could see a later state).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

# Re-exported: the role table lives in `ledger.roles` so `ledger.errors` can name roles too.
from ledger.roles import DEFAULT_ADMIN_ROLE as DEFAULT_ADMIN_ROLE
from ledger.roles import ROLE_NAMES as ROLE_NAMES
from ledger.roles import ROLES as ROLES
from ledger.roles import role_id as role_id
from ledger.roles import role_name as role_name


def currency_code(code: str | bytes) -> bytes:
    """An ISO 4217 code as the contracts' `bytes3`."""
    raw = code.encode("ascii") if isinstance(code, str) else bytes(code)
    if len(raw) != 3:
        raise ValueError(f"{code!r} is not a three-letter currency code")
    return raw


def bytes32(value: bytes | str) -> bytes:
    raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)
    if len(raw) != 32:
        raise ValueError(f"expected 32 bytes, got {len(raw)}")
    return raw


class ParticipantStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    RECOVERED = 3  # its key was lost: the record moved to another address; it never acts again


class DocumentKind(IntEnum):
    INVOICE = 1
    PURCHASE_ORDER = 2
    DELIVERY_NOTE = 3
    WAREHOUSE_RECEIPT = 4


class DayCount(IntEnum):
    ACT_360 = 0
    ACT_365F = 1


class RepaymentState(IntEnum):
    OUTSTANDING = 0
    OVERDUE = 1
    REPAID = 2
    DEFAULTED = 3


class OfferStatus(IntEnum):
    NONE = 0
    OPEN = 1
    ACCEPTED = 2
    CANCELLED = 3


class RecourseState(IntEnum):
    """A recourse claim (追索): none, open, partly settled (清偿 in part), settled, waived (放弃追索)."""

    NONE = 0
    OPEN = 1
    PARTLY_SETTLED = 2
    SETTLED = 3
    WAIVED = 4


# ---------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True, kw_only=True)
class Attestation:
    """The EIP-712 `Attestation` the oracles sign; amounts in minor units, dates in unix seconds."""

    fingerprint: bytes
    kind: DocumentKind
    seller: str
    buyer: str
    amount: int
    currency: str
    issue_date: int
    due_date: int
    nonce: int
    deadline: int

    def as_abi(self) -> tuple[Any, ...]:
        return (
            bytes32(self.fingerprint),
            int(self.kind),
            self.seller,
            self.buyer,
            self.amount,
            currency_code(self.currency),
            self.issue_date,
            self.due_date,
            self.nonce,
            self.deadline,
        )

    def as_message(self) -> dict[str, Any]:
        return {
            "fingerprint": bytes32(self.fingerprint),
            "kind": int(self.kind),
            "seller": self.seller,
            "buyer": self.buyer,
            "amount": self.amount,
            "currency": currency_code(self.currency),
            "issueDate": self.issue_date,
            "dueDate": self.due_date,
            "nonce": self.nonce,
            "deadline": self.deadline,
        }


_TERMS_TYPE = "(address,address,bytes3,uint256,uint256,uint256,bytes32[],uint16,bytes32)"


@dataclass(frozen=True, kw_only=True)
class Terms:
    """`IssuanceDesk.Terms`: the obligation a supplier proposes and its obligor confirms."""

    supplier: str
    obligor: str
    currency: str
    face: int
    maturity: int
    min_unit: int
    documents: tuple[bytes, ...]
    # Recorded with the obligation (docs/compliance.md): why a term runs past the policy's long-tenor
    # threshold (a code, 0 for none), and the contract clause agreeing a term past the SME limit (32 bytes).
    tenor_justification: int = 0
    agreed_term_ref: bytes = b"\x00" * 32

    def as_abi(self) -> tuple[Any, ...]:
        return (
            self.supplier,
            self.obligor,
            currency_code(self.currency),
            self.face,
            self.maturity,
            self.min_unit,
            [bytes32(d) for d in self.documents],
            self.tenor_justification,
            bytes32(self.agreed_term_ref),
        )

    def hash(self) -> bytes:
        """keccak256(abi.encode(terms)), as `IssuanceDesk.hashTerms` computes it."""
        return keccak(abi_encode([_TERMS_TYPE], [self.as_abi()]))


def agreed_term_ref(clause: str | None) -> bytes:
    """The 32 bytes recorded for an agreed contract term: a `0x` 32-byte hex given as is, otherwise
    keccak256 of the clause reference as written (UTF-8, e.g. "采购合同 HT-2025-001 第4.2条"); none: zeros."""
    if clause is None or not clause.strip():
        return b"\x00" * 32
    text = clause.strip()
    if text.startswith("0x") and len(text) == 66:
        return bytes32(text)
    return keccak(text=text)


def case_ref(reference: str | bytes) -> bytes:
    """The 32 bytes recorded for a recovery's case reference (a court's or the bank's case number).

    A `0x` 32-byte hex (or 32 raw bytes) is taken as is; any other text is normalised (Unicode NFKC,
    which makes full-width brackets and digits half-width, so a case number written with full-width
    brackets and the same number with ASCII brackets, "(2026)沪0115执1234号", are one case; then leading
    and trailing blanks dropped) and hashed: keccak256 of its UTF-8 bytes, as legal ids and clause
    references are. Empty is refused."""
    if isinstance(reference, bytes):
        return bytes32(reference)
    text = unicodedata.normalize("NFKC", reference).strip()
    if not text:
        raise ValueError("a recovery needs a case reference")
    if text.startswith("0x") and len(text) == 66:
        return bytes32(text)
    return keccak(text=text)


# ---------------------------------------------------------------------------------------- results


@dataclass(frozen=True, kw_only=True)
class TxResult:
    tx_hash: str
    block_number: int
    gas_used: int


@dataclass(frozen=True, kw_only=True)
class ParticipantRegistered(TxResult):
    account: str
    legal_id_hash: bytes
    roles: tuple[bytes, ...]


@dataclass(frozen=True, kw_only=True)
class StatusChanged(TxResult):
    account: str
    previous: ParticipantStatus
    current: ParticipantStatus


@dataclass(frozen=True, kw_only=True)
class RoleGranted(TxResult):
    account: str
    role: bytes
    granted: bool  # False when the account already held the role


@dataclass(frozen=True, kw_only=True)
class Attested(TxResult):
    fingerprint: bytes
    signers: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Proposed(TxResult):
    proposal_id: int
    terms_hash: bytes


@dataclass(frozen=True, kw_only=True)
class Issued(TxResult):
    proposal_id: int  # 0 for a direct issue
    slot: int
    token_id: int


@dataclass(frozen=True, kw_only=True)
class ProposalClosed(TxResult):
    proposal_id: int
    outcome: str  # "rejected" or "cancelled"


@dataclass(frozen=True, kw_only=True)
class Split(TxResult):
    from_token_id: int
    token_id: int
    to: str
    value: int


@dataclass(frozen=True, kw_only=True)
class BatchSplit(TxResult):
    from_token_id: int
    token_ids: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class Merged(TxResult):
    from_token_id: int
    to_token_id: int
    value: int


@dataclass(frozen=True, kw_only=True)
class Transferred(TxResult):
    token_id: int
    sender: str
    to: str


@dataclass(frozen=True, kw_only=True)
class ValueApproved(TxResult):
    token_id: int
    operator: str
    value: int


@dataclass(frozen=True, kw_only=True)
class FreezeChanged(TxResult):
    token_id: int
    frozen: bool
    reason_code: int


@dataclass(frozen=True, kw_only=True)
class ForcedTransfer(TxResult):
    from_token_id: int
    to_token_id: int
    to: str
    value: int


@dataclass(frozen=True, kw_only=True)
class OfferMade(TxResult):
    offer_id: int


@dataclass(frozen=True, kw_only=True)
class RegistrationRecorded(TxResult):
    offer_id: int
    registration_number: str
    previous: str  # empty the first time


@dataclass(frozen=True, kw_only=True)
class CreditLimitSet(TxResult):
    bank: str
    counterparty: str
    per_obligor: bool  # False: a limit on a seller
    limit: int  # minor units; 0: none (unlimited)


@dataclass(frozen=True, kw_only=True)
class ExposureReleased(TxResult):
    offer_id: int
    bank: str
    obligor: str
    seller: str
    value: int


@dataclass(frozen=True, kw_only=True)
class CreditLimit:
    """A bank's limit on one counterparty and its use (outstanding financed value), minor units."""

    limit: int  # 0: none recorded (unlimited)
    used: int

    @property
    def available(self) -> int | None:
        return None if self.limit == 0 else max(self.limit - self.used, 0)


@dataclass(frozen=True, kw_only=True)
class RecourseOpened(TxResult):
    offer_id: int
    bank: str
    seller: str
    slot: int
    shortfall: int


@dataclass(frozen=True, kw_only=True)
class RecourseSettled(TxResult):
    offer_id: int
    seller: str
    amount: int
    remaining: int


@dataclass(frozen=True, kw_only=True)
class RecourseWaived(TxResult):
    offer_id: int
    bank: str
    remaining: int  # what the bank forgave


@dataclass(frozen=True, kw_only=True)
class RecourseClaim:
    """A financing's recourse claim on its seller (minor units of `currency`); `remaining` is 0 once
    settled or waived. Before a claim is opened only `seller` is set (for a with-recourse financing)."""

    offer_id: int
    state: RecourseState
    bank: str
    seller: str
    slot: int
    currency: str
    shortfall: int
    settled: int
    remaining: int


@dataclass(frozen=True, kw_only=True)
class OfferCancelled(TxResult):
    offer_id: int


@dataclass(frozen=True, kw_only=True)
class Financed(TxResult):
    offer_id: int
    token_id: int
    financed_token_id: int
    bank: str
    holder: str
    value: int
    price: int
    discount: int
    days_to_maturity: int


@dataclass(frozen=True, kw_only=True)
class Deposited(TxResult):
    slot: int
    amount: int
    paid_total: int
    repaid: bool


@dataclass(frozen=True, kw_only=True)
class SlotStateChanged(TxResult):
    slot: int
    state: RepaymentState


@dataclass(frozen=True, kw_only=True)
class Redeemed(TxResult):
    token_id: int
    slot: int
    holder: str
    value: int
    payout: int


@dataclass(frozen=True, kw_only=True)
class DustSwept(TxResult):
    slot: int
    to: str
    amount: int


# ---------------------------------------------------------------------------------------- views


@dataclass(frozen=True, kw_only=True)
class Participant:
    legal_id_hash: bytes
    status: ParticipantStatus
    role_bits: int


@dataclass(frozen=True, kw_only=True)
class SlotTerms:
    obligor: str
    maturity: int
    root_token_id: int
    currency: str  # the settlement ERC-20's address
    min_unit: int
    face: int
    supply: int


@dataclass(frozen=True, kw_only=True)
class Document:
    """A stored trade document; `kind` is None (and `attested_at` 0) for an unknown fingerprint."""

    seller: str
    kind: DocumentKind | None
    issue_date: int
    due_date: int
    buyer: str
    currency: str
    attested_at: int
    amount: int
    used_by_slot: int


@dataclass(frozen=True, kw_only=True)
class Quote:
    value: int
    days_to_maturity: int
    rate_bps: int
    day_count: DayCount
    discount: int
    price: int


@dataclass(frozen=True, kw_only=True)
class Offer:
    bank: str
    token_id: int
    rate_bps: int
    day_count: DayCount
    recourse: bool
    status: OfferStatus
    value: int
    expiry: int
    financed_token_id: int


@dataclass(frozen=True, kw_only=True)
class RepaymentAccount:
    paid: int
    face: int
    paid_out: int
    redeemed_value: int
    currency: str
    maturity: int
    state: RepaymentState


# ----------------------------------------------------------------------------- bill mode (签收)


class ReturnReason(IntEnum):
    """Why a pending move went back to its sender (`MoveReturned.reason`)."""

    REFUSED = 0  # 拒收
    WITHDRAWN = 1  # 撤回
    EXPIRED = 2  # 已过期
    MATURED = 3
    ENFORCED = 4  # a court order cancelled it


class SettlementMode(IntEnum):
    """How a core enterprise's future obligations settle moves (`setObligorSettlementMode`)."""

    FOLLOW_DEPLOYMENT = 0
    VOUCHER = 1
    BILL = 2


@dataclass(frozen=True, kw_only=True)
class PendingMove:
    """A move waiting for the receiver's acceptance (待签收); `source_token_id` is 0 for a whole token."""

    token_id: int
    source_token_id: int
    sender: str
    to: str
    expiry: int


@dataclass(frozen=True, kw_only=True)
class MovePended(TxResult):
    """A split or whole transfer in bill mode: `token_id` is the pending piece (still the sender's)."""

    token_id: int
    source_token_id: int
    sender: str
    to: str
    value: int
    expiry: int


@dataclass(frozen=True, kw_only=True)
class MoveAccepted(TxResult):
    token_id: int
    sender: str
    to: str
    value: int


@dataclass(frozen=True, kw_only=True)
class MoveReturned(TxResult):
    """The value went back to `sender`: merged into `merged_into`, or 0 when the piece stays apart."""

    token_id: int
    merged_into: int
    sender: str
    reason: ReturnReason


@dataclass(frozen=True, kw_only=True)
class SettlementModeSet(TxResult):
    obligor: str
    mode: SettlementMode


@dataclass(frozen=True, kw_only=True)
class BillPolicy:
    bill_mode: bool
    acceptance_window: int


# ---------------------------------------------------------------------------------------- lost-key recovery


@dataclass(frozen=True, kw_only=True)
class RecoveryRequest:
    """The open recovery request of `lost`: the address its record is to move to, the case reference
    (its 32 bytes) and the onboarding key that asked."""

    lost: str
    replacement: str
    case_ref: bytes
    requested_by: str


@dataclass(frozen=True, kw_only=True)
class RecoveryRequested(TxResult):
    lost: str
    replacement: str
    case_ref: bytes
    requested_by: str


@dataclass(frozen=True, kw_only=True)
class ParticipantRecovered(TxResult):
    """The record of `lost` moved to `replacement`; `lost` is now Recovered (its tokens follow through
    `recover_tokens`)."""

    lost: str
    replacement: str
    case_ref: bytes
    requested_by: str
    approved_by: str


@dataclass(frozen=True, kw_only=True)
class RecoveryCancelled(TxResult):
    lost: str
    case_ref: bytes
    cancelled_by: str


@dataclass(frozen=True, kw_only=True)
class RecoveryBatch(TxResult):
    """One `recoverTokens` transaction: the ids it moved (owned by the lost address, or pending to it)."""

    token_ids: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class TokensRecovered:
    """What `recover_tokens` did: its batches in order (none when nothing was left to move)."""

    lost: str
    replacement: str
    case_ref: bytes
    batches: tuple[RecoveryBatch, ...]

    @property
    def token_ids(self) -> tuple[int, ...]:
        return tuple(i for b in self.batches for i in b.token_ids)

    @property
    def tx_hashes(self) -> tuple[str, ...]:
        return tuple(b.tx_hash for b in self.batches)
