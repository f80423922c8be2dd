"""Stages 4, 5 and 7: pieces paid down the supplier tree, two banks financing pieces, and the
regulator freezing a piece while its holder tries to pay with it.

Financing prices are recomputed here from the contract's documented formula (days rounded up, price
rounded down) and kept beside the contract's figure, so the checks can compare the two.
"""

from __future__ import annotations

from ledger.client import DayCount
from ledger.errors import TokenFrozen

from .issue import DemoFailure
from .report import FinancingDeal, FreezeEvent
from .scenario import DAY, Run

FREEZE_REASON = 1  # the regulator's own code for "ownership dispute under review"


def pay_down(run: Run, root: int) -> dict[str, int]:
    """Tier 1 pays three tier-2 suppliers in one batch; tier-2 a pays tier 3, down to tier 5.
    Returns the token id each supplier was paid with."""
    c, plan = run.chain.client, run.plan
    paid: dict[str, int] = {}
    batch = c.split_batch(run.p("t1").signer, root, [(run.p(k).address, v) for k, v in plan.tier2.items()])
    run.record(4, "batch split: tier 1 pays t2a, t2b, t2c", "t1", batch)
    for key, token in zip(plan.tier2, batch.token_ids, strict=True):
        run.add_piece(token, root, key)
        paid[key] = token
    batch = c.split_batch(
        run.p("t2a").signer, paid["t2a"], [(run.p(k).address, v) for k, v in plan.tier3.items()]
    )
    run.record(4, "batch split: t2a pays t3a, t3b", "t2a", batch)
    for key, token in zip(plan.tier3, batch.token_ids, strict=True):
        run.add_piece(token, paid["t2a"], key)
        paid[key] = token
    for payer, payee, value in (("t3a", "t4", plan.t4), ("t4", "t5", plan.t5)):
        split = c.split(run.p(payer).signer, paid[payer], run.p(payee).address, value)
        run.record(4, f"split: {payer} pays {payee}", payer, split)
        run.add_piece(split.token_id, paid[payer], payee)
        paid[payee] = split.token_id
    return paid


def expected_price(
    value: int, rate_bps: int, day_count: DayCount, start: int, maturity: int
) -> tuple[int, int]:
    """DiscountMath, independently: a started day counts, the price rounds down."""
    days = -(-(maturity - start) // DAY)
    basis = 360 if day_count == DayCount.ACT_360 else 365
    return value * (basis * 10_000 - rate_bps * days) // (basis * 10_000), days


def finance(
    run: Run, bank: str, holder: str, token: int, value: int, rate_bps: int, day_count: DayCount
) -> None:
    c = run.chain.client
    offer = c.make_offer(run.p(bank).signer, token, value, rate_bps, day_count, run.now() + 7 * DAY)
    run.record(5, f"{bank} offers {rate_bps} bps {day_count.name} on #{token}", bank, offer)
    deal = c.accept_offer(run.p(holder).signer, offer.offer_id)
    run.record(5, f"{holder} accepts: DvP, price paid in the same tx", holder, deal)
    at = int(c.w3.eth.get_block(deal.block_number)["timestamp"])
    price, days = expected_price(value, rate_bps, day_count, at, run.summary.maturity)
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
        )
    )


def finance_two(run: Run, paid: dict[str, int]) -> None:
    """Bank A buys tier-3 b's whole piece (ACT/360); bank B buys part of tier-2 b's (ACT/365F)."""
    whole = run.chain.client.balance_of(paid["t3b"])
    finance(run, "bank_a", "t3b", paid["t3b"], whole, 450, DayCount.ACT_360)
    finance(run, "bank_b", "t2b", paid["t2b"], run.plan.bank_b_share, 520, DayCount.ACT_365F)


def freeze_and_release(run: Run, paid: dict[str, int]) -> None:
    """The regulator freezes tier-3 a's piece; its payment to tier 4 is refused; released, it goes through."""
    c, token = run.chain.client, paid["t3a"]
    regulator, holder = run.p("regulator").signer, run.p("t3a").signer
    frozen = c.freeze(regulator, token, FREEZE_REASON)
    run.record(7, f"regulator freezes #{token}", "regulator", frozen)
    run.pieces[token].frozen_once = True
    try:
        c.split(holder, token, run.p("t4").address, run.plan.t4_after_unfreeze)
    except TokenFrozen as refused:
        refusal = str(refused)
    else:
        raise DemoFailure(f"a split of frozen token #{token} went through")
    unfrozen = c.unfreeze(regulator, token, FREEZE_REASON)
    run.record(7, f"regulator unfreezes #{token}", "regulator", unfrozen)
    retry = c.split(holder, token, run.p("t4").address, run.plan.t4_after_unfreeze)
    run.record(7, "split: t3a pays t4 again, now allowed", "t3a", retry)
    run.add_piece(retry.token_id, token, "t4")
    run.summary.freezes.append(
        FreezeEvent(
            token_id=token, frozen_tx=frozen.tx_hash, refused_transfer=refusal, unfrozen_tx=unfrozen.tx_hash
        )
    )
