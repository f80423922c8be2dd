"""Decode raw logs of the deployed contracts into event names and JSON-ready arguments.

web3's `contract.events.X().process_log` builds formatters per call and is slow in bulk; here each
event ABI is compiled once into a topic0 → decoder entry and logs are decoded with eth_abi directly.
Values come out JSON-ready: addresses lower-case hex, bytes `0x` hex, integers exact Python ints.
Overloaded events come out under their alias (`ledger.compile.EVENT_ALIASES`): the token's ERC-7943
`Frozen(address,uint256,uint256)` is `ERC7943Frozen`, Tierchain's own `Frozen` stays `Frozen`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.crypto import keccak

from ledger.compile import EVENT_ALIASES

log = logging.getLogger(__name__)

ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True)
class RawLog:
    """A log as the node returned it, before decoding."""

    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    address: str
    topics: tuple[bytes, ...]
    data: bytes


@dataclass(frozen=True)
class DecodedLog:
    raw: RawLog
    contract: str
    name: str
    args: dict[str, Any]


def _canonical_type(param: Mapping[str, Any]) -> str:
    """The ABI type with tuples spelled out, as eth_abi and event signatures want it."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param.get("components", []))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class _EventSpec:
    contract: str
    name: str
    indexed: tuple[tuple[str, str], ...]  # (name, type)
    data_names: tuple[str, ...]
    data_types: tuple[str, ...]
    order: tuple[str, ...]  # argument names in ABI order

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        if len(topics) != len(self.indexed) + 1:
            raise ValueError(f"{self.name}: {len(topics)} topics, expected {len(self.indexed) + 1}")
        values: dict[str, Any] = {}
        for (name, kind), topic in zip(self.indexed, topics[1:], strict=True):
            # Dynamic indexed values (string, bytes, arrays) are stored as their keccak hash.
            dynamic = kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("(")
            values[name] = "0x" + topic.hex() if dynamic else _jsonable(abi_decode([kind], topic)[0])
        if self.data_types:
            decoded = abi_decode(list(self.data_types), data)
            for name, value in zip(self.data_names, decoded, strict=True):
                values[name] = _jsonable(value)
        return {name: values[name] for name in self.order}


class EventDecoder:
    """Decodes logs of known contracts: (address, topic0) → event, built once from the ABIs."""

    def __init__(self, contracts: Mapping[str, str], abis: Mapping[str, Sequence[Mapping[str, Any]]]):
        """`contracts` maps address → contract name; `abis` maps contract name → ABI."""
        self._by_address: dict[str, dict[bytes, _EventSpec]] = {}
        for address, contract in contracts.items():
            specs: dict[bytes, _EventSpec] = {}
            for item in abis[contract]:
                if item.get("type") != "event" or item.get("anonymous"):
                    continue
                inputs = item.get("inputs", [])
                signature = f"{item['name']}({','.join(_canonical_type(i) for i in inputs)})"
                specs[keccak(text=signature)] = _EventSpec(
                    contract=contract,
                    # An overload (another event of the same name) is known by its alias.
                    name=EVENT_ALIASES.get(signature, str(item["name"])),
                    indexed=tuple((str(i["name"]), _canonical_type(i)) for i in inputs if i.get("indexed")),
                    data_names=tuple(str(i["name"]) for i in inputs if not i.get("indexed")),
                    data_types=tuple(_canonical_type(i) for i in inputs if not i.get("indexed")),
                    order=tuple(str(i["name"]) for i in inputs),
                )
            self._by_address[address.lower()] = specs

    @property
    def addresses(self) -> list[str]:
        return sorted(self._by_address)

    def decode(self, raw: RawLog) -> DecodedLog | None:
        """The decoded log, or None for a log the ABIs do not describe (logged, then skipped)."""
        specs = self._by_address.get(raw.address)
        spec = specs.get(raw.topics[0]) if specs and raw.topics else None
        if spec is None:
            log.warning(
                "unknown log skipped address=%s block=%d tx=%s log_index=%d",
                raw.address,
                raw.block_number,
                raw.tx_hash,
                raw.log_index,
            )
            return None
        return DecodedLog(raw, spec.contract, spec.name, spec.decode(raw.topics, raw.data))
