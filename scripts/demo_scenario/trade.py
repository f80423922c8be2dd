"""Stages 4, 5 and 8: pieces paid down the supplier tree, two banks financing pieces, and the
regulator freezing a piece while its holder tries to pay with it.

Under the deployment's policy a piece moves to another supplier only with a trade background: each
supplier invoices its buyer, the oracles attest the invoice 2-of-3, and the buyer pays through
`pay_with_trade`, citing it (the registry counts what each invoice has covered: `movedValue`). Moves
to a bank (financing) need no document.

Financing prices are recomputed here from the contract's documented formula (days rounded up, price
rounded down) and kept beside the contract's figure, so the checks can compare the two.
"""

from __future__ import annotations

from datetime import timedelta

from ledger.client import DayCount
from ledger.errors import TokenFrozen

from .issue import DemoFailure, attest_documents
from .paper import Paperwork, trade_invoice
from .quorum import Quorum
from .report import FinancingDeal, FreezeEvent, TradeInvoice, TradePayment
from .scenario import CURRENCY, DAY, Run

FREEZE_REASON = 1  # the regulator's own code for "ownership dispute under review"
SUPPLIER_TERM_DAYS = 60  # the due date printed on the invoices between suppliers


def invoice_suppliers(run: Run, quorum: Quorum, paper: Paperwork) -> None:
    """Each supplier about to be paid invoices its buyer for what it delivered; the oracles attest the
    invoices 2-of-3. Tier 4's invoice covers two lots of ore, paid in two instalments (the second after
    the regulator's freeze is lifted)."""
    plan = run.plan
    owed = [
        *(("t1", k, v) for k, v in plan.tier2.items()),
        *(("t2a", k, v) for k, v in plan.tier3.items()),
        ("t3a", "t4", plan.t4 + plan.t4_after_unfreeze),
        ("t4", "t5", plan.t5),
    ]
    issued = run.now_dt().date() - timedelta(days=2)
    documents = [
        (
            trade_invoice(
                paper,
                run.rng,
                f"invoice-{seller}-to-{buyer}",
                seller=run.p(seller).uscc,
                buyer=run.p(buyer).uscc,
                total=amount,
                issued=issued,
                tenor_days=SUPPLIER_TERM_DAYS,
            ),
            f"{seller}'s invoice to {buyer}, {amount / 100:,.2f} {CURRENCY}",
        )
        for buyer, seller, amount in owed
    ]
    fingerprints = attest_documents(run, quorum, 4, documents)
    for (buyer, seller, amount), fp in zip(owed, fingerprints, strict=True):
        run.invoices[(buyer, seller)] = fp
        run.summary.compliance.invoices.append(
            TradeInvoice(fingerprint=fp, seller=seller, buyer=buyer, amount=amount)
        )


def pay(
    run: Run, stage: int, payer: str, token: int, payees: list[tuple[str, int]], action: str
) -> list[int]:
    """`payer` pays each (supplier, value) with piece `token` in one `moveWithTrade`, each payment citing
    the invoice that supplier sent the payer. Returns the receivers' pieces, in order."""
    c = run.chain.client
    payments = [(run.p(k).address, v, [run.invoices[(payer, k)]]) for k, v in payees]
    moved = c.pay_with_trade(run.p(payer).signer, token, payments)
    run.record(stage, action, payer, moved)
    for (key, value), piece in zip(payees, moved.token_ids, strict=True):
        if piece == token:  # the whole remaining value: the piece itself changed hands
            run.pieces[token].owner = run.pieces[token].received_by = key
        else:
            run.add_piece(piece, token, key)
        run.summary.compliance.payments.append(
            TradePayment(
                payer=payer,
                receiver=key,
                token_id=token,
                piece_id=piece,
                value=value,
                document=run.invoices[(payer, key)],
                tx_hash=moved.tx_hash,
            )
        )
    return list(moved.token_ids)


def pay_down(run: Run, quorum: Quorum, paper: Paperwork, root: int) -> dict[str, int]:
    """Tier 1 pays three tier-2 suppliers in one call; tier-2 a pays tier 3, down to tier 5. Every payment
    cites the receiver's attested invoice to the payer (贸易背景). Returns the token id each supplier was
    paid with."""
    plan = run.plan
    invoice_suppliers(run, quorum, paper)
    paid: dict[str, int] = {}
    tier2 = pay(run, 4, "t1", root, list(plan.tier2.items()), "trade-backed batch: tier 1 pays t2a, t2b, t2c")
    paid.update(zip(plan.tier2, tier2, strict=True))
    tier3 = pay(run, 4, "t2a", paid["t2a"], list(plan.tier3.items()), "trade-backed batch: t2a pays t3a, t3b")
    paid.update(zip(plan.tier3, tier3, strict=True))
    for payer, payee, value in (("t3a", "t4", plan.t4), ("t4", "t5", plan.t5)):
        (piece,) = pay(run, 4, payer, paid[payer], [(payee, value)], f"trade-backed: {payer} pays {payee}")
        paid[payee] = piece
    return paid


