"""`tierchain dev up` starts the whole local network detached; `dev down` stops exactly those processes."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_settings_anywhere import bare_env, tierchain

from ledger.localchain import free_port
from tierchain.cli.dev import DevProcess, _start_ticks, is_ours, terminate

pytestmark = pytest.mark.chain


@pytest.fixture
def dev_world(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    env = bare_env(TIERCHAIN_DATA_DIR=str(tmp_path / "data"))
    yield tmp_path, env
    tierchain(["dev", "down"], tmp_path, env)  # whatever the test left running


def test_dev_up_serves_every_printed_url_and_dev_down_stops_exactly_those_processes(
    dev_world: tuple[Path, dict[str, str]],
) -> None:
    cwd, env = dev_world
    up = tierchain(
        ["dev", "up", "--json", "--api-port", str(free_port()), "--chain-port", str(free_port())],
        cwd, env, timeout=300,
    )  # fmt: skip
    assert up.returncode == 0, up.stdout + up.stderr
    world = json.loads(up.stdout)
    assert world["status"] == "up"
    assert {p["name"] for p in world["processes"]} == {
        "oracle-1", "oracle-2", "oracle-3", "aggregator", "indexer", "api",
    }  # fmt: skip
    roles = {k["role"] for k in world["keys"]}
    assert {"platform operator (API)", "aggregator (submits attestations)", "oracle node 3"} <= roles
    assert all(len(k["key"]) > 40 for k in world["keys"])  # whole keys, never shortened
    assert world["settings"]["TIERCHAIN_API_KEYSTORE_PASSWORD"]
    with httpx.Client(timeout=10) as http:
        assert http.get(f"{world['api_url']}/health").json()["status"] == "ok"
        for url in [world["docs_url"], world["dashboard_url"]]:
            assert http.get(url).status_code == 200, url
        for url in [*world["oracle_urls"], world["aggregator_url"]]:
            assert http.get(f"{url}/health").status_code == 200, url
        chain = http.post(world["rpc_url"], json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
        assert int(chain.json()["result"], 16) == 31337
        # Custodial onboarding works in the dev world, and the new account gets gas to act with.
        operator = world["keys"][0]["key"]
        onboarded = http.post(
            f"{world['api_url']}/participants",
            json={"legal_id": "91310000MA1FL8T123", "roles": ["SUPPLIER"], "custody": "custodial"},
            headers={"Authorization": f"Bearer {operator}"},
        )
        assert onboarded.status_code in (200, 201), onboarded.text
        address = onboarded.json()["participant"]["address"]
        balance = http.post(
            world["rpc_url"],
            json={"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": [address, "latest"]},
        )
        assert int(balance.json()["result"], 16) > 0

    again = tierchain(["dev", "up"], cwd, env)
    assert again.returncode == 0 and "already up" in again.stdout

    processes = [DevProcess.model_validate(p) for p in world["processes"]]
    down = tierchain(["dev", "down", "--json"], cwd, env)
    assert down.returncode == 0, down.stdout + down.stderr
    assert len(json.loads(down.stdout)["stopped"]) == len(processes) + 1  # and the chain it started
    assert not any(is_ours(p) for p in processes)
    assert not (Path(world["data_dir"]) / "dev" / "dev.json").exists()
    assert tierchain(["chain", "status"], cwd, env).returncode == 1
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{world['api_url']}/health", timeout=2)


def test_dev_down_leaves_a_process_alone_that_only_shares_a_recorded_pid(tmp_path: Path) -> None:
    stranger = subprocess.Popen(["sleep", "30"])
    try:
        started = _start_ticks(stranger.pid)
        assert started is not None
        record = DevProcess(
            name="api", pid=stranger.pid, started=started, url=None, log=str(tmp_path / "x.log"),
            command=["python", "-m", "tierchain.cli", "serve"],
        )  # fmt: skip
        assert not is_ours(record) and not terminate(record)
        recycled = record.model_copy(update={"command": ["sleep", "30"], "started": started + 1})
        assert not is_ours(recycled) and not terminate(recycled)
        time.sleep(0.1)
        assert stranger.poll() is None  # still running: not ours, not touched
    finally:
        stranger.kill()
        stranger.wait()
