"""The transaction manager: build, price, sign, journal, broadcast and confirm transactions.

Everything that writes to the chain goes through here, so nonces stay unique across threads,
gas follows the network's policy, reverts come back as typed `ContractRevert`s (whether caught at
estimation or found in a failed receipt), and an operation carrying an idempotency key is signed
exactly once even across retries and restarts (see `ledger.journal`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from eth_account.datastructures import SignedTransaction
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import BlockIdentifier, TxParams, TxReceipt

from ledger.compile import Artifact
from ledger.config import LegacyGas, NetworkConfig
from ledger.errors import (
    ContractRevert,
    ErrorDecoder,
    InsufficientFunds,
    ReceiptTimeout,
    TransactionFailed,
)
from ledger.fastsign import FastSigner
from ledger.gas import fee_fields, gas_limit, needs_node_price
from ledger.journal import Journal, JournalEntry
from ledger.keys import Signer
from ledger.nonce import NonceAllocator, NonceManager
from ledger.rpc import (
    JsonRpc,
    is_already_known,
    is_insufficient_funds,
    is_nonce_too_low,
    provider_urls,
    revert_data_from,
    rpc_error_message,
    with_retries,
)

log = logging.getLogger(__name__)

_CALL_FIELDS = ("to", "data", "value")


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


class TransactionManager:
    """Sends transactions for one or more local signers on one network."""

    def __init__(
        self,
        w3: Web3,
        network: NetworkConfig,
        signer: Signer,
        journal: Journal,
        decoder: ErrorDecoder | None = None,
        *,
        nonces: NonceAllocator | None = None,
        allocator: Callable[[Callable[[str], int]], NonceAllocator] | None = None,
        rpc_attempts: int = 5,
        rpc_backoff: float = 0.2,
    ) -> None:
        self.w3 = w3
        self.network = network
        self.signer = signer
        self.journal = journal
        self.decoder = decoder or ErrorDecoder()
        self.attempts = rpc_attempts
        self.backoff = rpc_backoff
        # `allocator` builds one from the node's pending count (e.g. shared by several processes)
        self.nonces: NonceAllocator = nonces or (allocator or NonceManager)(self.pending_count)
        self._raw: JsonRpc | None = None
        self._fast = FastSigner()

    def _rpc(self, fn: Any, what: str = "rpc") -> Any:
        return with_retries(fn, what=what, attempts=self.attempts, backoff=self.backoff)

    def pending_count(self, address: str) -> int:
        """The node's count of `address`'s transactions, pending ones included: its next nonce."""
        count = self._rpc(
            lambda: self.w3.eth.get_transaction_count(Web3.to_checksum_address(address), "pending"),
            "get_transaction_count",
        )
        return int(count)

    @property
    def url(self) -> str:
        """The node in use now (after a failover, the one that answered)."""
        return provider_urls(self.w3)[0] or self.network.rpc_urls[0]

    @property
    def raw(self) -> JsonRpc:
        """Raw JSON-RPC on one kept-alive connection to the same nodes as `w3`, for batches."""
        if self._raw is None:
            urls = [u for u in provider_urls(self.w3) if u] or list(self.network.rpc_urls)
            self._raw = JsonRpc(urls, attempts=self.attempts, backoff=self.backoff)
        return self._raw

    def _decoded(self, exc: BaseException) -> ContractRevert | None:
        data = revert_data_from(exc)
        return self.decoder.decode(data) if data is not None else None

    def _fees(self) -> dict[str, int]:
        policy = self.network.gas
        if isinstance(policy, LegacyGas):
            node_price = self._rpc(lambda: self.w3.eth.gas_price) if needs_node_price(policy) else 0
            return fee_fields(policy, node_gas_price_wei=int(node_price))
        block = self._rpc(lambda: self.w3.eth.get_block("latest"))
        return fee_fields(policy, base_fee_wei=int(block.get("baseFeePerGas", 0)))

    def _prepare(self, tx: Mapping[str, Any], signer: Signer, fees: Mapping[str, int]) -> dict[str, Any]:
        """Fields of a transaction except its nonce; estimates gas, turning a revert into ContractRevert."""
        params: dict[str, Any] = {k: tx[k] for k in _CALL_FIELDS if k in tx}
        params["from"] = signer.address
        params.setdefault("value", 0)
        if "gas" in tx:
            params["gas"] = int(tx["gas"])
        else:
            try:
                estimate = self._rpc(lambda: self.w3.eth.estimate_gas(cast(TxParams, params)), "estimate_gas")
            except (ContractLogicError, Web3RPCError) as exc:
                decoded = self._decoded(exc)
                if decoded is not None:
                    raise decoded from exc
                if is_insufficient_funds(rpc_error_message(exc)):
                    raise self._insufficient(signer, {**params, **fees}) from exc
                raise TransactionFailed(f"gas estimation failed: {exc}") from exc
            params["gas"] = gas_limit(int(estimate), self.network.gas)
        params["chainId"] = self.network.chain_id
        params.update(fees)
        return params

    def _insufficient(self, signer: Signer, params: Mapping[str, Any]) -> InsufficientFunds:
        """The typed refusal for a sender that cannot pay: its balance and this transaction's cost cap."""
        fee = int(params.get("maxFeePerGas", params.get("gasPrice", 0)))
        needed = int(params.get("gas", 0)) * fee + int(params.get("value", 0))
        try:
            balance = int(self._rpc(lambda: self.w3.eth.get_balance(signer.address), "get_balance"))
        except Exception:  # the refusal matters more than the figure; -1 says "unknown"
            balance = -1
        log.warning(
            "insufficient funds address=%s balance_wei=%d needed_wei=%d", signer.address, balance, needed
        )
        return InsufficientFunds(signer.address, balance, needed, self.network.name)

    def _sign(
        self, params: Mapping[str, Any], nonce: int, signer: Signer, key: str | None, *, fast: bool = False
    ) -> tuple[str, SignedTransaction]:
        """Sign, and journal under `key` before anything is broadcast; returns the hash too. `fast`
        (the bulk path) signs a plain EIP-1559 call on coincurve, to the same bytes (ledger.fastsign)."""
        fields = {k: v for k, v in params.items() if k != "from"}
        fields["nonce"] = nonce
        quick = self._fast.sign(fields, signer) if fast and isinstance(signer, LocalAccount) else None
        signed: SignedTransaction = quick if quick is not None else signer.sign_transaction(fields)
        tx_hash = _hex(signed.hash)
        if key is not None:
            raw = _hex(signed.raw_transaction)
            entry = JournalEntry(
                key=key, sender=signer.address, nonce=nonce, tx_hash=tx_hash, raw_tx=raw, status="signed"
            )
            self.journal.record(entry)
        return tx_hash, signed

    def _broadcast(self, raw: bytes, tx_hash: str) -> str:
        """Broadcast; a node that already has this exact transaction is a success, not an error."""
        try:
            sent = self._rpc(lambda: self.w3.eth.send_raw_transaction(raw), "send_raw_transaction")
        except Web3RPCError as exc:
            if is_already_known(rpc_error_message(exc)):
                return tx_hash
            raise
        return _hex(sent)

    def submit(
        self, tx: Mapping[str, Any], *, idempotency_key: str | None = None, signer: Signer | None = None
    ) -> str:
        """Sign and broadcast one transaction; returns its hash without waiting for a receipt."""
        signer = signer or self.signer
        if idempotency_key is not None:
            # A keyed operation already signed must not be estimated again: it may no longer be valid
            # (a proposal it confirmed is gone), yet its first transaction is the answer.
            with self.nonces.lock(signer.address):
                if (known := self._resume(idempotency_key)) is not None:
                    return known
        fees = self._fees()
        params = self._prepare(tx, signer, fees)
        for attempt in (1, 2):
            with self.nonces.lock(signer.address):
                if idempotency_key is not None and (known := self._resume(idempotency_key)) is not None:
                    return known
                try:
                    with self.nonces.reserve(signer.address) as nonce:
                        tx_hash, signed = self._sign(params, nonce, signer, idempotency_key)
                        self._broadcast(signed.raw_transaction, tx_hash)
                except Web3RPCError as exc:
                    message = rpc_error_message(exc)
                    if not (is_nonce_too_low(message) and self._known(tx_hash)):
                        if idempotency_key is not None:
                            self.journal.set_status(idempotency_key, "dropped")
                        if attempt == 1 and is_nonce_too_low(message):
                            log.warning("nonce too low, resyncing address=%s", signer.address)
                            continue
                        if is_insufficient_funds(message):
                            raise self._insufficient(signer, params) from exc
                        raise TransactionFailed(f"broadcast failed: {exc}") from exc
                    # A retried broadcast (after a timeout or a cut connection, perhaps on another node)
                    # of a transaction that had in fact reached the network: its nonce is taken by this
                    # very transaction. Signing anew would execute the operation twice.
                    log.warning("broadcast retry found the tx already known hash=%s", tx_hash)
            if idempotency_key is not None:
                self.journal.set_status(idempotency_key, "sent")
            log.info(
                "tx sent hash=%s from=%s nonce=%d key=%s", tx_hash, signer.address, nonce, idempotency_key
            )
            return tx_hash
        raise AssertionError("unreachable")

    def _known(self, tx_hash: str) -> bool:
        """Whether the network has this transaction, pending or mined."""
        try:
            found = self._rpc(lambda: self.w3.eth.get_transaction(HexBytes(tx_hash)), "get_transaction")
        except TransactionNotFound:
            return False
        return found is not None

    def _resume(self, key: str) -> str | None:
        """The hash already journaled for `key` (rebroadcast if still pending, or if a reorg dropped the
        block that held it), or None to sign anew."""
        entry = self.journal.get(key)
        if entry is None or entry.status == "dropped":
            return None
        if self._receipt_or_none(entry.tx_hash) is not None:
            return entry.tx_hash
        if entry.status in ("mined", "failed"):
            # Its receipt was seen, and is gone: a reorg took the block. The same signed bytes are the
            # operation still (rebroadcast below); if its nonce went to another transaction meanwhile,
            # it can never be mined and the key is signed anew, once, under the journal.
            log.warning(
                "journaled tx receipt vanished key=%s hash=%s status=%s", key, entry.tx_hash, entry.status
            )
            self.journal.set_status(key, "sent")
        try:
            self._broadcast(bytes(HexBytes(entry.raw_tx)), entry.tx_hash)
        except Web3RPCError as exc:
            if self._receipt_or_none(entry.tx_hash) is not None:
                return entry.tx_hash
            if not is_nonce_too_low(rpc_error_message(exc)):
                raise TransactionFailed(
                    f"rebroadcast of {entry.tx_hash} failed: {exc}", entry.tx_hash
                ) from exc
            # Its nonce went to another transaction: this one can never be mined, so sign anew.
            log.warning("journaled tx dropped key=%s hash=%s", key, entry.tx_hash)
            self.journal.set_status(key, "dropped")
            self.nonces.resync(entry.sender)
            return None
        log.info("tx rebroadcast hash=%s key=%s", entry.tx_hash, key)
        return entry.tx_hash

    def send(
        self, tx: Mapping[str, Any], *, idempotency_key: str | None = None, signer: Signer | None = None
    ) -> TxReceipt:
        """Submit and wait: the receipt of a successful transaction, or a typed failure."""
        tx_hash = self.submit(tx, idempotency_key=idempotency_key, signer=signer)
        return self.wait_for_receipt(tx_hash, idempotency_key=idempotency_key)

    def send_many(
        self,
        txs: Sequence[Mapping[str, Any]],
        *,
        idempotency_keys: Sequence[str | None] | None = None,
        signer: Signer | None = None,
    ) -> list[str]:
        """Sign consecutive nonces and broadcast them in one JSON-RPC batch; returns hashes in order."""
        signer = signer or self.signer
        keys = list(idempotency_keys) if idempotency_keys is not None else [None] * len(txs)
        fees = self._fees()
        hashes: list[str | None] = [None] * len(txs)
        with self.nonces.lock(signer.address):
            for i, key in enumerate(keys):
                hashes[i] = self._resume(key) if key is not None else None
            todo = [i for i, h in enumerate(hashes) if h is None]
            prepared = [self._prepare(txs[i], signer, fees) for i in todo]
            with self.nonces.reserve(signer.address, len(todo)) as first:
                raws: list[str] = []
                for offset, (i, params) in enumerate(zip(todo, prepared, strict=True)):
                    hashes[i], signed = self._sign(params, first + offset, signer, keys[i], fast=True)
                    raws.append(_hex(signed.raw_transaction))
                results = self.raw.batch([("eth_sendRawTransaction", [raw]) for raw in raws])
                # "nonce too low" for a transaction the network already has: a retried batch whose
                # first attempt got through (the answer was lost); not a failure.
                failed = [
                    (todo[j], r.message)
                    for j, r in enumerate(results)
                    if r.error
                    and not is_already_known(r.message)
                    and not (is_nonce_too_low(r.message) and self._known(str(hashes[todo[j]])))
                ]
                if failed:
                    for i, _ in failed:
                        if keys[i] is not None:
                            self.journal.set_status(str(keys[i]), "dropped")
                    raise TransactionFailed(
                        f"batch broadcast failed for {len(failed)} of {len(raws)}: {failed[:3]}"
                    )
        for i in todo:
            if keys[i] is not None:
                self.journal.set_status(str(keys[i]), "sent")
        log.info(
            "tx batch sent count=%d from=%s first_nonce=%s",
            len(todo),
            signer.address,
            first if todo else None,
        )
        return [str(h) for h in hashes]

    def _receipt_or_none(self, tx_hash: str) -> TxReceipt | None:
        try:
            receipt: TxReceipt = self._rpc(lambda: self.w3.eth.get_transaction_receipt(HexBytes(tx_hash)))
        except TransactionNotFound:
            return None
        return receipt

    def wait_for_receipt(self, tx_hash: str, *, idempotency_key: str | None = None) -> TxReceipt:
        """Poll until mined with enough confirmations; a failed receipt raises its decoded revert."""
        deadline = time.monotonic() + self.network.receipt_timeout_seconds
        while True:
            receipt = self._receipt_or_none(tx_hash)
            if receipt is not None and self._confirmed(receipt):
                break
            if time.monotonic() > deadline:
                raise ReceiptTimeout(
                    f"no receipt for {tx_hash} within {self.network.receipt_timeout_seconds}s", tx_hash
                )
            time.sleep(self.network.poll_interval_seconds)
        ok = receipt["status"] == 1
        if idempotency_key is not None:
            self.journal.set_status(idempotency_key, "mined" if ok else "failed")
        if not ok:
            raise self._failure(tx_hash, receipt)
        log.info("tx mined hash=%s block=%d gas_used=%d", tx_hash, receipt["blockNumber"], receipt["gasUsed"])
        return receipt

    def wait_many(self, tx_hashes: Sequence[str]) -> list[TxReceipt]:
        return [self.wait_for_receipt(h) for h in tx_hashes]

    def _confirmed(self, receipt: TxReceipt) -> bool:
        if self.network.confirmations <= 1:
            return True
        head = int(self._rpc(lambda: self.w3.eth.block_number))
        return head - int(receipt["blockNumber"]) + 1 >= self.network.confirmations

    def _failure(self, tx_hash: str, receipt: TxReceipt) -> Exception:
        """Replay a failed transaction with eth_call at its block to recover and decode the revert."""
        tx = self._rpc(lambda: self.w3.eth.get_transaction(HexBytes(tx_hash)))
        call: dict[str, Any] = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "value": tx["value"]}
        call["gas"] = tx["gas"]
        try:
            self._rpc(lambda: self.w3.eth.call(cast(TxParams, call), block_identifier=receipt["blockNumber"]))
        except (ContractLogicError, Web3RPCError) as exc:
            decoded = self._decoded(exc)
            if decoded is not None:
                decoded.tx_hash, decoded.receipt = tx_hash, dict(receipt)
                return decoded
        return TransactionFailed(f"transaction {tx_hash} failed (no revert data)", tx_hash, dict(receipt))

    def call(self, tx: Mapping[str, Any], block: BlockIdentifier = "latest") -> bytes:
        """eth_call with reverts decoded, for read paths that want the same typed errors."""
        params = {k: tx[k] for k in (*_CALL_FIELDS, "from") if k in tx}
        params.setdefault("from", self.signer.address)
        try:
            result: bytes = self._rpc(
                lambda: self.w3.eth.call(cast(TxParams, params), block_identifier=block)
            )
        except (ContractLogicError, Web3RPCError) as exc:
            decoded = self._decoded(exc)
            if decoded is not None:
                raise decoded from exc
            raise
        return bytes(result)

    def deploy(self, artifact: Artifact, *args: Any, idempotency_key: str | None = None) -> TxReceipt:
        """Deploy a compiled contract; the receipt's `contractAddress` is the new address."""
        if not artifact.deployable:
            raise TransactionFailed(f"{artifact.contractName} is abstract or an interface; nothing to deploy")
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        data = factory.constructor(*args).data_in_transaction
        return self.send({"data": data}, idempotency_key=idempotency_key)
