"""Settlement cash: every participant's balances and its allowances to the desks, and the operator's
faucet that mints test cash on the local network and test deployments.

The faucet exists because a fresh network has no cash: banks need it to accept offers, obligors to
repay. It mints with the settlement token's issuer key, which must be the operator's; on a network
whose cash a real bank issues it stays off (`TIERCHAIN_API_SETTLEMENT_FAUCET`).
"""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ContextDep, CurrentParticipant, OperatorParticipant, WriterDep
from api.errors import Conflict, FaucetDisabled, Forbidden, Unprocessable
from api.schemas import MAX_AMOUNT, PROBLEM_RESPONSES, Address, JsonInt, RequestModel
from api.security import Role

log = logging.getLogger(__name__)

router = APIRouter(tags=["settlement"], responses=PROBLEM_RESPONSES)

Currency = Annotated[str, Field(min_length=1, max_length=16, examples=["CNY"])]


class MintRequest(RequestModel):
    """Credit `to` with `amount` minor units of `currency`'s settlement token."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "to": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                    "currency": "CNY",
                    "amount": 1_000_000_00,
                }
            ]
        },
    )

    to: Address
    currency: Currency
    amount: JsonInt = Field(ge=1, le=MAX_AMOUNT, description="minor units (fen for CNY)")


class Minted(BaseModel):
    to: str
    currency: str
    amount: int = Field(description="minor units minted")
    balance: int = Field(description="the receiver's balance afterwards, in minor units")


class MintResult(BaseModel):
    """The mint's transaction, once mined, and what it did."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tx_hash": "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060",
                    "status": "mined",
                    "block_number": 42,
                    "gas_used": 51234,
                    "result": {
                        "to": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
                        "currency": "CNY",
                        "amount": 1_000_000_00,
                        "balance": 1_000_000_00,
                    },
                }
            ]
        }
    )

    tx_hash: str
    status: Literal["mined"] = "mined"
    block_number: int
    gas_used: int
    result: Minted


class DeskAllowances(BaseModel):
    """What each desk may pull from the participant (ERC-20 `allowance`), in minor units. The
    financing desk pulls a bank's price when its offer is accepted; the repayment desk an obligor's
    deposit. The API's own writes approve what they need; a self-custody wallet approves itself."""

    financing_desk: int
    repayment_desk: int


class CurrencyBalance(BaseModel):
    currency: str
    token: str = Field(description="the settlement token's address")
    decimals: int = Field(description="minor units per major unit, as a power of ten (2: cents/fen)")
    balance: int = Field(description="minor units")
    allowances: DeskAllowances


class Balances(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "address": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
                    "balances": [
                        {
                            "currency": "CNY",
                            "token": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                            "decimals": 2,
                            "balance": 1_000_000_00,
                            "allowances": {"financing_desk": 0, "repayment_desk": 0},
                        }
                    ],
                }
            ]
        }
    )

    address: str
    balances: list[CurrencyBalance]


@router.get("/balances", summary="Settlement balances and desk allowances (own; any for overseers)")
def balances(
    ctx: ContextDep,
    caller: CurrentParticipant,
    address: Annotated[
        str | None,
        Query(
            pattern=r"^0x[0-9a-fA-F]{40}$",
            description="whose balances; default the caller. Another's: regulator or operator only",
        ),
    ] = None,
) -> Balances:
    owner = (address or caller.address).lower()
    if owner != caller.address.lower() and not caller.has(Role.REGULATOR, Role.OPERATOR):
        raise Forbidden(
            "reading another participant's balances needs one of the roles: REGULATOR, OPERATOR; "
            "leave `address` out to read your own",
            field="address",
        )
    client = ctx.client
    rows = [
        CurrencyBalance(
            currency=currency,
            token=to_checksum_address(token),
            decimals=client.cash_decimals(currency),
            balance=client.cash_balance(currency, owner),
            allowances=DeskAllowances(
                financing_desk=client.cash_allowance(currency, owner, client.financing.address),
                repayment_desk=client.cash_allowance(currency, owner, client.repayment.address),
            ),
        )
        for currency, token in sorted(ctx.deployment.currencies.items())
    ]
    return Balances(address=owner, balances=rows)


@router.post(
    "/settlement/mint",
    summary="Mint test settlement cash (operator; local network and test deployments)",
    responses={
        409: {
            **PROBLEM_RESPONSES[409],
            "description": "the faucet is off on this network, or the operator's key is not the issuer",
        }
    },
)
def mint(body: MintRequest, ctx: ContextDep, _: OperatorParticipant, writer: WriterDep) -> MintResult:
    if not ctx.settlement_faucet:
        raise FaucetDisabled(
            f"the settlement faucet is off on network {ctx.network.name!r}: there, cash comes from the "
            "banks that issue the settlement token. On a test deployment, set "
            "TIERCHAIN_API_SETTLEMENT_FAUCET=true (it is on by default only on the local network)"
        )
    known = sorted(ctx.deployment.currencies)
    if body.currency not in ctx.deployment.currencies:
        raise Unprocessable(
            f"currency {body.currency!r} has no settlement token in this deployment; it settles in: "
            + (", ".join(known) or "none"),
            field="currency",
        )
    issuer = ctx.client.cash_issuer(body.currency)
    if issuer is None or issuer.lower() != ctx.operator.address.lower():
        raise Conflict(
            f"the {body.currency} settlement token at {ctx.deployment.currencies[body.currency]} is "
            + (f"issued by {issuer}" if issuer else "not a Tierchain SettlementToken")
            + f", not by the operator's key {ctx.operator.address}: only its issuer can mint"
        )
    receiver = to_checksum_address(body.to)

    def make() -> MintResult:
        outcome = ctx.client.mint(ctx.operator, body.currency, receiver, body.amount, key=writer.key)
        balance = ctx.client.cash_balance(body.currency, receiver)
        log.info(
            "settlement cash minted to=%s currency=%s amount=%d tx=%s",
            receiver,
            body.currency,
            body.amount,
            outcome.tx_hash,
        )
        return MintResult(
            tx_hash=outcome.tx_hash,
            block_number=outcome.block_number,
            gas_used=outcome.gas_used,
            result=Minted(to=receiver.lower(), currency=body.currency, amount=body.amount, balance=balance),
        )

    return writer.answer(make)
