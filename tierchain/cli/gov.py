"""`tierchain gov propose|approve|execute|cancel|status|config|pause|paused`: governance from the shell.

A seated operator proposes a change in the catalogue's words (`tierchain gov propose set-threshold
threshold=3 --description "..."`); seats approve it; `execute` queues it in the timelock once
approved and executes it once its delay has passed (both at once where no delay applies). The
guardian key pauses operations at once; resuming them is a governance change (`unpause`).

Refusals are one line: a bad action or argument is a usage error (exit 2), a proposal that does not
exist or is in the wrong state a refusal (exit 1), naming the proposal and its state or ETA.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.errors import TierchainError
from ledger.governance.actions import ACTIONS, ActionError, parse_action
from ledger.governance.client import Governance
from ledger.governance.errors import ProposalNotReady
from ledger.governance.operations import OPERATIONS, operation_bits
from ledger.govflow import action_words, advance, iso, proposal_detail, proposal_row
from ledger.keys import Signer
from tierchain.cli.common import (
    DEFAULT_PASSWORD_ENV,
    AccountOpt,
    JsonOpt,
    KeyEnvOpt,
    KeystoreOpt,
    NetworkOpt,
    PasswordEnvOpt,
    console,
    emit_json,
    guarded,
    open_client,
    show,
    usage_error,
)

gov_app = typer.Typer(
    help="Governance: propose, approve, execute and cancel changes; read the settings; pause operations.",
    no_args_is_help=True,
)

IdArg = Annotated[
    str,
    typer.Argument(
        metavar="ID", help="proposal id: the governor's number (1, 2, 3...), as `gov status` lists it"
    ),
]
OPERATION_NAMES = ", ".join([*OPERATIONS, "all"])


def proposal_id(value: str) -> int:
    """A proposal id from decimal digits (or 0x hex), else a usage error naming the value. Any uint256
    is well-formed: one the governor has not given is refused by the chain, naming the ids it has."""
    text = value.strip()
    try:
        number = int(text, 16) if text.lower().startswith("0x") else int(text, 10)
    except ValueError:
        number = -1
    if not 0 <= number < 2**256:
        raise usage_error(f"ID: {value!r} is not a proposal id (a decimal number, as `gov status` lists it)")
    return number


def action_arguments(pairs: list[str]) -> dict[str, str]:
    """`name=value` pairs as a mapping; anything else is a usage error naming the pair."""
    arguments: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise usage_error(f"ARGS: {pair!r} is not name=value (e.g. threshold=3)")
        if name.strip() in arguments:
            raise usage_error(f"ARGS: {name.strip()} is given twice")
        arguments[name.strip()] = value
    return arguments


def _gov(
    network: str | None,
    key_env: str | None = None,
    keystore: Path | None = None,
    password_env: str = DEFAULT_PASSWORD_ENV,
    account: str | None = None,
    *,
    read_only: bool = False,
) -> tuple[Governance, Signer]:
    client, signer = open_client(network, key_env, keystore, password_env, account, read_only=read_only)
    return client.governance, signer


def _unix(seconds: int | None) -> str | None:
    """Unix seconds as plain digits for the tables (which group other integers by thousands)."""
    return str(seconds) if seconds is not None else None


def _show(title: str, result: dict[str, Any], as_json: bool) -> None:
    """A result with its proposal `id`: a JSON integer, and in the table plain digits (as `gov approve
    ID` takes it, not grouped by thousands)."""
    if as_json:
        emit_json(result)
        return
    show(title, {**result, "id": str(result["id"])}, False)


@gov_app.command("propose")
@guarded
def gov_propose(
    action: Annotated[str, typer.Argument(metavar="ACTION", help=f"one of: {', '.join(ACTIONS)}")],
    args: Annotated[
        list[str] | None,
        typer.Argument(metavar="[ARGS]...", help="the action's arguments as name=value (e.g. threshold=3)"),
    ] = None,
    description: Annotated[
        str, typer.Option("--description", help="what approvers read; also makes the proposal unique")
    ] = "",
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Propose one catalogue ACTION with its ARGS (a seated operator)."""
    if not description.strip():
        raise usage_error("--description: a proposal needs a description (it is what approvers read)")
    try:
        parsed = parse_action(action, action_arguments(args or []))
    except ActionError as exc:
        raise usage_error(str(exc)) from exc
    gov, signer = _gov(network, key_env, keystore, password_env, account)
    ref = gov.propose(signer, [parsed], description)
    status = gov.status(ref.proposal_id)
    result = {
        "id": ref.proposal_id,
        "tx_hash": ref.tx_hash,
        "block_number": ref.block_number,
        "description": ref.description,
        "actions": [action_words(a) for a in status.actions],
        "state": status.state,
        "needed": status.needed,
        "class": status.action_class,
        "delay_seconds": status.delay_seconds,
    }
    _show("proposal created", result, as_json)


