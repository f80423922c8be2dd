"""Operations: writes accepted with `Prefer: respond-async`, stored before the `202 Accepted` is sent.

An operation keeps the request as received (method, path, query, body, the caller's
`Idempotency-Key`) and who sent it, then moves through its states:

    queued → running → sent → mined → indexed → done
                                        ↘ failed (any point after queued)

`running`: a process holds its lease and replays the request; `sent`/`mined`: the transaction
journal has the hash of a transaction signed for it (pending, then mined); `indexed`: the route
answered, so the indexer has the block; `done`: the answer (status code and body) is stored;
`failed`: the answer was a problem (its problem details are stored as `error`).

A process runs an operation only under a lease taken by one conditional `UPDATE` (state queued, or a
lease that expired): two worker processes never run the same operation at once, and one that died
leaves its operations to be taken again when their leases expire. The replay carries the same
idempotency key each time, so the transaction journal signs its transaction once.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, and_, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from api.errors import IdempotencyKeyReused
from api.tables import operations

PREFER_ASYNC = "respond-async"
_INSERT = insert(operations)


class OpState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SENT = "sent"
    MINED = "mined"
    INDEXED = "indexed"
    DONE = "done"
    FAILED = "failed"


FINAL_STATES = frozenset({OpState.DONE, OpState.FAILED})
# States a process holding the lease moves through; an expired lease in one of them is taken again.
ACTIVE_STATES = frozenset({OpState.RUNNING, OpState.SENT, OpState.MINED, OpState.INDEXED})


class Operation(BaseModel):
    """An asynchronous write: follow it at `GET /v1/operations/{id}` until `done` or `failed`."""

    id: str = Field(description="operation id (`Location: /v1/operations/{id}`)")
    state: OpState
    principal: str = Field(description="the participant that sent the write")
    method: str
    path: str = Field(description="the write's path, with its query string if it had one")
    idempotency_key: str | None = Field(default=None, description="the caller's `Idempotency-Key`, if sent")
    attempts: int = Field(description="how many times a process started running it (more after a restart)")
    tx_hashes: list[str] = Field(description="hashes of the transactions signed for it, once known")
    status_code: int | None = Field(default=None, description="the status the write answered with")
    result: Any = Field(default=None, description="when `done`: the body the synchronous write answers")
    error: dict[str, Any] | None = Field(
        default=None, description="when `failed`: the problem details the synchronous write answers"
    )
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None


def prefers_async(prefer: str | None) -> bool:
    """Whether a `Prefer` header (RFC 7240) asks for `respond-async`, among any other preferences."""
    if not prefer:
        return False
    for preference in prefer.split(","):
        token = preference.split(";", 1)[0].split("=", 1)[0].strip().lower()
        if token == PREFER_ASYNC:
            return True
    return False


def new_id() -> str:
    """Sortable by creation time (microseconds, hex), then 64 random bits."""
    return f"{time.time_ns() // 1000:014x}{secrets.token_hex(8)}"


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back: they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def to_model(row: Any) -> Operation:
    """An operation from its row (or the values just inserted as one)."""
    path = row.path + (f"?{row.query}" if row.query else "")
    created, updated = _aware(row.created_at), _aware(row.updated_at)
    assert created is not None and updated is not None
    return Operation(
        id=row.op_id,
        state=OpState(row.state),
        principal=row.principal,
        method=row.method,
        path=path,
        idempotency_key=row.idempotency_key,
        attempts=row.attempts,
        tx_hashes=list(row.tx_hashes or []),
        status_code=row.status_code,
        result=row.result,
        error=row.error,
        created_at=created,
        updated_at=updated,
        finished_at=_aware(row.finished_at),
    )


def create(
    engine: Engine,
    *,
    principal: str,
    via: str,
    key_id: str | None,
    scopes: Sequence[str],
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    idempotency_key: str | None,
) -> tuple[Any, bool]:
    """Store a queued operation; returns (its row, whether it is new). The same `Idempotency-Key` on the
    same request gives the operation it created first; on another request, `IdempotencyKeyReused`."""
    digest = hashlib.sha256(body).hexdigest()
    now = _now()
    values: dict[str, Any] = {
        "op_id": new_id(),
        "principal": principal,
        "via": via,
        "key_id": key_id,
        "scopes": sorted(scopes),
        "method": method,
        "path": path,
        "query": query,
        "headers": headers,
        "body": body,
        "body_hash": digest,
        "idempotency_key": idempotency_key,
        "state": OpState.QUEUED.value,
        "attempts": 0,
        "lease_until": None,
        "tx_hashes": [],
        "status_code": None,
        "result": None,
        "error": None,
        "created_at": now,
        "updated_at": now,
        "finished_at": None,
    }
    try:
        with engine.begin() as conn:
            # The values as parameters, not in the statement: its compiled form is cached.
            conn.execute(_INSERT, values)
    except IntegrityError:
        if idempotency_key is None:
            raise
        earlier = find_by_key(engine, principal, idempotency_key)
        if earlier is None:
            raise
        if (earlier.method, earlier.path, earlier.query, earlier.body_hash) != (method, path, query, digest):
            raise IdempotencyKeyReused(
                f"Idempotency-Key {idempotency_key!r} was used for a different request "
                f"({earlier.method} {earlier.path}, operation {earlier.op_id})",
                field="Idempotency-Key",
            ) from None
        return earlier, False
    # What was inserted is the row: no second read before the 202.
    return SimpleNamespace(**values), True


def get(engine: Engine, op_id: str) -> Row[Any] | None:
    with engine.connect() as conn:
        return conn.execute(select(operations).where(operations.c.op_id == op_id)).first()


def find_by_key(engine: Engine, principal: str, key: str) -> Row[Any] | None:
    with engine.connect() as conn:
        return conn.execute(
            select(operations).where(operations.c.principal == principal, operations.c.idempotency_key == key)
        ).first()


def list_for(
    engine: Engine, principal: str, *, state: OpState | None, before: str | None, limit: int
) -> list[Row[Any]]:
    """The principal's operations, newest first, after the cursor (`before`), `limit` of them."""
    o = operations.c
    query = select(operations).where(o.principal == principal).order_by(o.op_id.desc()).limit(limit)
    if state is not None:
        query = query.where(o.state == state.value)
    if before is not None:
        query = query.where(o.op_id < before)
    with engine.connect() as conn:
        return list(conn.execute(query).all())


