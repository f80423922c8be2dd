"""Stage 10: a second obligation, in bill mode (票据模式), carried through what a bill system gives its users.

The core enterprise chooses bill mode for its future obligations, then confirms a second, shorter one to
the tier-1 supplier. Tier 1 pays two tier-2 suppliers with it, each payment citing the invoice the
supplier sent: both payments wait for the receiver's acceptance (待签收). One supplier refuses (拒收) and
the value goes back into tier 1's piece; the other accepts (签收) and sells its piece to bank A with
recourse (有追索权). Bank B, whose credit limit (授信) on the core enterprise is smaller than what it
offers, is refused at acceptance. At maturity the core enterprise pays only part; after the grace period
the obligation is declared in default, bank A opens its recourse claim (追索) for the shortfall before it
redeems, and the supplier settles the claim in two payments (清偿). Every piece is redeemed pro rata and
the desk's rounding dust goes back to the obligor, so every unit of the second obligation is accounted
for. Each figure here is read from a receipt, an event or a view.
"""

from __future__ import annotations

from datetime import timedelta

from ledger.client import DayCount, Terms
from ledger.client.models import RecourseState, ReturnReason, SettlementMode
from ledger.errors import ContractRevert, NoDust
from oracles.documents import Invoice

from .issue import DemoFailure, attest_documents
from .paper import Paperwork, delivery_note, trade_invoice
from .quorum import Quorum
from .report import Lifecycle, Refusal
from .scenario import CURRENCY, DAY, MIN_UNIT, Run
from .trade import finance

STAGE = 10
FACE = 200_000_00  # CNY 200,000.00
TENOR_DAYS = 50  # within 60 days of delivery: no agreed payment term needed for a medium supplier
PAID_SHARE = 60  # percent of the face the core enterprise pays at maturity
RATE_BPS = 480
LIMIT = 30_000_00  # bank B's credit limit on the core enterprise
OVER_LIMIT_OFFER = 50_000_00


def _money(minor: int) -> str:
    return f"{minor / 100:,.2f}"


def lifecycle(run: Run, quorum: Quorum, paper: Paperwork) -> None:
    c = run.chain.client
    life = run.summary.lifecycle = Lifecycle(face=FACE, tenor_days=TENOR_DAYS)
    core, t1 = run.p("core"), run.p("t1")

    chosen = c.set_settlement_mode(core.signer, SettlementMode.BILL)
    run.record(STAGE, "core chooses bill mode (票据模式) for its future obligations", "core", chosen)

    to_a, to_b = FACE * 40 // 100, FACE * 25 // 100
    today = run.now_dt().date()
    invoice = trade_invoice(
        paper,
        run.rng,
        "invoice-t1-to-core-2",
        seller=t1.uscc,
        buyer=core.uscc,
        total=FACE,
        issued=today - timedelta(days=2),
        tenor_days=TENOR_DAYS,
    )
    assert isinstance(invoice.document, Invoice)
    note = delivery_note(paper, run.rng, invoice.document, today - timedelta(days=3))
    supplier_invoices = [
        trade_invoice(
            paper,
            run.rng,
            f"invoice-{k}-to-t1-2",
            seller=run.p(k).uscc,
            buyer=t1.uscc,
            total=v,
            issued=today - timedelta(days=1),
            tenor_days=TENOR_DAYS,
        )
        for k, v in (("t2a", to_a), ("t2b", to_b))
    ]
    fps = attest_documents(
        run,
        quorum,
        STAGE,
        [
            (invoice, "tier 1's second invoice to core"),
            (note, "its delivery note"),
            (supplier_invoices[0], "t2a's invoice to tier 1 (second order)"),
            (supplier_invoices[1], "t2b's invoice to tier 1 (second order)"),
        ],
    )

    maturity = run.now() + TENOR_DAYS * DAY
    terms = Terms(
        supplier=t1.address,
        obligor=core.address,
        currency=CURRENCY,
        face=FACE,
        maturity=maturity,
        min_unit=MIN_UNIT,
        documents=tuple(bytes.fromhex(fp[2:]) for fp in fps[:2]),
    )
    proposed = c.propose(t1.signer, terms)
    run.record(STAGE, f"propose {_money(FACE)} {CURRENCY}, {TENOR_DAYS} days", "t1", proposed)
    issued = c.confirm(core.signer, proposed.proposal_id, terms)
    run.record(STAGE, "confirm: the second obligation, in bill mode", "core", issued)
    life.slot, life.maturity, life.root_token_id = issued.slot, maturity, issued.token_id
    life.acceptance_window_days = c.bill_window(issued.slot) // DAY
    if life.acceptance_window_days == 0:
        raise DemoFailure(f"obligation {issued.slot} was created in voucher mode")

    moved = c.pay_with_trade(
        t1.signer,
        issued.token_id,
        [(run.p("t2a").address, to_a, [fps[2]]), (run.p("t2b").address, to_b, [fps[3]])],
    )
    run.record(STAGE, "tier 1 pays t2a and t2b: both payments wait for acceptance (待签收)", "t1", moved)
    piece_a, piece_b = moved.token_ids
    pending = [c.pending_move(piece_a), c.pending_move(piece_b)]
    if any(p is None for p in pending):
        raise DemoFailure(f"the payments #{piece_a}, #{piece_b} did not wait for acceptance")
    life.pending_after_payment = sum(c.balance_of(t) for t in (piece_a, piece_b))

    refused = c.refuse_move(run.p("t2b").signer, piece_b)
    run.record(STAGE, f"t2b refuses #{piece_b} (拒收): its value returns to tier 1", "t2b", refused)
    if refused.reason != ReturnReason.REFUSED or refused.merged_into != issued.token_id:
        raise DemoFailure(f"the refused payment #{piece_b} did not return into #{issued.token_id}")
    life.refused_token_id, life.returned_into, life.refused_value = piece_b, refused.merged_into, to_b
    accepted = c.accept_move(run.p("t2a").signer, piece_a)
    run.record(STAGE, f"t2a accepts #{piece_a} (签收): it is t2a's now", "t2a", accepted)
    life.accepted_token_id, life.accepted_value = piece_a, to_a
    life.t1_after_return = c.balance_of(issued.token_id)

    offer_id = finance(
        run,
        "bank_a",
        "t2a",
        piece_a,
        to_a,
        RATE_BPS,
        DayCount.ACT_360,
        stage=STAGE,
        maturity=maturity,
        recourse=True,
    )
    refuse_above_limit(run, issued.token_id)

    default_and_recourse(run, offer_id, [piece_a, issued.token_id])


