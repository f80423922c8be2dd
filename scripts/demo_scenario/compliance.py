"""Stage 7: the 2025 rules refusing what they forbid. The deployment runs its default policy (PBoC notice
Yinfa [2025] No. 77, State Council Decree No. 802); three moves it forbids are tried, each refused by the
contracts with a decoded error from `ledger.errors`, told in one sentence, and each leaves the chain as
it was:

(a) 超期限 over-tenor: an obligation maturing more than 365 days away, even with an agreed term and a
    justification code (TenorTooLong);
(b) 中小企业账期 SME payment term: the large core enterprise owing a small supplier more than 60 days after
    delivery, with no agreed contract term (SmePaymentTermExceeded);
(c) 贸易背景 trade background: a piece split to another supplier with no trade document
    (TradeBackgroundRequired).

The proposals cite documents attested here for the purpose: a second order of the tier-1 supplier, and
bearings tier-2 c delivered straight to the core enterprise (invoice and the carrier's delivery note).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from ledger.client import Terms
from ledger.client.compliance import SIZE_CLASS_ZH, SizeClass
from ledger.errors import ContractRevert
from oracles.documents import Invoice

from .issue import DemoFailure, attest_documents
from .paper import Paperwork, delivery_note, trade_invoice
from .quorum import Quorum
from .report import ComplianceRefusal
from .scenario import CURRENCY, DAY, MIN_UNIT, TENOR_JUSTIFICATION, Run, agreed_term_ref, hundreds
from .trade import moved_value

OVER_TENOR_DAYS = 400  # (a): past the 365-day maximum
SECOND_ORDER = 600_000_00  # (a): the tier-1 supplier's second order, due in 240 days
SECOND_ORDER_DUE_DAYS = 240
DIRECT_ORDER = 80_000_00  # (b): bearings delivered straight to the core enterprise
SME_TERM_DAYS = 90  # (b): the term the small supplier's invoice asks for, past the 60-day limit


def _money(minor: int) -> str:
    return f"{minor / 100:,.2f} {CURRENCY}"


def _days(seconds: object) -> str:
    """Seconds as days: "90", or "399.9" when not a whole number of days."""
    whole, rest = divmod(int(str(seconds)), DAY)
    return str(whole) if rest == 0 else f"{(whole * DAY + rest) / DAY:.1f}"


def _size(run: Run, key: str) -> str:
    label = run.summary.actor(key).size_class
    return SIZE_CLASS_ZH[SizeClass.UNCLASSIFIED if label is None else SizeClass.parse(label)]


def _name(run: Run, key: str) -> str:
    """The legal name without its note: "Huaxin Motors (core enterprise)" -> "Huaxin Motors"."""
    return run.p(key).name.split(" (")[0]


def _bytes32(fp: str) -> bytes:
    return bytes.fromhex(fp.removeprefix("0x"))


def comply(run: Run, quorum: Quorum, paper: Paperwork, paid: dict[str, int]) -> None:
    second_order, direct = attest_trade(run, quorum, paper)
    over_tenor(run, second_order)
    sme_term(run, direct)
    no_trade_background(run, paid)


def attest_trade(run: Run, quorum: Quorum, paper: Paperwork) -> tuple[str, list[str]]:
    """The documents the refused proposals cite, attested 2-of-3 like any other."""
    t1, t2c, core = run.p("t1"), run.p("t2c"), run.p("core")
    today = run.now_dt().date()
    second = trade_invoice(
        paper,
        run.rng,
        "invoice-t1-to-core-second-order",
        seller=t1.uscc,
        buyer=core.uscc,
        total=SECOND_ORDER,
        issued=today - timedelta(days=1),
        tenor_days=SECOND_ORDER_DUE_DAYS,
    )
    direct = trade_invoice(
        paper,
        run.rng,
        "invoice-t2c-to-core",
        seller=t2c.uscc,
        buyer=core.uscc,
        total=DIRECT_ORDER,
        issued=today - timedelta(days=1),
        tenor_days=SME_TERM_DAYS,
    )
    assert isinstance(direct.document, Invoice)
    note = delivery_note(paper, run.rng, direct.document, today - timedelta(days=2))
    fps = attest_documents(
        run,
        quorum,
        7,
        [
            (second, f"t1's invoice to core, second order {_money(SECOND_ORDER)}"),
            (direct, f"t2c's invoice to core, bearings {_money(DIRECT_ORDER)}"),
            (note, "carrier's delivery note, t2c to core"),
        ],
    )
    return fps[0], fps[1:]


def _proposal_state(run: Run, documents: list[str]) -> tuple[int, ...]:
    """What a refused proposal must not change: the last proposal id, and each document's use and cover."""
    c = run.chain.client
    last = int(c._view(c.issuance, "lastProposalId"))
    uses = [(c.document(fp).used_by_slot, moved_value(run, fp)) for fp in documents]
    return (last, *(n for use in uses for n in use))


