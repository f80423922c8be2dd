"""The fault proxy, each fault against real processes: anvil on 2-second blocks behind two proxies
(chain_config/local-consortium.toml), the client code that talks to them (web3 with failover, raw
JSON-RPC batches, the transaction manager and its journal)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from ledger.faultproxy import ProxyControl
from ledger.journal import TxJournal
from ledger.keys import local_accounts
from ledger.rpc import JsonRpc, make_web3, provider_urls
from ledger.tx import TransactionManager
from tests.faults.consortium_net import Consortium

pytestmark = pytest.mark.chain


@pytest.fixture
def net(consortium: Consortium) -> Iterator[Consortium]:
    consortium.clear_faults()
    yield consortium
    consortium.clear_faults()


def _urls(net: Consortium) -> tuple[str, str]:
    first, second = net.network.rpc_urls[:2]
    return first, second


def test_profile_network_seen_through_each_proxy(net: Consortium) -> None:
    for url in net.network.rpc_urls:
        with JsonRpc([url]) as rpc:
            chain_id, gas_price = rpc.batch([("eth_chainId", []), ("eth_gasPrice", [])])
        assert int(chain_id.result, 16) == 1337
        assert int(gas_price.result, 16) == 0
    assert all(c.state().requests >= 1 for c in net.controls)
    assert len({p.url for p in net.chain.proxies}) == len(net.network.rpc_urls) >= 2


def test_503_fails_over_in_web3_and_raw_batches(net: Consortium) -> None:
    first, second = _urls(net)
    net.controls[0].inject("error503")
    with pytest.raises(httpx.HTTPStatusError):
        httpx.post(first, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).raise_for_status()
    w3 = make_web3([first, second])
    assert w3.eth.chain_id == 1337
    assert provider_urls(w3)[0] == second
    with JsonRpc([first, second], backoff=0.01) as rpc:
        assert int(rpc.call("eth_chainId", []).result, 16) == 1337
        assert rpc.url == second
    assert net.controls[0].state().applied["error503"] >= 3


def test_down_refuses_connections_until_cleared(net: Consortium) -> None:
    first, second = _urls(net)
    state = net.controls[0].inject("down")
    assert state.down
    with pytest.raises(httpx.ConnectError):
        httpx.post(first, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
    assert make_web3([first, second]).eth.chain_id == 1337
    assert not net.controls[0].clear().down
    reply = httpx.post(first, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).json()
    assert int(reply["result"], 16) == 1337


def test_hang_until_the_client_times_out_then_fail_over(net: Consortium) -> None:
    first, second = _urls(net)
    net.controls[0].inject("hang", count=1)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(first, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=0.5)
    net.controls[0].inject("hang", count=1)
    with JsonRpc([first, second], timeout=0.5, backoff=0.01) as rpc:
        assert int(rpc.call("eth_chainId", []).result, 16) == 1337
        assert rpc.url == second
    assert net.controls[0].state().applied["hang"] == 2


def test_dropped_connection_fails_over(net: Consortium) -> None:
    first, second = _urls(net)
    net.controls[0].inject("drop", count=1, methods=["eth_blockNumber"])
    with JsonRpc([first, second], backoff=0.01) as rpc:
        assert int(rpc.call("eth_chainId", []).result, 16) == 1337  # not the method named: passes
        assert rpc.url == first
        assert rpc.call("eth_blockNumber", []).result is not None
        assert rpc.url == second
    assert net.controls[0].state().applied == {"drop": 1}


def test_stale_head_lags_the_live_one(net: Consortium) -> None:
    first, second = _urls(net)
    net.chain.mine(4)  # a head deeper than the lag, however young the chain
    net.controls[0].inject("stale", blocks=3)
    with JsonRpc([first]) as stale, JsonRpc([second]) as live:
        old = int(stale.call("eth_blockNumber", []).result, 16)
        block = stale.call("eth_getBlockByNumber", ["latest", False]).result
        head = int(live.call("eth_blockNumber", []).result, 16)
    assert int(block["number"], 16) <= old + 1  # a timed block may land between the two reads
    assert head >= old + 3


def test_duplicated_and_reordered_batch_answers_are_matched_by_id(net: Consortium) -> None:
    first, _ = _urls(net)
    net.controls[0].inject("duplicate", count=2)
    net.controls[0].inject("reorder", count=2)
    body = [
        {"jsonrpc": "2.0", "id": 0, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 1, "method": "eth_gasPrice", "params": []},
    ]
    raw = httpx.post(first, json=body).json()
    assert [r["id"] for r in raw] == [1, 1, 0, 0]
    with JsonRpc([first]) as rpc:
        chain_id, gas_price = rpc.batch([("eth_chainId", []), ("eth_gasPrice", [])])
    assert int(chain_id.result, 16) == 1337 and int(gas_price.result, 16) == 0


def test_broadcast_that_hung_then_mined_is_not_signed_again(net: Consortium, tmp_path: Path) -> None:
    """The node got the transaction but the answer never came; by the time the client gave up and
    asked the other node, the transaction was mined, so the other node says 'nonce too low'. That is
    this very transaction, not a reason to sign a second one."""
    first, second = _urls(net)
    sender = local_accounts(net.mnemonic, 9)[8]
    to = Account.create().address
    w3 = make_web3([first, second], timeout=2 * net.block_time + 1)
    nonce_before = w3.eth.get_transaction_count(sender.address)
    net.controls[0].inject("hang", count=1, after=True, methods=["eth_sendRawTransaction"])
    journal = TxJournal(tmp_path / "journal.sqlite")
    manager = TransactionManager(w3, net.network, sender, journal, rpc_backoff=0.05)
    receipt = manager.send({"to": to, "value": 7, "gas": 21_000}, idempotency_key="hung:1")
    assert receipt["status"] == 1
    assert w3.eth.get_balance(to) == 7, "paid once"
    assert w3.eth.get_transaction_count(sender.address) == nonce_before + 1, (
        "one transaction signed and mined"
    )
    entry = journal.get("hung:1")
    assert entry is not None and entry.status == "mined"
    assert net.controls[0].state().applied == {"hang": 1}


def test_drop_after_the_node_handled_it_is_resent_not_resigned(net: Consortium, tmp_path: Path) -> None:
    first, second = _urls(net)
    sender = local_accounts(net.mnemonic, 10)[9]
    to = Account.create().address
    net.controls[0].inject("drop", count=1, after=True, methods=["eth_sendRawTransaction"])
    w3 = make_web3([first, second])
    nonce_before = w3.eth.get_transaction_count(sender.address)
    manager = TransactionManager(w3, net.network, sender, TxJournal(tmp_path / "j.sqlite"), rpc_backoff=0.05)
    assert manager.send({"to": to, "value": 5, "gas": 21_000}, idempotency_key="drop:1")["status"] == 1
    assert w3.eth.get_balance(to) == 5
    assert w3.eth.get_transaction_count(sender.address) == nonce_before + 1
    assert net.controls[0].state().applied == {"drop": 1}


def test_admin_endpoint_refuses_an_unknown_fault(net: Consortium) -> None:
    admin = net.chain.proxies[0].admin_url
    reply = httpx.post(f"{admin}/faults", json={"kind": "meteor"})
    assert reply.status_code == 400 and reply.json()["error"] == "invalid fault"
    assert httpx.get(f"{admin}/nowhere").status_code == 404
    assert ProxyControl(admin).state().faults == []
