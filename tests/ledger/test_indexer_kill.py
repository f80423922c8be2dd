"""`tierchain index run` killed with SIGKILL at a random moment while it ingests, then restarted with
`--once`: the database must equal a fresh replay, table by table (each range commits atomically).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from client_world import World, build_world
from test_indexer_real_deployment import _flow

from ledger.client import TierchainClient
from ledger.compile import load_abis
from ledger.config import NetworkConfig
from ledger.deploy import Deployment
from ledger.indexer import Indexer
from ledger.indexer.db import make_engine, upgrade
from ledger.indexer.manifest import IndexedDeployment
from ledger.indexer.source import RpcSource
from ledger.keys import Signer
from ledger.localchain import LocalChain
from tests.conftest import PROJECT_ROOT
from tests.ledger.indexer.helpers import dump

pytestmark = pytest.mark.chain


@pytest.fixture
def world(tierchain_client: TierchainClient, clean_chain: LocalChain, actors: dict[str, Signer]) -> World:
    return build_world(tierchain_client, clean_chain, actors)


def _env(tmp_path: Path, session_dir: Path, url: str) -> dict[str, str]:
    config_dir = tmp_path / "chain_config"
    config_dir.mkdir(exist_ok=True)
    local = (PROJECT_ROOT / "chain_config" / "local.toml").read_text()
    (config_dir / "local.toml").write_text(local.replace('"http://127.0.0.1:8545"', f'"{url}"'))
    return {
        **os.environ,
        "TIERCHAIN_PROJECT_ROOT": str(PROJECT_ROOT),
        "TIERCHAIN_CHAIN_CONFIG_DIR": str(config_dir),
        "TIERCHAIN_DATA_DIR": str(session_dir / "tierchain-deploy"),
        "TIERCHAIN_BUILD_DIR": str(PROJECT_ROOT / "build"),
        "TIERCHAIN_DATABASE_URL": f"sqlite:///{tmp_path / 'killed.sqlite'}",
        "TIERCHAIN_LOG_LEVEL": "INFO",
    }


def test_sigkill_mid_ingest_then_once_equals_fresh_replay(
    world: World,
    local_network: NetworkConfig,
    tierchain_deployment: Deployment,
    session_dir: Path,
    tmp_path: Path,
) -> None:
    _flow(world)
    _flow(world)
    head = world.client.w3.eth.block_number
    env = _env(tmp_path, session_dir, local_network.rpc_urls[0])
    command = [sys.executable, "-m", "tierchain.cli", "index", "run", "--chunk-size", "1"]
    seed = random.randrange(2**32)
    delay = random.Random(seed).uniform(0.0, 0.6)
    log_file = tmp_path / "indexer.log"
    with log_file.open("wb") as out:
        proc = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while b"range indexed" not in log_file.read_bytes():  # wait for ingestion to begin
                assert proc.poll() is None, log_file.read_text()
                assert time.monotonic() < deadline, "the indexer never started ingesting"
                time.sleep(0.01)
            time.sleep(delay)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    ranges_before_kill = log_file.read_text().count("range indexed")

    rerun = subprocess.run([*command[:-2], "--once"], env=env, cwd=PROJECT_ROOT, capture_output=True)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"indexed to block {head}".encode() in rerun.stdout

    deployment = IndexedDeployment.model_validate(tierchain_deployment.model_dump())
    fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    upgrade(fresh)
    Indexer(fresh, RpcSource(local_network.rpc_urls), deployment, load_abis(PROJECT_ROOT / "build"),
            max_reorg_depth=0).sync()  # fmt: skip
    killed = make_engine(env["TIERCHAIN_DATABASE_URL"])
    try:
        assert dump(killed) == dump(fresh), f"seed={seed} delay={delay:.3f} ranges={ranges_before_kill}"
    finally:
        killed.dispose()
        fresh.dispose()
