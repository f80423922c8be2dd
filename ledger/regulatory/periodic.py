"""The periodic report (数据报送): for a period of Asia/Shanghai days, what happened to vouchers —
issued, transferred, financed, repaid, overdue, defaulted — as counts and minor-unit amounts, by core
enterprise, by supply-chain tier and by bank, with grand totals and a reconciliation with the chain.

What each flow counts (an event belongs to the period by its block's timestamp):
- issued: obligations confirmed; amount = face; tier 1.
- transferred: value passing from one holder to another — a split to another party or a whole-token
  transfer — outside financings (counted under financed) and court-ordered transfers; amount = value
  moved; tier = the receiving piece's depth + 1.
- financed: accepted offers; amount = value bought (`financing_price` = the price paid); tier = the
  offered piece's depth + 1; bank = the buyer.
- repaid / overdue / defaulted: obligations that became fully repaid / were marked overdue / declared
  in default; amount = face (repaid) or what was unpaid at that moment. They are obligation-wide, so
  they have no tier; a bank line counts the obligations in which it had financed pieces by then, with
  the value it had bought in them as the amount.
Grand totals are the sums over core enterprises (each flow has exactly one).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from ledger.indexer.manifest import IndexedDeployment
from ledger.indexer.models import (
    Cursor,
    Event,
    Financing,
    ForcedTransfer,
    Obligation,
    Repayment,
    Token,
    Transfer,
)
from ledger.indexer.reconcile import ChainSlot, chain_slots
from ledger.indexer.source import RpcSource
from ledger.regulatory.csvout import render, yuan
from ledger.regulatory.directory import Directory, load_directory, party
from ledger.regulatory.period import Period

FLOWS = ("issued", "transferred", "financed", "repaid", "overdue", "defaulted")
FLOW_NAMES = {
    "issued": "签发",
    "transferred": "转让",
    "financed": "融资",
    "repaid": "兑付",
    "overdue": "逾期",
    "defaulted": "违约",
}
STATE_EVENTS = {
    "ObligationRepaid": "repaid",
    "ObligationOverdue": "overdue",
    "ObligationDefaulted": "defaulted",
}


class Flow(BaseModel):
    count: int = 0
    amount: int = Field(default=0, description="minor units")


class Line(BaseModel):
    """One row of a breakdown: a core enterprise, a tier or a bank (or the grand total)."""

    key: str = Field(description="address, tier number, or `total`")
    legal_name: str | None = None
    issued: Flow = Field(default_factory=Flow)
    transferred: Flow = Field(default_factory=Flow)
    financed: Flow = Field(default_factory=Flow)
    repaid: Flow = Field(default_factory=Flow)
    overdue: Flow = Field(default_factory=Flow)
    defaulted: Flow = Field(default_factory=Flow)
    financing_price: int = Field(
        default=0, description="price banks paid for what they financed, minor units"
    )

    def add(self, flow: str, amount: int, price: int = 0) -> None:
        f: Flow = getattr(self, flow)
        f.count += 1
        f.amount += amount
        self.financing_price += price


class Check(BaseModel):
    check: str
    db: int | dict[str, int]
    chain: int | dict[str, int] | None
    ok: bool


class Reconciliation(BaseModel):
    """The report's totals against the contracts, for the obligations with any flow in the period,
    read at the block the database is at."""

    at_block: int
    obligations: int = Field(description="obligations with a flow in the period")
    checks: list[Check]
    reconciled: bool
    skipped: str | None = Field(default=None, description="why the chain was not read, if it was not")


class PeriodicReport(BaseModel):
    period_from: str = Field(description="first day (Asia/Shanghai), or `start`")
    period_to: str = Field(description="last day (Asia/Shanghai), or `head`")
    timezone: str = "Asia/Shanghai"
    by_core_enterprise: list[Line]
    by_tier: list[Line]
    by_bank: list[Line]
    totals: Line
    reconciliation: Reconciliation | None = None


@dataclass
class _Tally:
    core: dict[str, Line]
    tier: dict[int, Line]
    bank: dict[str, Line]
    slots: set[int]
    issued_slots: set[int]

    def add(
        self,
        flow: str,
        slot: int,
        core: str,
        amount: int,
        *,
        tier: int | None,
        bank: str | None,
        price: int = 0,
    ) -> None:
        self.slots.add(slot)
        self.core.setdefault(core, Line(key=core)).add(flow, amount, price)
        if tier is not None:
            self.tier.setdefault(tier, Line(key=str(tier))).add(flow, amount, price)
        if bank is not None:
            self.bank.setdefault(bank, Line(key=bank)).add(flow, amount, price)


def _timestamps(session: Session, period: Period) -> dict[int, int]:
    """Block timestamps of the token moves in the period, by event id."""
    rows = session.exec(
        select(Event.id, Event.block_timestamp)
        .join(Transfer, col(Transfer.event_id) == col(Event.id))
        .where(col(Event.block_timestamp) >= period.since, col(Event.block_timestamp) < period.until)
    ).all()
    return {int(i): int(t) for i, t in rows if i is not None}


def _transfers(session: Session, period: Period, tally: _Tally, stamps: dict[int, int]) -> None:
    """Replay ownership and value moves in chain order; count those between different holders."""
    excluded = {
        e.tx_hash
        for e in session.exec(
            select(Event).where(col(Event.contract) == "FinancingDesk", col(Event.name) == "Financed")
        ).all()
    }
    excluded |= set(session.exec(select(ForcedTransfer.tx_hash)).all())
    tokens = {t.token_id: t for t in session.exec(select(Token)).all()}
    obligors = dict(session.exec(select(Obligation.slot, Obligation.obligor)).all())
    owner: dict[int, str] = {}
    value: dict[int, int] = defaultdict(int)

    def count(token_id: int, amount: int, row: Transfer) -> None:
        token = tokens.get(token_id)
        if token is None or row.tx_hash in excluded or not period.contains(stamps.get(row.event_id, -1)):
            return
        tally.add(
            "transferred", token.slot, obligors.get(token.slot, "?"), amount, tier=token.depth + 1, bank=None
        )

    rows = session.exec(select(Transfer).order_by(col(Transfer.block_number), col(Transfer.log_index))).all()
    for row in rows:
        if row.kind == "mint" and row.token_id is not None and row.to_address is not None:
            owner[row.token_id] = row.to_address
        elif row.kind == "transfer" and row.token_id is not None and row.to_address is not None:
            count(row.token_id, value[row.token_id], row)
            owner[row.token_id] = row.to_address
        elif row.kind == "value":
            source, target, moved = row.from_token_id or 0, row.to_token_id or 0, row.value or 0
            if source and target and owner.get(source) != owner.get(target):
                count(target, moved, row)
            if source:
                value[source] -= moved
            if target:
                value[target] += moved


def _financings(session: Session, period: Period, tally: _Tally) -> list[Financing]:
    done = list(
        session.exec(
            select(Financing)
            .where(col(Financing.status) == "financed")
            .order_by(col(Financing.closed_block), col(Financing.offer_id))
        ).all()
    )
    for f in done:
        offered = session.get(Token, f.token_id)
        if offered is None or not period.contains(f.financed_at or -1):
            continue
        core = session.get(Obligation, offered.slot)
        tally.add(
            "financed",
            offered.slot,
            core.obligor if core else "?",
            f.value,
            tier=offered.depth + 1,
            bank=f.bank,
            price=f.price or 0,
        )
    return done


def _states(session: Session, period: Period, tally: _Tally, financed: list[Financing]) -> None:
    events = session.exec(
        select(Event)
        .where(col(Event.contract) == "RepaymentDesk", col(Event.name).in_(list(STATE_EVENTS)))
        .order_by(col(Event.block_number), col(Event.log_index))
    ).all()
    deposits = session.exec(select(Repayment)).all()
    slot_of = {t.token_id: t.slot for t in session.exec(select(Token)).all()}
    for e in events:
        if not period.contains(e.block_timestamp):
            continue
        slot = int(e.args["slot"])
        obligation = session.get(Obligation, slot)
        if obligation is None:
            continue
        flow = STATE_EVENTS[e.name]
        paid = sum(
            d.amount
            for d in deposits
            if d.slot == slot and (d.block_number, d.log_index) < (e.block_number, e.log_index)
        )
        amount = obligation.face if flow == "repaid" else max(obligation.face - paid, 0)
        tally.add(flow, slot, obligation.obligor, amount, tier=None, bank=None)
        bought: dict[str, int] = defaultdict(int)
        for f in financed:
            piece = f.financed_token_id
            if piece is not None and slot_of.get(piece) == slot and (f.closed_block or 0) <= e.block_number:
                bought[f.bank] += f.value
        for bank, held in bought.items():
            tally.bank.setdefault(bank, Line(key=bank)).add(flow, held)


def _named(lines: dict[str, Line], directory: Directory) -> list[Line]:
    for line in lines.values():
        line.legal_name = party(directory, line.key).legal_name
    return [lines[k] for k in sorted(lines)]


def periodic_report(session: Session, period: Period) -> tuple[PeriodicReport, set[int], set[int]]:
    """The report (without its reconciliation), the slots with a flow in the period and those issued in it."""
    tally = _Tally({}, {}, {}, set(), set())
    for o in session.exec(select(Obligation).order_by(col(Obligation.slot))).all():
        if period.contains(o.issued_at):
            tally.issued_slots.add(o.slot)
            tally.add("issued", o.slot, o.obligor, o.face, tier=1, bank=None)
    stamps = _timestamps(session, period)
    _transfers(session, period, tally, stamps)
    financed = _financings(session, period, tally)
    _states(session, period, tally, financed)
    totals = Line(key="total")
    for line in tally.core.values():
        for flow in FLOWS:
            mine: Flow = getattr(line, flow)
            total: Flow = getattr(totals, flow)
            total.count += mine.count
            total.amount += mine.amount
        totals.financing_price += line.financing_price
    directory = load_directory(session.connection())
    report = PeriodicReport(
        period_from=period.first,
        period_to=period.last,
        by_core_enterprise=_named(tally.core, directory),
        by_tier=[tally.tier[t] for t in sorted(tally.tier)],
        by_bank=_named(tally.bank, directory),
        totals=totals,
    )
    return report, tally.slots, tally.issued_slots


def cursor_block(session: Session) -> int:
    cursor = session.exec(select(Cursor)).first()
    return cursor.block_number if cursor is not None else 0


def reconciliation(
    session: Session,
    report: PeriodicReport,
    slots: set[int],
    issued: set[int],
    chain: dict[int, ChainSlot],
    at_block: int,
) -> Reconciliation:
    """Compare the report and the indexer with the chain's view of the same obligations."""
    rows = [o for s in sorted(slots) if (o := session.get(Obligation, s)) is not None]
    checks: list[Check] = []

    def check(name: str, db: int | dict[str, int], on_chain: int | dict[str, int]) -> None:
        checks.append(Check(check=name, db=db, chain=on_chain, ok=db == on_chain))

    check(
        "issued.amount = Σ face on chain of obligations issued in the period",
        report.totals.issued.amount,
        sum(chain[s].face for s in sorted(issued) if s in chain),
    )
    check("obligations in the period found on chain", len(rows), sum(1 for o in rows if o.slot in chain))
    check("Σ face", sum(o.face for o in rows), sum(chain[o.slot].face for o in rows if o.slot in chain))
    check("Σ supply", sum(o.supply for o in rows), sum(chain[o.slot].supply for o in rows if o.slot in chain))
    check(
        "Σ paid to date", sum(o.paid for o in rows), sum(chain[o.slot].paid for o in rows if o.slot in chain)
    )
    db_states: dict[str, int] = defaultdict(int)
    chain_states: dict[str, int] = defaultdict(int)
    for o in rows:
        db_states[o.state] += 1
        if o.slot in chain:
            chain_states[chain[o.slot].state] += 1
    check("obligations by state", dict(sorted(db_states.items())), dict(sorted(chain_states.items())))
    return Reconciliation(
        at_block=at_block, obligations=len(rows), checks=checks, reconciled=all(c.ok for c in checks)
    )


