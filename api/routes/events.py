"""A live stream of ledger events (server-sent events), filtered to what the caller may see.

Regulators and the operator get every event; anyone else the events that name its address or one of
its tokens (held now or ever; every piece for the obligor), and events about a whole obligation
(deposits, state changes) it owes or holds a piece of. Each message's `id` is
the event's row id in the indexer, so a client reconnecting with `Last-Event-ID` resumes exactly
after the last event it received. Financing requests' events (opened, offer made, accepted,
withdrawn, closed, expired) come in the same stream, after the chain event that was last when they
happened, with the id `N:M` (chain event N, request event M); they show to the request's holder, to
the banks it asks while it is open (and to the bank whose offer was accepted), and to regulators and
the operator. The state changes of writes sent with `Prefer: respond-async` come as `operation`
events, to the operation's sender and to regulators and the operator (`api.operation_events`). Comment
lines (`: heartbeat`) keep idle connections open; `limit`
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
from sqlalchemy import and_, func, or_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from api.access import ledger_now
from api.config import AppContext
from api.deps import ContextDep, CurrentParticipant
from api.errors import Unprocessable
from api.operation_events import OperationFeed
from api.operation_events import message as operation_message
from api.routes.financing import can_see_request, settle_requests
from api.schemas import MAX_ID, PROBLEM_RESPONSES
from api.security import Principal
from api.tables import financing_request_events, financing_requests
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


@dataclass(frozen=True)
class RequestEvent:
    """A financing request's event (`api.tables.financing_request_events`), placed after chain event
    `anchor`."""

    seq: int
    anchor: int
    request_id: int
    name: str
    args: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.anchor}:{self.seq}"


@dataclass(frozen=True)
class Position:
    """Where a stream is: after chain event `chain` and request event `request` (0: none since it)."""

    chain: int
    request: int = 0


def _latest(ctx: AppContext) -> Position:
    """The stream position after every event indexed and every request event recorded now."""
    e = financing_request_events.c
    with Session(ctx.engine) as session:
        chain = session.exec(select(func.max(Event.id))).one()
        request = session.connection().execute(core_select(func.max(e.seq))).scalar()
    return Position(int(chain or 0), int(request or 0))


def _request_events(
    session: Session, caller: Principal, after: Position, through: int | None
) -> tuple[list[RequestEvent], list[tuple[int, int]]]:
    """The request events after `after` (up to chain event `through`) the caller may see, and the
    (anchor, seq) of every one examined."""
    e = financing_request_events.c
    query = (
        core_select(e.seq, e.anchor, e.request_id, e.name, e.args)
        .where(or_(e.anchor > after.chain, and_(e.anchor == after.chain, e.seq > after.request)))
        .order_by(e.seq)
        .limit(BATCH)
    )
    if through is not None:
        query = query.where(e.anchor <= through)
    rows = session.connection().execute(query).all()
    if not rows:
        return [], []
    now = ledger_now(session)
    seen: dict[int, bool] = {}
    told_all: dict[int, bool] = {}
    found: list[RequestEvent] = []
    for row in rows:
        if row.request_id not in seen:
            request = (
                session.connection()
                .execute(
                    core_select(financing_requests).where(financing_requests.c.request_id == row.request_id)
                )
                .first()
            )
            seen[row.request_id] = request is not None and can_see_request(session, caller, request, now)
            told_all[row.request_id] = caller.sees_everything or (
                request is not None and request.holder == caller.address
            )
        if seen[row.request_id]:
            args = dict(row.args)
            if not told_all[row.request_id]:  # a bank is told about itself, not about the other banks
                if isinstance(args.get("banks"), list):
                    args["banks"] = [b for b in args["banks"] if b == caller.address]
                if args.get("bank") not in (None, caller.address):
                    del args["bank"]
            found.append(RequestEvent(row.seq, row.anchor, row.request_id, row.name, args))
    return found, [(row.anchor, row.seq) for row in rows]


def _next_events(
    ctx: AppContext, caller: Principal, after: Position
) -> tuple[list[Event | RequestEvent], Position]:
    """The visible events after `after`, chain and request events in order, and where that leaves the
    stream (past every event examined, seen or not)."""
    settle_requests(ctx.engine)
    with Session(ctx.engine) as session:
        rows = list(
            session.exec(
                select(Event).where(col(Event.id) > after.chain).order_by(col(Event.id)).limit(BATCH)
            ).all()
        )
        through = rows[-1].id if len(rows) == BATCH else None
        requests, examined = _request_events(session, caller, after, through)
        if len(examined) == BATCH:  # more request events wait: go no further than the last examined
            rows = [e for e in rows if (e.id or 0) <= examined[-1][0]]
        if not rows and not examined:
            return [], after
        keys = [((e.id or 0), 0, 0) for e in rows] + [(anchor, 1, seq) for anchor, seq in examined]
        last = max(keys)
        position = Position(last[0], last[2])
        who = audience(session, caller) if rows else None
        merged: list[tuple[tuple[int, int, int], Event | RequestEvent]] = [
            ((e.id or 0, 0, 0), e) for e in rows if who is not None and who.sees(e)
        ]
        merged += [((r.anchor, 1, r.seq), r) for r in requests]
        merged.sort(key=lambda pair: pair[0])
        return [item for _, item in merged], position


def _poll(
    ctx: AppContext, caller: Principal, after: Position, feed: OperationFeed
) -> tuple[list[Event | RequestEvent], Position, list[dict[str, Any]]]:
    """One round of the stream: the ledger events after `after`, and the caller's operation changes."""
    events, position = _next_events(ctx, caller, after)
    return events, position, feed.changes(ctx.engine)


