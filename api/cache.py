"""A read cache whose entries last as long as the indexed state they were computed from.

Every read the API answers is a function of the caller and the indexer's database, and the database
changes only when the indexer moves its cursor (a write's sync, the background sync, another process
indexing into the same database). An entry is therefore stored with the cursor it was computed at,
`(block number, block hash)`, and is served only while the cursor is still exactly that: any new
block, and any reorg (same height, other hash), invalidates everything at once. Callers key entries
by what decides visibility (the caller's address and roles) so one caller never sees another's answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.indexer.models import Cursor

T = TypeVar("T")

Version = tuple[int, str | None]


class ReadCache:
    """At most `max_entries` answers (least recently used evicted), valid for one indexer cursor."""

    def __init__(self, chain_id: int, deployment_key: str, max_entries: int = 10_000) -> None:
        self.chain_id = chain_id
        self.deployment_key = deployment_key
        self.max_entries = max_entries
        self._version: Version | None = None
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def version(self, session: Session) -> Version | None:
        """The indexer cursor as stored now; None before the first sync (nothing is cached then)."""
        row = session.execute(
            select(Cursor.block_number, Cursor.block_hash).where(  # type: ignore[call-overload]
                Cursor.chain_id == self.chain_id, Cursor.deployment == self.deployment_key
            )
        ).first()
        return None if row is None else (int(row[0]), row[1])

    def get(self, session: Session, key: Hashable, make: Callable[[], T]) -> T:
        """The cached answer for `key` at the current cursor, else `make()`.

        The cursor is read on the route's own session (one connection per request, never two: a
        request waiting for a second connection while holding one can starve the pool). `make()`'s
        answer is stored only if the cursor read before and after it is the same, so an answer is
        never filed under a cursor it was not computed at. Exceptions (404, 403) are not cached.
        """
        version = self.version(session)
        if version is not None:
            with self._lock:
                if self._version == version and key in self._entries:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    found: T = self._entries[key]  # type: ignore[assignment]
                    return found
        value = make()
        unchanged = version is not None and self.version(session) == version
        with self._lock:
            self.misses += 1
            if unchanged:
                if self._version != version:
                    self._entries.clear()
                    self._version = version
                self._entries[key] = value
                if len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value
