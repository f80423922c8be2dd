"""What a cached answer depends on, read once per interval instead of once per request.

Two things decide whether a cached read or a cached credential is still right: the indexer cursor
`(block number, block hash)` (every answer about the ledger, and every participant's roles and status,
comes from the indexed state) and the number of revoked API keys (a revocation must stop a key at
once). `StateWatch` reads both in one round trip at most every `interval` seconds and hands the same
answer to every request in between: under load a worker asks the database ~20 times a second instead
of once per request. A process that changes either itself (a write syncs the indexer, a key is
revoked) calls `expire()`, so its next request sees the change at once; a change made by another
process (another worker, a separate indexer) is seen within `interval`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from api.tables import api_keys
from ledger.indexer.models import Cursor

log = logging.getLogger(__name__)

Version = tuple[int, str | None]


@dataclass(frozen=True)
class State:
    """The indexer cursor (None before the first sync) and how many API keys have been revoked."""

    cursor: Version | None
    revocations: int


class StateWatch:
    def __init__(
        self,
        engine: Engine,
        chain_id: int,
        deployment_key: str,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.chain_id = chain_id
        self.deployment_key = deployment_key
        self.interval = interval
        self.clock = clock
        self._state: State | None = None
        self._read_at = float("-inf")
        self._lock = threading.Lock()
        self.reads = 0  # database round trips so far (for tests and profiling)
        self._refreshing = False

    def read(self) -> State:
        """Both values as stored now (one connection, two small queries)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(Cursor.block_number, Cursor.block_hash).where(  # type: ignore[call-overload]
                    Cursor.chain_id == self.chain_id, Cursor.deployment == self.deployment_key
                )
            ).first()
            revoked = conn.execute(select(func.count(api_keys.c.revoked_at))).scalar_one()
        self.reads += 1
        return State(None if row is None else (int(row[0]), row[1]), int(revoked))

    def current(self) -> State:
        """The state read at most `interval` seconds ago (read now if older, or if expired)."""
        with self._lock:
            now = self.clock()
            if self._state is None or now - self._read_at >= self.interval:
                self._state = self.read()
                self._read_at = now
            return self._state

    def peek(self) -> State | None:
        """The state if it was read less than `interval` ago (twice that while `run` keeps it fresh),
        else None; never touches the database, so the event loop may call it and serve a cached
        answer without a thread hop."""
        state, read_at = self._state, self._read_at
        limit = self.interval * (2 if self._refreshing else 1)
        if state is None or self.clock() - read_at >= limit:
            return None
        return state

    def run(self, stop: threading.Event) -> None:
        """Re-read the state every `interval` until `stop` is set (a server's background thread), so
        requests find it fresh and never wait for the read themselves."""
        self._refreshing = True
        try:
            while not stop.wait(self.interval):
                try:
                    state = self.read()
                except Exception as exc:  # the database is away: requests read (and fail) themselves
                    log.warning("state watch could not read the database error=%s", exc)
                    continue
                with self._lock:
                    self._state, self._read_at = state, self.clock()
        finally:
            self._refreshing = False

    def expire(self) -> None:
        """Forget the state: this process just changed it (indexed a block, revoked a key)."""
        with self._lock:
            self._state = None
            self._read_at = float("-inf")