def claim(engine: Engine, op_id: str, lease_seconds: float) -> bool:
    """Take the lease of a queued operation, or of an active one whose lease expired (its process died)."""
    now = _now()
    o = operations.c
    with engine.begin() as conn:
        taken = conn.execute(
            update(operations)
            .where(
                o.op_id == op_id,
                or_(
                    o.state == OpState.QUEUED.value,
                    and_(o.state.in_([s.value for s in ACTIVE_STATES]), o.lease_until < now),
                ),
            )
            .values(
                state=OpState.RUNNING.value,
                lease_until=now + timedelta(seconds=lease_seconds),
                attempts=o.attempts + 1,
                updated_at=now,
            )
        )
    return taken.rowcount == 1


def _runnable_now(now: datetime) -> Any:
    o = operations.c
    return or_(
        o.state == OpState.QUEUED.value,
        and_(o.state.in_([s.value for s in ACTIVE_STATES]), o.lease_until < now),
    )


def claim_batch(engine: Engine, limit: int, lease_seconds: float) -> list[Any]:
    """Take the leases of up to `limit` runnable operations (oldest first) in one statement; their rows.

    The condition is checked again on each row the statement updates, so two processes claiming at
    once never take the same operation."""
    if limit <= 0:
        return []
    now = _now()
    o = operations.c
    oldest = select(o.op_id).where(_runnable_now(now)).order_by(o.op_id).limit(limit)
    with engine.begin() as conn:
        rows = conn.execute(
            update(operations)
            .where(o.op_id.in_(oldest), _runnable_now(now))
            .values(
                state=OpState.RUNNING.value,
                lease_until=now + timedelta(seconds=lease_seconds),
                attempts=o.attempts + 1,
                updated_at=now,
            )
            .returning(*operations.c)
        ).all()
    return sorted(rows, key=lambda r: str(r.op_id))


def runnable(engine: Engine, limit: int) -> list[str]:
    """Operations waiting for a process: queued, or active with an expired lease (oldest first)."""
    o = operations.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(o.op_id)
            .where(
                or_(
                    o.state == OpState.QUEUED.value,
                    and_(o.state.in_([s.value for s in ACTIVE_STATES]), o.lease_until < _now()),
                )
            )
            .order_by(o.op_id)
            .limit(limit)
        ).all()
    return [r.op_id for r in rows]


def renew(engine: Engine, op_ids: Sequence[str], lease_seconds: float) -> None:
    """Extend the leases of the operations this process is running."""
    if not op_ids:
        return
    o = operations.c
    with engine.begin() as conn:
        conn.execute(
            update(operations)
            .where(o.op_id.in_(list(op_ids)), o.state.in_([s.value for s in ACTIVE_STATES]))
            .values(lease_until=_now() + timedelta(seconds=lease_seconds))
        )


def advance(engine: Engine, op_id: str, state: OpState, tx_hashes: Sequence[str]) -> None:
    """Record progress (sent, mined, indexed) of an operation that is still active."""
    o = operations.c
    with engine.begin() as conn:
        conn.execute(
            update(operations)
            .where(o.op_id == op_id, o.state.in_([s.value for s in ACTIVE_STATES]))
            .values(state=state.value, tx_hashes=list(tx_hashes), updated_at=_now())
        )


def finish(engine: Engine, op_id: str, *, status_code: int, body: Any, tx_hashes: Sequence[str]) -> OpState:
    """Store the answer: `done` with the body as `result`, or `failed` with it as `error` (a problem)."""
    failed = status_code >= 400
    state = OpState.FAILED if failed else OpState.DONE
    now = _now()
    problem = body if isinstance(body, dict) else {"status": status_code, "detail": str(body)}
    with engine.begin() as conn:
        conn.execute(
            update(operations)
            .where(operations.c.op_id == op_id)
            .values(
                state=state.value,
                status_code=status_code,
                result=None if failed else body,
                error=problem if failed else None,
                tx_hashes=list(tx_hashes),
                lease_until=None,
                updated_at=now,
                finished_at=now,
            )
        )
    return state
