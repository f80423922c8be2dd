"""The transaction manager against a real anvil: sends, typed reverts, concurrency, batches, idempotency."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from web3 import Web3
from web3.contract import Contract

from ledger.client import TierchainClient
from ledger.compile import CompileResult
from ledger.config import LegacyGas, NetworkConfig
from ledger.errors import ChainUnavailable, ContractRevert, ErrorDecoder, TokenFrozen, TransactionFailed
from ledger.journal import JournalEntry, TxJournal
from ledger.keys import Signer
from ledger.localchain import LocalChain, free_port
from ledger.rpc import make_web3
from ledger.tx import TransactionManager

pytestmark = pytest.mark.chain


@pytest.fixture
def journal(tmp_path: Path) -> TxJournal:
    return TxJournal(tmp_path / "journal.sqlite")


@pytest.fixture
def manager(
    clean_chain: LocalChain, local_network: NetworkConfig, accounts: list[Signer], journal: TxJournal,
    decoder: ErrorDecoder,
) -> TransactionManager:  # fmt: skip
    return TransactionManager(make_web3(clean_chain.url), local_network, accounts[0], journal, decoder)


@pytest.fixture
def counter(manager: TransactionManager, fixture_build: CompileResult) -> Iterator[Contract]:
    artifact = fixture_build.artifacts["Counter"]
    receipt = manager.deploy(artifact)
    yield manager.w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)


def calldata(contract: Contract, fn: str, *args: Any) -> dict[str, Any]:
    return {"to": contract.address, "data": contract.encode_abi(fn, args=list(args))}


def test_send_value(manager: TransactionManager, accounts: list[Signer]) -> None:
    before = manager.w3.eth.get_balance(accounts[1].address)
    receipt = manager.send({"to": accounts[1].address, "value": 10**15})
    assert receipt["status"] == 1
    assert manager.w3.eth.get_balance(accounts[1].address) == before + 10**15


def test_legacy_gas_policy(manager: TransactionManager, accounts: list[Signer]) -> None:
    gas = LegacyGas(type="legacy", gas_price_wei=3 * 10**9, gas_limit_multiplier=1.5)
    legacy = manager.network.model_copy(update={"gas": gas})
    legacy_manager = TransactionManager(manager.w3, legacy, accounts[0], manager.journal)
    receipt = legacy_manager.send({"to": accounts[1].address, "value": 1})
    tx = manager.w3.eth.get_transaction(receipt["transactionHash"])
    assert tx["type"] == 0 and tx["gasPrice"] == 3 * 10**9 and tx["gas"] == 31500


def test_contract_call_and_custom_error(manager: TransactionManager, counter: Contract) -> None:
    manager.send(calldata(counter, "increment"))
    assert counter.functions.count().call() == 1
    manager.send(calldata(counter, "freeze", 42))
    with pytest.raises(TokenFrozen) as info:
        manager.send(calldata(counter, "touch", 42))
    assert info.value.error_name == "TokenFrozen" and info.value.args_by_name == {"tokenId": 42}
    assert info.value.contract == "Counter" and str(info.value) == "TokenFrozen(tokenId=42)"


def test_generic_errors_decode(
    manager: TransactionManager, counter: Contract, accounts: list[Signer]
) -> None:
    with pytest.raises(ContractRevert) as limit:
        manager.send(calldata(counter, "add", 5000))
    assert limit.value.error_name == "CounterLimit"
    assert limit.value.args_by_name == {"requested": 5000, "max": 1000, "caller": accounts[0].address}
    with pytest.raises(ContractRevert) as oz_error:
        manager.send(calldata(counter, "spend", 7))
    assert oz_error.value.error_name == "ERC20InsufficientBalance"
    assert oz_error.value.args_by_name["needed"] == 7
    with pytest.raises(ContractRevert, match="plain reason"):
        manager.send(calldata(counter, "fail"))
    with pytest.raises(ContractRevert, match="division or modulo by zero"):
        manager.call(calldata(counter, "divide", 1, 0))


def test_failed_receipt_is_replayed_and_decoded(manager: TransactionManager, counter: Contract) -> None:
    manager.send(calldata(counter, "freeze", 7))
    with pytest.raises(TokenFrozen) as info:
        manager.send({**calldata(counter, "touch", 7), "gas": 100_000})  # explicit gas skips estimation
    assert info.value.tx_hash is not None and info.value.receipt is not None
    assert info.value.receipt["status"] == 0


def test_concurrent_sends_get_unique_nonces(manager: TransactionManager, counter: Contract) -> None:
    start = manager.w3.eth.get_transaction_count(manager.signer.address)
    with ThreadPoolExecutor(max_workers=8) as pool:
        receipts = list(pool.map(lambda _: manager.send(calldata(counter, "increment")), range(40)))
    nonces = sorted(manager.w3.eth.get_transaction(r["transactionHash"])["nonce"] for r in receipts)
    assert nonces == list(range(start, start + 40))
    assert all(r["status"] == 1 for r in receipts)
    assert counter.functions.count().call() == 40


def test_send_many_batches(manager: TransactionManager, counter: Contract, accounts: list[Signer]) -> None:
    txs = [calldata(counter, "add", i) for i in range(1, 26)] + [{"to": accounts[2].address, "value": 5}]
    hashes = manager.send_many(txs)
    receipts = manager.wait_many(hashes)
    assert len(set(hashes)) == 26 and all(r["status"] == 1 for r in receipts)
    assert counter.functions.count().call() == sum(range(1, 26))


def test_idempotency_survives_restart(
    manager: TransactionManager, local_network: NetworkConfig, accounts: list[Signer], journal: TxJournal
) -> None:
    tx = {"to": accounts[3].address, "value": 777}
    first = manager.send(tx, idempotency_key="invoice-1/payout")
    nonce_after = manager.w3.eth.get_transaction_count(accounts[0].address)
    restarted = TransactionManager(
        make_web3(local_network.rpc_urls[0]), local_network, accounts[0], TxJournal(journal.path)
    )
    again = restarted.send(tx, idempotency_key="invoice-1/payout")
    assert again["transactionHash"] == first["transactionHash"]
    assert manager.w3.eth.get_transaction_count(accounts[0].address) == nonce_after, "nothing new was signed"
    entry = journal.get("invoice-1/payout")
    assert entry is not None and entry.status == "mined"


def test_idempotent_pending_tx_is_rebroadcast(
    clean_chain: LocalChain, manager: TransactionManager, local_network: NetworkConfig, accounts: list[Signer]
) -> None:
    clean_chain.rpc("evm_setAutomine", [False])
    try:
        tx_hash = manager.submit({"to": accounts[3].address, "value": 1}, idempotency_key="k-pending")
        clean_chain.rpc("anvil_dropTransaction", [tx_hash])  # as if the node lost it
        restarted = TransactionManager(
            make_web3(clean_chain.url), local_network, accounts[0], manager.journal
        )
        assert (
            restarted.submit({"to": accounts[3].address, "value": 1}, idempotency_key="k-pending") == tx_hash
        )
        assert clean_chain.rpc("eth_getTransactionByHash", [tx_hash]) is not None, "rebroadcast"
        clean_chain.mine()
    finally:
        clean_chain.rpc("evm_setAutomine", [True])
    assert restarted.wait_for_receipt(tx_hash)["status"] == 1


def test_idempotency_keys_in_batches(manager: TransactionManager, accounts: list[Signer]) -> None:
    txs = [{"to": accounts[3].address, "value": v} for v in (1, 2, 3)]
    first = manager.send_many(txs, idempotency_keys=["b-1", None, "b-3"])
    manager.wait_many(first)
    second = manager.send_many(txs, idempotency_keys=["b-1", None, "b-3"])
    assert second[0] == first[0] and second[2] == first[2] and second[1] != first[1]


def test_nonce_too_low_resyncs(manager: TransactionManager, accounts: list[Signer]) -> None:
    manager.send({"to": accounts[1].address, "value": 1})
    # Another process uses the same account behind the manager's back.
    w3: Web3 = manager.w3
    nonce = w3.eth.get_transaction_count(accounts[0].address, "pending")
    raw = accounts[0].sign_transaction({
        "to": accounts[1].address, "value": 1, "gas": 21000, "nonce": nonce, "chainId": 31337,
        "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9,
    }).raw_transaction  # fmt: skip
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(raw))
    assert manager.send({"to": accounts[1].address, "value": 1})["status"] == 1


def test_dead_node_raises_chain_unavailable(
    local_network: NetworkConfig, accounts: list[Signer], journal: TxJournal
) -> None:
    dead = make_web3(f"http://127.0.0.1:{free_port()}", timeout=2)
    manager = TransactionManager(dead, local_network, accounts[0], journal, rpc_attempts=3, rpc_backoff=0.01)
    with pytest.raises(ChainUnavailable, match="after 3 attempts"):
        manager.send({"to": accounts[1].address, "value": 1})


def test_transaction_failed_without_revert_data(manager: TransactionManager, accounts: list[Signer]) -> None:
    with pytest.raises(TransactionFailed):
        manager.send({"to": accounts[1].address, "value": 10**30})  # more ether than exists


def test_keyed_tx_dropped_by_a_reorg_is_rebroadcast(
    clean_chain: LocalChain, manager: TransactionManager, accounts: list[Signer]
) -> None:
    tx = {"to": accounts[3].address, "value": 555}
    fork = clean_chain.snapshot()
    first = manager.send(tx, idempotency_key="k-reorged")
    nonce = manager.w3.eth.get_transaction_count(accounts[0].address)
    assert clean_chain.revert(fork)  # the block holding it is gone: so is its receipt
    clean_chain.mine(2)
    assert manager._receipt_or_none(first["transactionHash"].to_0x_hex()) is None
    again = manager.send(tx, idempotency_key="k-reorged")
    assert again["transactionHash"] == first["transactionHash"], "the same signed bytes, sent again"
    assert manager.w3.eth.get_transaction_count(accounts[0].address) == nonce, "nothing new was signed"
    entry = manager.journal.get("k-reorged")
    assert entry is not None and entry.status == "mined"


def test_keyed_tx_dropped_by_a_reorg_whose_nonce_is_taken_is_signed_once_more(
    clean_chain: LocalChain, manager: TransactionManager, accounts: list[Signer]
) -> None:
    tx = {"to": accounts[3].address, "value": 556}
    before = manager.w3.eth.get_balance(accounts[3].address)
    fork = clean_chain.snapshot()
    first = manager.send(tx, idempotency_key="k-reorged-taken")
    assert clean_chain.revert(fork)
    # The replacement chain holds another transaction of the same sender at that nonce.
    w3: Web3 = manager.w3
    nonce = w3.eth.get_transaction_count(accounts[0].address, "pending")
    raw = accounts[0].sign_transaction({
        "to": accounts[2].address, "value": 1, "gas": 21000, "nonce": nonce, "chainId": 31337,
        "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9,
    }).raw_transaction  # fmt: skip
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(raw))
    again = manager.send(tx, idempotency_key="k-reorged-taken")
    assert again["transactionHash"] != first["transactionHash"]
    assert manager._receipt_or_none(first["transactionHash"].to_0x_hex()) is None
    assert manager.w3.eth.get_balance(accounts[3].address) == before + 556, "executed exactly once"
    assert manager.send(tx, idempotency_key="k-reorged-taken")["transactionHash"] == again["transactionHash"]


@pytest.mark.parametrize("fees", [{"gasPrice": 0}, {"maxFeePerGas": 10**9, "maxPriorityFeePerGas": 0}])
def test_client_reads_the_gas_of_a_journaled_tx_legacy_or_typed(
    tmp_path: Path, accounts: list[Signer], fees: dict[str, int]
) -> None:
    journal = TxJournal(tmp_path / "journal.sqlite")
    fields = {"to": accounts[1].address, "value": 1, "gas": 54_321, "nonce": 7, "chainId": 1337, **fees}
    signed = accounts[0].sign_transaction(fields)
    entry = JournalEntry(
        key="k-gas", sender=accounts[0].address, nonce=7, tx_hash="0x" + bytes(signed.hash).hex(),
        raw_tx="0x" + bytes(signed.raw_transaction).hex(), status="mined",
    )  # fmt: skip
    journal.record(entry)
    client = SimpleNamespace(manager=SimpleNamespace(journal=journal))
    assert TierchainClient._journaled_gas(client, "k-gas") == 54_321  # type: ignore[arg-type]
