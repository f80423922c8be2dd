"""`RequestGuard`: the ASGI middleware in front of the app that bounds request bodies and
authenticates before a body is read.

FastAPI reads and parses a route's JSON body before it resolves any dependency, so without this
anyone could make the process parse whatever it sends, credentials or not. For every request that
carries a body (a `Content-Length` above zero, or a chunked upload) the guard, in this order:

1. refuses a declared `Content-Length` above `max_body_bytes` (413), reading nothing;
2. refuses a request without credentials (401), reading nothing: no route that takes a body is
   public; an API key or the operator key is checked completely here, before the body
   (`api.security.authenticate`, which also refuses a client address past its failure budget, 429);
3. reads the body, counting streamed and chunked bytes (413 as soon as the limit is passed) and
   scanning its nesting depth without parsing (`ledger.jsonlimits`; 400 beyond `max_json_depth`);
4. verifies a wallet signature over the raw bytes (it signs their hash), still before any parsing;

and only then hands the buffered body to the app. Requests without a body pass straight through;
the `CurrentParticipant` dependency authenticates them with the same function.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError, Unauthorized, api_problem
from api.security import SIGNATURE_HEADER, Principal, has_credentials
from ledger import jsonlimits


class BodyTooLarge(ApiError):
    status, slug, title = 413, "body-too-large", "Request body too large"


class JsonTooDeep(ApiError):
    status, slug, title = 400, "json-too-deep", "JSON nested too deeply"


class MalformedBody(ApiError):
    status, slug, title = 400, "malformed-body", "Malformed request body"


Authenticator = Callable[[Request], Awaitable[Principal]]


BODY_SCOPE_KEY = "tierchain.body"
"""Where the guard leaves the raw body it read, for answers that name a field of it."""


class RequestGuard:
    """Pure ASGI middleware; `authenticate` is `api.security.authenticate` bound to the context."""

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, max_json_depth: int, authenticate: Authenticator
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth
        self.authenticate = authenticate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            length = self._declared_length(headers)
            chunked = "chunked" in headers.get("transfer-encoding", "").lower()
            if not length and not chunked:
                await self.app(scope, receive, send)
                return
            if not has_credentials(headers):
                raise Unauthorized(
                    "send `Authorization: Bearer <API key>` or a wallet-signed request; "
                    "no route accepts a body without credentials"
                )
            request = Request(scope)
            if SIGNATURE_HEADER not in headers:
                await self.authenticate(request)  # keys need no body: refused before it is read
            body = await self._read(receive)
            if SIGNATURE_HEADER in headers:
                await self.authenticate(Request(scope, _replay(body, receive)))
        except ApiError as exc:
            response = api_problem(exc, scope.get("path"))
            await response(scope, receive, send)
            return
        scope[BODY_SCOPE_KEY] = body  # read once, bounded and depth-checked: error answers may quote it
        await self.app(scope, _replay(body, receive), send)

    def _declared_length(self, headers: Headers) -> int | None:
        raw = headers.get("content-length")
        if raw is None:
            return None
        if not raw.isdigit():
            raise MalformedBody(f"Content-Length must be a non-negative integer, not {raw[:40]!r}")
        length = int(raw)
        if length > self.max_body_bytes:
            raise BodyTooLarge(self._too_large())
        return length

    def _too_large(self) -> str:
        return f"the request body exceeds {self.max_body_bytes} bytes; split the request"

    async def _read(self, receive: Receive) -> bytes:
        """The whole body, refused as soon as it passes a limit (nothing parses it here)."""
        scanner = jsonlimits.JsonDepthScanner(self.max_json_depth)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise MalformedBody("the client disconnected before sending the whole body")
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLarge(self._too_large())
            try:
                scanner.feed(chunk)
            except jsonlimits.JsonTooDeep as exc:
                raise JsonTooDeep(exc.reason) from exc
            except jsonlimits.JsonLimitError as exc:
                raise MalformedBody(exc.reason) from exc
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that yields the buffered body once, then whatever the connection sends next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
