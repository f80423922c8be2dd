"""A live stream of ledger events (server-sent events), filtered to what the caller may see.

Regulators and the operator get every event; anyone else the events that name its address or one of
its tokens (held now or ever; every piece for the obligor), and events about a whole obligation
(deposits, state changes) it owes or holds a piece of. Each message's `id` is
the event's row id in the indexer, so a client reconnecting with `Last-Event-ID` resumes exactly
after the last event it received. Comment lines (`: heartbeat`) keep idle connections open; `limit`
and `max_seconds` bound a stream (tests, batch consumers).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse
from sqlalchemy import or_
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from api.config import AppContext
from api.deps import ContextDep, CurrentParticipant
from api.errors import Unprocessable
from api.schemas import MAX_ID, PROBLEM_RESPONSES
from api.security import Principal
from ledger.indexer.models import Event, Obligation, Token, Transfer

router = APIRouter(prefix="/events", tags=["events"], responses=PROBLEM_RESPONSES)

TOKEN_ARGS = (
    "tokenId",
    "_tokenId",
    "_fromTokenId",
    "_toTokenId",
    "fromTokenId",
    "toTokenId",
    "financedTokenId",
)
SLOT_ARGS = ("slot", "_slot")
BATCH = 200
POLL_SECONDS = 0.25


@dataclass
class Audience:
    """What one caller may see; `None` sets mean everything. Recomputed on each poll, since a caller
    gains tokens (and obligations) as events arrive."""

    address: str
    tokens: set[int] | None
    slots: set[int] | None

    def sees(self, event: Event) -> bool:
        if self.tokens is None or self.slots is None:
            return True
        for value in event.args.values():
            if isinstance(value, str) and value.lower() == self.address:
                return True
            if isinstance(value, list) and any(
                isinstance(v, str) and v.lower() == self.address for v in value
            ):
                return True
        tokens = [_int(event.args[k]) for k in TOKEN_ARGS if k in event.args]
        if tokens:  # about pieces: only holders (past or present) of one of them, and the obligor
            return any(t in self.tokens for t in tokens)
        return any(_int(event.args.get(k)) in self.slots for k in SLOT_ARGS)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def audience(session: Session, caller: Principal) -> Audience:
    if caller.sees_everything:
        return Audience(caller.address, None, None)
    me = caller.address
    owned = set(session.exec(select(Token.token_id).where(col(Token.owner) == me)).all())
    touched = session.exec(
        select(Transfer.token_id, Transfer.from_token_id, Transfer.to_token_id).where(
            or_(col(Transfer.from_address) == me, col(Transfer.to_address) == me)
        )
    ).all()
    for row in touched:
        owned.update(i for i in row if i is not None)
    owed = set(session.exec(select(Obligation.slot).where(col(Obligation.obligor) == me)).all())
    if owed:  # the obligor sees every piece of what it owes
        owned.update(session.exec(select(Token.token_id).where(col(Token.slot).in_(owed))).all())
    slots = owed | set(session.exec(select(Token.slot).where(col(Token.token_id).in_(owned))).all())
    return Audience(me, owned, slots)


def _next_events(ctx: AppContext, caller: Principal, after: int) -> tuple[list[Event], int]:
    """The visible events after row `after`, and the last row id examined."""
    with Session(ctx.engine) as session:
        rows = list(
            session.exec(
                select(Event).where(col(Event.id) > after).order_by(col(Event.id)).limit(BATCH)
            ).all()
        )
        if not rows:
            return [], after
        who = audience(session, caller)
        last = rows[-1].id
        assert last is not None
        return [e for e in rows if who.sees(e)], last


def _message(event: Event) -> str:
    data = {
        "id": event.id,
        "name": event.name,
        "contract": event.contract,
        "block_number": event.block_number,
        "block_timestamp": event.block_timestamp,
        "tx_hash": event.tx_hash,
        "log_index": event.log_index,
        "args": event.args,
    }
    return f"id: {event.id}\nevent: {event.name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _stream(
    ctx: AppContext, caller: Principal, after: int, limit: int | None, max_seconds: float, heartbeat: float
) -> AsyncIterator[str]:
    started = last_beat = time.monotonic()
    sent = 0
    yield f"retry: {int(POLL_SECONDS * 4000)}\n\n"
    while True:
        events, after = await run_in_threadpool(_next_events, ctx, caller, after)
        for event in events:
            yield _message(event)
            sent += 1
            if limit is not None and sent >= limit:
                return
        now = time.monotonic()
        if now - started >= max_seconds:
            return
        if now - last_beat >= heartbeat:
            yield ": heartbeat\n\n"
            last_beat = now
        if not events:
            await asyncio.sleep(min(POLL_SECONDS, max(0.0, max_seconds - (now - started))))


@router.get(
    "/stream",
    summary="Live ledger events the caller may see (server-sent events; resume with Last-Event-ID)",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "`id`, `event` (the event name) and `data` (JSON) per message",
        }
    },
)
async def stream(
    ctx: ContextDep,
    caller: CurrentParticipant,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", description="resume after this event id")
    ] = None,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="start after this event id")] = None,
    limit: Annotated[int | None, Query(ge=1, le=100_000, description="end after this many events")] = None,
    max_seconds: Annotated[float, Query(gt=0, le=3600, description="end after this long")] = 3600,
    heartbeat: Annotated[float, Query(gt=0, le=300, description="seconds between heartbeats")] = 15,
) -> StreamingResponse:
    start = after or 0
    if last_event_id is not None:
        if not last_event_id.isdigit() or int(last_event_id) > MAX_ID:
            raise Unprocessable("Last-Event-ID must be an event id this stream sent", field="Last-Event-ID")
        start = int(last_event_id)
    return StreamingResponse(
        _stream(ctx, caller, start, limit, max_seconds, heartbeat),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
