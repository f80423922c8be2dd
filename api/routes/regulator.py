"""The regulator's room: it reads the whole ledger and writes only freezes.

Search by address, token id, slot, fingerprint or transaction hash; the lineage graph of any
obligation from its source documents down to every piece; exposures by obligor, bank and supply-chain
tier; frozen tokens; freeze and unfreeze with a reason code; and an audit export of every decoded
event in a period, as JSON or CSV.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from api.deps import (
    ContextDep,
    OverseerParticipant,
    PageDep,
    RegulatorParticipant,
    SessionDep,
    WriterDep,
)
from api.errors import NotFound, Unprocessable
from api.pagination import Page
from api.results import FreezeChangedResult
from api.routes.financing import OfferView, _offer_view
from api.routes.recovery import RecoveryCaseView, RecoveryState, case_views
from api.schemas import MAX_ID, PROBLEM_RESPONSES, Address, IdPath, JsonInt, RequestModel, WriteResult
from ledger.indexer import queries
from ledger.indexer.models import (
    Document,
    Event,
    Financing,
    Freeze,
    Obligation,
    Participant,
    Token,
    Transfer,
)
from ledger.regulatory import limits as credit
from ledger.regulatory import recourse

router = APIRouter(prefix="/regulator", tags=["regulator"], responses=PROBLEM_RESPONSES)

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")


class FreezeRequest(RequestModel):
    reason_code: JsonInt = Field(ge=0, lt=2**32, description="why, as a code of the regulator's rulebook")


class EventView(BaseModel):
    id: int
    block_number: int
    block_timestamp: int
    tx_hash: str
    log_index: int
    contract: str
    address: str
    name: str
    args: dict[str, Any]

    @classmethod
    def of(cls, e: Event) -> EventView:
        assert e.id is not None
        return cls(
            id=e.id,
            block_number=e.block_number,
            block_timestamp=e.block_timestamp,
            tx_hash=e.tx_hash,
            log_index=e.log_index,
            contract=e.contract,
            address=e.address,
            name=e.name,
            args=e.args,
        )


class ParticipantHit(BaseModel):
    address: str
    status: str
    roles: list[str]
    legal_id_hash: str | None


class DocumentView(BaseModel):
    fingerprint: str
    kind: str
    seller: str
    buyer: str
    amount: int
    currency: str
    issue_date: int
    due_date: int
    signers: list[str]
    attested_block: int
    attested_at: int
    used_by_slot: int | None


class SearchResult(BaseModel):
    query: str
    participants: list[ParticipantHit] = []
    tokens: list[queries.TokenView] = []
    obligations: list[queries.MaturityEntry] = []
    documents: list[DocumentView] = []
    offers: list[OfferView] = []
    events: list[EventView] = Field(default=[], description="events of a transaction hash")


class GraphNode(BaseModel):
    id: str = Field(description="`document:<fingerprint>`, `obligation:<slot>` or `token:<id>`")
    kind: Literal["document", "obligation", "token"]
    depth: int | None = Field(description="tokens: 0 for the root; documents -2, the obligation -1")
    label: str
    owner: str | None = None
    value: int | None = None
    financed: bool = False
    frozen: bool = False
    burned: bool = False


class GraphEdge(BaseModel):
    source: str
    target: str
    kind: Literal["backs", "issues", "split", "merge"]
    value: int | None = Field(description="minor units moved along the edge (document amount for `backs`)")


class LineageGraph(BaseModel):
    slot: int
    obligor: str
    face: int
    state: str
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class FrozenToken(BaseModel):
    token: queries.TokenView
    reason_code: int | None
    frozen_by: str | None
    frozen_block: int | None


class AuditExport(BaseModel):
    period_from: str
    period_to: str
    from_block: int
    to_block: int
    count: int
    events: list[EventView]
    recoveries: list[RecoveryCaseView] = Field(
        default_factory=list,
        description=(
            "lost-key recoveries with a step (request, approval, cancellation, token move) in the period"
        ),
    )


def _document_view(d: Document) -> DocumentView:
    return DocumentView(**d.model_dump(include=set(DocumentView.model_fields)))


def _calendar_entry(session: Session, slot: int) -> queries.MaturityEntry | None:
    o = session.get(Obligation, slot)
    if o is None:
        return None
    return next(e for e in queries.maturity_calendar(session, o.maturity, o.maturity) if e.slot == slot)


@router.get("/search", summary="Find anything by address, token id, slot, fingerprint or tx hash")
def search(
    _: OverseerParticipant,
    session: SessionDep,
    q: Annotated[
        str,
        Query(
            pattern=r"^(0x[0-9a-fA-F]{40}|0x[0-9a-fA-F]{64}|[0-9]{1,18})$",
            description="an address, a decimal token id / slot / offer id, a fingerprint or a tx hash",
        ),
    ],
) -> SearchResult:
    term = q.strip().lower()
    found = SearchResult(query=q)
    if _ADDRESS.match(term):
        row = session.get(Participant, term)
        if row is not None:
            found.participants.append(
                ParticipantHit(
                    address=row.address,
                    status=row.status,
                    roles=list(row.roles),
                    legal_id_hash=row.legal_id_hash,
                )
            )
        tokens = session.exec(select(Token).where(col(Token.owner) == term).order_by(col(Token.token_id)))
        found.tokens = [queries.TokenView.of(t) for t in tokens.all()]
        slots = session.exec(select(Obligation.slot).where(col(Obligation.obligor) == term)).all()
        found.obligations = [e for s in slots if (e := _calendar_entry(session, s)) is not None]
        offers = session.exec(select(Financing).where(col(Financing.bank) == term)).all()
        found.offers = [_offer_view(f) for f in offers]
    elif _HASH.match(term):
        document = session.get(Document, term)
        if document is not None:
            found.documents.append(_document_view(document))
        events = session.exec(select(Event).where(col(Event.tx_hash) == term).order_by(col(Event.log_index)))
        found.events = [EventView.of(e) for e in events.all()]
    elif term.isdigit() and int(term) <= MAX_ID:
        number = int(term)
        token = session.get(Token, number)
        if token is not None:
            found.tokens.append(queries.TokenView.of(token))
        if (entry := _calendar_entry(session, number)) is not None:
            found.obligations.append(entry)
        offer = session.get(Financing, number)
        if offer is not None:
            found.offers.append(_offer_view(offer))
    else:
        raise Unprocessable(
            "search by 0x address (40 hex), fingerprint or tx hash (64 hex), or a decimal id", field="q"
        )
    return found


@router.get("/obligations/{slot}/graph", summary="Lineage graph: documents → obligation → every piece")
def lineage_graph(slot: IdPath, _: OverseerParticipant, session: SessionDep) -> LineageGraph:
    obligation = session.get(Obligation, slot)
    if obligation is None:
        raise NotFound(f"obligation {slot} not found")
    nodes: list[GraphNode] = []
    edges: list[GraphEdge] = []
    slot_id = f"obligation:{slot}"
    nodes.append(GraphNode(id=slot_id, kind="obligation", depth=-1, label=f"obligation {slot}"))
    for fingerprint in obligation.documents:
        doc = session.get(Document, fingerprint)
        node_id = f"document:{fingerprint}"
        nodes.append(
            GraphNode(
                id=node_id,
                kind="document",
                depth=-2,
                label=f"{doc.kind} {fingerprint[:10]}" if doc else f"document {fingerprint[:10]}",
                owner=doc.seller if doc else None,
                value=doc.amount if doc else None,
            )
        )
        edges.append(
            GraphEdge(source=node_id, target=slot_id, kind="backs", value=doc.amount if doc else None)
        )
    tokens = session.exec(
        select(Token).where(col(Token.slot) == slot).order_by(col(Token.depth), col(Token.token_id))
    )
    ids = set()
    financed = {
        f.financed_token_id
        for f in session.exec(select(Financing).where(col(Financing.status) == "financed")).all()
    }
    for t in tokens.all():
        ids.add(t.token_id)
        nodes.append(
            GraphNode(
                id=f"token:{t.token_id}",
                kind="token",
                depth=t.depth,
                label=f"token {t.token_id}",
                owner=t.owner,
                value=t.value,
                financed=t.token_id in financed,
                frozen=t.frozen,
                burned=t.burned,
            )
        )
        if t.parent_id is None:
            edges.append(
                GraphEdge(source=slot_id, target=f"token:{t.token_id}", kind="issues", value=obligation.face)
            )
    moved: dict[tuple[int, int], int] = defaultdict(int)
    for m in session.exec(
        select(Transfer).where(col(Transfer.kind) == "value", col(Transfer.from_token_id).in_(ids))
    ).all():
        if m.from_token_id is not None and m.to_token_id is not None and m.to_token_id in ids:
            moved[(m.from_token_id, m.to_token_id)] += m.value or 0
    parents = {
        t.token_id: t.parent_id for t in session.exec(select(Token).where(col(Token.slot) == slot)).all()
    }
    for (source, target), value in sorted(moved.items()):
        kind: Literal["split", "merge"] = "split" if parents.get(target) == source else "merge"
        edges.append(GraphEdge(source=f"token:{source}", target=f"token:{target}", kind=kind, value=value))
    return LineageGraph(
        slot=slot,
        obligor=obligation.obligor,
        face=obligation.face,
        state=obligation.state,
        nodes=nodes,
        edges=edges,
    )


@router.get("/exposures/obligors", summary="Exposure by obligor: face, paid, outstanding, overdue, defaulted")
def obligor_exposure(_: OverseerParticipant, session: SessionDep) -> list[queries.ObligorExposure]:
    return queries.exposure_by_obligor(session)


@router.get("/exposures/banks", summary="Exposure by bank: receivables held and financed")
def bank_exposure(_: OverseerParticipant, session: SessionDep) -> list[queries.BankExposure]:
    return queries.exposure_by_bank(session)


class LimitsView(BaseModel):
    banks: list[credit.BankLimits] = Field(description="each bank's limits, their use and its concentration")
    obligors: list[credit.ObligorConcentration] = Field(
        description="per core enterprise: how many banks carry it and how much each (multi-bank credit)"
    )


@router.get(
    "/exposures/limits",
    summary="Banks' credit limits (授信), their use, and each bank's concentration in each core enterprise",
)
def limits_exposure(_: OverseerParticipant, ctx: ContextDep, session: SessionDep) -> LimitsView:
    banks, obligors = credit.all_banks(session, ctx.client)
    return LimitsView(banks=banks, obligors=obligors)


@router.get(
    "/exposures/recourse",
    summary="Recourse claims (追索) sellers still owe banks: open and partly settled, by offer id",
)
def recourse_exposure(
    _: OverseerParticipant,
    session: SessionDep,
    bank: Annotated[Address | None, Query(description="one bank's claims")] = None,
) -> recourse.RecourseExposure:
    return recourse.recourse_exposure(session, bank=bank)


@router.get("/exposures/tiers", summary="Live value per supply-chain tier (token depth)")
def tier_exposure(
    _: OverseerParticipant,
    session: SessionDep,
    slot: Annotated[int | None, Query(ge=0, le=MAX_ID, description="one obligation only")] = None,
) -> list[queries.TierExposure]:
    return queries.exposure_by_tier(session, slot)


@router.get("/frozen", summary="Tokens frozen now, with the latest freeze's reason")
def frozen_tokens(_: OverseerParticipant, session: SessionDep, page: PageDep) -> Page[FrozenToken]:
    query = select(Token).where(col(Token.frozen).is_(True)).order_by(col(Token.token_id))
    if (after := page.after_int()) is not None:
        query = query.where(col(Token.token_id) > after)
    rows = []
    for t in session.exec(query.limit(page.limit + 1)).all():
        last = session.exec(
            select(Freeze)
            .where(col(Freeze.token_id) == t.token_id, col(Freeze.action) == "freeze")
            .order_by(col(Freeze.block_number).desc(), col(Freeze.log_index).desc())
        ).first()
        rows.append(
            FrozenToken(
                token=queries.TokenView.of(t),
                reason_code=last.reason_code if last else None,
                frozen_by=last.regulator if last else None,
                frozen_block=last.block_number if last else None,
            )
        )
    return page.page(rows, lambda f: f.token.token_id)


def _live_token(session: Session, token_id: int) -> Token:
    token = session.get(Token, token_id)
    if token is None or token.burned:
        raise NotFound(f"token {token_id} not found")
    return token


@router.post("/tokens/{token_id}/freeze", summary="Freeze a token with a reason code (regulator)")
def freeze(
    token_id: IdPath,
    body: FreezeRequest,
    ctx: ContextDep,
    session: SessionDep,
    _: RegulatorParticipant,
    writer: WriterDep,
) -> WriteResult[FreezeChangedResult]:
    _live_token(session, token_id)
    return writer.run(lambda signer, key: ctx.client.freeze(signer, token_id, body.reason_code, key=key))


@router.post("/tokens/{token_id}/unfreeze", summary="Lift a freeze with a reason code (regulator)")
def unfreeze(
    token_id: IdPath,
    body: FreezeRequest,
    ctx: ContextDep,
    session: SessionDep,
    _: RegulatorParticipant,
    writer: WriterDep,
) -> WriteResult[FreezeChangedResult]:
    _live_token(session, token_id)
    return writer.run(lambda signer, key: ctx.client.unfreeze(signer, token_id, body.reason_code, key=key))


# ------------------------------------------------------------------------------------ audit export

_PERIOD_HELP = "a block number, or an ISO date (UTC; `from` the day's start, `to` its end)"
Bound = Annotated[int, Field(ge=0, le=MAX_ID)] | date
FromBound = Annotated[Bound | None, Query(alias="from", description=_PERIOD_HELP)]
ToBound = Annotated[Bound | None, Query(alias="to", description=_PERIOD_HELP)]
AUDIT_COLUMNS = (
    "id",
    "block_number",
    "block_timestamp",
    "tx_hash",
    "log_index",
    "contract",
    "address",
    "name",
    "args",
)


def _label(bound: Bound | None, default: str) -> str:
    return default if bound is None else str(bound)


def _period_events(session: Session, start: Bound | None, end: Bound | None) -> tuple[list[Event], int, int]:
    """Events from `start` to `end`, each bound a block number or a whole UTC day (mixing is fine)."""
    query = select(Event).order_by(col(Event.block_number), col(Event.log_index))
    if isinstance(start, date):
        since = int(datetime.combine(start, time.min, UTC).timestamp())
        query = query.where(col(Event.block_timestamp) >= since)
    elif start is not None:
        query = query.where(col(Event.block_number) >= start)
    if isinstance(end, date):
        until = int(datetime.combine(end, time.max, UTC).timestamp())
        query = query.where(col(Event.block_timestamp) <= until)
    elif end is not None:
        query = query.where(col(Event.block_number) <= end)
    events = list(session.exec(query).all())
    first = events[0].block_number if events else 0
    last = events[-1].block_number if events else 0
    return events, first, last


@router.get(
    "/audit",
    summary="Every event in a period, JSON (`from`, `to`: block numbers or ISO dates), and its recoveries",
)
def audit_json(
    _: OverseerParticipant,
    ctx: ContextDep,
    session: SessionDep,
    start: FromBound = None,
    end: ToBound = None,
) -> AuditExport:
    events, lo, hi = _period_events(session, start, end)
    found = queries.recoveries(session, since_block=lo, until_block=hi) if events else []
    return AuditExport(
        period_from=_label(start, "start"),
        period_to=_label(end, "head"),
        from_block=lo,
        to_block=hi,
        count=len(events),
        events=[EventView.of(e) for e in events],
        recoveries=case_views(session, ctx.engine, found),
    )


@router.get(
    "/recoveries",
    summary="Lost-key recoveries (密钥遗失恢复): requested, approved or cancelled, with tokens moved",
)
def list_recoveries(
    _: OverseerParticipant,
    ctx: ContextDep,
    session: SessionDep,
    page: PageDep,
    state: Annotated[RecoveryState | None, Query()] = None,
    lost: Annotated[Address | None, Query(description="recoveries of this lost address")] = None,
    replacement: Annotated[Address | None, Query(description="recoveries to this address")] = None,
) -> Page[RecoveryCaseView]:
    found = queries.recoveries(session, lost=lost, replacement=replacement, state=state)
    ids = {id(v): v.id for v in found}
    views = case_views(session, ctx.engine, found)
    keyed = {id(c): ids[id(v)] for c, v in zip(views, found, strict=True)}
    return page.slice(views, lambda c: keyed[id(c)])


@router.get(
    "/audit.csv",
    summary="Every event in a period, CSV (`from`, `to`: block numbers or ISO dates)",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "one row per event"}
    },
)
def audit_csv(
    _: OverseerParticipant,
    session: SessionDep,
    start: FromBound = None,
    end: ToBound = None,
) -> Response:
    events, _lo, _hi = _period_events(session, start, end)
    name = f"tierchain-audit-{_label(start, 'start')}-{_label(end, 'head')}.csv"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(AUDIT_COLUMNS)
    for e in events:
        view = EventView.of(e)
        writer.writerow(
            [*(getattr(view, c) for c in AUDIT_COLUMNS[:-1]), json.dumps(view.args, sort_keys=True)]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
