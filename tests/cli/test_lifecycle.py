"""A receivable's life through the `tierchain` command: propose, confirm, split, then the index's view
of it (`report lineage --json`), all on the session chain."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cli_support import CliEnv
from typer.testing import CliRunner

from ledger.roles import ROLES
from tierchain.cli import app

pytestmark = pytest.mark.chain

DAY = 86_400
FACE = 1_000_000_00


def run_json(args: list[str]) -> Any:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_propose_confirm_split_and_lineage(cli_env: CliEnv) -> None:
    world, a = cli_env.world, cli_env.world.a
    invoice = world.invoice(FACE)
    world.attest(invoice)  # the oracles' part; the CLI takes over from the supplier's proposal

    proposed = run_json(
        [
            "obligation", "propose",
            "--obligor", a["core"].address,
            "--face", str(FACE),
            "--maturity", str(world.now + 90 * DAY),
            "--min-unit", "100",
            "--document", "0x" + invoice.fingerprint.hex(),
            *cli_env.key_env("tier1"),
        ]
    )  # fmt: skip
    issued = run_json(["obligation", "confirm", str(proposed["proposal_id"]), *cli_env.key_env("core")])
    root, slot = issued["token_id"], issued["slot"]
    assert world.client.owner_of(root) == a["tier1"].address

    split = run_json(["token", "split", str(root), a["tier2"].address, "40000000", *cli_env.key_env("tier1")])
    piece = split["token_id"]
    assert split["from_token_id"] == root and split["value"] == 40_000_000
    assert world.client.lineage(piece) == (piece, root)

    # A trade-backed payment: tier2 pays tier3 with part of its piece, citing the invoice tier3 sold it.
    sold = world.invoice(5_000_000, seller="tier3", buyer="tier2")
    world.attest(sold)
    fingerprint = "0x" + sold.fingerprint.hex()
    backed = run_json(
        ["token", "split", str(piece), a["tier3"].address, "5000000", "--document", fingerprint,
         *cli_env.key_env("tier2")]
    )  # fmt: skip
    assert backed["from_token_id"] == piece and len(backed["token_ids"]) == 1
    assert world.client.owner_of(backed["token_ids"][0]) == a["tier3"].address
    assert world.client._view(world.client.trades, "movedValue", sold.fingerprint) == 5_000_000

    indexed = CliRunner().invoke(app, ["index", "run", "--once"])
    assert indexed.exit_code == 0, indexed.output

    lineage = run_json(["report", "lineage", str(piece)])
    assert lineage["token"]["token_id"] == piece
    assert lineage["token"]["owner"].lower() == a["tier2"].address.lower()
    assert [t["token_id"] for t in lineage["ancestors"]] == [root]
    holders = run_json(["report", "holders", str(slot)])
    assert {h["owner"].lower(): h["value"] for h in holders["holders"]} == {
        a["tier1"].address.lower(): FACE - 40_000_000,
        a["tier2"].address.lower(): 35_000_000,
        a["tier3"].address.lower(): 5_000_000,
    }

    tree = CliRunner().invoke(app, ["report", "lineage", str(root)])
    assert tree.exit_code == 0 and f"#{root}" in tree.stdout and f"#{piece}" in tree.stdout

    status = run_json(["participant", "status", a["tier2"].address])
    assert status["status"] == "ACTIVE" and status["roles"] == ["SUPPLIER"]


def test_participant_register_answers_roles_by_name(cli_env: CliEnv) -> None:
    newcomer = "0x" + "5e" * 20
    registered = run_json(
        [
            "participant", "register", newcomer,
            "--role", "supplier", "--role", "BANK",
            "--legal-id", "91310000MA1FL0TEST",
            *cli_env.key_env("admin"),
        ]
    )  # fmt: skip
    assert registered["roles"] == ["SUPPLIER", "BANK"]
    screen = CliRunner().invoke(
        app,
        [
            "participant", "register", "0x" + "5f" * 20,
            "--role", "SUPPLIER", "--legal-id", "91310000MA1FL0TESU",
            *cli_env.key_env("admin"),
        ],
    )  # fmt: skip
    assert screen.exit_code == 0, screen.output
    assert "SUPPLIER" in screen.output and "0x" + ROLES["SUPPLIER"].hex() not in screen.output


def test_a_bank_sets_and_reads_its_credit_limit(cli_env: CliEnv) -> None:
    a = cli_env.world.a
    core = a["core"].address
    bank = cli_env.key_env("bank")
    set_ = run_json(["finance", "limit", core, "50000000", *bank])
    assert (set_["counterparty"], set_["per_obligor"], set_["limit"]) == (core, True, 50_000_000)
    shown = run_json(["finance", "limit-show", core, *bank])
    assert (shown["limit"], shown["used"], shown["available"]) == (50_000_000, 0, 50_000_000)
    seller = run_json(["finance", "limit-show", a["tier1"].address, "--seller", *bank])
    assert (seller["kind"], seller["limit"], seller["available"]) == ("seller", None, None)
    refused = CliRunner().invoke(app, ["finance", "limit", core, "50000000", *cli_env.key_env("tier1")])
    assert refused.exit_code != 0 and "MissingRole" in refused.output
