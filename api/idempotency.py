"""Idempotent writes: a retried request with the same `Idempotency-Key` gets the first answer back.

A record is claimed (principal, key) before the write runs, holding the method, path and body hash;
the answer is stored when the write succeeds. A retry with the same request replays the stored
answer, even after a restart (the records live in the database); the same key on a different
request is refused (422); a retry while the first is still running gets 409. A write that failed is
released, so it can be retried: the chain side is protected by the transaction journal, which signs
each keyed operation once. A release that fails because the database is unreachable is done before
the process's next claim, once the database is back.

On PostgreSQL the worker running a claimed write also holds a session advisory lock named after the
key (`api.dblocks.Lease`) until the write ends. A worker killed mid-write (SIGKILL, OOM) never
releases its claim, but its session ends and the lock with it: a retry that finds the claim pending
and the lock free takes the claim over and runs the write again under the same ledger key, so the
journal answers with the transaction the dead worker signed instead of signing another. Without the
lock (SQLite) such a claim stays pending and the key answers 409.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as SqlTimeout

from api.dblocks import Lease, is_postgres
from api.errors import IdempotencyInProgress, IdempotencyKeyReused
from api.tables import idempotency_records

HEADER = "Idempotency-Key"


class StoredResponse(Exception):
    """Raised by the idempotency dependency to answer with a response stored earlier."""

    def __init__(self, status_code: int, body: Any) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.body = body


@dataclass(frozen=True)
class IdempotencyClaim:
    """A claimed key: `ledger_key` is passed to the chain client so the transaction is signed once."""

    engine: Engine
    principal: str
    key: str
    lease: Lease | None = None  # held while the write runs (PostgreSQL): see the module docstring
    # When this claim was made or taken over (the record's `created_at`): a release deletes only its
    # own claim, never one another worker took over meanwhile.
    claimed_at: datetime | None = None

    @property
    def ledger_key(self) -> str:
        return f"api:{self.principal}:{self.key}"

    def store(self, status_code: int, body: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(idempotency_records)
                .where(
                    idempotency_records.c.principal == self.principal, idempotency_records.c.key == self.key
                )
                .values(status_code=status_code, response=json.dumps(body))
            )

    def release(self) -> None:
        """Drop the claim if no answer was stored (the write failed: it may be retried), and the lock.
        If the database cannot be reached, the claim is remembered and deleted before this process's
        next claim (a claim stuck pending would answer 409 forever)."""
        try:
            self._delete()
        except (DBAPIError, SqlTimeout):
            with _unreleased_lock:
                _unreleased.add(self)
            raise
        finally:
            if self.lease is not None:
                self.lease.release()
        with _unreleased_lock:
            _unreleased.discard(self)

    def _delete(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(idempotency_records).where(
                    idempotency_records.c.principal == self.principal,
                    idempotency_records.c.key == self.key,
                    idempotency_records.c.status_code.is_(None),
                    idempotency_records.c.created_at == self.claimed_at,
                )
            )


def _running_lease(engine: Engine, principal: str, key: str) -> Lease | None:
    """The lock the worker running (principal, key) holds; None where there is none (SQLite)."""
    return Lease(engine, f"idempotency:{principal}:{key}") if is_postgres(engine) else None


_unreleased: set[IdempotencyClaim] = set()  # claims whose release failed: the database was unreachable
_unreleased_lock = threading.Lock()


def release_left_over(engine: Engine) -> None:
    """Release the claims this process could not release while the database was unreachable."""
    with _unreleased_lock:
        left = [c for c in _unreleased if c.engine is engine]
    for left_over in left:
        left_over.release()


def claim(engine: Engine, principal: str, key: str, method: str, path: str, body: bytes) -> IdempotencyClaim:
    """Claim `key` for this request, or raise `StoredResponse` / a conflict (see the module docstring)."""
    release_left_over(engine)
    digest = hashlib.sha256(body).hexdigest()
    lease = _running_lease(engine, principal, key)
    running = lease is not None and not lease.acquire()  # another live worker runs this key now
    try:
        if not running:
            try:
                now = datetime.now(UTC)
                with engine.begin() as conn:
                    conn.execute(
                        insert(idempotency_records).values(
                            principal=principal,
                            key=key,
                            method=method,
                            path=path,
                            body_hash=digest,
                            status_code=None,
                            response=None,
                            created_at=now,
                        )
                    )
                return IdempotencyClaim(engine, principal, key, lease, now)
            except IntegrityError:
                pass
        with engine.connect() as conn:
            row = conn.execute(
                select(idempotency_records).where(
                    idempotency_records.c.principal == principal, idempotency_records.c.key == key
                )
            ).first()
        if row is None:  # released between our insert and this read: the caller may simply retry
            raise IdempotencyInProgress(f"request with {HEADER} {key!r} is being retried; try again")
        if (row.method, row.path, row.body_hash) != (method, path, digest):
            raise IdempotencyKeyReused(
                f"{HEADER} {key!r} was used for a different request ({row.method} {row.path})", field=HEADER
            )
        if row.status_code is None:
            if lease is not None and not running:
                # Pending, and nobody holds its lock: the worker that claimed it died mid-write.
                now = datetime.now(UTC)
                with engine.begin() as conn:
                    conn.execute(
                        update(idempotency_records)
                        .where(
                            idempotency_records.c.principal == principal,
                            idempotency_records.c.key == key,
                            idempotency_records.c.status_code.is_(None),
                        )
                        .values(created_at=now)
                    )
                return IdempotencyClaim(engine, principal, key, lease, now)
            raise IdempotencyInProgress(f"the request with {HEADER} {key!r} is still running")
        raise StoredResponse(int(row.status_code), json.loads(row.response))
    except BaseException:
        if lease is not None and not running:
            lease.release()
        raise
