"""RPC failover: a network lists several nodes; a dead one (refused connection) hands over to the next.

The dead node is a free loopback port nobody listens on, listed first; the live one is the session
anvil. Web3 (and so the transaction manager), raw JSON-RPC batches and the indexer's source must all
carry on, and the switch must be logged with key=value fields.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from eth_account import Account

from ledger.config import NetworkConfig
from ledger.errors import ChainUnavailable
from ledger.indexer.source import RpcSource
from ledger.journal import TxJournal
from ledger.keys import Signer
from ledger.localchain import LocalChain, free_port
from ledger.rpc import JsonRpc, make_web3, provider_urls
from ledger.tx import TransactionManager

pytestmark = pytest.mark.chain


@pytest.fixture
def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def test_web3_fails_over_and_stays_on_the_live_node(
    anvil: LocalChain, dead_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    w3 = make_web3([dead_url, anvil.url])
    with caplog.at_level(logging.WARNING, logger="ledger.rpc"):
        assert w3.eth.chain_id == 31337
    failovers = [r.getMessage() for r in caplog.records if "rpc failover" in r.getMessage()]
    assert len(failovers) == 1
    assert f"from={dead_url}" in failovers[0] and f"to={anvil.url}" in failovers[0]
    assert provider_urls(w3) == [anvil.url, dead_url], "the live node is now the preferred one"
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ledger.rpc"):
        assert w3.eth.block_number >= 0
    assert not caplog.records, "no second failover once on the live node"


def test_transaction_manager_sends_through_failover(
    clean_chain: LocalChain,
    local_network: NetworkConfig,
    accounts: list[Signer],
    dead_url: str,
    tmp_path: Path,
) -> None:
    network = local_network.model_copy(update={"rpc_urls": [dead_url, clean_chain.url]})
    manager = TransactionManager(
        make_web3(network.rpc_urls), network, accounts[0], TxJournal(tmp_path / "journal.sqlite")
    )
    to = Account.create().address
    receipt = manager.send({"to": to, "value": 1, "gas": 21_000}, idempotency_key="failover:1")
    assert receipt["status"] == 1
    hashes = manager.send_many([{"to": to, "value": 1, "gas": 21_000}] * 3)
    assert [r["status"] for r in manager.wait_many(hashes)] == [1, 1, 1]
    assert manager.url == clean_chain.url
    assert manager.w3.eth.get_balance(to) == 4


def test_raw_batches_and_indexer_source_fail_over(anvil: LocalChain, dead_url: str) -> None:
    with JsonRpc([dead_url, anvil.url], backoff=0.01) as rpc:
        chain_id, head = rpc.batch([("eth_chainId", []), ("eth_blockNumber", [])])
        assert int(chain_id.result, 16) == 31337 and head.error is None
        assert rpc.url == anvil.url
    source = RpcSource([dead_url, anvil.url], backoff=0.01)
    try:
        head_number = source.head()
        assert head_number >= 0
        assert source.headers([0])[0].number == 0
        assert source.url == anvil.url
    finally:
        source.close()


def test_all_nodes_dead_is_chain_unavailable_after_backoff(dead_url: str) -> None:
    other = f"http://127.0.0.1:{free_port()}"
    with JsonRpc([dead_url, other], attempts=3, backoff=0.01) as rpc, pytest.raises(ChainUnavailable):
        rpc.call("eth_chainId", [])
    with pytest.raises(ChainUnavailable):
        RpcSource([dead_url, other], attempts=2, backoff=0.01).head()
