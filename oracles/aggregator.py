"""The aggregator: collect M-of-N oracle signatures per document and submit them to the TradeRegistry.

For each document the aggregator builds the attestation message itself, from the document and
the participant registry, and counts a node's signature only if it recovers, over *that*
message, to the address the node claims and that address is an active ORACLE on-chain. A node
that signs other data, answers garbage, or is down simply contributes nothing; M good answers
still make a quorum.

The phases overlap: the documents go to the nodes in chunks of ``request_chunk``, in order, a
few chunks at a time, and each chunk is decided, saved and its signed documents broadcast as
soon as every node has answered it, while the nodes work on the next chunks. Receipts are
confirmed as the submission backpressure asks and once more at the end, under the shared
receipt timeout.

Every step is written to the store before acting on it (pending -> signed -> submitted ->
attested, or refused / no_quorum), and each ``attest`` transaction is sent under the idempotency
key ``attest:<fingerprint>``, so the transaction journal signs it once even across restarts.
Before submitting, the chain is asked whether the document is attested already; a matching
record (or a ``DocumentAlreadyAttested`` revert over a matching record) counts as success, which
is what makes a restart after a crash harmless.

``no_quorum`` means too few valid signatures and too few refusals to decide (nodes down or
misbehaving); those documents are asked again on the next run. ``refused`` means enough nodes
refused that no quorum can ever form, and carries their reasons.
"""

import logging
import time as clock
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, ValidationError
from web3.exceptions import ContractLogicError, Web3RPCError

from ledger.errors import (
    ContractRevert,
    DocumentAlreadyAttested,
    NonceAlreadyUsed,
    ReceiptTimeout,
    TierchainError,
)
from ledger.rpc import batch_call
from ledger.tx import TransactionManager
from oracles.attestation import (
    ATTESTATION_FIELDS,
    AttestationMessage,
    Eip712Domain,
    checksum_address,
    recover_attestation_signer,
)
from oracles.canonical import content_hash, fingerprint
from oracles.documents import parties
from oracles.errors import NodeRequestError
from oracles.node import ChainDirectory, ChainFingerprintLedger, NodeAnswer, OnChainDocument
from oracles.normalize import legal_id_hash
from oracles.reasons import ReasonCode, Refusal
from oracles.signatures import SignedDocument
from oracles.store import AggregatorStore, BatchItem

logger = logging.getLogger(__name__)

DEFAULT_DEADLINE_SECONDS = 24 * 3600
# A message whose deadline is this close is not worth submitting: it could expire in the mempool.
DEADLINE_MARGIN_SECONDS = 300
_FALLBACK_GAS = 600_000
# attest(Attestation,bytes[]) encoded with eth_abi directly: web3's encode_abi re-resolves the ABI
# on every call, which costs more than signing the transaction.
_ATTEST_STRUCT = "(" + ",".join(f["type"] for f in ATTESTATION_FIELDS) + ")"
_ATTEST_ARGS = [_ATTEST_STRUCT, "bytes[]"]
_ATTEST_SELECTOR = keccak(text=f"attest({_ATTEST_STRUCT},bytes[])")[:4]


