"""JSON-RPC plumbing under the transaction manager: the Web3 factory, retries, failover, batching,
revert data.

Transport failures (connection refused, timeouts) are retried here with exponential backoff and
become `ChainUnavailable` when the node stays silent; node *answers* (reverts, 'nonce too low')
pass straight through so the caller can act on them. A network lists several `rpc_urls`; a
transport failure on one moves every later request to the next (`rpc failover` in the log), and the
backoff applies between whole rounds over the list, so a dead first node costs one refused
connection, not a retry schedule. An HTTP 502/503/504 (a node restarting, a load balancer with no
healthy node behind it) is a transport failure too: the node did not answer the call. Bulk
broadcasts go out as one JSON-RPC array over one keep-alive httpx connection: web3.py 7's
`batch_requests()` refuses `eth_sendRawTransaction`, and on anvil one array of 200 sends took
~0.08 s against ~0.35 s for 200 sequential calls.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import httpx
import requests
from eth_typing import URI
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractLogicError, Web3RPCError
from web3.types import RPCEndpoint

from ledger.errors import ChainUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")


class NodeUnavailable(ConnectionError):
    """The endpoint answered HTTP 502, 503 or 504: no node behind it handled the call."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(f"{url}: HTTP {status}")
        self.url = url
        self.status = status


UNAVAILABLE_STATUSES = frozenset({502, 503, 504})

TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    httpx.TransportError,
    ConnectionError,
    TimeoutError,
)


def _url_list(urls: str | Sequence[str]) -> list[str]:
    found = [urls] if isinstance(urls, str) else list(urls)
    if not found:
        raise ValueError("at least one RPC URL is needed")
    return found


class _Rotation:
    """The preferred URL now, and the move to the next one after a transport failure (thread-safe)."""

    def __init__(self, urls: str | Sequence[str]) -> None:
        self.urls = _url_list(urls)
        self._index = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.urls[self._index]

    def round(self, body: Callable[[str], T], what: str) -> T:
        """Try `body` on each URL once, from the current one; a success makes that URL current."""
        start = self._index
        for step in range(len(self.urls)):
            url = self.urls[(start + step) % len(self.urls)]
            try:
                return body(url)
            except TRANSPORT_ERRORS as exc:
                if step == len(self.urls) - 1:
                    raise
                following = self.urls[(start + step + 1) % len(self.urls)]
                with self._lock:
                    self._index = (start + step + 1) % len(self.urls)
                log.warning("rpc failover what=%s from=%s to=%s error=%s", what, url, following, exc)
        raise AssertionError("unreachable")


class FailoverHTTPProvider(HTTPProvider):
    """An HTTPProvider over several nodes: a transport failure moves it to the next URL in the list.

    One request tries each URL at most once; retrying with backoff stays with `with_retries`.
    """

    def __init__(self, urls: str | Sequence[str], timeout: float = 30.0) -> None:
        self.rotation = _Rotation(urls)
        super().__init__(
            self.rotation.url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None
        )

    @property
    def urls(self) -> list[str]:
        return list(self.rotation.urls)

    def _make_request(self, method: RPCEndpoint, request_data: bytes) -> bytes:
        def post(url: str) -> bytes:
            self.endpoint_uri = URI(url)
            try:
                raw: bytes = self._request_session_manager.make_post_request(
                    URI(url), request_data, **self.get_request_kwargs()
                )
            except requests.HTTPError as exc:
                status = exc.response.status_code if exc.response is not None else 0
                if status in UNAVAILABLE_STATUSES:
                    raise NodeUnavailable(url, status) from exc
                raise
            return raw

        return self.rotation.round(post, str(method))


def make_web3(urls: str | Sequence[str], timeout: float = 30.0) -> Web3:
    """A Web3 over HTTP with web3's own retries off (`with_retries` owns that policy), failing over
    across `urls` in order when a node does not answer."""
    return Web3(FailoverHTTPProvider(urls, timeout))


def provider_urls(w3: Web3) -> list[str]:
    """The URLs a Web3 from `make_web3` talks to, current first; for other providers, its endpoint."""
    provider = w3.provider
    if isinstance(provider, FailoverHTTPProvider):
        urls = provider.urls
        current = urls.index(provider.rotation.url)
        return urls[current:] + urls[:current]
    return [str(getattr(provider, "endpoint_uri", ""))]


