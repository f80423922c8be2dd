"""Typed dependencies every route uses: the context, a DB session, the caller, roles, pages, writes.

Routes declare what they need by type (`ctx: ContextDep`, `caller: CurrentParticipant`,
`writer: WriterDep`, `page: PageDep`) and never reach for app state themselves.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SqlTimeout
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.config import AppContext
from api.errors import Forbidden, Unprocessable
from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.idempotency import IdempotencyClaim, claim
from api.pagination import PageParams
from api.schemas import WriteResult
from api.security import Principal, Role, authenticate
from ledger.client import TxResult
from ledger.keys import Signer

M = TypeVar("M", bound=BaseModel)
log = logging.getLogger(__name__)


PAGE_SIZE_LIMIT = 500  # the largest `limit` any deployment allows (`page_size_max` may lower it)
_bearer = HTTPBearer(auto_error=False, description="`tc_<id>_<secret>` API key, or the operator key")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# Dependencies that only compute are `async def`: FastAPI runs a plain `def` dependency in the thread
# pool, and each such hop costs a cached read more CPU than the read itself.


async def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_session(ctx: ContextDep) -> Iterator[Session]:
    with Session(ctx.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


async def current_participant(
    request: Request,
    ctx: ContextDep,
    # The credentials are read by `api.security.authenticate`; declared here so OpenAPI shows them.
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
    x_tierchain_address: Annotated[
        str | None, Header(description="signer of a wallet-signed request")
    ] = None,
    x_tierchain_signature: Annotated[str | None, Header(description="EIP-712 signature of `Request`")] = None,
    x_tierchain_nonce: Annotated[str | None, Header(description="single-use uint256")] = None,
    x_tierchain_deadline: Annotated[
        str | None, Header(description="unix seconds, at most 300 s ahead")
    ] = None,
) -> Principal:
    """The caller, by API key, operator key or wallet signature; rate-limited and scope-checked.

    For a request with a body, `api.limits.RequestGuard` has already authenticated it before reading
    the body, and this returns that answer."""
    return await authenticate(request, ctx)


CurrentParticipant = Annotated[Principal, Depends(current_participant)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting callers holding any of `roles` (the operator only where listed)."""
    names = ", ".join(r.value for r in roles)

    async def check(caller: CurrentParticipant) -> Principal:
        if not caller.has(*roles):
            raise Forbidden(f"this operation needs one of the roles: {names}")
        return caller

    return check


OperatorParticipant = Annotated[Principal, Depends(require_roles(Role.OPERATOR))]
SupplierParticipant = Annotated[Principal, Depends(require_roles(Role.SUPPLIER))]
ObligorParticipant = Annotated[Principal, Depends(require_roles(Role.CORE_ENTERPRISE))]
BankParticipant = Annotated[Principal, Depends(require_roles(Role.BANK))]
RegulatorParticipant = Annotated[Principal, Depends(require_roles(Role.REGULATOR))]
OverseerParticipant = Annotated[Principal, Depends(require_roles(Role.REGULATOR, Role.OPERATOR))]


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def reject_unknown_query(request: Request) -> None:
    """Query parameters a route does not declare are refused, as unknown body fields are (422)."""
    route = request.scope.get("route")
    if not request.scope.get("query_string") or not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params) - _query_names(route.dependant))
    if unknown:
        raise Unprocessable(f"unknown query parameter(s): {', '.join(map(repr, unknown))}", field=unknown[0])


async def page_params(
    ctx: ContextDep,
    limit: Annotated[int | None, Query(ge=1, le=PAGE_SIZE_LIMIT, description="page size")] = None,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
) -> PageParams:
    size = limit or ctx.api.page_size_default
    if size > ctx.api.page_size_max:
        raise Unprocessable(f"limit must be at most {ctx.api.page_size_max}", field="limit")
    return PageParams(limit=size, cursor=cursor)


PageDep = Annotated[PageParams, Depends(page_params)]


async def idempotency_claim(
    request: Request,
    ctx: ContextDep,
    caller: CurrentParticipant,
    idempotency_key: Annotated[
        str | None,
        Header(alias=IDEMPOTENCY_HEADER, max_length=255, description="retry-safe key; first answer replayed"),
    ] = None,
) -> AsyncIterator[IdempotencyClaim | None]:
    """Claim the request's `Idempotency-Key` (or replay the stored answer); a claim left pending by a
    failed or refused request is released afterwards, so the client may retry it."""
    if idempotency_key is None:
        yield None
        return
    body = await request.body()
    claimed = await run_in_threadpool(
        claim, ctx.engine, caller.address, idempotency_key, request.method, request.url.path, body
    )
    try:
        yield claimed
    finally:
        try:
            await run_in_threadpool(claimed.release)
        except (DBAPIError, SqlTimeout) as exc:  # retried before this process's next claim
            log.warning("idempotency claim not released key=%s error=%s", idempotency_key, exc)


@dataclass
class Writer:
    """Runs one write for the caller: signs with its custodial key, waits for the receipt, syncs the
    indexer so the next read sees the change, and stores the answer under the idempotency key.

    The request's session gives its connection back before the chain work starts: a write holds it
    for a receipt's wait otherwise, and the sync that follows needs connections of its own (with as
    many concurrent writes as the pool has connections, every sync would wait on a write's session).
    """

    ctx: AppContext
    caller: Principal
    claim: IdempotencyClaim | None
    session: Session

    @property
    def key(self) -> str | None:
        """The ledger idempotency key to pass to client writes (None without `Idempotency-Key`)."""
        return self.claim.ledger_key if self.claim else None

    def signer(self) -> Signer:
        if self.caller.is_operator:
            return self.ctx.operator
        signer: Signer = self.ctx.keys.signer(self.caller.address)
        return signer

    def run(
        self, op: Callable[[Signer, str | None], TxResult], *, status_code: int = 200
    ) -> WriteResult[Any]:
        """`op(signer, key)` performs the client call; the answer is `{tx_hash, status, block, result}`."""
        return self.answer(lambda: WriteResult.of(op(self.signer(), self.key)), status_code=status_code)

    def answer(self, make: Callable[[], M], *, status_code: int = 200) -> M:
        """Run a write that shapes its own answer (several transactions, custom result)."""
        self.session.close()  # objects already loaded stay readable; a later use reconnects
        try:
            answer = make()
        except BaseException:
            if self.claim is not None:
                self.claim.release()
            raise
        mined = getattr(answer, "block_number", None)
        self.ctx.sync(through=mined if isinstance(mined, int) else None)
        if self.claim is not None:
            self.claim.store(status_code, answer.model_dump(mode="json"))
        return answer


def get_writer(
    ctx: ContextDep,
    caller: CurrentParticipant,
    claimed: Annotated[IdempotencyClaim | None, Depends(idempotency_claim)],
    session: SessionDep,
) -> Writer:
    return Writer(ctx, caller, claimed, session)


WriterDep = Annotated[Writer, Depends(get_writer)]

__all__ = [
    "BankParticipant",
    "ContextDep",
    "CurrentParticipant",
    "ObligorParticipant",
    "OperatorParticipant",
    "OverseerParticipant",
    "PageDep",
    "RegulatorParticipant",
    "SessionDep",
    "SupplierParticipant",
    "Writer",
    "WriterDep",
    "reject_unknown_query",
    "require_roles",
]