class NodeClient:
    """``POST /sign`` on one oracle node, with a timeout; any failure becomes ``NodeRequestError``."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def sign(self, documents: Sequence[dict[str, Any]], deadline: int) -> list[NodeAnswer]:
        try:
            with httpx.Client(timeout=self.timeout) as client:
                response = client.post(
                    f"{self.url}/sign", json={"deadline": deadline, "documents": list(documents)}
                )
                response.raise_for_status()
                raw = response.json()["answers"]
            answers = [NodeAnswer.model_validate(a) for a in raw]
        except (httpx.HTTPError, ValueError, KeyError, TypeError, ValidationError) as exc:
            raise NodeRequestError(f"{self.url}: {type(exc).__name__}: {exc}") from exc
        if len(answers) != len(documents):
            raise NodeRequestError(f"{self.url}: {len(answers)} answers for {len(documents)} documents")
        return answers


class BatchReport(BaseModel):
    """How many documents ended in each state after a run."""

    model_config = ConfigDict(frozen=True)

    counts: dict[str, int]
    attested: list[str]
    refused: dict[str, str]
    no_quorum: dict[str, str]


class Aggregator:
    """Drives documents from pending to attested; one instance per store, one run at a time."""

    def __init__(
        self,
        tx: TransactionManager,
        trade_registry: Any,
        directory: ChainDirectory,
        ledger: ChainFingerprintLedger,
        store: AggregatorStore,
        nodes: Sequence[str],
        threshold: int,
        *,
        timeout: float = 10.0,
        request_chunk: int = 250,
        submit_chunk: int = 250,
        max_in_flight_chunks: int = 4,
        collecting_chunks: int = 2,
        deadline_seconds: int = DEFAULT_DEADLINE_SECONDS,
        on_submitted: Callable[[list[str]], None] | None = None,
    ) -> None:
        if not 1 <= threshold <= len(nodes):
            raise ValueError(f"threshold {threshold} must be between 1 and the {len(nodes)} nodes")
        self.tx = tx
        self.registry = trade_registry
        self.domain = Eip712Domain(chain_id=tx.network.chain_id, verifying_contract=trade_registry.address)
        self.directory = directory
        self.ledger = ledger
        self.store = store
        self.clients = [NodeClient(url, timeout=timeout) for url in nodes]
        self.threshold = threshold
        self.request_chunk = request_chunk
        self.submit_chunk = submit_chunk
        self.max_in_flight_chunks = max(1, max_in_flight_chunks)
        # Request chunks the nodes work on at once. Few, so that the first chunk is answered early
        # and its submission overlaps the nodes' work on the next ones; the nodes' work itself
        # does not go faster for more of it at once.
        self.collecting_chunks = max(1, collecting_chunks)
        self.deadline_seconds = deadline_seconds
        # Called with the fingerprints of each chunk right after it is broadcast and before the
        # store learns the hashes: the most awkward moment to die, which tests use to simulate it.
        self.on_submitted = on_submitted

    # --- entry points ----------------------------------------------------------------------------

    def submit(self, documents: Iterable[SignedDocument]) -> BatchReport:
        """Record the documents (see ``add``), then run to completion."""
        self.add(documents)
        return self.run()

    def add(self, documents: Iterable[SignedDocument]) -> list[BatchItem]:
        """Record documents as pending without running; returns each submission's state, in order.

        A new fingerprint is pending. A refused one is pending again with the document as now sent:
        refusals are verdicts on what the world looked like (a stale CRL, an unregistered buyer), and
        the refusal sentence tells the sender to fix the cause and resubmit. An attested one stays
        attested and the submission is answered ``refused`` with ``ALREADY_ATTESTED``: whether a
        reprint, a reformatted copy or the same bytes again, a fingerprint backs one receivable, and
        bytes cannot tell a retry from a reuse (one ERP prints the same invoice the same way twice).
        A fingerprint in flight (pending to submitted) keeps its state: the submission joins it.
        """
        items = [
            BatchItem(
                fingerprint=fingerprint(d.document),
                content_hash=content_hash(d.document),
                document=d.model_dump(mode="json"),
            )
            for d in documents
        ]
        known = self.store.get_many([item.fingerprint for item in items])
        reopened = [item for item in items if _status(known, item) == "refused"]
        self.store.save_many(reopened)
        added = self.store.add_new(items)
        logger.info("batch_received documents=%d new=%d resubmitted=%d", len(items), added, len(reopened))
        stored = self.store.get_many([item.fingerprint for item in items])
        return [
            _already_attested_answer(item)
            if _status(known, item) == "attested"
            else stored[item.fingerprint.lower()]
            for item in items
        ]

    def run(self) -> BatchReport:
        """Resume everything open: reconcile submitted, submit signed, collect for pending.

        Documents left signed by an earlier run are submitted first; then each request chunk is
        submitted as soon as it is collected, while the nodes answer the next ones. What is still
        unconfirmed at the end is reconciled once more.
        """
        self._reconcile(self.store.by_status("submitted"))
        in_flight: list[list[BatchItem]] = []
        self._submit(self.store.by_status("signed"), in_flight)
        self._collect(
            self.store.by_status("pending", "no_quorum"),
            lambda chunk: self._submit([i for i in chunk if i.status == "signed"], in_flight),
        )
        self._reconcile(self.store.by_status("submitted"))
        return self.report()

    def status(self, fp: str) -> BatchItem | None:
        return self.store.get(fp)

    def report(self) -> BatchReport:
        return BatchReport(
            counts=self.store.counts(),
            attested=[i.fingerprint for i in self.store.by_status("attested")],
            refused={i.fingerprint: i.reason or "" for i in self.store.by_status("refused")},
            no_quorum={i.fingerprint: i.reason or "" for i in self.store.by_status("no_quorum")},
        )

    # --- collecting signatures ------------------------------------------------------------------

    def _chain_time(self) -> int:
        return int(self.tx.w3.eth.get_block("latest")["timestamp"])

    def _message(self, item: BatchItem, deadline: int) -> AttestationMessage | None:
        """The message every node should sign, or None when a party is not registered (nodes refuse)."""
        signed = SignedDocument.model_validate(item.document)
        seller_id, buyer_id = parties(signed.document)
        seller = self.directory.lookup(legal_id_hash(seller_id))
        buyer = self.directory.lookup(legal_id_hash(buyer_id)) if buyer_id is not None else None
        if seller is None or (buyer_id is not None and buyer is None):
            return None
        buyer_address = buyer.address if buyer is not None else None
        return AttestationMessage.from_verified(
            signed.document, seller.address, buyer_address, deadline, fingerprint=item.fingerprint
        )

    def _collect(
        self,
        items: list[BatchItem],
        on_chunk: Callable[[list[BatchItem]], None] | None = None,
    ) -> None:
        """Ask every node for signatures, chunk by chunk; each chunk is decided and saved in order.

        ``on_chunk`` gets each chunk right after it is saved (the pipeline submits it there) while
        the nodes already work on the following chunks.
        """
        if not items:
            return
        now = self._chain_time()
        deadline = now + self.deadline_seconds
        for item in items:
            # Keep a stored message while it is fresh: nodes answer a repeat from their store.
            if item.message is None or item.message.deadline < now + DEADLINE_MARGIN_SECONDS:
                item.message = self._message(item, deadline)
                item.signatures = {}
            item.refusals = {}
        self.store.save_many(items)  # the deadline is fixed before any node sees it
        by_deadline: dict[int, list[BatchItem]] = {}
        for item in items:
            by_deadline.setdefault(item.message.deadline if item.message else deadline, []).append(item)
        chunks = [
            (group[start : start + self.request_chunk], group_deadline)
            for group_deadline, group in by_deadline.items()
            for start in range(0, len(group), self.request_chunk)
        ]
        # A node that failed a request (refused, timed out, answered nonsense) is not asked again for
        # the rest of this run: a hung node costs one timeout per chunk in flight, not one per chunk.
        # The others make the quorum; documents short of it stay pending for the next run.
        failed: set[str] = set()

        def ask(client: NodeClient, documents: list[dict[str, Any]], chunk_deadline: int) -> list[NodeAnswer]:
            if client.url in failed:
                raise NodeRequestError(f"{client.url}: failed earlier in this run, not asked again")
            try:
                return client.sign(documents, chunk_deadline)
            except NodeRequestError:
                failed.add(client.url)
                raise

        # One FIFO pool per node, ``collecting_chunks`` wide: each node gets the chunks in order, at
        # most that many at a time, whatever the others do.
        width = self.collecting_chunks
        pools = {client.url: ThreadPoolExecutor(max_workers=width) for client in self.clients}
        try:
            futures = [
                [
                    (client, pools[client.url].submit(ask, client, [i.document for i in chunk], due))
                    for client in self.clients
                ]
                for chunk, due in chunks
            ]
            for (chunk, _), chunk_futures in zip(chunks, futures, strict=True):
                answered: dict[str, set[str]] = {item.fingerprint: set() for item in chunk}
                for client, future in chunk_futures:
                    try:
                        answers = future.result()
                    except NodeRequestError as exc:
                        logger.warning(
                            "node_unavailable url=%s documents=%d error=%s", client.url, len(chunk), exc
                        )
                        continue
                    for item, answer in zip(chunk, answers, strict=True):
                        if self._take(item, answer, client.url):
                            answered[item.fingerprint].add(client.url)
                for item in chunk:
                    self._decide(item, len(answered[item.fingerprint]))
                self.store.save_many(chunk)
                if on_chunk is not None:
                    on_chunk(chunk)
        finally:
            # On a failure, chunks not yet sent to the nodes are dropped; they stay pending.
            for pool in pools.values():
                pool.shutdown(wait=True, cancel_futures=True)

    def _take(self, item: BatchItem, answer: NodeAnswer, node: str) -> bool:
        """Record one node's answer if it is a valid signature or a refusal; False for anything else."""
        if answer.fingerprint is not None and answer.fingerprint.lower() != item.fingerprint.lower():
            logger.warning("node_answer_mismatch url=%s fingerprint=%s", node, item.fingerprint)
            return False
        if not answer.ok:
            item.refusals[node] = list(answer.refusals)
            return True
        if item.message is None or answer.signature is None:
            return False
        try:
            recovered = recover_attestation_signer(item.message, self.domain, answer.signature)
        except (ValueError, TypeError) as exc:
            logger.warning(
                "node_signature_garbage url=%s fingerprint=%s error=%s", node, item.fingerprint, exc
            )
            return False
        if recovered != checksum_address(answer.signer) or not self.directory.is_active_oracle(recovered):
            logger.warning(
                "node_signature_rejected url=%s fingerprint=%s recovered=%s claimed=%s",
                node, item.fingerprint, recovered, answer.signer,
            )  # fmt: skip
            return False
        item.signatures[recovered] = answer.signature
        return True

    def _decide(self, item: BatchItem, answered: int) -> None:
        valid = len(item.signatures)
        refusing = len(item.refusals)
        if valid >= self.threshold:
            item.status, item.reason = "signed", None
        elif refusing > len(self.clients) - self.threshold:
            codes = sorted({r.code.value for rs in item.refusals.values() for r in rs})
            item.status, item.reason = "refused", ",".join(codes)
        else:
            item.status = "no_quorum"
            item.reason = (
                f"{valid} of {self.threshold} valid signatures; {refusing} refusals; "
                f"{len(self.clients) - answered} nodes down or answering invalid data"
            )
        logger.info(
            "document_collected fingerprint=%s status=%s signatures=%d refusals=%d",
            item.fingerprint, item.status, valid, refusing,
        )  # fmt: skip

    # --- submitting -----------------------------------------------------------------------------

    def _already_attested(self, item: BatchItem, record: OnChainDocument | None) -> bool:
        """If the chain holds this fingerprint (``record``), settle the item and say so."""
        if record is None:
            return False
        if item.message is not None and record.matches(item.message):
            item.status, item.reason = "attested", None
        else:
            _refuse(item, ReasonCode.ALREADY_ATTESTED, "the chain holds a different record for it")
        return True

    def _calldata(self, item: BatchItem) -> str:
        assert item.message is not None
        values = item.message.as_typed_data()
        struct = tuple(values[f["name"]] for f in ATTESTATION_FIELDS)
        ordered = sorted(item.signatures.items(), key=lambda kv: int(kv[0], 16))
        signatures = [bytes.fromhex(sig.removeprefix("0x")) for _, sig in ordered]
        return "0x" + (_ATTEST_SELECTOR + abi_encode(_ATTEST_ARGS, [struct, signatures])).hex()

    def _gas(self, data: str) -> int:
        try:
            estimate = self.tx.w3.eth.estimate_gas(
                {"from": self.tx.signer.address, "to": self.registry.address, "data": data}  # type: ignore[typeddict-item]
            )
        except (ContractLogicError, Web3RPCError) as exc:
            logger.warning("attest_estimate_failed error=%s fallback_gas=%d", exc, _FALLBACK_GAS)
            return _FALLBACK_GAS
        # Attest costs the same for every document with the same number of signatures; the chunk's
        # estimate is taken on its largest signature set, with headroom for a cold oracle slot.
        return int(estimate * 3 // 2)

    def _submit(self, items: list[BatchItem], in_flight: list[list[BatchItem]]) -> None:
        """Broadcast signed items in chunks; ``in_flight`` holds the chunks not yet confirmed.

        ``in_flight`` is shared by every call of one run, so that the backpressure counts the
        chunks of the whole pipeline, not those of one call.
        """
        if not items:
            return
        now = self._chain_time()
        ready: list[BatchItem] = []
        settled: list[BatchItem] = []
        on_chain = self.ledger.documents([item.fingerprint for item in items]) if items else {}
        for item in items:
            if self._already_attested(item, on_chain[item.fingerprint.lower()]):
                settled.append(item)
            elif item.message is None or item.message.deadline < now + DEADLINE_MARGIN_SECONDS:
                item.status, item.message, item.signatures = "pending", None, {}
                settled.append(item)
            else:
                ready.append(item)
        self.store.save_many(settled)
        for start in range(0, len(ready), self.submit_chunk):
            if len(in_flight) >= self.max_in_flight_chunks:
                # Backpressure: a node's mempool fed ten thousand transactions at once stalls (anvil
                # stopped answering receipts within a minute); confirm the oldest chunk first.
                self._reconcile(in_flight.pop(0))
            chunk = ready[start : start + self.submit_chunk]
            datas = [self._calldata(item) for item in chunk]
            widest = max(range(len(chunk)), key=lambda i: len(chunk[i].signatures))
            gas = self._gas(datas[widest])
            hashes = self.tx.send_many(
                [{"to": self.registry.address, "data": d, "gas": gas} for d in datas],
                idempotency_keys=[f"attest:{item.fingerprint}" for item in chunk],
            )
            if self.on_submitted is not None:
                self.on_submitted([item.fingerprint for item in chunk])
            for item, tx_hash in zip(chunk, hashes, strict=True):
                item.status, item.tx_hash = "submitted", tx_hash
            self.store.save_many(chunk)
            in_flight.append(chunk)
            logger.info("attestations_submitted count=%d first=%s", len(chunk), hashes[0] if hashes else "-")

    def _reconcile(self, items: list[BatchItem]) -> None:
        """Learn the outcome of submitted transactions.

        Receipts are polled in JSON-RPC batches of 500, all of them under one receipt timeout:
        what is mined is settled and saved each round, what is not yet is asked again. Only a
        failed receipt is looked at on its own (to decode the revert). A transaction still
        unmined when the timeout passes stays ``submitted`` for the next run, as before; the wait
        no longer adds up one timeout per document.
        """
        deadline = clock.monotonic() + self.tx.network.receipt_timeout_seconds
        waiting = items
        while waiting:
            missing: list[BatchItem] = []
            for start in range(0, len(waiting), 500):
                chunk = waiting[start : start + 500]
                receipts = batch_call(
                    self.tx.url, [("eth_getTransactionReceipt", [item.tx_hash]) for item in chunk]
                )
                settled: list[BatchItem] = []
                for item, receipt in zip(chunk, receipts, strict=True):
                    result = receipt.result
                    if not isinstance(result, dict):
                        missing.append(item)
                        continue
                    if int(str(result.get("status", "0x0")), 16) == 1:
                        item.status, item.reason = "attested", None
                    else:
                        self._wait_one(item)  # mined and failed: decode why
                    settled.append(item)
                self.store.save_many(settled)
            if missing and clock.monotonic() >= deadline:
                for item in missing:
                    logger.warning("attest_unconfirmed fingerprint=%s tx=%s", item.fingerprint, item.tx_hash)
                return
            if missing:
                clock.sleep(self.tx.network.poll_interval_seconds)
            waiting = missing

    def _wait_one(self, item: BatchItem) -> None:
        assert item.tx_hash is not None
        try:
            self.tx.wait_for_receipt(item.tx_hash, idempotency_key=f"attest:{item.fingerprint}")
        except (DocumentAlreadyAttested, NonceAlreadyUsed):
            if not self._already_attested(item, self.ledger.document(item.fingerprint)):
                _refuse(item, ReasonCode.ALREADY_ATTESTED, "its nonce was used by another attestation")
            return
        except ReceiptTimeout:
            logger.warning("attest_unconfirmed fingerprint=%s tx=%s", item.fingerprint, item.tx_hash)
            return
        except ContractRevert as exc:
            _refuse(item, ReasonCode.ATTESTATION_FAILED, f"the TradeRegistry refused the attestation: {exc}")
            return
        except TierchainError as exc:
            logger.error("attest_failed fingerprint=%s tx=%s error=%s", item.fingerprint, item.tx_hash, exc)
            _refuse(item, ReasonCode.ATTESTATION_FAILED, f"the attestation transaction failed: {exc}")
            return
        item.status, item.reason = "attested", None


def _status(known: dict[str, BatchItem], item: BatchItem) -> str | None:
    found = known.get(item.fingerprint.lower())
    return found.status if found is not None else None


def _already_attested_answer(item: BatchItem) -> BatchItem:
    """The answer to a new submission of an attested fingerprint; the attested item is untouched."""
    message = (
        f"document {item.fingerprint} is already attested on-chain and can back one receivable only; "
        "a reprint or a reformatted copy of a document is the same document"
    )
    refusal = Refusal(code=ReasonCode.ALREADY_ATTESTED, message=message)
    return item.model_copy(
        update={
            "status": "refused",
            "reason": f"{ReasonCode.ALREADY_ATTESTED.value}: {message}",
            "refusals": {"aggregator": [refusal]},
        }
    )


def _refuse(item: BatchItem, code: ReasonCode, message: str) -> None:
    """The aggregator's own refusal, found on-chain after the nodes signed: it replaces theirs."""
    refusal = Refusal(code=code, message=f"{message}; resubmit to have the document verified again")
    if code is ReasonCode.ALREADY_ATTESTED:
        refusal = Refusal(code=code, message=f"document {item.fingerprint}: {message}")
    item.status, item.reason = "refused", f"{code.value}: {message}"
    item.refusals = {"aggregator": [refusal]}
