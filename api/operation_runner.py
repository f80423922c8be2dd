"""`OperationRunner`: performs the operations `api.async_writes.AsyncWrites` stores, on a thread pool.

A dispatcher thread takes the leases of as many runnable operations as it has idle threads, in one
statement (`api.operations.claim_batch`): accepting an operation only wakes it. Each thread replays
the stored request through the app below that middleware, so the route that runs is exactly the
synchronous one. The replay is
authenticated by the ASGI scope itself (`PRINCIPAL_SCOPE_KEY` holds the principal rebuilt from the
operation): the scope is built in this process and no header or body from the network can set it.
It carries the caller's `Idempotency-Key`, or `op:<id>` without one, so a replay after a crash finds
the transaction the journal signed the first time instead of signing another. While it runs, the
journal tells the operation's transaction hashes (`sent`, then `mined`). On startup, whenever a thread
is free and at least every poll period, the runner takes up operations left queued, or active under a
lease that expired (a process that died), and renews the leases of those it runs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import delete
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Scope

from api import operations as store
from api.config import AppContext
from api.dblocks import Lease
from api.errors import ApiError, Forbidden, Unauthorized, problem
from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.limits import BODY_SCOPE_KEY
from api.operations import ACTIVE_STATES, OpState
from api.security import PRINCIPAL_SCOPE_KEY, Principal, Role, _participant
from api.security import Scope as KeyScope
from api.tables import api_keys, idempotency_records
from api.txjournal import DbTxJournal

log = logging.getLogger(__name__)

OPERATION_SCOPE_KEY = "tierchain.operation"
"""Set on a replayed request's scope: the operation it performs (never set by the network)."""
_RANK = {
    OpState.RUNNING: 0,
    OpState.SENT: 1,
    OpState.MINED: 2,
    OpState.INDEXED: 3,
}


ExceptionHandler = Callable[[Request, Exception], Awaitable[Any]]


