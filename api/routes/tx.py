"""Self-custody: build an unsigned transaction for an operation, and relay one the caller signed.

`/tx/prepare` applies the same object-level checks as the custodial routes, estimates gas from the
caller's address (a revert comes back as the decoded contract error) and returns every field a
wallet needs. `/tx/submit` accepts only a transaction signed by the caller, for this chain, to one of
the deployment's contracts; it broadcasts, waits for the receipt and answers like every write.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

import rlp  # type: ignore[import-untyped]
from eth_abi.exceptions import InsufficientDataBytes
from eth_account import Account
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from eth_utils.abi import function_abi_to_4byte_selector
from eth_utils.address import to_checksum_address
from fastapi import APIRouter, Body
from hexbytes import HexBytes
from pydantic import BaseModel, Field
from web3.exceptions import ContractLogicError, Web3RPCError
from web3.types import TxParams

from api.access import held_token, offerable_token, visible_obligation, visible_proposal
from api.deps import ContextDep, CurrentParticipant, SessionDep, WriterDep
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.results import SubmittedResult
from api.routes.financing import OfferRequest, visible_offer
from api.routes.obligations import ProposeRequest, proposal_terms
from api.routes.repayment import DepositRequest, RedeemRequest
from api.routes.tokens import Documents, pending_for
from api.schemas import PROBLEM_RESPONSES, Address, JsonId, JsonInt, RequestModel, Uint, WriteResult
from api.security import Principal, Role
from ledger.client import DayCount
from ledger.client.receivables import MERGE, SPLIT, TRANSFER_WHOLE
from ledger.config import LegacyGas
from ledger.errors import TransactionFailed
from ledger.gas import fee_fields, gas_limit, needs_node_price
from ledger.indexer.models import Token
from ledger.rpc import revert_data_from, rpc_error_message

Id = JsonId

router = APIRouter(prefix="/tx", tags=["self-custody"], responses=PROBLEM_RESPONSES)


class SplitOp(RequestModel):
    operation: Literal["split"]
    token_id: Id
    to: Address
    value: Uint
    documents: Documents = None


class MergeOp(RequestModel):
    operation: Literal["merge"]
    token_id: Id
    into_token_id: Id
    value: Uint


class TransferOp(RequestModel):
    operation: Literal["transfer"]
    token_id: Id
    to: Address
    documents: Documents = None


class ApproveOp(RequestModel):
    """Allow a desk to draw the caller's settlement tokens: before `offer` (financing) or `deposit`
    (repayment), as the custodial routes do for their participants."""

    operation: Literal["approve"]
    spender: Literal["financing", "repayment"]
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["CNY"])
    amount: Uint


class OfferOp(OfferRequest):
    operation: Literal["offer"]


class AcceptOp(RequestModel):
    operation: Literal["accept"]
    offer_id: Id


class CancelOfferOp(RequestModel):
    operation: Literal["cancel_offer"]
    offer_id: Id


class DepositOp(DepositRequest):
    operation: Literal["deposit"]


class RedeemOp(RedeemRequest):
    operation: Literal["redeem"]


class FreezeOp(RequestModel):
    operation: Literal["freeze", "unfreeze"]
    token_id: Id
    reason_code: JsonInt = Field(ge=0, lt=2**8)


class ProposeOp(ProposeRequest):
    operation: Literal["propose"]


class ConfirmOp(RequestModel):
    operation: Literal["confirm"]
    proposal_id: Id


class RejectOp(RequestModel):
    operation: Literal["reject"]
    proposal_id: Id
    reason_code: JsonInt = Field(ge=0, lt=2**8)


class PendingMoveOp(RequestModel):
    """Bill mode: 签收 (`accept_move`) or 拒收 (`refuse_move`) by the receiver, 撤回 (`withdraw_move`) by the
    sender, `expire_move` by anyone after the window."""

    operation: Literal["accept_move", "refuse_move", "withdraw_move", "expire_move"]
    token_id: Id


_MOVE_FUNCTIONS = {
    "accept_move": ("acceptMove", "receiver"),
    "refuse_move": ("refuseMove", "receiver"),
    "withdraw_move": ("withdrawMove", "sender"),
    "expire_move": ("expireMove", "anyone"),
}


Operation = Annotated[
    SplitOp
    | MergeOp
    | TransferOp
    | PendingMoveOp
    | ProposeOp
    | ConfirmOp
    | RejectOp
    | ApproveOp
    | OfferOp
    | AcceptOp
    | CancelOfferOp
    | DepositOp
    | RedeemOp
    | FreezeOp,
    Field(discriminator="operation"),
]


class UnsignedTx(BaseModel):
    """Sign this as-is (EIP-1559 fields on EIP-1559 chains, `gasPrice` on legacy ones)."""

    to: str
    data: str
    value: int = 0
    gas: int
    nonce: int
    chainId: int
    maxFeePerGas: int | None = None
    maxPriorityFeePerGas: int | None = None
    gasPrice: int | None = None
    type: str


class SubmitRequest(RequestModel):
    raw_tx: str = Field(pattern=r"^0x([0-9a-fA-F]{2})+$", description="the signed transaction, hex")


def _needs(caller: Principal, role: Role) -> None:
    if not caller.has(role):
        raise Forbidden(f"this operation needs the {role.value} role")


def _money_calldata(ctx: ContextDep, session: SessionDep, caller: Principal, op: Any) -> dict[str, Any]:
    """Approvals, financing, repayment and freezes: the checks of their custodial routes."""
    c = ctx.client
    if isinstance(op, ApproveOp):
        _needs(caller, Role.BANK if op.spender == "financing" else Role.CORE_ENTERPRISE)
        if op.currency not in ctx.deployment.currencies:
            raise Unprocessable(f"no settlement token for {op.currency} here", field="currency")
        desk = c.financing if op.spender == "financing" else c.repayment
        erc20 = c.erc20(op.currency)
        return {"to": erc20.address, "data": erc20.encode_abi("approve", args=[desk.address, op.amount])}
    if isinstance(op, OfferOp):
        _needs(caller, Role.BANK)
        offerable_token(session, caller, op.token_id)
        args = [op.token_id, op.value, op.rate_bps, int(DayCount[op.day_count]), op.recourse, op.expiry]
        return {"to": c.financing.address, "data": c.financing.encode_abi("makeOffer", args=args)}
    if isinstance(op, AcceptOp | CancelOfferOp):
        offer = visible_offer(session, caller, op.offer_id)
        if isinstance(op, AcceptOp):
            held_token(session, caller, offer.token_id)
        else:
            _needs(caller, Role.BANK)
            if offer.bank != caller.address:
                raise Forbidden(f"offer {op.offer_id} belongs to another bank")
        if offer.status != "open":
            raise Conflict(f"offer {op.offer_id} is {offer.status}")
        fn = "accept" if isinstance(op, AcceptOp) else "cancelOffer"
        return {"to": c.financing.address, "data": c.financing.encode_abi(fn, args=[op.offer_id])}
    if isinstance(op, DepositOp):
        _needs(caller, Role.CORE_ENTERPRISE)
        if not caller.acts_for(visible_obligation(session, caller, op.slot).obligor):
            raise Forbidden(f"obligation {op.slot} is owed by another obligor")
        data = c.repayment.encode_abi("deposit", args=[op.slot, op.amount])
        return {"to": c.repayment.address, "data": data}
    if isinstance(op, RedeemOp):
        held_token(session, caller, op.token_id)
        return {"to": c.repayment.address, "data": c.repayment.encode_abi("redeem", args=[op.token_id])}
    assert isinstance(op, FreezeOp)
    _needs(caller, Role.REGULATOR)
    token = session.get(Token, op.token_id)
    if token is None or token.burned:
        raise NotFound(f"token {op.token_id} not found")
    data = c.token.encode_abi(op.operation, args=[op.token_id, op.reason_code])
    return {"to": c.token.address, "data": data}


def _calldata(ctx: ContextDep, session: SessionDep, caller: Principal, op: Any) -> dict[str, Any]:
    c = ctx.client
    if isinstance(op, PendingMoveOp):
        fn, party = _MOVE_FUNCTIONS[op.operation]
        pending_for(session, caller, op.token_id, party)
        return {"to": c.token.address, "data": c.token.encode_abi(fn, args=[op.token_id])}
    if isinstance(op, ApproveOp | OfferOp | AcceptOp | CancelOfferOp | DepositOp | RedeemOp | FreezeOp):
        return _money_calldata(ctx, session, caller, op)
    if isinstance(op, SplitOp | TransferOp) and op.documents is not None:
        held_token(session, caller, op.token_id)  # a payment backed by trade documents: the desk moves it
        value = op.value if isinstance(op, SplitOp) else c.balance_of(op.token_id)
        docs = [bytes.fromhex(d[2:]) for d in op.documents]
        args = [op.token_id, [to_checksum_address(op.to)], [value], [docs]]
        return {"to": c.issuance.address, "data": c.issuance.encode_abi("moveWithTrade", args=args)}
    if isinstance(op, SplitOp):
        held_token(session, caller, op.token_id)
        return {
            "to": c.token.address,
            "data": c.token.encode_abi(SPLIT, args=[op.token_id, to_checksum_address(op.to), op.value]),
        }
    if isinstance(op, MergeOp):
        held_token(session, caller, op.token_id)
        held_token(session, caller, op.into_token_id)
        return {
            "to": c.token.address,
            "data": c.token.encode_abi(MERGE, args=[op.token_id, op.into_token_id, op.value]),
        }
    if isinstance(op, TransferOp):
        held_token(session, caller, op.token_id)
        args = [to_checksum_address(caller.address), to_checksum_address(op.to), op.token_id]
        return {"to": c.token.address, "data": c.token.encode_abi(TRANSFER_WHOLE, args=args)}
    if isinstance(op, ProposeOp):
        if not caller.has(Role.SUPPLIER):
            raise Forbidden("this operation needs the SUPPLIER role")
        terms = op.terms(caller.address)
        return {"to": c.issuance.address, "data": c.issuance.encode_abi("propose", args=[terms.as_abi()])}
    assert isinstance(op, ConfirmOp | RejectOp)
    proposal = visible_proposal(session, caller, op.proposal_id)
    if proposal.obligor != caller.address:
        raise Forbidden(f"only the obligor of proposal {op.proposal_id} may decide on it")
    terms = proposal_terms(proposal)
    if isinstance(op, ConfirmOp):
        data = c.issuance.encode_abi("confirm", args=[op.proposal_id, terms.as_abi()])
    else:
        data = c.issuance.encode_abi("reject", args=[op.proposal_id, terms.as_abi(), op.reason_code])
    return {"to": c.issuance.address, "data": data}


@router.post("/prepare", summary="Build the unsigned transaction for an operation (self-custody)")
def prepare(
    op: Annotated[Operation, Body()], ctx: ContextDep, session: SessionDep, caller: CurrentParticipant
) -> UnsignedTx:
    tx = _calldata(ctx, session, caller, op)
    w3 = ctx.client.w3
    sender = to_checksum_address(caller.address)
    call = cast(TxParams, {**tx, "from": sender, "value": 0})
    try:
        estimate = int(w3.eth.estimate_gas(call))
    except (ContractLogicError, Web3RPCError) as exc:
        data = revert_data_from(exc)
        if data is None:
            raise TransactionFailed(f"gas estimation failed: {exc}") from exc
        raise ctx.client.manager.decoder.decode(data) from exc
    policy = ctx.network.gas
    if isinstance(policy, LegacyGas):
        fees = fee_fields(policy, node_gas_price_wei=int(w3.eth.gas_price) if needs_node_price(policy) else 0)
    else:
        fees = fee_fields(policy, base_fee_wei=int(w3.eth.get_block("latest").get("baseFeePerGas", 0)))
    return UnsignedTx(
        to=str(tx["to"]),
        data=str(tx["data"]),
        gas=gas_limit(estimate, policy),
        nonce=int(w3.eth.get_transaction_count(sender, "pending")),
        chainId=ctx.deployment.chain_id,
        type="legacy" if isinstance(policy, LegacyGas) else "eip1559",
        **fees,
    )


def _decode(raw: bytes) -> tuple[str | None, int | None, bytes]:
    """(to, chain id, calldata) of a signed transaction, typed or legacy."""
    if raw and raw[0] <= 0x7F:
        fields = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
        to = fields.get("to")
        return (
            (to_checksum_address(to) if to else None),
            int(fields["chainId"]),
            bytes(fields.get("data", b"")),
        )
    items = rlp.decode(raw)
    to_raw, v = bytes(items[3]), int.from_bytes(bytes(items[6]), "big")
    chain_id = (v - 35) // 2 if v >= 35 else None
    return (to_checksum_address(to_raw) if to_raw else None), chain_id, bytes(items[5])


def _check_offer(ctx: ContextDep, session: SessionDep, caller: Principal, to: str, data: bytes) -> None:
    """A signed `makeOffer` gets the check `/tx/prepare` makes: a token the bank may not see answers
    like a missing one here too, rather than with the chain's revert (which would tell them apart)."""
    desk = ctx.client.financing
    make_offer = desk.get_function_by_name("makeOffer")
    if to.lower() != desk.address.lower() or data[:4] != function_abi_to_4byte_selector(make_offer.abi):
        return
    try:
        token_id = int(desk.decode_function_input(data)[1]["tokenId"])
    except (ValueError, TypeError, InsufficientDataBytes) as exc:
        raise Unprocessable("raw_tx calls makeOffer with malformed arguments", field="raw_tx") from exc
    offerable_token(session, caller, token_id)


