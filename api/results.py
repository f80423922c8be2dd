"""What each write's `result` holds: one model per operation, read from the transaction's events.

A write answers `WriteResult[R]` (`api.schemas`): the transaction's hash, block and gas, and `result`,
one of these. They mirror the ledger client's result dataclasses field for field (`ledger.client`),
so the JSON keys are the ones the API always answered; ids and amounts are integers (minor units),
addresses 0x hex, hashes 0x hex, enums lower-case names, roles their names.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
_BANK = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
_HASH = "0x73ff62d612639a849a08ef4d239bdc6828dba7b2a15f018a2c5d3f17760272d6"


def _example(**values: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [values]})


class RegisteredResult(BaseModel):
    """A participant onboarded: its account, the hash of its legal id, and its roles by name."""

    model_config = _example(account=_ADDRESS, legal_id_hash=_HASH, roles=["SUPPLIER"])

    account: str
    legal_id_hash: str
    roles: list[str]


class StatusChangedResult(BaseModel):
    model_config = _example(account=_ADDRESS, previous="active", current="suspended")

    account: str
    previous: Literal["none", "active", "suspended"]
    current: Literal["none", "active", "suspended"]


class ProposedResult(BaseModel):
    """The proposal's id (confirm or reject it by this id) and the EIP-712 hash of its terms."""

    model_config = _example(proposal_id=1, terms_hash=_HASH)

    proposal_id: int
    terms_hash: str


class IssuedResult(BaseModel):
    """The obligation issued: its slot and the root token minted to the supplier."""

    model_config = _example(proposal_id=1, slot=1, token_id=1)

    proposal_id: int
    slot: int
    token_id: int


class ProposalClosedResult(BaseModel):
    model_config = _example(proposal_id=2, outcome="rejected")

    proposal_id: int
    outcome: Literal["rejected", "cancelled"]


class SplitResult(BaseModel):
    """One piece split off `from_token_id`: the new token `token_id`, held by `to`."""

    model_config = _example(from_token_id=1, token_id=2, to=_ADDRESS, value=40_000_000)

    from_token_id: int
    token_id: int
    to: str
    value: int


class BatchSplitResult(BaseModel):
    """Several pieces split off `from_token_id` in one transaction, in the order requested."""

    model_config = _example(from_token_id=1, token_ids=[2, 3])

    from_token_id: int
    token_ids: list[int]


class MergedResult(BaseModel):
    model_config = _example(from_token_id=3, to_token_id=2, value=10_000_000)

    from_token_id: int
    to_token_id: int
    value: int


class TransferredResult(BaseModel):
    model_config = _example(token_id=2, sender=_ADDRESS, to=_BANK)

    token_id: int
    sender: str
    to: str


class MoveAcceptedResult(BaseModel):
    """签收: the pending piece `token_id` is the receiver's (`to`) now."""

    model_config = _example(token_id=2, sender=_ADDRESS, to=_BANK, value=40_000_000)

    token_id: int
    sender: str
    to: str
    value: int


class MoveReturnedResult(BaseModel):
    """A pending move ended without 签收 (拒收, 撤回, expiry): the value is the sender's again, merged into
    `merged_into` (0 when the piece stays apart)."""

    model_config = _example(token_id=2, merged_into=1, sender=_ADDRESS, reason="refused")

    token_id: int
    merged_into: int
    sender: str
    reason: Literal["refused", "withdrawn", "expired", "matured", "enforced"]


class SettlementModeSetResult(BaseModel):
    """The core enterprise's choice for its future obligations: follow the deployment, voucher or bill."""

    model_config = _example(obligor=_ADDRESS, mode="bill")

    obligor: str
    mode: Literal["follow_deployment", "voucher", "bill"]


class FreezeChangedResult(BaseModel):
    model_config = _example(token_id=2, frozen=True, reason_code=7)

    token_id: int
    frozen: bool
    reason_code: int


