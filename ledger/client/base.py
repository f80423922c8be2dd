"""The client's plumbing: contract handles from a deployment, sending through the transaction manager,
reading outcomes from a receipt's events, and views whose reverts decode like a transaction's.

One `TransactionManager` serves every participant: each write names its `signer`, and the manager
keeps a nonce sequence per address. Every write accepts an idempotency `key`; sending the same key
again returns the first transaction's outcome instead of acting twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import rlp  # type: ignore[import-untyped]
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError, Web3RPCError
from web3.types import EventData, TxReceipt

from ledger.client.models import TxResult
from ledger.compile import EVENT_ALIASES
from ledger.deploy import Deployment
from ledger.errors import TierchainError, abi_type
from ledger.keys import Signer
from ledger.rpc import revert_data_from
from ledger.tx import TransactionManager

log = logging.getLogger(__name__)

Abi = list[dict[str, Any]]


class MissingEvent(TierchainError):
    """A mined transaction lacks the event its outcome is read from (a contract/ABI mismatch)."""


def checksum(address: str) -> str:
    return str(to_checksum_address(address))


class ClientBase:
    """Contract handles and the send/read primitives the operation mixins build on."""

    def __init__(self, manager: TransactionManager, deployment: Deployment, abis: Mapping[str, Abi]) -> None:
        self.manager = manager
        self.w3: Web3 = manager.w3
        self.deployment = deployment
        for name, abi in abis.items():
            manager.decoder.add_abi(abi, name)
        self._abis = abis
        self.registry = self._at("ParticipantRegistry", deployment.address("ParticipantRegistry"))
        self.trades = self._at("TradeRegistry", deployment.address("TradeRegistry"))
        self.token = self._at("ReceivableToken", deployment.address("ReceivableToken"))
        self.issuance = self._at("IssuanceDesk", deployment.address("IssuanceDesk"))
        self.financing = self._at("FinancingDesk", deployment.address("FinancingDesk"))
        self.repayment = self._at("RepaymentDesk", deployment.address("RepaymentDesk"))

    def _at(self, abi_name: str, address: str) -> Contract:
        return self.w3.eth.contract(address=to_checksum_address(address), abi=self._abis[abi_name])

    def erc20(self, currency_or_address: str) -> Contract:
        """The settlement ERC-20 for a currency code ("CNY") or at an address."""
        address = self.deployment.currencies.get(currency_or_address, currency_or_address)
        if not Web3.is_address(address):
            raise TierchainError(f"no settlement token for {currency_or_address!r} in this deployment")
        return self._at("SettlementToken", address)

    @property
    def chain_id(self) -> int:
        return self.deployment.chain_id

    # ----------------------------------------------------------------------------- writes

    def _tx(self, contract: Contract, fn: str, *args: Any) -> dict[str, Any]:
        """Calldata for `fn`, which may be a full signature to pick one of an overloaded name."""
        return {"to": contract.address, "data": contract.encode_abi(fn, args=list(args))}

    def _send(self, signer: Signer, contract: Contract, fn: str, *args: Any, key: str | None) -> TxReceipt:
        tx = self._tx(contract, fn, *args)
        if key is not None:
            gas = self._journaled_gas(key)
            if gas is not None:
                # Already signed under this key: skip gas estimation, which would re-run the call
                # against today's state (and may revert: a proposal confirmed once is gone), and let
                # the manager return or rebroadcast the journaled transaction.
                tx["gas"] = gas
        return self.manager.send(tx, idempotency_key=key, signer=signer)

    def _journaled_gas(self, key: str) -> int | None:
        entry = self.manager.journal.get(key)
        if entry is None or entry.status == "dropped":
            return None
        raw = bytes(HexBytes(entry.raw_tx))
        if raw[:1] >= b"\xc0":  # a legacy transaction: RLP [nonce, gasPrice, gas, to, value, data, v, r, s]
            return int.from_bytes(bytes(rlp.decode(raw)[2]), "big")
        fields = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
        return int(fields["gas"])

    def _send_many(
        self, signer: Signer, txs: Sequence[dict[str, Any]], keys: Sequence[str | None] | None
    ) -> list[TxReceipt]:
        hashes = self.manager.send_many(txs, idempotency_keys=keys, signer=signer)
        return [
            self.manager.wait_for_receipt(h, idempotency_key=k)
            for h, k in zip(hashes, keys or [None] * len(hashes), strict=True)
        ]

    @staticmethod
    def _meta(receipt: TxReceipt) -> dict[str, Any]:
        return {
            "tx_hash": "0x" + bytes(receipt["transactionHash"]).hex(),
            "block_number": int(receipt["blockNumber"]),
            "gas_used": int(receipt["gasUsed"]),
        }

    def _result(self, receipt: TxReceipt) -> TxResult:
        return TxResult(**self._meta(receipt))

    # ----------------------------------------------------------------------------- events

    def _events(self, receipt: TxReceipt, contract: Contract, name: str) -> list[EventData]:
        """`name` events emitted by `contract` itself (other contracts' same-signature events excluded)."""
        event = _contract_event(contract, name)
        return [
            event.process_log(entry)
            for entry in receipt["logs"]
            if to_checksum_address(entry["address"]) == contract.address
            and entry["topics"]
            and bytes(entry["topics"][0]) == bytes(self.w3.keccak(text=_event_signature(event.abi)))
        ]

    def _event(self, receipt: TxReceipt, contract: Contract, name: str) -> dict[str, Any]:
        found = self._events(receipt, contract, name)
        if not found:
            tx = "0x" + bytes(receipt["transactionHash"]).hex()
            raise MissingEvent(f"transaction {tx} emitted no {name} from {contract.address}")
        return dict(found[0]["args"])

    # ----------------------------------------------------------------------------- reads

    def _view(self, contract: Contract, fn: str, *args: Any) -> Any:
        """Call a view; a revert comes back as the decoded `ContractRevert` subclass."""
        function = (
            contract.get_function_by_signature(fn)(*args)
            if "(" in fn
            else getattr(contract.functions, fn)(*args)
        )
        try:
            return function.call()
        except (ContractLogicError, Web3RPCError) as exc:
            data = revert_data_from(exc)
            if data is None:
                raise
            raise self.manager.decoder.decode(data) from exc


def _contract_event(contract: Contract, name: str) -> Any:
    """The event `name` of `contract`, overloads told apart: an alias of `EVENT_ALIASES` names its own
    signature; a plain name is the event of that name that has no alias."""
    for signature, alias in EVENT_ALIASES.items():
        if alias == name:
            return contract.get_event_by_signature(signature)
    for item in contract.abi:
        if item.get("type") == "event" and item.get("name") == name:
            signature = _event_signature(item)
            if signature not in EVENT_ALIASES:
                return contract.get_event_by_signature(signature)
    return getattr(contract.events, name)()


def _event_signature(abi: Mapping[str, Any]) -> str:
    return f"{abi['name']}({','.join(abi_type(p) for p in abi['inputs'])})"
