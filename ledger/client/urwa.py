"""ERC-7943 (uRWA) on the receivable token, and the value-level freeze (部分冻结) it brings.

A regulator freezes part of a piece's value (`set_frozen_value`: the holder can still move the rest, never
below the frozen value) or lifts it (0); the whole-piece freeze (`freeze`/`unfreeze`) stays as it was and
the two are exclusive (lift one before setting the other). `frozen_value` reads what is frozen (the whole
value while frozen whole). `can_transfer` answers, without a transaction, whether a holder move of a value
would pass every rule. A court order (`force_transfer_order`, ENFORCEMENT) moves value past freezes; the
moved part's frozen share goes with it unless the order releases it; `forced_transfer` is the standard's
form of it (no order reference, frozen share kept, a transfer to oneself refused).

The standard's events share names with Tierchain's (`Frozen`, `ForcedTransfer`): the client reads them as
`ERC7943Frozen` and `ERC7943ForcedTransfer` (`ledger.compile.EVENT_ALIASES`).
"""

from __future__ import annotations

from dataclasses import dataclass

from web3.types import TxReceipt

from ledger.client.base import ClientBase, checksum
from ledger.client.models import TxResult
from ledger.keys import Signer

ERC7943_INTERFACE_ID = bytes.fromhex("41c4fbad")  # IERC7943MultiToken, the standard's current text
ERC7943_DRAFT_INTERFACE_ID = bytes.fromhex("5627c61a")  # the earlier draft (canTransact), also declared


@dataclass(frozen=True, kw_only=True)
class FrozenValueSet(TxResult):
    """The frozen value of `token_id` (its holder `account`) is now `amount` (0: lifted)."""

    token_id: int
    account: str
    amount: int


@dataclass(frozen=True, kw_only=True)
class OrderExecuted(TxResult):
    """A court order moved `value` of `from_token_id` to `to` (into `to_token_id`, the same id when whole);
    `frozen_moved` is the frozen value that went with it (0 when released or none)."""

    from_token_id: int
    to_token_id: int
    to: str
    value: int
    frozen_moved: int


class Erc7943Ops(ClientBase):
    def can_transact(self, account: str) -> bool:
        """Whether `account` may send and receive pieces now (an active holder in the registry)."""
        return bool(self._view(self.token, "canTransact", checksum(account)))

    def can_transfer(self, sender: str, to: str, token_id: int, value: int) -> bool:
        """Whether a holder move of `value` of `token_id` from `sender` to `to` would pass every rule now
        (owner, pending, freezes, maturity, minimum unit, the registry's move check)."""
        return bool(self._view(self.token, "canTransfer", checksum(sender), checksum(to), token_id, value))

    def frozen_value(self, token_id: int) -> int:
        """What of `token_id` is frozen: its whole value while frozen whole, its frozen value under a value
        freeze, else 0."""
        owner = self._view(self.token, "ownerOf", token_id)
        return int(self._view(self.token, "getFrozenTokens", owner, token_id))

    def set_frozen_value(
        self, regulator: Signer, token_id: int, amount: int, *, key: str | None = None
    ) -> FrozenValueSet:
        """Freeze `amount` of `token_id`'s value (REGULATOR); 0 lifts the value freeze."""
        owner = checksum(self._view(self.token, "ownerOf", token_id))
        receipt = self._send(regulator, self.token, "setFrozenTokens", owner, token_id, amount, key=key)
        event = self._event(receipt, self.token, "ERC7943Frozen")
        return FrozenValueSet(
            **self._meta(receipt), token_id=token_id, account=event["account"], amount=int(event["amount"])
        )

    def forced_transfer(
        self, enforcer: Signer, sender: str, to: str, token_id: int, value: int, *, key: str | None = None
    ) -> OrderExecuted:
        """ERC-7943's forced transfer (ENFORCEMENT): `value` of `token_id` from `sender` to `to`, frozen
        share kept; `sender == to` is refused."""
        receipt = self._send(
            enforcer, self.token, "forcedTransfer", checksum(sender), checksum(to), token_id, value, key=key
        )
        return self._order(receipt, token_id)

    def force_transfer_order(
        self,
        enforcer: Signer,
        token_id: int,
        to: str,
        value: int,
        order_ref: bytes,
        *,
        release_frozen: bool = False,
        key: str | None = None,
    ) -> OrderExecuted:
        """A court order (ENFORCEMENT) with its reference: `value` of `token_id` to `to`, the moved part's
        frozen share kept frozen at the destination unless `release_frozen`."""
        receipt = self._send(
            enforcer,
            self.token,
            "forceTransferOrder",
            token_id,
            checksum(to),
            value,
            order_ref,
            release_frozen,
            key=key,
        )
        return self._order(receipt, token_id)

    def _order(self, receipt: TxReceipt, token_id: int) -> OrderExecuted:
        done = self._event(receipt, self.token, "ForcedTransfer")
        to_token = int(done["toTokenId"])
        frozen = [e["args"] for e in self._events(receipt, self.token, "ERC7943Frozen")]
        # The frozen value the destination piece holds after the order, as its `Frozen` event says.
        moved = [
            int(f["amount"]) for f in frozen if int(f["tokenId"]) == to_token and f["account"] == done["to"]
        ]
        return OrderExecuted(
            **self._meta(receipt),
            from_token_id=token_id,
            to_token_id=to_token,
            to=done["to"],
            value=int(done["value"]),
            frozen_moved=moved[-1] if moved else 0,
        )