class OfferMadeResult(BaseModel):
    """The offer's id: the holder accepts it, the bank may cancel it."""

    model_config = _example(offer_id=1)

    offer_id: int


class OfferCancelledResult(BaseModel):
    model_config = _example(offer_id=1)

    offer_id: int


class RegistrationRecordedResult(BaseModel):
    """The 中登网 registration number now recorded for the financing, and the one it replaced."""

    model_config = _example(offer_id=1, registration_number="04487955000012345678", previous="")

    offer_id: int
    registration_number: str
    previous: str = Field(description="empty the first time; a correction names the number it replaces")


class CreditLimitSetResult(BaseModel):
    """The bank's credit limit (授信额度) as now recorded on-chain; 0: none (unlimited)."""

    model_config = _example(bank=_BANK, counterparty=_ADDRESS, per_obligor=True, limit=500_000_000)

    bank: str
    counterparty: str
    per_obligor: bool = Field(description="true: a limit on an obligor (core enterprise); false: on a seller")
    limit: int


class ExposureReleasedResult(BaseModel):
    """A financing's value no longer counted against its bank's limits."""

    model_config = _example(offer_id=1, bank=_BANK, obligor=_ADDRESS, seller=_ADDRESS, value=100_000_00)

    offer_id: int
    bank: str
    obligor: str
    seller: str
    value: int


class RecourseOpenedResult(BaseModel):
    """A recourse claim (追索) opened: the bank claims `shortfall` from the seller after the default."""

    model_config = _example(offer_id=1, bank=_BANK, seller=_ADDRESS, slot=1, shortfall=60_000_00)

    offer_id: int
    bank: str
    seller: str
    slot: int
    shortfall: int


class RecourseSettledResult(BaseModel):
    """The seller paid `amount` towards a recourse claim (清偿); `remaining` is still owed."""

    model_config = _example(offer_id=1, seller=_ADDRESS, amount=10_000_00, remaining=50_000_00)

    offer_id: int
    seller: str
    amount: int
    remaining: int


class RecourseWaivedResult(BaseModel):
    """The bank waived a recourse claim (放弃追索), forgiving `remaining`."""

    model_config = _example(offer_id=1, bank=_BANK, remaining=50_000_00)

    offer_id: int
    bank: str
    remaining: int


class FinancedResult(BaseModel):
    """The sale: `financed_token_id` is what the bank now holds (the offered token when sold whole);
    `price` went to the holder, `discount` = value - price."""

    model_config = _example(
        offer_id=1,
        token_id=2,
        financed_token_id=4,
        bank=_BANK,
        holder=_ADDRESS,
        value=30_000_000,
        price=29_100_000,
        discount=900_000,
        days_to_maturity=90,
    )

    offer_id: int
    token_id: int
    financed_token_id: int
    bank: str
    holder: str
    value: int
    price: int
    discount: int
    days_to_maturity: int


class DepositedResult(BaseModel):
    model_config = _example(slot=1, amount=100_000_000, paid_total=100_000_000, repaid=True)

    slot: int
    amount: int
    paid_total: int
    repaid: bool


class SlotStateChangedResult(BaseModel):
    model_config = _example(slot=1, state="overdue")

    slot: int
    state: Literal["outstanding", "overdue", "repaid", "defaulted"]


class RedeemedResult(BaseModel):
    model_config = _example(token_id=2, slot=1, holder=_ADDRESS, value=40_000_000, payout=40_000_000)

    token_id: int
    slot: int
    holder: str
    value: int
    payout: int


class DustSweptResult(BaseModel):
    model_config = _example(slot=1, to=_ADDRESS, amount=2)

    slot: int
    to: str
    amount: int


class SubmittedResult(BaseModel):
    """A transaction the caller signed, relayed: who sent it, to which contract, how many events."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={"examples": [{"from": _ADDRESS.lower(), "to": _BANK.lower(), "logs": 2}]},
    )

    from_: str = Field(alias="from")
    to: str
    logs: int
