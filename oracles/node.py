"""An oracle node: one process, one key, one work store, answering ``POST /sign`` on loopback.

A node signs the EIP-712 attestation only for a document it verified itself, against the chain's
view of the world (``ChainDirectory`` for participants, ``ChainFingerprintLedger`` for documents
already attested). The aggregator chooses the deadline so that every node signs the same
message; everything else in the message the node derives from the document and the registry.

Signatures are idempotent per fingerprint: the same document with the same deadline gets the same
signature, read back from the store, without a second verification. The one exception is a document
the chain has attested since: its signature is spent, so a repeat is refused as
``ALREADY_ATTESTED`` (a reformatted copy of an attested invoice shares its fingerprint and is
refused the same way). Refusals are not final: a refused document is verified again whenever it
is asked about, since its cause may have been fixed meanwhile (a fresh CRL in the trust store, a
buyer now registered), which is what the refusal sentences tell the sender to do before
resubmitting. A different document or deadline under a known fingerprint is verified afresh; the
chain's nonce (one per fingerprint) makes sure at most one of those ever lands.

HTTP is the standard library's ``ThreadingHTTPServer``: the node has two routes and no
authentication of its own (it binds to 127.0.0.1; exposing it is the deployment's reverse proxy's
job), so a web framework would add weight and no safety.
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from web3 import Web3

from ledger.errors import ChainUnavailable, TierchainError
from ledger.jsonlimits import restore_recursion_limit
from ledger.rpc import batch_call
from oracles.attestation import (
    AttestationMessage,
    Eip712Domain,
    attestation_key,
    checksum_address,
    sign_attestation,
)
from oracles.canonical import content_hash, fingerprint
from oracles.checks import CheckPolicy, FingerprintLedger, Participant, ParticipantDirectory
from oracles.http import JsonHandler
from oracles.reasons import ReasonCode, Refusal
from oracles.signatures import SignedDocument
from oracles.store import NodeRecord, NodeStore
from oracles.trust import TrustStore
from oracles.verify import verify_document

logger = logging.getLogger(__name__)

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
# ParticipantRegistry's packed role bits (contracts/libraries/Roles.sol).
ROLE_BITS: dict[int, str] = {1: "CORE_ENTERPRISE", 2: "SUPPLIER", 4: "BANK", 8: "REGULATOR", 16: "ORACLE"}
STATUS_ACTIVE = 1
_DOCUMENT_SELECTOR = keccak(text="document(bytes32)")[:4]
_DOCUMENT_TUPLE = "(address,uint8,uint40,uint40,address,bytes3,uint40,uint128,uint64)"
MAX_BODY_BYTES = 64 * 1024 * 1024


def roles_of(role_bits: int) -> frozenset[str]:
    return frozenset(name for bit, name in ROLE_BITS.items() if role_bits & bit)


class ChainDirectory:
    """``ParticipantDirectory`` over the on-chain ParticipantRegistry, cached for ``ttl`` seconds.

    A short cache keeps a batch of a thousand invoices between the same two parties at two
    lookups instead of two thousand, while a suspension still takes effect within seconds.
    """

    def __init__(
        self,
        w3: Web3,
        registry_address: str,
        abi: list[dict[str, Any]],
        *,
        ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry = w3.eth.contract(address=to_checksum_address(registry_address), abi=abi)
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._by_hash: dict[str, tuple[float, Participant | None]] = {}
        self._by_address: dict[str, tuple[float, Participant | None]] = {}

    def _cached(self, cache: dict[str, tuple[float, Participant | None]], key: str) -> tuple[bool, Any]:
        with self._lock:
            hit = cache.get(key)
        if hit is not None and self._clock() - hit[0] < self._ttl:
            return True, hit[1]
        return False, None

    def _store(self, cache: dict[str, tuple[float, Participant | None]], key: str, value: Any) -> None:
        with self._lock:
            cache[key] = (self._clock(), value)

    def participant(self, address: str) -> Participant | None:
        """The registry's record of ``address``, or None when it was never registered."""
        key = checksum_address(address)
        found, value = self._cached(self._by_address, key)
        if found:
            return value  # type: ignore[no-any-return]
        _legal_id_hash, status, role_bits = self._registry.functions.participant(key).call()
        result = (
            None
            if int(status) == 0
            else Participant(address=key, roles=roles_of(int(role_bits)), active=int(status) == STATUS_ACTIVE)
        )
        self._store(self._by_address, key, result)
        return result

    def lookup(self, legal_id_hash: str) -> Participant | None:
        key = legal_id_hash.lower()
        found, value = self._cached(self._by_hash, key)
        if found:
            return value  # type: ignore[no-any-return]
        account = str(self._registry.functions.accountOf(bytes.fromhex(key[2:])).call())
        result = None if int(account, 16) == 0 else self.participant(account)
        self._store(self._by_hash, key, result)
        return result

    def is_active_oracle(self, address: str) -> bool:
        participant = self.participant(address)
        return participant is not None and participant.active and "ORACLE" in participant.roles


