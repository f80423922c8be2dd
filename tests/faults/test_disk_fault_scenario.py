"""Scenario 5 of the consortium fault suite: the disk under the transaction journal, the API's database
and an oracle node's work store fills up, then space returns.

The fault is a real one: a small tmpfs mounted for the test holds the files, and a filler file takes
its last byte, so SQLite gets ENOSPC and answers SQLITE_FULL ("database or disk is full"). Where
mounting is not allowed (an unprivileged CI), the same SQLITE_FULL is produced by `PRAGMA
max_page_count` on the in-process connections, and the API's part (its own process) is skipped.

While the disk is full: the journal refuses to record, so the transaction manager never broadcasts
what it could not journal (the signer's nonce on chain does not move), with an error naming the file
and the cause; the API answers 507 `storage-full` problem+json with `Retry-After`, the chain
untouched; an oracle node answers 503 naming its store and gives no signature it could not store.
After space returns the same idempotency keys complete, and the chain holds each operation exactly
once. The table (attempted / acknowledged / executed / lost / duplicated, recovery time) is printed.
"""

from __future__ import annotations

import importlib.util
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from web3 import Web3

from ledger.client import TierchainClient
from ledger.config import NetworkConfig
from ledger.deploy import Deployment
from ledger.errors import ErrorDecoder, NotPersisted
from ledger.journal import TxJournal
from ledger.keys import Signer
from ledger.localchain import LocalChain, free_port
from ledger.rpc import make_web3
from ledger.tx import TransactionManager
from oracles.attestation import Eip712Domain
from oracles.checks import CORE_ENTERPRISE, SUPPLIER, Participant
from oracles.documents import Invoice
from oracles.memory import InMemoryDirectory, InMemoryFingerprintLedger
from oracles.node import NodeServer, OracleNode
from oracles.signatures import sign_document
from oracles.store import NodeStore
from oracles.trust import TrustStore
from tests.api.served import serve_api
from tests.api.support import OPERATOR_KEY

pytestmark = pytest.mark.chain

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DISK_BYTES = 16 * 1024 * 1024
OPS_PER_PHASE = 3
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
OPERATOR = {"Authorization": f"Bearer {OPERATOR_KEY}"}


FILLER = "~disk-filler-"


