"""Governance refusals: each names the proposal, the account or the state that stands in the way."""

from __future__ import annotations

from ledger.errors import TierchainError


class GovernanceError(TierchainError):
    """A governance operation cannot go ahead; the message says why."""


class GovernanceNotDeployed(GovernanceError):
    """The deployment manifest has no governance contracts (deployed before governance existed)."""


class UnknownProposal(GovernanceError):
    """No proposal with this id exists on the governor. `latest` is the governor's last id, when known:
    ids are numbered 1, 2, 3... in the order proposals were made."""

    def __init__(self, proposal_id: int, latest: int | None = None) -> None:
        self.proposal_id = proposal_id
        self.latest = latest
        message = f"proposal {proposal_id} does not exist on the governor"
        if latest == 0:
            message += "; it has no proposals yet"
        elif latest is not None:
            message += f"; its proposals are numbered 1 to {latest}"
        super().__init__(message)


class NotASeat(GovernanceError):
    """The signer holds no operator seat (at the block that counts)."""

    def __init__(self, account: str, what: str) -> None:
        self.account = account
        super().__init__(f"{account} holds no operator seat; {what}")


class AlreadyApproved(GovernanceError):
    """The seat already approved this proposal."""

    def __init__(self, proposal_id: int, account: str) -> None:
        self.proposal_id, self.account = proposal_id, account
        super().__init__(f"{account} already approved proposal {proposal_id}")


class ProposalStateError(GovernanceError):
    """The proposal's state does not allow the operation (e.g. executing one already executed)."""

    def __init__(self, proposal_id: int, state: str, detail: str) -> None:
        self.proposal_id, self.state = proposal_id, state
        super().__init__(f"proposal {proposal_id} is {state}: {detail}")


class ProposalNotReady(GovernanceError):
    """The proposal is queued but its timelock delay has not passed yet."""

    def __init__(self, proposal_id: int, eta: int, now: int) -> None:
        self.proposal_id, self.eta, self.now = proposal_id, eta, now
        super().__init__(
            f"proposal {proposal_id} is queued and becomes executable at {eta} (unix seconds), "
            f"in {eta - now} s; the chain's time is {now}"
        )


class NotAuthorized(GovernanceError):
    """The signer lacks the key the operation needs (guardian, proposer)."""


class GovernanceRequired(GovernanceError):
    """`enact` cannot carry the change through now: it needs proposals, approvals or a delay."""
