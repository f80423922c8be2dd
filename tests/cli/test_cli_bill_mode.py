"""Bill mode through the `tierchain` command: the core enterprise chooses it, a split pends, the receiver
lists its incoming moves and accepts one, refuses another; the sender withdraws a third."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cli_support import CliEnv
from typer.testing import CliRunner

from tierchain.cli import app

pytestmark = pytest.mark.chain

FACE = 1_000_000_00


def run_json(args: list[str]) -> Any:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_pending_moves_through_the_cli(cli_env: CliEnv) -> None:
    world, a = cli_env.world, cli_env.world.a
    chosen = run_json(["participant", "settlement-mode", "bill", *cli_env.key_env("core")])
    assert chosen["mode"] == "BILL"
    issued, _ = world.issue(FACE)
    root = issued.token_id

    def pay(to: str, value: int) -> int:
        split = run_json(["token", "split", str(root), a[to].address, str(value), *cli_env.key_env("tier1")])
        return int(split["token_id"])

    accepted, refused, withdrawn = pay("tier2", 100_00), pay("tier2", 200_00), pay("tier3", 300_00)
    incoming = run_json(["token", "incoming", *cli_env.key_env("tier2")])["moves"]
    assert [m["token_id"] for m in incoming] == [accepted, refused]
    outgoing = run_json(["token", "outgoing", *cli_env.key_env("tier1")])["moves"]
    assert [m["token_id"] for m in outgoing] == [accepted, refused, withdrawn]

    assert run_json(["token", "accept", str(accepted), *cli_env.key_env("tier2")])["value"] == 100_00
    assert run_json(["token", "refuse", str(refused), *cli_env.key_env("tier2")])["reason"] == "REFUSED"
    assert run_json(["token", "withdraw", str(withdrawn), *cli_env.key_env("tier1")])["merged_into"] == root
    assert world.client.owner_of(accepted) == a["tier2"].address
    assert world.client.balance_of(root) == FACE - 100_00
    assert run_json(["token", "incoming", *cli_env.key_env("tier2")])["moves"] == []

    refused_again = CliRunner().invoke(app, ["token", "accept", str(accepted), *cli_env.key_env("tier2")])
    assert refused_again.exit_code == 1 and "NoPendingMove" in refused_again.output
