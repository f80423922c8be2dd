"""Token buckets in memory: a burst of `per_minute`, refilled continuously.

The API keeps two sets of buckets (see `api.security.authenticate`): one per participant, shared by
all of its API keys and its wallet-signed requests, taken once per authenticated request; and one
per client address, taken once per failed authentication (bad key, bad signature, replayed nonce)
and checked before any key lookup or signature recovery, so a client guessing keys or sending
garbage signatures is answered 429 without costing a database query or an ecrecover.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from api.errors import RateLimited

MAX_KEYS = 100_000  # beyond this many buckets, full (idle) ones are forgotten


class RateLimiter:
    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
        *,
        reason: str = "rate limit exceeded",
    ) -> None:
        self.reason = reason  # what a refusal says, so two limiters' 429s can be told apart
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _tokens(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.capacity, now))
        return min(self.capacity, tokens + (now - last) * self.rate)

    def _store(self, key: str, tokens: float, now: float) -> None:
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self.max_keys:  # a full bucket is the same as no bucket
            self._buckets = {
                k: (t, at) for k, (t, at) in self._buckets.items() if self._tokens(k, now) < self.capacity
            }

    def _refuse(self, tokens: float) -> RateLimited:
        return RateLimited((1.0 - tokens) / self.rate, self.reason)

    def hit(self, key: str) -> None:
        """Take one token for `key`, or raise `RateLimited` saying when the next one is due."""
        with self._lock:
            now = self.clock()
            tokens = self._tokens(key, now)
            if tokens < 1.0:
                self._store(key, tokens, now)
                raise self._refuse(tokens)
            self._store(key, tokens - 1.0, now)

    def check(self, key: str) -> None:
        """Raise `RateLimited` if `key` has no token left, without taking one."""
        with self._lock:
            tokens = self._tokens(key, self.clock())
        if tokens < 1.0:
            raise self._refuse(tokens)

    def charge(self, key: str) -> None:
        """Take one token for `key` if there is one; never raises (the caller is refusing anyway)."""
        with self._lock:
            now = self.clock()
            self._store(key, max(0.0, self._tokens(key, now) - 1.0), now)
