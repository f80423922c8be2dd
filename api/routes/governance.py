"""Governance: the settings and proposals for the operator and the regulator (who only reads), and the
operator's writes: propose, approve, execute (queue, then execute once the delay has passed),
cancel, and the guardian's pause.

Proposal ids are the governor's sequential numbers (1 for its first proposal, then 2, 3...), JSON
integers in answers and decimal digits in paths. Reads come from the chain through
`ledger.governance.client.Governance`; writes sign with the operator's key, which must hold a seat
(to propose and approve) or the GUARDIAN role (to pause and cancel). Refusals name what stands in the
way: an unknown action or a bad argument (422 naming `actions.N.args.<name>`), a proposal that does
not exist (404), one in the wrong state (409 naming it), or one not ready yet (409 with its ETA and
`Retry-After`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.deps import ContextDep, OperatorParticipant, OverseerParticipant, WriterDep
from api.errors import Conflict, Forbidden, NotFound, RefusedField, Unprocessable
from api.schemas import PROBLEM_RESPONSES, RequestModel, WriteResult
from ledger.client import TxResult
from ledger.governance.actions import Action, ActionError, ActionName, parse_action
from ledger.governance.client import Governance
from ledger.governance.errors import (
    AlreadyApproved,
    GovernanceError,
    NotASeat,
    NotAuthorized,
    ProposalNotReady,
    ProposalStateError,
    UnknownProposal,
)
from ledger.governance.models import Proposal
from ledger.govflow import advance, iso

log = logging.getLogger(__name__)

router = APIRouter(prefix="/governance", tags=["governance"], responses=PROBLEM_RESPONSES)

_ID = 7
_SEAT = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
_HASH = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"
# Any uint256 in decimal is a well-formed id: a number the governor has not given (a 78-digit hash
# copied from an older deployment, say) is a 404 naming the ids it has, not a 422.
GovernanceId = Annotated[
    str,
    Path(
        pattern=r"^[0-9]{1,78}$",
        description="a governance proposal id: the governor's number (1, 2, 3...), in decimal",
        examples=[str(_ID)],
    ),
]
Operation = Literal["issuance", "moves", "financing", "repayment", "all"]
ClassName = Literal["admin", "policy"]


class NotReady(Conflict):
    slug, title = "proposal-not-ready", "The proposal's timelock delay has not passed"


class WrongState(Conflict):
    slug, title = "proposal-state", "The proposal's state does not allow this"


# ------------------------------------------------------------------------------------ models


class GovernanceSettings(BaseModel):
    """Who governs and how: seats, approvals, voting period, the timelock's delays, what is paused."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "seats": [_SEAT],
                    "approvals_required": 1,
                    "voting_period_blocks": 1000,
                    "admin_delay_seconds": 172800,
                    "policy_delay_seconds": 86400,
                    "action_delays": {"grant-role": 172800, "set-threshold": 86400},
                    "guardian": _SEAT,
                    "onboarding": [_SEAT],
                    "paused_operations": ["moves"],
                    "governor": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                    "timelock": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
                    "operator_seats": "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
                }
            ]
        }
    )

    seats: list[str] = Field(description="operator keys holding a seat (one approval each)")
    approvals_required: int = Field(description="M: seats whose approval passes a proposal")
    voting_period_blocks: int = Field(description="blocks a proposal stays open for approvals")
    admin_delay_seconds: int = Field(description="timelock delay of admin changes (roles, upgrades, seats)")
    policy_delay_seconds: int = Field(description="timelock delay of policy changes (the minimum)")
    action_delays: dict[str, int] = Field(description="the timelock's delay of each catalogue action now")
    guardian: str = Field(description="pauses operations and cancels proposals at once")
    onboarding: list[str] = Field(description="keys that register participants at once")
    paused_operations: list[str] = Field(description="operations paused now: issuance, moves, ...")
    governor: str
    timelock: str
    operator_seats: str


class ActionView(BaseModel):
    """One call of a proposal in the catalogue's words (`action` is the selector outside it)."""

    action: str = Field(examples=["set-threshold"])
    contract: str = Field(examples=["TradeRegistry"])
    target: str
    arguments: dict[str, Any] = Field(examples=[{"threshold": 3}])
    action_class: ClassName | None
    delay_seconds: int


