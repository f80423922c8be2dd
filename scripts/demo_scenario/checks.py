"""FINAL CHECKS: every minor unit accounted for, each figure read back from the chain.

A failed check does not stop the others: the run reports all of them and exits non-zero.
"""

from __future__ import annotations

from ledger.client.compliance import DAY
from ledger.config import PolicySpec

from .report import Check
from .scenario import CURRENCY, Run
from .settle import live_tokens
from .trade import moved_value


def _money(minor: int) -> str:
    return f"{minor / 100:,.2f}"


def final_checks(run: Run) -> list[Check]:
    c, s = run.chain.client, run.summary
    face = run.plan.face
    checks: list[Check] = []

    def check(name: str, ok: bool, detail: str) -> None:
        checks.append(Check(name=name, ok=ok, detail=detail))

    redeemed = [p for p in run.pieces.values() if p.payout is not None]
    values = sum(p.value for p in redeemed)
    payouts = sum(p.payout or 0 for p in redeemed)
    account = c.repayment_account(s.slot)
    check(
        "Σ redeemed values == face",
        values == face == account.redeemed_value,
        f"{_money(values)} over {len(redeemed)} pieces; desk says {_money(account.redeemed_value)}",
    )
    check(
        "Σ payouts == paid == face",
        payouts == account.paid == account.paid_out == face,
        f"payouts {_money(payouts)}, paid {_money(account.paid)}, paid out {_money(account.paid_out)}",
    )
    erc20 = c.erc20(CURRENCY)
    minted = sum(line.start for line in s.cash)
    supply = int(erc20.functions.totalSupply().call())
    holders = [run.p(line.actor).address for line in s.cash] + [c.repayment.address, c.financing.address]
    balances = sum(c.cash_balance(CURRENCY, a) for a in holders)
    check(
        "settlement tokens conserved (minted == Σ balances)",
        minted == supply == balances,
        f"minted {_money(minted)}, total supply {_money(supply)}, Σ balances {_money(balances)}",
    )
    moved = [line for line in s.cash if line.end != line.expected_end]
    check(
        "each party's cash moved by exactly what it was paid",
        not moved,
        "all match" if not moved else "; ".join(f"{m.actor}: {m.end} != {m.expected_end}" for m in moved),
    )
    g = s.governance
    court = run.p("court").address
    check(
        "the court's ENFORCEMENT came through governance",
        g is not None and g.state == "executed" and c.has_role(court, "ENFORCEMENT"),
        f"proposal #{g.proposal_id}: {g.approvals} of {g.needed} approvals, "
        f"{g.delay_seconds} s in the timelock, executed in block {g.executed_block}"
        if g is not None
        else "no governance step ran",
    )
    live = live_tokens(run)
    check("no live token left", not live, "every piece burned" if not live else f"still live: {live}")
    desk = c.cash_balance(CURRENCY, c.repayment.address)
    check("repayment desk balance is 0", desk == 0, f"{_money(desk)} {CURRENCY}")
    off = [f for f in s.financings if f.price != f.expected_price]
    check(
        "financing prices match DiscountMath (days up, price down)",
        not off and len(s.financings) == 2 + (s.lifecycle is not None) + (s.market is not None),
        "; ".join(
            f"#{f.financed_token_id}: {_money(f.price)} for {_money(f.value)}, {f.days} days"
            for f in s.financings
        ),
    )
    wrong = [p.token_id for p in run.pieces.values() if p.lineage_on_chain != _path(run, p.token_id)]
    check(
        "on-chain lineage == the payments made",
        not wrong,
        f"{len(run.pieces)} pieces, depths 0..{max(p.tier for p in run.pieces.values()) - 1}"
        if not wrong
        else f"differs for {wrong}",
    )
    codes = {code for r in s.refusals if r.what.startswith("reuse") for code in r.codes}
    check(
        "invoice reuse refused by oracles and contract",
        {"ALREADY_ATTESTED", "DocumentAlreadyUsed"} <= codes,
        ", ".join(sorted(codes)) or "no refusal",
    )
    check(
        "frozen piece refused a transfer",
        any("TokenFrozen" in f.refused_transfer for f in s.freezes),
        "; ".join(f.refused_transfer for f in s.freezes) or "no freeze",
    )
    checks += compliance_checks(run)
    checks += lifecycle_checks(run)
    checks += recovery_checks(run)
    checks += market_checks(run)
    return checks


