"""`tierchain chain advance` moves the local chain's clock forward, and only the local chain's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_settings_anywhere import bare_env, tierchain

from ledger.config import Settings, load_network
from ledger.errors import LocalOnly
from ledger.localchain import advance_time, free_port

DAY = 86_400


@pytest.fixture
def local_chain(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A chain of its own (`chain up` in a fresh data dir): moving time must not leak into other tests."""
    env = bare_env(TIERCHAIN_DATA_DIR=str(tmp_path / "data"))
    up = tierchain(["chain", "up", "--port", str(free_port())], tmp_path, env)
    assert up.returncode == 0, up.stdout + up.stderr
    yield tmp_path, env
    tierchain(["chain", "down"], tmp_path, env)


def test_chain_advance_moves_the_local_clock_by_days_seconds_or_to_a_date(
    local_chain: tuple[Path, dict[str, str]],
) -> None:
    cwd, env = local_chain
    days = tierchain(["chain", "advance", "--days", "30", "--json"], cwd, env)
    assert days.returncode == 0, days.stdout + days.stderr
    moved = json.loads(days.stdout)
    assert moved["after"] - moved["before"] == 30 * DAY and moved["seconds"] == 30 * DAY
    seconds = tierchain(["chain", "advance", "--seconds", "90", "--json"], cwd, env)
    assert json.loads(seconds.stdout)["after"] == moved["after"] + 90
    target = datetime.fromtimestamp(moved["after"] + 365 * DAY, UTC).date()
    to = tierchain(["chain", "advance", "--to", target.isoformat()], cwd, env)
    assert to.returncode == 0, to.stdout + to.stderr
    assert target.isoformat() in to.stdout


def test_chain_advance_refuses_to_go_back_in_time(local_chain: tuple[Path, dict[str, str]]) -> None:
    cwd, env = local_chain
    past = tierchain(["chain", "advance", "--to", "2000-01-01"], cwd, env)
    assert past.returncode == 2 and "not after the chain's time" in past.stderr
    both = tierchain(["chain", "advance", "--days", "1", "--seconds", "5"], cwd, env)
    assert both.returncode == 2 and "exactly one of --days, --seconds, --to" in both.stderr


def test_chain_advance_is_refused_off_the_local_network(tmp_path: Path) -> None:
    env = bare_env(TIERCHAIN_DATA_DIR=str(tmp_path / "data"))
    refused = tierchain(["chain", "advance", "--days", "1", "--network", "sepolia"], tmp_path, env)
    assert refused.returncode == 1
    assert "sepolia" in refused.stderr and "local" in refused.stderr


def test_advance_time_refuses_a_network_that_is_not_local(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(LocalOnly, match="besu-qbft"):
        advance_time(load_network(settings, "besu-qbft"), settings.data_dir, seconds=DAY)
