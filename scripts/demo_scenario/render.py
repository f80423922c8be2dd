"""The summary on a terminal, with rich: transactions, the lineage tree, who was paid what, checks."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from ledger.client.compliance import SIZE_CLASS_ZH, SizeClass

from .report import Piece, Summary

STAGES = {
    1: "onboard",
    2: "attest",
    3: "issue",
    4: "pay tiers",
    5: "finance",
    6: "reuse",
    7: "comply",
    8: "freeze",
    9: "settle",
    10: "bill",
    11: "recover",
    12: "market",
}


def money(minor: int | None) -> str:
    return "—" if minor is None else f"{minor / 100:,.2f}"


def short(value: str, head: int = 8, tail: int = 4) -> str:
    return value if len(value) <= head + tail + 1 else f"{value[:head]}…{value[-tail:]}"


def day(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


def participants(s: Summary) -> Table:
    table = Table(title="Participants", title_justify="left", expand=False)
    for column in ("key", "name", "role", "tier", "size 企业划型", "address", "USCC (legal id)"):
        table.add_column(column)
    for a in s.actors:
        tier = "" if a.tier is None else ("obligor" if a.tier == 0 else str(a.tier))
        size = (
            "" if a.size_class is None else f"{SIZE_CLASS_ZH[SizeClass.parse(a.size_class)]} {a.size_class}"
        )
        table.add_row(a.key, a.name, a.role, tier, size, short(a.address), a.uscc)
    return table


def steps(s: Summary) -> Table:
    table = Table(title="Transactions", title_justify="left", show_footer=True)
    table.add_column("stage")
    table.add_column("action", footer=f"{len(s.steps)} transactions")
    table.add_column("by")
    table.add_column("tx")
    table.add_column("block", justify="right")
    table.add_column("gas used", justify="right", footer=f"{sum(x.gas_used for x in s.steps):,}")
    for x in s.steps:
        table.add_row(
            f"{x.step} {STAGES[x.step]}",
            x.action,
            x.actor,
            short(x.tx_hash, 10, 4),
            str(x.block),
            f"{x.gas_used:,}",
        )
    return table


def financings(s: Summary) -> Table:
    table = Table(title="Financing (DvP)", title_justify="left")
    for column in ("bank", "seller", "piece", "value", "rate", "basis", "days", "price paid", "discount"):
        table.add_column(
            column, justify="right" if column in ("value", "days", "price paid", "discount") else "left"
        )
    for f in s.financings:
        table.add_row(
            f.bank,
            f.holder,
            f"#{f.financed_token_id}",
            money(f.value),
            f"{f.rate_bps / 100:.2f}%",
            f.day_count,
            str(f.days),
            money(f.price),
            money(f.discount),
        )
    return table


def registrations(s: Summary) -> Table:
    table = Table(
        title="中登网 registration records (应收账款转让登记) of the financings", title_justify="left"
    )
    for column in ("offer", "出让人 transferor", "受让人 transferee", "债务人 obligor", "piece", "lineage"):
        table.add_column(column)
    for column in ("value", "融资金额", "date"):
        table.add_column(column, justify="right" if column != "date" else "left")
    table.add_column("登记编号", no_wrap=True, min_width=20)
    lines = s.index.registrations if s.index is not None else []
    for r in lines:
        table.add_row(
            str(r.offer_id),
            r.transferor,
            r.transferee,
            r.obligor,
            f"#{r.piece}",
            ">".join(f"#{t}" for t in r.lineage),
            money(r.value),
            money(r.financing_amount),
            r.financing_date,
            r.registration_number or "—",
        )
    if not lines:
        table.caption = "not built: the indexer did not run (--no-index)"
    return table


def refusals(s: Summary) -> Panel:
    lines = [Text.assemble(("refused: ", "bold red"), r.what, "\n  ", (r.detail, "dim")) for r in s.refusals]
    if (g := s.governance) is not None:
        lines.insert(
            0,
            Text.assemble(
                ("governed: ", "bold cyan"),
                f"proposal #{g.proposal_id} {g.action} — {g.state}",
                "\n  ",
                (
                    f"{g.approvals} of {g.needed} seats approved; {g.delay_seconds} s in the timelock "
                    "(the local network's delays are zero; besu-qbft waits 48 h for a role grant)",
                    "dim",
                ),
            ),
        )
    lines += [
        Text.assemble(
            ("frozen: ", "bold cyan"),
            f"#{f.token_id} (tx {short(f.frozen_tx, 10, 4)}); transfer attempt reverted ",
            (f.refused_transfer, "red"),
            f"; unfrozen in tx {short(f.unfrozen_tx, 10, 4)}",
        )
        for f in s.freezes
    ]
    return Panel(Group(*lines), title="Refused as designed", title_align="left")


def compliance(s: Summary) -> Panel:
    """The policy in force, the agreed term the obligation cites, each invoice between suppliers and
    what payments it covered, and stage 7's refusals, one sentence each."""
    comp = s.compliance
    lines = [
        Text.assemble(
            ("policy: ", "bold cyan"),
            f"max tenor {comp.max_tenor_days} days (above {comp.long_tenor_days} a justification code); "
            f"large buyer pays an SME within {comp.sme_payment_term_days} days of delivery unless a contract "
            f"term is agreed; trade background {'required' if comp.trade_background else 'not required'} "
            "for moves between suppliers",
        )
    ]
    if comp.agreed_term:
        lines.append(
            Text.assemble(
                ("agreed term 约定账期: ", "bold cyan"),
                f"slot {s.slot} cites {comp.agreed_term}: {comp.agreed_term_text} ",
                (f"(agreedTermRef {short(comp.agreed_term_ref, 10, 6)} = keccak256 of the clause)", "dim"),
            )
        )
    for invoice in comp.invoices:
        cited = [p for p in comp.payments if p.document == invoice.fingerprint]
        pieces = ", ".join(f"#{p.piece_id} {money(p.value)}" for p in cited) or "no payment"
        lines.append(
            Text.assemble(
                ("贸易背景 ", "bold cyan"),
                f"{invoice.seller} invoiced {invoice.buyer} {money(invoice.amount)} ",
                (f"({short(invoice.fingerprint, 10, 4)})", "dim"),
                f": {invoice.buyer} paid {invoice.seller} {pieces}; ",
                f"moved on chain {money(invoice.moved_value)}",
            )
        )
    lines += [Text.assemble(("✗ ", "bold red"), r.sentence) for r in comp.refusals]
    return Panel(Group(*lines), title="Compliance (2025 rules) 合规", title_align="left")


