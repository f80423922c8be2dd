"""`Prefer: respond-async`: the middleware that accepts a write as an operation.

`AsyncWrites` sits inside `api.limits.RequestGuard` (the body is bounded and the caller
authenticated before it sees the request). A write under `/v1` that names an existing route, fits
its declared parameters and body (`api.async_precheck`) and carries `Prefer: respond-async` is
stored as a queued operation (`api.operations`) and answered `202 Accepted` with
`Location: /v1/operations/{id}` and `Preference-Applied: respond-async`; every other request passes
through untouched, so writes stay synchronous by default. `api.operation_runner.OperationRunner`
performs the stored operations.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import operations as store
from api.async_precheck import WriteRoutes, is_valid
from api.config import AppContext
from api.errors import ApiError, Unprocessable, api_problem
from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.limits import BODY_SCOPE_KEY
from api.operation_runner import OPERATION_SCOPE_KEY, OperationRunner
from api.operations import FINAL_STATES
from api.security import READ_METHODS, Principal, authenticate

log = logging.getLogger(__name__)

OPERATIONS_PATH = "/v1/operations"
RETRY_AFTER_SECONDS = 1
KEPT_HEADERS = ("content-type", "accept-language")


def accepted(operation: store.Operation) -> JSONResponse:
    """The `202 Accepted` answer to a write sent with `Prefer: respond-async`."""
    return JSONResponse(
        operation.model_dump(mode="json"),
        status_code=202,
        headers={
            "Location": f"{OPERATIONS_PATH}/{operation.id}",
            "Preference-Applied": store.PREFER_ASYNC,
            "Retry-After": str(RETRY_AFTER_SECONDS),
        },
    )


class AsyncWrites:
    """Pure ASGI middleware; `runner` performs the operations it stores (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, runner: OperationRunner, routes: WriteRoutes) -> None:
        self.app = app
        self.runner = runner
        self.routes = routes
        runner.attach(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._async_route(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        ctx: AppContext = scope["app"].state.ctx
        body: bytes = scope.get(BODY_SCOPE_KEY, b"")  # the guard read it; without one, there is none

        async def buffered() -> Message:  # the body for authentication, leaving `receive` untouched
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            caller = await authenticate(Request(scope, buffered), ctx)
            route, path_params = found
            valid = await is_valid(route, path_params, scope, body)
            key = Headers(scope=scope).get(IDEMPOTENCY_HEADER)
            if valid and key is not None and not 1 <= len(key) <= 255:
                raise Unprocessable(
                    f"{IDEMPOTENCY_HEADER} must be 1 to 255 characters", field=IDEMPOTENCY_HEADER
                )
            operation = await asyncio.to_thread(self._store, ctx, scope, caller, key) if valid else None
        except ApiError as exc:
            response = api_problem(exc, scope.get("path"))
            await response(scope, receive, send)
            return
        if operation is None:  # refused by the route's declared parameters: refused synchronously
            await self.app(scope, receive, send)
            return
        if operation.state not in FINAL_STATES:
            self.runner.submit(operation.id)
        await accepted(operation)(scope, receive, send)

    def _async_route(self, scope: Scope) -> tuple[APIRoute, dict[str, Any]] | None:
        """The route of a write that asks to be answered asynchronously; None for anything else."""
        if scope["type"] != "http" or scope["method"] in READ_METHODS or OPERATION_SCOPE_KEY in scope:
            return None
        path: str = scope["path"]
        if not path.startswith("/v1/") or path.startswith(OPERATIONS_PATH):
            return None
        if not store.prefers_async(Headers(scope=scope).get("prefer")):
            return None
        # Only a write some route answers: anything else gets its synchronous 404/405.
        return self.routes.match(scope["method"], path)

    @staticmethod
    def _store(ctx: AppContext, scope: Scope, caller: Principal, key: str | None) -> store.Operation:
        headers = Headers(scope=scope)
        row, _new = store.create(
            ctx.engine,
            principal=caller.address,
            via=caller.via,
            key_id=caller.key_id,
            scopes=sorted(caller.scopes),
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            headers={name: headers[name] for name in KEPT_HEADERS if name in headers},
            body=scope.get(BODY_SCOPE_KEY, b""),
            idempotency_key=key,
        )
        operation = store.to_model(row)
        log.info(
            "operation accepted id=%s principal=%s method=%s path=%s",
            operation.id,
            operation.principal,
            operation.method,
            operation.path,
        )
        return operation