def market_checks(run: Run) -> list[Check]:
    """Stage 12: the request answered by both banks, the better price accepted, the other offer lapsed."""
    m = run.summary.market
    if m is None:
        return []
    prices = {o.offer_id: o.price or 0 for o in m.offers}
    better = max(prices, key=lambda i: prices[i]) if prices else 0
    deal = next((f for f in run.summary.financings if f.token_id == m.token_id and f.value == m.asked), None)
    return [
        Check(
            name="a financing request answered by two banks: the better offer accepted, the other lapsed",
            ok=len(m.offers) == 2
            and m.accepted_offer_id == m.best_offer_id == better
            and m.status == "accepted"
            and m.lapsed == [i for i in prices if i != better]
            and deal is not None
            and deal.price == prices[better],
            detail=f"request {m.request_id}: "
            + ", ".join(f"{o.bank} {o.rate_bps} bps → {_money(o.price or 0)}" for o in m.offers)
            + f"; accepted offer {m.accepted_offer_id}; request {m.status}",
        )
    ]


def recovery_checks(run: Run) -> list[Check]:
    """Stage 11: the lost key's record and pieces moved whole, the lost address refused."""
    r = run.summary.recovery
    if r is None:
        return []
    return [
        Check(
            name="a lost key recovered: record and pieces moved whole (same ids, values, lineage), "
            "the lost address refused",
            ok=r.kept and r.record_moved and bool(r.token_ids) and r.lost_refusal == "ParticipantNotActive",
            detail=f"{r.supplier}: {len(r.token_ids)} piece(s) worth {_money(r.value)} to the new key "
            f"under case {r.case}; a payment to the lost key: {r.lost_refusal or 'not refused'}",
        )
    ]


def lifecycle_checks(run: Run) -> list[Check]:
    """Stage 10: pending value, the refusal above a limit, the recourse claim, every unit of the second
    obligation."""
    life = run.summary.lifecycle
    if life is None:
        return []
    c = run.chain.client
    account = c.repayment_account(life.slot)
    sold = next((r for r in life.redemptions if r[1] == life.accepted_token_id), None)
    return [
        Check(
            name="bill mode: the refused payment went back into the payer's piece; nothing left pending",
            ok=life.returned_into == life.root_token_id
            and life.pending_after_payment == life.accepted_value + life.refused_value
            and life.t1_after_return == life.face - life.accepted_value
            and not c.pending_moves(sender=run.p("t1").address),
            detail=f"#{life.refused_token_id} merged into #{life.returned_into}; tier 1 held "
            f"{_money(life.t1_after_return)} after the return; window {life.acceptance_window_days} days",
        ),
        Check(
            name="a financing above the bank's credit limit refused, nothing moved",
            ok=life.limit_refusal == "CreditLimitExceeded",
            detail=life.limit_refusal or "no refusal",
        ),
        Check(
            name="recourse claim == piece value - its redemption, settled in full by the seller",
            ok=sold is not None
            and life.shortfall == sold[2] - sold[3]
            and sum(life.settlements) == life.shortfall
            and life.claim_state == "settled",
            detail=f"claim {_money(life.shortfall)}, settled in {len(life.settlements)} payments: "
            + ", ".join(_money(v) for v in life.settlements),
        ),
        Check(
            name="second obligation: Σ redeemed values == face; payouts + dust == paid",
            ok=account.redeemed_value == life.face
            and sum(r[3] for r in life.redemptions) + life.dust == life.paid == account.paid_out,
            detail=f"paid {_money(life.paid)} of {_money(life.face)}; payouts "
            f"{_money(sum(r[3] for r in life.redemptions))}, dust {life.dust} fen",
        ),
    ]


