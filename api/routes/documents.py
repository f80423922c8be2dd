"""Trade documents: submit a batch of signed documents, list the attested ones the caller is a party
to (with what each can still cover), and look one up by fingerprint.

Every record is read with `oracles.intake` so a bad one becomes a per-record error and the rest go
through. With an aggregator configured (`TIERCHAIN_API_AGGREGATOR_URL`) the readable documents are
handed to it, and the oracles verify and attest them on-chain. Without one, the API verifies each
document itself against the configured trust store (`TIERCHAIN_API_TRUST_STORE_DIR`) and records the
verdict, but nothing attests it: such documents answer `verified_awaiting_attestation`, and become
`attested` only once an attestation appears on-chain (read from the indexer).

The aggregator decides after the API has answered the submission, so the API keeps its view current
by asking: reading a document that is not attested asks the aggregator for its state (at most once
per `STATUS_CACHE_SECONDS` per document; the stored state is served in between and whenever the
aggregator cannot be reached). Polling on read needs nothing of the aggregator but the route it
already serves, and cannot lose an update the way a callback to a restarting API could.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Engine, and_, not_, or_, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col
from sqlmodel import select as sql_select
from sqlmodel.sql.expression import SelectOfScalar

from api.deps import ContextDep, CurrentParticipant, PageDep, SessionDep, require_roles
from api.errors import NotFound, ServiceUnavailable, Unprocessable
from api.pagination import Page, PageParams, decode_cursor
from api.schemas import PROBLEM_RESPONSES, Address, Problem, RequestModel
from api.security import Principal, Role
from api.tables import document_verdicts
from ledger.indexer.models import Document, Participant
from oracles.canonical import content_hash, fingerprint
from oracles.checks import Participant as DirectoryEntry
from oracles.intake import IntakeError, validate_each
from oracles.reasons import ReasonCode
from oracles.signatures import SignedDocument
from oracles.trust import TrustStore
from oracles.verify import verify_document

log = logging.getLogger(__name__)

router = APIRouter(prefix="/documents", tags=["documents"], responses=PROBLEM_RESPONSES)

Submitter = Annotated[
    Principal, Depends(require_roles(Role.SUPPLIER, Role.CORE_ENTERPRISE, Role.ORACLE, Role.OPERATOR))
]
FingerprintPath = Annotated[str, PathParam(pattern=r"^0x[0-9a-fA-F]{64}$")]
Status = Literal["malformed", "refused", "verified_awaiting_attestation", "submitted", "attested"]
AGGREGATOR_TIMEOUT_SECONDS = 30.0
AGGREGATOR_POLL_TIMEOUT_SECONDS = 5.0
STATUS_CACHE_SECONDS = 2.0
"""How long a state read from the aggregator is served before a read asks it again."""
_ASK_AGGREGATOR: frozenset[str] = frozenset({"submitted", "refused"})


class DocumentBatch(RequestModel):
    documents: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=1000,
        description="signed documents: {document, signature, certificate_chain}",
    )


class RefusalView(BaseModel):
    code: str = Field(description="a stable oracles.reasons.ReasonCode, e.g. SIGNATURE_INVALID")
    field: str | None = Field(
        default=None, description="the document field concerned, e.g. buyer_tax_id; null: the whole document"
    )
    message: str = Field(description="the oracle's sentence: what is wrong and what to do about it")


class RecordResult(BaseModel):
    index: int = Field(description="position in the batch, from 1")
    status: Status
    fingerprint: str | None = None
    refusals: list[RefusalView] = []
    note: str | None = None


class BatchResult(BaseModel):
    mode: Literal["aggregator", "verified_locally"]
    accepted: int
    rejected: int
    results: list[RecordResult]


class Attestation(BaseModel):
    kind: str
    seller: str
    buyer: str
    amount: int
    currency: str
    signers: list[str]
    attested_block: int
    attested_at: int
    used_by_slot: int | None


class DocumentStatus(BaseModel):
    fingerprint: str
    status: Status
    refusals: list[RefusalView] = []
    note: str | None = None
    attestation: Attestation | None = Field(
        default=None,
        description="the on-chain record; null while the indexer has not read the attesting block yet",
    )


DocumentKind = Literal["invoice", "purchase_order", "delivery_note", "warehouse_receipt"]
COVER_KINDS: tuple[str, ...] = ("invoice", "purchase_order")
"""Kinds whose amount backs payments between holders (a purchase order only beside a delivery note)."""


class DocumentListItem(BaseModel):
    fingerprint: str
    kind: str = Field(description="invoice, purchase_order, delivery_note or warehouse_receipt")
    seller: str
    buyer: str
    amount: int = Field(description="minor units of `currency`")
    currency: str
    issue_date: int = Field(description="unix seconds")
    due_date: int = Field(description="unix seconds; 0 when the document has none")
    used_by_slot: int | None = Field(description="the obligation it backs; such a document backs no payment")
    moved_value: int = Field(description="how much of payments between holders it has backed so far")
    remaining: int | None = Field(
        description="amount - moved_value: what it can still back (invoices and purchase orders; else null)"
    )
    citable: bool = Field(
        description=(
            "whether a payment from its buyer to its seller may cite it now: not used by an obligation, "
            "and cover left (an invoice or purchase order) or a delivery note"
        )
    )


def _citable() -> ColumnElement[bool]:
    """SQL: a document a payment from its buyer to its seller may cite (what `consumeForMove` takes)."""
    covers = and_(col(Document.kind).in_(COVER_KINDS), col(Document.amount) > col(Document.moved_value))
    return and_(col(Document.used_by_slot).is_(None), or_(covers, col(Document.kind) == "delivery_note"))


def _list_key(doc: DocumentListItem) -> str:
    """The page key: issue date, then fingerprint (the list's order)."""
    return f"{doc.issue_date}:{doc.fingerprint}"


def _after(page: PageParams) -> ColumnElement[bool] | None:
    """SQL: the rows after the cursor's (issue date, fingerprint), or None on the first page."""
    if page.cursor is None:
        return None
    key = decode_cursor(page.cursor)
    day, _, fp = key.partition(":") if isinstance(key, str) else ("", "", "")
    if not day.isdigit() or not fp.startswith("0x"):
        raise Unprocessable("cursor is not one this service issued", field="cursor")
    issued = int(day)
    return or_(
        col(Document.issue_date) > issued,
        and_(col(Document.issue_date) == issued, col(Document.fingerprint) > fp),
    )


def _list_item(doc: Document) -> DocumentListItem:
    amount, moved = int(doc.amount), int(doc.moved_value or 0)
    covers = doc.kind in COVER_KINDS
    remaining = max(amount - moved, 0) if covers else None
    unused = doc.used_by_slot is None
    return DocumentListItem(
        fingerprint=doc.fingerprint,
        kind=doc.kind,
        seller=doc.seller,
        buyer=doc.buyer,
        amount=amount,
        currency=doc.currency,
        issue_date=int(doc.issue_date),
        due_date=int(doc.due_date),
        used_by_slot=doc.used_by_slot,
        moved_value=moved,
        remaining=remaining,
        citable=unused and (bool(remaining) if covers else doc.kind == "delivery_note"),
    )


def list_query(
    caller: Principal,
    page: PageParams,
    *,
    seller: str | None = None,
    buyer: str | None = None,
    kind: str | None = None,
    currency: str | None = None,
    citable: bool | None = None,
) -> SelectOfScalar[Document]:
    """The attested documents `caller` may list with these filters, one page (+1) in list order."""
    query = sql_select(Document).order_by(col(Document.issue_date), col(Document.fingerprint))
    if not caller.sees_everything:
        me = caller.address
        query = query.where(or_(col(Document.seller) == me, col(Document.buyer) == me))
    if seller is not None:
        query = query.where(col(Document.seller) == seller.lower())
    if buyer is not None:
        query = query.where(col(Document.buyer) == buyer.lower())
    if kind is not None:
        query = query.where(col(Document.kind) == kind)
    if currency is not None:
        query = query.where(col(Document.currency) == currency)
    if citable is not None:
        query = query.where(_citable() if citable else not_(_citable()))
    if (after := _after(page)) is not None:
        query = query.where(after)
    return query.limit(page.limit + 1)


class _IndexedDirectory:
    """`oracles.checks.ParticipantDirectory` over the indexer's participants table."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lookup(self, legal_id_hash: str) -> DirectoryEntry | None:
        row = self.session.exec(
            sql_select(Participant).where(col(Participant.legal_id_hash) == legal_id_hash.lower())
        ).first()
        if row is None or row.status == "none":
            return None
        return DirectoryEntry(address=row.address, roles=frozenset(row.roles), active=row.status == "active")


class _IndexedFingerprints:
    """`oracles.checks.FingerprintLedger`: a fingerprint is used once the indexer saw it attested."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def is_used(self, fingerprint: str) -> bool:
        return self.session.get(Document, fingerprint.lower()) is not None


@lru_cache(maxsize=4)
def _trust_store(folder: Path) -> TrustStore:
    return TrustStore.from_folder(folder)


def _intake_refusals(errors: list[IntakeError]) -> list[RefusalView]:
    return [RefusalView(code=e.code.value, field=e.field, message=e.reason) for e in errors]


def _already_attested(row: dict[str, Any]) -> bool:
    codes = {r["code"] for r in row["refusals"]}
    return row["status"] == "refused" and codes == {ReasonCode.ALREADY_ATTESTED.value}


def _save(engine: Engine, caller: Principal, rows: list[dict[str, Any]]) -> None:
    """Record each document's state under its fingerprint.

    A submission refused only as ``ALREADY_ATTESTED`` is a verdict on that submission, not on the
    document: it is answered, not stored (storing it would record the caller as a submitter of a
    document someone else attested, and show them its attestation). An attested row stays attested.
    """
    rows = [row for row in rows if not _already_attested(row)]
    if not rows:
        return
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for row in rows:
            values = {**row, "submitted_by": caller.address, "updated_at": now}
            if conn.dialect.name == "sqlite":
                stmt = sqlite_insert(document_verdicts).values(**values)
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["fingerprint"],
                        set_=values,
                        where=document_verdicts.c.status != "attested",
                    )
                )
            else:  # portable fallback: replace unless attested
                key = document_verdicts.c.fingerprint == row["fingerprint"]
                stored = conn.execute(select(document_verdicts.c.status).where(key)).scalar()
                if stored == "attested":
                    continue
                conn.execute(document_verdicts.delete().where(key))
                conn.execute(document_verdicts.insert().values(**values))


