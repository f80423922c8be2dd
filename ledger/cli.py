"""The `tierchain` command line: operator entry points over the ledger modules.

Settings are built once here, at the edge, and handed to the modules; commands stay thin.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated
from urllib.parse import urlparse

import typer
from rich.console import Console
from rich.table import Table

from ledger.compile import compile_contracts
from ledger.config import Settings, load_network
from ledger.errors import ConfigError, TierchainError
from ledger.indexer.cli import app as indexer_app
from ledger.localchain import LocalChain, read_run_info, stop_recorded
from oracles.cli import app as oracle_app

app = typer.Typer(help="Tierchain: multi-tier supply-chain receivables ledger.", no_args_is_help=True)
chain_app = typer.Typer(help="Run the local development chain (anvil).", no_args_is_help=True)
app.add_typer(chain_app, name="chain")
bench_app = typer.Typer(help="Benchmarks on a throwaway local chain.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
app.add_typer(oracle_app, name="oracle")
app.add_typer(indexer_app, name="index")
console = Console()


def _settings() -> Settings:
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    return settings


def _fail(exc: TierchainError) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(code=1)


@chain_app.command("up")
def chain_up(
    port: Annotated[
        int | None, typer.Option(help="port; default: the port of the network's first RPC URL")
    ] = None,
) -> None:
    """Start anvil in the background; it keeps running after this command returns."""
    settings = _settings()
    try:
        network = load_network(settings, "local")
        if network.anvil is None:
            raise ConfigError("chain_config/local.toml: anvil: missing [anvil] table")
        running = read_run_info(settings.data_dir)
        if running is not None:
            console.print(f"already running: pid {running.pid} at {running.url}")
            return
        chosen = port or urlparse(network.rpc_urls[0]).port
        chain = LocalChain(network.anvil, settings.project_root, settings.data_dir, port=chosen, detach=True)
        chain.start()
    except TierchainError as exc:
        raise _fail(exc) from exc
    console.print(f"anvil up at {chain.url} (state {chain.state_file}, log {chain.log_file})")


@chain_app.command("down")
def chain_down() -> None:
    """Stop the chain `chain up` started; anvil writes its state file on the way out."""
    settings = _settings()
    info = stop_recorded(settings.data_dir)
    console.print(f"stopped pid {info.pid}" if info else "no local chain running")


@chain_app.command("status")
def chain_status() -> None:
    settings = _settings()
    info = read_run_info(settings.data_dir)
    if info is None:
        console.print("no local chain running")
        raise typer.Exit(code=1)
    console.print(f"running: pid {info.pid} at {info.url}, state {info.state_file}")


@app.command("compile")
def compile_cmd(force: Annotated[bool, typer.Option(help="ignore the cache")] = False) -> None:
    """Compile contracts/ into build/artifacts (skipped when nothing changed)."""
    settings = _settings()
    try:
        result = compile_contracts(settings.project_root, settings.build_dir, force=force)
    except TierchainError as exc:
        raise _fail(exc) from exc
    state = "cached" if result.cached else "compiled"
    console.print(f"{state}: {len(result.artifacts)} contracts, source hash {result.source_hash[:12]}")


@app.command("deploy")
def deploy_cmd(
    network: Annotated[str | None, typer.Option(help="network name; default: TIERCHAIN_NETWORK")] = None,
    fresh: Annotated[bool, typer.Option(help="deploy a new system even if a manifest exists")] = False,
) -> None:
    """Deploy and wire the contracts, or verify the recorded deployment (compiles if needed)."""
    from ledger.deploy import deploy_from_settings

    settings = _settings()
    try:
        outcome = deploy_from_settings(settings, network, fresh=fresh)
    except TierchainError as exc:
        raise _fail(exc) from exc
    d = outcome.deployment
    console.print(
        f"{outcome.status}: {d.network} (chain {d.chain_id}) from block {d.deploy_block}, "
        f"{outcome.transactions} transactions; manifest {outcome.manifest}"
    )
    for name, contract in d.contracts.items():
        console.print(f"  {name:<22} {contract.address}")


@bench_app.command("gas")
def bench_gas_cmd(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Gas of each operation from real receipts on a fresh anvil, beside its target."""
    from ledger.bench_gas import run_bench

    settings = _settings()
    try:
        figures = run_bench(settings.project_root, settings.build_dir)
    except TierchainError as exc:
        raise _fail(exc) from exc
    if as_json:
        typer.echo(json.dumps({name: f.as_json() for name, f in figures.items()}, indent=2))
        return
    table = Table(title="gas per operation (receipt gasUsed)")
    table.add_column("operation")
    table.add_column("gas", justify="right")
    table.add_column("target", justify="right")
    table.add_column("met")
    for name, f in figures.items():
        met = "" if f.met is None else ("[green]yes[/green]" if f.met else "[red]no[/red]")
        table.add_row(name, f"{f.gas:,}", "" if f.target is None else f"{f.target:,}", met)
    console.print(table)


@bench_app.command("throughput")
def bench_throughput_cmd(
    seconds: Annotated[float, typer.Option(help="how long to sustain the load")] = 60.0,
    senders: Annotated[int, typer.Option(help="suppliers sending in parallel, one nonce stream each")] = 64,
    window: Annotated[int, typer.Option(help="operations in flight per sender")] = 24,
    threads: Annotated[int, typer.Option(help="submitter threads")] = 2,
    block_time: Annotated[
        float | None, typer.Option(help="seconds per block (interval mining); 0 for automine")
    ] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Receivable operations per second (splits and whole transfers) on a fresh anvil."""
    from ledger.bench_throughput import run_bench as run_throughput

    settings = _settings()
    try:
        report = run_throughput(
            settings.project_root,
            settings.build_dir,
            seconds=seconds,
            senders=senders,
            window=window,
            threads=threads,
            block_time=block_time or None,
        )
    except TierchainError as exc:
        raise _fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
        return
    table = Table(title=f"receivable operations, {report.mode}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in report.as_json().items():
        table.add_row(name, str(value))
    console.print(table)


@bench_app.command("indexer")
def bench_indexer_cmd(
    events: Annotated[int, typer.Option(help="events in the synthetic history")] = 100_000,
    postgres_url: Annotated[
        str | None, typer.Option(help="also bench PostgreSQL here (default: the local test server if up)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Indexer replay rate from genesis (SQLite, and PostgreSQL when reachable) and query latency."""
    from ledger.indexer.bench import run_benches

    settings = _settings()
    try:
        results = run_benches(events, postgres_url, build_dir=settings.build_dir)
    except TierchainError as exc:
        raise _fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(results, indent=2))
        return
    table = Table(title=f"indexer, {events:,} events from genesis")
    table.add_column("database")
    table.add_column("events/s", justify="right")
    table.add_column("replay events/s", justify="right")
    table.add_column("lineage (10 deep) ms", justify="right")
    table.add_column("holders ms", justify="right")
    for r in results.values():
        if "skipped" in r:
            table.add_row(str(r["database"]), "skipped", str(r["skipped"]), "", "")
            continue
        table.add_row(
            str(r["database"]),
            f"{r['ingest_events_per_s']:,}",
            f"{r['replay_events_per_s']:,}",
            str(r["lineage_ms"]),
            f"{r['holder_list_ms']} ({r['holder_list_pieces']:,} pieces)",
        )
    console.print(table)


if __name__ == "__main__":
    app()
