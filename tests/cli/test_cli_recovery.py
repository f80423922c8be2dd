"""Lost-key recovery through `tierchain participant recover …` on the session chain: the ONBOARDING key
requests, a wrong case and the requesting key are refused, an ENFORCEMENT key approves; then the tokens
move (and a re-run moves nothing)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cli_support import CliEnv
from eth_account import Account
from typer.testing import CliRunner

from tierchain.cli import app

pytestmark = pytest.mark.chain

CASE = "RC-2026-0042"


def run_json(args: list[str]) -> Any:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_request_refusals_cancel_and_approve(cli_env: CliEnv) -> None:
    a = cli_env.world.a
    lost, new = a["tier2"].address, Account.create().address
    recover = ["participant", "recover"]

    empty = CliRunner().invoke(app, [*recover, "request", lost, "--to", new, "--case", "  "])
    assert empty.exit_code != 0 and "--case" in empty.output
    asked = run_json([*recover, "request", lost, "--to", new, "--case", CASE, *cli_env.key_env("admin")])
    assert (asked["lost"], asked["replacement"]) == (lost, new)
    status = run_json([*recover, "status", lost])
    assert status["request"]["replacement"] == new and status["recovered_to"] is None

    wrong = CliRunner().invoke(app, [*recover, "approve", lost, "--case", "RC-1", *cli_env.key_env("court")])
    assert wrong.exit_code != 0 and "RecoveryCaseMismatch" in wrong.output
    cancelled = run_json([*recover, "cancel", lost, "--case", CASE, *cli_env.key_env("court")])
    assert cancelled["cancelled_by"] == a["court"].address
    assert run_json([*recover, "status", lost])["request"] is None

    run_json([*recover, "request", lost, "--to", new, "--case", CASE, *cli_env.key_env("admin")])
    early = CliRunner().invoke(app, [*recover, "tokens", lost, "--case", CASE, *cli_env.key_env("court")])
    assert early.exit_code != 0 and "not recovered" in early.output
    approved = run_json([*recover, "approve", lost, "--case", CASE, "--no-tokens", *cli_env.key_env("court")])
    assert approved["approval"]["replacement"] == new and "tokens" not in approved
    after = run_json([*recover, "status", lost])
    assert (after["status"], after["recovered_to"], after["current_account"]) == ("RECOVERED", new, new)


def test_approve_moves_the_tokens_and_a_rerun_moves_nothing(cli_env: CliEnv) -> None:
    world, a = cli_env.world, cli_env.world.a
    if not any(e.get("name") == "recoverTokens" for e in world.client.token.abi):
        pytest.skip("the token of this build has no recoverTokens yet")
    issued, _ = world.issue(1_000_000_00)
    lost, new = a["tier1"].address, Account.create().address
    recover = ["participant", "recover"]
    run_json([*recover, "request", lost, "--to", new, "--case", CASE, *cli_env.key_env("admin")])
    assert run_json([*recover, "status", lost])["tokens_left"] == [issued.token_id]
    done = run_json(
        [*recover, "approve", lost, "--case", CASE, "--batch-size", "1", *cli_env.key_env("court")]
    )
    assert done["tokens"]["token_ids"] == [issued.token_id] and len(done["tokens"]["batches"]) == 1
    assert world.client.owner_of(issued.token_id) == new
    again = run_json([*recover, "tokens", lost, "--case", CASE, *cli_env.key_env("court")])
    assert again["batches"] == [] and again["token_ids"] == []
