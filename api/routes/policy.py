"""The compliance policy (docs/compliance.md): the deployment's policy, the overdue rules' constants, and
the policy that applies to one obligor (its own override, or the deployment's). Any participant reads
it: the rules every write is checked against are no secret."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import ContextDep, CurrentParticipant, ObligorParticipant, WriterDep
from api.results import SettlementModeSetResult
from api.schemas import PROBLEM_RESPONSES, Address, RequestModel, WriteResult
from ledger.client import TierchainClient
from ledger.client.compliance import DAY, Policy
from ledger.client.models import SettlementMode

router = APIRouter(prefix="/policy", tags=["policy"], responses=PROBLEM_RESPONSES)

STRIKES_TO_SUSPEND = 3  # ParticipantRegistry.recordOverdue: the third strike within the window


def _days(seconds: int) -> int | float:
    return seconds // DAY if seconds % DAY == 0 else seconds / DAY


class PolicyView(BaseModel):
    """`IParticipantRegistry.Policy`: durations in seconds (what the contracts compare) and in days."""

    max_tenor_days: int | float = Field(examples=[365], description="longest term from issue to maturity")
    max_tenor_seconds: int = Field(examples=[31_536_000])
    long_tenor_days: int | float = Field(examples=[180], description="above it, a justification code")
    long_tenor_seconds: int = Field(examples=[15_552_000])
    sme_payment_term_days: int | float = Field(
        examples=[60], description="a large obligor pays a medium, small or micro supplier within this"
    )
    sme_payment_term_seconds: int = Field(examples=[5_184_000])
    max_depth: int = Field(examples=[32], description="deepest piece below its root")
    min_unit: int = Field(examples=[1], description="smallest minimum unit of an obligation (minor units)")
    trade_background: bool = Field(
        examples=[True], description="a move to anyone but a bank cites trade documents (`documents`)"
    )

    @classmethod
    def of(cls, p: Policy) -> PolicyView:
        return cls(
            max_tenor_days=_days(p.max_tenor_seconds),
            max_tenor_seconds=p.max_tenor_seconds,
            long_tenor_days=_days(p.long_tenor_seconds),
            long_tenor_seconds=p.long_tenor_seconds,
            sme_payment_term_days=_days(p.sme_payment_term_seconds),
            sme_payment_term_seconds=p.sme_payment_term_seconds,
            max_depth=p.max_depth,
            min_unit=p.min_unit,
            trade_background=p.trade_background,
        )


class OverdueRules(BaseModel):
    """The fixed rule on persistent overdue: `strikes_to_suspend` overdue obligations within the window
    suspend the obligor's issuance for `suspension_days`."""

    overdue_window_days: int | float = Field(examples=[182])
    overdue_window_seconds: int = Field(examples=[15_724_800])
    strikes_to_suspend: int = Field(examples=[STRIKES_TO_SUSPEND])
    suspension_days: int | float = Field(examples=[730])
    suspension_seconds: int = Field(examples=[63_072_000])


class ObligorPolicy(BaseModel):
    """The policy that applies to one obligor's obligations."""

    obligor: str
    override: bool = Field(description="true: the obligor has a policy of its own (governance set it)")
    reason: str | None = Field(default=None, description="the reason recorded with the override")
    policy: PolicyView


class BillModeView(BaseModel):
    """Bill mode (票据模式): whether moves pend until the receiver accepts (签收), and for how long."""

    bill_mode: bool = Field(examples=[False], description="true: splits and transfers pend until 签收")
    acceptance_window_seconds: int = Field(examples=[604_800], description="an unaccepted move expires after")
    obligor_choice: str | None = Field(
        default=None,
        examples=["follow_deployment"],
        description="with `?obligor=`: its own choice (follow_deployment, voucher or bill)",
    )


class PolicyAnswer(BaseModel):
    policy: PolicyView = Field(description="the deployment's policy")
    rules: OverdueRules
    obligor_overrides: ObligorPolicy | None = Field(
        default=None, description="with `?obligor=`: the policy that applies to that obligor"
    )
    bill: BillModeView | None = Field(
        default=None,
        description="the deployment's bill mode; with `?obligor=`, what that obligor's new obligations get",
    )


def bill_mode(client: TierchainClient, obligor: str | None) -> BillModeView:
    if obligor is None:
        p = client.bill_policy()
        return BillModeView(bill_mode=p.bill_mode, acceptance_window_seconds=p.acceptance_window)
    who = to_checksum_address(obligor)
    p = client.settlement_terms(who)
    return BillModeView(
        bill_mode=p.bill_mode,
        acceptance_window_seconds=p.acceptance_window,
        obligor_choice=client.settlement_mode(who).name.lower(),
    )


def overdue_rules(client: TierchainClient) -> OverdueRules:
    window = int(client.registry.functions.OVERDUE_WINDOW().call())
    suspension = int(client.registry.functions.SUSPENSION().call())
    return OverdueRules(
        overdue_window_days=_days(window),
        overdue_window_seconds=window,
        strikes_to_suspend=STRIKES_TO_SUSPEND,
        suspension_days=_days(suspension),
        suspension_seconds=suspension,
    )


def _is_set(policy: Any) -> bool:
    """`Policy.isSet` of a decoded event (a named struct, or a plain tuple)."""
    return bool(policy["isSet"] if isinstance(policy, Mapping) else policy[6])


def obligor_policy(client: TierchainClient, obligor: str) -> ObligorPolicy:
    """The effective policy of `obligor`, and whether it is its own: the latest `ObligorPolicySet` for it
    says (an override sets `isSet`, clearing it emits the event with `isSet` false)."""
    who = to_checksum_address(obligor)
    logs = client.registry.events.ObligorPolicySet().get_logs(
        argument_filters={"obligor": who}, from_block=client.deployment.deploy_block
    )
    latest = max(logs, key=lambda e: (e["blockNumber"], e["logIndex"]), default=None)
    own = latest is not None and _is_set(latest["args"]["policy"])
    return ObligorPolicy(
        obligor=who.lower(),
        override=own,
        reason=str(latest["args"]["reason"]) if own and latest is not None else None,
        policy=PolicyView.of(client.policy_of(who)),
    )


@router.get(
    "", summary="The compliance policy, the overdue rules, and one obligor's policy (any participant)"
)
def get_policy(
    _: CurrentParticipant,
    ctx: ContextDep,
    obligor: Annotated[
        Address | None, Query(description="also answer the policy that applies to this obligor")
    ] = None,
) -> PolicyAnswer:
    client = ctx.client
    return PolicyAnswer(
        policy=PolicyView.of(client.default_policy()),
        rules=overdue_rules(client),
        obligor_overrides=obligor_policy(client, obligor) if obligor is not None else None,
        bill=bill_mode(client, obligor),
    )


class SettlementModeRequest(RequestModel):
    mode: Literal["follow_deployment", "voucher", "bill"] = Field(
        description="how the caller's future obligations settle moves: as the deployment says, at once "
        "(voucher), or pending the receiver's 签收 (bill); existing obligations keep their mode"
    )


@router.put("/settlement-mode", summary="Choose voucher or bill mode for one's future obligations (obligor)")
def set_settlement_mode(
    body: SettlementModeRequest, ctx: ContextDep, _: ObligorParticipant, writer: WriterDep
) -> WriteResult[SettlementModeSetResult]:
    mode = SettlementMode[body.mode.upper()]
    return writer.run(lambda signer, key: ctx.client.set_settlement_mode(signer, mode, key=key))