def refuse_above_limit(run: Run, token: int) -> None:
    """Bank B keeps a credit limit on the core enterprise below what it offers tier 1: refused at acceptance,
    with nothing moved."""
    c, bank, core = run.chain.client, run.p("bank_b"), run.p("core")
    limited = c.set_credit_limit(bank.signer, core.address, LIMIT, per_obligor=True)
    run.record(STAGE, f"bank_b sets its credit limit (授信) on core: {_money(LIMIT)}", "bank_b", limited)
    offer = c.make_offer(bank.signer, token, OVER_LIMIT_OFFER, 500, DayCount.ACT_365F, run.now() + 7 * DAY)
    run.record(STAGE, f"bank_b offers on {_money(OVER_LIMIT_OFFER)} of #{token}", "bank_b", offer)
    before = (c.balance_of(token), c.cash_balance(CURRENCY, run.p("t1").address))
    try:
        c.accept_offer(run.p("t1").signer, offer.offer_id)
    except ContractRevert as refused:
        name, detail = refused.error_name, str(refused)
    else:
        raise DemoFailure("an acceptance above bank B's credit limit went through")
    after = (c.balance_of(token), c.cash_balance(CURRENCY, run.p("t1").address))
    cancelled = c.cancel_offer(bank.signer, offer.offer_id)
    run.record(STAGE, "bank_b withdraws the offer it cannot fund under its limit", "bank_b", cancelled)
    run.summary.refusals.append(
        Refusal(
            what=f"bank_b buys {_money(OVER_LIMIT_OFFER)} of #{token} over its {_money(LIMIT)} limit on core",
            by="t1",
            codes=[name],
            detail=f"FinancingDesk.accept reverted {detail}; "
            + ("nothing moved" if before == after else f"state changed: {before} -> {after}"),
        )
    )
    life = run.summary.lifecycle
    assert life is not None
    life.limit_refusal = name if before == after else f"{name} (state changed)"


def default_and_recourse(run: Run, offer_id: int, pieces: list[int]) -> None:
    """Maturity with part of the face paid, the default after the grace period, the bank's claim opened
    while it still holds the piece, every piece redeemed pro rata, the dust swept, the claim settled."""
    c = run.chain.client
    life = run.summary.lifecycle
    assert life is not None
    run.chain.warp_to(life.maturity)
    paid = FACE * PAID_SHARE // 100
    deposit = c.deposit(run.p("core").signer, life.slot, paid)
    run.record(STAGE, f"maturity: core pays only {_money(paid)} of {_money(FACE)}", "core", deposit)
    grace = int(c.repayment.functions.gracePeriod().call())
    run.chain.warp_to(life.maturity + grace)
    declared = c.declare_default(run.p("bank_a").signer, life.slot)
    run.record(
        STAGE,
        f"after {grace // DAY} days' grace: obligation {life.slot} declared in default",
        "bank_a",
        declared,
    )
    life.paid = paid

    opened = c.open_recourse(run.p("bank_a").signer, offer_id)
    run.record(
        STAGE, f"bank_a opens its recourse claim (追索) on t2a: {_money(opened.shortfall)}", "bank_a", opened
    )
    life.claim_offer_id, life.shortfall = offer_id, opened.shortfall

    for token in pieces:
        holder = run.who(c.owner_of(token))
        value = c.balance_of(token)
        redeemed = c.redeem(run.p(holder).signer, token)
        run.record(
            STAGE,
            f"{holder} redeems #{token}: {_money(redeemed.payout)} for {_money(value)}",
            holder,
            redeemed,
        )
        life.redemptions.append((holder, token, value, redeemed.payout))
    try:
        swept = c.sweep_dust(run.p("core").signer, life.slot)
    except NoDust:
        life.dust = 0
    else:
        run.record(STAGE, f"rounding dust {swept.amount} fen back to core", "core", swept)
        life.dust = swept.amount

    first = opened.shortfall // 2
    for amount in (first, opened.shortfall - first):
        settled = c.settle_recourse(run.p("t2a").signer, offer_id, amount)
        run.record(STAGE, f"t2a settles {_money(amount)} of the claim (清偿)", "t2a", settled)
        life.settlements.append(amount)
    claim = c.recourse_claim(offer_id)
    life.claim_state = claim.state.name.lower()
    if claim.state != RecourseState.SETTLED:
        raise DemoFailure(f"the recourse claim of offer {offer_id} is {claim.state.name}, not settled")
