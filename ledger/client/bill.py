"""Bill mode (票据模式): moves that pend until the receiver accepts (签收), the receiver refuses (拒收),
the sender withdraws (撤回), or the acceptance window or the obligation's maturity passes.

The deployment's default and window are governance's (`setBillPolicy`, POLICY); a core enterprise
chooses for its own future obligations (`setObligorSettlementMode`). An obligation keeps the mode it
was created with. While pending, a piece is its sender's but locked: it cannot move, merge or be
financed; a freeze or a court order still applies to it.
"""

from __future__ import annotations

from web3.types import TxReceipt

from ledger.client.base import ClientBase, checksum
from ledger.client.models import (
    BillPolicy,
    MoveAccepted,
    MovePended,
    MoveReturned,
    PendingMove,
    ReturnReason,
    SettlementMode,
    SettlementModeSet,
    TxResult,
)
from ledger.keys import Signer


class BillOps(ClientBase):
    # ----------------------------------------------------------------------------- policy

    def set_bill_policy(
        self,
        policy_signer: Signer,
        bill_mode: bool,
        acceptance_window: int,
        reason: str,
        *,
        key: str | None = None,
    ) -> TxResult:
        """The deployment's default (POLICY, governance): bill mode on/off and the window in seconds."""
        receipt = self._send(
            policy_signer, self.registry, "setBillPolicy", bill_mode, acceptance_window, reason, key=key
        )
        return self._result(receipt)

    def bill_policy(self) -> BillPolicy:
        bill, window = self._view(self.registry, "billPolicy")
        return BillPolicy(bill_mode=bool(bill), acceptance_window=int(window))

    def set_settlement_mode(
        self, obligor: Signer, mode: SettlementMode, *, key: str | None = None
    ) -> SettlementModeSet:
        """The calling core enterprise chooses the mode of its future obligations."""
        receipt = self._send(obligor, self.registry, "setObligorSettlementMode", int(mode), key=key)
        event = self._event(receipt, self.registry, "ObligorSettlementModeSet")
        return SettlementModeSet(
            **self._meta(receipt), obligor=event["obligor"], mode=SettlementMode(int(event["mode"]))
        )

    def settlement_mode(self, obligor: str) -> SettlementMode:
        return SettlementMode(int(self._view(self.registry, "obligorSettlementMode", checksum(obligor))))

    def settlement_terms(self, obligor: str) -> BillPolicy:
        """What a new obligation of `obligor` gets now: bill mode or not, and the window."""
        bill, window = self._view(self.registry, "settlementTermsOf", checksum(obligor))
        return BillPolicy(bill_mode=bool(bill), acceptance_window=int(window))

    def bill_window(self, slot: int) -> int:
        """The acceptance window of obligation `slot`: 0 in voucher mode."""
        return int(self._view(self.token, "billWindowOf", slot))

    # ----------------------------------------------------------------------------- pending moves

    def pending_move(self, token_id: int) -> PendingMove | None:
        """The pending move of `token_id`, or None."""
        sender, source, expiry, to = self._view(self.token, "pendingMove", token_id)
        if int(to, 16) == 0:
            return None
        return PendingMove(
            token_id=token_id,
            source_token_id=int(source),
            sender=checksum(sender),
            to=checksum(to),
            expiry=int(expiry),
        )

    def pending_moves(self, *, receiver: str | None = None, sender: str | None = None) -> list[PendingMove]:
        """Moves still pending now, to `receiver` (incoming) and/or from `sender` (outgoing), read from the
        chain's `MovePending` logs since deployment (the API answers the same from the indexer)."""
        to = checksum(receiver) if receiver is not None else None
        frm = checksum(sender) if sender is not None else None
        filters = {"from": frm} if frm is not None else {}
        logs = self.token.events.MovePending().get_logs(
            argument_filters=filters, from_block=self.deployment.deploy_block
        )
        seen: set[int] = set()
        moves: list[PendingMove] = []
        for entry in logs:
            token_id = int(entry["args"]["tokenId"])
            if token_id in seen or (to is not None and checksum(entry["args"]["to"]) != to):
                continue
            seen.add(token_id)
            move = self.pending_move(token_id)
            if move is not None and (to is None or move.to == to) and (frm is None or move.sender == frm):
                moves.append(move)
        return sorted(moves, key=lambda m: m.token_id)

    def pended(self, tx_hash: str) -> list[MovePended]:
        """The moves a mined transaction left pending (a split, batch, whole transfer or trade payment)."""
        return self._pended(self.w3.eth.get_transaction_receipt(tx_hash))  # type: ignore[arg-type]

    def _pended(self, receipt: TxReceipt) -> list[MovePended]:
        return [
            MovePended(
                **self._meta(receipt),
                token_id=int(e["args"]["tokenId"]),
                source_token_id=int(e["args"]["sourceTokenId"]),
                sender=e["args"]["from"],
                to=e["args"]["to"],
                value=int(e["args"]["value"]),
                expiry=int(e["args"]["expiry"]),
            )
            for e in self._events(receipt, self.token, "MovePending")
        ]

    def accept_move(self, receiver: Signer, token_id: int, *, key: str | None = None) -> MoveAccepted:
        """签收: the receiver takes the pending piece."""
        receipt = self._send(receiver, self.token, "acceptMove", token_id, key=key)
        event = self._event(receipt, self.token, "MoveAccepted")
        return MoveAccepted(
            **self._meta(receipt),
            token_id=token_id,
            sender=event["from"],
            to=event["to"],
            value=event["value"],
        )

    def refuse_move(self, receiver: Signer, token_id: int, *, key: str | None = None) -> MoveReturned:
        """拒收: the receiver refuses; the value returns to the sender."""
        return self._returned(self._send(receiver, self.token, "refuseMove", token_id, key=key), token_id)

    def withdraw_move(self, sender: Signer, token_id: int, *, key: str | None = None) -> MoveReturned:
        """撤回: the sender takes its pending move back before acceptance."""
        return self._returned(self._send(sender, self.token, "withdrawMove", token_id, key=key), token_id)

    def expire_move(self, anyone: Signer, token_id: int, *, key: str | None = None) -> MoveReturned:
        """Returns an expired (or matured) pending move to its sender; anyone may send it."""
        return self._returned(self._send(anyone, self.token, "expireMove", token_id, key=key), token_id)

    def _returned(self, receipt: TxReceipt, token_id: int) -> MoveReturned:
        event = self._event(receipt, self.token, "MoveReturned")
        return MoveReturned(
            **self._meta(receipt),
            token_id=token_id,
            merged_into=int(event["mergedInto"]),
            sender=event["from"],
            reason=ReturnReason(int(event["reason"])),
        )
