"""Exit codes: 1 with the decoded contract error named, 2 for usage, 3 when the chain does not answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import CliEnv
from typer.testing import CliRunner

from ledger.localchain import free_port
from tierchain.cli import app

pytestmark = pytest.mark.chain


def test_decoded_revert_exits_1_with_the_error_name(cli_env: CliEnv) -> None:
    world, a = cli_env.world, cli_env.world.a
    issued, _ = world.issue(100_000_00)
    runner = CliRunner()
    frozen = runner.invoke(app, ["token", "freeze", str(issued.token_id), *cli_env.key_env("regulator")])
    assert frozen.exit_code == 0, frozen.output
    refused = runner.invoke(
        app, ["token", "split", str(issued.token_id), a["tier2"].address, "100", *cli_env.key_env("tier1")]
    )
    assert refused.exit_code == 1
    assert f"TokenFrozen(tokenId={issued.token_id})" in refused.output
    assert "Traceback" not in refused.output


def test_usage_errors_exit_2(cli_env: CliEnv) -> None:
    runner = CliRunner()
    bad_address = runner.invoke(app, ["token", "split", "1", "not-an-address", "100"])
    assert bad_address.exit_code == 2 and "not an address" in bad_address.output
    assert runner.invoke(app, ["token", "split", "1"]).exit_code == 2
    assert runner.invoke(app, ["report", "exposures", "--by", "galaxy"]).exit_code == 2


def test_dead_rpc_exits_3_with_a_hint(
    cli_env: CliEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "chain_config"
    (config_dir / "dead.toml").write_text(
        f"""name = "dead"
rpc_urls = ["http://127.0.0.1:{free_port()}"]
chain_id = 31337
[gas]
type = "legacy"
[keys]
source = "keystore"
dir = "{tmp_path / "keys"}"
password_env = "TC_TEST_NO_PASSWORD"
"""
    )
    manifests = cli_env.data_dir / "deployments"
    (manifests / "dead.json").write_text((manifests / "local.json").read_text())
    result = CliRunner().invoke(
        app, ["participant", "status", cli_env.world.a["tier1"].address, "--network", "dead"]
    )
    assert result.exit_code == 3, result.output
    assert "tierchain chain up" in result.output


def test_no_local_chain_exits_3(cli_env: CliEnv) -> None:
    (cli_env.data_dir / "local" / "anvil.json").unlink()
    result = CliRunner().invoke(app, ["repay", "redeem", "1", *cli_env.key_env("tier1")])
    assert result.exit_code == 3 and "chain up" in result.output