class ProposalView(BaseModel):
    """A governance proposal: its state, approvals, class and delay, ETA once queued, and actions."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _ID,
                    "state": "queued",
                    "proposer": _SEAT,
                    "description": "Raise the oracle threshold to 3",
                    "description_hash": _HASH,
                    "approvals": 2,
                    "needed": 2,
                    "against": 0,
                    "action_class": "policy",
                    "delay_seconds": 86400,
                    "eta": 1767312000,
                    "eta_iso": "2026-01-02T00:00:00Z",
                    "ready": False,
                    "snapshot_block": 120,
                    "deadline_block": 1120,
                    "actions": [
                        {
                            "action": "set-threshold",
                            "contract": "TradeRegistry",
                            "target": "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
                            "arguments": {"threshold": 3},
                            "action_class": "policy",
                            "delay_seconds": 86400,
                        }
                    ],
                }
            ]
        }
    )

    id: int = Field(description="the proposal id: the governor's number, 1 for its first proposal")
    state: Literal["pending", "active", "canceled", "defeated", "succeeded", "queued", "expired", "executed"]
    proposer: str
    description: str | None = Field(description="null when its ProposalCreated log is not found")
    description_hash: str
    approvals: int
    needed: int = Field(description="approvals it needs (M)")
    against: int
    action_class: ClassName | None = Field(description="admin if any action is admin, else policy")
    delay_seconds: int = Field(description="the timelock delay it waits once queued")
    eta: int | None = Field(description="unix seconds when it becomes executable; null until queued")
    eta_iso: str | None
    ready: bool = Field(description="queued and executable now")
    snapshot_block: int
    deadline_block: int
    actions: list[ActionView]

    @classmethod
    def of(cls, p: Proposal) -> ProposalView:
        return cls(
            id=p.proposal_id,
            state=p.state,
            proposer=p.proposer,
            description=p.description,
            description_hash="0x" + p.description_hash.hex(),
            approvals=p.approvals,
            needed=p.needed,
            against=p.against,
            action_class=p.action_class,
            delay_seconds=p.delay_seconds,
            eta=p.eta,
            eta_iso=iso(p.eta),
            ready=p.ready,
            snapshot_block=p.snapshot_block,
            deadline_block=p.deadline_block,
            actions=[
                ActionView(
                    action=a.action,
                    contract=a.contract,
                    target=a.target,
                    arguments=a.arguments,
                    action_class=a.action_class,
                    delay_seconds=a.delay_seconds,
                )
                for a in p.actions
            ],
        )


class ProposalList(BaseModel):
    """Every proposal the governor stores, oldest first."""

    items: list[ProposalView]


class ActionRequest(RequestModel):
    """One catalogue action and its arguments (`tierchain gov propose ACTION name=value ...`)."""

    action: ActionName
    args: dict[str, Any] = Field(
        default_factory=dict,
        description="the action's arguments by name, e.g. {'threshold': 3} for set-threshold",
    )


class ProposeRequest(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "actions": [{"action": "set-threshold", "args": {"threshold": 3}}],
                    "description": "Raise the oracle threshold to 3",
                },
                {
                    "actions": [
                        {
                            "action": "grant-role",
                            "args": {
                                "role": "REGULATOR",
                                "account": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                            },
                        }
                    ],
                    "description": "Grant REGULATOR to the supervisor",
                },
            ]
        },
    )

    actions: list[ActionRequest] = Field(min_length=1, max_length=10)
    description: str = Field(
        min_length=1, max_length=2000, description="what approvers read; also makes the proposal unique"
    )


class PauseRequest(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"operations": ["moves", "financing"], "reason": "incident 7"}]},
    )

    operations: list[Operation] = Field(min_length=1, max_length=5)
    reason: str = Field(min_length=1, max_length=1024, description="recorded on-chain")


class ProposedResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _ID,
                    "description": "Raise the oracle threshold to 3",
                    "description_hash": _HASH,
                    "state": "pending",
                    "needed": 1,
                    "action_class": "policy",
                    "delay_seconds": 86400,
                }
            ]
        }
    )

    id: int
    description: str
    description_hash: str
    state: str
    needed: int
    action_class: ClassName | None
    delay_seconds: int


class ApprovedResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": _ID, "voter": _SEAT, "approvals": 1, "needed": 2, "state": "active"}]
        }
    )

    id: int
    voter: str
    approvals: int
    needed: int
    state: str


class AdvancedResult(BaseModel):
    """What `execute` did: `queued` (then `eta` says when it becomes executable), `executed`, or both
    where no delay applies. The write's `tx_hash` is the last step's; `transactions` lists each."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _ID,
                    "steps": ["queued"],
                    "transactions": [_HASH],
                    "state": "queued",
                    "eta": 1767312000,
                    "eta_iso": "2026-01-02T00:00:00Z",
                }
            ]
        }
    )

    id: int
    steps: list[Literal["queued", "executed"]]
    transactions: list[str]
    state: str
    eta: int | None
    eta_iso: str | None


class CancelledResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": _ID, "by": _SEAT, "via": "governor", "state": "canceled"}]}
    )

    id: int
    by: str
    via: Literal["governor", "timelock"]
    state: str


class PausedResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"operations": ["moves"], "paused": ["moves", "financing"], "reason": "incident 7"}]
        }
    )

    operations: list[str] = Field(description="what this pause named")
    paused: list[str] = Field(description="everything paused after it")
    reason: str


# ------------------------------------------------------------------------------------ helpers


@contextmanager
def refusals() -> Iterator[None]:
    """Governance's refusals as problem details: 404 unknown, 409 state or not ready, 403 no seat."""
    try:
        yield
    except UnknownProposal as exc:
        raise NotFound(str(exc)) from exc
    except ProposalNotReady as exc:
        wait = max(exc.eta - exc.now, 1)
        raise NotReady(
            f"proposal {exc.proposal_id} is queued and becomes executable at {iso(exc.eta)} "
            f"(eta {exc.eta}, unix seconds), in {exc.eta - exc.now} s",
            headers={"Retry-After": str(wait)},
        ) from exc
    except (ProposalStateError, AlreadyApproved) as exc:
        raise WrongState(str(exc)) from exc
    except (NotASeat, NotAuthorized) as exc:
        raise Forbidden(f"the operator's key cannot do this: {exc}") from exc
    except ActionError as exc:
        raise Unprocessable(str(exc), field="actions") from exc
    except GovernanceError as exc:
        raise Conflict(str(exc)) from exc


def _number(value: str) -> int:
    number = int(value)
    if number >= 2**256:
        raise NotFound(f"proposal {value} does not exist on the governor")
    return number


def parse_actions(items: Sequence[ActionRequest]) -> list[Action]:
    """Catalogue actions from the request; a refusal names `actions.N.args.<argument>`."""
    actions = []
    for i, item in enumerate(items):
        try:
            actions.append(parse_action(item.action, item.args))
        except (ActionError, TypeError, ValueError) as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError) and cause.errors():
                error = cause.errors()[0]
                where = ".".join(str(p) for p in error["loc"][1:])
                field = f"actions.{i}.args" + (f".{where}" if where else "")
                message = str(error["msg"]).removeprefix("Value error, ")
                if error["type"] == "extra_forbidden":
                    message = "not an argument of this action"
                raise RefusedField(field, f"{message} ({item.action})") from exc
            raise RefusedField(f"actions.{i}", str(exc)) from exc
    return actions


def preflight(gov: Governance, actions: Sequence[Action]) -> None:
    """Refuse, before anything is sent, actions the chain's state says could only fail (a seat held
    already, an implementation without code, a currency mapped already), naming the argument."""
    for i, action in enumerate(actions):
        try:
            gov.preflight([action])
        except ActionError as exc:
            _name, _, rest = str(exc).partition(": ")
            argument, sep, message = rest.partition(": ")
            if not sep or argument not in type(action).model_fields:
                raise RefusedField(f"actions.{i}", str(exc)) from exc
            raise RefusedField(f"actions.{i}.args.{argument}", f"{message} ({action.action})") from exc


def _written(outcome: TxResult, result: BaseModel) -> WriteResult[Any]:
    return WriteResult[Any](
        tx_hash=outcome.tx_hash,
        block_number=outcome.block_number,
        gas_used=outcome.gas_used,
        result=result.model_dump(),
    )


def _governance(ctx: ContextDep) -> Governance:
    with refusals():
        return ctx.client.governance


# ------------------------------------------------------------------------------------ reads


@router.get("", summary="Governance settings and paused operations (regulator, operator)")
def settings(ctx: ContextDep, _: OverseerParticipant) -> GovernanceSettings:
    config = _governance(ctx).config()
    return GovernanceSettings(
        seats=config.seats,
        approvals_required=config.approvals_required,
        voting_period_blocks=config.voting_period_blocks,
        admin_delay_seconds=config.default_delay_seconds,
        policy_delay_seconds=config.min_delay_seconds,
        action_delays=config.class_delays,
        guardian=config.guardian,
        onboarding=config.onboarding,
        paused_operations=config.paused_operations,
        governor=config.governor,
        timelock=config.timelock,
        operator_seats=config.operator_seats,
    )


@router.get("/proposals", summary="Every governance proposal, oldest first (regulator, operator)")
def list_proposals(ctx: ContextDep, _: OverseerParticipant) -> ProposalList:
    return ProposalList(items=[ProposalView.of(p) for p in _governance(ctx).proposals()])


