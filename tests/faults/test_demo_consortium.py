"""`./scripts/demo --network local-consortium`: the demo's own chain set-up on the consortium-like
profile (anvil on 2-second blocks behind a fault proxy per RPC URL, free legacy gas, chain id 1337), its
deployment, its client going through the proxies, and its time travel (`warp_to`) under interval
mining. The whole demo on this profile takes minutes (a block every 2 s for ~100 transactions), so CI
runs this short flow; docs/operations.md gives the full run's time."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = PROJECT_ROOT / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

from demo_scenario.chain import deploy, start_chain  # noqa: E402

from ledger.config import Settings  # noqa: E402
from ledger.keys import local_accounts  # noqa: E402
from ledger.rpc import provider_urls  # noqa: E402

pytestmark = pytest.mark.chain

DAY = 86_400


def test_demo_chain_on_the_consortium_profile(tmp_path: Path) -> None:
    local, network = start_chain(PROJECT_ROOT, tmp_path, detach=False, network_name="local-consortium")
    try:
        assert network.chain_id == 1337 and len(network.rpc_urls) == 2
        assert network.rpc_urls == [p.url for p in local.proxies], (
            "the demo's client goes through the proxies"
        )
        settings = Settings(project_root=PROJECT_ROOT, data_dir=tmp_path, build_dir=PROJECT_ROOT / "build")
        assert network.anvil is not None and network.anvil.block_time_seconds == 2
        admin = local_accounts(network.anvil.mnemonic, 1)[0]
        local.set_mining(None)  # deploying on 2 s blocks takes a minute: the flow below is what is measured
        try:
            chain = deploy(local, network, settings, admin)
        finally:
            local.set_mining(network.anvil.block_time_seconds)
        assert provider_urls(chain.client.w3)[0] in network.rpc_urls
        assert chain.client.w3.eth.gas_price == 0

        # A transaction on timed blocks, at zero gas price, as a legacy transaction.
        minted = chain.client.mint(admin, "CNY", admin.address, 1_00)
        tx = chain.client.w3.eth.get_transaction(minted.tx_hash)
        assert tx["type"] == 0 and tx["gasPrice"] == 0

        # Time travel under interval mining: the clock jumps, and the timed blocks after it keep to it.
        now = chain.now()
        target = now + 90 * DAY
        chain.warp_to(target)
        assert chain.now() >= target
        head = chain.client.w3.eth.block_number
        deadline = time.monotonic() + 10 * network.anvil.block_time_seconds
        while chain.client.w3.eth.block_number == head:  # the next block comes on its own
            assert time.monotonic() < deadline, "interval mining stopped"
            time.sleep(0.2)
        assert chain.now() >= target
    finally:
        local.stop()
    assert not local.proxies


def test_demo_refuses_a_network_without_an_anvil_table() -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPTS / "demo.py"), "--network", "besu-qbft"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "no [anvil] table" in run.stdout + run.stderr
