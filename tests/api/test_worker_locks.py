"""The database-backed pieces several API workers share, on SQLite (one host) and PostgreSQL: custodial
nonces (`api.nonces`), the indexer writer lock (`api.dblocks.Lease`) and the journal (`api.txjournal`).
Each "worker" here is its own object with its own engine, as separate processes would have."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text

from api import tables
from api.dblocks import Lease
from api.nonces import SharedNonces
from api.txjournal import DbTxJournal
from ledger.indexer.db import make_engine
from ledger.journal import JournalEntry

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SIGNER = "0x00000000000000000000000000000000000000AA"


@pytest.fixture(params=["sqlite", "postgresql"])
def engines(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """Make engines on one fresh database (a worker each)."""
    made: list[Engine] = []
    admin = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    else:
        try:
            psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3).close()
        except psycopg.Error as exc:
            pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {exc}")
        name = f"tc_locks_{uuid.uuid4().hex[:12]}"
        admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_URL.rsplit("/", 1)[0] + f"/{name}"

    def make() -> Engine:
        made.append(make_engine(url))
        return made[-1]

    tables.upgrade(make())
    yield make
    for engine in made:
        engine.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()


class Node:
    """A node that counts what was broadcast; its pending count lags one transaction behind at times,
    as a node that has not yet seen another worker's last broadcast would."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.lock = threading.Lock()

    def pending(self, _address: str) -> int:
        with self.lock:
            return max(0, len(self.sent) - (len(self.sent) % 2))  # stale every other time

    def broadcast(self, nonce: int) -> None:
        with self.lock:
            self.sent.append(nonce)


def test_two_workers_allocating_for_one_signer_never_share_a_nonce(engines: Callable[[], Engine]) -> None:
    node = Node()
    workers = [SharedNonces(engines(), node.pending) for _ in range(2)]

    def send(i: int) -> None:
        allocator = workers[i % 2]
        with allocator.lock(SIGNER), allocator.reserve(SIGNER) as nonce:
            node.broadcast(nonce)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(send, range(40)))
    assert sorted(node.sent) == list(range(40))


def test_a_failed_broadcast_does_not_consume_its_nonce_and_resync_forgets_the_stored_one(
    engines: Callable[[], Engine],
) -> None:
    engine = engines()
    first = SharedNonces(engine, lambda _a: 5)
    with pytest.raises(RuntimeError), first.reserve(SIGNER) as nonce:
        assert nonce == 5
        raise RuntimeError("broadcast refused")
    with first.reserve(SIGNER, 3) as nonce:
        assert nonce == 5
    second = SharedNonces(engines(), lambda _a: 5)  # its node has not seen those three yet
    with second.reserve(SIGNER) as nonce:
        assert nonce == 8
    second.resync(SIGNER)
    with second.reserve(SIGNER) as nonce:
        assert nonce == 5


def test_one_writer_at_a_time_and_the_lock_comes_free_when_its_holder_lets_go(
    engines: Callable[[], Engine],
) -> None:
    first, second = Lease(engines(), "indexer-writer:test"), Lease(engines(), "indexer-writer:test")
    assert first.acquire()
    assert first.acquire()  # held: still the writer
    assert not second.acquire()
    first.release()
    assert second.acquire()
    assert not first.acquire()
    second.release()


def test_the_journal_is_shared_and_signs_a_key_once(engines: Callable[[], Engine]) -> None:
    first, second = DbTxJournal(engines()), DbTxJournal(engines())
    entry = JournalEntry(
        key="api:0xabc:k1", sender=SIGNER, nonce=7, tx_hash="0x01", raw_tx="0xff", status="signed"
    )
    first.record(entry)
    assert second.get(entry.key) == entry
    with pytest.raises(ValueError, match="already journaled"):
        second.record(entry.model_copy(update={"tx_hash": "0x02"}))
    second.set_status(entry.key, "dropped")
    first.record(entry.model_copy(update={"tx_hash": "0x03", "nonce": 8}))
    found = second.get(entry.key)
    assert found is not None and (found.tx_hash, found.nonce, found.status) == ("0x03", 8, "signed")
    assert second.get("api:0xabc:unknown") is None
