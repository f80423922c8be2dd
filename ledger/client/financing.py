"""Financing: a bank offers to buy (part of) a token at a discount; the holder accepts, and token and
cash swap in one transaction. The bank funds by ERC-20 allowance to the financing desk.
"""

from __future__ import annotations

from ledger.client.base import ClientBase, checksum
from ledger.client.models import (
    CreditLimit,
    CreditLimitSet,
    DayCount,
    ExposureReleased,
    Financed,
    Offer,
    OfferCancelled,
    OfferMade,
    OfferStatus,
    Quote,
    RecourseClaim,
    RecourseOpened,
    RecourseSettled,
    RecourseState,
    RecourseWaived,
    RegistrationRecorded,
)
from ledger.keys import Signer


class FinancingOps(ClientBase):
    def make_offer(
        self,
        bank: Signer,
        token_id: int,
        value: int,
        rate_bps: int,
        day_count: DayCount,
        expiry: int,
        *,
        recourse: bool = False,
        fund: bool = True,
        key: str | None = None,
    ) -> OfferMade:
        """Offer to buy `value` of `token_id`; `fund` first raises the bank's allowance to the desk by
        `value` (an upper bound of the price), so acceptance cannot fail for want of allowance."""
        if fund:
            currency = self.slot_terms_currency(token_id)
            erc20 = self.erc20(currency)
            current = int(erc20.functions.allowance(bank.address, self.financing.address).call())
            self._send(
                bank,
                erc20,
                "approve",
                self.financing.address,
                current + value,
                key=f"{key}:approve" if key else None,
            )
        receipt = self._send(
            bank,
            self.financing,
            "makeOffer",
            token_id,
            value,
            rate_bps,
            int(day_count),
            recourse,
            expiry,
            key=key,
        )
        event = self._event(receipt, self.financing, "OfferMade")
        return OfferMade(**self._meta(receipt), offer_id=event["offerId"])

    def slot_terms_currency(self, token_id: int) -> str:
        slot = int(self._view(self.token, "slotOf", token_id))
        return str(self._view(self.token, "slotTerms", slot)[3])

    def cancel_offer(self, bank: Signer, offer_id: int, *, key: str | None = None) -> OfferCancelled:
        receipt = self._send(bank, self.financing, "cancelOffer", offer_id, key=key)
        event = self._event(receipt, self.financing, "OfferCancelled")
        return OfferCancelled(**self._meta(receipt), offer_id=event["offerId"])

    def record_registration(
        self, bank: Signer, offer_id: int, number: str, *, key: str | None = None
    ) -> RegistrationRecorded:
        """The bank records the 中登网 registration number of financing `offer_id` (again: a correction)."""
        receipt = self._send(bank, self.financing, "recordRegistration", offer_id, number, key=key)
        e = self._event(receipt, self.financing, "RegistrationRecorded")
        return RegistrationRecorded(
            **self._meta(receipt),
            offer_id=e["offerId"],
            registration_number=e["number"],
            previous=e["previous"],
        )

    def set_credit_limit(
        self, bank: Signer, counterparty: str, limit: int, *, per_obligor: bool = True, key: str | None = None
    ) -> CreditLimitSet:
        """The bank records its credit limit (授信额度) on an obligor (or, `per_obligor=False`, a seller);
        0 removes it."""
        receipt = self._send(
            bank, self.financing, "setCreditLimit", checksum(counterparty), per_obligor, limit, key=key
        )
        e = self._event(receipt, self.financing, "CreditLimitSet")
        return CreditLimitSet(
            **self._meta(receipt),
            bank=e["bank"],
            counterparty=e["counterparty"],
            per_obligor=bool(e["perObligor"]),
            limit=int(e["limit"]),
        )

    def credit_limit(self, bank: str, counterparty: str, *, per_obligor: bool = True) -> CreditLimit:
        raw = self._view(self.financing, "creditLimit", checksum(bank), checksum(counterparty), per_obligor)
        return CreditLimit(limit=int(raw[0]), used=int(raw[1]))

    def release_exposure(self, signer: Signer, offer_id: int, *, key: str | None = None) -> ExposureReleased:
        """Free financing `offer_id` from its bank's limits once the bank no longer holds the piece."""
        receipt = self._send(signer, self.financing, "releaseExposure", offer_id, key=key)
        e = self._event(receipt, self.financing, "ExposureReleased")
        return ExposureReleased(
            **self._meta(receipt),
            offer_id=int(e["offerId"]),
            bank=e["bank"],
            obligor=e["obligor"],
            seller=e["seller"],
            value=int(e["value"]),
        )

    def registration_of(self, offer_id: int) -> str:
        return str(self._view(self.financing, "registrationOf", offer_id))

    def accept_offer(self, holder: Signer, offer_id: int, *, key: str | None = None) -> Financed:
        """The holder sells: price to the holder, receivable (whole, or a split-off piece) to the bank."""
        receipt = self._send(holder, self.financing, "accept", offer_id, key=key)
        e = self._event(receipt, self.financing, "Financed")
        return Financed(
            **self._meta(receipt),
            offer_id=e["offerId"],
            token_id=e["tokenId"],
            financed_token_id=e["financedTokenId"],
            bank=checksum(e["bank"]),
            holder=checksum(e["holder"]),
            value=e["value"],
            price=e["price"],
            discount=e["discount"],
            days_to_maturity=e["daysToMaturity"],
        )

    def quote(self, value: int, rate_bps: int, day_count: DayCount, maturity: int) -> Quote:
        """The price the desk would pay now (rounded down; see DiscountMath.discountPrice)."""
        q = self._view(self.financing, "quote", value, rate_bps, int(day_count), maturity)
        return Quote(
            value=q[0],
            days_to_maturity=q[1],
            rate_bps=q[2],
            day_count=DayCount(q[3]),
            discount=q[4],
            price=q[5],
        )

    def offer(self, offer_id: int) -> Offer:
        o = self._view(self.financing, "offer", offer_id)
        return Offer(
            bank=o[0],
            token_id=o[1],
            rate_bps=o[2],
            day_count=DayCount(o[3]),
            recourse=o[4],
            status=OfferStatus(o[5]),
            value=o[6],
            expiry=o[7],
            financed_token_id=o[8],
        )

    # ---------------------------------------------------------------- recourse (追索)

    def open_recourse(self, bank: Signer, offer_id: int, *, key: str | None = None) -> RecourseOpened:
        """The bank of with-recourse financing `offer_id` claims the shortfall from the seller once the
        obligation is in default (before it redeems the financed piece)."""
        receipt = self._send(bank, self.financing, "openRecourse", offer_id, key=key)
        e = self._event(receipt, self.financing, "RecourseOpened")
        return RecourseOpened(
            **self._meta(receipt),
            offer_id=int(e["offerId"]),
            bank=checksum(e["bank"]),
            seller=checksum(e["seller"]),
            slot=int(e["slot"]),
            shortfall=int(e["shortfall"]),
        )

    def settle_recourse(
        self, seller: Signer, offer_id: int, amount: int, *, fund: bool = True, key: str | None = None
    ) -> RecourseSettled:
        """The seller pays `amount` towards the claim (清偿), to the bank in the obligation's currency;
        `fund` first raises the seller's allowance to the desk by `amount`."""
        if fund:
            claim = self.recourse_claim(offer_id)
            erc20 = self.erc20(claim.currency)
            current = int(erc20.functions.allowance(seller.address, self.financing.address).call())
            if current < amount:
                self._send(
                    seller,
                    erc20,
                    "approve",
                    self.financing.address,
                    amount,
                    key=f"{key}:approve" if key else None,
                )
        receipt = self._send(seller, self.financing, "settleRecourse", offer_id, amount, key=key)
        e = self._event(receipt, self.financing, "RecourseSettled")
        return RecourseSettled(
            **self._meta(receipt),
            offer_id=int(e["offerId"]),
            seller=checksum(e["seller"]),
            amount=int(e["amount"]),
            remaining=int(e["remaining"]),
        )

    def waive_recourse(self, bank: Signer, offer_id: int, *, key: str | None = None) -> RecourseWaived:
        """The bank waives what remains of its claim (放弃追索)."""
        receipt = self._send(bank, self.financing, "waiveRecourse", offer_id, key=key)
        e = self._event(receipt, self.financing, "RecourseWaived")
        return RecourseWaived(
            **self._meta(receipt),
            offer_id=int(e["offerId"]),
            bank=checksum(e["bank"]),
            remaining=int(e["remaining"]),
        )

    def recourse_claim(self, offer_id: int) -> RecourseClaim:
        """The claim of financing `offer_id` as the desk holds it (state NONE before one is opened)."""
        c = self._view(self.financing, "recourseClaim", offer_id)
        return RecourseClaim(
            offer_id=offer_id,
            state=RecourseState(c[0]),
            bank=checksum(c[1]),
            seller=checksum(c[2]),
            slot=int(c[3]),
            currency=checksum(c[4]),
            shortfall=int(c[5]),
            settled=int(c[6]),
            remaining=int(c[7]),
        )

    def recourse_claims(
        self, *, bank: str | None = None, seller: str | None = None, open_only: bool = False
    ) -> list[RecourseClaim]:
        """Every opened recourse claim, read from the desk offer by offer (for the indexer-less CLI);
        narrowed to one bank, one seller, or those still open or partly settled."""
        last = int(self._view(self.financing, "lastOfferId"))
        claims = []
        for offer_id in range(1, last + 1):
            claim = self.recourse_claim(offer_id)
            if claim.state == RecourseState.NONE:
                continue
            if bank is not None and claim.bank != checksum(bank):
                continue
            if seller is not None and claim.seller != checksum(seller):
                continue
            if open_only and claim.state not in (RecourseState.OPEN, RecourseState.PARTLY_SETTLED):
                continue
            claims.append(claim)
        return claims