def _verify_locally(
    folder: Path, session: Session, parsed: list[tuple[int, SignedDocument]]
) -> tuple[list[RecordResult], list[dict[str, Any]]]:
    trust = _trust_store(folder)
    directory, ledger = _IndexedDirectory(session), _IndexedFingerprints(session)
    now = datetime.now(UTC)
    results, rows = [], []
    for index, signed in parsed:
        verdict = verify_document(signed, trust=trust, directory=directory, ledger=ledger, now=now)
        refusals = [
            RefusalView(code=r.code.value, field=r.field, message=r.message) for r in verdict.refusals
        ]
        status: Status = "verified_awaiting_attestation" if verdict.ok else "refused"
        note = (
            "verified by the API; no oracle aggregator is configured, so nothing attests it on-chain yet"
            if verdict.ok
            else None
        )
        results.append(
            RecordResult(
                index=index, status=status, fingerprint=verdict.fingerprint, refusals=refusals, note=note
            )
        )
        rows.append(
            {
                "fingerprint": verdict.fingerprint.lower(),
                "content_hash": verdict.content_hash,
                "kind": signed.document.kind.name,
                "status": status,
                "refusals": [r.model_dump() for r in refusals],
                "seller": (verdict.seller_address or "").lower() or None,
                "buyer": (verdict.buyer_address or "").lower() or None,
                "tx_hash": None,
            }
        )
    return results, rows


