"""The aggregator's batch path: receipts confirmed in bulk under one timeout, a double-used invoice
inside a batch refused by name while the rest of the batch is attested, and the fast signing key
giving the same signature bytes as eth-keys."""

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_keys.datatypes import PrivateKey

import oracles.aggregator as aggregator_module
from ledger.rpc import BatchResult
from oracles.aggregator import Aggregator
from oracles.attestation import (
    _ATTESTATION_TYPEHASH,
    _STRUCT_TYPES,
    ATTESTATION_FIELDS,
    AttestationMessage,
    Eip712Domain,
    _struct_encoding,
    attestation_key,
    recover_attestation_signer,
    sign_attestation,
)
from oracles.canonical import fingerprint
from oracles.reasons import ReasonCode
from oracles.store import AggregatorStore, BatchItem


def _submitted(n: int) -> list[BatchItem]:
    return [
        BatchItem(
            fingerprint="0x" + f"{i + 1:064x}",
            content_hash="0x" + "cd" * 32,
            document={},
            status="submitted",
            tx_hash="0x" + f"{i + 100:064x}",
        )
        for i in range(n)
    ]


def _bare_aggregator(store: AggregatorStore, timeout: float) -> Aggregator:
    """Only what ``_reconcile`` touches: the store and a transaction manager's URL and settings."""
    aggregator = Aggregator.__new__(Aggregator)
    aggregator.store = store
    network = SimpleNamespace(receipt_timeout_seconds=timeout, poll_interval_seconds=0.01)
    aggregator.tx = SimpleNamespace(url="http://127.0.0.1:9", network=network)  # type: ignore[assignment]
    return aggregator


def test_receipts_are_polled_in_bulk_and_the_unmined_wait_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = _submitted(3)
    store = AggregatorStore(tmp_path / "aggregator.sqlite")
    store.add_new(items)
    mined_after = {items[0].tx_hash: 1, items[1].tx_hash: 2}  # the third is never mined
    asked: list[list[str]] = []

    def fake_batch_call(url: str, calls: list[tuple[str, list[Any]]]) -> list[BatchResult]:
        hashes = [params[0] for _, params in calls]
        asked.append(hashes)
        return [
            BatchResult({"status": "0x1"}) if len(asked) >= mined_after.get(h, 10**9) else BatchResult(None)
            for h in hashes
        ]

    def no_single_waits(item: BatchItem) -> None:
        raise AssertionError(f"{item.tx_hash} was waited for on its own")

    monkeypatch.setattr(aggregator_module, "batch_call", fake_batch_call)
    aggregator = _bare_aggregator(store, timeout=0.2)
    monkeypatch.setattr(aggregator, "_wait_one", no_single_waits)
    aggregator._reconcile(items)

    assert asked[0] == [i.tx_hash for i in items]
    assert asked[1] == [items[1].tx_hash, items[2].tx_hash]  # only what was still missing
    assert all(round_ == [items[2].tx_hash] for round_ in asked[2:])
    stored = store.get_many([i.fingerprint for i in items])
    assert [stored[i.fingerprint].status for i in items] == ["attested", "attested", "submitted"]


def test_a_failed_receipt_is_decoded_on_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = _submitted(2)
    store = AggregatorStore(tmp_path / "aggregator.sqlite")
    store.add_new(items)

    def fake_batch_call(url: str, calls: list[tuple[str, list[Any]]]) -> list[BatchResult]:
        return [BatchResult({"status": "0x1" if p[0] == items[0].tx_hash else "0x0"}) for _, p in calls]

    decoded: list[str | None] = []

    def wait_one(item: BatchItem) -> None:
        decoded.append(item.tx_hash)
        item.status, item.reason = "refused", "ATTESTATION_FAILED: reverted"

    monkeypatch.setattr(aggregator_module, "batch_call", fake_batch_call)
    aggregator = _bare_aggregator(store, timeout=5.0)
    monkeypatch.setattr(aggregator, "_wait_one", wait_one)
    aggregator._reconcile(items)
    assert decoded == [items[1].tx_hash]
    assert store.counts() == {"attested": 1, "refused": 1}


def test_the_coincurve_key_signs_the_same_bytes_as_eth_keys() -> None:
    account = Account.from_key("0x" + "11" * 32)
    domain = Eip712Domain(chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3")
    message = AttestationMessage(
        fingerprint="0x" + "ab" * 32, kind=1, seller=account.address, buyer=account.address,
        amount=113_000_00, currency="CNY", issue_date=0, due_date=0, nonce=7, deadline=10**9,
    )  # fmt: skip
    fast = sign_attestation(message, domain, attestation_key(account))
    assert fast == sign_attestation(message, domain, PrivateKey(account.key))
    assert fast == sign_attestation(message, domain, account)
    assert recover_attestation_signer(message, domain, fast) == account.address


@pytest.mark.chain
def test_a_double_used_invoice_in_a_batch_is_refused_and_the_rest_attested(
    world: Any, start_node: Any, make_aggregator: Any, invoices: Any, make_invoice: Any, sign: Any
) -> None:
    aggregator = make_aggregator([start_node(i).url for i in range(3)])
    first = invoices(2)
    assert aggregator.submit(first).counts == {"attested": 2}

    # The same invoice again, reprinted with another amount: same fingerprint, new content.
    reprint = sign(make_invoice(invoice_number=first[0].document.invoice_number, total_with_tax=113_000_01))
    fresh = invoices(3, first=50)
    answers = aggregator.add([fresh[0], reprint, fresh[1], fresh[2]])
    reused = fingerprint(reprint.document)
    assert [a.status for a in answers] == ["pending", "refused", "pending", "pending"]
    assert answers[1].reason is not None and answers[1].reason.startswith(ReasonCode.ALREADY_ATTESTED.value)
    assert reused in answers[1].reason and "already attested" in answers[1].reason

    report = aggregator.run()
    assert report.counts == {"attested": 5}  # the two first ones and the three fresh ones
    attested = ["0x" + bytes(e["args"]["fingerprint"]).hex() for e in world.attested_events()]
    assert sorted(attested) == sorted(fingerprint(d.document) for d in first + fresh)
    assert attested.count(reused) == 1


@pytest.mark.parametrize(
    "values",
    [
        {"amount": 1, "nonce": 0, "issue_date": 0, "due_date": 0, "deadline": 0, "kind": 4},
        {"amount": 2**256 - 1, "nonce": 2**256 - 1, "issue_date": 2**64 - 1, "due_date": 2**64 - 1,
         "deadline": 2**64 - 1, "kind": 1, "currency": "USD", "buyer": "0x" + "00" * 20},
    ],
)  # fmt: skip
def test_struct_encoding_matches_eth_abi(values: dict[str, Any]) -> None:
    base = {
        "fingerprint": "0x" + "fe" * 32, "seller": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        "buyer": "0x" + "ff" * 20, "currency": "CNY",
    }  # fmt: skip
    message = AttestationMessage.model_validate({**base, **values})
    typed = message.as_typed_data()
    expected = abi_encode(
        _STRUCT_TYPES, [_ATTESTATION_TYPEHASH] + [typed[f["name"]] for f in ATTESTATION_FIELDS]
    )
    assert _struct_encoding(message) == expected
