"""JSON-RPC plumbing under the transaction manager: the Web3 factory, retries, batching, revert data.

Transport failures (connection refused, timeouts) are retried here with exponential backoff and
become `ChainUnavailable` when the node stays silent; node *answers* (reverts, 'nonce too low')
pass straight through so the caller can act on them. Bulk broadcasts go out as one JSON-RPC array
over httpx: web3.py 7's `batch_requests()` refuses `eth_sendRawTransaction`, and on anvil one array
of 200 sends took ~0.08 s against ~0.35 s for 200 sequential calls.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import httpx
import requests
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from ledger.errors import ChainUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    httpx.TransportError,
    ConnectionError,
    TimeoutError,
)


def make_web3(url: str, timeout: float = 30.0) -> Web3:
    """A Web3 over HTTP with web3's own retries off: `with_retries` owns that policy."""
    provider = HTTPProvider(url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None)
    return Web3(provider)


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


def batch_call(url: str, calls: Sequence[tuple[str, list[Any]]], timeout: float = 30.0) -> list[BatchResult]:
    """Send `calls` as one JSON-RPC array; results come back in the order of `calls`."""
    body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]

    def post() -> Any:
        with httpx.Client(timeout=timeout) as client:
            response = client.post(url, json=body)
            response.raise_for_status()
            return response.json()

    replies = with_retries(post, what=f"batch of {len(calls)}")
    if isinstance(replies, dict):  # the node rejected the whole batch
        raise ChainUnavailable(f"batch rejected: {replies.get('error')}")
    by_id = {r["id"]: r for r in replies}
    return [
        BatchResult(by_id.get(i, {}).get("result"), by_id.get(i, {}).get("error")) for i in range(len(calls))
    ]