HEADERS = [
    "维度(dimension)",
    "键(key)",
    "名称(legal_name)",
    "业务(flow)",
    "笔数(count)",
    "金额分(amount_minor)",
    "金额元(amount_yuan)",
    "数据库值(db_value)",
    "链上值(chain_value)",
]


def to_csv(report: PeriodicReport) -> str:
    """One row per (dimension, key, flow); financing price and the reconciliation follow as rows."""
    rows: list[list[object]] = []
    sections = (
        ("核心企业(core_enterprise)", report.by_core_enterprise),
        ("层级(tier)", report.by_tier),
        ("银行(bank)", report.by_bank),
        ("合计(total)", [report.totals]),
    )
    for dimension, lines in sections:
        for line in lines:
            name = line.legal_name or ""
            for flow in FLOWS:
                f: Flow = getattr(line, flow)
                rows.append(
                    [
                        dimension,
                        line.key,
                        name,
                        f"{FLOW_NAMES[flow]}({flow})",
                        f.count,
                        f.amount,
                        yuan(f.amount),
                    ]
                )
            if line.financing_price:
                rows.append(
                    [
                        dimension,
                        line.key,
                        name,
                        "融资价款(financing_price)",
                        "",
                        line.financing_price,
                        yuan(line.financing_price),
                    ]
                )
    if report.reconciliation is not None:
        for c in report.reconciliation.checks:
            rows.append(
                [
                    "对账(reconciliation)",
                    c.check,
                    "一致(ok)" if c.ok else "不一致(mismatch)",
                    "",
                    "",
                    "",
                    "",
                    str(c.db),
                    str(c.chain),
                ]
            )
    return render(HEADERS, rows)


def reconciled_report(
    session: Session, period: Period, source: RpcSource | None, deployment: IndexedDeployment | None
) -> PeriodicReport:
    """The report with its reconciliation at the database's block (skipped, saying so, without a chain)."""
    report, slots, issued = periodic_report(session, period)
    block = cursor_block(session)
    if source is None or deployment is None:
        report.reconciliation = Reconciliation(
            at_block=block, obligations=len(slots), checks=[], reconciled=False, skipped="no chain to read"
        )
        return report
    chain = chain_slots(source, deployment, block, sorted(slots)) if slots else {}
    report.reconciliation = reconciliation(session, report, slots, issued, chain, block)
    return report
