"""API keys checked once per state, not once per request.

Checking a key costs a row lookup (and a hash), and turning it into a `Principal` a participant
lookup in the index. Both answers change only when an API key is revoked or the indexed state moves
(a participant's roles or status come from the chain), which is exactly what `StateWatch` reports.
So a checked key's principal is kept with the state it was computed at and reused while the state
stands: a revocation anywhere shows within the watch's interval (at once in the process that made
it), a suspension as soon as it is indexed. Only successes are kept; a refused key is checked again
every time (and counts against the client's failed-authentication budget every time). Entries are
keyed by a hash of the key, never the key itself.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

from api.security import Principal
from api.watch import State, StateWatch


class PrincipalCache:
    """At most `max_entries` checked keys (least recently used evicted)."""

    def __init__(self, watch: StateWatch, max_entries: int = 10_000) -> None:
        self.watch = watch
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, tuple[State, Principal]] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, token: str) -> Principal | None:
        """The kept principal of `token` if the watch's state is fresh and unchanged since the check;
        None otherwise. No database round trip: the event loop calls it before any thread hop."""
        state = self.watch.peek()
        if state is None:
            return None
        with self._lock:
            found = self._entries.get(hashlib.sha256(token.encode()).digest())
        return found[1] if found is not None and found[0] == state else None

    def principal(self, token: str, check: Callable[[], Principal]) -> Principal:
        """The principal of `token`: kept from an earlier check at this state, else `check()`."""
        digest = hashlib.sha256(token.encode()).digest()
        state = self.watch.current()
        with self._lock:
            found = self._entries.get(digest)
            if found is not None and found[0] == state:
                self._entries.move_to_end(digest)
                return found[1]
        caller = check()
        if self.watch.current() == state:  # never file an answer under a state it was not computed at
            with self._lock:
                self._entries[digest] = (state, caller)
                self._entries.move_to_end(digest)
                if len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return caller
