"""`tierchain policy`: the compliance policy (docs/compliance.md) and an obligor's overdue record, read
from the chain. Changes go through governance (`tierchain gov propose set-policy ...`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from ledger.client import TierchainClient
from ledger.client.compliance import DAY, SIZE_CLASS_ZH, Policy
from ledger.errors import TierchainError
from tierchain.cli.common import JsonOpt, NetworkOpt, address, console, guarded, open_client, show

policy_app = typer.Typer(help="The compliance policy and obligors' overdue records.", no_args_is_help=True)

STRIKES_TO_SUSPEND = 3


def _days(seconds: int) -> int | float:
    return seconds // DAY if seconds % DAY == 0 else seconds / DAY


def _iso(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat().replace("+00:00", "Z")


def policy_view(p: Policy) -> dict[str, Any]:
    """The policy as the API answers it (`GET /v1/policy`): seconds and days."""
    return {
        "max_tenor_days": _days(p.max_tenor_seconds),
        "max_tenor_seconds": p.max_tenor_seconds,
        "long_tenor_days": _days(p.long_tenor_seconds),
        "long_tenor_seconds": p.long_tenor_seconds,
        "sme_payment_term_days": _days(p.sme_payment_term_seconds),
        "sme_payment_term_seconds": p.sme_payment_term_seconds,
        "max_depth": p.max_depth,
        "min_unit": p.min_unit,
        "trade_background": p.trade_background,
    }


def overdue_rules(client: TierchainClient) -> dict[str, Any]:
    window = int(client.registry.functions.OVERDUE_WINDOW().call())
    suspension = int(client.registry.functions.SUSPENSION().call())
    return {
        "overdue_window_days": _days(window),
        "overdue_window_seconds": window,
        "strikes_to_suspend": STRIKES_TO_SUSPEND,
        "suspension_days": _days(suspension),
        "suspension_seconds": suspension,
    }


def _is_set(policy: Any) -> bool:
    """`Policy.isSet` of a decoded event (a named struct, or a plain tuple)."""
    return bool(policy["isSet"] if isinstance(policy, Mapping) else policy[6])


def obligor_policy(client: TierchainClient, obligor: str) -> dict[str, Any]:
    """The policy that applies to `obligor` and whether it is its own (the latest `ObligorPolicySet`)."""
    logs = client.registry.events.ObligorPolicySet().get_logs(
        argument_filters={"obligor": obligor}, from_block=client.deployment.deploy_block
    )
    latest = max(logs, key=lambda e: (e["blockNumber"], e["logIndex"]), default=None)
    own = latest is not None and _is_set(latest["args"]["policy"])
    return {
        "obligor": obligor,
        "override": own,
        "reason": str(latest["args"]["reason"]) if own and latest is not None else None,
        "policy": policy_view(client.policy_of(obligor)),
    }


@policy_app.command("show")
@guarded
def policy_show(
    obligor: Annotated[
        str | None, typer.Option("--obligor", help="also show the policy that applies to this obligor")
    ] = None,
    network: NetworkOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The deployment's compliance policy and the overdue rules (and one obligor's policy)."""
    who = address(obligor, "--obligor") if obligor is not None else None
    client, _ = open_client(network, read_only=True)
    answer: dict[str, Any] = {
        "policy": policy_view(client.default_policy()),
        "rules": overdue_rules(client),
        "obligor_overrides": obligor_policy(client, who) if who is not None else None,
    }
    if as_json:
        show("policy", answer, True)
        return
    show("compliance policy of the deployment", answer["policy"], False)
    show("overdue rules", answer["rules"], False)
    if who is not None:
        own = answer["obligor_overrides"]
        title = f"policy of {who}: " + (
            f"its own (reason: {own['reason']})" if own["override"] else "the deployment's"
        )
        show(title, own["policy"], False)


@policy_app.command("record")
@guarded
def policy_record(
    obligor: Annotated[str, typer.Argument(metavar="ADDRESS", help="a core enterprise's account")],
    network: NetworkOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A core enterprise's overdue record: strikes, count, and any suspension of its issuance."""
    who = address(obligor)
    client, _ = open_client(network, read_only=True)
    if not client.has_role(who, "CORE_ENTERPRISE"):
        raise TierchainError(f"{who} is not a core enterprise: only an obligor has an overdue record")
    record = client.obligor_record(who)
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    size = client.size_class(who)
    until = record.suspended_until
    view = {
        "address": who,
        "size_class": size.label,
        "strikes": [_iso(t) for t in sorted(t for t in record.strikes if t)],
        "overdue_count": record.overdue_count,
        "suspended_until": _iso(until) if until else None,
        "suspended": record.suspended_at(now),
        "as_of": _iso(now),
    }
    if as_json:
        show("record", view, True)
        return
    show(f"overdue record of {who} ({SIZE_CLASS_ZH[size]})", view, False)
    if view["suspended"]:
        console.print(
            f"issuance suspended until {view['suspended_until']}: three overdue obligations within "
            f"{_days(int(client.registry.functions.OVERDUE_WINDOW().call()))} days",
            highlight=False,
        )
