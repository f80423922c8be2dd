"""Recourse (追索) through the `tierchain finance recourse-*` commands on the session chain: a with-recourse
financing defaults, the bank opens the claim, the seller settles part, the bank waives the rest."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cli_support import CliEnv
from typer.testing import CliRunner

from ledger.client import DayCount
from tierchain.cli import app

pytestmark = pytest.mark.chain

DAY = 86_400
FACE = 1_000_000_00


def run_json(args: list[str]) -> Any:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_open_settle_list_and_waive_a_recourse_claim(cli_env: CliEnv) -> None:
    world, a = cli_env.world, cli_env.world.a
    c = world.client
    issued, terms = world.issue(FACE, days=30)
    expiry = world.now + DAY
    offer = c.make_offer(a["bank"], issued.token_id, FACE, 500, DayCount.ACT_360, expiry, recourse=True)
    c.accept_offer(a["tier1"], offer.offer_id)
    c.deposit(a["core"], issued.slot, FACE // 4)
    world.warp_to(terms.maturity + c.deployment.grace_period_seconds)
    c.declare_default(a["outsider"], issued.slot)
    offer_id = str(offer.offer_id)

    refused = CliRunner().invoke(app, ["finance", "recourse-open", offer_id, *cli_env.key_env("tier1")])
    assert refused.exit_code != 0 and "NotOfferBank" in refused.output
    opened = run_json(["finance", "recourse-open", offer_id, *cli_env.key_env("bank")])
    assert (opened["shortfall"], opened["seller"]) == (FACE - FACE // 4, a["tier1"].address)
    paid = run_json(["finance", "recourse-settle", offer_id, "1000000", *cli_env.key_env("tier1")])
    assert (paid["amount"], paid["remaining"]) == (1_000_000, FACE - FACE // 4 - 1_000_000)
    listed = run_json(
        ["finance", "recourse-list", "--seller", a["tier1"].address, "--open", *cli_env.key_env("tier1")]
    )
    assert [(x["offer_id"], x["state"], x["settled"]) for x in listed] == [
        (offer.offer_id, "PARTLY_SETTLED", 1_000_000)
    ]
    waived = run_json(["finance", "recourse-waive", offer_id, *cli_env.key_env("bank")])
    assert waived["remaining"] == FACE - FACE // 4 - 1_000_000
    assert run_json(["finance", "recourse-list", "--open", *cli_env.key_env("bank")]) == []
