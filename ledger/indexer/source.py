"""Where the indexer reads the chain from: a small protocol and its JSON-RPC implementation.

Only standard methods are used (eth_blockNumber, eth_getBlockByNumber, eth_getLogs), so the indexer
runs against anvil, Besu or a public node alike. Transport failures are retried with backoff by
`ledger.rpc.with_retries`, and with several URLs a dead node fails over to the next
(`ledger.rpc.JsonRpc`); a node that refuses a log range as too large gets it in halves.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ledger.errors import ChainUnavailable
from ledger.indexer.decode import RawLog
from ledger.rpc import JsonRpc

log = logging.getLogger(__name__)

_TOO_MANY = ("more than", "too many", "limit", "range", "exceed", "response size")


@dataclass(frozen=True)
class Header:
    number: int
    hash: str
    parent_hash: str
    timestamp: int


class ChainSource(Protocol):
    def head(self) -> int:
        """The latest block number."""
        ...

    def headers(self, numbers: Sequence[int]) -> dict[int, Header]:
        """Headers of `numbers`; a number above the head is simply absent."""
        ...

    def logs(self, from_block: int, to_block: int, addresses: Sequence[str]) -> list[RawLog]:
        """Logs of `addresses` in [from_block, to_block], in (block, log index) order."""
        ...


class RpcError(ChainUnavailable):
    """The node answered a request with an error object."""

    def __init__(self, method: str, error: Any) -> None:
        self.error = error if isinstance(error, dict) else {"message": str(error)}
        super().__init__(f"{method}: {self.error.get('message', error)}")


def _hex_bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def parse_log(item: dict[str, Any]) -> RawLog:
    return RawLog(
        block_number=int(item["blockNumber"], 16),
        block_hash=str(item["blockHash"]).lower(),
        tx_hash=str(item["transactionHash"]).lower(),
        log_index=int(item["logIndex"], 16),
        address=str(item["address"]).lower(),
        topics=tuple(_hex_bytes(t) for t in item["topics"]),
        data=_hex_bytes(item["data"]),
    )


def parse_header(block: dict[str, Any]) -> Header:
    return Header(
        number=int(block["number"], 16),
        hash=str(block["hash"]).lower(),
        parent_hash=str(block["parentHash"]).lower(),
        timestamp=int(block["timestamp"], 16),
    )


class RpcSource:
    """A `ChainSource` over HTTP JSON-RPC, with one keep-alive connection and batched header reads.

    `urls` may list several nodes of the same chain: a dead one fails over to the next.
    """

    def __init__(
        self,
        urls: str | Sequence[str],
        *,
        timeout: float = 30.0,
        attempts: int = 5,
        backoff: float = 0.2,
        batch: int = 200,
    ) -> None:
        self.rpc = JsonRpc(urls, timeout=timeout, attempts=attempts, backoff=backoff)
        self.batch = batch
        self._id = 0

    @property
    def url(self) -> str:
        return self.rpc.url

    def close(self) -> None:
        self.rpc.close()

    def _post(self, body: Any, what: str) -> Any:
        return self.rpc.post(body, what)

    def call(self, method: str, params: list[Any]) -> Any:
        self._id += 1
        reply = self._post({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}, method)
        if "error" in reply:
            raise RpcError(method, reply["error"])
        return reply["result"]

    def call_many(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Results of `calls` in order (one JSON-RPC batch per `batch` calls); a node error raises."""
        results: list[Any] = []
        for start in range(0, len(calls), self.batch):
            chunk = calls[start : start + self.batch]
            body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(chunk)]
            replies = self._post(body, f"batch of {len(chunk)}")
            if isinstance(replies, dict):
                raise RpcError("batch", replies.get("error"))
            by_id = {r["id"]: r for r in replies}
            for i, (method, _) in enumerate(chunk):
                reply = by_id.get(i, {"error": {"message": "missing reply"}})
                if "error" in reply:
                    raise RpcError(method, reply["error"])
                results.append(reply["result"])
        return results

    def head(self) -> int:
        return int(self.call("eth_blockNumber", []), 16)

    def headers(self, numbers: Sequence[int]) -> dict[int, Header]:
        blocks = self.call_many([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        return {h.number: h for h in (parse_header(b) for b in blocks if b is not None)}

    def logs(self, from_block: int, to_block: int, addresses: Sequence[str]) -> list[RawLog]:
        params = {"fromBlock": hex(from_block), "toBlock": hex(to_block), "address": list(addresses)}
        try:
            items = self.call("eth_getLogs", [params])
        except RpcError as exc:
            message = str(exc.error.get("message", "")).lower()
            if from_block < to_block and any(word in message for word in _TOO_MANY):
                middle = (from_block + to_block) // 2
                log.info("log range split from=%d to=%d reason=%s", from_block, to_block, message)
                return self.logs(from_block, middle, addresses) + self.logs(middle + 1, to_block, addresses)
            raise
        return [parse_log(item) for item in items if not item.get("removed")]
