"""Governance from the command line on the local network (one seat, one approval, no delay): a change
proposed, approved and executed; the listing and the settings; the guardian's pause; refusals as one
line with exit 2 for a bad action or argument and exit 1 for a proposal that cannot go ahead."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from cli_support import CliEnv
from typer.testing import CliRunner, Result

from tierchain.cli import app

pytestmark = pytest.mark.chain

URI = "https://api.example/v1/metadata/"


def run(args: list[str]) -> Result:
    return CliRunner().invoke(app, args)


def run_json(args: list[str]) -> Any:
    result = run([*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _one_line(result: Result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def propose(env: CliEnv, description: str, action: list[str] | None = None) -> int:
    made = run_json(
        [
            "gov",
            "propose",
            *(action or ["set-base-uri", f"uri={URI}"]),
            "--description",
            description,
            *env.key_env("admin"),
        ]
    )
    return int(made["id"])


def test_propose_approve_execute_then_status_shows_it_executed(cli_env: CliEnv) -> None:
    made = run_json(
        [
            "gov",
            "propose",
            "set-base-uri",
            f"uri={URI}",
            "--description",
            "Point metadata at the API",
            *cli_env.key_env("admin"),
        ]
    )
    assert made["actions"] == [f"set-base-uri uri={URI}"] and made["class"] == "policy"
    assert isinstance(made["id"], int) and made["id"] >= 1  # the governor's number
    assert (made["state"], made["needed"], made["delay_seconds"]) == ("pending", 1, 0)
    pid = str(made["id"])

    approved = run_json(["gov", "approve", pid, *cli_env.key_env("admin")])
    assert (approved["approvals"], approved["state"]) == ("1/1", "succeeded")

    executed = run_json(["gov", "execute", pid, *cli_env.key_env("admin")])
    assert executed["steps"] == ["queued", "executed"] and executed["state"] == "executed"
    assert len(executed["transactions"]) == 2

    detail = run_json(["gov", "status", pid])
    assert (detail["state"], detail["approvals"], detail["needed"]) == ("executed", 1, 1)
    assert detail["description"] == "Point metadata at the API"
    assert detail["actions"][0]["action"] == "set-base-uri"
    assert detail["actions"][0]["arguments"] == {"uri": URI} and detail["eta"] is not None

    listed = run_json(["gov", "status"])
    assert [p["state"] for p in listed if p["id"] == int(pid)] == ["executed"]
    table = run(["gov", "status"])
    assert table.exit_code == 0 and "set-base-uri" in table.output
    assert f"{pid}  executed, approvals 1/1, policy 0 s, ETA " in table.output

    again = run(["gov", "execute", pid, *cli_env.key_env("admin")])
    assert again.exit_code == 1
    assert "is executed: it was executed already" in _one_line(again)


def test_config_names_seats_approvals_delays_and_pauses(cli_env: CliEnv) -> None:
    admin = cli_env.world.a["admin"].address
    config = run_json(["gov", "config"])
    assert config["seats"] == [admin] and config["approvals_required"] == 1
    assert config["admin_delay_seconds"] == config["policy_delay_seconds"] == 0
    assert config["voting_period_blocks"] == 1_000 and config["guardian"] == admin
    assert set(config["action_delays"]) >= {"grant-role", "set-threshold", "upgrade", "unpause"}
    assert config["paused_operations"] == []
    assert run(["gov", "config"]).exit_code == 0


def test_the_guardian_pauses_and_paused_lists_it(cli_env: CliEnv) -> None:
    assert run_json(["gov", "paused"]) == {"paused": []}
    assert "nothing is paused" in run(["gov", "paused"]).output
    paused = run_json(
        ["gov", "pause", "moves", "financing", "--reason", "incident 7", *cli_env.key_env("admin")]
    )
    assert paused["operations"] == ["moves", "financing"] and paused["reason"] == "incident 7"
    assert run_json(["gov", "paused"]) == {"paused": ["moves", "financing"]}
    assert run_json(["gov", "config"])["paused_operations"] == ["moves", "financing"]

    again = run(["gov", "pause", "moves", "--reason", "again", *cli_env.key_env("admin")])
    assert again.exit_code == 1 and "AlreadyPaused" in _one_line(again)
    outsider = run(["gov", "pause", "all", "--reason", "x", *cli_env.key_env("bank")])
    assert outsider.exit_code == 1 and "only the GUARDIAN key pauses" in _one_line(outsider)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["make-coffee"], "unknown action 'make-coffee'; known: grant-role"),
        (["set-threshold", "threshold=0"], "set-threshold: threshold: Input should be greater than or equal"),
        (["set-threshold", "threshold"], "ARGS: 'threshold' is not name=value"),
        (["set-threshold", "level=2"], "level: not an argument of this action"),
        (["grant-role", "role=SUPPLIER", "account=0x" + "ab" * 20], "by the onboarding key"),
    ],
)
def test_a_bad_action_or_argument_is_a_usage_error(cli_env: CliEnv, args: list[str], message: str) -> None:
    result = run(["gov", "propose", *args, "--description", "bad", *cli_env.key_env("admin")])
    assert result.exit_code == 2, result.output
    assert message in _one_line(result)


def test_ids_are_numbers_one_after_another(cli_env: CliEnv) -> None:
    first = propose(cli_env, "Numbered: first")
    second = propose(cli_env, "Numbered: second", ["set-threshold", "threshold=2"])
    assert second == first + 1
    assert [p["id"] for p in run_json(["gov", "status"])] == list(range(1, second + 1))
    assert run_json(["gov", "status", f"0x{second:x}"])["id"] == second
    shown = run(["gov", "status", str(second)])
    assert shown.exit_code == 0 and f"proposal {second}" in shown.output
    approved = run(["gov", "approve", str(second), *cli_env.key_env("admin")])
    assert approved.exit_code == 0  # the id in plain digits, as ID takes them
    assert re.search(rf"│ id\s+│ {second}\s+│", approved.output), approved.output


def test_refusals_name_the_proposal_and_its_state(cli_env: CliEnv) -> None:
    unknown = run(["gov", "status", "12345"])
    assert unknown.exit_code == 1 and "proposal 12345 does not exist" in _one_line(unknown)
    assert "its proposals are numbered 1 to " in _one_line(unknown)
    not_an_id = run(["gov", "approve", "twelve", *cli_env.key_env("admin")])
    assert not_an_id.exit_code == 2 and "'twelve' is not a proposal id" in _one_line(not_an_id)
    no_description = run(["gov", "propose", "set-threshold", "threshold=2", *cli_env.key_env("admin")])
    assert no_description.exit_code == 2 and "--description" in _one_line(no_description)

    pid = str(propose(cli_env, "Threshold to two", ["set-threshold", "threshold=2"]))
    early = run(["gov", "execute", pid, *cli_env.key_env("admin")])
    assert early.exit_code == 1 and "it has 0 of 1 approvals" in _one_line(early)
    twice = run(
        [
            "gov",
            "propose",
            "set-threshold",
            "threshold=2",
            "--description",
            "Threshold to two",
            *cli_env.key_env("admin"),
        ]
    )
    assert twice.exit_code == 1 and "already proposed with this description" in _one_line(twice)
    outsider = run(["gov", "approve", pid, *cli_env.key_env("bank")])
    assert outsider.exit_code == 1 and "holds no operator seat" in _one_line(outsider)

    cancelled = run_json(["gov", "cancel", pid, *cli_env.key_env("admin")])
    assert cancelled["state"] == "canceled" and cancelled["via"] == "governor"
    after = run(["gov", "approve", pid, *cli_env.key_env("admin")])
    assert after.exit_code == 1 and "is canceled" in _one_line(after)


def test_execute_says_the_eta_when_not_ready(cli_env: CliEnv) -> None:
    # Give set-base-uri an hour's delay (at once: that change has no delay yet), then walk one.
    slow = propose(
        cli_env,
        "Metadata waits an hour",
        ["set-function-delay", "function=set-base-uri", "delay_seconds=3600"],
    )
    run_json(["gov", "approve", str(slow), *cli_env.key_env("admin")])
    assert run_json(["gov", "execute", str(slow), *cli_env.key_env("admin")])["state"] == "executed"
    pid = str(propose(cli_env, "Metadata, slowly"))
    run_json(["gov", "approve", pid, *cli_env.key_env("admin")])
    queued = run_json(["gov", "execute", pid, *cli_env.key_env("admin")])
    assert queued["steps"] == ["queued"] and queued["state"] == "queued"
    early = run(["gov", "execute", pid, *cli_env.key_env("admin")])
    assert early.exit_code == 1
    line = _one_line(early)
    assert f"executable at {queued['eta_iso']} (unix {queued['eta']}), in " in line and "not ready" in line
    detail = run_json(["gov", "status", pid])
    assert (detail["state"], detail["ready"], detail["delay_seconds"]) == ("queued", False, 3600)
