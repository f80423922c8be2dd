"""`tierchain bench gas|throughput|indexer|api|soak`: benchmarks on a throwaway local chain, with time-based
progress bars on stderr so `--json` output stays clean."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from tierchain.cli.common import JsonOpt, console, guarded, progress, settings

bench_app = typer.Typer(help="Benchmarks on a throwaway local chain.", no_args_is_help=True)


@contextmanager
def timed_bar(description: str, seconds: float | None) -> Iterator[None]:
    """A bar that fills with wall-clock time over `seconds` (a spinner when the length is unknown)."""
    with progress() as bars:
        task = bars.add_task(description, total=None if seconds is None else round(seconds))
        done = threading.Event()

        def tick() -> None:
            started = time.monotonic()
            while not done.wait(0.25):
                if seconds is not None:
                    bars.update(task, completed=min(round(time.monotonic() - started), round(seconds)))

        ticker = threading.Thread(target=tick, name="bench-progress", daemon=True)
        ticker.start()
        try:
            yield
        finally:
            done.set()
            ticker.join()


@bench_app.command("gas")
@guarded
def bench_gas_cmd(as_json: JsonOpt = False) -> None:
    """Gas of each operation from real receipts on a fresh anvil, beside its target."""
    from tierchain.bench.gas import run_bench

    built = settings()
    with timed_bar("measuring gas per operation", None):
        figures = run_bench(built.project_root, built.build_dir)
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
@guarded
def bench_throughput_cmd(
    seconds: Annotated[float, typer.Option(help="how long to sustain the load")] = 60.0,
    senders: Annotated[int, typer.Option(help="suppliers sending in parallel, one nonce stream each")] = 64,
    window: Annotated[int, typer.Option(help="operations in flight per sender")] = 24,
    threads: Annotated[int, typer.Option(help="submitter threads")] = 2,
    block_time: Annotated[
        float | None, typer.Option(help="seconds per block (interval mining); 0 for automine")
    ] = 1.0,
    anchor_slices: Annotated[
        int, typer.Option(help="alternating slices against anvil fed pre-signed splits; 0 to skip")
    ] = 3,
    slice_seconds: Annotated[float, typer.Option(help="seconds per anchor slice")] = 10.0,
    as_json: JsonOpt = False,
) -> None:
    """Receivable operations per second (splits and whole transfers) on a fresh anvil; then the split
    path against anvil fed the same splits signed beforehand (the anchor), as a ratio."""
    from tierchain.bench.throughput import run_bench as run_throughput

    built = settings()
    with timed_bar(f"sustaining load for {seconds:g} s (setup first)", seconds):
        report = run_throughput(
            built.project_root,
            built.build_dir,
            seconds=seconds,
            senders=senders,
            window=window,
            threads=threads,
            block_time=block_time or None,
            anchor_slices=anchor_slices,
            slice_seconds=slice_seconds,
        )
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
        return
    table = Table(title=f"receivable operations, {report.mode}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in report.as_json().items():
        if name != "anchor":
            table.add_row(name, str(value))
    if report.anchor is not None:
        for name, value in asdict(report.anchor).items():
            table.add_row(f"anchor {name}", str(value))
    console.print(table)


@bench_app.command("indexer")
@guarded
def bench_indexer_cmd(
    events: Annotated[int, typer.Option(help="events in the synthetic history")] = 100_000,
    postgres_url: Annotated[
        str | None, typer.Option(help="also bench PostgreSQL here (default: the local test server if up)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Indexer replay rate from genesis (SQLite, and PostgreSQL when reachable) and query latency."""
    from tierchain.bench.indexer import run_benches

    built = settings()
    with timed_bar(f"indexing {events:,} synthetic events", None):
        results = run_benches(events, postgres_url, build_dir=built.build_dir)
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


@bench_app.command("api")
@guarded
def bench_api_cmd(
    seconds: Annotated[float, typer.Option(help="seconds per phase")] = 10.0,
    concurrency: Annotated[int, typer.Option(help="wrk connections (and holders)", min=2)] = 32,
    workers: Annotated[str, typer.Option(help="API worker counts to measure, e.g. 1,2")] = "1,2",
    raw_seconds: Annotated[
        float, typer.Option(help="seconds of the ledger's raw throughput phase (the ceiling)")
    ] = 5.0,
    as_json: JsonOpt = False,
) -> None:
    """The API under wrk on a fresh anvil, beside a bare FastAPI endpoint (the anchor) in the same run:
    health, a cached token read and custodial splits, for each worker count; req/s and x anchor. Writes
    sent with `Prefer: respond-async`: accepted/s, executed (mined and indexed)/s, and their ratio to
    the ledger's raw throughput measured on the same chain first."""
    from tierchain.bench.api import bench_api, summary_lines  # the API is imported only for this command

    try:
        counts = tuple(int(part) for part in workers.split(","))
    except ValueError:
        wrong = f"integers joined by commas, not {workers!r}"
        raise typer.BadParameter(wrong, param_hint="--workers") from None
    phases = 4 * len(counts)
    with timed_bar(f"loading the API for {phases} x {seconds:g} s (setup first)", phases * seconds):
        result = bench_api(seconds=seconds, concurrency=concurrency, workers=counts, raw_seconds=raw_seconds)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    for line in summary_lines(result):
        console.print(line, markup=False)


@bench_app.command("soak")
@guarded
def bench_soak_cmd(
    minutes: Annotated[float, typer.Option(help="how long the workload runs under faults", min=0.1)] = 10.0,
    seed: Annotated[int, typer.Option(help="seed of the workload and the fault schedule")] = 1,
    workers: Annotated[int, typer.Option(help="workers carrying obligations in parallel", min=1, max=3)] = 3,
    as_json: JsonOpt = False,
) -> None:
    """The mixed workload (issue, pay down the tiers, finance, repay, redeem) on the local-consortium
    network while random faults hit its RPC proxies and short reorgs its chain; then the checks (nothing
    lost, nothing twice, Σ pieces == face, cash conserved, the index reconciles). Exits 1 if one fails."""
    from tierchain.bench.soak import run_soak

    built = settings()
    with timed_bar(f"soaking for {minutes:g} min (setup first, checks after)", minutes * 60):
        report = run_soak(built.project_root, built.build_dir, minutes=minutes, seed=seed, workers=workers)
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        for line in report.lines():
            typer.echo(line)  # unwrapped: the table's lines are wider than a terminal's default
    if not report.passed:
        raise typer.Exit(code=1)