def _aggregator_view(item: dict[str, Any]) -> tuple[Status, list[RefusalView], str]:
    """The API's status, refusals and note for one aggregator answer (an intake result or a state).

    The aggregator lists each distinct reason once, with its code, field and the oracle's sentence.
    """
    state = str(item.get("status") or "pending")
    status: Status = "attested" if state == "attested" else "refused" if state == "refused" else "submitted"
    refusals: list[RefusalView] = []
    if status == "refused":
        raw = item.get("refusals")
        for refusal in raw if isinstance(raw, list) else []:
            if isinstance(refusal, dict) and refusal.get("code"):
                refusals.append(
                    RefusalView(
                        code=str(refusal["code"]),
                        field=refusal.get("field"),
                        message=str(refusal.get("message") or refusal["code"]),
                    )
                )
        if not refusals:  # an aggregator that gives only its summary
            reason = str(item.get("reason") or "refused without a reason")
            refusals.append(RefusalView(code=ReasonCode.ATTESTATION_FAILED.value, message=reason))
    note = f"aggregator: {state}"
    if state == "no_quorum" and item.get("reason"):
        note += f" ({item['reason']}); asked again on its next run"
    return status, refusals, note


def _ask_aggregator(url: str, key: str) -> dict[str, Any] | None:
    """The aggregator's state of one document, or None when it does not know it or cannot answer."""
    try:
        reply = httpx.get(f"{url.rstrip('/')}/documents/{key}", timeout=AGGREGATOR_POLL_TIMEOUT_SECONDS)
        if reply.status_code == 404:
            return None
        reply.raise_for_status()
        body = reply.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("aggregator_poll_failed url=%s fingerprint=%s error=%s", url, key, exc)
        return None
    return body if isinstance(body, dict) else None


