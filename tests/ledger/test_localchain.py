"""LocalChain: state survives a restart, and a detached chain can be stopped from its run file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.config import AnvilConfig, parse_network
from ledger.errors import ChainUnavailable
from ledger.keys import Signer
from ledger.localchain import LocalChain, anvil_binary, read_run_info, rpc_urls, stop_recorded
from ledger.rpc import make_web3

pytestmark = pytest.mark.chain


def test_uses_native_binary(project_root: Path) -> None:
    assert anvil_binary(project_root).name == "anvil"
    assert "anvil-linux" in str(anvil_binary(project_root)) or "bin" in str(anvil_binary(project_root))


def test_restart_keeps_state(tmp_path: Path, project_root: Path, accounts: list[Signer]) -> None:
    config = AnvilConfig(state_file=tmp_path / "state.json", accounts=2)
    sender, receiver = accounts[0], accounts[1]
    with LocalChain(config, project_root, tmp_path / "data") as chain:
        w3 = make_web3(chain.url)
        chain.mine(3)
        tx = sender.sign_transaction({
            "to": receiver.address, "value": 12345, "gas": 21000, "nonce": 0, "chainId": 31337,
            "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9,
        })  # fmt: skip
        receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(tx.raw_transaction))
        assert receipt["status"] == 1
        block, balance = w3.eth.block_number, w3.eth.get_balance(receiver.address)
    assert (tmp_path / "state.json").is_file()
    with LocalChain(config, project_root, tmp_path / "data") as chain:
        w3 = make_web3(chain.url)
        assert w3.eth.block_number == block
        assert w3.eth.get_balance(receiver.address) == balance
        assert w3.eth.get_transaction_count(sender.address) == 1


def test_detached_chain_stopped_via_run_file(tmp_path: Path, project_root: Path) -> None:
    config = AnvilConfig(state_file=tmp_path / "state.json")
    chain = LocalChain(config, project_root, tmp_path, detach=True).start()
    try:
        info = read_run_info(tmp_path)
        assert info is not None and info.url == chain.url
        # Clients of the local network reach the recorded chain, not the configured port.
        local = parse_network(project_root / "chain_config" / "local.toml", project_root)
        assert rpc_urls(local, tmp_path) == [chain.url]
        with pytest.raises(ChainUnavailable, match="already runs"):
            LocalChain(config, project_root, tmp_path).start()
        stopped = stop_recorded(tmp_path)
        assert stopped is not None and stopped.pid == info.pid
        assert read_run_info(tmp_path) is None
        assert rpc_urls(local, tmp_path) == list(local.rpc_urls)
        assert stop_recorded(tmp_path) is None
    finally:
        chain.stop()


def test_anvil_helpers(clean_chain: LocalChain) -> None:
    w3 = make_web3(clean_chain.url)
    start = w3.eth.get_block("latest")
    clean_chain.increase_time(3600)
    clean_chain.mine(2)
    end = w3.eth.get_block("latest")
    assert end["number"] == start["number"] + 2
    assert end["timestamp"] >= start["timestamp"] + 3600