def bill_lifecycle(s: Summary) -> Panel | None:
    """Stage 10, the bill-mode obligation, in the order things happened."""
    life = s.lifecycle
    if life is None:
        return None
    redeemed = ", ".join(f"{h} #{t}: {money(p)} for {money(v)}" for h, t, v, p in life.redemptions)
    lines = [
        Text.assemble(
            ("bill mode: ", "bold cyan"),
            f"obligation {life.slot}, {money(life.face)} {s.currency}, {life.tenor_days} days; "
            f"payments wait up to {life.acceptance_window_days} days for acceptance (待签收)",
        ),
        Text.assemble(
            ("拒收 ", "bold red"),
            f"#{life.refused_token_id} ({money(life.refused_value)}) refused, merged back into "
            f"#{life.returned_into}: tier 1 held {money(life.t1_after_return)} again",
        ),
        Text.assemble(
            ("签收 ", "bold green"), f"#{life.accepted_token_id} ({money(life.accepted_value)}) accepted"
        ),
        Text.assemble(
            ("追索 ", "bold cyan"),
            f"default after {money(life.paid)} paid; the bank's claim {money(life.shortfall)} "
            f"settled in {len(life.settlements)} payments ({life.claim_state})",
        ),
        Text.assemble(("redeemed: ", "bold"), redeemed, f"; dust {life.dust} fen to the obligor"),
    ]
    return Panel(Group(*lines), title="Bill-grade lifecycle (stage 10)", title_align="left")


def key_recovery(s: Summary) -> Panel | None:
    """Stage 11, the supplier's lost key: who asked, who approved, what moved."""
    r = s.recovery
    if r is None:
        return None
    moved = ", ".join(f"#{t}" for t in r.token_ids)
    lines = [
        Text.assemble(("case ", "bold cyan"), f"{r.case}: {r.supplier} {r.lost} → new key {r.replacement}"),
        Text.assemble(
            ("moved ", "bold green"),
            f"{moved} ({money(r.value)} {s.currency}): same ids, values and lineage"
            if r.kept
            else f"{moved}: NOT kept whole",
        ),
        Text.assemble(
            ("record ", "bold"),
            "legal id, role and size class now at the new key" if r.record_moved else "NOT moved",
        ),
        Text.assemble(("✗ ", "bold red"), f"a payment to the lost key: {r.lost_refusal or 'not refused'}"),
    ]
    return Panel(Group(*lines), title="Lost-key recovery 密钥遗失恢复 (stage 11)", title_align="left")


def market(s: Summary) -> Panel | None:
    """Stage 12, the financing request and its two offers side by side."""
    m = s.market
    if m is None:
        return None
    lines = [
        Text.assemble(
            ("融资申请 ", "bold cyan"),
            f"request {m.request_id}: {m.holder} asks two banks to finance {money(m.asked)} {s.currency} "
            f"of #{m.token_id}",
        )
    ]
    for o in m.offers:
        mark = ("✓ accepted ", "bold green") if o.offer_id == m.accepted_offer_id else ("  lapsed ", "dim")
        lines.append(
            Text.assemble(mark, f"{o.bank}: offer {o.offer_id} at {o.rate_bps} bps, price {money(o.price)}")
        )
    lines.append(Text.assemble(("request ", "bold"), m.status))
    return Panel(Group(*lines), title="Financing request (stage 12)", title_align="left")