def _message(event: Event | RequestEvent) -> str:
    if isinstance(event, RequestEvent):
        body = {"id": event.id, "name": event.name, "contract": None, "args": event.args}
        return f"id: {event.id}\nevent: {event.name}\ndata: {json.dumps(body, separators=(',', ':'))}\n\n"
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
    ctx: AppContext,
    caller: Principal,
    after: Position,
    limit: int | None,
    max_seconds: float,
    heartbeat: float,
) -> AsyncIterator[str]:
    started = last_beat = time.monotonic()
    sent = 0
    feed = OperationFeed(caller)
    yield f"retry: {int(POLL_SECONDS * 4000)}\n\n"
    while True:
        events, after, changes = await run_in_threadpool(_poll, ctx, caller, after, feed)
        messages = [_message(event) for event in events] + [operation_message(c) for c in changes]
        for text in messages:
            yield text
            sent += 1
            if limit is not None and sent >= limit:
                return
        now = time.monotonic()
        if now - started >= max_seconds:
            return
        if now - last_beat >= heartbeat:
            yield ": heartbeat\n\n"
            last_beat = now
        if not messages:
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
    from_now: Annotated[
        bool,
        Query(
            description=(
                "start after the latest event indexed now: only what happens from here on (a resume "
                "with Last-Event-ID goes on from that id instead)"
            )
        ),
    ] = False,
) -> StreamingResponse:
    if from_now and after is not None:
        raise Unprocessable("give either from_now or after, not both", field="from_now")
    start = await run_in_threadpool(_latest, ctx) if from_now else Position(after or 0)
    if last_event_id is not None:
        chain, _, request = last_event_id.partition(":")
        if (
            not chain.isdigit()
            or int(chain) > MAX_ID
            or (request and (not request.isdigit() or int(request) > MAX_ID))
            or (last_event_id.endswith(":") and not request)
        ):
            raise Unprocessable("Last-Event-ID must be an event id this stream sent", field="Last-Event-ID")
        start = Position(int(chain), int(request or 0))
    return StreamingResponse(
        _stream(ctx, caller, start, limit, max_seconds, heartbeat),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
