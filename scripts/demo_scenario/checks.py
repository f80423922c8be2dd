"""FINAL CHECKS: every minor unit accounted for, each figure read back from the chain.

A failed check does not stop the others: the run reports all of them and exits non-zero.
"""

from __future__ import annotations

from .report import Check
from .scenario import CURRENCY, Run
from .settle import live_tokens


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
        not off and len(s.financings) == 2,
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
    codes = {code for r in s.refusals for code in r.codes}
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
    return checks


def _path(run: Run, token_id: int) -> list[int]:
    path = [token_id]
    while (parent := run.pieces[path[-1]].parent_id) is not None:
        path.append(parent)
    return path
