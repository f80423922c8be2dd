"""Per-account nonce allocation that stays correct when many threads send from one account.

The node's pending count is read once per account and then counted locally under a per-account
lock, held while the transaction is signed and broadcast, so two threads never get the same nonce.
Any failure forgets the cached value, so the next sender re-reads the node (this is how a
'nonce too low' or a transaction sent by another process is recovered from).

`NonceAllocator` is what `ledger.tx.TransactionManager` needs of an allocator: `NonceManager` serves one
process; the API's workers share one through their database (`api.nonces.SharedNonces`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

log = logging.getLogger(__name__)


class NonceAllocator(Protocol):
    def lock(self, address: str) -> AbstractContextManager[Any]:
        """The account's lock (re-entrant): held from allocating a nonce until the broadcast is done."""
        ...

    def reserve(self, address: str, count: int = 1) -> AbstractContextManager[int]:
        """The first of `count` consecutive nonces, consumed only if the block succeeds."""
        ...

    def resync(self, address: str) -> None:
        """Forget what is known of the account's next nonce; the next reservation asks the node."""
        ...


class NonceManager:
    def __init__(self, fetch_pending_count: Callable[[str], int]) -> None:
        self._fetch = fetch_pending_count
        self._guard = threading.Lock()
        self._locks: dict[str, threading.RLock] = {}
        self._next: dict[str, int] = {}

    def lock(self, address: str) -> threading.RLock:
        """The account's lock; hold it from allocating a nonce until the broadcast is done."""
        with self._guard:
            return self._locks.setdefault(address.lower(), threading.RLock())

    @contextmanager
    def reserve(self, address: str, count: int = 1) -> Iterator[int]:
        """Yield the first of `count` consecutive nonces; they are consumed only if the block succeeds."""
        key = address.lower()
        with self.lock(key):
            if key not in self._next:
                self._next[key] = self._fetch(address)
                log.debug("nonce synced address=%s nonce=%d", address, self._next[key])
            first = self._next[key]
            try:
                yield first
            except BaseException:
                self._next.pop(key, None)
                raise
            self._next[key] = first + count

    def resync(self, address: str) -> None:
        """Forget the cached nonce; the next reservation asks the node again."""
        with self.lock(address):
            self._next.pop(address.lower(), None)
