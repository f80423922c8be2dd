"""Token buckets in memory: a burst of `per_minute`, refilled continuously.

The API keeps two sets of buckets (see `api.security.authenticate`): one per participant, shared by
all of its API keys and its wallet-signed requests, taken once per authenticated request; and one
per client address, taken once per failed authentication (bad key, bad signature, replayed nonce)
and checked before any key lookup or signature recovery, so a client guessing keys or sending
garbage signatures is answered 429 without costing a database query or an ecrecover.

`DbRateLimiter` keeps the buckets in the database (`api_rate_buckets`), so every API worker, on this
host or another, takes from the same bucket: one atomic `INSERT … ON CONFLICT … DO UPDATE … RETURNING`
per hit (SQLite ≥ 3.35 and PostgreSQL). `RateLimiter` keeps them in the process's memory; the setting
`TIERCHAIN_API_RATE_LIMIT_STORE` chooses (database by default).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Engine, text

from api.errors import RateLimited

MAX_KEYS = 100_000  # beyond this many buckets, full (idle) ones are forgotten


class Limiter(Protocol):
    """What `api.security.authenticate` needs of a set of buckets."""

    in_memory: bool  # whether a step may run on the event loop (no database round trip)

    def spend_local(self, key: str) -> bool:
        """Take one token without a database round trip if this process can; False if it cannot."""
        ...

    def hit(self, key: str) -> None: ...
    def check(self, key: str) -> None: ...
    def charge(self, key: str) -> None: ...


class RateLimiter:
    in_memory = True

    def spend_local(self, key: str) -> bool:
        self.hit(key)  # every bucket is local: take the token (or raise RateLimited)
        return True

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


# The bucket's tokens now: what it held, refilled for the time since its last update, at most full.
# A clock behind the last update (another host's) refills nothing rather than taking tokens away.
_ELAPSED = "(CASE WHEN :now > b.updated_at THEN :now - b.updated_at ELSE 0 END)"
_GROWN = f"(b.tokens + {_ELAPSED} * :rate)"
_REFILLED = f"(CASE WHEN {_GROWN} > :capacity THEN :capacity ELSE {_GROWN} END)"
_LATEST = "(CASE WHEN :now > b.updated_at THEN :now ELSE b.updated_at END)"
_HIT = text(
    f"""INSERT INTO api_rate_buckets AS b (bucket, tokens, granted, updated_at)
    VALUES (:bucket, :capacity - :want, :want, :now)
    ON CONFLICT (bucket) DO UPDATE SET
        tokens = CASE WHEN {_REFILLED} >= :want THEN {_REFILLED} - :want
                      WHEN {_REFILLED} >= 1 THEN {_REFILLED} - 1 ELSE {_REFILLED} END,
        granted = CASE WHEN {_REFILLED} >= :want THEN :want WHEN {_REFILLED} >= 1 THEN 1 ELSE 0 END,
        updated_at = {_LATEST}
    RETURNING tokens, granted"""
)
_CHARGE = text(
    f"""INSERT INTO api_rate_buckets AS b (bucket, tokens, granted, updated_at)
    VALUES (:bucket, :capacity - 1, 1, :now)
    ON CONFLICT (bucket) DO UPDATE SET
        tokens = CASE WHEN {_REFILLED} >= 1 THEN {_REFILLED} - 1 ELSE 0 END,
        granted = CASE WHEN {_REFILLED} >= 1 THEN 1 ELSE 0 END,
        updated_at = {_LATEST}"""
)
_READ = text("SELECT tokens, updated_at FROM api_rate_buckets WHERE bucket = :bucket")
_PRUNE = text("DELETE FROM api_rate_buckets WHERE updated_at < :before")
FULL_AFTER_SECONDS = 60.0  # any bucket untouched this long is full again: a full bucket is no bucket
PRUNE_EVERY_SECONDS = 60.0


class DbRateLimiter:
    """Token buckets in the database, shared by every worker: same answers as `RateLimiter`.

    A worker takes tokens from a shared bucket a batch at a time — 1/20 of the limit (at least one) —
    and spends them locally, so a participant's requests cost a database write once per batch, not
    once each. The limit still holds across workers: a token is spent once, wherever it was taken.
    A worker may keep up to a batch unspent, so with N workers a participant that stops and starts
    may find up to N batches of its minute's budget parked; with small limits (under 40 a minute)
    the batch is one token and the bucket is exact.

    `scope` names this set of buckets (participants, client addresses) so two limiters over one table
    never share a bucket. `clock` is wall time: several hosts share a bucket, a monotonic clock is
    only good within one process.
    """

    in_memory = False

    def __init__(
        self,
        engine: Engine,
        scope: str,
        per_minute: int,
        clock: Callable[[], float] = time.time,
        *,
        reason: str = "rate limit exceeded",
    ) -> None:
        self.engine = engine
        self.scope = scope
        self.reason = reason
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._pruned_at = clock()
        self.batch = max(1, per_minute // 20)
        self._taken: dict[str, int] = {}  # tokens taken from the shared bucket, not yet spent
        self._lock = threading.Lock()

    def _params(self, key: str, now: float, want: int = 1) -> dict[str, object]:
        return {
            "bucket": f"{self.scope}:{key}",
            "now": now,
            "rate": self.rate,
            "capacity": self.capacity,
            "want": want,
        }

    def _refuse(self, tokens: float) -> RateLimited:
        return RateLimited((1.0 - tokens) / self.rate, self.reason)

    def _prune(self, now: float) -> None:
        """Forget buckets that have refilled, at most once a minute per limiter."""
        if now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        with self.engine.begin() as conn:
            conn.execute(_PRUNE, {"before": now - FULL_AFTER_SECONDS})

    def spend_local(self, key: str) -> bool:
        """Take one token from this worker's batch for `key`, if one is left (no database round trip)."""
        with self._lock:
            left = self._taken.get(key, 0)
            if left > 0:
                self._taken[key] = left - 1
                return True
        return False

    def hit(self, key: str) -> None:
        """Take one token for `key` (from this worker's batch, else a new batch from the database), or
        raise `RateLimited` saying when the next one is due."""
        if self.spend_local(key):
            return
        now = self.clock()
        with self.engine.begin() as conn:
            tokens, granted = conn.execute(_HIT, self._params(key, now, self.batch)).one()
        if not granted:
            raise self._refuse(float(tokens))
        if granted > 1:
            with self._lock:
                self._taken[key] = self._taken.get(key, 0) + int(granted) - 1
                if len(self._taken) > MAX_KEYS:  # keys idle long enough are refilled anyway
                    self._taken.clear()
        self._prune(now)

    def check(self, key: str) -> None:
        """Raise `RateLimited` if `key` has no token left, without taking one."""
        now = self.clock()
        with self.engine.connect() as conn:
            row = conn.execute(_READ, {"bucket": f"{self.scope}:{key}"}).first()
        if row is None:
            return
        elapsed = max(0.0, now - float(row.updated_at))
        tokens = min(self.capacity, float(row.tokens) + elapsed * self.rate)
        if tokens < 1.0:
            raise self._refuse(tokens)

    def charge(self, key: str) -> None:
        """Take one token for `key` if there is one; never raises (the caller is refusing anyway)."""
        with self.engine.begin() as conn:
            conn.execute(_CHARGE, self._params(key, self.clock()))
