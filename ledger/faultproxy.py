"""A JSON-RPC fault proxy: one loopback port in front of one node, passing requests through until told
to misbehave the way real RPC endpoints do.

`tierchain chain up --profile local-consortium` puts one of these in front of anvil for each of the
profile's `rpc_urls`, so the client sees several RPC nodes of one network (as on a Besu QBFT
consortium, one node per member) and the fault tests can break each of them on its own.

Faults (`Fault.kind`), each for the next `count` matching requests (all of them if `count` is unset),
optionally only for requests calling one of `methods`:

- ``down``: the endpoint dies: the listening socket closes (connection refused) and open connections
  are cut. It comes back when the fault is cleared (`DELETE /faults`).
- ``drop``: the connection is cut without an answer.
- ``delay``: the answer comes `seconds` late.
- ``error503``: ``503 Service Unavailable`` with a ``Retry-After`` header, the node is not asked.
- ``stale``: ``eth_blockNumber`` and ``eth_getBlockByNumber("latest"|"pending")`` answer as if the head
  were `blocks` blocks older (a lagging node behind a load balancer).
- ``duplicate`` / ``reorder``: in a batch answer, every item twice / the items in reverse order.
- ``hang``: no answer at all until the client gives up and closes the connection.

``drop``, ``delay`` and ``hang`` act before the request reaches the node, or with ``after=true`` once
the node has handled it: the call took effect (a transaction is in the pool) but its answer is lost
or late, the case that tempts a client to sign a second transaction.

Control it over its admin port (plain HTTP, JSON): ``GET /faults`` (active faults, counters),
``POST /faults`` with a `Fault` object, ``DELETE /faults`` (clear all faults and the counters of
those applied; a ``down`` endpoint comes back), ``GET /health``. `ProxyControl` is the Python client
of that endpoint. Run one with
``python -m ledger.faultproxy --listen 127.0.0.1:8546 --upstream http://127.0.0.1:8545 --admin-port 0``;
it prints ``ready <listen-url> <admin-url>`` once both ports accept connections.

Only HTTP/1.1 with a ``Content-Length`` body is understood: what JSON-RPC clients send.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

log = logging.getLogger(__name__)

FaultKind = Literal["down", "drop", "delay", "error503", "stale", "duplicate", "reorder", "hang"]
_MAX_HEADER = 64 * 1024
_MAX_BODY = 64 * 1024 * 1024
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 502: "Bad Gateway", 503: "Service Unavailable"}


class Fault(BaseModel):
    """One fault to inject; see the module docstring for the kinds."""

    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    count: int | None = Field(default=None, ge=1, description="requests it applies to; unset: all")
    methods: list[str] = Field(default_factory=list, description="only requests calling one of these")
    seconds: float = Field(default=1.0, ge=0, le=3600, description="delay: how late the answer comes")
    blocks: int = Field(default=1, ge=1, description="stale: how many blocks behind the head")
    after: bool = Field(
        default=False,
        description="drop, hang, delay: apply to the answer, once the node has handled the request",
    )


class ProxyState(BaseModel):
    """What `GET /faults` answers: the active faults and the proxy's counters."""

    upstream: str
    down: bool
    faults: list[Fault]
    requests: int
    applied: dict[str, int]


@dataclass
class _Active:
    fault: Fault
    left: int | None

    def matches(self, methods: list[str]) -> bool:
        if self.left is not None and self.left <= 0:
            return False
        return not self.fault.methods or any(m in self.fault.methods for m in methods)