_DOCUMENT_WORDS = 9  # the tuple above is static: nine 32-byte words
_ATTESTED_AT_WORD = 6


def _decode_document(data: bytes) -> "OnChainDocument | None":
    """``document(bytes32)``'s answer. An unattested fingerprint (the common case in a batch) is told
    by its ``attestedAt`` word alone, as ``_on_chain_document`` tells it, without running eth_abi's
    decoder, which costs more than the call; anything else is decoded in full."""
    if len(data) == 32 * _DOCUMENT_WORDS and not any(
        data[32 * _ATTESTED_AT_WORD : 32 * (_ATTESTED_AT_WORD + 1)]
    ):
        return None
    (raw,) = abi_decode([_DOCUMENT_TUPLE], data)
    return _on_chain_document(raw)


def _on_chain_document(raw: Sequence[Any]) -> "OnChainDocument | None":
    seller, kind, issued, due, buyer, currency, attested_at, amount, used_by = raw
    if int(attested_at) == 0:
        return None
    return OnChainDocument(
        seller=str(seller),
        kind=int(kind),
        issue_date=int(issued),
        due_date=int(due),
        buyer=str(buyer),
        currency=bytes(currency).decode("ascii", errors="replace"),
        attested_at=int(attested_at),
        amount=int(amount),
        used_by_slot=int(used_by),
    )


class OnChainDocument(BaseModel):
    """The TradeRegistry's record of an attested document (the fields an attestation sets)."""

    model_config = ConfigDict(frozen=True)

    seller: str
    kind: int
    issue_date: int
    due_date: int
    buyer: str
    currency: str
    attested_at: int
    amount: int
    used_by_slot: int

    def matches(self, message: AttestationMessage) -> bool:
        """True when this record is what ``message`` would have written."""
        return (
            checksum_address(self.seller) == message.seller
            and checksum_address(self.buyer) == message.buyer
            and self.kind == int(message.kind)
            and self.amount == message.amount
            and self.currency == message.currency
            and self.issue_date == message.issue_date
            and self.due_date == message.due_date
        )


