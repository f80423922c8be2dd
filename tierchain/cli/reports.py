"""`tierchain report …`: read-only views from the indexer's database (`tierchain index run` fills it).

The same queries back the API's read routes; `--json` gives scripts the models as JSON.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import typer
from rich.tree import Tree
from sqlalchemy import Engine
from sqlmodel import Session

from ledger.errors import TierchainError
from ledger.indexer import queries
from ledger.indexer.db import make_engine, upgrade
from tierchain.cli import regulatory
from tierchain.cli.common import JsonOpt, address, console, emit_json, guarded, plain, rows_table, settings

report_app = typer.Typer(
    help="Reports from the indexed database (run `tierchain index run` first).", no_args_is_help=True
)


def _engine() -> Engine:
    built = settings()
    assert built.database_url is not None
    engine = make_engine(built.database_url)
    upgrade(engine)  # an empty or older database reads as "nothing indexed", not as an SQL error
    return engine


@report_app.command("holdings")
@guarded
def report_holdings(
    owner: Annotated[str, typer.Argument(metavar="ADDRESS")], as_json: JsonOpt = False
) -> None:
    """Live tokens held by ADDRESS, with their obligations' terms."""
    with Session(_engine()) as session:
        rows = queries.holdings(session, address(owner).lower())
    if as_json:
        emit_json(rows)
        return
    flat = [
        {
            "token": h.token.token_id,
            "slot": h.token.slot,
            "value": h.token.value,
            "obligor": h.obligor,
            "currency": h.currency_code,
            "maturity": date.fromtimestamp(h.maturity).isoformat() if h.maturity else None,
            "state": h.state,
            "frozen": "yes" if h.token.frozen else "",
        }
        for h in rows
    ]
    console.print(rows_table(f"holdings of {owner}", flat))


@report_app.command("lineage")
@guarded
def report_lineage(token_id: Annotated[int, typer.Argument()], as_json: JsonOpt = False) -> None:
    """TOKEN_ID's ancestors up to the root and its whole subtree, as a tree."""
    with Session(_engine()) as session:
        found = queries.lineage(session, token_id)
    if found is None:
        raise TierchainError(f"token {token_id} is not in the index")
    if as_json:
        emit_json(found)
        return
    console.print(_lineage_tree(found))


def _label(t: queries.TokenView, focus: int) -> str:
    flags = "".join((" [red]frozen[/red]" if t.frozen else "", " [dim]burned[/dim]" if t.burned else ""))
    name = f"[bold]#{t.token_id}[/bold]" if t.token_id == focus else f"#{t.token_id}"
    return f"{name} {t.value:,} → {t.owner}{flags}"


def _lineage_tree(found: queries.Lineage) -> Tree:
    """Root first: the ancestor path down to the token, then its descendants under it by parent."""
    focus = found.token.token_id
    chain = [*sorted(found.ancestors, key=lambda t: t.depth), found.token]
    tree = Tree(_label(chain[0], focus))
    node = tree
    for t in chain[1:]:
        node = node.add(_label(t, focus))
    nodes = {focus: node}
    for t in found.descendants:  # by depth, so every parent is placed before its children
        parent = nodes.get(t.parent_id or -1, node)
        nodes[t.token_id] = parent.add(_label(t, focus))
    return tree


@report_app.command("holders")
@guarded
def report_holders(slot: Annotated[int, typer.Argument()], as_json: JsonOpt = False) -> None:
    """Everyone holding a live piece of obligation SLOT, largest position first."""
    with Session(_engine()) as session:
        found = queries.holders(session, slot)
    if found is None:
        raise TierchainError(f"obligation {slot} is not in the index")
    if as_json:
        emit_json(found)
        return
    rows = [{"holder": h.owner, "value": h.value, "tokens": h.tokens} for h in found.holders]
    console.print(rows_table(f"holders of obligation {slot} (supply {found.supply:,})", rows))


@report_app.command("exposures")
@guarded
def report_exposures(
    by: Annotated[Literal["obligor", "bank", "tier"], typer.Option(help="group by")] = "obligor",
    as_json: JsonOpt = False,
) -> None:
    """Outstanding exposure by obligor, by bank, or by tier (depth in the supplier tree)."""
    rows: list[Any]
    with Session(_engine()) as session:
        if by == "obligor":
            rows = queries.exposure_by_obligor(session)
        elif by == "bank":
            rows = queries.exposure_by_bank(session)
        else:
            rows = queries.exposure_by_tier(session)
    if as_json:
        emit_json(rows)
        return
    console.print(rows_table(f"exposure by {by}", [plain(r) for r in rows]))


@report_app.command("calendar")
@guarded
def report_calendar(as_json: JsonOpt = False) -> None:
    """Obligations by maturity date, with what is paid and outstanding."""
    with Session(_engine()) as session:
        rows = queries.maturity_calendar(session)
    if as_json:
        emit_json(rows)
        return
    console.print(rows_table("maturity calendar", [plain(r) for r in rows]))


@report_app.command("book")
@guarded
def report_book(bank: Annotated[str, typer.Argument(metavar="BANK")], as_json: JsonOpt = False) -> None:
    """A bank's financing book: every offer, its price and what the financed piece is worth now."""
    with Session(_engine()) as session:
        rows = queries.financing_book(session, address(bank, "BANK").lower())
    if as_json:
        emit_json(rows)
        return
    columns = ["offer_id", "status", "token_id", "value", "price", "discount", "rate_bps", "day_count"]
    columns += ["obligor", "current_value", "redeemed"]
    console.print(rows_table(f"financing book of {bank}", [plain(r) for r in rows], columns))


regulatory.register(report_app)

__all__ = ["report_app"]
