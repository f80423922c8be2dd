"""Stage 9: the clock moves to maturity, the core enterprise repays the face, and every holder of a
live piece redeems it. The live pieces are found on-chain (every token id up to `lastTokenId`), not
from the scenario's own notes, so a piece the story forgot would still be redeemed and counted."""

from __future__ import annotations

from .report import CashLine
from .scenario import CURRENCY, Run


def live_tokens(run: Run) -> list[int]:
    c = run.chain.client
    last = int(c.token.functions.lastTokenId().call())
    return [t for t in range(1, last + 1) if c.exists(t)]


def snapshot_pieces(run: Run) -> None:
    """Owner, value and on-chain lineage of every live piece, just before anything is redeemed."""
    c = run.chain.client
    for token in live_tokens(run):
        lineage = list(c.lineage(token))
        if token not in run.pieces:  # not made by the story: record it under its on-chain parent
            run.add_piece(token, lineage[1] if len(lineage) > 1 else None, run.who(c.owner_of(token)))
        piece = run.pieces[token]
        piece.owner = run.who(c.owner_of(token))
        piece.value = c.balance_of(token)
        piece.lineage_on_chain = lineage


def repay_and_redeem(run: Run) -> None:
    c = run.chain.client
    run.chain.warp_to(run.summary.maturity)
    snapshot_pieces(run)
    deposit = c.deposit(run.p("core").signer, run.summary.slot, run.plan.face)
    run.record(
        9,
        f"core repays {deposit.amount / 100:,.2f} {CURRENCY} (state: repaid={deposit.repaid})",
        "core",
        deposit,
    )
    for token in live_tokens(run):
        holder = run.pieces[token].owner
        redeemed = c.redeem(run.p(holder).signer, token)
        run.record(9, f"{holder} redeems #{token}", holder, redeemed)
        run.pieces[token].payout = redeemed.payout
    tally_cash(run)


def tally_cash(run: Run) -> None:
    """Per party: financing received or paid, redemptions, repayment, and the balance now."""
    lines: dict[str, CashLine] = {line.actor: line for line in run.summary.cash}
    for deal in run.summary.financings:
        lines[deal.holder].financing_received += deal.price
        lines[deal.bank].financing_paid += deal.price
    for piece in run.pieces.values():
        if piece.payout is not None:
            lines[piece.owner].redeemed += piece.payout
    lines["core"].repaid += run.plan.face
    if (life := run.summary.lifecycle) is not None:  # stage 10's obligation: paid in part, then recourse
        lines["core"].repaid += life.paid
        lines["core"].dust_returned += life.dust
        for holder, _token, _value, payout in life.redemptions:
            lines[holder].redeemed += payout
        lines["bank_a"].recourse_received += sum(life.settlements)
        lines["t2a"].recourse_paid += sum(life.settlements)
    for key, line in lines.items():
        line.end = run.chain.client.cash_balance(CURRENCY, run.p(key).address)