class ChainFingerprintLedger:
    """``FingerprintLedger`` over ``TradeRegistry.document(fp)``.

    An attested fingerprint stays attested, so positive answers are cached for good; negative
    ones for ``negative_ttl`` seconds only (default 0: a reused invoice must be caught the moment
    the first one lands).
    """

    def __init__(
        self,
        w3: Web3,
        trade_registry_address: str,
        abi: list[dict[str, Any]],
        *,
        negative_ttl: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry = w3.eth.contract(address=to_checksum_address(trade_registry_address), abi=abi)
        self._negative_ttl = negative_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._used: set[str] = set()
        self._prefetched_unused: set[str] = set()
        self._unused_at: dict[str, float] = {}

    def document(self, fingerprint: str) -> OnChainDocument | None:
        """The on-chain record, or None while the fingerprint is not attested."""
        return _on_chain_document(self._registry.functions.document(bytes.fromhex(fingerprint[2:])).call())

    def documents(self, fingerprints: Sequence[str]) -> dict[str, OnChainDocument | None]:
        """``document`` for many fingerprints in JSON-RPC batches of 500 calls."""
        url = str(getattr(self._registry.w3.provider, "endpoint_uri", ""))
        found: dict[str, OnChainDocument | None] = {}
        for start in range(0, len(fingerprints), 500):
            chunk = [fp.lower() for fp in fingerprints[start : start + 500]]
            calls = [
                (
                    "eth_call",
                    [
                        {
                            "to": self._registry.address,
                            "data": "0x" + (_DOCUMENT_SELECTOR + bytes.fromhex(fp[2:])).hex(),
                        },
                        "latest",
                    ],
                )
                for fp in chunk
            ]
            for fp, reply in zip(chunk, batch_call(url, calls), strict=True):
                if reply.error is not None or not isinstance(reply.result, str):
                    raise ChainUnavailable(f"document({fp}) failed: {reply.message or reply.result}")
                found[fp] = _decode_document(bytes.fromhex(reply.result[2:]))
        return found

    def prefetch(self, fingerprints: Sequence[str]) -> None:
        """Read many fingerprints in one batch ahead of verifying them one by one.

        Attested ones join the permanent cache; an unattested answer is good for the next
        ``is_used`` of that fingerprint only, which is the verification this prefetch serves.
        """
        records = self.documents(fingerprints)
        with self._lock:
            for fp, record in records.items():
                if record is not None:
                    self._used.add(fp)
                else:
                    self._prefetched_unused.add(fp)

    def clear_prefetch(self) -> None:
        """Drop unattested answers a request prefetched but did not consume; they go stale."""
        with self._lock:
            self._prefetched_unused.clear()

    def is_used(self, fingerprint: str) -> bool:
        key = fingerprint.lower()
        with self._lock:
            if key in self._used:
                return True
            if key in self._prefetched_unused:
                self._prefetched_unused.discard(key)
                return False
            seen = self._unused_at.get(key)
        if seen is not None and self._clock() - seen < self._negative_ttl:
            return False
        used = self.document(key) is not None
        with self._lock:
            if used:
                self._used.add(key)
                self._unused_at.pop(key, None)
            else:
                self._unused_at[key] = self._clock()
        return used


class NodeAnswer(BaseModel):
    """A node's answer about one document: a signature over ``message``, or the refusals."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fingerprint: str | None
    ok: bool
    refusals: list[Refusal] = []
    message: AttestationMessage | None = None
    signature: str | None = None
    signer: str


class SignRequest(BaseModel):
    """Body of ``POST /sign``: signed documents as intake produces them, and the quorum's deadline."""

    model_config = ConfigDict(extra="forbid")

    deadline: int = Field(ge=0, lt=2**64)
    documents: list[Any]


class OracleNode:
    """Verifies and signs; owns nothing but its key, its store and read-only views of the chain."""

    def __init__(
        self,
        account: LocalAccount,
        domain: Eip712Domain,
        trust: TrustStore,
        directory: ParticipantDirectory,
        ledger: FingerprintLedger,
        store: NodeStore,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        policy: CheckPolicy | None = None,
    ) -> None:
        self.account = account
        self._key = attestation_key(account)
        self.domain = domain
        self.trust = trust
        self.directory = directory
        self.ledger = ledger
        self.store = store
        self.clock = clock
        self.policy = policy or CheckPolicy()
        # One document at a time per fingerprint would do; one lock keeps it simple, and the work
        # under it is CPU-bound Python that the GIL serializes anyway.
        self._lock = threading.Lock()

    @property
    def address(self) -> str:
        return str(self.account.address)

    def sign(self, message: AttestationMessage) -> str:
        """Sign the attestation; a seam tests use to build a node that misbehaves."""
        return sign_attestation(message, self.domain, self._key)

    def handle(self, signed_document_json: Any, *, deadline: int) -> NodeAnswer:
        return self.handle_many([signed_document_json], deadline=deadline)[0]

    def handle_many(self, payloads: Sequence[Any], *, deadline: int) -> list[NodeAnswer]:
        """Answer each document; every new answer is committed before any is returned."""
        parsed = [self._parse(payload) for payload in payloads]
        # Each document's fingerprint once, for the prefetch, the store and the verification.
        fps = {i: fingerprint(p.document) for i, p in enumerate(parsed) if isinstance(p, SignedDocument)}
        with self._lock:
            self._prefetch(list(fps.values()))
            answers: list[NodeAnswer] = []
            records: list[NodeRecord] = []
            try:
                for i, item in enumerate(parsed):
                    if isinstance(item, Refusal):
                        answers.append(self._refused(None, [item]))
                        continue
                    answer, record = self._answer(item, deadline, fps[i])
                    answers.append(answer)
                    if record is not None:
                        records.append(record)
            finally:
                clear = getattr(self.ledger, "clear_prefetch", None)
                if clear is not None:
                    clear()
            if records:
                self.store.put_many(records)
        return answers

    @staticmethod
    def _parse(payload: Any) -> SignedDocument | Refusal:
        try:
            if isinstance(payload, str | bytes):
                return SignedDocument.model_validate_json(payload)
            return SignedDocument.model_validate(payload)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or None
            return Refusal(code=ReasonCode.MALFORMED, field=field, message=first["msg"])

    def _prefetch(self, fingerprints: Sequence[str]) -> None:
        """One batched chain read for a request's fingerprints, when the ledger supports it."""
        prefetch = getattr(self.ledger, "prefetch", None)
        if prefetch is not None and len(fingerprints) > 1:
            prefetch(fingerprints)

    def _refused(self, fp: str | None, refusals: list[Refusal]) -> NodeAnswer:
        return NodeAnswer(fingerprint=fp, ok=False, refusals=refusals, signer=self.address)

    def _answer(self, signed: SignedDocument, deadline: int, fp: str) -> tuple[NodeAnswer, NodeRecord | None]:
        """``fp`` is ``fingerprint(signed.document)``, computed once by ``handle_many``."""
        digest = content_hash(signed.document)
        known = self.store.get(fp)
        if (
            known is not None
            and known.status == "signed"
            and known.content_hash == digest
            and known.deadline == deadline
        ):
            return self._repeat(known)
        verdict = verify_document(
            signed, trust=self.trust, directory=self.directory, ledger=self.ledger, now=self.clock(),
            policy=self.policy, known_hashes=(fp, digest),
        )  # fmt: skip
        message: AttestationMessage | None = None
        signature: str | None = None
        if verdict.ok and verdict.seller_address is not None:
            message = AttestationMessage.from_verified(
                signed.document, verdict.seller_address, verdict.buyer_address, deadline, fingerprint=fp
            )
            signature = self.sign(message)
        record = NodeRecord(
            fingerprint=fp,
            content_hash=digest,
            deadline=deadline,
            status="signed" if signature else "refused",
            verdict=verdict.model_dump(mode="json"),
            refusals=list(verdict.refusals),
            message=message,
            signature=signature,
        )
        if known is not None:
            reason = "refused_before" if known.status == "refused" else "changed_content_or_deadline"
            logger.info("node_reverify fingerprint=%s reason=%s status=%s", fp, reason, record.status)
        return self._from_record(record), record

    def _repeat(self, known: NodeRecord) -> tuple[NodeAnswer, NodeRecord | None]:
        """A signature given before: handed out again unless the chain has attested the document since."""
        if self.ledger.is_used(known.fingerprint):
            refusal = Refusal(
                code=ReasonCode.ALREADY_ATTESTED,
                message=f"this document (fingerprint {known.fingerprint}) is already used",
            )
            spent = known.model_copy(update={"status": "refused", "refusals": [refusal], "signature": None})
            return self._from_record(spent), spent
        return self._from_record(known), None

    def _from_record(self, record: NodeRecord) -> NodeAnswer:
        return NodeAnswer(
            fingerprint=record.fingerprint,
            ok=record.status == "signed",
            refusals=record.refusals,
            message=record.message,
            signature=record.signature,
            signer=self.address,
        )

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "address": self.address,
            "chain_id": self.domain.chain_id,
            "verifying_contract": self.domain.verifying_contract,
            "documents": self.store.count(),
        }


