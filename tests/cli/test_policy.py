"""`tierchain policy show|record` and `participant register --size-class` on the session chain (the
mechanics policy the test deployment starts with: any term up to a year, any depth, no trade documents
for onward moves)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cli_support import CliEnv
from typer.testing import CliRunner

from ledger.client.compliance import SizeClass
from tierchain.cli import app

pytestmark = pytest.mark.chain

DAY = 86_400


def run_json(args: list[str]) -> Any:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_policy_show_prints_the_policy_the_rules_and_an_obligors_policy(cli_env: CliEnv) -> None:
    core = cli_env.world.a["core"].address
    shown = run_json(["policy", "show"])
    policy = shown["policy"]
    assert (policy["max_tenor_days"], policy["max_tenor_seconds"]) == (365, 365 * DAY)
    assert (policy["long_tenor_days"], policy["max_depth"], policy["trade_background"]) == (
        365,
        65_535,
        False,
    )
    assert shown["rules"] == {
        "overdue_window_days": 182,
        "overdue_window_seconds": 182 * DAY,
        "strikes_to_suspend": 3,
        "suspension_days": 730,
        "suspension_seconds": 730 * DAY,
    }
    assert shown["obligor_overrides"] is None

    of_core = run_json(["policy", "show", "--obligor", core])["obligor_overrides"]
    assert (of_core["obligor"], of_core["override"], of_core["policy"]) == (core, False, policy)

    table = CliRunner().invoke(app, ["policy", "show", "--obligor", core])
    assert table.exit_code == 0, table.output
    assert "compliance policy of the deployment" in table.stdout and "the deployment's" in table.stdout
    bad = CliRunner().invoke(app, ["policy", "show", "--obligor", "0x12"])
    assert bad.exit_code == 2 and "--obligor" in bad.output


def test_policy_record_reads_an_obligors_record(cli_env: CliEnv) -> None:
    a = cli_env.world.a
    record = run_json(["policy", "record", a["core"].address])
    assert record["address"] == a["core"].address
    assert (record["strikes"], record["overdue_count"], record["suspended_until"], record["suspended"]) == (
        [],
        0,
        None,
        False,
    )
    assert record["size_class"] == "unclassified"
    refused = CliRunner().invoke(app, ["policy", "record", a["tier1"].address])
    assert refused.exit_code == 1 and "is not a core enterprise" in refused.output


def test_participant_register_records_a_size_class(cli_env: CliEnv) -> None:
    newcomer = "0x" + "5d" * 20
    registered = run_json(
        [
            "participant", "register", newcomer,
            "--role", "SUPPLIER", "--legal-id", "91310000MA1FL0TESV",
            "--size-class", "小型",
            *cli_env.key_env("admin"),
        ]
    )  # fmt: skip
    assert registered["size_class"] == "small"
    client = cli_env.world.client
    assert client.size_class(client.w3.to_checksum_address(newcomer)) is SizeClass.SMALL

    wrong = CliRunner().invoke(
        app,
        [
            "participant", "register", "0x" + "5c" * 20,
            "--role", "SUPPLIER", "--legal-id", "91310000MA1FL0TESW",
            "--size-class", "huge",
            *cli_env.key_env("admin"),
        ],
    )  # fmt: skip
    assert wrong.exit_code == 2 and "--size-class" in wrong.output