@gov_app.command("approve")
@guarded
def gov_approve(
    id_: IdArg,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve proposal ID as one seat; it passes once the required seats have approved."""
    number = proposal_id(id_)
    gov, signer = _gov(network, key_env, keystore, password_env, account)
    approved = gov.approve(signer, number)
    result = {
        "id": approved.proposal_id,
        "tx_hash": approved.tx_hash,
        "block_number": approved.block_number,
        "voter": approved.voter,
        "approvals": f"{approved.approvals}/{approved.needed}",
        "state": approved.state,
    }
    _show("proposal approved", result, as_json)


@gov_app.command("execute")
@guarded
def gov_execute(
    id_: IdArg,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Queue approved proposal ID in the timelock, or execute it once its delay has passed (anyone)."""
    number = proposal_id(id_)
    gov, signer = _gov(network, key_env, keystore, password_env, account)
    try:
        steps = advance(gov, signer, number)
    except ProposalNotReady as exc:
        raise TierchainError(
            f"proposal {number} is queued and not ready: executable at {iso(exc.eta)} "
            f"(unix {exc.eta}), in {exc.eta - exc.now} s"
        ) from exc
    last = steps[-1]
    names = [s.step for s in steps]
    result = {
        "id": number,
        "steps": names,
        "transactions": [s.tx_hash for s in steps],
        "block_number": last.block_number,
        "state": gov.state(number),
        "eta": last.eta,
        "eta_iso": iso(last.eta),
    }
    if as_json:
        emit_json(result)
        return
    show(f"proposal {' and '.join(names)}", {**result, "id": str(number), "eta": _unix(last.eta)}, False)
    if last.step == "queued" and last.eta is not None:
        console.print(
            f"executable at {iso(last.eta)}: run `tierchain gov execute {number}` then", soft_wrap=True
        )


@gov_app.command("cancel")
@guarded
def gov_cancel(
    id_: IdArg,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel proposal ID: the guardian any open or queued one, a proposer its own before voting opens."""
    number = proposal_id(id_)
    gov, signer = _gov(network, key_env, keystore, password_env, account)
    cancelled = gov.cancel(signer, number)
    result = {
        "id": number,
        "tx_hash": cancelled.tx_hash,
        "block_number": cancelled.block_number,
        "by": cancelled.by,
        "via": cancelled.via,
        "state": gov.state(number),
    }
    _show("proposal cancelled", result, as_json)


@gov_app.command("status")
@guarded
def gov_status(
    id_: Annotated[
        str | None, typer.Argument(metavar="[ID]", help="one proposal in detail; without it, all")
    ] = None,
    network: NetworkOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Proposal ID in detail, or every proposal: state, approvals, class and delay, ETA, actions."""
    number = proposal_id(id_) if id_ is not None else None
    gov, _ = _gov(network, read_only=True)
    if number is not None:
        proposal = gov.status(number)
        detail = proposal_detail(proposal)
        if as_json:
            emit_json(detail)
            return
        detail["approvals"] = f"{detail['approvals']}/{detail.pop('needed')}"
        detail["actions"] = [action_words(a) for a in proposal.actions]
        detail["id"] = str(number)
        detail["eta"] = _unix(proposal.eta)
        show(f"proposal {number}", detail, False)
        return
    proposals = gov.proposals()
    if as_json:
        emit_json([proposal_detail(p) for p in proposals])
        return
    if not proposals:
        console.print("no governance proposals")
    for p in proposals:  # one block per proposal: its actions and description are free text
        row = proposal_row(p)
        eta = f", ETA {row['eta']}" if row["eta"] else ""
        console.print(
            f"[bold]{row['id']}[/bold]  {row['state']}, approvals {row['approvals']}, "
            f"{row['class'] or 'unclassified'} {row['delay_seconds']:,} s{eta}",
            highlight=False,
            soft_wrap=True,
        )
        console.print(f"  {row['actions']}", highlight=False, soft_wrap=True, markup=False)
        if p.description:
            console.print(f"  {p.description!r}", highlight=False, soft_wrap=True, markup=False)


@gov_app.command("config")
@guarded
def gov_config(network: NetworkOpt = None, as_json: JsonOpt = False) -> None:
    """Seats, approvals required, voting period, the timelock's delays by class and action, pauses."""
    gov, _ = _gov(network, read_only=True)
    config = gov.config()
    view = {
        "seats": config.seats,
        "approvals_required": f"{config.approvals_required} of {len(config.seats)}",
        "voting_period_blocks": config.voting_period_blocks,
        "admin_delay_seconds": config.default_delay_seconds,
        "policy_delay_seconds": config.min_delay_seconds,
        "action_delays": config.class_delays,
        "guardian": config.guardian,
        "onboarding": config.onboarding,
        "paused_operations": config.paused_operations,
        "governor": config.governor,
        "timelock": config.timelock,
        "operator_seats": config.operator_seats,
    }
    if as_json:
        emit_json({**view, "approvals_required": config.approvals_required})
        return
    view["action_delays"] = [f"{name} {delay:,} s" for name, delay in config.class_delays.items()]
    show("governance", view, False)


@gov_app.command("pause")
@guarded
def gov_pause(
    operations: Annotated[list[str], typer.Argument(metavar="OPS...", help=f"any of: {OPERATION_NAMES}")],
    reason: Annotated[str, typer.Option("--reason", help="why; recorded on-chain")] = "",
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pause operations at once (the guardian key). Resuming is a governance change: `propose unpause`."""
    try:
        operation_bits(operations)
    except ValueError as exc:
        raise usage_error(f"OPS: {str(exc).removeprefix('operations: ')}") from exc
    if not reason.strip():
        raise usage_error("--reason: a pause needs a reason (it is recorded on-chain)")
    gov, signer = _gov(network, key_env, keystore, password_env, account)
    paused = gov.pause(signer, operations, reason)
    result = {
        "tx_hash": paused.tx_hash,
        "block_number": paused.block_number,
        "operations": paused.operations,
        "paused": paused.paused,
        "reason": paused.reason,
    }
    show("operations paused", result, as_json)


@gov_app.command("paused")
@guarded
def gov_paused(network: NetworkOpt = None, as_json: JsonOpt = False) -> None:
    """The operations paused now (none, or some of: issuance, moves, financing, repayment)."""
    gov, _ = _gov(network, read_only=True)
    paused = gov.paused()
    if as_json:
        emit_json({"paused": paused})
        return
    console.print(f"paused: {', '.join(paused)}" if paused else "nothing is paused")
