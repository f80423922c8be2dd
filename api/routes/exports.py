"""Regulatory exports: 中登网 registration records of financings and the periodic report (数据报送).

Periods are Asia/Shanghai calendar days, `from` and `to` inclusive (`ledger.regulatory.period`).
Registration records name parties from the participant directory (`api.directory`); a party without
an entry shows its address and `no legal name on file`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import ContextDep, CurrentParticipant, OverseerParticipant, SessionDep
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.routes.financing import visible_offer
from api.schemas import PROBLEM_RESPONSES, IdPath
from api.security import Role
from ledger.regulatory import periodic, registrations
from ledger.regulatory.directory import load_directory
from ledger.regulatory.period import Period, PeriodError

router = APIRouter(tags=["regulatory exports"], responses=PROBLEM_RESPONSES)

_DAY = "an ISO date (YYYY-MM-DD), an Asia/Shanghai calendar day, inclusive"
From = Annotated[date | None, Query(alias="from", description=f"first day: {_DAY}; default: the first block")]
To = Annotated[date | None, Query(alias="to", description=f"last day: {_DAY}; default: the head")]
FromRequired = Annotated[date, Query(alias="from", description=f"first day: {_DAY}")]
ToRequired = Annotated[date, Query(alias="to", description=f"last day: {_DAY}")]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "UTF-8 CSV with a byte-order mark; headers `中文(english)`",
    }
}
REGISTRATION_READERS = (
    "the registration of a financing is read by its bank, its transferor, a REGULATOR or the OPERATOR"
)


def _period(start: date | None, end: date | None) -> Period:
    try:
        return Period.of(start, end)
    except PeriodError as exc:
        raise Unprocessable(str(exc), field="to") from exc


def _csv(text: str, name: str) -> Response:
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/regulator/registrations", summary="中登网 registration records of financings in a period")
def registrations_json(
    _: OverseerParticipant, session: SessionDep, start: From = None, end: To = None
) -> registrations.RegistrationExport:
    return registrations.registrations(session, _period(start, end))


@router.get(
    "/regulator/registrations.csv",
    summary="中登网 registration records of financings in a period, CSV",
    response_class=Response,
    responses=CSV_RESPONSE,
)
def registrations_csv(
    _: OverseerParticipant, session: SessionDep, start: From = None, end: To = None
) -> Response:
    period = _period(start, end)
    found = registrations.registrations(session, period)
    name = f"tierchain-registrations-{found.period_from}-{found.period_to}.csv"
    return _csv(registrations.to_csv(found.records), name)


def _registration(
    session: SessionDep, caller: CurrentParticipant, offer_id: int
) -> registrations.RegistrationRecord:
    if not caller.has(Role.BANK, Role.SUPPLIER, Role.REGULATOR, Role.OPERATOR):
        raise Forbidden("this operation needs one of the roles: BANK, SUPPLIER, REGULATOR, OPERATOR")
    offer = visible_offer(session, caller, offer_id)
    if offer.status != "financed":
        raise Conflict(
            f"offer {offer_id} is {offer.status}: only an accepted offer has a registration record"
        )
    if not (caller.sees_everything or caller.address in (offer.bank, offer.holder)):
        raise Forbidden(REGISTRATION_READERS)
    found = registrations.record(session, offer, load_directory(session.connection()))
    if found is None:
        raise NotFound(f"the financed piece of offer {offer_id} is not indexed yet")
    return found


@router.get(
    "/financing/offers/{offer_id}/registration",
    tags=["financing"],
    summary="The 中登网 registration record of one financing (its bank, its transferor, regulator, operator)",
)
def registration(
    offer_id: IdPath, caller: CurrentParticipant, session: SessionDep
) -> registrations.RegistrationRecord:
    return _registration(session, caller, offer_id)


@router.get(
    "/financing/offers/{offer_id}/registration.csv",
    tags=["financing"],
    summary="The 中登网 registration record of one financing, CSV",
    response_class=Response,
    responses=CSV_RESPONSE,
)
def registration_csv(offer_id: IdPath, caller: CurrentParticipant, session: SessionDep) -> Response:
    found = _registration(session, caller, offer_id)
    return _csv(registrations.to_csv([found]), f"tierchain-registration-offer-{offer_id}.csv")


def _transfer_registrations(
    session: SessionDep, caller: CurrentParticipant, token_id: int
) -> list[registrations.TransferRegistrationRecord]:
    found = registrations.transfer_records(session, token_id)
    if not found:
        raise NotFound(f"token {token_id} was not delivered by a trade-backed transfer")
    if not caller.sees_everything:
        mine = [r for r in found if caller.address in (r.transferor.address, r.transferee.address)]
        if not mine:
            raise NotFound(f"token {token_id} was not delivered by a trade-backed transfer")
        found = mine
    return found


@router.get(
    "/tokens/{token_id}/registration",
    tags=["tokens"],
    summary="中登网 registration records of the trade-backed transfers that delivered a piece (on request)",
)
def transfer_registration(
    token_id: IdPath, caller: CurrentParticipant, session: SessionDep
) -> list[registrations.TransferRegistrationRecord]:
    return _transfer_registrations(session, caller, token_id)


@router.get(
    "/tokens/{token_id}/registration.csv",
    tags=["tokens"],
    summary="中登网 registration records of the trade-backed transfers that delivered a piece, CSV",
    response_class=Response,
    responses=CSV_RESPONSE,
)
def transfer_registration_csv(token_id: IdPath, caller: CurrentParticipant, session: SessionDep) -> Response:
    found = _transfer_registrations(session, caller, token_id)
    return _csv(registrations.transfers_to_csv(found), f"tierchain-registration-token-{token_id}.csv")


def _report(ctx: ContextDep, session: SessionDep, start: date, end: date) -> periodic.PeriodicReport:
    period = _period(start, end)
    with ctx.index_still():  # the indexer stands still between reading the database and the chain
        return periodic.reconciled_report(session, period, ctx.source, ctx.indexer.deployment)


@router.get(
    "/regulator/reports/periodic",
    summary="Periodic report (数据报送): flows by core enterprise, tier and bank, reconciled with the chain",
)
def periodic_json(
    _: OverseerParticipant, ctx: ContextDep, session: SessionDep, start: FromRequired, end: ToRequired
) -> periodic.PeriodicReport:
    return _report(ctx, session, start, end)


@router.get(
    "/regulator/reports/periodic.csv",
    summary="Periodic report (数据报送), CSV",
    response_class=Response,
    responses=CSV_RESPONSE,
)
def periodic_csv(
    _: OverseerParticipant, ctx: ContextDep, session: SessionDep, start: FromRequired, end: ToRequired
) -> Response:
    report = _report(ctx, session, start, end)
    return _csv(periodic.to_csv(report), f"tierchain-periodic-{report.period_from}-{report.period_to}.csv")


__all__ = ["router"]