def expected_price(
    value: int, rate_bps: int, day_count: DayCount, start: int, maturity: int
) -> tuple[int, int]:
    """DiscountMath, independently: a started day counts, the price rounds down."""
    days = -(-(maturity - start) // DAY)
    basis = 360 if day_count == DayCount.ACT_360 else 365
    return value * (basis * 10_000 - rate_bps * days) // (basis * 10_000), days


def finance(
    run: Run,
    bank: str,
    holder: str,
    token: int,
    value: int,
    rate_bps: int,
    day_count: DayCount,
    *,
    stage: int = 5,
    maturity: int | None = None,
    recourse: bool = False,
) -> int:
    """`bank` offers on `value` of `token` (with recourse if asked), `holder` accepts, the bank records its
    中登网 number; the deal joins the summary. `maturity` defaults to the first obligation's, whose pieces
    the scenario tracks. Returns the offer id."""
    c = run.chain.client
    offer = c.make_offer(
        run.p(bank).signer, token, value, rate_bps, day_count, run.now() + 7 * DAY, recourse=recourse
    )
    terms = " with recourse (有追索权)" if recourse else ""
    run.record(stage, f"{bank} offers {rate_bps} bps {day_count.name} on #{token}{terms}", bank, offer)
    settle_offer(
        run,
        bank,
        holder,
        token,
        offer.offer_id,
        rate_bps,
        day_count,
        stage=stage,
        maturity=maturity,
        recourse=recourse,
    )
    return offer.offer_id


def settle_offer(
    run: Run,
    bank: str,
    holder: str,
    token: int,
    offer_id: int,
    rate_bps: int,
    day_count: DayCount,
    *,
    stage: int,
    maturity: int | None = None,
    recourse: bool = False,
) -> None:
    """`holder` accepts `bank`'s offer `offer_id` on `token` (DvP), the bank records its 中登网 number; the
    deal joins the summary (and, on the first obligation, the financed piece joins the pieces)."""
    c = run.chain.client
    deal = c.accept_offer(run.p(holder).signer, offer_id)
    run.record(stage, f"{holder} accepts: DvP, price paid in the same tx", holder, deal)
    # The bank registers the transfer on 中登网 (as Yinfa [2025] No. 77 requires) and records the number it
    # was given: 20 digits, here derived from the settling transaction (no draw from the seed's stream).
    number = f"0448{int(deal.tx_hash, 16) % 10**16:016d}"
    registered = c.record_registration(run.p(bank).signer, offer_id, number)
    run.record(stage, f"{bank} records the 中登网 registration number {number}", bank, registered)
    at = int(c.w3.eth.get_block(deal.block_number)["timestamp"])
    price, days = expected_price(deal.value, rate_bps, day_count, at, maturity or run.summary.maturity)
    if maturity is None:
        if deal.financed_token_id not in run.pieces:
            run.add_piece(deal.financed_token_id, token, bank)
        run.pieces[deal.financed_token_id].financed_by = bank
    run.summary.financings.append(
        FinancingDeal(
            bank=bank,
            holder=holder,
            token_id=token,
            financed_token_id=deal.financed_token_id,
            value=deal.value,
            rate_bps=rate_bps,
            day_count=day_count.name,
            days=deal.days_to_maturity,
            price=deal.price,
            discount=deal.discount,
            expected_price=price if days == deal.days_to_maturity else -1,
            registration_number=c.registration_of(offer_id),
            recourse=recourse,
        )
    )


def finance_two(run: Run, paid: dict[str, int]) -> None:
    """Bank A buys tier-3 b's whole piece (ACT/360); bank B buys part of tier-2 b's (ACT/365F)."""
    whole = run.chain.client.balance_of(paid["t3b"])
    finance(run, "bank_a", "t3b", paid["t3b"], whole, 450, DayCount.ACT_360)
    finance(run, "bank_b", "t2b", paid["t2b"], run.plan.bank_b_share, 520, DayCount.ACT_365F)


def freeze_and_release(run: Run, paid: dict[str, int]) -> None:
    """The regulator freezes tier-3 a's piece; its payment to tier 4 (the second instalment of tier 4's
    invoice) is refused and consumes none of the invoice's cover; released, it goes through."""
    c, token = run.chain.client, paid["t3a"]
    regulator, holder = run.p("regulator").signer, run.p("t3a").signer
    invoice = run.invoices[("t3a", "t4")]
    frozen = c.freeze(regulator, token, FREEZE_REASON)
    run.record(8, f"regulator freezes #{token}", "regulator", frozen)
    run.pieces[token].frozen_once = True
    moved_before = moved_value(run, invoice)
    try:
        c.pay_with_trade(holder, token, [(run.p("t4").address, run.plan.t4_after_unfreeze, [invoice])])
    except TokenFrozen as refused:
        refusal = str(refused)
    else:
        raise DemoFailure(f"a payment with frozen token #{token} went through")
    if moved_value(run, invoice) != moved_before:
        raise DemoFailure(f"the refused payment with frozen token #{token} consumed invoice cover")
    unfrozen = c.unfreeze(regulator, token, FREEZE_REASON)
    run.record(8, f"regulator unfreezes #{token}", "regulator", unfrozen)
    pay(
        run,
        8,
        "t3a",
        token,
        [("t4", run.plan.t4_after_unfreeze)],
        "trade-backed: t3a pays t4 the rest of its invoice, now allowed",
    )
    run.summary.freezes.append(
        FreezeEvent(
            token_id=token, frozen_tx=frozen.tx_hash, refused_transfer=refusal, unfrozen_tx=unfrozen.tx_hash
        )
    )


def moved_value(run: Run, fingerprint: str) -> int:
    """`TradeRegistry.movedValue`: how much of the document's amount payments have cited so far."""
    c = run.chain.client
    return int(c._view(c.trades, "movedValue", bytes.fromhex(fingerprint.removeprefix("0x"))))
