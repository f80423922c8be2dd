"""The SQL mirror: the indexer follows the same chain into a SQLite file beside the deployment, and the
demo compares what it says with the chain at two moments. Before maturity, the holder list of the
obligation; at the end (every piece burned), the lineage of every piece and a full `reconcile`.

The indexer is its own room and still moving; if it cannot run here the demo says so and goes on
(the accounting checks do not depend on it), but a database that disagrees with the chain fails.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from ledger.indexer import Indexer, reconcile
from ledger.indexer.db import make_engine, upgrade
from ledger.indexer.manifest import IndexedDeployment
from ledger.indexer.models import Financing
from ledger.indexer.queries import holders, lineage
from ledger.indexer.source import RpcSource
from ledger.regulatory import registrations

from .report import IndexReport, RegistrationLine
from .scenario import Run
from .settle import live_tokens

log = logging.getLogger(__name__)


@dataclass
class Mirror:
    engine: Engine
    source: RpcSource
    deployment: IndexedDeployment
    indexer: Indexer
    report: IndexReport

    def sync(self) -> None:
        stats = self.indexer.sync()
        self.report.events += stats.events

    def close(self) -> None:
        self.source.close()
        self.engine.dispose()


def open_mirror(run: Run) -> Mirror | None:
    url = f"sqlite:///{run.chain.settings.data_dir / 'index.sqlite'}"
    run.summary.index = IndexReport(database=url, events=0)
    try:
        engine = make_engine(url)
        upgrade(engine)
        deployment = IndexedDeployment.model_validate(run.chain.deployment.model_dump())
        source = RpcSource(run.chain.urls)
        indexer = Indexer(engine, source, deployment, run.chain.abis, max_reorg_depth=0)
    except Exception as exc:  # another room's code: report, do not crash the demo
        _skip(run, exc)
        return None
    return Mirror(engine, source, deployment, indexer, run.summary.index)


def _skip(run: Run, exc: Exception) -> None:
    log.warning("indexer comparison skipped error=%s", exc)
    assert run.summary.index is not None
    run.summary.index.error = f"{type(exc).__name__}: {exc}"


def compare_holders(run: Run, mirror: Mirror) -> None:
    """Holders of the obligation in the database == owners and values of live tokens on-chain."""
    c = run.chain.client
    try:
        mirror.sync()
        chain: dict[str, int] = defaultdict(int)
        for token in live_tokens(run):
            chain[c.owner_of(token).lower()] += c.balance_of(token)
        with Session(mirror.engine) as session:
            listing = holders(session, run.summary.slot)
        db = {h.owner.lower(): h.value for h in listing.holders} if listing else {}
        mirror.report.holders_match = db == dict(chain)
        if not mirror.report.holders_match:
            mirror.report.mismatches.append(f"holders: db={db} chain={dict(chain)}")
    except Exception as exc:
        _skip(run, exc)


def registration_records(run: Run, mirror: Mirror) -> None:
    """The 中登网 registration record of each financing, built by the regulator's export from the mirror,
    the parties named from the demo's own directory (legal name and USCC, as the operator files them)."""
    try:
        mirror.sync()
        directory = {p.address.lower(): (p.name, p.uscc) for p in run.parties.values()}
        with Session(mirror.engine) as session:
            offers = session.exec(select(Financing).where(col(Financing.status) == "financed")).all()
            found = [r for f in offers if (r := registrations.record(session, f, directory)) is not None]
        mirror.report.registrations = [
            RegistrationLine(
                offer_id=r.offer_id,
                transferor=f"{r.transferor.display_name()} ({r.transferor.uscc})",
                transferee=f"{r.transferee.display_name()} ({r.transferee.uscc})",
                obligor=r.property.obligor.display_name(),
                piece=r.property.financed_token_id,
                value=r.property.value,
                lineage=r.property.lineage,
                documents=len(r.property.documents),
                financing_amount=r.financing_amount,
                financing_date=r.financing_date,
                registration_number=r.registration_number,
            )
            for r in sorted(found, key=lambda r: r.offer_id)
        ]
    except Exception as exc:
        _skip(run, exc)


def compare_lineage_and_reconcile(run: Run, mirror: Mirror) -> None:
    try:
        mirror.sync()
        wrong: list[str] = []
        with Session(mirror.engine) as session:
            for piece in run.pieces.values():
                tree = lineage(session, piece.token_id)
                db_path = [piece.token_id, *(t.token_id for t in tree.ancestors)] if tree else []
                if db_path != piece.lineage_on_chain:
                    wrong.append(f"lineage #{piece.token_id}: db={db_path} chain={piece.lineage_on_chain}")
        mirror.report.lineage_match = not wrong
        mirror.report.mismatches += wrong
        mirror.report.mismatches += [
            str(m) for m in reconcile(mirror.engine, mirror.source, mirror.deployment)
        ]
    except Exception as exc:
        _skip(run, exc)
    finally:
        mirror.close()
