"""Nonces of the custodial signers, shared by every API worker over one database.

Two workers signing for the same participant must never use one nonce twice. Around allocate, sign
and broadcast a worker holds the signer's lock in the database: on PostgreSQL a
`pg_advisory_xact_lock` on a 64-bit hash of the address, in a transaction held for the duration and
committed with the new next nonce; on SQLite a lock file beside the database (several workers on one
host). The next nonce is kept in `api_signer_nonces`, and a reservation takes the larger of it and the
node's pending count, so a worker that did not send the signer's last transaction does not reuse its
nonce even if its node has not seen that transaction yet. Threads of one worker queue on a
process-local lock first, so a worker holds at most one database lock (one connection) per signer.

`SharedNonces` has the interface of `ledger.nonce.NonceManager`, which `TransactionManager` uses.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from api.dblocks import is_postgres, lock_file, lock_key

log = logging.getLogger(__name__)

_READ = text("SELECT next_nonce FROM api_signer_nonces WHERE address = :address")
_WRITE = text(
    "INSERT INTO api_signer_nonces (address, next_nonce) VALUES (:address, :next) "
    "ON CONFLICT (address) DO UPDATE SET next_nonce = excluded.next_nonce"
)
_FORGET = text("DELETE FROM api_signer_nonces WHERE address = :address")


@dataclass
class _Held:
    """The database lock one thread holds for one signer, and how many times it re-entered it."""

    conn: Connection | None  # PostgreSQL: the transaction holding the advisory lock
    fd: int | None  # SQLite: the locked file
    depth: int = 1


class SharedNonces:
    def __init__(self, engine: Engine, fetch_pending_count: Callable[[str], int]) -> None:
        self.engine = engine
        self._fetch = fetch_pending_count
        self._guard = threading.Lock()
        self._locks: dict[str, threading.RLock] = {}
        self._held: dict[str, _Held] = {}

    def _thread_lock(self, key: str) -> threading.RLock:
        with self._guard:
            return self._locks.setdefault(key, threading.RLock())

    def _take(self, key: str) -> _Held:
        if is_postgres(self.engine):
            conn = self.engine.connect()
            try:
                conn.begin()
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(f"signer:{key}")})
            except BaseException:
                conn.close()
                raise
            return _Held(conn, None)
        path = lock_file(self.engine, f"signer-{key}")
        if path is None:  # in-memory SQLite: one process, the thread lock is the whole story
            return _Held(None, None)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        return _Held(None, fd)

    @staticmethod
    def _free(held: _Held) -> None:
        if held.conn is not None:
            try:
                held.conn.commit()  # the next nonce written under the lock, and the lock released
            finally:
                held.conn.close()
        if held.fd is not None:
            os.close(held.fd)

    @contextmanager
    def lock(self, address: str) -> Iterator[None]:
        """Hold the signer's lock (re-entrant per thread) from allocating a nonce until the broadcast."""
        key = address.lower()
        with self._thread_lock(key):
            held = self._held.get(key)
            if held is not None:
                held.depth += 1
                try:
                    yield
                finally:
                    held.depth -= 1
                return
            held = self._take(key)
            self._held[key] = held
            try:
                yield
            finally:
                del self._held[key]
                self._free(held)

    @contextmanager
    def _statements(self, key: str) -> Iterator[Connection]:
        """The connection to read and write the next nonce on: the lock's own transaction if any."""
        held = self._held[key]
        if held.conn is not None:
            yield held.conn
            return
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def reserve(self, address: str, count: int = 1) -> Iterator[int]:
        """Yield the first of `count` consecutive nonces; they are consumed only if the block succeeds."""
        key = address.lower()
        with self.lock(key):
            with self._statements(key) as conn:
                stored = conn.execute(_READ, {"address": key}).scalar()
            pending = self._fetch(address)
            first = max(int(stored or 0), pending)
            if stored is not None and int(stored) > pending:
                log.debug("nonce ahead of the node address=%s stored=%d pending=%d", key, stored, pending)
            yield first
            with self._statements(key) as conn:
                conn.execute(_WRITE, {"address": key, "next": first + count})

    def resync(self, address: str) -> None:
        """Forget the stored next nonce; the next reservation takes the node's pending count."""
        key = address.lower()
        with self.lock(key), self._statements(key) as conn:
            conn.execute(_FORGET, {"address": key})
