"""`tierchain index …`: run the indexer and reconcile its database against the chain.

Mount with `app.add_typer(indexer_cli.app, name="index")` in `tierchain.cli`. Commands stay thin: they
build the settings, call `run_indexer` / `reconcile_cmd`, and turn errors into exit codes.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.console import Console

from ledger.config import NetworkConfig, Settings, load_network
from ledger.errors import TierchainError
from ledger.indexer.db import make_engine, upgrade
from ledger.indexer.follower import run_indexer
from ledger.indexer.manifest import load_manifest
from ledger.indexer.reconcile import Mismatch, reconcile
from ledger.indexer.source import RpcSource
from ledger.localchain import rpc_urls

app = typer.Typer(help="Index the deployment's events into the database; reconcile it with the chain.")
console = Console()


def reconcile_cmd(
    settings: Settings, network: str | NetworkConfig | None = None, at_block: int | None = None
) -> list[Mismatch]:
    """Compare the database with the chain at the cursor block; returns the mismatches."""
    config = network if isinstance(network, NetworkConfig) else load_network(settings, network)
    deployment = load_manifest(settings, config.name)
    assert settings.database_url is not None
    engine = make_engine(settings.database_url)
    source = RpcSource(rpc_urls(config, settings.data_dir))
    try:
        upgrade(engine)
        return reconcile(engine, source, deployment, at_block)
    finally:
        source.close()
        engine.dispose()


def _settings() -> Settings:
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    return settings


@app.command("run")
def run_cmd(
    network: Annotated[str | None, typer.Option(help="network name (default: settings)")] = None,
    once: Annotated[bool, typer.Option(help="index up to the head, then exit")] = False,
    chunk_size: Annotated[int, typer.Option(help="blocks per eth_getLogs range")] = 2000,
) -> None:
    """Follow the chain and keep the database current (Ctrl-C stops after the current range)."""
    settings = _settings()
    try:
        stats = run_indexer(settings, network, once, chunk_size=chunk_size)
    except TierchainError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    console.print(f"indexed to block {stats.cursor}: {stats.events} events, {stats.reorgs} reorgs")


@app.command("reconcile")
def reconcile_command(
    network: Annotated[str | None, typer.Option(help="network name (default: settings)")] = None,
) -> None:
    """Compare the database with the chain; exits 1 on any mismatch."""
    settings = _settings()
    try:
        mismatches = reconcile_cmd(settings, network)
    except TierchainError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    for mismatch in mismatches:
        console.print(f"[red]mismatch[/red] {mismatch}")
    if mismatches:
        raise typer.Exit(code=1)
    console.print("database and chain agree")
