"""A participant's own history (GET /v1/participants/me/history, JSON pages, and .csv): every event
touching the caller's pieces, with its time, block, transaction, kind, piece, obligation,
counterparty (address and legal name) and value in minor units of its currency.

The CSV is UTF-8 with a byte-order mark (Excel opens it right in Chinese locales); its header row is
the English snake_case column names of `api.history.CSV_COLUMNS`, time in ISO 8601 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import CurrentParticipant, PageDep, SessionDep
from api.history import CSV_COLUMNS, HistoryEntry, participant_history
from api.pagination import Page
from api.schemas import PROBLEM_RESPONSES
from ledger.regulatory.csvout import render
from ledger.regulatory.directory import load_directory

router = APIRouter(prefix="/participants/me", tags=["participants"], responses=PROBLEM_RESPONSES)

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "UTF-8 CSV with a byte-order mark; English snake_case headers: "
        + ", ".join(CSV_COLUMNS),
    }
}
_FORMULA = ("=", "+", "-", "@")


def _history(session: SessionDep, caller: CurrentParticipant) -> list[HistoryEntry]:
    return participant_history(session, caller.identities, load_directory(session.connection()))


def _cell(text: str | None) -> str | None:
    """A free-text cell that a spreadsheet would not run as a formula."""
    return "'" + text if text and text.startswith(_FORMULA) else text


def _row(e: HistoryEntry) -> list[object]:
    moment = datetime.fromtimestamp(e.time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        moment,
        e.block,
        e.tx_hash,
        e.kind,
        e.token_id,
        e.obligation,
        e.counterparty,
        _cell(e.counterparty_name),
        e.value,
        e.currency_code,
    ]


@router.get("/history", summary="The caller's own history: every event touching its pieces, oldest first")
def history(caller: CurrentParticipant, session: SessionDep, page: PageDep) -> Page[HistoryEntry]:
    return page.slice(_history(session, caller), lambda e: e.event_id)


@router.get(
    "/history.csv",
    summary="The caller's own history, CSV (every event, one file)",
    response_class=Response,
    responses=CSV_RESPONSE,
)
def history_csv(caller: CurrentParticipant, session: SessionDep) -> Response:
    text = render(CSV_COLUMNS, (_row(e) for e in _history(session, caller)))
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="tierchain-history.csv"'},
    )


__all__ = ["router"]