# Stage 7's refusals, the error each must be, by rule.
EXPECTED_REFUSALS = {
    "tenor": "TenorTooLong",
    "sme-term": "SmePaymentTermExceeded",
    "trade-background": "TradeBackgroundRequired",
}


def compliance_checks(run: Run) -> list[Check]:
    """Every tier-to-tier piece came with an attested invoice of the right parties; each invoice covered
    exactly what the payments citing it moved; each refusal of stage 7 was the right error and changed
    nothing."""
    c, comp = run.chain.client, run.summary.compliance
    checks: list[Check] = []
    policy, law = c.default_policy(), PolicySpec()  # the registry's policy; the configuration's defaults
    checks.append(
        Check(
            name="the deployment runs the default policy (2025 rules)",
            ok=policy.is_set
            and (policy.max_tenor_seconds, policy.long_tenor_seconds, policy.sme_payment_term_seconds)
            == (law.max_tenor_days * DAY, law.long_tenor_days * DAY, law.sme_payment_term_days * DAY)
            and policy.trade_background == law.trade_background,
            detail=f"max tenor {comp.max_tenor_days} d, long tenor {comp.long_tenor_days} d, "
            f"SME term {comp.sme_payment_term_days} d, trade background "
            f"{'required' if policy.trade_background else 'off'}",
        )
    )
    supplier_pieces = {
        p.token_id
        for p in run.pieces.values()
        if p.parent_id is not None and run.p(p.received_by).role == "SUPPLIER"
    }
    backed = {pay.piece_id for pay in comp.payments}
    wrong_parties = []
    for pay in comp.payments:
        doc = c.document(pay.document)
        parties = (doc.seller.lower(), doc.buyer.lower())
        if doc.attested_at == 0 or parties != (
            run.p(pay.receiver).address.lower(),
            run.p(pay.payer).address.lower(),
        ):
            wrong_parties.append(f"#{pay.piece_id}")
    checks.append(
        Check(
            name="every tier-to-tier payment cites an attested invoice (贸易背景)",
            ok=bool(backed) and backed == supplier_pieces and not wrong_parties,
            detail=f"{len(comp.payments)} payments, {len(supplier_pieces)} supplier pieces; "
            "seller = receiver, buyer = payer"
            if backed == supplier_pieces and not wrong_parties
            else f"unbacked {sorted(supplier_pieces - backed)}, wrong parties {wrong_parties}",
        )
    )
    off = []
    for invoice in comp.invoices:
        invoice.moved_value = moved_value(run, invoice.fingerprint)
        cited = sum(pay.value for pay in comp.payments if pay.document == invoice.fingerprint)
        if not invoice.moved_value == cited <= invoice.amount:
            off.append(
                f"{invoice.fingerprint[:10]}…: moved {_money(invoice.moved_value)}, paid {_money(cited)}"
            )
    checks.append(
        Check(
            name="each invoice's moved value == the payments citing it (≤ its amount)",
            ok=bool(comp.invoices) and not off,
            detail="; ".join(off)
            or f"{len(comp.invoices)} invoices, {_money(sum(i.moved_value for i in comp.invoices))} moved "
            f"of {_money(sum(i.amount for i in comp.invoices))} invoiced",
        )
    )
    by_rule = {r.rule: r for r in comp.refusals}
    for rule, error in EXPECTED_REFUSALS.items():
        refusal = by_rule.get(rule)
        checks.append(
            Check(
                name=f"{error} refused, state unchanged",
                ok=refusal is not None and refusal.error_name == error and refusal.unchanged,
                detail="not tried"
                if refusal is None
                else f"{refusal.error_name}; {refusal.unchanged_detail}",
            )
        )
    return checks


def _path(run: Run, token_id: int) -> list[int]:
    path = [token_id]
    while (parent := run.pieces[path[-1]].parent_id) is not None:
        path.append(parent)
    return path
