"""The CLI: `chain up` starts a detached anvil that `chain status` sees and `chain down` stops."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.localchain import free_port
from tierchain.cli import app

pytestmark = pytest.mark.chain


def test_chain_up_status_down(tmp_path: Path, project_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_dir = tmp_path / "chain_config"
    config_dir.mkdir()
    (config_dir / "local.toml").write_text((project_root / "chain_config" / "local.toml").read_text())
    state = tmp_path / "data" / "local" / "anvil-state.json"  # the chain's state follows the data dir
    monkeypatch.setenv("TIERCHAIN_PROJECT_ROOT", str(project_root))
    monkeypatch.setenv("TIERCHAIN_CHAIN_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("TIERCHAIN_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    port = free_port()
    up = runner.invoke(app, ["chain", "up", "--port", str(port)])
    try:
        assert up.exit_code == 0, up.output
        status = runner.invoke(app, ["chain", "status"])
        assert status.exit_code == 0 and f"127.0.0.1:{port}" in status.output
    finally:
        down = runner.invoke(app, ["chain", "down"])
    assert "stopped" in down.output
    assert state.is_file(), "anvil dumps its state on SIGTERM"
    assert runner.invoke(app, ["chain", "status"]).exit_code == 1
