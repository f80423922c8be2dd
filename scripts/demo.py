"""The multi-tier demo on an embedded local chain: `./scripts/demo [--json] [--keep] [--seed N] [--serve]`.

A real scenario, nothing canned: anvil starts on a free port, the contracts are compiled and deployed
under the default compliance policy (the 2025 rules), each enterprise's size class is recorded, three
oracle nodes attest a signed invoice and delivery note 2-of-3, the core enterprise confirms a
CNY 1,000,000.00 obligation citing the payment term agreed in the purchase contract, its pieces pay
suppliers down to tier 5 (each payment citing the supplier's attested invoice), two banks finance
pieces, an invoice reuse, an over-tenor term, an SME term past 60 days, a split with no trade document
and a frozen piece are refused, and at maturity every holder redeems. The final checks
account for every minor unit; the exit status is 1 if any fails, 2 if the scenario itself broke.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WIDTH = 140
if str(PROJECT_ROOT) not in sys.path:  # the project's packages, whether or not .venv has them installed
    sys.path.insert(1, str(PROJECT_ROOT))

from demo_scenario.issue import DemoFailure  # noqa: E402
from demo_scenario.render import render  # noqa: E402
from demo_scenario.runner import DemoRun, Options, run_demo  # noqa: E402

from ledger.errors import TierchainError  # noqa: E402
from ledger.localchain import read_run_info  # noqa: E402

app = typer.Typer(add_completion=False, help=__doc__, rich_markup_mode=None)


def after_run(
    run: DemoRun,
    console: Console,
    *,
    serve: bool = False,
    port: int | None = None,
    keep: bool = True,
    json_output: bool = False,
) -> None:
    """What happens once the scenario is done and the chain still runs (`--keep`).

    The hook for `--serve`: `run.settings` points at the data dir holding the deployment manifest
    (`Settings.data_dir`) and at the indexed database (`Settings.database_url`), so the API and the
    dashboard can be started on exactly this chain from here, before the process waits or returns.
    With `serve` they are, until Ctrl-C; the chain is then stopped and its folder removed unless `keep`.
    With `json_output` too, the summary and how to reach the server go to stdout as one line of JSON.
    """
    if run.chain is None:
        return
    if serve:
        from demo_scenario.serve import serve_demo

        try:
            serve_demo(run.summary, run.settings, console, port, json_output=json_output)
        except KeyboardInterrupt:
            console.print("server stopped")
        finally:
            if not keep:
                run.chain.stop()
                shutil.rmtree(run.settings.data_dir, ignore_errors=True)
                console.print("chain stopped")
        return
    if not keep:  # kept only to serve, and the checks failed
        run.chain.stop()
        shutil.rmtree(run.settings.data_dir, ignore_errors=True)
        return
    name = run.chain.name
    info = read_run_info(run.settings.data_dir, name)
    profile = "" if name == "local" else f" --profile {name}"
    console.print(
        f"[bold]chain kept running[/bold] at {', '.join(run.chain.rpc_urls)} "
        f"(anvil pid {info.pid if info else '?'})\n"
        f"  data dir (manifest, journal, index): {run.settings.data_dir}\n"
        f"  stop it: TIERCHAIN_DATA_DIR={run.settings.data_dir} .venv/bin/python -m tierchain.cli chain down"
        f"{profile}"
    )


@app.command()
def main(
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="print a machine-readable summary only; with --serve, one line of JSON that adds `serve` "
            "(API, dashboard, chain and oracle URLs, the chain's state, the settings, and each role's "
            "participant, address and API key)",
        ),
    ] = False,
    keep: Annotated[bool, typer.Option("--keep", help="leave the chain running and print its URL")] = False,
    seed: Annotated[int, typer.Option("--seed", help="seed for identities, documents and amounts")] = 7,
    index: Annotated[bool, typer.Option("--index/--no-index", help="compare the indexer's database")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log every module's INFO lines")] = False,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="after the checks pass, run the oracle nodes and aggregator and serve the API and dashboard "
            "on the demo's chain until Ctrl-C",
        ),
    ] = False,
    port: Annotated[int | None, typer.Option("--port", help="port for --serve (default: a free one)")] = None,
    network: Annotated[
        str,
        typer.Option(
            "--network",
            help="the local network to run on: local (a block per transaction) or local-consortium "
            "(2 s blocks, free legacy gas, chain id 1337, two RPC URLs through fault proxies)",
        ),
    ] = "local",
) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, stream=sys.stderr)
    # Wide enough for the tables when piped or captured (rich assumes 80 columns off a terminal).
    console = Console(stderr=json_output, width=None if sys.stdout.isatty() else WIDTH)
    say = (lambda _m: None) if json_output else (lambda m: console.print(f"[dim]·[/dim] {m}"))
    if serve and network != "local":
        console.print("[bold red]--serve runs on the local network only[/bold red]")
        raise typer.Exit(2)
    try:
        run = run_demo(
            Options(
                project_root=PROJECT_ROOT,
                seed=seed,
                keep=keep or serve,
                index=index,
                network=network,
                say=say,
            )
        )
    except (DemoFailure, TierchainError) as exc:
        console.print(f"[bold red]demo failed:[/bold red] {type(exc).__name__}: {escape(str(exc))}")
        raise typer.Exit(2) from exc
    summary = run.summary
    if json_output:
        if not (serve and summary.ok):  # with --serve, printed once the keys are issued (serve_demo)
            sys.stdout.write(json.dumps(summary.model_dump(mode="json"), indent=2) + "\n")
    else:
        render(console, summary)
    if not summary.ok:
        after_run(run, console, keep=keep)
        failed = [c.name for c in summary.checks if not (c.ok or c.skipped)]
        console.print(f"[bold red]final checks failed:[/bold red] {', '.join(failed)}")
        raise typer.Exit(1)
    after_run(run, console, serve=serve, port=port, keep=keep, json_output=json_output)


if __name__ == "__main__":
    app()
