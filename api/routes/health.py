"""Liveness (`/health`: the process answers) and readiness (`/ready`: DB, RPC and indexer lag)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlmodel import Session

from api.deps import ContextDep
from api.errors import DATABASE_RETRY_AFTER_SECONDS
from ledger.indexer.models import Cursor

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "not-ready"]
    database: bool
    rpc: bool
    head: int | None
    indexed: int | None
    lag: int | None
    reason: str | None = Field(
        default=None,
        description="why not ready, when it is not the lag: the database or the chain unreachable, "
        "the indexer stopped at a deep reorg",
    )


@router.get("/health", summary="Liveness")
async def health() -> Health:
    return Health()


@router.get("/ready", summary="Readiness: database, chain and indexer lag", response_model=Readiness)
def ready(ctx: ContextDep) -> JSONResponse:
    database = rpc = False
    head = indexed = None
    halted: str | None = None
    reasons: list[str] = []
    try:
        with Session(ctx.engine) as session:
            session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            cursor = session.get(Cursor, (ctx.deployment.chain_id, ctx.indexer.key))
            indexed = cursor.block_number if cursor else None
            halted = cursor.halted if cursor else None  # recorded by whichever process indexes
        database = True
    except Exception as exc:  # readiness reports, it does not raise
        database = False
        reasons.append(f"database unreachable ({type(exc).__name__})")
    try:
        head = ctx.source.head()
        rpc = True
    except Exception as exc:
        rpc = False
        reasons.append(f"chain RPC unreachable ({type(exc).__name__})")
    lag = head - indexed if head is not None and indexed is not None else None
    ok = database and rpc and lag is not None and lag <= ctx.api.max_indexer_lag_blocks and halted is None
    body = Readiness(
        status="ready" if ok else "not-ready",
        database=database,
        rpc=rpc,
        head=head,
        indexed=indexed,
        lag=lag,
        reason="; ".join([*reasons, *([halted] if halted else [])]) or None,
    )
    # unreachable database: answered as every request that needs it is (`api.errors.storage_problem`)
    headers = {} if database else {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503, headers=headers)
