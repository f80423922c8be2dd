"""The `tierchain` command line: operator entry points over the ledger modules.

Settings are built once here, at the edge, and handed to the modules; commands stay thin.
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import urlparse

import typer
from rich.console import Console

from ledger.compile import compile_contracts
from ledger.config import Settings, load_network
from ledger.errors import ConfigError, TierchainError
from ledger.localchain import LocalChain, read_run_info, stop_recorded

app = typer.Typer(help="Tierchain: multi-tier supply-chain receivables ledger.", no_args_is_help=True)
chain_app = typer.Typer(help="Run the local development chain (anvil).", no_args_is_help=True)
app.add_typer(chain_app, name="chain")
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


if __name__ == "__main__":
    app()
