"""Local shortcuts for the operator: move the local chain's clock, so that maturities, grace periods
and offer expiries arrive without waiting. Refused on any other network, whose clock is the real one.

The work is `ledger.localchain.advance_time`, the function `tierchain chain advance` calls too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from api.deps import ContextDep, OperatorParticipant, WriterDep
from api.errors import LocalOnly, Unprocessable
from api.schemas import PROBLEM_RESPONSES, RequestModel, json_integer
from ledger.errors import LocalOnly as LedgerLocalOnly
from ledger.localchain import advance_time

router = APIRouter(prefix="/dev", tags=["dev"], responses=PROBLEM_RESPONSES)

MAX_DAYS = 3650  # ten years: past any maturity plus grace a test needs


class AdvanceRequest(RequestModel):
    """Move the clock forward by `days` or by `seconds`: exactly one of them (422 otherwise)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"days": 90}, {"seconds": 3600}]}
    )

    days: Annotated[int, Field(ge=1, le=MAX_DAYS), BeforeValidator(json_integer)] | None = None
    seconds: Annotated[int, Field(ge=1, le=MAX_DAYS * 86_400), BeforeValidator(json_integer)] | None = None


class ClockMoved(BaseModel):
    """The chain's time before and after (unix seconds) and the block mined at the new time."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "before": 1764460800,
                    "after": 1772236800,
                    "seconds": 7776000,
                    "block_number": 57,
                    "chain_time": "2026-02-28T00:00:00Z",
                }
            ]
        }
    )

    before: int
    after: int
    seconds: int
    block_number: int
    chain_time: str = Field(description="`after` as an ISO 8601 UTC time")


@router.post(
    "/advance",
    summary="Move the local chain's clock forward (operator; local network only)",
    responses={
        409: {**PROBLEM_RESPONSES[409], "description": "not the local network: its clock is the real one"}
    },
)
def advance(body: AdvanceRequest, ctx: ContextDep, _: OperatorParticipant, writer: WriterDep) -> ClockMoved:
    def refused() -> LocalOnly:
        return LocalOnly(
            f"moving time works only on the local development chain (anvil); network "
            f"{ctx.network.name!r} is not local: its clock is the real one, wait for the date instead"
        )

    if not ctx.network.is_local:
        raise refused()
    if (body.days is None) == (body.seconds is None):
        raise Unprocessable("give exactly one of `days` and `seconds`", field="days")
    seconds = body.seconds if body.seconds is not None else (body.days or 0) * 86_400

    def make() -> ClockMoved:
        try:
            moved = advance_time(ctx.network, ctx.data_dir, seconds=seconds)
        except LedgerLocalOnly as exc:
            raise refused() from exc
        after = datetime.fromtimestamp(moved.after, UTC).isoformat().replace("+00:00", "Z")
        return ClockMoved(
            before=moved.before,
            after=moved.after,
            seconds=moved.seconds,
            block_number=moved.block,
            chain_time=after,
        )

    return writer.answer(make)
