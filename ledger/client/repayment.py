"""Repayment and the settlement token: the obligor deposits, anyone marks overdue or declares default
when the facts allow, each holder redeems; plus mint/approve/balance on the settlement ERC-20.
"""

from __future__ import annotations

from web3.exceptions import ContractLogicError, Web3RPCError

from ledger.client.base import ClientBase, checksum
from ledger.client.models import (
    Deposited,
    DustSwept,
    Redeemed,
    RepaymentAccount,
    RepaymentState,
    SlotStateChanged,
    TxResult,
)
from ledger.errors import TierchainError
from ledger.keys import Signer


class RepaymentOps(ClientBase):
    def deposit(self, obligor: Signer, slot: int, amount: int, *, key: str | None = None) -> Deposited:
        """Approve the repayment desk for `amount` of the slot's currency, then deposit it."""
        currency = str(self._view(self.token, "slotTerms", slot)[3])
        erc20 = self.erc20(currency)
        self._send(
            obligor, erc20, "approve", self.repayment.address, amount, key=f"{key}:approve" if key else None
        )
        receipt = self._send(obligor, self.repayment, "deposit", slot, amount, key=key)
        event = self._event(receipt, self.repayment, "Deposited")
        repaid = bool(self._events(receipt, self.repayment, "ObligationRepaid"))
        return Deposited(
            **self._meta(receipt),
            slot=slot,
            amount=event["amount"],
            paid_total=event["paidTotal"],
            repaid=repaid,
        )

    def mark_overdue(self, caller: Signer, slot: int, *, key: str | None = None) -> SlotStateChanged:
        receipt = self._send(caller, self.repayment, "markOverdue", slot, key=key)
        self._event(receipt, self.repayment, "ObligationOverdue")
        return SlotStateChanged(**self._meta(receipt), slot=slot, state=RepaymentState.OVERDUE)

    def declare_default(self, caller: Signer, slot: int, *, key: str | None = None) -> SlotStateChanged:
        receipt = self._send(caller, self.repayment, "declareDefault", slot, key=key)
        self._event(receipt, self.repayment, "ObligationDefaulted")
        return SlotStateChanged(**self._meta(receipt), slot=slot, state=RepaymentState.DEFAULTED)

    def redeem(self, holder: Signer, token_id: int, *, key: str | None = None) -> Redeemed:
        receipt = self._send(holder, self.repayment, "redeem", token_id, key=key)
        e = self._event(receipt, self.repayment, "Redeemed")
        return Redeemed(
            **self._meta(receipt),
            token_id=e["tokenId"],
            slot=e["slot"],
            holder=checksum(e["holder"]),
            value=e["value"],
            payout=e["payout"],
        )

    def sweep_dust(self, caller: Signer, slot: int, *, key: str | None = None) -> DustSwept:
        receipt = self._send(caller, self.repayment, "sweepDust", slot, key=key)
        e = self._event(receipt, self.repayment, "DustSwept")
        return DustSwept(**self._meta(receipt), slot=slot, to=checksum(e["to"]), amount=e["amount"])

    def repayment_account(self, slot: int) -> RepaymentAccount:
        a = self._view(self.repayment, "account", slot)
        return RepaymentAccount(
            paid=a[0],
            face=a[1],
            paid_out=a[2],
            redeemed_value=a[3],
            currency=a[4],
            maturity=a[5],
            state=RepaymentState(a[6]),
        )

    def payout_for(self, slot: int, value: int) -> int:
        return int(self._view(self.repayment, "payoutFor", slot, value))

    # ----------------------------------------------------------------------------- settlement ERC-20

    def mint(
        self, issuer: Signer, currency: str, to: str, amount: int, *, key: str | None = None
    ) -> TxResult:
        """Credit `to` with `amount` minor units (test/demo settlement tokens; issuer only)."""
        return self._result(self._send(issuer, self.erc20(currency), "mint", checksum(to), amount, key=key))

    def approve_settlement(
        self, owner: Signer, currency: str, spender: str, amount: int, *, key: str | None = None
    ) -> TxResult:
        erc20 = self.erc20(currency)
        return self._result(self._send(owner, erc20, "approve", checksum(spender), amount, key=key))

    def cash_balance(self, currency: str, owner: str) -> int:
        """`owner`'s settlement-token balance in minor units."""
        return int(self._view(self.erc20(currency), "balanceOf", checksum(owner)))

    def cash_allowance(self, currency: str, owner: str, spender: str) -> int:
        """How much of `owner`'s settlement cash `spender` (a desk) may pull, in minor units."""
        return int(self._view(self.erc20(currency), "allowance", checksum(owner), checksum(spender)))

    def cash_decimals(self, currency: str) -> int:
        return int(self._view(self.erc20(currency), "decimals"))

    def cash_issuer(self, currency: str) -> str | None:
        """Who may mint the currency's settlement token: its `owner()` where it is a Tierchain
        `SettlementToken`; None for a token without one (a bank's own ERC-20 mints by its own rules)."""
        try:
            return checksum(self._view(self.erc20(currency), "owner"))
        except (TierchainError, ContractLogicError, Web3RPCError, ValueError):
            return None