def _tables(db: sqlite3.Connection) -> dict[str, list[tuple[str, str]]]:
    """Each table's columns (name, declared type)."""
    names = [
        str(r[0])
        for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {t: [(str(c[1]), str(c[2]).upper()) for c in db.execute(f"PRAGMA table_info({t})")] for t in names}


def _fill_database(db: sqlite3.Connection) -> None:
    """Cap the file at its size (`max_page_count`) and take the room left in its pages with filler rows,
    down to the last byte, so that the next write of any table gets SQLITE_FULL."""
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
    n = 0
    for table, columns in _tables(db).items():
        names = ", ".join(name for name, _type in columns)
        marks = ", ".join("?" for _ in columns)
        for size in (1024, 128, 16, 1):
            while True:
                n += 1
                row = [
                    0 if "INT" in kind else f"{FILLER}{n}-" + "x" * size if i == 0 else "x" * size
                    for i, (_name, kind) in enumerate(columns)
                ]
                try:
                    db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", row)
                except sqlite3.OperationalError as exc:
                    assert "full" in str(exc), exc
                    break


def _free_database(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA max_page_count = 1073741823")
    for table, columns in _tables(db).items():
        db.execute(f"DELETE FROM {table} WHERE {columns[0][0]} LIKE ?", (FILLER + "%",))


class SmallDisk:
    """A directory whose space can be used up and given back: a tmpfs of its own if mounting is
    allowed here, else a plain directory whose SQLite files are capped and filled (`_fill_database`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.filler = root / "filler"
        self.capped: list[sqlite3.Connection] = []
        try:
            result = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tierchain-test-disk", str(root)],
                capture_output=True,
                text=True,
            )
            refused = result.stderr.strip() if result.returncode else None
        except OSError as exc:  # no mount command at all
            refused = str(exc)
        self.mounted = refused is None
        self.how = (
            f"a {DISK_BYTES // 2**20} MiB tmpfs filled to its last byte (ENOSPC)"
            if self.mounted
            else f"max_page_count and filler rows (mount refused: {refused or 'not permitted'})"
        )

    def fill(self) -> None:
        if not self.mounted:
            for db in self.capped:
                _fill_database(db)
            return
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (1 << 20, 1 << 12, 1):
                chunk = b"\0" * size
                try:
                    while True:
                        os.write(fd, chunk)
                except OSError:  # ENOSPC: go on with smaller writes, down to the last byte
                    continue
        finally:
            os.close(fd)
        assert os.statvfs(self.root).f_bavail == 0

    def free(self) -> None:
        if not self.mounted:
            for db in self.capped:
                _free_database(db)
            return
        self.filler.unlink()

    def close(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.root)], capture_output=True)


@pytest.fixture
def disk() -> Iterator[SmallDisk]:
    root = Path(tempfile.mkdtemp(prefix="tierchain-disk-"))
    small = SmallDisk(root)
    try:
        yield small
    finally:
        small.close()
        for path in sorted(root.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        root.rmdir()


@dataclass
class Row:
    """One line of the table: what was attempted, acknowledged, and what the chain (or store) holds."""

    name: str
    keys: list[str] = field(default_factory=list)
    acked: set[str] = field(default_factory=set)
    refused: list[str] = field(default_factory=list)  # the errors given while the disk was full
    executed: Counter[str] = field(default_factory=Counter)
    recovery: float = float("nan")

    def line(self) -> str:
        counts = [self.executed[k] for k in self.keys]
        lost = sum(1 for k, c in zip(self.keys, counts, strict=True) if k in self.acked and c == 0)
        dup = sum(c - 1 for c in counts if c > 1)
        return (
            f"{self.name:<14}{len(self.keys):>10}{len(self.acked):>14}{sum(counts):>10}{lost:>6}{dup:>12}"
            f"{self.recovery:>12.2f}"
        )


def _registrations(w3: Web3, deployment: Deployment, abis: dict[str, Any], start: int) -> Counter[bytes]:
    registry = w3.eth.contract(
        address=Web3.to_checksum_address(deployment.address("ParticipantRegistry")),
        abi=abis["ParticipantRegistry"],
    )
    events = registry.events.ParticipantRegistered().get_logs(from_block=start, to_block="latest")
    return Counter(bytes(e.args.legalIdHash) for e in events)


def _journal_part(
    disk: SmallDisk,
    chain: LocalChain,
    network: NetworkConfig,
    deployment: Deployment,
    abis: dict[str, Any],
    admin: Signer,
) -> Row:
    """Register participants through the ledger client, its journal on the small disk."""
    journal = TxJournal(disk.root / "journal.sqlite")
    disk.capped.append(journal._db)
    manager = TransactionManager(
        make_web3(chain.url), network, admin, journal, ErrorDecoder.from_artifacts(abis)
    )
    client = TierchainClient(manager, deployment, abis)
    w3 = client.w3
    start = w3.eth.block_number
    row = Row("journal")
    legal: dict[str, str] = {}

    def register(key: str) -> None:
        client.register_participant(
            admin, Account.create().address, keccak(text=legal[key]), ["SUPPLIER"], key=key
        )

    def new_key(phase: str, i: int) -> str:
        key = f"s5-journal-{phase}-{i}-{time.time_ns()}"
        legal[key] = f"USCC-S5-{key}"
        row.keys.append(key)
        return key

    for i in range(OPS_PER_PHASE):
        key = new_key("before", i)
        register(key)
        row.acked.add(key)
    disk.fill()
    sent = w3.eth.get_transaction_count(admin.address, "pending")
    refused = [new_key("full", i) for i in range(OPS_PER_PHASE)]
    for key in refused:
        with pytest.raises(NotPersisted) as caught:
            register(key)
        row.refused.append(str(caught.value))
        assert journal.get(key) is None
    assert w3.eth.get_transaction_count(admin.address, "pending") == sent  # nothing broadcast
    disk.free()
    freed = time.monotonic()
    for key in refused:  # the same keys, once space is back
        register(key)
        row.acked.add(key)
        if row.recovery != row.recovery:
            row.recovery = time.monotonic() - freed
    for i in range(OPS_PER_PHASE):
        key = new_key("after", i)
        register(key)
        row.acked.add(key)
    by_hash = _registrations(w3, deployment, abis, start)
    row.executed = Counter({k: by_hash[keccak(text=legal[k])] for k in row.keys})
    assert all(journal.get(k) is not None and journal.get(k).status == "mined" for k in row.keys)  # type: ignore[union-attr]
    disk.capped.remove(journal._db)
    journal.close()
    return row


def _api_part(disk: SmallDisk, chain: LocalChain, deployment: Deployment, abis: dict[str, Any]) -> Row:
    """Onboard participants through the API, its SQLite database (journal included) on the small disk."""
    row = Row("api onboard")
    w3 = Web3(Web3.HTTPProvider(chain.url))
    start = w3.eth.block_number
    legal: dict[str, str] = {}
    bodies: dict[str, dict[str, Any]] = {}
    data_dir = disk.root / "api"
    with serve_api(
        data_dir,
        chain.url,
        deployment.model_dump_json(),
        OPERATOR_KEY,
        {"sync_interval_seconds": 0},
        database_url=f"sqlite:///{data_dir / 'tierchain.sqlite'}",
    ) as served:

        def onboard(key: str) -> httpx.Response:
            return httpx.post(
                served.url + "/v1/participants",
                json=bodies[key],
                headers=OPERATOR | {"Idempotency-Key": key},
                timeout=60,
            )

        def new_key(phase: str, i: int) -> str:
            key = f"s5-api-{phase}-{i}-{time.time_ns()}"
            legal[key] = f"USCC-S5-{key}"
            bodies[key] = {
                "legal_id": legal[key],
                "roles": ["SUPPLIER"],
                "custody": "self",
                "address": Account.create().address,
            }
            row.keys.append(key)
            return key

        for i in range(OPS_PER_PHASE):
            key = new_key("before", i)
            answer = onboard(key)
            assert answer.status_code == 201, answer.text
            row.acked.add(key)
        disk.fill()
        operator = w3.eth.accounts[0]
        sent = w3.eth.get_transaction_count(operator, "pending")
        refused = [new_key("full", i) for i in range(OPS_PER_PHASE)]
        for key in refused:
            answer = onboard(key)
            assert answer.status_code == 507, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["type"].endswith("/storage-full"), answer.json()
            assert int(answer.headers["Retry-After"]) >= 1
            row.refused.append(answer.json()["detail"])
        assert w3.eth.get_transaction_count(operator, "pending") == sent  # nothing broadcast
        disk.free()
        freed = time.monotonic()
        for key in refused:
            deadline = time.monotonic() + 60
            while (answer := onboard(key)).status_code != 201:
                assert answer.status_code in (409, 503, 507), answer.text
                assert time.monotonic() < deadline, answer.text
                time.sleep(0.5)
            row.acked.add(key)
            if row.recovery != row.recovery:
                row.recovery = time.monotonic() - freed
        for i in range(OPS_PER_PHASE):
            key = new_key("after", i)
            answer = onboard(key)
            assert answer.status_code == 201, answer.text
            row.acked.add(key)
        replayed = onboard(refused[0])  # the stored answer, not a second registration
        assert replayed.status_code == 201 and replayed.headers.get("Idempotent-Replayed") == "true"
        assert served.process.poll() is None
    by_hash = _registrations(w3, deployment, abis, start)
    row.executed = Counter({k: by_hash[keccak(text=legal[k])] for k in row.keys})
    return row


def _load_gen() -> ModuleType:
    name = "gen_documents"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "scripts" / "gen_documents.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _oracle_part(disk: SmallDisk) -> Row:
    """An oracle node over HTTP, its work store on the small disk: no signature it could not store."""
    gen = _load_gen()
    pki = gen.build_pki(random.Random(11), NOW)
    directory = InMemoryDirectory()
    seller, buyer = "91310000MA1FL0XX1X", "91110000100000000X"
    directory.register(
        seller, Participant(address=Account.create().address, roles=frozenset({SUPPLIER}), active=True)
    )
    directory.register(
        buyer, Participant(address=Account.create().address, roles=frozenset({CORE_ENTERPRISE}), active=True)
    )
    store = NodeStore(disk.root / "node.sqlite")
    disk.capped.append(store._db)
    node = OracleNode(
        Account.create(),
        Eip712Domain(chain_id=31337, verifying_contract="0x" + "11" * 20),
        TrustStore([pki.root], [pki.crl]),
        directory,
        InMemoryFingerprintLedger(),
        store,
        clock=lambda: NOW,
    )
    server = NodeServer(node, free_port()).start()
    key, chain_pems = pki.issuers["einvoice"]
    fields: dict[str, Any] = {
        "kind": 1,
        "currency": "CNY",
        "invoice_code": "044001900111",
        "issue_date": "2026-03-01",
        "seller_tax_id": seller,
        "buyer_tax_id": buyer,
        "amount_without_tax": 100_000_00,
        "tax_amount": 13_000_00,
        "total_with_tax": 113_000_00,
        "line_items_hash": "0x" + "ab" * 32,
        "due_date": "2026-06-01",
    }
    deadline = int(NOW.timestamp()) + 86_400
    row = Row("oracle sign")
    docs: dict[str, Any] = {}
    signatures: dict[str, set[str]] = {}

    def sign(number: str) -> httpx.Response:
        body = {"deadline": deadline, "documents": [docs[number].model_dump(mode="json")]}
        return httpx.post(server.url + "/sign", json=body, timeout=30)

    def new_doc(i: int) -> str:
        number = f"{70_000_000 + i}"
        docs[number] = sign_document(
            Invoice.model_validate({**fields, "invoice_number": number}), key, chain_pems
        )
        row.keys.append(number)
        return number

    def acked(number: str, answer: httpx.Response) -> None:
        assert answer.status_code == 200, answer.text
        (one,) = answer.json()["answers"]
        assert one["ok"], one
        signatures.setdefault(number, set()).add(one["signature"])
        row.acked.add(number)

    try:
        for i in range(OPS_PER_PHASE):
            number = new_doc(i)
            acked(number, sign(number))
        disk.fill()
        stored = store.count()
        refused = [new_doc(OPS_PER_PHASE + i) for i in range(OPS_PER_PHASE)]
        for number in refused:
            answer = sign(number)
            assert answer.status_code == 503, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
            row.refused.append(answer.json()["detail"])
        assert store.count() == stored
        disk.free()
        freed = time.monotonic()
        for number in refused:
            acked(number, sign(number))
            if row.recovery != row.recovery:
                row.recovery = time.monotonic() - freed
        for i in range(OPS_PER_PHASE):
            number = new_doc(2 * OPS_PER_PHASE + i)
            acked(number, sign(number))
        for number in row.keys:  # asked again: the stored answer, the very same signature
            acked(number, sign(number))
    finally:
        server.stop()
    fingerprints = {str(r[0]) for r in store._query("SELECT fingerprint FROM node_documents")}
    row.executed = Counter({n: 1 for n in row.keys if len(signatures.get(n, ())) == 1})
    assert len(fingerprints) == len(row.keys)
    disk.capped.remove(store._db)
    store.close()
    return row


def test_disk_full_under_journal_api_and_oracle_store_nothing_acknowledged_unpersisted(
    disk: SmallDisk,
    clean_chain: LocalChain,
    local_network: NetworkConfig,
    tierchain_deployment: Deployment,
    tierchain_abis: dict[str, list[dict[str, Any]]],
    actors: dict[str, Signer],
) -> None:
    rows = [
        _journal_part(
            disk, clean_chain, local_network, tierchain_deployment, tierchain_abis, actors["admin"]
        ),
        _oracle_part(disk),
    ]
    if disk.mounted:
        rows.append(_api_part(disk, clean_chain, tierchain_deployment, tierchain_abis))

    print(f"\nscenario 5: the data dir's disk fills up, then space returns ({disk.how})")
    print(
        f"{'store':<14}{'attempted':>10}{'acknowledged':>14}{'executed':>10}{'lost':>6}{'duplicated':>12}"
        f"{'recovery s':>12}"
    )
    for row in rows:
        print(row.line())
    for row in rows:
        print(f"{row.name} while full: {row.refused[0]}")
    if not disk.mounted:
        print("api onboard: not run (its database is in another process; mounting a small disk was refused)")

    for row in rows:
        assert len(row.refused) == OPS_PER_PHASE, row.name
        assert row.acked == set(row.keys), row.name
        assert [row.executed[k] for k in row.keys] == [1] * len(row.keys), (row.name, row.executed)
    # the errors name the file and the cause
    journal, oracle = rows[0], rows[1]
    assert all(str(disk.root / "journal.sqlite") in e and "disk is full" in e for e in journal.refused)
    assert all(str(disk.root / "node.sqlite") in e and "disk is full" in e for e in oracle.refused)
    if disk.mounted:
        assert all("disk is full" in e for e in rows[2].refused)