def _stale(updated_at: datetime) -> bool:
    seen = updated_at if updated_at.tzinfo is not None else updated_at.replace(tzinfo=UTC)
    return (datetime.now(UTC) - seen).total_seconds() >= STATUS_CACHE_SECONDS


def _hand_to_aggregator(
    url: str, records: list[dict[str, Any]], parsed: list[tuple[int, SignedDocument]]
) -> tuple[list[RecordResult], list[dict[str, Any]]]:
    payload = [records[index - 1] for index, _ in parsed]
    try:
        reply = httpx.post(f"{url.rstrip('/')}/documents", json=payload, timeout=AGGREGATOR_TIMEOUT_SECONDS)
        reply.raise_for_status()
        items = reply.json()["results"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        log.error("aggregator handoff failed url=%s error=%s", url, exc)
        raise ServiceUnavailable(f"the oracle aggregator did not take the batch: {exc}") from exc
    results, rows = [], []
    for (index, signed), item in zip(parsed, items, strict=False):
        fp = str(item.get("fingerprint") or fingerprint(signed.document)).lower()
        status, refusals, note = _aggregator_view(item)
        results.append(RecordResult(index=index, status=status, fingerprint=fp, refusals=refusals, note=note))
        rows.append(
            {
                "fingerprint": fp,
                "content_hash": content_hash(signed.document),
                "kind": signed.document.kind.name,
                "status": status,
                "refusals": [r.model_dump() for r in refusals],
                "seller": None,
                "buyer": None,
                "tx_hash": item.get("tx_hash"),
            }
        )
    return results, rows


@router.post(
    "",
    summary="Submit signed trade documents (per-record results with refusal codes)",
    responses={
        503: {
            "model": Problem,
            "content": {"application/problem+json": {}},
            "description": "no aggregator or trust store configured, or the aggregator is down",
        }
    },
)
def submit(body: DocumentBatch, ctx: ContextDep, session: SessionDep, caller: Submitter) -> BatchResult:
    url, folder = ctx.api.aggregator_url, ctx.api.trust_store_dir
    if url is None and folder is None:
        raise ServiceUnavailable("no oracle aggregator and no trust store are configured for documents")
    parsed: list[tuple[int, SignedDocument]] = []
    results: dict[int, RecordResult] = {}
    for index, item in enumerate(validate_each(body.documents, source="request"), start=1):
        if isinstance(item, SignedDocument):
            parsed.append((index, item))
        else:
            results[index] = RecordResult(index=index, status="malformed", refusals=_intake_refusals(item))
    if url is not None:
        checked, rows = _hand_to_aggregator(url, body.documents, parsed) if parsed else ([], [])
    else:
        assert folder is not None
        checked, rows = _verify_locally(folder, session, parsed)
    _save(ctx.engine, caller, rows)
    results.update({r.index: r for r in checked})
    ordered = [results[i] for i in sorted(results)]
    good = sum(r.status not in ("malformed", "refused") for r in ordered)
    return BatchResult(
        mode="aggregator" if url is not None else "verified_locally",
        accepted=good,
        rejected=len(ordered) - good,
        results=ordered,
    )


@router.get("", summary="Attested trade documents the caller is a party to, with the cover each has left")
def list_documents(
    caller: CurrentParticipant,
    session: SessionDep,
    page: PageDep,
    seller: Annotated[Address | None, Query(description="only documents this party sold")] = None,
    buyer: Annotated[Address | None, Query(description="only documents this party bought")] = None,
    kind: Annotated[DocumentKind | None, Query(description="only documents of this kind")] = None,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")] = None,
    citable: Annotated[
        bool | None,
        Query(
            description=(
                "true: only documents a payment from the buyer to the seller may cite now (not used by an "
                "obligation, with cover left, or a delivery note); false: only the others"
            )
        ),
    ] = None,
) -> Page[DocumentListItem]:
    """Sellers and buyers see the documents they are a party to; a regulator and the operator see every
    one. In issue-date order (then fingerprint), which is the order a payment cites them in."""
    query = list_query(
        caller, page, seller=seller, buyer=buyer, kind=kind, currency=currency, citable=citable
    )
    rows = [_list_item(d) for d in session.exec(query).all()]
    return page.page(rows, _list_key)


@router.get("/{fingerprint}", summary="A document's status, refusal reasons and on-chain attestation")
def get_document(
    fingerprint: FingerprintPath, ctx: ContextDep, session: SessionDep, caller: CurrentParticipant
) -> DocumentStatus:
    key = fingerprint.lower()
    with ctx.engine.connect() as conn:
        verdict = conn.execute(
            select(document_verdicts).where(document_verdicts.c.fingerprint == key)
        ).first()
    onchain = session.get(Document, key)
    parties: set[str | None] = set()
    if verdict is not None:
        parties |= {verdict.submitted_by, verdict.seller, verdict.buyer}
    if onchain is not None:
        parties |= {onchain.seller, onchain.buyer}
    if not parties or not (caller.sees_everything or caller.address in parties):
        raise NotFound(f"document {fingerprint} not found")
    attestation = (
        Attestation(**onchain.model_dump(include=set(Attestation.model_fields)))
        if onchain is not None
        else None
    )
    if attestation is not None:
        return DocumentStatus(fingerprint=key, status="attested", attestation=attestation)
    assert verdict is not None
    status: Status = verdict.status
    refusals = [RefusalView(**r) for r in verdict.refusals]
    note = (
        "verified by the API; awaiting attestation (no oracle aggregator is configured)"
        if status == "verified_awaiting_attestation"
        else None
    )
    url = ctx.api.aggregator_url
    if url is not None and status in _ASK_AGGREGATOR and _stale(verdict.updated_at):
        state = _ask_aggregator(url, key)
        # Asked, whatever the answer: an aggregator that is down is not asked again on every read.
        values: dict[str, Any] = {"updated_at": datetime.now(UTC)}
        if state is None:
            note = "the oracle aggregator could not tell this document's state; this is the last one seen"
        else:
            status, refusals, note = _aggregator_view(state)
            values |= {
                "status": status,
                "refusals": [r.model_dump() for r in refusals],
                "tx_hash": state.get("tx_hash") or verdict.tx_hash,
            }
        with ctx.engine.begin() as conn:
            conn.execute(
                update(document_verdicts).where(document_verdicts.c.fingerprint == key).values(**values)
            )
    if status == "attested":
        note = "attested on-chain; the attestation shows here once the indexer has read its block"
    return DocumentStatus(fingerprint=key, status=status, refusals=refusals, note=note)