def _refuse(
    run: Run,
    rule: str,
    expected: str,
    attempt: Callable[[], object],
    state: Callable[[], tuple[int, ...]],
    sentence: Callable[[ContractRevert], str],
    unchanged_detail: str,
) -> None:
    before = state()
    try:
        attempt()
    except ContractRevert as refused:
        if refused.error_name != expected:
            raise DemoFailure(f"{rule}: expected {expected}, the contracts said {refused}") from refused
        error = refused
    else:
        raise DemoFailure(f"{rule}: the contracts accepted what the policy forbids (expected {expected})")
    after = state()
    text = sentence(error)
    run.summary.compliance.refusals.append(
        ComplianceRefusal(
            rule=rule,
            sentence=text,
            error_name=error.error_name,
            error=str(error),
            unchanged=before == after,
            unchanged_detail=unchanged_detail if before == after else f"before {before}, after {after}",
        )
    )
    run.say(f"   ✗ {text}")


def over_tenor(run: Run, document: str) -> None:
    """(a) The tier-1 supplier proposes its second order at 400 days, agreed term and justification cited."""
    t1, core = run.p("t1"), run.p("core")
    maturity = run.now() + OVER_TENOR_DAYS * DAY
    terms = Terms(
        supplier=t1.address,
        obligor=core.address,
        currency=CURRENCY,
        face=SECOND_ORDER,
        maturity=maturity,
        min_unit=MIN_UNIT,
        documents=(_bytes32(document),),
        tenor_justification=TENOR_JUSTIFICATION,
        agreed_term_ref=agreed_term_ref(),
    )
    max_days = run.summary.compliance.max_tenor_days
    _refuse(
        run,
        "tenor",
        "TenorTooLong",
        lambda: run.chain.client.propose(t1.signer, terms),
        lambda: _proposal_state(run, [document]),
        lambda e: (
            f"超期限 over-tenor: {t1.name} proposes {_money(SECOND_ORDER)} at {OVER_TENOR_DAYS} days "
            f"(agreed term, code {TENOR_JUSTIFICATION}) → "
            f"{e.error_name}({_days(e.args_by_name['tenor'])} > {max_days} d)"
        ),
        "no proposal recorded; the invoice is unused",
    )


def sme_term(run: Run, documents: list[str]) -> None:
    """(b) Tier-2 c (small) proposes its direct delivery to the core enterprise (large) at 90 days after
    delivery, with no agreed contract term."""
    t2c, core, c = run.p("t2c"), run.p("core"), run.chain.client
    delivered = c.document(documents[1]).issue_date
    terms = Terms(
        supplier=t2c.address,
        obligor=core.address,
        currency=CURRENCY,
        face=DIRECT_ORDER,
        maturity=delivered + SME_TERM_DAYS * DAY,
        min_unit=MIN_UNIT,
        documents=tuple(_bytes32(fp) for fp in documents),
    )
    limit = run.summary.compliance.sme_payment_term_days
    _refuse(
        run,
        "sme-term",
        "SmePaymentTermExceeded",
        lambda: c.propose(t2c.signer, terms),
        lambda: _proposal_state(run, documents),
        lambda e: (
            f"中小企业账期: {_size(run, 'core')} {_name(run, 'core')} pays {_size(run, 't2c')} "
            f"{t2c.name} {SME_TERM_DAYS} d after delivery, no agreed term → "
            f"{e.error_name}({_days(e.args_by_name['term'])} > {limit} d)"
        ),
        "no proposal recorded; invoice and delivery note unused",
    )


def no_trade_background(run: Run, paid: dict[str, int]) -> None:
    """(c) Tier-2 c pays tier-3 b with a plain split: no document cited."""
    t2c, t3b, c = run.p("t2c"), run.p("t3b"), run.chain.client
    token = paid["t2c"]
    value = hundreds(c.balance_of(token) // 10)

    def state() -> tuple[int, ...]:
        last = int(c.token.functions.lastTokenId().call())
        owner = int(c.owner_of(token), 16)
        return (last, c.balance_of(token), owner)

    _refuse(
        run,
        "trade-background",
        "TradeBackgroundRequired",
        lambda: c.split(t2c.signer, token, t3b.address, value),
        state,
        lambda e: (
            f"贸易背景 trade background: {t2c.name} splits {_money(value)} of #{token} to {t3b.name} "
            f"with no invoice → {e.error_name}"
        ),
        f"no piece created; #{token} keeps its value and holder",
    )
