"""`create_app`: build the context once (engine, migrations, chain client, indexer, key store) and
mount every router under `/v1`, with errors mapped to problem+json in `api.errors`."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from api import tables
from api.async_openapi import document_async_writes
from api.async_precheck import WriteRoutes
from api.async_writes import AsyncWrites
from api.cache import ReadCache
from api.config import ApiSettings, AppContext
from api.credentials import PrincipalCache
from api.custody import KeyStore
from api.dblocks import Lease, exclusive
from api.deps import reject_unknown_query
from api.errors import register_handlers
from api.idempotency import StoredResponse
from api.limits import RequestGuard
from api.nonces import SharedNonces
from api.operation_runner import OperationRunner
from api.ratelimit import DbRateLimiter, Limiter, RateLimiter
from api.routes import (
    dashboard,
    dev,
    documents,
    events,
    exports,
    financing,
    governance,
    health,
    history,
    obligations,
    operations,
    participants,
    policy,
    recourse,
    recovery,
    regulator,
    repayment,
    settlement,
    tokens,
    tx,
    urwa,
)
from api.security import Principal, authenticate
from api.txjournal import DbTxJournal
from api.watch import StateWatch
from ledger.client import TierchainClient
from ledger.compile import load_abis
from ledger.config import NetworkConfig, Settings, load_network
from ledger.deploy import Deployment, connect, load_deployment
from ledger.errors import ErrorDecoder, SignerError
from ledger.indexer import Indexer
from ledger.indexer.db import make_engine
from ledger.indexer.db import upgrade as upgrade_indexer
from ledger.indexer.manifest import IndexedDeployment
from ledger.indexer.source import RpcSource
from ledger.jsonlimits import restore_recursion_limit
from ledger.keys import Signer, load_signer, local_accounts
from ledger.rpc import make_web3, provider_urls
from ledger.tx import TransactionManager

log = logging.getLogger(__name__)

API_POOL_SIZE = 40  # the threads anyio runs sync routes on, by default

API_VERSION = "1.0.0"
DESCRIPTION = """ERC-3525 receivables for multi-tier supply-chain finance.