@router.get("/proposals/{governance_id}", summary="One governance proposal (regulator, operator)")
def get_proposal(governance_id: GovernanceId, ctx: ContextDep, _: OverseerParticipant) -> ProposalView:
    number = _number(governance_id)
    with refusals():
        return ProposalView.of(_governance(ctx).status(number))


# ------------------------------------------------------------------------------------ writes


@router.post("/proposals", status_code=201, summary="Propose a change (operator: a seated key)")
def propose(
    body: ProposeRequest, ctx: ContextDep, _: OperatorParticipant, writer: WriterDep
) -> WriteResult[ProposedResult]:
    if not body.description.strip():
        raise RefusedField("description", "a proposal needs a description (it is what approvers read)")
    actions = parse_actions(body.actions)
    gov = _governance(ctx)
    preflight(gov, actions)

    def make() -> WriteResult[Any]:
        ref = gov.propose(writer.signer(), actions, body.description, key=writer.key)
        status = gov.status(ref.proposal_id)
        log.info("governance proposal created id=%s tx=%s", ref.proposal_id, ref.tx_hash)
        return _written(
            ref,
            ProposedResult(
                id=ref.proposal_id,
                description=ref.description,
                description_hash="0x" + ref.description_hash.hex(),
                state=status.state,
                needed=status.needed,
                action_class=status.action_class,
                delay_seconds=status.delay_seconds,
            ),
        )

    with refusals():
        return writer.answer(make, status_code=201)


@router.post("/proposals/{governance_id}/approve", summary="Approve as the operator's seat (operator)")
def approve(
    governance_id: GovernanceId,
    ctx: ContextDep,
    _: OperatorParticipant,
    writer: WriterDep,
) -> WriteResult[ApprovedResult]:
    number = _number(governance_id)
    gov = _governance(ctx)

    def make() -> WriteResult[Any]:
        done = gov.approve(writer.signer(), number, key=writer.key)
        result = ApprovedResult(
            id=number, voter=done.voter, approvals=done.approvals, needed=done.needed, state=done.state
        )
        return _written(done, result)

    with refusals():
        return writer.answer(make)


@router.post(
    "/proposals/{governance_id}/execute",
    summary="Queue an approved proposal, or execute a queued one once ready (operator)",
)
def execute(
    governance_id: GovernanceId,
    ctx: ContextDep,
    _: OperatorParticipant,
    writer: WriterDep,
) -> WriteResult[AdvancedResult]:
    number = _number(governance_id)
    gov = _governance(ctx)

    def make() -> WriteResult[Any]:
        steps = advance(gov, writer.signer(), number, key=writer.key)
        last = steps[-1]
        eta = next((s.eta for s in reversed(steps) if s.eta is not None), None)
        result = AdvancedResult(
            id=number,
            steps=[s.step for s in steps],
            transactions=[s.tx_hash for s in steps],
            state=gov.state(number),
            eta=eta,
            eta_iso=iso(eta),
        )
        log.info("governance proposal advanced id=%s steps=%s eta=%s", number, result.steps, eta)
        return _written(last, result)

    with refusals():
        return writer.answer(make)


@router.post(
    "/proposals/{governance_id}/cancel",
    summary="Cancel an open proposal or veto a queued one (operator: the guardian or the proposer)",
)
def cancel(
    governance_id: GovernanceId,
    ctx: ContextDep,
    _: OperatorParticipant,
    writer: WriterDep,
) -> WriteResult[CancelledResult]:
    number = _number(governance_id)
    gov = _governance(ctx)

    def make() -> WriteResult[Any]:
        done = gov.cancel(writer.signer(), number, key=writer.key)
        result = CancelledResult(id=number, by=done.by, via=done.via, state=gov.state(number))
        return _written(done, result)

    with refusals():
        return writer.answer(make)


@router.post("/pause", summary="Pause operations at once (operator: the guardian key)")
def pause(
    body: PauseRequest, ctx: ContextDep, _: OperatorParticipant, writer: WriterDep
) -> WriteResult[PausedResult]:
    if not body.reason.strip():
        raise RefusedField("reason", "a pause needs a reason (it is recorded on-chain)")
    gov = _governance(ctx)

    def make() -> WriteResult[Any]:
        done = gov.pause(writer.signer(), list(body.operations), body.reason, key=writer.key)
        log.info(
            "operations paused operations=%s reason=%r tx=%s", done.operations, body.reason, done.tx_hash
        )
        return _written(
            done, PausedResult(operations=done.operations, paused=done.paused, reason=done.reason)
        )

    with refusals():
        return writer.answer(make)
