"""The CLI follows its documented settings from any folder: the data dir from TIERCHAIN_DATA_DIR, the
network files from the project the package was installed from when the working folder has none."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.config import Settings
from ledger.localchain import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def bare_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any TIERCHAIN_ setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERCHAIN_")}
    env.update(extra)
    env["TIERCHAIN_LOG_LEVEL"] = "WARNING"
    return env


def tierchain(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tierchain.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _fresh_shell_in(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process in `folder` with no TIERCHAIN_ setting: what a fresh shell there would see."""
    for name in [k for k in os.environ if k.startswith("TIERCHAIN_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(folder)


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working folder outside the project, with no chain_config/ of its own."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


@pytest.fixture
def stop_chain(tmp_path: Path) -> Iterator[list[tuple[Path, dict[str, str]]]]:
    started: list[tuple[Path, dict[str, str]]] = []
    yield started
    for cwd, env in started:
        tierchain(["chain", "down"], cwd, env)


def test_chain_up_from_another_folder_keeps_its_state_in_the_data_dir(
    tmp_path: Path, elsewhere: Path, stop_chain: list[tuple[Path, dict[str, str]]]
) -> None:
    data_dir = tmp_path / "state"
    env = bare_env(TIERCHAIN_DATA_DIR=str(data_dir))
    stop_chain.append((elsewhere, env))
    up = tierchain(["chain", "up", "--port", str(free_port())], elsewhere, env)
    assert up.returncode == 0, up.stdout + up.stderr
    assert (data_dir / "local" / "anvil.json").is_file()
    status = tierchain(["chain", "status"], elsewhere, env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert str(data_dir / "local" / "anvil-state.json") in status.stdout.replace("\n", "")
    down = tierchain(["chain", "down"], elsewhere, env)
    assert down.returncode == 0 and "stopped" in down.stdout
    assert (data_dir / "local" / "anvil-state.json").is_file()  # anvil dumps its state on the way out
    assert list(elsewhere.iterdir()) == []  # nothing written where the command ran


def test_settings_outside_the_project_find_the_installed_projects_networks(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fresh_shell_in(elsewhere, monkeypatch)
    settings = Settings()
    assert settings.project_root == PROJECT_ROOT
    assert settings.chain_config_dir == PROJECT_ROOT / "chain_config"


def test_relative_path_settings_are_relative_to_the_working_folder(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fresh_shell_in(elsewhere, monkeypatch)
    monkeypatch.setenv("TIERCHAIN_DATA_DIR", "run/data")
    monkeypatch.setenv("TIERCHAIN_CHAIN_CONFIG_DIR", "networks")
    settings = Settings()
    assert settings.data_dir == elsewhere.resolve() / "run" / "data"
    assert settings.chain_config_dir == elsewhere.resolve() / "networks"
    # Defaults stay with the project: the build output is the project's, not the caller's.
    assert settings.build_dir == PROJECT_ROOT / "build"
