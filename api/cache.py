"""A read cache whose entries last as long as the indexed state they were computed from.

Every read the API answers is a function of the caller and the indexer's database, and the database
changes only when the indexer moves its cursor (a write's sync, the background sync, another process
indexing into the same database). An entry is therefore stored with the cursor it was computed at,
`(block number, block hash)`, and is served only while the cursor is still exactly that: any new
block, and any reorg (same height, other hash), invalidates everything at once. The cursor comes from
the `StateWatch` (`api.watch`), which reads it at most once per interval, not once per request: a
cached answer costs no database round trip. Callers key entries by what decides visibility (the
caller's address and roles) so one caller never sees another's answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from api.watch import StateWatch, Version

T = TypeVar("T")


class ReadCache:
    """At most `max_entries` answers (least recently used evicted), valid for one indexer cursor."""

    def __init__(self, watch: StateWatch, max_entries: int = 10_000) -> None:
        self.watch = watch
        self.max_entries = max_entries
        self._version: Version | None = None
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def version(self) -> Version | None:
        """The indexer cursor as the watch saw it last; None before the first sync (nothing is cached)."""
        return self.watch.current().cursor

    def peek(self, key: Hashable) -> object | None:
        """The cached answer for `key` if the watch's cursor is fresh and the entry is filed under it;
        None otherwise. No database round trip and no lock wait: callable from the event loop."""
        state = self.watch.peek()
        if state is None or state.cursor is None:
            return None
        with self._lock:
            if self._version != state.cursor:
                return None
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
            return found

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The cached answer for `key` at the current cursor, else `make()`.

        `make()`'s answer is stored only if the cursor seen before and after it is the same, so an
        answer is never filed under a cursor it was not computed at. Exceptions (404, 403) are not
        cached.
        """
        version = self.version()
        if version is not None:
            with self._lock:
                if self._version == version and key in self._entries:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    found: T = self._entries[key]  # type: ignore[assignment]
                    return found
        value = make()
        unchanged = version is not None and self.version() == version
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
