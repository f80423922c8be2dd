"""What the governance client gives back: frozen results and read models (JSON-ready via `asdict`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from ledger.client.models import TxResult
from ledger.governance.actions import ActionClass


class ProposalState(IntEnum):
    """OpenZeppelin's `IGovernor.ProposalState`, in its order."""

    PENDING = 0
    ACTIVE = 1
    CANCELED = 2
    DEFEATED = 3
    SUCCEEDED = 4
    QUEUED = 5
    EXPIRED = 6
    EXECUTED = 7

    @property
    def label(self) -> str:
        return self.name.lower()


FINAL_STATES = (ProposalState.CANCELED, ProposalState.DEFEATED, ProposalState.EXPIRED, ProposalState.EXECUTED)


@dataclass(frozen=True, kw_only=True)
class ProposalRef(TxResult):
    """A proposal just made: its id (the governor's next number: 1, 2, 3...) and the hash of its
    description (what the timelock salt uses)."""

    proposal_id: int
    description: str
    description_hash: bytes


@dataclass(frozen=True, kw_only=True)
class Approved(TxResult):
    proposal_id: int
    voter: str
    approvals: int
    needed: int
    state: str


@dataclass(frozen=True, kw_only=True)
class Advanced(TxResult):
    """One `execute` step: `step` is "queued" (then `eta` is when it becomes executable) or "executed"."""

    proposal_id: int
    step: str
    eta: int | None


@dataclass(frozen=True, kw_only=True)
class Cancelled(TxResult):
    proposal_id: int
    by: str
    via: str  # "governor" or "timelock"


@dataclass(frozen=True, kw_only=True)
class Paused(TxResult):
    operations: list[str]
    paused: list[str]  # everything paused after this transaction
    reason: str


@dataclass(frozen=True)
class ActionView:
    """One call of a proposal as the catalogue names it (`action` is the selector when outside it)."""

    action: str
    contract: str
    target: str
    arguments: dict[str, Any]
    action_class: ActionClass | None
    delay_seconds: int


@dataclass(frozen=True, kw_only=True)
class Proposal:
    proposal_id: int
    proposer: str
    description: str | None  # None when the ProposalCreated log is not found
    description_hash: bytes
    actions: list[ActionView]
    state: str
    approvals: int
    against: int
    needed: int
    snapshot_block: int
    deadline_block: int
    eta: int | None
    delay_seconds: int
    action_class: ActionClass | None
    ready: bool  # queued and executable now


@dataclass(frozen=True, kw_only=True)
class Enacted:
    """A change carried through in one go: the proposal and each transaction sent for it."""

    proposal_id: int
    description_hash: bytes
    transactions: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class GovernanceConfigView:
    """The on-chain governance settings."""

    seats: list[str]
    approvals_required: int
    voting_period_blocks: int
    min_delay_seconds: int
    default_delay_seconds: int
    class_delays: dict[str, int]  # action name -> its delay on the timelock now
    guardian: str
    onboarding: list[str]
    paused_operations: list[str]
    governor: str
    timelock: str
    operator_seats: str
