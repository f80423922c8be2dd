"""The receivable token: split, batch split, merge, whole transfer, value approval, regulator freeze,
court-ordered transfer, and the read side (owner, value, slot terms, lineage).

ERC-3525 overloads `transferFrom` three ways, so each call names its full signature.
"""

from __future__ import annotations

from collections.abc import Sequence

from web3.types import TxReceipt

from ledger.client.base import ClientBase, checksum
from ledger.client.models import (
    BatchSplit,
    ForcedTransfer,
    FreezeChanged,
    Merged,
    SlotTerms,
    Split,
    Transferred,
    ValueApproved,
    bytes32,
)
from ledger.keys import Signer

SPLIT = "transferFrom(uint256,address,uint256)"
MERGE = "transferFrom(uint256,uint256,uint256)"
TRANSFER_WHOLE = "transferFrom(address,address,uint256)"
APPROVE_VALUE = "approve(uint256,address,uint256)"


class ReceivableOps(ClientBase):
    def _split_result(self, receipt: TxReceipt, from_token_id: int, to: str, value: int) -> Split:
        moves = self._events(receipt, self.token, "TransferValue")
        new_id = next(m["args"]["_toTokenId"] for m in moves if m["args"]["_fromTokenId"] == from_token_id)
        return Split(**self._meta(receipt), from_token_id=from_token_id, token_id=new_id, to=to, value=value)

    def split(self, holder: Signer, token_id: int, to: str, value: int, *, key: str | None = None) -> Split:
        """Pay `value` of `token_id` to `to` as a new piece whose parent is `token_id`."""
        receipt = self._send(holder, self.token, SPLIT, token_id, checksum(to), value, key=key)
        return self._split_result(receipt, token_id, checksum(to), value)

    def split_batch(
        self,
        holder: Signer,
        token_id: int,
        pieces: Sequence[tuple[str, int]],
        *,
        key: str | None = None,
    ) -> BatchSplit:
        """Split several pieces (recipient, value) off one token in one transaction."""
        recipients = [checksum(to) for to, _ in pieces]
        values = [v for _, v in pieces]
        receipt = self._send(holder, self.token, "splitBatch", token_id, recipients, values, key=key)
        moves = self._events(receipt, self.token, "TransferValue")
        ids = tuple(m["args"]["_toTokenId"] for m in moves if m["args"]["_fromTokenId"] == token_id)
        return BatchSplit(**self._meta(receipt), from_token_id=token_id, token_ids=ids)

    def split_many(
        self,
        holder: Signer,
        splits: Sequence[tuple[int, str, int]],
        *,
        keys: Sequence[str | None] | None = None,
    ) -> list[Split]:
        """Many single splits (token id, recipient, value) signed on consecutive nonces, broadcast in one
        JSON-RPC batch, then awaited: the bulk path for benchmarks and payroll-like fan-outs."""
        txs = [self._tx(self.token, SPLIT, t, checksum(to), v) for t, to, v in splits]
        receipts = self._send_many(holder, txs, keys)
        return [
            self._split_result(r, t, checksum(to), v) for r, (t, to, v) in zip(receipts, splits, strict=True)
        ]

    def pay_with_trade(
        self,
        holder: Signer,
        token_id: int,
        payments: Sequence[tuple[str, int, Sequence[bytes | str]]],
        *,
        key: str | None = None,
    ) -> BatchSplit:
        """Pay suppliers (recipient, value, trade documents) with `token_id` through the IssuanceDesk's
        `moveWithTrade`: each payment cites attested documents sold by its recipient to the holder
        (docs/compliance.md, rule 3). A value equal to what is left of the token moves the token itself, so
        `token_ids` may include `token_id`."""
        recipients = [checksum(to) for to, _, _ in payments]
        values = [v for _, v, _ in payments]
        documents = [[bytes32(d) for d in docs] for _, _, docs in payments]
        receipt = self._send(
            holder, self.issuance, "moveWithTrade", token_id, recipients, values, documents, key=key
        )
        moved = self._events(receipt, self.issuance, "TradeBackedMove")
        ids = tuple(int(m["args"]["pieceId"]) for m in moved)
        return BatchSplit(**self._meta(receipt), from_token_id=token_id, token_ids=ids)

    def merge(
        self, holder: Signer, from_token_id: int, to_token_id: int, value: int, *, key: str | None = None
    ) -> Merged:
        """Move `value` from one token into another of the same slot (both the caller's, or approved)."""
        receipt = self._send(holder, self.token, MERGE, from_token_id, to_token_id, value, key=key)
        return Merged(
            **self._meta(receipt), from_token_id=from_token_id, to_token_id=to_token_id, value=value
        )

    def transfer(
        self, holder: Signer, token_id: int, to: str, *, owner: str | None = None, key: str | None = None
    ) -> Transferred:
        """Move the whole token (ERC-721 transfer); `owner` defaults to the signer (set it for operators)."""
        sender = checksum(owner or holder.address)
        receipt = self._send(holder, self.token, TRANSFER_WHOLE, sender, checksum(to), token_id, key=key)
        event = self._event(receipt, self.token, "Transfer")
        return Transferred(**self._meta(receipt), token_id=token_id, sender=event["_from"], to=event["_to"])

    def approve_value(
        self, holder: Signer, token_id: int, operator: str, value: int, *, key: str | None = None
    ) -> ValueApproved:
        receipt = self._send(holder, self.token, APPROVE_VALUE, token_id, checksum(operator), value, key=key)
        event = self._event(receipt, self.token, "ApprovalValue")
        return ValueApproved(
            **self._meta(receipt), token_id=token_id, operator=event["_operator"], value=event["_value"]
        )

    def freeze(
        self, regulator: Signer, token_id: int, reason_code: int, *, key: str | None = None
    ) -> FreezeChanged:
        receipt = self._send(regulator, self.token, "freeze", token_id, reason_code, key=key)
        event = self._event(receipt, self.token, "Frozen")
        return FreezeChanged(
            **self._meta(receipt), token_id=token_id, frozen=True, reason_code=event["reasonCode"]
        )

    def unfreeze(
        self, regulator: Signer, token_id: int, reason_code: int, *, key: str | None = None
    ) -> FreezeChanged:
        receipt = self._send(regulator, self.token, "unfreeze", token_id, reason_code, key=key)
        event = self._event(receipt, self.token, "Unfrozen")
        return FreezeChanged(
            **self._meta(receipt), token_id=token_id, frozen=False, reason_code=event["reasonCode"]
        )

    def force_transfer(
        self,
        enforcer: Signer,
        token_id: int,
        to: str,
        value: int,
        order_ref: bytes | str,
        *,
        key: str | None = None,
    ) -> ForcedTransfer:
        """A court-ordered move (ENFORCEMENT role): overrides freeze, maturity and the holder's status."""
        receipt = self._send(
            enforcer, self.token, "forceTransfer", token_id, checksum(to), value, bytes32(order_ref), key=key
        )
        event = self._event(receipt, self.token, "ForcedTransfer")
        return ForcedTransfer(
            **self._meta(receipt),
            from_token_id=event["fromTokenId"],
            to_token_id=event["toTokenId"],
            to=event["to"],
            value=event["value"],
        )

    # ----------------------------------------------------------------------------- views

    def owner_of(self, token_id: int) -> str:
        return str(self._view(self.token, "ownerOf", token_id))

    def balance_of(self, token_id: int) -> int:
        """The token's value in minor units (ERC-3525 `balanceOf(uint256)`)."""
        return int(self._view(self.token, "balanceOf(uint256)", token_id))

    def token_count(self, owner: str) -> int:
        """How many tokens `owner` holds (ERC-721 `balanceOf(address)`)."""
        return int(self._view(self.token, "balanceOf(address)", checksum(owner)))

    def slot_of(self, token_id: int) -> int:
        return int(self._view(self.token, "slotOf", token_id))

    def slot_terms(self, slot: int) -> SlotTerms:
        t = self._view(self.token, "slotTerms", slot)
        return SlotTerms(
            obligor=t[0],
            maturity=t[1],
            root_token_id=t[2],
            currency=t[3],
            min_unit=t[4],
            face=t[5],
            supply=t[6],
        )

    def lineage(self, token_id: int) -> tuple[int, ...]:
        """`token_id` first, the slot's root token last; burned ancestors included."""
        return tuple(int(i) for i in self._view(self.token, "lineage", token_id))

    def depth(self, token_id: int) -> int:
        return int(self._view(self.token, "depthOf", token_id))

    def is_frozen(self, token_id: int) -> bool:
        return bool(self._view(self.token, "isFrozen", token_id))

    def exists(self, token_id: int) -> bool:
        return bool(self._view(self.token, "exists", token_id))

    def value_allowance(self, token_id: int, operator: str) -> int:
        return int(self._view(self.token, "allowance", token_id, checksum(operator)))