def with_retries(fn: Callable[[], T], *, what: str, attempts: int = 5, backoff: float = 0.2) -> T:
    """Call `fn`, retrying transport errors with exponential backoff; then raise `ChainUnavailable`."""
    delay = backoff
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except TRANSPORT_ERRORS as exc:
            if attempt == attempts:
                raise ChainUnavailable(f"{what}: node unreachable after {attempts} attempts: {exc}") from exc
            log.warning("rpc retry what=%s attempt=%d delay=%.2f error=%s", what, attempt, delay, exc)
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def revert_data_from(exc: BaseException) -> str | None:
    """The revert data ('0x…') a web3 exception carries, or None if the node sent none."""
    data: Any = None
    if isinstance(exc, ContractLogicError):
        data = exc.data
    elif isinstance(exc, Web3RPCError) and isinstance(exc.rpc_response, dict):
        error = exc.rpc_response.get("error")
        data = error.get("data") if isinstance(error, dict) else None
    if isinstance(data, dict):  # some nodes nest it: {"data": "0x…"}
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        return data
    return None


def rpc_error_message(exc: BaseException) -> str:
    """The node's error text, lower-cased, for matching 'nonce too low' and friends."""
    if isinstance(exc, Web3RPCError) and isinstance(exc.rpc_response, dict):
        error = exc.rpc_response.get("error")
        if isinstance(error, dict):
            return str(error.get("message", "")).lower()
    return str(exc).lower()


def is_nonce_too_low(message: str) -> bool:
    return "nonce too low" in message or "nonce is too low" in message or "replacement transaction" in message


def is_insufficient_funds(message: str) -> bool:
    """Geth, Besu, Nethermind and anvil all say "insufficient funds" when gas cannot be paid."""
    return "insufficient funds" in message


def is_already_known(message: str) -> bool:
    return "already known" in message or "already imported" in message or "known transaction" in message


class BatchResult:
    """Per-item outcome of a JSON-RPC batch: a result or the node's error object."""

    def __init__(self, result: Any = None, error: dict[str, Any] | None = None) -> None:
        self.result = result
        self.error = error

    @property
    def message(self) -> str:
        return str((self.error or {}).get("message", "")).lower()


class JsonRpc:
    """Raw JSON-RPC over one keep-alive httpx connection, with retries and failover across `urls`.

    For the paths where web3's object layer costs more than the work: bulk broadcasts, batched
    receipts, the indexer's reads. Safe to share between threads (httpx.Client is).
    """

    def __init__(
        self,
        urls: str | Sequence[str],
        *,
        timeout: float = 30.0,
        attempts: int = 5,
        backoff: float = 0.2,
        client: httpx.Client | None = None,
    ) -> None:
        self.rotation = _Rotation(urls)
        self.attempts = attempts
        self.backoff = backoff
        self._client = client or httpx.Client(timeout=timeout)
        self._owns_client = client is None
        self._ids = 0

    @property
    def url(self) -> str:
        return self.rotation.url

    @property
    def urls(self) -> list[str]:
        return list(self.rotation.urls)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> JsonRpc:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def post(self, body: Any, what: str) -> Any:
        """POST one JSON-RPC body (object or array) and return the decoded reply."""

        def send(url: str) -> Any:
            response = self._client.post(url, json=body)
            if response.status_code in UNAVAILABLE_STATUSES:
                raise NodeUnavailable(url, response.status_code)
            response.raise_for_status()
            return response.json()

        return with_retries(
            lambda: self.rotation.round(send, what), what=what, attempts=self.attempts, backoff=self.backoff
        )

    def call(self, method: str, params: list[Any]) -> BatchResult:
        """One call; the node's error (if any) comes back in the result rather than raised."""
        self._ids += 1
        reply = self.post({"jsonrpc": "2.0", "id": self._ids, "method": method, "params": params}, method)
        return BatchResult(reply.get("result"), reply.get("error"))

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[BatchResult]:
        """Send `calls` as one JSON-RPC array; results come back in the order of `calls`."""
        if not calls:
            return []
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        replies = self.post(body, f"batch of {len(calls)}")
        if isinstance(replies, dict):  # the node rejected the whole batch
            raise ChainUnavailable(f"batch rejected: {replies.get('error')}")
        by_id = {r["id"]: r for r in replies}
        return [
            BatchResult(by_id.get(i, {}).get("result"), by_id.get(i, {}).get("error"))
            for i in range(len(calls))
        ]


def batch_call(
    urls: str | Sequence[str], calls: Sequence[tuple[str, list[Any]]], timeout: float = 30.0
) -> list[BatchResult]:
    """Send `calls` as one JSON-RPC array on a short-lived connection (see `JsonRpc` to keep one)."""
    with JsonRpc(urls, timeout=timeout) as rpc:
        return rpc.batch(calls)
