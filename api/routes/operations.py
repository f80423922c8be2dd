"""Operations: the writes a caller sent with `Prefer: respond-async` (`api.async_writes`).

A caller reads its own operations; regulators and the operator read any one by id. Anyone else's
operation is not found (404), as if it did not exist. An operation still on its way answers with
`Retry-After`, the seconds to wait before asking again.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from api import operations as store
from api.async_writes import RETRY_AFTER_SECONDS
from api.deps import ContextDep, CurrentParticipant, PageDep
from api.errors import NotFound, Unprocessable
from api.operations import FINAL_STATES, Operation, OpState
from api.pagination import Page, decode_cursor, encode_cursor
from api.schemas import PROBLEM_RESPONSES

router = APIRouter(prefix="/operations", tags=["operations"], responses=PROBLEM_RESPONSES)

OpId = Annotated[str, Path(pattern=r"^[0-9a-f]{30}$", description="an operation id")]


@router.get("/{op_id}", summary="One asynchronous write: its state, then its answer (the caller's own)")
def get_operation(op_id: OpId, ctx: ContextDep, caller: CurrentParticipant, response: Response) -> Operation:
    row = store.get(ctx.engine, op_id)
    if row is None or not (caller.sees_everything or caller.acts_for(row.principal)):
        raise NotFound(f"no operation {op_id} sent by {caller.address}")
    operation = store.to_model(row)
    if operation.state not in FINAL_STATES:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return operation


@router.get("", summary="The caller's asynchronous writes, newest first")
async def list_operations(
    ctx: ContextDep,
    caller: CurrentParticipant,
    page: PageDep,
    state: Annotated[OpState | None, Query(description="only operations in this state")] = None,
) -> Page[Operation]:
    before: str | None = None
    if page.cursor is not None:
        key = decode_cursor(page.cursor)
        if not isinstance(key, str):
            raise Unprocessable("cursor is not one this service issued", field="cursor")
        before = key
    rows = await run_in_threadpool(
        store.list_for, ctx.engine, caller.address, state=state, before=before, limit=page.limit + 1
    )
    items = [store.to_model(r) for r in rows[: page.limit]]
    more = len(rows) > page.limit
    return Page[Operation](items=items, next_cursor=encode_cursor(items[-1].id) if more and items else None)