@dataclass
class _Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FaultProxy:
    """The proxy itself (one asyncio loop): `serve()` runs it until cancelled."""

    upstream: str
    host: str = "127.0.0.1"
    port: int = 0
    admin_port: int = 0
    faults: list[_Active] = field(default_factory=list)
    requests: int = 0
    applied: dict[str, int] = field(default_factory=dict)
    _server: asyncio.Server | None = None
    _admin: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _client: httpx.AsyncClient | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"http://{self.host}:{self.admin_port}"

    @property
    def down(self) -> bool:
        return any(a.fault.kind == "down" for a in self.faults)

    def state(self) -> ProxyState:
        return ProxyState(
            upstream=self.upstream,
            down=self.down,
            faults=[a.fault for a in self.faults if a.left is None or a.left > 0],
            requests=self.requests,
            applied=dict(self.applied),
        )

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(60.0), limits=httpx.Limits(max_connections=64))
        await self._listen()
        self._admin = await asyncio.start_server(self._admin_connection, self.host, self.admin_port)
        self.admin_port = self._admin.sockets[0].getsockname()[1]
        log.info("fault proxy ready url=%s admin=%s upstream=%s", self.url, self.admin_url, self.upstream)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._connection, self.host, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _go_down(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        log.warning("fault proxy down url=%s", self.url)

    async def close(self) -> None:
        await self._go_down()
        if self._admin is not None:
            self._admin.close()
        if self._client is not None:
            await self._client.aclose()

    # --- fault control -----------------------------------------------------------------------

    async def add(self, fault: Fault) -> None:
        self.faults.append(_Active(fault, fault.count))
        log.warning("fault set url=%s fault=%s", self.url, fault.model_dump_json())
        if fault.kind == "down":
            self._count("down")
            await self._go_down()

    async def clear(self) -> None:
        was_down = self.down
        self.faults.clear()
        self.applied.clear()
        if was_down:
            await self._listen()
            log.warning("fault proxy up again url=%s", self.url)
        log.info("faults cleared url=%s", self.url)

    def _take(self, methods: list[str], *kinds: FaultKind) -> Fault | None:
        """The first active fault of one of `kinds` matching the request, consuming one of its count."""
        for active in self.faults:
            if active.fault.kind in kinds and active.matches(methods):
                if active.left is not None:
                    active.left -= 1
                self._count(active.fault.kind)
                return active.fault
        return None

    def _count(self, kind: str) -> None:
        self.applied[kind] = self.applied.get(kind, 0) + 1

    # --- HTTP plumbing -----------------------------------------------------------------------

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> _Request | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        except asyncio.LimitOverrunError:
            return None
        if len(head) > _MAX_HEADER:
            return None
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) < 2:
            return None
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        try:
            length = int(headers.get("content-length", "0") or 0)
        except ValueError:
            return None
        if length < 0 or length > _MAX_BODY:
            return None
        try:
            body = await reader.readexactly(length) if length else b""
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        return _Request(parts[0].upper(), parts[1], headers, body)

    @staticmethod
    async def _respond(
        writer: asyncio.StreamWriter, status: int, body: bytes, extra: dict[str, str] | None = None
    ) -> None:
        lines = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            "Connection: keep-alive",
            *(f"{k}: {v}" for k, v in (extra or {}).items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                request = await self._read(reader)
                if request is None:
                    break
                if not await self._handle(request, reader, writer):
                    break
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()

    async def _handle(
        self, request: _Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Serve one request; False when the connection must close."""
        self.requests += 1
        try:
            payload = json.loads(request.body or b"null")
        except ValueError:
            payload = None
        items = payload if isinstance(payload, list) else [payload]
        methods = [str(i.get("method")) for i in items if isinstance(i, dict)]
        hang = self._take(methods, "hang")
        drop = self._take(methods, "drop")
        delay = self._take(methods, "delay")
        if hang is not None and not hang.after:
            return await self._hang(reader)
        if drop is not None and not drop.after:
            return False
        if self._take(methods, "error503") is not None:
            body = json.dumps({"error": "fault proxy: node unavailable"}).encode()
            await self._respond(writer, 503, body, {"Retry-After": "1"})
            return True
        if delay is not None and not delay.after:
            await asyncio.sleep(delay.seconds)
        stale = self._take(methods, "stale")
        try:
            status, body = await self._forward(payload, request.body, stale)
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
            await self._respond(writer, 502, json.dumps({"error": f"upstream: {exc!r}"}).encode())
            return True
        # The faults "after": the node has handled the request (it took effect); the answer suffers.
        if hang is not None:
            return await self._hang(reader)
        if drop is not None:
            return False
        if delay is not None:
            await asyncio.sleep(delay.seconds)
        if isinstance(payload, list) and status == 200:
            body = self._reshape(methods, body)
        await self._respond(writer, status, body)
        return True

    @staticmethod
    async def _hang(reader: asyncio.StreamReader) -> bool:
        """Send nothing: wait for the client to give up and close its side of the connection."""
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.read()
        return False

    async def _post(self, content: bytes) -> tuple[int, bytes]:
        assert self._client is not None
        reply = await self._client.post(
            self.upstream, content=content, headers={"Content-Type": "application/json"}
        )
        return reply.status_code, reply.content

    async def _forward(self, payload: Any, raw: bytes, stale: Fault | None) -> tuple[int, bytes]:
        if stale is None or payload is None:
            return await self._post(raw)
        status, head_body = await self._post(
            json.dumps({"jsonrpc": "2.0", "id": 0, "method": "eth_blockNumber", "params": []}).encode()
        )
        head = int(json.loads(head_body)["result"], 16)
        old = hex(max(0, head - stale.blocks))
        items = payload if isinstance(payload, list) else [payload]
        for item in items:
            if not isinstance(item, dict):
                continue
            params = item.get("params") or []
            if item.get("method") == "eth_getBlockByNumber" and params and params[0] in ("latest", "pending"):
                item["params"] = [old, *params[1:]]
        status, body = await self._post(json.dumps(payload).encode())
        if status != 200:
            return status, body
        replies = json.loads(body)
        answered = replies if isinstance(replies, list) else [replies]
        asked = {i.get("id"): i.get("method") for i in items if isinstance(i, dict)}
        for reply in answered:
            if (
                isinstance(reply, dict)
                and asked.get(reply.get("id")) == "eth_blockNumber"
                and "result" in reply
            ):
                reply["result"] = old
        return status, json.dumps(replies).encode()

    def _reshape(self, methods: list[str], body: bytes) -> bytes:
        duplicate = self._take(methods, "duplicate")
        reorder = self._take(methods, "reorder")
        if duplicate is None and reorder is None:
            return body
        replies = json.loads(body)
        if not isinstance(replies, list):
            return body
        if duplicate is not None:
            replies = [r for r in replies for _ in (0, 1)]
        if reorder is not None:
            replies.reverse()
        return json.dumps(replies).encode()

    # --- admin endpoint ----------------------------------------------------------------------

    async def _admin_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (request := await self._read(reader)) is not None:
                status, body = await self._admin_handle(request)
                await self._respond(writer, status, json.dumps(body).encode())
        except ConnectionError:
            pass
        finally:
            writer.transport.abort()

    async def _admin_handle(self, request: _Request) -> tuple[int, Any]:
        path = request.path.split("?", 1)[0].rstrip("/")
        if path == "/health" and request.method == "GET":
            return 200, {"ok": True, "url": self.url}
        if path != "/faults":
            return 404, {"error": f"no route {request.method} {request.path}: use /faults or /health"}
        if request.method == "GET":
            return 200, self.state().model_dump(mode="json")
        if request.method == "DELETE":
            await self.clear()
            return 200, self.state().model_dump(mode="json")
        if request.method == "POST":
            try:
                fault = Fault.model_validate_json(request.body)
            except ValidationError as exc:
                return 400, {"error": "invalid fault", "detail": json.loads(exc.json())}
            await self.add(fault)
            return 200, self.state().model_dump(mode="json")
        return 404, {"error": f"{request.method} /faults is not supported"}


class ProxyControl:
    """The admin endpoint of one running `FaultProxy`, for tests and operators."""

    def __init__(self, admin_url: str, timeout: float = 10.0) -> None:
        self.admin_url = admin_url.rstrip("/")
        self._client = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def _state(self, response: httpx.Response) -> ProxyState:
        response.raise_for_status()
        return ProxyState.model_validate(response.json())

    def state(self) -> ProxyState:
        return self._state(self._client.get(f"{self.admin_url}/faults"))

    def inject(self, kind: FaultKind, **options: Any) -> ProxyState:
        fault = Fault(kind=kind, **options)
        return self._state(self._client.post(f"{self.admin_url}/faults", content=fault.model_dump_json()))

    def clear(self) -> ProxyState:
        return self._state(self._client.delete(f"{self.admin_url}/faults"))


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


async def _main(args: argparse.Namespace) -> None:
    host, port = _host_port(args.listen)
    proxy = FaultProxy(args.upstream, host=host, port=port, admin_port=args.admin_port)
    await proxy.start()
    sys.stdout.write(f"ready {proxy.url} {proxy.admin_url}\n")
    sys.stdout.flush()
    try:
        await asyncio.Event().wait()
    finally:
        await proxy.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ledger.faultproxy", description=__doc__.split("\n")[0])
    parser.add_argument("--listen", required=True, help="HOST:PORT to serve JSON-RPC on (port 0: any)")
    parser.add_argument("--upstream", required=True, help="the node's JSON-RPC URL")
    parser.add_argument("--admin-port", type=int, default=0, help="the admin endpoint's port (0: any)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args))


if __name__ == "__main__":
    main()
