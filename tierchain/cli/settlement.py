"""`tierchain settlement mint|balance`: test settlement cash and what a participant holds of it.

Minting signs with the settlement token's issuer key (on the local network the deployer's, the
default signer), so it works on the local network and on test deployments whose token Tierchain
deployed; a bank's real deposit token mints by its own rules and is refused here with a sentence.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ledger.client import TierchainClient
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
    guarded,
    open_client,
    show,
    usage_error,
)

settlement_app = typer.Typer(
    help="Settlement cash: mint test cash (the token's issuer), read balances and desk allowances.",
    no_args_is_help=True,
)

CurrencyOpt = Annotated[
    str | None, typer.Option("--currency", help="currency code; default: the deployment's only one")
]


def _currency(client: TierchainClient, currency: str | None) -> str:
    known = sorted(client.deployment.currencies)
    if currency is None:
        if len(known) != 1:
            raise usage_error(f"--currency: give one of {', '.join(known) or '(none deployed)'}")
        return known[0]
    if currency not in known:
        raise usage_error(f"--currency: {currency!r} is not settled here; known: {', '.join(known)}")
    return currency


@settlement_app.command("mint")
@guarded
def settlement_mint(
    to: Annotated[str, typer.Option("--to", help="the account to credit")],
    amount: Annotated[int, typer.Option("--amount", help="minor units (fen for CNY)", min=1)],
    currency: CurrencyOpt = None,
    network: NetworkOpt = None,
    key_env: KeyEnvOpt = None,
    keystore: KeystoreOpt = None,
    password_env: PasswordEnvOpt = DEFAULT_PASSWORD_ENV,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mint AMOUNT of test settlement cash to an account (the settlement token's issuer only)."""
    receiver = address(to, "--to")
    client, signer = open_client(network, key_env, keystore, password_env, account)
    code = _currency(client, currency)
    issuer = client.cash_issuer(code)
    if issuer is None or issuer.lower() != signer.address.lower():
        token = client.deployment.currencies[code]
        raise TierchainError(
            f"the {code} settlement token at {token} is "
            + (f"issued by {issuer}" if issuer else "not a Tierchain SettlementToken")
            + f"; {signer.address} cannot mint it: sign with the issuer's key"
        )
    outcome = client.mint(signer, code, receiver, amount)
    result = {
        "tx_hash": outcome.tx_hash,
        "block_number": outcome.block_number,
        "to": receiver,
        "currency": code,
        "amount": amount,
        "balance": client.cash_balance(code, receiver),
    }
    show("settlement cash minted", result, as_json)


@settlement_app.command("balance")
@guarded
def settlement_balance(
    account_address: Annotated[str, typer.Argument(metavar="ADDRESS")],
    network: NetworkOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """An account's settlement cash per currency and what the desks may pull from it (minor units)."""
    owner = address(account_address)
    client, _ = open_client(network, read_only=True)
    rows: list[dict[str, Any]] = [
        {
            "currency": code,
            "token": token,
            "decimals": client.cash_decimals(code),
            "balance": client.cash_balance(code, owner),
            "allowances": {
                "financing_desk": client.cash_allowance(code, owner, client.financing.address),
                "repayment_desk": client.cash_allowance(code, owner, client.repayment.address),
            },
        }
        for code, token in sorted(client.deployment.currencies.items())
    ]
    show("settlement balances", {"address": owner, "balances": rows}, as_json)