class OperationRunner:
    """Performs stored operations on a thread pool, each under a lease (see the module docstring).

    `mode` says whether this process runs operations at all: `all` (every process does), `one` (only
    the process holding the database lease `operation-runner`; another takes over if it dies), or
    `none` (it accepts operations and leaves them to the processes that run them)."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        workers: int,
        lease_seconds: float,
        poll_seconds: float,
        mode: str = "all",
        runner_lease: Lease | None = None,
    ) -> None:
        self.ctx = ctx
        self.workers = workers if mode != "none" else 0
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.mode = mode
        self._runner_lease = runner_lease
        self._lease_checked = 0.0
        self._inner: ASGIApp | None = None
        self._app: Any = None
        self._pool: ThreadPoolExecutor | None = None
        self._poller: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._mine: dict[str, OpState] = {}  # taken or waiting for a thread, with its progress

    def attach(self, inner: ASGIApp) -> None:
        """The app below `AsyncWrites` (exception handlers, then the routes): what a replay calls."""
        self._inner = inner

    def start(self, app: Any) -> None:
        self._app = app
        if self.workers == 0:  # accepts operations, leaves them to the processes that run them
            return
        self._stop.clear()
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="api-operation")
        self._poller = threading.Thread(target=self._poll, name="api-operations", daemon=True)
        self._poller.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._poller is not None:
            self._poller.join(timeout=10)
            self._poller = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._runner_lease is not None:
            self._runner_lease.release()

    def submit(self, op_id: str) -> None:
        """An operation was stored: wake the dispatcher, which claims it with others in one statement.
        Costs the accepting request nothing more (no database work, no thread)."""
        if self._pool is not None:
            self._wake.set()

    # ------------------------------------------------------------------------------ the poller

    def _runs_here(self) -> bool:
        """Whether this process runs operations now (`one`: while it holds the runner lease, checked
        at most once a poll period, since checking a held PostgreSQL lock costs a query)."""
        lease = self._runner_lease
        if self.mode != "one" or lease is None:
            return True
        now = time.monotonic()
        if lease.held and now - self._lease_checked < self.poll_seconds:
            return True
        self._lease_checked = now
        return lease.acquire()

    def _dispatch(self) -> int:
        """Claim as many runnable operations as there are idle threads, in one statement; hand them out."""
        pool = self._pool
        if pool is None or not self._runs_here():
            return 0
        with self._lock:
            free = self.workers - len(self._mine)
        rows = store.claim_batch(self.ctx.engine, free, self.lease_seconds)
        for row in rows:
            with self._lock:
                self._mine[row.op_id] = OpState.RUNNING
            try:
                pool.submit(self._run_claimed, row)
            except RuntimeError:  # shutting down: the lease expires and the operation is taken again
                with self._lock:
                    self._mine.pop(row.op_id, None)
        return len(rows)

    def _poll(self) -> None:
        last_round = 0.0
        while not self._stop.is_set():
            self._wake.clear()  # a wake-up from here on (an accepted operation, a free thread) counts
            try:
                claimed = self._dispatch()
                now = time.monotonic()
                if now - last_round >= self.poll_seconds:
                    last_round = now
                    with self._lock:
                        active = [op for op, state in self._mine.items() if state in ACTIVE_STATES]
                    store.renew(self.ctx.engine, active, self.lease_seconds)
                    for op_id in active:
                        self._track(op_id)
            except Exception as exc:  # a failed round is retried next period
                log.warning("operations poll failed error=%s", exc)
                claimed = 0
            if claimed:
                continue  # more may wait: claim again while threads are idle
            self._wake.wait(self.poll_seconds)

    def _journal_hashes(self, ledger_key: str) -> tuple[list[str], bool]:
        """Hashes journaled under the operation's key (or keys derived from it); whether all are mined."""
        journal = self.ctx.client.manager.journal
        if not isinstance(journal, DbTxJournal):  # a journal of another kind says nothing here
            return [], False
        rows = journal.under(ledger_key)
        return [tx_hash for tx_hash, _ in rows], bool(rows) and all(status == "mined" for _, status in rows)

    def _track(self, op_id: str) -> None:
        row = store.get(self.ctx.engine, op_id)
        if row is None or row.state not in ACTIVE_STATES:
            return
        hashes, mined = self._journal_hashes(_ledger_key(row))
        if hashes:
            self._advance(op_id, OpState.MINED if mined else OpState.SENT, hashes)

    def _advance(self, op_id: str, state: OpState, hashes: list[str]) -> None:
        """Move forward only: the poller and the running thread both report progress."""
        with self._lock:
            current = self._mine.get(op_id)
            if current is None or current not in _RANK or _RANK[state] < _RANK[current]:
                return
            self._mine[op_id] = state
            store.advance(self.ctx.engine, op_id, state, hashes)

    # ------------------------------------------------------------------------------ one operation

    def _run_claimed(self, row: Any) -> None:
        """Run an operation whose lease this process took (`store.claim_batch`)."""
        op_id = row.op_id
        try:
            log.info("operation running id=%s attempt=%d", op_id, row.attempts)
            status_code, body = self._perform(row)
            hashes, _mined = self._journal_hashes(_ledger_key(row))
            if status_code < 400:
                self._advance(op_id, OpState.INDEXED, hashes)
            state = store.finish(self.ctx.engine, op_id, status_code=status_code, body=body, tx_hashes=hashes)
            log.info("operation finished id=%s state=%s status=%d", op_id, state, status_code)
        except Exception:  # the lease expires and another round takes the operation up again
            log.exception("operation could not be run id=%s", op_id)
        finally:
            with self._lock:
                self._mine.pop(op_id, None)
            self._wake.set()  # a thread is free: claim the next

    def _perform(self, row: Any) -> tuple[int, Any]:
        """Replay the request as its principal; returns the answer's status and JSON body."""
        try:
            caller = self._principal(row)
        except ApiError as exc:
            return exc.status, _problem_body(exc, row.path)
        key = row.idempotency_key or f"op:{row.op_id}"
        if row.attempts > 1:
            self._release_stale_claim(row.principal, key)
        return asyncio.run(self._replay(row, caller, key))

    def _principal(self, row: Any) -> Principal:
        """The operation's sender as it is now: still a participant, its key not revoked."""
        scopes = frozenset(KeyScope(s) for s in row.scopes if s in KeyScope.__members__.values())
        if row.via == "operator":
            return Principal(
                address=row.principal,
                roles=frozenset({Role.OPERATOR}),
                status="active",
                scopes=scopes,
                via="operator",
            )
        if row.key_id is not None:
            with self.ctx.engine.connect() as conn:
                revoked = conn.execute(
                    api_keys.select().where(
                        api_keys.c.key_id == row.key_id, api_keys.c.revoked_at.is_not(None)
                    )
                ).first()
            if revoked is not None:
                raise Unauthorized(
                    f"the API key {row.key_id} that sent this operation was revoked before it ran"
                )
        caller = _participant(self.ctx, row.principal, via=row.via, scopes=scopes, key_id=row.key_id)
        if caller.status != "active":
            raise Forbidden(f"participant {caller.address} is {caller.status}; its pending writes do not run")
        return caller

    def _release_stale_claim(self, principal: str, key: str) -> None:
        """A process that died mid-write left its idempotency claim pending; the lease makes this one the
        only runner, and the journal keeps the transaction signed once."""
        with self.ctx.engine.begin() as conn:
            conn.execute(
                delete(idempotency_records).where(
                    idempotency_records.c.principal == principal,
                    idempotency_records.c.key == key,
                    idempotency_records.c.status_code.is_(None),
                )
            )

    async def _replay(self, row: Any, caller: Principal, key: str) -> tuple[int, Any]:
        assert self._inner is not None, "the runner is attached when the middleware stack is built"
        body: bytes = bytes(row.body)
        headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in row.headers.items()]
        headers += [
            (b"content-length", str(len(body)).encode()),
            (IDEMPOTENCY_HEADER.lower().encode(), key.encode("latin-1")),
        ]
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": row.method,
            "scheme": "http",
            "path": row.path,
            "raw_path": row.path.encode(),
            "root_path": "",
            "query_string": row.query.encode("latin-1"),
            "headers": headers,
            "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 0),
            "app": self._app,
            "router": self._app.router,
            "state": {},
            PRINCIPAL_SCOPE_KEY: caller,
            BODY_SCOPE_KEY: body,
            OPERATION_SCOPE_KEY: row.op_id,
        }
        sent = False
        status = 500
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # never disconnects
            raise AssertionError("unreachable")

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self._inner(scope, receive, send)
        except Exception as exc:  # what ServerErrorMiddleware turns into a 500 for a network request
            handler: ExceptionHandler | None = self._app.exception_handlers.get(Exception)
            if handler is None:
                raise
            response = await handler(Request(scope, receive), exc)
            return int(response.status_code), json.loads(bytes(response.body))
        raw = b"".join(chunks)
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode("utf-8", "replace")


def _ledger_key(row: Any) -> str:
    """The transaction journal's key for the operation (as `api.idempotency.IdempotencyClaim` makes it)."""
    return f"api:{row.principal}:{row.idempotency_key or f'op:{row.op_id}'}"


def _problem_body(exc: ApiError, path: str) -> dict[str, Any]:
    response = problem(exc.status, exc.slug, exc.title, exc.detail, instance=path, field=exc.field)
    body: dict[str, Any] = json.loads(bytes(response.body))
    return body