def _handler(node: OracleNode) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        server_version = "TierchainOracle/1"

        def do_GET(self) -> None:
            if self.path != "/health":
                self._problem(HTTPStatus.NOT_FOUND, f"no route {self.path}")
                return
            self._reply(HTTPStatus.OK, node.health())

        def do_POST(self) -> None:
            if self.path != "/sign":
                self._problem(HTTPStatus.NOT_FOUND, f"no route {self.path}")
                return
            body = self.read_json_body(MAX_BODY_BYTES, hint="send fewer documents per request")
            if body is None:
                return
            try:
                request = SignRequest.model_validate_json(body)
            except ValidationError as exc:
                self._problem(HTTPStatus.BAD_REQUEST, str(exc))
                return
            try:
                answers = node.handle_many(request.documents, deadline=request.deadline)
            except TierchainError as exc:
                logger.error("sign_failed error=%s", exc)
                self._problem(HTTPStatus.SERVICE_UNAVAILABLE, str(exc))
                return
            self._reply(HTTPStatus.OK, {"answers": [a.model_dump(mode="json") for a in answers]})

    return Handler


class NodeServer:
    """A node's HTTP server on a background thread; ``stop`` closes the port."""

    def __init__(self, node: OracleNode, port: int, host: str = "127.0.0.1") -> None:
        restore_recursion_limit()  # py_ecc raised it to 100,000: deeper than the C stack holds
        self.node = node
        self.httpd = ThreadingHTTPServer((host, port), _handler(node))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "NodeServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="oracle-node", daemon=True)
        self._thread.start()
        logger.info("node_listening url=%s address=%s", self.url, self.node.address)
        return self

    def serve_forever(self) -> None:
        logger.info("node_listening url=%s address=%s", self.url, self.node.address)
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
