"""`tierchain chain up|down|status`: the local development chain (anvil), detached from the shell."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlparse

import typer

from ledger.config import load_network
from ledger.errors import ConfigError
from ledger.localchain import LocalChain, advance_time, chain_time, read_run_info, stop_recorded
from tierchain.cli.common import JsonOpt, NetworkOpt, console, guarded, settings, show, timestamp, usage_error

chain_app = typer.Typer(help="Run the local development chain (anvil).", no_args_is_help=True)

ProfileOpt = Annotated[
    str,
    typer.Option(
        "--profile",
        help="the local network to run: chain_config/<profile>.toml with an [anvil] table (local-consortium: "
        "2 s blocks, free legacy gas, chain id 1337, a fault proxy per RPC URL)",
    ),
]


@chain_app.command("up")
@guarded
def chain_up(
    port: Annotated[
        int | None,
        typer.Option(
            help="anvil's port; default: the port of the network's first RPC URL (a free one "
            "behind fault proxies)"
        ),
    ] = None,
    profile: ProfileOpt = "local",
) -> None:
    """Start anvil (and, for a profile with fault proxies, one proxy per RPC URL) in the background; it
    keeps running after this command returns."""
    built = settings()
    network = load_network(built, profile)
    if network.anvil is None:
        raise ConfigError(f"chain_config/{profile}.toml: anvil: missing [anvil] table: not a local network")
    running = read_run_info(built.data_dir, profile)
    if running is not None:
        console.print(f"already running: pid {running.pid} at {', '.join(running.rpc_urls)}", soft_wrap=True)
        return
    proxied = network.anvil.fault_proxies
    chosen = port if proxied else port or urlparse(network.rpc_urls[0]).port
    chain = LocalChain(
        network.anvil,
        built.project_root,
        built.data_dir,
        port=chosen,
        detach=True,
        name=profile,
        proxy_urls=list(network.rpc_urls) if proxied else None,
    )
    chain.start()
    console.print(f"anvil up at {chain.url} (state {chain.state_file}, log {chain.log_file})", soft_wrap=True)
    for proxy in chain.proxies:
        console.print(f"fault proxy {proxy.url} (admin {proxy.admin_url}, pid {proxy.pid})", soft_wrap=True)


@chain_app.command("down")
def chain_down(profile: ProfileOpt = "local") -> None:
    """Stop the chain `chain up` started, and its fault proxies; anvil writes its state file on the way
    out."""
    info = stop_recorded(settings().data_dir, name=profile)
    if info is None:
        console.print("no local chain running")
        return
    proxies = f" and {len(info.proxies)} fault proxies" if info.proxies else ""
    console.print(f"stopped pid {info.pid}{proxies}")


@chain_app.command("status")
def chain_status(profile: ProfileOpt = "local") -> None:
    """Whether the local chain runs, and where; exits 1 when it does not."""
    info = read_run_info(settings().data_dir, profile)
    if info is None:
        console.print("no local chain running")
        raise typer.Exit(code=1)
    console.print(f"running: pid {info.pid} at {info.url}, state {info.state_file}", soft_wrap=True)
    for proxy in info.proxies:
        console.print(f"fault proxy {proxy.url} (admin {proxy.admin_url}, pid {proxy.pid})", soft_wrap=True)


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


@chain_app.command("advance")
@guarded
def chain_advance(
    days: Annotated[int | None, typer.Option(help="move the clock forward this many days", min=1)] = None,
    seconds: Annotated[
        int | None, typer.Option(help="move the clock forward this many seconds", min=1)
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="move the clock to this ISO date or time (UTC) or unix time")
    ] = None,
    network: NetworkOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move the local chain's clock forward (e.g. to reach a maturity) and mine a block there.

    Local network only: any other network is refused (exit 1), its clock is the real one."""
    if sum(option is not None for option in (days, seconds, to)) != 1:
        raise usage_error("give exactly one of --days, --seconds, --to")
    built = settings()
    chosen = load_network(built, network)
    if to is not None:
        target = timestamp(to, "--to")
        now = chain_time(chosen, built.data_dir) if chosen.is_local else 0
        if chosen.is_local and target <= now:
            raise usage_error(f"--to: {to} is not after the chain's time {_iso(now)}")
        moved = advance_time(chosen, built.data_dir, until=target)
    else:
        moved = advance_time(
            chosen, built.data_dir, seconds=seconds if seconds is not None else (days or 0) * 86_400
        )
    if as_json:
        show("", moved, True)
        return
    console.print(
        f"chain time {_iso(moved.before)} → {_iso(moved.after)} (+{moved.seconds:,} s), block {moved.block}",
        soft_wrap=True,
    )
