"""`tierchain participant recover …`: lost-key recovery (密钥遗失恢复) in two keys and two steps.

`request` (the ONBOARDING key) names the lost address, the replacement and the case; `approve` (an
ENFORCEMENT key, another one) moves the registry record and then every token in batches of at most 100;
`tokens` moves what is left after an interruption; `cancel` withdraws an open request; `status` reads it.
Case references are given as written (`--case "(2026)沪0115执1234号"`, `--case RC-2026-0042`) and recorded
as 32 bytes (`ledger.client.models.case_ref`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ledger.client import TokensRecovered, case_ref
from ledger.client.recovery import MAX_RECOVERY_BATCH
from tierchain.cli.common import (
    DEFAULT_PASSWORD_ENV,
    AccountOpt,
    JsonOpt,
    KeyEnvOpt,
    KeystoreOpt,
    NetworkOpt,
    PasswordEnvOpt,
    address,
    guarded,
    open_client,
    plain,
    show,
    usage_error,
)

recover_app = typer.Typer(
    help=(
        "Lost-key recovery (密钥遗失恢复): request (ONBOARDING), approve and move the tokens (ENFORCEMENT, "
        "another key), tokens (resume), cancel, status."
    ),
    no_args_is_help=True,
)

LostArg = Annotated[str, typer.Argument(metavar="LOST", help="the address whose key was lost")]
CaseOpt = Annotated[
    str,
    typer.Option(
        "--case",
        help="the case reference as written (court or bank case number); full-width and ASCII brackets are "
        "one case; or a 0x 32-byte hex",
    ),
]
BatchOpt = Annotated[
    int,
    typer.Option(
        "--batch-size",
        min=1,
        max=MAX_RECOVERY_BATCH,
        help=f"tokens per transaction (at most {MAX_RECOVERY_BATCH})",
    ),
]


def _case(text: str) -> bytes:
    try:
        return case_ref(text)
    except ValueError as exc:
        raise usage_error(f"--case: {exc}") from exc


def _tokens_view(result: TokensRecovered) -> dict[str, Any]:
    return {
        "lost": result.lost,
        "replacement": result.replacement,
        "case_ref": "0x" + result.case_ref.hex(),
        "batches": [plain(b) for b in result.batches],
        "token_ids": list(result.token_ids),
    }


@recover_app.command("request")
@guarded
def recover_request(
    lost: LostArg,
    replacement: Annotated[str, typer.Option("--to", help="the new address (never registered)")],
    case: CaseOpt,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask to move the record of LOST to --to under --case (the ONBOARDING key). Nothing moves until an
    ENFORCEMENT key approves (`recover approve`)."""
    ref = _case(case)
    who, to = address(lost), address(replacement, "--to")
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("recovery requested", client.request_recovery(signer, who, to, ref), as_json)


@recover_app.command("approve")
@guarded
def recover_approve(
    lost: LostArg,
    case: CaseOpt,
    tokens: Annotated[
        bool, typer.Option("--tokens/--no-tokens", help="move the tokens right after the approval")
    ] = True,
    batch_size: BatchOpt = MAX_RECOVERY_BATCH,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve the open recovery of LOST (an ENFORCEMENT key, not the requesting one), --case repeated; then
    move every token LOST holds or is to accept to the replacement, in batches."""
    ref = _case(case)
    who = address(lost)
    client, signer = open_client(network, key_env, keystore, password_env, account)
    result: dict[str, Any] = {"approval": plain(client.approve_recovery(signer, who, ref))}
    if tokens:
        result["tokens"] = _tokens_view(client.recover_tokens(signer, who, ref, batch_size=batch_size))
    show("recovery approved", result, as_json)


@recover_app.command("tokens")
@guarded
def recover_tokens(
    lost: LostArg,
    case: CaseOpt,
    token: Annotated[
        list[int] | None,
        typer.Option("--token", help="only these ids (repeatable); default: all that are left"),
    ] = None,
    batch_size: BatchOpt = MAX_RECOVERY_BATCH,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move what is left of recovered LOST's tokens to its replacement (an ENFORCEMENT key): resumes an
    interrupted approval; nothing left, nothing sent."""
    ref = _case(case)
    who = address(lost)
    client, signer = open_client(network, key_env, keystore, password_env, account)
    moved = client.recover_tokens(signer, who, ref, token or None, batch_size=batch_size)
    show("tokens recovered", _tokens_view(moved), as_json)


@recover_app.command("cancel")
@guarded
def recover_cancel(
    lost: LostArg,
    case: CaseOpt,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Withdraw the open recovery request of LOST, --case repeated (ONBOARDING or ENFORCEMENT)."""
    ref = _case(case)
    who = address(lost)
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("recovery cancelled", client.cancel_recovery(signer, who, ref), as_json)


@recover_app.command("status")
@guarded
def recover_status(lost: LostArg, network: NetworkOpt = None, as_json: JsonOpt = False) -> None:
    """LOST's registry status, its open recovery request, where it was recovered to, and the tokens it
    still holds or is to accept (what `recover tokens` would move)."""
    who = address(lost)
    client, _ = open_client(network, read_only=True)
    request = client.recovery_request(who)
    recovered_to = client.recovered_to(who)
    view = {
        "address": who,
        "status": client.participant(who).status,
        "request": plain(request) if request is not None else None,
        "recovered_to": recovered_to,
        "current_account": client.current_account(who),
        "tokens_left": client.recoverable_tokens(who),
    }
    show(f"recovery of {who}", view, as_json)
