"""What every command shares: settings, consoles, the signer options and the client they open,
output as a table or `--json`, progress bars, and the one place errors become exit codes.

Exit codes: 0 done; 1 Tierchain refused or failed (a decoded contract revert prints as
`TokenFrozen(tokenId=5)`); 2 usage (Click's own, and bad values found by the commands); 3 the
chain did not answer.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from eth_account import Account
from eth_utils.address import is_address, to_checksum_address
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ledger.client import TierchainClient
from ledger.config import Settings, load_network
from ledger.errors import ChainUnavailable, TierchainError
from ledger.keys import Signer, keystore_password, load_keystore, load_signer, signer_from_env

console = Console()
err_console = Console(stderr=True)

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CHAIN = 3

P = ParamSpec("P")
R = TypeVar("R")


def settings() -> Settings:
    """The process's settings, built once per command at the edge and handed down."""
    built = Settings()
    logging.basicConfig(
        level=built.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    return built


def guarded(command: Callable[P, R]) -> Callable[P, R]:
    """Turn Tierchain's errors into one red line and an exit code; tracebacks are for bugs only."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ChainUnavailable as exc:
            hint = "" if "chain up" in str(exc) else " (is the node up? the local one: `tierchain chain up`)"
            err_console.print(
                f"[red]error:[/red] chain unavailable: {escape(str(exc))}{hint}",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(code=EXIT_CHAIN) from exc
        except TierchainError as exc:
            # The message is text, not markup: "[governance]" must print as written.
            err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=EXIT_FAILED) from exc

    return wrapper


def usage_error(message: str) -> typer.Exit:
    err_console.print(f"[red]usage:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=EXIT_USAGE)


# ------------------------------------------------------------------------------- option types

JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON on stdout (no tables, no bars)")]
NetworkOpt = Annotated[str | None, typer.Option("--network", help="network name; default: TIERCHAIN_NETWORK")]
KeyEnvOpt = Annotated[
    str | None,
    typer.Option("--key-env", help="environment variable holding a raw private key (local networks only)"),
]
KeystoreOpt = Annotated[
    Path | None, typer.Option("--keystore", help="keystore file to sign with (password from --password-env)")
]
PasswordEnvOpt = Annotated[
    str, typer.Option("--password-env", help="environment variable holding the keystore password")
]
AccountOpt = Annotated[
    str | None,
    typer.Option("--account", help="pick this address's keystore in the network's keystore dir"),
]
DEFAULT_PASSWORD_ENV = "TIERCHAIN_KEYSTORE_PASSWORD"


def address(value: str, what: str = "address") -> str:
    """A checksummed address, or a usage error naming the bad value."""
    if not is_address(value):
        raise usage_error(f"{what}: {value!r} is not an address")
    return str(to_checksum_address(value))


def hex32(value: str, what: str) -> bytes:
    raw = value.removeprefix("0x")
    try:
        out = bytes.fromhex(raw)
    except ValueError:
        out = b""
    if len(out) != 32:
        raise usage_error(f"{what}: {value!r} is not 32 bytes of hex")
    return out


def timestamp(value: str, what: str = "time") -> int:
    """Unix seconds from `1767225600`, `2026-12-31` or `2026-12-31T12:00:00` (UTC unless an offset)."""
    if value.isdigit():
        return int(value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise usage_error(f"{what}: {value!r} is neither unix seconds nor an ISO date") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


# ------------------------------------------------------------------------------- connecting


def open_client(
    network: str | None,
    key_env: str | None = None,
    keystore: Path | None = None,
    password_env: str = DEFAULT_PASSWORD_ENV,
    account: str | None = None,
    *,
    read_only: bool = False,
) -> tuple[TierchainClient, Signer]:
    """A connected client and the signer to act as (a throwaway key for read-only commands)."""
    built = settings()
    config = load_network(built, network)
    signer: Signer
    if read_only:
        signer = Account.create()
    elif keystore is not None:
        signer = load_keystore(keystore, keystore_password(password_env))
    elif key_env is not None:
        signer = signer_from_env(config, key_env)
    else:
        signer = load_signer(config, account)
    return TierchainClient.connect(built, signer, config.name), signer


# ------------------------------------------------------------------------------- output


def plain(value: Any) -> Any:
    """JSON-ready form of results: dataclasses, pydantic models, enums by name, bytes as 0x-hex."""
    if isinstance(value, BaseModel):
        return plain(value.model_dump(mode="python"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def emit_json(value: Any) -> None:
    typer.echo(json.dumps(plain(value), indent=2))


def show(title: str, result: Any, as_json: bool) -> None:
    """One result: JSON on stdout, or a two-column table titled with what happened."""
    if as_json:
        emit_json(result)
        return
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    data = plain(result)
    for name, value in data.items() if isinstance(data, dict) else [("result", data)]:
        table.add_row(name, _cell(value))
    console.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) < 10**15 else str(value)
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value) or "—"
    if value is None:
        return "—"
    return str(value)


def rows_table(title: str, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Table | str:
    """A table from dict rows (the JSON shape), one column per key; integers right-aligned."""
    if not rows:
        return f"{title}: nothing in the index"
    columns = columns or (list(rows[0]) if rows else [])
    table = Table(title=title, title_justify="left")
    for name in columns:
        numeric = (
            bool(rows) and isinstance(rows[0].get(name), int) and not isinstance(rows[0].get(name), bool)
        )
        table.add_column(name, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    return table


@contextmanager
def progress(enabled: bool = True) -> Iterator[Progress]:
    """A rich progress display on stderr (so `--json` stdout stays clean), on a terminal only; `enabled=False`
    hides it."""
    bars = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        # Only on a terminal: in a pipe or a CI log a transient display leaves blank lines behind.
        disable=not enabled or not err_console.is_terminal or os.environ.get("TIERCHAIN_NO_PROGRESS") == "1",
    )
    with bars:
        yield bars
