"""`Governance`: propose, approve, queue/execute and cancel changes, and read governance's state.

A change is a list of catalogue actions (`ledger.governance.actions`). A seated operator proposes
it; seats approve it (a For vote) until M have; it is then queued in the timelock for its class
delay (the largest of its calls' `functionDelay`) and anyone executes it once ready. The guardian
cancels any proposal on the governor, or vetoes a queued operation on the timelock, and pauses
operations on the registry at once.

Every write takes the signer first and an optional idempotency `key`, like the rest of the client.
`enact` runs the whole path in one go where the network allows it now (one approval, no delay: the
local network) and otherwise refuses with `GovernanceRequired`, naming the governance command.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3.contract import Contract
from web3.exceptions import ContractLogicError
from web3.types import TxReceipt

from ledger.client.base import Abi, ClientBase, checksum
from ledger.deploy import Deployment
from ledger.errors import ContractRevert
from ledger.gas import gas_limit
from ledger.governance.actions import (
    ACTION_SIGNATURES,
    GOVERNANCE_CONTRACTS,
    SPEC_CLASS,
    Action,
    ActionClass,
    ActionError,
    Call,
    Seat,
    SetApprovals,
    SetCurrency,
    SetObligorPolicy,
    SetPolicy,
    Unseat,
    Upgrade,
    decode_call,
    encode_all,
)
from ledger.governance.errors import (
    AlreadyApproved,
    GovernanceNotDeployed,
    GovernanceRequired,
    NotASeat,
    NotAuthorized,
    ProposalNotReady,
    ProposalStateError,
    UnknownProposal,
)
from ledger.governance.models import (
    FINAL_STATES,
    ActionView,
    Advanced,
    Approved,
    Cancelled,
    Enacted,
    GovernanceConfigView,
    Paused,
    Proposal,
    ProposalRef,
    ProposalState,
)
from ledger.governance.operations import operation_bits, operation_names
from ledger.keys import Signer
from ledger.tx import TransactionManager

log = logging.getLogger(__name__)

FOR = 1
CANCELLER_ROLE = keccak(text="CANCELLER_ROLE")
GUARDIAN_ROLE = keccak(text="GUARDIAN")
ONBOARDING_ROLE = keccak(text="ONBOARDING")


def describe_actions(actions: Sequence[Action]) -> str:
    """The actions as `name key=value ...`, one per action, for messages and default descriptions."""
    parts = []
    for action in actions:
        args = " ".join(f"{k}={v}" for k, v in action.arguments().items())
        parts.append(f"{action.action} {args}".strip())
    return "; ".join(parts)


class Governance(ClientBase):
    """Typed access to OperatorSeats, TierchainGovernor and TierchainTimelock of one deployment."""

    def __init__(self, manager: TransactionManager, deployment: Deployment, abis: Mapping[str, Abi]) -> None:
        super().__init__(manager, deployment, abis)
        missing = [n for n in GOVERNANCE_CONTRACTS if n not in deployment.contracts]
        if missing:
            raise GovernanceNotDeployed(
                f"deployment {deployment.network!r} has no {', '.join(missing)}; it predates governance: "
                "deploy anew with `tierchain deploy --fresh`"
            )
        self.seats = self._at("OperatorSeats", deployment.address("OperatorSeats"))
        self.timelock = self._at("TierchainTimelock", deployment.address("TierchainTimelock"))
        self.governor = self._at("TierchainGovernor", deployment.address("TierchainGovernor"))
        self.addresses = {name: c.address for name, c in deployment.contracts.items()}

    # ----------------------------------------------------------------------------- building

    def calls(self, actions: Sequence[Action]) -> list[Call]:
        """The calls a proposal of `actions` makes, in order (policy fields left out are filled first)."""
        return encode_all(self.completed(actions), self.addresses)

    def completed(self, actions: Sequence[Action]) -> list[Action]:
        """`actions` with the policy fields a `set-policy` or `set-obligor-policy` left out taken from the
        policy in force now (the deployment's, or the obligor's own)."""
        out: list[Action] = []
        for action in actions:
            if isinstance(action, SetPolicy) and action.missing():
                registry = self._at("ParticipantRegistry", self.addresses["ParticipantRegistry"])
                if isinstance(action, SetObligorPolicy):
                    current = registry.functions.policyOf(action.obligor).call()
                else:
                    current = registry.functions.defaultPolicy().call()
                action = action.completed(current)
            out.append(action)
        return out

    def _proposal_args(self, calls: Sequence[Call]) -> tuple[list[str], list[int], list[bytes]]:
        return [c.target for c in calls], [0] * len(calls), [c.data for c in calls]

    def find_proposal(self, actions: Sequence[Action], description: str) -> int | None:
        """The id the governor gave a proposal of these actions and description, or None when they were
        never proposed. Ids are sequential (1, 2, 3...), given when the proposal is made: the chain
        resolves the calls and description hash to theirs (`getProposalId`)."""
        targets, values, datas = self._proposal_args(self.calls(actions))
        try:
            found = self._view(
                self.governor, "getProposalId", targets, values, datas, keccak(text=description)
            )
        except ContractRevert as exc:
            if exc.error_name == "GovernorNonexistentProposal":
                return None
            raise
        return int(found)

    def preflight(self, actions: Sequence[Action]) -> None:
        """Refuse, before proposing, actions that could only fail when executed (`ActionError`)."""
        for action in actions:
            if isinstance(action, Upgrade) and not bytes(
                self.w3.eth.get_code(to_checksum_address(action.implementation))
            ):
                raise ActionError(
                    f"upgrade: implementation: {action.implementation} has no code on this chain"
                )
            if isinstance(action, Unseat):
                if not bool(self._view(self.seats, "isSeated", action.operator)):
                    raise ActionError(f"unseat: operator: {action.operator} holds no seat")
            elif isinstance(action, Seat) and bool(self._view(self.seats, "isSeated", action.operator)):
                raise ActionError(f"seat: operator: {action.operator} holds a seat already")
            if isinstance(action, SetCurrency):
                current = checksum(
                    str(self._view(self.issuance, "currencyToken", action.currency.encode("ascii")))
                )
                if int(current, 16) != 0:
                    raise ActionError(
                        f"set-currency: currency: {action.currency} is settled by {current} already "
                        "(a currency is mapped once)"
                    )
        self._check_quorum_kept(actions)

    def _check_quorum_kept(self, actions: Sequence[Action]) -> None:
        """Refuse a proposal that would leave fewer seats than the approvals governance needs: no
        proposal could pass afterwards, and governance would be locked for good."""
        if not any(isinstance(a, Seat | Unseat | SetApprovals) for a in actions):
            return
        seats = int(self._view(self.seats, "seatCount"))
        approvals = int(self._view(self.governor, "approvalsRequired"))
        for action in actions:
            if isinstance(action, Unseat):
                seats -= 1
            elif isinstance(action, Seat):
                seats += 1
            elif isinstance(action, SetApprovals):
                if action.approvals > seats:
                    raise ActionError(
                        f"set-approvals: approvals: {action.approvals} is more than the {seats} seats "
                        "held at that point of the proposal"
                    )
                approvals = action.approvals
        if approvals > seats:
            raise ActionError(
                f"unseat: operator: the proposal leaves {seats} seat(s) but {approvals} approvals "
                "needed, so no later proposal could pass; lower the approvals in the same proposal "
                "(set-approvals before or after the unseat)"
            )

    def required_delay(self, actions: Sequence[Action]) -> int:
        """Seconds the timelock holds a proposal of `actions` (the largest of its calls' delays)."""
        targets, _, datas = self._proposal_args(self.calls(actions))
        return max(int(self._view(self.timelock, "requiredDelay", targets, datas)), self._min_delay())

    def _min_delay(self) -> int:
        return int(self._view(self.timelock, "getMinDelay"))

    # ----------------------------------------------------------------------------- writes

    def propose(
        self, proposer: Signer, actions: Sequence[Action], description: str, *, key: str | None = None
    ) -> ProposalRef:
        """Propose `actions`; the proposer must hold a seat. The same actions need a new description
        to be proposed again.

        The id is the governor's next number (1, 2, 3...), known only once the proposal is mined: it
        is read from the receipt's `ProposalCreated`. A retry with the same idempotency `key` gets the
        journaled transaction's receipt back, hence the same id."""
        if not description.strip():
            raise ValueError("description: a proposal needs a description (it is what approvers read)")
        calls = self.calls(actions)
        if key is None or self._journaled_gas(key) is None:  # a retry of a sent proposal skips these
            self.preflight(actions)
            self._require_seat(
                proposer.address, int(self.w3.eth.block_number), "only seated operators propose"
            )
            existing = self.find_proposal(actions, description)
            if existing is not None:
                raise ProposalStateError(
                    existing,
                    self._state(existing).label,
                    "the same actions were already proposed with this description; change the description",
                )
        targets, values, datas = self._proposal_args(calls)
        receipt = self._send(proposer, self.governor, "propose", targets, values, datas, description, key=key)
        event = self._event(receipt, self.governor, "ProposalCreated")
        log.info("proposal created id=%s proposer=%s", event["proposalId"], proposer.address)
        return ProposalRef(
            **self._meta(receipt),
            proposal_id=int(event["proposalId"]),
            description=str(event["description"]),
            description_hash=keccak(text=str(event["description"])),
        )

    def approve(self, voter: Signer, proposal_id: int, *, key: str | None = None) -> Approved:
        """Approve (vote For) as one seat; the proposal succeeds once M seats have approved."""
        state = self._state(proposal_id)
        if key is None or self._journaled_gas(key) is None:
            if state not in (ProposalState.PENDING, ProposalState.ACTIVE):
                detail = "approvals are taken only while it is open"
                if state == ProposalState.SUCCEEDED:
                    detail = "it has its approvals already; queue it with execute"
                raise ProposalStateError(proposal_id, state.label, detail)
            snapshot = int(self._view(self.governor, "proposalSnapshot", proposal_id))
            if self._votes_at(voter.address, snapshot) == 0:
                raise NotASeat(
                    voter.address, f"only seats held at block {snapshot} approve proposal {proposal_id}"
                )
            if bool(self._view(self.governor, "hasVoted", proposal_id, checksum(voter.address))):
                raise AlreadyApproved(proposal_id, voter.address)
        # A proposal made in the latest block opens in the next one, where this vote will land.
        receipt = self._send_next_block(
            voter,
            self.governor,
            "castVote",
            proposal_id,
            FOR,
            key=key,
            next_block=state == ProposalState.PENDING,
        )
        votes = self._votes(proposal_id)
        return Approved(
            **self._meta(receipt),
            proposal_id=proposal_id,
            voter=voter.address,
            approvals=votes[1],
            needed=self._needed(proposal_id),
            state=self._state(proposal_id).label,
        )

    def execute(self, signer: Signer, proposal_id: int, *, key: str | None = None) -> Advanced:
        """Queue a succeeded proposal in the timelock, or execute a queued one whose delay has passed."""
        state = self._state(proposal_id)
        if state == ProposalState.SUCCEEDED:
            receipt = self._send(signer, self.governor, "queue(uint256)", proposal_id, key=key)
            eta = int(self._view(self.governor, "proposalEta", proposal_id))
            log.info("proposal queued id=%s eta=%d", proposal_id, eta)
            return Advanced(**self._meta(receipt), proposal_id=proposal_id, step="queued", eta=eta)
        if state == ProposalState.QUEUED:
            eta = int(self._view(self.governor, "proposalEta", proposal_id))
            now = self._now()
            if eta > now:
                raise ProposalNotReady(proposal_id, eta, now)
            receipt = self._send(signer, self.governor, "execute(uint256)", proposal_id, key=key)
            log.info("proposal executed id=%s", proposal_id)
            return Advanced(**self._meta(receipt), proposal_id=proposal_id, step="executed", eta=eta)
        if key is not None and self._journaled_gas(key) is not None:  # a retry of a step already taken
            fn = "execute(uint256)" if state == ProposalState.EXECUTED else "queue(uint256)"
            receipt = self._send(signer, self.governor, fn, proposal_id, key=key)
            step = "executed" if state == ProposalState.EXECUTED else "queued"
            return Advanced(**self._meta(receipt), proposal_id=proposal_id, step=step, eta=None)
        raise ProposalStateError(
            proposal_id, state.label, _why_not_executable(state, self._summary(proposal_id))
        )

    def cancel(self, signer: Signer, proposal_id: int, *, key: str | None = None) -> Cancelled:
        """Cancel: the guardian cancels any open proposal and vetoes a queued one on the timelock; a
        proposer cancels their own only before voting opens."""
        state = self._state(proposal_id)
        if state in FINAL_STATES:
            raise ProposalStateError(
                proposal_id, state.label, "only an open or queued proposal can be cancelled"
            )
        who = checksum(signer.address)
        guardian = checksum(str(self._view(self.governor, "proposalGuardian")))
        is_canceller = bool(self._view(self.timelock, "hasRole", CANCELLER_ROLE, who))
        if state == ProposalState.QUEUED and is_canceller:
            operation = self._operation_id(proposal_id)
            receipt = self._send(signer, self.timelock, "cancel", operation, key=key)
            return Cancelled(**self._meta(receipt), proposal_id=proposal_id, by=who, via="timelock")
        proposer = checksum(str(self._view(self.governor, "proposalProposer", proposal_id)))
        if who != guardian:
            if who != proposer:
                raise NotAuthorized(
                    f"{who} may not cancel proposal {proposal_id}: only its proposer ({proposer}) or the "
                    f"guardian ({guardian}) may"
                )
            if state != ProposalState.PENDING and guardian != "0x" + "00" * 20:
                raise NotAuthorized(
                    f"proposal {proposal_id} is {state.label}: its proposer could cancel it only before "
                    f"voting opened; the guardian ({guardian}) may cancel it now"
                )
        receipt = self._send(signer, self.governor, "cancel(uint256)", proposal_id, key=key)
        return Cancelled(**self._meta(receipt), proposal_id=proposal_id, by=who, via="governor")

    def pause(
        self, guardian: Signer, operations: int | str | Sequence[str], reason: str, *, key: str | None = None
    ) -> Paused:
        """Pause operations at once (the guardian key): issuance, moves, financing, repayment or all."""
        bits = operation_bits(operations)
        if not reason.strip():
            raise ValueError("reason: a pause needs a reason (it is recorded on-chain)")
        if not bool(self._view(self.registry, "hasRole", GUARDIAN_ROLE, checksum(guardian.address))):
            raise NotAuthorized(
                f"{guardian.address} is not the guardian; only the GUARDIAN key pauses operations"
            )
        receipt = self._send(guardian, self.registry, "pause", bits, reason, key=key)
        return Paused(
            **self._meta(receipt), operations=operation_names(bits), paused=self.paused(), reason=reason
        )

    def enact(
        self, signer: Signer, actions: Sequence[Action], description: str, *, key: str | None = None
    ) -> Enacted:
        """Propose, approve, queue and execute in one go, where one seat's approval suffices and no
        delay applies (the local network); otherwise `GovernanceRequired` names the way through
        governance. Re-running with the same description resumes where the proposal stands."""
        self.require_enactable(signer, actions)
        sent: list[str] = []

        def step_key(step: str) -> str | None:
            return f"{key}:{step}" if key is not None else None

        proposal_id = self.find_proposal(actions, description)
        if proposal_id is None:  # its number is known once proposed
            ref = self.propose(signer, actions, description, key=step_key("propose"))
            proposal_id = ref.proposal_id
            sent.append(ref.tx_hash)
        for _ in range(4):
            state = self._state(proposal_id)
            if state in (ProposalState.PENDING, ProposalState.ACTIVE):
                sent.append(self.approve(signer, proposal_id, key=step_key("approve")).tx_hash)
            elif state == ProposalState.SUCCEEDED:
                sent.append(self.execute(signer, proposal_id, key=step_key("queue")).tx_hash)
            elif state == ProposalState.QUEUED:
                sent.append(self.execute(signer, proposal_id, key=step_key("execute")).tx_hash)
            elif state == ProposalState.EXECUTED:
                log.info("enacted id=%s txs=%d", proposal_id, len(sent))
                return Enacted(
                    proposal_id=proposal_id, description_hash=keccak(text=description), transactions=sent
                )
            else:
                raise ProposalStateError(
                    proposal_id,
                    state.label,
                    "this change was proposed before and did not pass; use a new description",
                )
        raise ProposalStateError(proposal_id, self._state(proposal_id).label, "did not reach executed")

    def require_enactable(self, signer: Signer, actions: Sequence[Action]) -> None:
        """Raise `GovernanceRequired` unless `enact` can carry `actions` through now."""
        blocker = self.enact_blocker(signer, actions)
        if blocker is not None:
            raise GovernanceRequired(
                f"{describe_actions(actions)}: this change needs governance ({blocker}); propose it with "
                "`tierchain gov propose`, then seats approve it with `tierchain gov approve` and anyone "
                "runs `tierchain gov execute` once its delay has passed"
            )

    def enact_blocker(self, signer: Signer, actions: Sequence[Action]) -> str | None:
        """Why `enact` cannot carry `actions` through now, or None when it can."""
        who = checksum(signer.address)
        block = int(self.w3.eth.block_number)
        if (
            not bool(self._view(self.seats, "isSeated", who))
            or int(self._view(self.governor, "getVotes", who, max(block - 1, 0))) == 0
        ):
            return f"{who} holds no operator seat"
        needed = int(self._view(self.governor, "approvalsRequired"))
        if needed > 1:
            seats = int(self._view(self.seats, "seatCount"))
            return f"{needed} of {seats} seats must approve"
        delay = self.required_delay(actions)
        if delay > 0:
            return f"the timelock holds it {delay} s"
        return None

    # ----------------------------------------------------------------------------- reads

    def latest_proposal_id(self) -> int:
        """The governor's last proposal id (0 before its first proposal; ids run 1, 2, 3...)."""
        return int(self._view(self.governor, "latestProposalId"))

    def state(self, proposal_id: int) -> str:
        return self._state(proposal_id).label

    def status(self, proposal_id: int) -> Proposal:
        """One proposal: proposer, actions by catalogue name, state, approvals, ETA and class delay."""
        details = (
            self._view(self.governor, "proposalDetails", proposal_id) if self._exists(proposal_id) else None
        )
        if details is None:
            raise UnknownProposal(proposal_id, self.latest_proposal_id())
        targets, _, datas, description_hash = details
        snapshot = int(self._view(self.governor, "proposalSnapshot", proposal_id))
        # The snapshot is the proposal's block while the voting delay is 0; else look further back.
        description = self._descriptions(snapshot, snapshot).get(proposal_id)
        if description is None:
            start = self.deployment.contracts["TierchainGovernor"].block_number
            description = self._descriptions(start, snapshot).get(proposal_id)
        return self._proposal(
            proposal_id, list(targets), [bytes(d) for d in datas], bytes(description_hash), description
        )

    def proposals(self) -> list[Proposal]:
        """Every proposal the governor stores, oldest first."""
        count = int(self._view(self.governor, "proposalCount"))
        rows = [self._view(self.governor, "proposalDetailsAt", i) for i in range(count)]
        if not rows:
            return []
        snapshots = [int(self._view(self.governor, "proposalSnapshot", int(r[0]))) for r in rows]
        start = min([*snapshots, self.deployment.contracts["TierchainGovernor"].block_number])
        descriptions = self._descriptions(start, max(snapshots))
        return [
            self._proposal(
                int(pid), list(targets), [bytes(d) for d in datas], bytes(dh), descriptions.get(int(pid))
            )
            for pid, targets, _, datas, dh in rows
        ]

    def config(self) -> GovernanceConfigView:
        """Seats, approvals, voting period, the timelock's delays per action and what is paused now."""
        delays = {
            name: int(self._view(self.timelock, "functionDelay", keccak(text=sig)[:4]))
            for name, sig in ACTION_SIGNATURES.items()
        }
        return GovernanceConfigView(
            seats=self.seat_holders(),
            approvals_required=int(self._view(self.governor, "approvalsRequired")),
            voting_period_blocks=int(self._view(self.governor, "votingPeriod")),
            min_delay_seconds=self._min_delay(),
            default_delay_seconds=int(self._view(self.timelock, "defaultDelay")),
            class_delays=delays,
            guardian=checksum(str(self._view(self.governor, "proposalGuardian"))),
            onboarding=self._role_members(ONBOARDING_ROLE),
            paused_operations=self.paused(),
            governor=self.governor.address,
            timelock=self.timelock.address,
            operator_seats=self.seats.address,
        )

    def paused(self) -> list[str]:
        """The operations paused now, by name."""
        return operation_names(int(self._view(self.registry, "pausedOperations")))

    def seat_holders(self) -> list[str]:
        """The operator keys that hold a seat now (from the seat events, checked against the chain)."""
        start = self.deployment.contracts["OperatorSeats"].block_number
        seen: dict[str, None] = {}
        for event in ("OperatorSeated", "OperatorUnseated"):
            for entry in getattr(self.seats.events, event)().get_logs(from_block=start):
                seen.setdefault(checksum(str(entry["args"]["operator"])), None)
        return [a for a in seen if bool(self._view(self.seats, "isSeated", a))]

    def action_class(self, selector: bytes, action: str | None = None) -> tuple[ActionClass | None, int]:
        """The class of calls to `selector` and their delay, as the timelock holds them on-chain."""
        delay = int(self._view(self.timelock, "functionDelay", selector))
        return _class_of(
            delay, self._min_delay(), int(self._view(self.timelock, "defaultDelay")), action
        ), delay

    # ----------------------------------------------------------------------------- helpers

    def _send_next_block(
        self, signer: Signer, contract: Contract, fn: str, *args: Any, key: str | None, next_block: bool
    ) -> TxReceipt:
        """Send a call that is valid only from the next block on: estimate it against the pending block."""
        if not next_block or (key is not None and self._journaled_gas(key) is not None):
            return self._send(signer, contract, fn, *args, key=key)
        tx = self._tx(contract, fn, *args)
        try:
            estimate = self.w3.eth.estimate_gas({**tx, "from": checksum(signer.address)}, "pending")  # type: ignore[typeddict-item]
        except ContractLogicError:
            return self._send(signer, contract, fn, *args, key=key)  # let the manager decode the refusal
        tx["gas"] = gas_limit(int(estimate), self.manager.network.gas)
        return self.manager.send(tx, idempotency_key=key, signer=signer)

    def _exists(self, proposal_id: int) -> bool:
        return self._state_or_none(proposal_id) is not None

    def _state_or_none(self, proposal_id: int) -> ProposalState | None:
        try:
            return ProposalState(int(self._view(self.governor, "state", proposal_id)))
        except ContractRevert as exc:
            if exc.error_name == "GovernorNonexistentProposal":
                return None
            raise

    def _state(self, proposal_id: int) -> ProposalState:
        state = self._state_or_none(proposal_id)
        if state is None:
            raise UnknownProposal(proposal_id, self.latest_proposal_id())
        return state

    def _votes(self, proposal_id: int) -> tuple[int, int, int]:
        against, for_, abstain = self._view(self.governor, "proposalVotes", proposal_id)
        return int(against), int(for_), int(abstain)

    def _needed(self, proposal_id: int) -> int:
        return int(
            self._view(
                self.governor, "quorum", int(self._view(self.governor, "proposalSnapshot", proposal_id))
            )
        )

    def _summary(self, proposal_id: int) -> str:
        return f"{self._votes(proposal_id)[1]} of {self._needed(proposal_id)} approvals"

    def _votes_at(self, account: str, block: int) -> int:
        """Seat votes of `account` at the end of `block` (the latest block: its votes now)."""
        if block >= int(self.w3.eth.block_number):
            return int(self._view(self.seats, "getVotes", checksum(account)))
        return int(self._view(self.governor, "getVotes", checksum(account), block))

    def _now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def _require_seat(self, account: str, block: int, what: str) -> None:
        if int(self._view(self.governor, "getVotes", checksum(account), max(block - 1, 0))) == 0:
            raise NotASeat(account, what)

    def _role_members(self, role: bytes) -> list[str]:
        count = int(self._view(self.registry, "getRoleMemberCount", role))
        return [checksum(str(self._view(self.registry, "getRoleMember", role, i))) for i in range(count)]

    def _operation_id(self, proposal_id: int) -> bytes:
        targets, values, datas, description_hash = self._view(self.governor, "proposalDetails", proposal_id)
        salt = bytes(
            a ^ b
            for a, b in zip(
                bytes.fromhex(self.governor.address[2:]).ljust(32, b"\0"),
                bytes(description_hash),
                strict=True,
            )
        )
        return bytes(
            self._view(self.timelock, "hashOperationBatch", targets, values, datas, b"\0" * 32, salt)
        )

    def _descriptions(self, from_block: int, to_block: int) -> dict[int, str]:
        logs = self.governor.events.ProposalCreated().get_logs(from_block=from_block, to_block=to_block)
        return {int(e["args"]["proposalId"]): str(e["args"]["description"]) for e in logs}

    def _proposal(
        self,
        proposal_id: int,
        targets: list[str],
        datas: list[bytes],
        description_hash: bytes,
        description: str | None,
    ) -> Proposal:
        state = self._state(proposal_id)
        min_delay = self._min_delay()
        default_delay = int(self._view(self.timelock, "defaultDelay"))
        views = []
        for target, data in zip(targets, datas, strict=True):
            call = decode_call(str(target), data, self.addresses)
            delay = (
                int(self._view(self.timelock, "functionDelay", call.selector))
                if len(data) >= 4
                else default_delay
            )
            views.append(
                ActionView(
                    action=call.name,
                    contract=call.contract,
                    target=call.target,
                    arguments=call.action.arguments()
                    if call.action is not None
                    else {"data": "0x" + data.hex()},
                    action_class=_class_of(
                        delay, min_delay, default_delay, call.action.action if call.action else None
                    ),
                    delay_seconds=delay,
                )
            )
        delay = max([min_delay, *(v.delay_seconds for v in views)])
        eta = int(self._view(self.governor, "proposalEta", proposal_id)) or None
        against, for_, _ = self._votes(proposal_id)
        classes = {v.action_class for v in views}
        return Proposal(
            proposal_id=proposal_id,
            proposer=checksum(str(self._view(self.governor, "proposalProposer", proposal_id))),
            description=description,
            description_hash=description_hash,
            actions=views,
            state=state.label,
            approvals=for_,
            against=against,
            needed=self._needed(proposal_id),
            snapshot_block=int(self._view(self.governor, "proposalSnapshot", proposal_id)),
            deadline_block=int(self._view(self.governor, "proposalDeadline", proposal_id)),
            eta=eta,
            delay_seconds=delay,
            action_class="admin" if "admin" in classes else ("policy" if "policy" in classes else None),
            ready=state == ProposalState.QUEUED and eta is not None and eta <= self._now(),
        )


def _class_of(delay: int, min_delay: int, default_delay: int, action: str | None) -> ActionClass | None:
    """admin when the delay is the admin (default) delay or longer, policy when shorter; when the two
    classes wait the same (a zero-delay network) the catalogue's class of the action."""
    if default_delay == min_delay:
        return SPEC_CLASS.get(action) if action is not None else "admin"
    return "admin" if delay >= default_delay else "policy"


def _why_not_executable(state: ProposalState, summary: str) -> str:
    if state == ProposalState.EXECUTED:
        return "it was executed already"
    if state in (ProposalState.PENDING, ProposalState.ACTIVE):
        return f"it has {summary}; it can be queued once approved"
    if state == ProposalState.CANCELED:
        return "it was cancelled"
    return "only a succeeded proposal can be queued and a queued one executed"
