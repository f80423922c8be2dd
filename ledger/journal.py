"""The transaction journal: what was signed for each idempotency key, written before broadcasting.

If the process dies between signing and learning the outcome, the journal lets the next attempt
with the same key find the very same signed transaction instead of signing a second one: mined
means return its receipt, pending means rebroadcast the same bytes. A plain SQLite file under the
data dir is enough: one row per key, written by one process at a time per key.

Each journal keeps one connection for its lifetime, shared by the threads that use it under a
lock: opening a connection per call cost ~13 ms (connect, schema check, fsync) and dominated
sending a batch of attestations. WAL with ``synchronous=NORMAL`` commits without an fsync per
transaction: a process crash loses nothing committed, and a power loss can drop only the last
commits, which is what the journal must survive anyway (it is written *before* broadcasting, so a
lost row means a transaction that was never sent). Writes run under ``BEGIN IMMEDIATE`` so a
check-then-insert stays atomic when another process (or another journal object) has the file open.
``record_many`` and ``set_status_many`` write a whole batch in one transaction. A write the file
refuses (a full disk, a read-only data dir) raises `ledger.errors.NotPersisted`: `record` fails before
the transaction manager broadcasts, so nothing is sent that the journal does not hold.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol

from pydantic import BaseModel

from ledger.errors import NotPersisted

TxStatus = Literal["signed", "sent", "mined", "failed", "dropped"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tx_journal (
    key        TEXT PRIMARY KEY,
    sender     TEXT NOT NULL,
    nonce      INTEGER NOT NULL,
    tx_hash    TEXT NOT NULL,
    raw_tx     TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)
"""
_COLUMNS = "key, sender, nonce, tx_hash, raw_tx, status"
# SQLite's default limit on host parameters per statement is 32,766 (999 before 3.32).
_IN_CHUNK = 500


class JournalEntry(BaseModel):
    key: str
    sender: str
    nonce: int
    tx_hash: str
    raw_tx: str
    status: TxStatus


class Journal(Protocol):
    """What `ledger.tx.TransactionManager` needs of a journal: `TxJournal` is one SQLite file per host;
    the API's workers share one in their database (`api.txjournal.DbTxJournal`)."""

    def get(self, key: str) -> JournalEntry | None: ...

    def record(self, entry: JournalEntry) -> None:
        """Store a freshly signed transaction; ValueError if the key is journaled and not dropped."""
        ...

    def set_status(self, key: str, status: TxStatus) -> None: ...


def _rollback(db: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open (SQLite ends it itself on some errors, e.g. a full disk)."""
    if db.in_transaction:
        db.execute("ROLLBACK")


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _entry(row: tuple[object, ...]) -> JournalEntry:
    key, sender, nonce, tx_hash, raw_tx, status = row
    return JournalEntry.model_validate(
        {"key": key, "sender": sender, "nonce": nonce, "tx_hash": tx_hash, "raw_tx": raw_tx, "status": status}
    )


class TxJournal:
    """SQLite-backed map from idempotency key to the signed transaction that fulfils it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # isolation_level=None: transactions are opened explicitly, never implicitly by a read.
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> TxJournal:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; a write the file refuses (a full disk, a read-only data dir) raises
        `NotPersisted` naming the file and the cause, and the transaction is rolled back."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    _rollback(self._db)
                    raise
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise
                raise NotPersisted("the transaction journal", str(self.path), exc) from exc

    def get(self, key: str) -> JournalEntry | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM tx_journal WHERE key = ?", (key,)).fetchone()
        return None if row is None else _entry(row)

    def get_many(self, keys: Sequence[str]) -> dict[str, JournalEntry]:
        """Entries for those of ``keys`` that are journaled, by key."""
        found: dict[str, JournalEntry] = {}
        with self._lock:
            for start in range(0, len(keys), _IN_CHUNK):
                chunk = list(keys[start : start + _IN_CHUNK])
                marks = ", ".join("?" for _ in chunk)
                rows = self._db.execute(
                    f"SELECT {_COLUMNS} FROM tx_journal WHERE key IN ({marks})", chunk
                ).fetchall()
                found.update((str(row[0]), _entry(row)) for row in rows)
        return found

    def record(self, entry: JournalEntry) -> None:
        """Store a freshly signed transaction; replaces the row only if the old one was dropped."""
        self.record_many([entry])

    def record_many(self, entries: Iterable[JournalEntry]) -> None:
        """Store freshly signed transactions in one transaction: all of them, or none if a key is taken."""
        now = _now()
        entries = list(entries)
        if not entries:
            return
        with self._transaction() as db:
            for entry in entries:
                old = db.execute("SELECT status FROM tx_journal WHERE key = ?", (entry.key,)).fetchone()
                if old is not None and old[0] != "dropped":
                    raise ValueError(f"idempotency key {entry.key!r} already journaled with status {old[0]}")
                row = (entry.key, entry.sender, entry.nonce, entry.tx_hash, entry.raw_tx, entry.status)
                db.execute(
                    "INSERT OR REPLACE INTO tx_journal VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (*row, now, now),
                )

    def set_status(self, key: str, status: TxStatus) -> None:
        self.set_status_many([key], status)

    def set_status_many(self, keys: Iterable[str], status: TxStatus) -> None:
        """Move every one of ``keys`` to ``status`` in one transaction; unknown keys are ignored."""
        now = _now()
        rows = [(status, now, key) for key in keys]
        if not rows:
            return
        with self._transaction() as db:
            db.executemany("UPDATE tx_journal SET status = ?, updated_at = ? WHERE key = ?", rows)
