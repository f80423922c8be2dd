"""Settlement cash from the command line: the issuer mints test cash, anyone reads a balance and the
desks' allowances; a key that is not the token's issuer is refused with a sentence naming both."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cli_support import CliEnv
from typer.testing import CliRunner

from tierchain.cli import app

pytestmark = pytest.mark.chain


def run_json(args: list[str]) -> Any:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_issuer_mints_settlement_cash_and_the_balance_shows_it(cli_env: CliEnv) -> None:
    bank = cli_env.world.a["bank"].address
    before = cli_env.world.client.cash_balance("CNY", bank)
    minted = run_json(["settlement", "mint", "--to", bank, "--amount", "250000", *cli_env.key_env("admin")])
    assert minted["amount"] == 250_000 and minted["balance"] == before + 250_000
    assert minted["tx_hash"].startswith("0x")
    balance = run_json(["settlement", "balance", bank])
    [cny] = [b for b in balance["balances"] if b["currency"] == "CNY"]
    assert cny["balance"] == before + 250_000
    assert set(cny["allowances"]) == {"financing_desk", "repayment_desk"}


def test_mint_with_a_key_that_is_not_the_issuer_is_refused_naming_both(cli_env: CliEnv) -> None:
    bank = cli_env.world.a["bank"].address
    result = CliRunner().invoke(
        app, ["settlement", "mint", "--to", bank, "--amount", "100", *cli_env.key_env("bank")]
    )
    assert result.exit_code == 1, result.output
    assert "issuer" in result.output and bank.lower()[2:10] in result.output.lower()
