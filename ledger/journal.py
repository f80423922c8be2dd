"""The transaction journal: what was signed for each idempotency key, written before broadcasting.

If the process dies between signing and learning the outcome, the journal lets the next attempt
with the same key find the very same signed transaction instead of signing a second one: mined
means return its receipt, pending means rebroadcast the same bytes. A plain SQLite file under the
data dir is enough: one row per key, written by one process at a time per key.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

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


class JournalEntry(BaseModel):
    key: str
    sender: str
    nonce: int
    tx_hash: str
    raw_tx: str
    status: TxStatus


def _now() -> str:
    return datetime.now(UTC).isoformat()


class TxJournal:
    """SQLite-backed map from idempotency key to the signed transaction that fulfils it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per operation: simple, and safe across threads.
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

    def get(self, key: str) -> JournalEntry | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT key, sender, nonce, tx_hash, raw_tx, status FROM tx_journal WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        return JournalEntry(
            key=row[0], sender=row[1], nonce=row[2], tx_hash=row[3], raw_tx=row[4], status=row[5]
        )

    def record(self, entry: JournalEntry) -> None:
        """Store a freshly signed transaction; replaces the row only if the old one was dropped."""
        now = _now()
        with self._lock, self._connect() as db:
            old = db.execute("SELECT status FROM tx_journal WHERE key = ?", (entry.key,)).fetchone()
            if old is not None and old[0] != "dropped":
                raise ValueError(f"idempotency key {entry.key!r} already journaled with status {old[0]}")
            db.execute(
                "INSERT OR REPLACE INTO tx_journal VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (entry.key, entry.sender, entry.nonce, entry.tx_hash, entry.raw_tx, entry.status, now, now),
            )

    def set_status(self, key: str, status: TxStatus) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "UPDATE tx_journal SET status = ?, updated_at = ? WHERE key = ?", (status, _now(), key)
            )
