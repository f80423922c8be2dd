"""Participant and operator operations: thin commands over `TierchainClient`, one per contract action.

Each command loads the network, picks the signer from the network's key source (or `--key-env`,
`--keystore`), sends one operation and prints the result as a table or `--json`. Amounts are integer
minor units (fen for CNY), times are unix seconds or ISO dates (UTC).
"""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.client import ROLES, DayCount, Terms, TierchainClient, role_name
from ledger.client.compliance import SizeClass
from ledger.client.models import ROLE_NAMES, SettlementMode, agreed_term_ref
from ledger.errors import TierchainError
from tierchain.cli.common import (
    DEFAULT_PASSWORD_ENV,
    AccountOpt,
    JsonOpt,
    KeyEnvOpt,
    KeystoreOpt,
    NetworkOpt,
    PasswordEnvOpt,
    address,
    console,
    guarded,
    hex32,
    open_client,
    plain,
    rows_table,
    show,
    timestamp,
    usage_error,
)

participant_app = typer.Typer(
    help="Onboard participants and read their registry status.", no_args_is_help=True
)
obligation_app = typer.Typer(
    help="Propose an obligation (supplier); confirm or reject it (obligor).", no_args_is_help=True
)
token_app = typer.Typer(
    help="Move receivables: split, merge, transfer; accept (签收), refuse (拒收) or withdraw (撤回) pending "
    "moves in bill mode; freeze and unfreeze (regulator).",
    no_args_is_help=True,
)
finance_app = typer.Typer(
    help=(
        "Discount financing: quote, offer (bank), accept (holder), cancel; recourse (追索) after default; "
        "financing requests (request, requests, request-show, request-offer, request-accept, "
        "request-withdraw) through the API."
    ),
    no_args_is_help=True,
)
repay_app = typer.Typer(
    help="Repayment: deposit (obligor), redeem (holder), mark overdue, declare default.", no_args_is_help=True
)


# --------------------------------------------------------------------------------- participants


