"""The consortium-like profile (chain_config/local-consortium.toml): what it declares next to the Besu
QBFT example it stands in for, `tierchain chain up|status|down --profile local-consortium` (anvil and a
fault proxy per RPC URL, recorded and stopped together), and the rule that keeps one code path for both:
no anvil-only RPC method outside the local chain manager."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from ledger.config import LegacyGas, parse_network
from ledger.errors import ChainUnavailable
from ledger.localchain import LocalChain, free_port, read_run_info, rpc_urls
from tierchain.cli import app

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG = PROJECT_ROOT / "chain_config"

# Files allowed to name anvil-only JSON-RPC methods: the local chain manager, which runs anvil.
ANVIL_ONLY_ALLOWED = {Path("ledger/localchain.py")}
# anvil_*, hardhat_*, and the evm_* test methods (evm_mine, evm_snapshot, evm_increaseTime, ...); not
# configuration keys such as "evm_version".
ANVIL_ONLY = re.compile(
    r"""["'](?:(?:anvil|hardhat)_[A-Za-z]+|evm_(?:snapshot|revert|mine|[a-z]+[A-Z]\w*))["']"""
)


def test_profile_behaves_as_the_besu_qbft_example() -> None:
    consortium = parse_network(CONFIG / "local-consortium.toml", PROJECT_ROOT)
    besu = parse_network(CONFIG / "besu-qbft.toml", PROJECT_ROOT)
    assert consortium.chain_id == besu.chain_id == 1337
    assert consortium.confirmations == besu.confirmations == 1
    assert isinstance(consortium.gas, LegacyGas) and isinstance(besu.gas, LegacyGas)
    assert consortium.gas.gas_price_wei == besu.gas.gas_price_wei == 0
    assert len(consortium.rpc_urls) >= 2 and len(set(consortium.rpc_urls)) == len(consortium.rpc_urls)
    anvil = consortium.anvil
    assert anvil is not None
    assert anvil.block_time_seconds == 2 and anvil.fault_proxies
    assert anvil.gas_price_wei == 0 and anvil.base_fee_wei == 0 and anvil.chain_id == 1337
    command = LocalChain(anvil, PROJECT_ROOT, Path("/nonexistent"), port=1).command()
    joined = " ".join(command)
    assert "--block-time 2" in joined and "--gas-price 0" in joined and "--base-fee 0" in joined


def test_no_anvil_only_rpc_outside_the_local_chain_manager() -> None:
    offenders = []
    for folder in ("ledger", "api", "oracles", "tierchain"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            relative = path.relative_to(PROJECT_ROOT)
            if relative in ANVIL_ONLY_ALLOWED:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if ANVIL_ONLY.search(line):
                    offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders, "anvil-only RPC outside ledger/localchain.py:\n" + "\n".join(offenders)
    # The check itself finds what it is meant to find.
    assert ANVIL_ONLY.search('self.rpc("evm_setIntervalMining", [2])')
    assert ANVIL_ONLY.search("rpc('anvil_mine', [])")
    assert ANVIL_ONLY.search('"evm_increaseTime"') and ANVIL_ONLY.search("'evm_snapshot'")
    assert not ANVIL_ONLY.search('profile.get("evm_version", "prague")')


@pytest.mark.chain
def test_chain_up_status_down_with_the_consortium_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "chain_config"
    config_dir.mkdir()
    ports = [free_port(), free_port()]
    text = (CONFIG / "local-consortium.toml").read_text()
    text = text.replace("127.0.0.1:8645", f"127.0.0.1:{ports[0]}").replace(
        "127.0.0.1:8646", f"127.0.0.1:{ports[1]}"
    )
    (config_dir / "local-consortium.toml").write_text(text)
    data = tmp_path / "data"
    monkeypatch.setenv("TIERCHAIN_PROJECT_ROOT", str(PROJECT_ROOT))
    monkeypatch.setenv("TIERCHAIN_CHAIN_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("TIERCHAIN_DATA_DIR", str(data))
    runner = CliRunner()
    up = runner.invoke(app, ["chain", "up", "--profile", "local-consortium"])
    try:
        assert up.exit_code == 0, up.output
        info = read_run_info(data, "local-consortium")
        assert info is not None and [p.url for p in info.proxies] == [f"http://127.0.0.1:{p}" for p in ports]
        network = parse_network(config_dir / "local-consortium.toml", PROJECT_ROOT)
        assert rpc_urls(network, data) == network.rpc_urls, "clients go through the proxies"
        for url in network.rpc_urls:
            reply = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
            assert int(reply.json()["result"], 16) == 1337
        status = runner.invoke(app, ["chain", "status", "--profile", "local-consortium"])
        assert status.exit_code == 0 and all(f"127.0.0.1:{p}" in status.output for p in ports)
        assert runner.invoke(app, ["chain", "status"]).exit_code == 1, "the local profile is another chain"
    finally:
        down = runner.invoke(app, ["chain", "down", "--profile", "local-consortium"])
    assert "stopped" in down.output and "2 fault proxies" in down.output
    assert (data / "local-consortium" / "anvil-state.json").is_file()
    for port in ports:
        with pytest.raises(httpx.ConnectError):
            httpx.post(f"http://127.0.0.1:{port}", json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
    assert runner.invoke(app, ["chain", "status", "--profile", "local-consortium"]).exit_code == 1


@pytest.mark.chain
def test_a_proxy_that_cannot_listen_stops_the_whole_start(tmp_path: Path) -> None:
    anvil = parse_network(CONFIG / "local-consortium.toml", PROJECT_ROOT).anvil
    assert anvil is not None
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        chain = LocalChain(
            anvil, PROJECT_ROOT, tmp_path, name="local-consortium", proxy_urls=[f"http://127.0.0.1:{port}"]
        )
        with pytest.raises(ChainUnavailable, match=r"fault proxy for .* did not start"):
            chain.start()
    assert read_run_info(tmp_path, "local-consortium") is None
    assert chain.proxies == [] and chain._proc is None, "anvil stopped with it"
