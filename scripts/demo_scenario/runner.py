"""One demo run from an empty folder to the final checks, and the chain's life around it.

Everything lives in one data dir (a fresh temporary folder unless given): anvil's state and log, the
deployment manifest, the transaction journal, the oracle stores, the documents and the index
database. Without `keep` the chain is stopped and the folder removed at the end, whatever happened.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gen_documents import uscc

from ledger.config import NetworkConfig, Settings
from ledger.localchain import LocalChain

from .cast import ORACLES, cast
from .chain import deploy, start_chain
from .checks import final_checks
from .compliance import comply
from .govern import govern
from .indexed import compare_holders, compare_lineage_and_reconcile, open_mirror, registration_records
from .issue import attest, issue, reuse_invoice
from .lifecycle import lifecycle
from .market import financing_market
from .onboard import onboard, record_deployment
from .paper import make_paperwork
from .quorum import oracle_quorum
from .recovery import recover_lost_key
from .report import Check, Summary
from .scenario import CURRENCY, Plan, Run
from .settle import repay_and_redeem
from .trade import finance_two, freeze_and_release, pay_down

FACE = 1_000_000_00  # CNY 1,000,000.00 in fen


@dataclass(frozen=True)
class Options:
    project_root: Path
    seed: int = 7
    keep: bool = False
    index: bool = True
    data_dir: Path | None = None
    network: str = "local"  # a local network of chain_config/ (local-consortium: 2 s blocks, proxies)
    say: Callable[[str], None] = field(default=lambda _message: None)


@dataclass
class DemoRun:
    """The outcome, and (with `keep`) what is still running: the hook `--serve` builds on."""

    summary: Summary
    settings: Settings  # data_dir holds the manifest; database_url is the indexed database
    chain: LocalChain | None  # running only when kept


def run_demo(options: Options) -> DemoRun:
    started = time.monotonic()
    root = options.project_root.resolve()
    own_dir = options.data_dir is None
    data_dir = options.data_dir or Path(tempfile.mkdtemp(prefix="tierchain-demo-"))
    settings = Settings(
        project_root=root,
        data_dir=data_dir,
        build_dir=root / "build",
        database_url=f"sqlite:///{data_dir / 'index.sqlite'}",
    )
    say = options.say
    say(f"starting anvil, network {options.network} (state in {data_dir})")
    local, network = start_chain(root, data_dir, detach=options.keep, network_name=options.network)
    try:
        summary = _scenario(options, settings, local, network, say)
        summary.seconds = round(time.monotonic() - started, 2)
        summary.kept = options.keep
        return DemoRun(summary, settings, local if options.keep else None)
    finally:
        if not options.keep:
            local.stop()
            if own_dir:
                shutil.rmtree(data_dir, ignore_errors=True)


def _scenario(
    options: Options,
    settings: Settings,
    local: LocalChain,
    network: NetworkConfig,
    say: Callable[[str], None],
) -> Summary:
    assert network.anvil is not None
    rng = random.Random(options.seed)
    parties = cast(network.anvil.mnemonic, rng)
    say("compiling (cached) and deploying the contracts")
    chain = deploy(local, network, settings, parties["admin"].signer)
    summary = Summary(
        seed=options.seed,
        chain_url=local.rpc_urls[0],
        chain_id=chain.deployment.chain_id,
        contracts={name: c.address for name, c in chain.deployment.contracts.items()},
        face=FACE,
        currency=CURRENCY,
    )
    run = Run(chain, parties, summary, rng, Plan.draw(rng, FACE), say=say)
    say("1  registering participants")
    record_deployment(run)
    onboard(run)
    say("1  the operators carry one change through governance: propose, approve, queue, execute")
    govern(run)
    mirror = open_mirror(run) if options.index else None
    paper = make_paperwork(
        settings.data_dir / "documents",
        rng,
        run.now_dt(),
        seller=parties["t1"].uscc,
        buyer=parties["core"].uscc,
        carrier=uscc(rng),
        total=FACE,
        tenor_days=run.plan.tenor_days,
    )
    oracles = [parties[k] for k in ORACLES]
    oracle_dir = settings.data_dir / "oracles"
    with oracle_quorum(chain.client, chain.abis, oracles, paper.trust(), oracle_dir, run.now_dt()) as q:
        say("2  three oracle nodes verify the invoice and delivery note; the aggregator attests 2-of-3")
        attest(run, q, paper)
        say("3  tier 1 proposes, the core enterprise confirms")
        root_token = issue(run, paper)
        say("4  suppliers invoice their buyers; payments down the tree cite the attested invoices (贸易背景)")
        paid = pay_down(run, q, paper, root_token)
        say("5  two banks finance pieces")
        finance_two(run, paid)
        say("6  the same invoice, reprinted, offered again")
        reuse_invoice(run, q, paper)
        say(
            "7  the 2025 rules refuse a term past 365 days, an SME paid past 60 days, a split with no invoice"
        )
        comply(run, q, paper, paid)
        say("8  the regulator freezes a piece")
        freeze_and_release(run, paid)
        say(
            "10 a second obligation in bill mode: a payment refused (拒收), one accepted (签收) and "
            "financed with recourse; a bank refused above its limit; default, the bank's claim (追索), "
            "the seller's settlement"
        )
        lifecycle(run, q, paper)
        say("11 a supplier lost its key: onboarding asks, the court's officer approves and moves its pieces")
        recover_lost_key(run, network.anvil.mnemonic)
        say("12 tier 3 asks two banks for financing; each offers on the request; the better is accepted")
        financing_market(run, settings, network)
    if mirror is not None:
        say("   indexing: holders before maturity; 中登网 registration records of the financings")
        compare_holders(run, mirror)
        registration_records(run, mirror)
    say("9  maturity: repayment and redemption")
    repay_and_redeem(run)
    if mirror is not None:
        say("   indexing: lineage and reconcile")
        compare_lineage_and_reconcile(run, mirror)
    summary.pieces = [run.pieces[t] for t in sorted(run.pieces)]
    summary.checks = final_checks(run) + _index_checks(summary)
    summary.ok = all(c.ok or c.skipped for c in summary.checks)
    return summary


def _index_checks(summary: Summary) -> list[Check]:
    index = summary.index
    name = "indexer DB agrees with the chain (holders, lineage, reconcile)"
    if index is None:
        return [Check(name=name, ok=False, skipped=True, detail="not run (--no-index)")]
    if index.error is not None:
        return [Check(name=name, ok=False, skipped=True, detail=f"skipped: {index.error}")]
    ok = bool(index.holders_match and index.lineage_match and not index.mismatches)
    detail = f"{index.events} events indexed; reconcile found nothing" if ok else "; ".join(index.mismatches)
    recorded = {f.financed_token_id: f.registration_number for f in summary.financings}
    exported = {r.piece: r.registration_number for r in index.registrations}
    registered = bool(recorded) and exported == recorded and all(recorded.values())
    return [
        Check(name=name, ok=ok, detail=detail),
        Check(
            name="every financing has its 中登网 registration record, with the number its bank recorded",
            ok=registered,
            detail=f"{len(exported)} record(s) for {len(recorded)} financing(s)"
            if registered
            else f"exported {exported}, recorded {recorded}",
        ),
    ]