def _label(s: Summary, p: Piece) -> Text:
    holder = s.actor(p.owner)
    text = Text.assemble((f"tier {p.tier} ", "bold"), f"#{p.token_id}  ", (holder.name, "green"))
    if p.received_by != p.owner:
        text.append(f"  (paid to {s.actor(p.received_by).name})", "dim")
    text.append(f"  {money(p.value)}")
    if p.financed_by is not None:
        deal = next(f for f in s.financings if f.financed_token_id == p.token_id)
        text.append(
            f"  [financed by {deal.bank}: {deal.rate_bps} bps {deal.day_count}, paid {money(deal.price)}]",
            "yellow",
        )
    if p.frozen_once:
        text.append("  [frozen, then released]", "cyan")
    if p.payout is not None:
        text.append(f"  → redeemed {money(p.payout)}", "magenta")
    return text


def lineage(s: Summary) -> Tree:
    core = s.actor("core")
    tree = Tree(
        Text.assemble(
            ("Obligation ", "bold"),
            f"slot {s.slot}: {core.name} owes {money(s.face)} {s.currency}, due {day(s.maturity)}",
            (f" · agreed term {s.compliance.agreed_term}" if s.compliance.agreed_term else "", "dim"),
        )
    )
    children: dict[int | None, list[Piece]] = {}
    for p in sorted(s.pieces, key=lambda p: p.token_id):
        children.setdefault(p.parent_id, []).append(p)

    def grow(node: Tree, parent: int | None) -> None:
        for p in children.get(parent, []):
            grow(node.add(_label(s, p)), p.token_id)

    grow(tree, None)
    return tree


def cash(s: Summary) -> Table:
    table = Table(title=f"Who was paid what ({s.currency})", title_justify="left", show_footer=True)
    columns = (
        "party",
        "financing received",
        "financing paid",
        "redeemed",
        "repaid",
        "recourse",
        "net change",
        "balance",
        "",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "party" else "right")
    moved = [c for c in s.cash if c.end != c.start or c.financing_received or c.redeemed]
    for c in moved:
        table.add_row(
            s.actor(c.actor).name,
            money(c.financing_received or None),
            money(c.financing_paid or None),
            money(c.redeemed or None),
            money(c.repaid or None),
            money((c.recourse_received - c.recourse_paid) or None),
            money(c.end - c.start),
            money(c.end),
            "✓" if c.end == c.expected_end else "✗",
        )
    table.columns[3].footer = money(sum(c.redeemed for c in s.cash))
    table.columns[4].footer = money(sum(c.repaid for c in s.cash))
    table.columns[6].footer = money(sum(c.end - c.start for c in s.cash))
    return table


def checks(s: Summary) -> Table:
    table = Table(title="FINAL CHECKS", title_justify="left", title_style="bold")
    table.add_column("")
    table.add_column("check")
    table.add_column("detail")
    for c in s.checks:
        mark = ("SKIP", "yellow") if c.skipped else (("PASS", "green") if c.ok else ("FAIL", "bold red"))
        table.add_row(Text(*mark), c.name, c.detail)
    return table


def verdict(s: Summary) -> Text:
    failed = [c.name for c in s.checks if not (c.ok or c.skipped)]
    if failed:
        return Text(f"FAILED: {len(failed)} check(s): {'; '.join(failed)}", "bold red")
    passed = sum(1 for c in s.checks if c.ok)
    return Text(
        f"ALL {passed} CHECKS PASSED - {len(s.steps)} transactions in {s.seconds:.1f} s", "bold green"
    )


def render(console: Console, s: Summary) -> None:
    token = s.contracts["ReceivableToken"]
    heading = f"chain {s.chain_url} (id {s.chain_id}) · seed {s.seed} · ReceivableToken {token}"
    console.print(Panel(heading, title="Tierchain multi-tier demo", title_align="left"))
    parts = (
        participants(s),
        steps(s),
        financings(s),
        registrations(s),
        compliance(s),
        refusals(s),
        bill_lifecycle(s),
        key_recovery(s),
        market(s),
        lineage(s),
        cash(s),
        checks(s),
    )
    for part in parts:
        if part is None:
            continue
        console.print(part)
        console.print()
    if s.index is not None and s.index.error is None:
        where = s.index.database if s.kept else "a temporary SQLite database"
        console.print(Text(f"indexer: {s.index.events} events in {where}", "dim"))
    console.print(verdict(s))
