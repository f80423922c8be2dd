"""`tierchain chain up|down|status`: the local development chain (anvil), detached from the shell."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

import typer

from ledger.cli.common import console, guarded, settings
from ledger.config import load_network
from ledger.errors import ConfigError
from ledger.localchain import LocalChain, read_run_info, stop_recorded

chain_app = typer.Typer(help="Run the local development chain (anvil).", no_args_is_help=True)


@chain_app.command("up")
@guarded
def chain_up(
    port: Annotated[
        int | None, typer.Option(help="port; default: the port of the network's first RPC URL")
    ] = None,
) -> None:
    """Start anvil in the background; it keeps running after this command returns."""
    built = settings()
    network = load_network(built, "local")
    if network.anvil is None:
        raise ConfigError("chain_config/local.toml: anvil: missing [anvil] table")
    running = read_run_info(built.data_dir)
    if running is not None:
        console.print(f"already running: pid {running.pid} at {running.url}")
        return
    chosen = port or urlparse(network.rpc_urls[0]).port
    chain = LocalChain(network.anvil, built.project_root, built.data_dir, port=chosen, detach=True)
    chain.start()
    console.print(f"anvil up at {chain.url} (state {chain.state_file}, log {chain.log_file})", soft_wrap=True)


@chain_app.command("down")
def chain_down() -> None:
    """Stop the chain `chain up` started; anvil writes its state file on the way out."""
    info = stop_recorded(settings().data_dir)
    console.print(f"stopped pid {info.pid}" if info else "no local chain running")


@chain_app.command("status")
def chain_status() -> None:
    """Whether the local chain runs, and where; exits 1 when it does not."""
    info = read_run_info(settings().data_dir)
    if info is None:
        console.print("no local chain running")
        raise typer.Exit(code=1)
    console.print(f"running: pid {info.pid} at {info.url}, state {info.state_file}", soft_wrap=True)