@router.post("/submit", summary="Broadcast a transaction the caller signed, and wait until mined")
def submit(
    body: SubmitRequest, ctx: ContextDep, session: SessionDep, caller: CurrentParticipant, writer: WriterDep
) -> WriteResult[SubmittedResult]:
    raw = bytes.fromhex(body.raw_tx[2:])
    try:
        sender = Account.recover_transaction(raw)
        to, chain_id, data = _decode(raw)
    except Exception as exc:  # rlp/eth_account raise many types for malformed bytes
        raise Unprocessable("raw_tx is not a signed transaction", field="raw_tx") from exc
    if sender.lower() != caller.address:
        raise Forbidden(f"the transaction is signed by {sender}, not by the caller")
    if chain_id != ctx.deployment.chain_id:
        raise Unprocessable(
            f"the transaction is for chain {chain_id}, not {ctx.deployment.chain_id}", field="raw_tx"
        )
    allowed = {c.address.lower() for c in ctx.deployment.contracts.values()} | {
        a.lower() for a in ctx.deployment.currencies.values()
    }
    if to is None or to.lower() not in allowed:
        raise Forbidden("the transaction is not addressed to a Tierchain contract")
    _check_offer(ctx, session, caller, to, data)

    def make() -> WriteResult[Any]:
        manager = ctx.client.manager
        try:
            tx_hash = "0x" + bytes(ctx.client.w3.eth.send_raw_transaction(raw)).hex()
        except Web3RPCError as exc:
            data = revert_data_from(exc)
            if data is not None:
                raise manager.decoder.decode(data) from exc
            raise Unprocessable(
                f"the node refused the transaction: {rpc_error_message(exc)}", field="raw_tx"
            ) from exc
        receipt = manager.wait_for_receipt(tx_hash)
        return WriteResult(
            tx_hash=tx_hash,
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            result={"from": sender.lower(), "to": to.lower(), "logs": len(receipt["logs"])},
        )

    return writer.answer(make)
