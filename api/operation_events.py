"""Operation state changes for the event stream (`GET /v1/events/stream`, event type `operation`).

An operation's row holds its current state (`api.operations`), so the stream tells what it finds at
each poll: every change after the stream opened, as the state the operation had then. A state an
operation passed through between two polls is not told (`running` is often skipped); the last one,
`done` or `failed` (with the problem details, the contract's refusal decoded), always is. The caller
sees its own operations (and those of the addresses it replaced); regulators and the operator see
every one, as `GET /v1/operations/{id}` allows. The messages carry no `id:` line: a client
resuming with `Last-Event-ID` resumes the ledger events, and reads its operations' states at
`GET /v1/operations`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from api.security import Principal
from api.tables import operations

EVENT = "operation"
BATCH = 200


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass
class OperationFeed:
    """Where one stream is in the operations table: changes at or after `since` not yet told."""

    caller: Principal
    since: datetime = field(default_factory=lambda: datetime.now(UTC))
    told: set[tuple[str, str]] = field(default_factory=set)  # (id, state) told at `since`

    def changes(self, engine: Engine) -> list[dict[str, Any]]:
        """The changes since the last call the caller may see, oldest first."""
        o = operations.c
        query = (
            select(o.op_id, o.principal, o.state, o.status_code, o.error, o.tx_hashes, o.updated_at)
            .where(o.updated_at >= self.since)
            .order_by(o.updated_at, o.op_id)
            .limit(BATCH)
        )
        caller = self.caller
        if not caller.sees_everything:
            query = query.where(o.principal.in_([caller.address, *sorted(caller.predecessors)]))
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        found: list[dict[str, Any]] = []
        for row in rows:
            at = _aware(row.updated_at)
            if at > self.since:
                self.since, self.told = at, set()
            if (row.op_id, row.state) in self.told:
                continue
            self.told.add((row.op_id, row.state))
            if not (caller.sees_everything or caller.acts_for(row.principal)):
                continue
            found.append(
                {
                    "id": row.op_id,
                    "state": row.state,
                    "principal": row.principal,
                    "status_code": row.status_code,
                    "tx_hashes": list(row.tx_hashes or []),
                    "error": row.error,
                    "updated_at": at.isoformat(),
                }
            )
        return found


def message(change: dict[str, Any]) -> str:
    """One server-sent event: `event: operation`, the change as JSON (no `id:`, see the module)."""
    return f"event: {EVENT}\ndata: {json.dumps(change, separators=(',', ':'))}\n\n"