Authenticate with `Authorization: Bearer tc_<id>_<secret>` or sign the request with your wallet
(`X-Tierchain-Address/-Signature/-Nonce/-Deadline`, EIP-712 `Request`). Writes answer once mined;
send `Idempotency-Key` to retry safely, `Prefer: respond-async` to be answered `202 Accepted` at once
and follow the write at `/v1/operations/{id}`. Errors are `application/problem+json` (RFC 9457).
"""


def _operator_signer(network: NetworkConfig) -> Signer:
    """The registry admin's key; on a local chain without one configured, anvil's account 0."""
    try:
        return load_signer(network)
    except SignerError:
        if network.anvil is None:
            raise
        return local_accounts(network.anvil.mnemonic, 1)[0]


def build_context(
    settings: Settings,
    api_settings: ApiSettings,
    *,
    network: NetworkConfig | None = None,
    deployment: Deployment | None = None,
    operator: Signer | None = None,
    abis: dict[str, list[dict[str, Any]]] | None = None,
    enforcement: Signer | None = None,
) -> AppContext:
    """Everything built once; explicit arguments (tests, embedding) override what settings would load."""
    if network is None:
        network = load_network(settings)
        w3 = connect(settings, network)
        # every URL the network has (a local one: where `chain up` put it), the answering one first
        network = network.model_copy(update={"rpc_urls": provider_urls(w3)})
    else:
        w3 = make_web3(network.rpc_urls)
    deployment = deployment or load_deployment(settings, network.name)
    abis = abis or load_abis(settings.build_dir)
    operator = operator or _operator_signer(network)
    assert settings.database_url is not None
    # One pooled connection per thread of the server's pool (anyio's default: 40), kept open.
    engine = make_engine(settings.database_url, pool_size=API_POOL_SIZE)
    with exclusive(engine, "schema"):  # workers starting together migrate one after the other
        upgrade_indexer(engine)
        tables.upgrade(engine)
    manager = TransactionManager(
        w3,
        network,
        operator,
        DbTxJournal(engine),
        ErrorDecoder.from_artifacts(abis),
        allocator=lambda pending_count: SharedNonces(engine, pending_count),
    )
    client = TierchainClient(manager, deployment, abis)
    source = RpcSource(network.rpc_urls)  # the indexer fails over across the same nodes
    indexer = Indexer(
        engine,
        source,
        IndexedDeployment.model_validate(deployment.model_dump()),
        abis,
        max_reorg_depth=network.confirmations,
    )
    watch = StateWatch(engine, indexer.chain_id, indexer.key, api_settings.state_poll_seconds)
    keys = KeyStore(
        engine,
        api_settings.keystore_dir or settings.data_dir / "api-keystores",
        api_settings.keystore_password_env,
        api_settings.keystore_scrypt_n,
    )
    return AppContext(
        api=api_settings,
        network=network,
        deployment=deployment,
        engine=engine,
        client=client,
        operator=operator,
        keys=keys,
        indexer=indexer,
        source=source,
        limiter=_limiter(
            api_settings,
            engine,
            "participant",
            api_settings.rate_limit_per_minute,
            f"this participant's limit of {api_settings.rate_limit_per_minute} requests a minute "
            "(all its keys and its wallet together) is used up",
        ),
        auth_failures=_limiter(
            api_settings,
            engine,
            "client",
            api_settings.auth_failures_per_minute,
            f"more than {api_settings.auth_failures_per_minute} failed authentications from this "
            "address in a minute (bad keys or signatures): every request from it is refused until the "
            "budget refills",
        ),
        reads=ReadCache(watch),
        watch=watch,
        principals=PrincipalCache(watch),
        data_dir=settings.data_dir,
        writer=Lease(engine, f"indexer-writer:{indexer.chain_id}:{indexer.key}"),
        leader=Lease(engine, f"indexer-leader:{indexer.chain_id}:{indexer.key}"),
        enforcement=enforcement,
    )


def _limiter(api_settings: ApiSettings, engine: Engine, scope: str, per_minute: int, reason: str) -> Limiter:
    """The buckets in the database (shared by every worker) or, by setting, in this process."""
    if api_settings.rate_limit_store == "memory":
        return RateLimiter(per_minute, reason=reason)
    return DbRateLimiter(engine, scope, per_minute, reason=reason)


def _background_sync(ctx: AppContext, stop: threading.Event) -> None:
    """Keep reads fresh for changes the API did not make (other clients, time-based state)."""
    while not stop.wait(ctx.api.sync_interval_seconds):
        try:
            ctx.background_sync()
        except Exception as exc:  # a failed round is retried next period; /ready shows the lag
            log.warning("background sync failed error=%s", exc)


async def _replay(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StoredResponse)
    return JSONResponse(exc.body, status_code=exc.status_code, headers={"Idempotent-Replayed": "true"})


def create_app(
    settings: Settings,
    api_settings: ApiSettings | None = None,
    *,
    network: NetworkConfig | None = None,
    deployment: Deployment | None = None,
    operator: Signer | None = None,
    abis: dict[str, list[dict[str, Any]]] | None = None,
    enforcement: Signer | None = None,
) -> FastAPI:
    api_settings = api_settings or ApiSettings()
    # py_ecc (imported by eth_account) raises the limit to 100,000, deeper than the C stack holds.
    restore_recursion_limit()
    ctx = build_context(
        settings,
        api_settings,
        network=network,
        deployment=deployment,
        operator=operator,
        abis=abis,
        enforcement=enforcement,
    )

    runner = OperationRunner(
        ctx,
        workers=api_settings.operation_workers,
        lease_seconds=api_settings.operation_lease_seconds,
        poll_seconds=api_settings.operation_poll_seconds,
        mode=api_settings.runner,
        runner_lease=Lease(ctx.engine, f"operation-runner:{ctx.indexer.chain_id}"),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        runner.start(app)
        threads = []
        if api_settings.sync_interval_seconds > 0:
            threads.append(
                threading.Thread(target=_background_sync, args=(ctx, stop), name="api-sync", daemon=True)
            )
        if api_settings.state_poll_seconds > 0:
            threads.append(
                threading.Thread(target=ctx.watch.run, args=(stop,), name="api-state-watch", daemon=True)
            )
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            runner.stop()
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
            ctx.close()

    app = FastAPI(
        title="Tierchain API",
        version=API_VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/v1/openapi.json",
        docs_url="/v1/docs",
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.operations = runner  # runs writes sent with `Prefer: respond-async`
    register_handlers(app)
    app.add_exception_handler(StoredResponse, _replay)
    v1 = APIRouter(prefix="/v1", dependencies=[Depends(reject_unknown_query)])
    v1_modules = (
        health,
        participants,
        history,
        recovery,
        documents,
        obligations,
        tokens,
        financing,
        recourse,
        repayment,
        settlement,
        regulator,
        exports,
        events,
        tx,
        dev,
        governance,
        policy,
        urwa,
        operations,
    )
    for module in v1_modules:
        v1.include_router(module.router)
    app.include_router(v1)
    app.include_router(dashboard.router)

    async def authenticate_request(request: Request) -> Principal:
        return await authenticate(request, ctx)

    app.add_middleware(
        AsyncWrites,
        runner=runner,
        routes=WriteRoutes("/v1", [m.router for m in v1_modules if m is not operations]),
    )  # inside the guard: bounded, authenticated requests
    app.add_middleware(
        RequestGuard,
        max_body_bytes=api_settings.max_body_bytes,
        max_json_depth=api_settings.max_json_depth,
        authenticate=authenticate_request,
    )
    document_async_writes(app)
    log.info(
        "api ready network=%s chain_id=%d token=%s",
        ctx.network.name,
        ctx.deployment.chain_id,
        ctx.deployment.address("ReceivableToken"),
    )
    return app
