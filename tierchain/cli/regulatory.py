"""`tierchain report registrations|regulatory`: the regulator's exports from the indexed database.

`registrations` lists the 中登网 registration record of every financing settled in a period;
`regulatory` is the periodic report (数据报送), reconciled with the chain at the database's block.
Periods are Asia/Shanghai calendar days, `--from` and `--to` inclusive. `--csv FILE` writes UTF-8
CSV with a byte-order mark (Excel opens the Chinese headers right); `--json` prints JSON.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from ledger.config import load_network
from ledger.errors import TierchainError
from ledger.indexer.db import make_engine, upgrade
from ledger.indexer.manifest import load_manifest
from ledger.indexer.source import RpcSource
from ledger.localchain import rpc_urls
from ledger.regulatory import periodic, registrations
from ledger.regulatory.csvout import yuan
from ledger.regulatory.period import Period, PeriodError
from tierchain.cli.common import JsonOpt, console, emit_json, err_console, guarded, rows_table, settings

FromOpt = Annotated[
    str | None, typer.Option("--from", help="first day, YYYY-MM-DD (Asia/Shanghai), inclusive")
]
ToOpt = Annotated[str | None, typer.Option("--to", help="last day, YYYY-MM-DD (Asia/Shanghai), inclusive")]
CsvOpt = Annotated[
    Path | None, typer.Option("--csv", help="write the export as CSV (UTF-8 with BOM) to FILE")
]


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise TierchainError(f"{option} {text!r} is not a date: write YYYY-MM-DD, e.g. 2026-01-31") from exc


def _period(start: str | None, end: str | None) -> Period:
    try:
        return Period.of(_day(start, "--from"), _day(end, "--to"))
    except PeriodError as exc:
        raise TierchainError(str(exc)) from exc


def report_registrations(
    start: FromOpt = None, end: ToOpt = None, csv_file: CsvOpt = None, as_json: JsonOpt = False
) -> None:
    """中登网 registration records (应收账款转让) of every financing settled from --from to --to."""
    period = _period(start, end)
    built = settings()
    assert built.database_url is not None
    engine = make_engine(built.database_url)
    upgrade(engine)
    with Session(engine) as session:
        found = registrations.registrations(session, period)
    if csv_file is not None:
        csv_file.write_text(registrations.to_csv(found.records), encoding="utf-8")
        err_console.print(f"wrote {found.count} registration record(s) to {csv_file}")
    if as_json:
        emit_json(found)
        return
    if csv_file is None:
        rows = [
            {
                "offer": r.offer_id,
                "transferor": r.transferor.display_name(),
                "transferee": r.transferee.display_name(),
                "slot": r.property.slot,
                "piece": r.property.financed_token_id,
                "value": yuan(r.property.value),
                "price": yuan(r.financing_amount),
                "date": r.financing_date,
            }
            for r in found.records
        ]
        console.print(rows_table(f"registrations {found.period_from} .. {found.period_to}", rows))


def report_regulatory(
    start: FromOpt = None,
    end: ToOpt = None,
    csv_file: CsvOpt = None,
    as_json: JsonOpt = False,
    reconcile: Annotated[bool, typer.Option(help="compare the totals with the chain")] = True,
) -> None:
    """Periodic report (数据报送) from --from to --to: flows by core enterprise, tier and bank."""
    if start is None or end is None:
        raise TierchainError("the periodic report needs both --from and --to (YYYY-MM-DD)")
    period = _period(start, end)
    built = settings()
    assert built.database_url is not None
    engine = make_engine(built.database_url)
    upgrade(engine)
    source = deployment = None
    if reconcile:
        network = load_network(built)
        deployment = load_manifest(built, network.name)
        source = RpcSource(rpc_urls(network, built.data_dir))
    try:
        with Session(engine) as session:
            report = periodic.reconciled_report(session, period, source, deployment)
    finally:
        if source is not None:
            source.close()
    if csv_file is not None:
        csv_file.write_text(periodic.to_csv(report), encoding="utf-8")
        err_console.print(f"wrote the periodic report to {csv_file}")
    if as_json:
        emit_json(report)
    elif csv_file is None:
        _print(report)
    if report.reconciliation is not None and reconcile and not report.reconciliation.reconciled:
        raise TierchainError("the report does not reconcile with the chain: see the reconciliation checks")


def _print(report: periodic.PeriodicReport) -> None:
    def rows(lines: list[periodic.Line]) -> list[dict[str, object]]:
        return [
            {
                "key": line.key,
                "name": line.legal_name or "",
                **{f: f"{getattr(line, f).count} / {yuan(getattr(line, f).amount)}" for f in periodic.FLOWS},
            }
            for line in lines
        ]

    span = f"{report.period_from} .. {report.period_to} (Asia/Shanghai)"
    console.print(rows_table(f"by core enterprise, {span}: count / yuan", rows(report.by_core_enterprise)))
    console.print(rows_table("by tier", rows(report.by_tier)))
    console.print(rows_table("by bank", rows(report.by_bank)))
    console.print(rows_table("totals", rows([report.totals])))
    if report.reconciliation is not None:
        checks = [
            {"check": c.check, "db": str(c.db), "chain": str(c.chain), "ok": "yes" if c.ok else "NO"}
            for c in report.reconciliation.checks
        ]
        console.print(rows_table(f"reconciliation at block {report.reconciliation.at_block}", checks))


def register(app: typer.Typer) -> None:
    app.command("registrations")(guarded(report_registrations))
    app.command("regulatory")(guarded(report_regulatory))