@participant_app.command("register")
@guarded
def participant_register(
    account_address: Annotated[str, typer.Argument(metavar="ADDRESS", help="the participant's account")],
    role: Annotated[
        list[str], typer.Option("--role", help=f"participant role, repeatable: {', '.join(ROLE_NAMES[:5])}")
    ],
    legal_id: Annotated[
        str | None, typer.Option(help="legal id (e.g. USCC); normalized and hashed as the oracles do")
    ] = None,
    legal_id_hash: Annotated[str | None, typer.Option(help="or the 32-byte hash itself")] = None,
    size_class: Annotated[
        str | None,
        typer.Option(
            "--size-class", help="enterprise size: large, medium, small, micro (大型/中型/小型/微型)"
        ),
    ] = None,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register ADDRESS as an active participant with its roles (registry admin)."""
    from oracles.normalize import legal_id_hash as normalized_hash

    if (legal_id is None) == (legal_id_hash is None):
        raise usage_error("give exactly one of --legal-id and --legal-id-hash")
    unknown = [r for r in role if r.upper() not in ROLES]
    if unknown:
        raise usage_error(f"--role: unknown {', '.join(unknown)}; known: {', '.join(ROLE_NAMES)}")
    id_hash = (
        hex32(legal_id_hash, "--legal-id-hash")
        if legal_id_hash
        else hex32(normalized_hash(str(legal_id)), "--legal-id")
    )
    try:
        size = SizeClass.parse(size_class) if size_class is not None else None
    except ValueError as exc:
        raise usage_error(f"--size-class: {exc}") from exc
    who = address(account_address)
    client, signer = open_client(network, key_env, keystore, password_env, account)
    result = plain(client.register_participant(signer, who, id_hash, [r.upper() for r in role]))
    # The chain speaks in role ids; people read names.
    result["roles"] = [role_name(bytes.fromhex(r[2:])) or r for r in result["roles"]]
    if size is not None:  # recorded by the same registry admin (ONBOARDING or admin)
        result["size_class"] = client.set_size_class(signer, who, size).current.label
    show("participant registered", result, as_json)


@participant_app.command("status")
@guarded
def participant_status(
    account_address: Annotated[str, typer.Argument(metavar="ADDRESS")],
    network: NetworkOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A participant's registry status and roles, read from the chain."""
    who = address(account_address)
    client, _ = open_client(network, read_only=True)
    record = client.participant(who)
    roles = [name for name in ROLE_NAMES if client.has_role(who, name)]
    view = {
        "address": who,
        "status": record.status,
        "roles": roles,
        "legal_id_hash": record.legal_id_hash,
    }
    show(f"participant {who}", view, as_json)


# --------------------------------------------------------------------------------- obligations


def proposed_terms(client: TierchainClient, proposal_id: int) -> Terms:
    """The terms a proposal was made with, from its `ObligationProposed` event (the chain stores a hash)."""
    event = client.issuance.events.ObligationProposed()
    logs = list(
        event.get_logs(
            argument_filters={"proposalId": proposal_id}, from_block=client.deployment.deploy_block
        )
    )
    if not logs:
        raise TierchainError(f"no proposal {proposal_id} on this deployment")
    a = logs[-1]["args"]
    # The codes the terms carry, when any (docs/compliance.md): `TermsJustified` with slot 0.
    justified = client.issuance.events.TermsJustified().get_logs(
        argument_filters={"proposalId": proposal_id, "slot": 0}, from_block=client.deployment.deploy_block
    )
    code, ref = (0, b"\x00" * 32)
    if justified:
        code, ref = justified[-1]["args"]["tenorJustification"], bytes(justified[-1]["args"]["agreedTermRef"])
    return Terms(
        supplier=a["supplier"],
        obligor=a["obligor"],
        currency=bytes(a["currency"]).decode("ascii"),
        face=a["face"],
        maturity=a["maturity"],
        min_unit=a["minUnit"],
        documents=tuple(bytes(d) for d in a["documents"]),
        tenor_justification=int(code),
        agreed_term_ref=ref,
    )


@obligation_app.command("propose")
@guarded
def obligation_propose(
    obligor: Annotated[str, typer.Option(help="the core enterprise that owes")],
    face: Annotated[int, typer.Option(help="face value in minor units")],
    maturity: Annotated[str, typer.Option(help="due date: unix seconds or ISO date")],
    document: Annotated[
        list[str], typer.Option("--document", help="attested document fingerprint, repeatable")
    ],
    currency: Annotated[str, typer.Option(help="ISO 4217 code")] = "CNY",
    min_unit: Annotated[int, typer.Option(help="smallest splittable amount, minor units")] = 1,
    tenor_justification: Annotated[
        int, typer.Option(help="why a term runs past the policy's long-tenor threshold (a code; 0: none)")
    ] = 0,
    agreed_term: Annotated[
        str | None,
        typer.Option(help="contract clause agreeing a term past the SME limit (its keccak is recorded)"),
    ] = None,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Propose an obligation backed by attested documents; the signer is the supplier."""
    if face <= 0 or min_unit <= 0:
        raise usage_error("--face and --min-unit must be positive")
    if not 0 <= tenor_justification < 2**16:
        raise usage_error("--tenor-justification must be a code from 0 to 65535")
    docs = tuple(hex32(d, "--document") for d in document)
    due = timestamp(maturity, "--maturity")
    obligor_address = address(obligor, "--obligor")
    client, signer = open_client(network, key_env, keystore, password_env, account)
    terms = Terms(
        supplier=signer.address,
        obligor=obligor_address,
        currency=currency.upper(),
        face=face,
        maturity=due,
        min_unit=min_unit,
        documents=docs,
        tenor_justification=tenor_justification,
        agreed_term_ref=agreed_term_ref(agreed_term),
    )
    show("obligation proposed", client.propose(signer, terms), as_json)


@obligation_app.command("confirm")
@guarded
def obligation_confirm(
    proposal_id: Annotated[int, typer.Argument()],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Confirm a proposal as its obligor: the slot is created and the face minted to the supplier."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    terms = proposed_terms(client, proposal_id)
    show("obligation issued", client.confirm(signer, proposal_id, terms), as_json)


@obligation_app.command("reject")
@guarded
def obligation_reject(
    proposal_id: Annotated[int, typer.Argument()],
    reason: Annotated[int, typer.Option(help="reason code recorded on-chain")] = 0,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Reject a proposal as its obligor."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    terms = proposed_terms(client, proposal_id)
    show("proposal rejected", client.reject(signer, proposal_id, terms, reason), as_json)


# --------------------------------------------------------------------------------- tokens


@token_app.command("split")
@guarded
def token_split(
    token_id: Annotated[int, typer.Argument()],
    to: Annotated[str, typer.Argument(help="recipient")],
    value: Annotated[int, typer.Argument(help="minor units")],
    document: Annotated[
        list[str] | None,
        typer.Option(
            "--document",
            help="attested trade document the recipient sold you (fingerprint), repeatable; "
            "required for a supplier under the default policy (docs/compliance.md)",
        ),
    ] = None,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pay VALUE of TOKEN_ID to TO as a new piece whose parent is TOKEN_ID; with --document, as a
    trade-backed payment (IssuanceDesk.moveWithTrade)."""
    recipient = address(to, "TO")
    docs = [hex32(d, "--document") for d in document or []]
    client, signer = open_client(network, key_env, keystore, password_env, account)
    if docs:
        show("split", client.pay_with_trade(signer, token_id, [(recipient, value, docs)]), as_json)
    else:
        show("split", client.split(signer, token_id, recipient, value), as_json)


@token_app.command("split-batch")
@guarded
def token_split_batch(
    token_id: Annotated[int, typer.Argument()],
    piece: Annotated[
        list[str],
        typer.Option(
            "--piece",
            help="ADDRESS:VALUE, or ADDRESS:VALUE:FINGERPRINT[,FINGERPRINT...] citing the trade documents "
            "the recipient sold you; repeatable",
        ),
    ],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Split several pieces off TOKEN_ID in one transaction."""
    pieces: list[tuple[str, int, list[bytes]]] = []
    for p in piece:
        to, _, rest = p.partition(":")
        value, _, fingerprints = rest.partition(":")
        if not value.isdigit():
            raise usage_error(f"--piece: {p!r} is not ADDRESS:VALUE[:FINGERPRINT,...]")
        docs = [hex32(d, "--piece") for d in fingerprints.split(",") if d]
        pieces.append((address(to, "--piece"), int(value), docs))
    backed = [bool(docs) for _, _, docs in pieces]
    if any(backed) and not all(backed):
        raise usage_error("--piece: cite documents for every piece or for none")
    client, signer = open_client(network, key_env, keystore, password_env, account)
    if all(backed):
        show("batch split", client.pay_with_trade(signer, token_id, pieces), as_json)
    else:
        plain = [(to, value) for to, value, _ in pieces]
        show("batch split", client.split_batch(signer, token_id, plain), as_json)


@token_app.command("merge")
@guarded
def token_merge(
    from_token_id: Annotated[int, typer.Argument(metavar="FROM_TOKEN_ID")],
    to_token_id: Annotated[int, typer.Argument(metavar="TO_TOKEN_ID")],
    value: Annotated[int, typer.Argument(help="minor units")],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move VALUE from one token into another of the same obligation."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("merge", client.merge(signer, from_token_id, to_token_id, value), as_json)


@token_app.command("transfer")
@guarded
def token_transfer(
    token_id: Annotated[int, typer.Argument()],
    to: Annotated[str, typer.Argument(help="recipient")],
    document: Annotated[
        list[str] | None,
        typer.Option(
            "--document",
            help="attested trade document the recipient sold you (fingerprint), repeatable; "
            "required for a supplier under the default policy (docs/compliance.md)",
        ),
    ] = None,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Transfer the whole token to TO; with --document, as a trade-backed payment of its whole value."""
    recipient = address(to, "TO")
    docs = [hex32(d, "--document") for d in document or []]
    client, signer = open_client(network, key_env, keystore, password_env, account)
    if docs:
        whole = client.balance_of(token_id)
        show("transfer", client.pay_with_trade(signer, token_id, [(recipient, whole, docs)]), as_json)
    else:
        show("transfer", client.transfer(signer, token_id, recipient), as_json)


@token_app.command("freeze")
@guarded
def token_freeze(
    token_id: Annotated[int, typer.Argument()],
    reason: Annotated[int, typer.Option(help="reason code recorded on-chain")] = 0,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Freeze a token (regulator): it cannot move until unfrozen."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("frozen", client.freeze(signer, token_id, reason), as_json)


@token_app.command("unfreeze")
@guarded
def token_unfreeze(
    token_id: Annotated[int, typer.Argument()],
    reason: Annotated[int, typer.Option(help="reason code recorded on-chain")] = 0,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Release a frozen token (regulator)."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("unfrozen", client.unfreeze(signer, token_id, reason), as_json)


# --------------------------------------------------------------------------------- bill mode (签收)


@token_app.command("incoming")
@guarded
def token_incoming(
    participant: Annotated[
        str | None, typer.Option(help="whose incoming moves (default: the signer's account)")
    ] = None,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Moves waiting for your acceptance (待签收), read from the chain."""
    client, signer = open_client(
        network, key_env, keystore, password_env, account, read_only=participant is not None
    )
    who = address(participant, "--participant") if participant is not None else signer.address
    show("incoming", {"moves": client.pending_moves(receiver=who)}, as_json)


@token_app.command("outgoing")
@guarded
def token_outgoing(
    participant: Annotated[
        str | None, typer.Option(help="whose outgoing moves (default: the signer's account)")
    ] = None,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Your moves waiting for the receiver's acceptance, read from the chain."""
    client, signer = open_client(
        network, key_env, keystore, password_env, account, read_only=participant is not None
    )
    who = address(participant, "--participant") if participant is not None else signer.address
    show("outgoing", {"moves": client.pending_moves(sender=who)}, as_json)


@token_app.command("accept")
@guarded
def token_accept(
    token_id: Annotated[int, typer.Argument()],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Accept (签收) a pending move to you: the piece becomes yours."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("accepted", client.accept_move(signer, token_id), as_json)


@token_app.command("refuse")
@guarded
def token_refuse(
    token_id: Annotated[int, typer.Argument()],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Refuse (拒收) a pending move to you: the value returns to the sender."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("refused", client.refuse_move(signer, token_id), as_json)


@token_app.command("withdraw")
@guarded
def token_withdraw(
    token_id: Annotated[int, typer.Argument()],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Withdraw (撤回) your pending move before the receiver accepts it."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("withdrawn", client.withdraw_move(signer, token_id), as_json)


@token_app.command("expire")
@guarded
def token_expire(
    token_id: Annotated[int, typer.Argument()],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Return a pending move whose acceptance window passed (已过期) to its sender (anyone)."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("expired", client.expire_move(signer, token_id), as_json)


@participant_app.command("settlement-mode")
@guarded
def participant_settlement_mode(
    mode: Annotated[str, typer.Argument(help="follow (the deployment's default), voucher or bill")],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Choose how your future obligations settle moves (core enterprise): at once (voucher) or pending the
    receiver's 签收 (bill); existing obligations keep their mode."""
    modes = {
        "follow": SettlementMode.FOLLOW_DEPLOYMENT,
        "voucher": SettlementMode.VOUCHER,
        "bill": SettlementMode.BILL,
    }
    if mode.lower() not in modes:
        raise usage_error(f"MODE must be one of {', '.join(modes)}")
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("settlement mode", client.set_settlement_mode(signer, modes[mode.lower()]), as_json)


# --------------------------------------------------------------------------------- financing

DayCountOpt = Annotated[str, typer.Option(help="ACT_360 or ACT_365F")]


def day_count(name: str) -> DayCount:
    try:
        return DayCount[name.upper().replace("/", "_")]
    except KeyError as exc:
        raise usage_error(f"--day-count: {name!r}; use ACT_360 or ACT_365F") from exc


@finance_app.command("quote")
@guarded
def finance_quote(
    value: Annotated[int, typer.Option(help="minor units to finance")],
    rate_bps: Annotated[int, typer.Option(help="annual discount rate, basis points")],
    maturity: Annotated[
        str | None, typer.Option(help="unix seconds or ISO date (default: the token's maturity)")
    ] = None,
    token: Annotated[int | None, typer.Option(help="take the maturity from this token's obligation")] = None,
    day_count_name: Annotated[str, typer.Option("--day-count", help="ACT_360 or ACT_365F")] = "ACT_360",
    network: NetworkOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The price the financing desk would pay now for VALUE (rounded down)."""
    if (maturity is None) == (token is None):
        raise usage_error("give exactly one of --maturity and --token")
    basis = day_count(day_count_name)
    client, _ = open_client(network, read_only=True)
    due = (
        timestamp(maturity, "--maturity")
        if maturity is not None
        else client.slot_terms(client.slot_of(int(token or 0))).maturity
    )
    show("quote", client.quote(value, rate_bps, basis, due), as_json)


@finance_app.command("offer")
@guarded
def finance_offer(
    token_id: Annotated[int, typer.Argument()],
    value: Annotated[int, typer.Option(help="minor units of the token to buy")],
    rate_bps: Annotated[int, typer.Option(help="annual discount rate, basis points")],
    expiry: Annotated[str, typer.Option(help="offer expiry: unix seconds or ISO date")],
    day_count_name: Annotated[str, typer.Option("--day-count", help="ACT_360 or ACT_365F")] = "ACT_360",
    recourse: Annotated[bool, typer.Option(help="with recourse to the seller")] = False,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Offer to buy VALUE of TOKEN_ID at a discount (bank); raises the desk's cash allowance first."""
    basis = day_count(day_count_name)
    until = timestamp(expiry, "--expiry")
    client, signer = open_client(network, key_env, keystore, password_env, account)
    made = client.make_offer(signer, token_id, value, rate_bps, basis, until, recourse=recourse)
    show("offer made", made, as_json)


@finance_app.command("accept")
@guarded
def finance_accept(
    offer_id: Annotated[int, typer.Argument()],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Accept an offer as the holder: cash and receivable swap in one transaction."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("financed", client.accept_offer(signer, offer_id), as_json)


@finance_app.command("cancel")
@guarded
def finance_cancel(
    offer_id: Annotated[int, typer.Argument()],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Withdraw an open offer (the bank that made it)."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("offer cancelled", client.cancel_offer(signer, offer_id), as_json)


@finance_app.command("register")
@guarded
def finance_register(
    offer_id: Annotated[int, typer.Argument()],
    number: Annotated[str, typer.Argument(help="the 中登网 registration number (登记编号)")],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the 中登网 registration number of financing OFFER_ID (its bank); again to correct it."""
    text = number.strip()
    if not text or len(text.encode()) > 64:
        raise usage_error("NUMBER: give the registration number, at most 64 characters")
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("registration recorded", client.record_registration(signer, offer_id, text), as_json)


@finance_app.command("limit")
@guarded
def finance_limit(
    counterparty: Annotated[str, typer.Argument(help="the core enterprise (or, with --seller, the seller)")],
    limit: Annotated[int, typer.Argument(help="minor units; 0 removes the limit")],
    seller: Annotated[bool, typer.Option("--seller", help="a limit on a seller, not an obligor")] = False,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the signing bank's credit limit (授信额度) on COUNTERPARTY."""
    if limit < 0:
        raise usage_error("LIMIT must be 0 or more (minor units)")
    who = address(counterparty, "COUNTERPARTY")
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("credit limit set", client.set_credit_limit(signer, who, limit, per_obligor=not seller), as_json)


@finance_app.command("limit-show")
@guarded
def finance_limit_show(
    counterparty: Annotated[str, typer.Argument(help="the core enterprise (or, with --seller, the seller)")],
    bank: Annotated[str | None, typer.Option(help="whose limit (default: the signing bank)")] = None,
    seller: Annotated[bool, typer.Option("--seller", help="a limit on a seller, not an obligor")] = False,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A bank's credit limit on COUNTERPARTY and its use (outstanding financed value)."""
    who = address(counterparty, "COUNTERPARTY")
    client, signer = open_client(network, key_env, keystore, password_env, account)
    whose = address(bank, "--bank") if bank is not None else signer.address
    read = client.credit_limit(whose, who, per_obligor=not seller)
    view = {
        "bank": whose,
        "counterparty": who,
        "kind": "seller" if seller else "obligor",
        "limit": read.limit or None,
        "used": read.used,
        "available": read.available,
    }
    show("credit limit", view, as_json)


@finance_app.command("release")
@guarded
def finance_release(
    offer_id: Annotated[int, typer.Argument()],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Free financing OFFER_ID from its bank's limits once the bank no longer holds the piece."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("exposure released", client.release_exposure(signer, offer_id), as_json)


# --------------------------------------------------------------------------------- recourse (追索)


@finance_app.command("recourse-open")
@guarded
def finance_recourse_open(
    offer_id: Annotated[int, typer.Argument()],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open the recourse claim (追索) of with-recourse financing OFFER_ID on its seller (its bank), once the
    obligation is in default and before redeeming the piece."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("recourse opened", client.open_recourse(signer, offer_id), as_json)


@finance_app.command("recourse-settle")
@guarded
def finance_recourse_settle(
    offer_id: Annotated[int, typer.Argument()],
    amount: Annotated[int, typer.Argument(help="minor units, at most what remains")],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pay AMOUNT towards the recourse claim of financing OFFER_ID (清偿; its seller; approves the desk)."""
    if amount <= 0:
        raise usage_error("AMOUNT must be more than 0 (minor units)")
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("recourse settled", client.settle_recourse(signer, offer_id, amount), as_json)


@finance_app.command("recourse-waive")
@guarded
def finance_recourse_waive(
    offer_id: Annotated[int, typer.Argument()],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Waive what remains of the recourse claim of financing OFFER_ID (放弃追索; its bank)."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("recourse waived", client.waive_recourse(signer, offer_id), as_json)


@finance_app.command("recourse-list")
@guarded
def finance_recourse_list(
    bank: Annotated[str | None, typer.Option(help="claims of this bank")] = None,
    seller: Annotated[str | None, typer.Option(help="claims on this seller")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="only open and partly settled claims")] = False,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recourse claims as the financing desk holds them: shortfall, settled, remaining, state."""
    whose = address(bank, "--bank") if bank is not None else None
    on = address(seller, "--seller") if seller is not None else None
    client, _ = open_client(network, key_env, keystore, password_env, account)
    claims = client.recourse_claims(bank=whose, seller=on, open_only=open_only)
    if as_json:
        show("recourse claims", claims, as_json)
        return
    rows = [plain(c) for c in claims]
    console.print(rows_table("recourse claims", rows))


# --------------------------------------------------------------------------------- repayment


@repay_app.command("deposit")
@guarded
def repay_deposit(
    slot: Annotated[int, typer.Argument()],
    amount: Annotated[int, typer.Argument(help="minor units")],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Deposit AMOUNT towards obligation SLOT (the obligor; approves the desk first)."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("deposited", client.deposit(signer, slot, amount), as_json)


@repay_app.command("redeem")
@guarded
def repay_redeem(
    token_id: Annotated[int, typer.Argument()],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Redeem a token after repayment or default: value * paid / face to the holder."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("redeemed", client.redeem(signer, token_id), as_json)


@repay_app.command("mark-overdue")
@guarded
def repay_mark_overdue(
    slot: Annotated[int, typer.Argument()],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mark an unpaid obligation overdue once its maturity has passed (anyone)."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("overdue", client.mark_overdue(signer, slot), as_json)


@repay_app.command("declare-default")
@guarded
def repay_declare_default(
    slot: Annotated[int, typer.Argument()],
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Declare default after the grace period (anyone); holders then redeem pro rata."""
    client, signer = open_client(network, key_env, keystore, password_env, account)
    show("defaulted", client.declare_default(signer, slot), as_json)


__all__ = [
    "finance_app",
    "obligation_app",
    "participant_app",
    "repay_app",
    "token_app",
]
