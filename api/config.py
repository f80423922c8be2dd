"""The API's settings and the context built once per app: engine, chain client, indexer, key store.

`ApiSettings` (prefix `TIERCHAIN_API_`) holds what only the HTTP service needs; everything about the
chain and the database comes from the shared `ledger.config.Settings`. `AppContext` is created in
`create_app` and hung on `app.state.ctx`; nothing in `api/` builds a client or an engine at import.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, select

from api.cache import ReadCache
from api.dblocks import Lease
from api.watch import StateWatch
from ledger.client import TierchainClient
from ledger.config import NetworkConfig
from ledger.deploy import Deployment
from ledger.indexer import Indexer
from ledger.indexer.models import Cursor
from ledger.indexer.source import RpcSource
from ledger.keys import SCRYPT_N, Signer, keystore_password, load_keystore

if TYPE_CHECKING:  # api.credentials imports api.security, which imports this module
    from api.credentials import PrincipalCache

log = logging.getLogger(__name__)

LOCAL_ONBOARDING_FUND_WEI = 10**18  # gas for a new custodial participant on the local chain (1 ETH)
ENFORCEMENT_PASSWORD_ENV = "TIERCHAIN_API_ENFORCEMENT_PASSWORD"  # password of `enforcement_keystore`
INDEX_POLL_SECONDS = 0.05  # how often a worker that is not the indexer writer reads the cursor


class ApiSettings(BaseSettings):
    """Settings of the HTTP service; build once at the entry point and pass to `create_app`."""

    model_config = SettingsConfigDict(env_prefix="TIERCHAIN_API_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="address `tierchain serve` listens on")
    port: int = Field(default=8000, ge=1, le=65535, description="port `tierchain serve` listens on")
    workers: int = Field(
        default=1,
        ge=1,
        description=(
            "API worker processes `tierchain serve` runs on its port; they share the database (SQLite on "
            "one host in WAL mode, or PostgreSQL, also for several hosts)"
        ),
    )
    keystore_dir: Path | None = Field(
        default=None, description="custodial keystores; default <data_dir>/api-keystores"
    )
    keystore_password_env: str = Field(
        default="TIERCHAIN_API_KEYSTORE_PASSWORD",
        description="environment variable holding the password of custodial keystores",
    )
    keystore_scrypt_n: int = Field(default=SCRYPT_N, ge=2, description="scrypt cost of new keystores")
    operator_key: SecretStr | None = Field(
        default=None, description="bearer token of the operator (registry admin); unset disables it"
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=1, description="requests per participant per minute, all its keys and its wallet"
    )
    rate_limit_store: Literal["database", "memory"] = Field(
        default="database",
        description=(
            "where the rate-limit buckets live: `database` (shared by every API worker and host over the "
            "database) or `memory` (one process only)"
        ),
    )
    auth_failures_per_minute: int = Field(
        default=30, ge=1, description="failed authentications per client address per minute, then 429"
    )
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="request body limit (413 beyond it); room for a 1,000-document batch",
    )
    max_json_depth: int = Field(
        default=64, ge=2, le=1000, description="JSON nesting limit of request bodies (400 beyond it)"
    )
    signature_max_deadline_seconds: int = Field(
        default=300, ge=1, le=3600, description="how far ahead a wallet-signed request's deadline may be"
    )
    page_size_default: int = Field(default=50, ge=1, description="items per page when `limit` is not given")
    page_size_max: int = Field(
        default=500, ge=1, description="the largest `limit` a list accepts (at most 500)"
    )
    sync_interval_seconds: float = Field(
        default=1.0, ge=0, description="background indexer period; 0 disables it"
    )
    state_poll_seconds: float = Field(
        default=0.05,
        ge=0,
        description=(
            "how often a worker re-reads the indexer cursor and API-key revocations for its caches; a "
            "change made by another process (another worker, a separate indexer) shows within this"
        ),
    )
    max_indexer_lag_blocks: int = Field(default=10, ge=0, description="`/v1/ready` fails beyond this")
    index_wait_seconds: float = Field(
        default=30.0,
        gt=0,
        description=(
            "how long a write served by a worker that is not the indexer writer waits for the writer to "
            "index its block before answering anyway"
        ),
    )
    aggregator_url: str | None = Field(
        default=None,
        description="oracle aggregator intake URL; readable documents are handed to it to be attested",
    )
    trust_store_dir: Path | None = Field(
        default=None,
        description="issuer roots, CRLs, issuers.toml: without an aggregator the API verifies documents",
    )
    onboarding_fund_wei: int | None = Field(
        default=None,
        ge=0,
        description=(
            "gas (in wei) the operator's account sends every new custodial participant at onboarding, "
            "so its first write can be paid for; unset: 10^18 (1 ETH) on the local network, 0 elsewhere"
        ),
    )
    enforcement_keystore: Path | None = Field(
        default=None,
        description=(
            "keystore file of an ENFORCEMENT key, another key than the operator's: it approves lost-key "
            "recoveries and moves the tokens (POST /v1/participants/{address}/recovery/approve, "
            f".../recovery/tokens); its password in {ENFORCEMENT_PASSWORD_ENV}; unset: those routes are "
            "refused"
        ),
    )
    operation_workers: int = Field(
        default=4,
        ge=0,
        le=64,
        description=(
            "threads running writes sent with `Prefer: respond-async`; 0: this process accepts them but "
            "runs none (another process over the same database does)"
        ),
    )
    runner: Literal["all", "one", "none"] = Field(
        default="all",
        description=(
            "which processes over the database run writes sent with `Prefer: respond-async`: `all` (every "
            "worker, each with `operation_workers` threads), `one` (only the worker holding the database "
            "lease `operation-runner`; another takes over when it stops), `none` (this process only "
            "accepts them; another deployment over the same database runs them)"
        ),
    )
    operation_lease_seconds: float = Field(
        default=60,
        gt=0,
        description=(
            "how long a process holds an asynchronous write it runs (renewed while it runs); a process that "
            "dies leaves its writes to another after this long"
        ),
    )
    operation_poll_seconds: float = Field(
        default=0.5,
        gt=0,
        description="how often queued asynchronous writes and their transactions are checked",
    )
    settlement_faucet: bool | None = Field(
        default=None,
        description=(
            "operator route POST /v1/settlement/mint, minting test settlement cash (the operator's key "
            "must be the token's issuer); unset: on for the local network only"
        ),
    )


@dataclass
class AppContext:
    """Everything a request needs, built once in `create_app` and shared by all requests."""

    api: ApiSettings
    network: NetworkConfig
    deployment: Deployment
    engine: Engine
    client: TierchainClient
    operator: Signer
    keys: Any  # api.custody.KeyStore (typed there; kept loose here to avoid an import cycle)
    indexer: Indexer
    source: RpcSource
    limiter: Any  # api.ratelimit.Limiter, one bucket per participant
    auth_failures: Any  # api.ratelimit.Limiter, one bucket per client address
    reads: ReadCache
    watch: StateWatch  # the indexer cursor and key revocations, read once per interval
    principals: PrincipalCache  # checked API keys, kept while the state stands (api.credentials)
    data_dir: Path  # the ledger's data dir: where a local chain records its RPC URL
    writer: Lease  # held by the one process indexing at a time, for the run
    leader: Lease  # held while it lives by the one process running the background sync
    sync_lock: threading.Lock = field(default_factory=threading.Lock)
    # The ENFORCEMENT key (lost-key recoveries): given to `create_app`, else loaded from the setting.
    enforcement: Signer | None = None

    indexed_block: int = -1  # the cursor after the last sync this process ran

    @property
    def onboarding_fund_wei(self) -> int:
        """Gas sent to each new custodial participant: the setting, else 1 ETH on the local chain only."""
        if self.api.onboarding_fund_wei is not None:
            return self.api.onboarding_fund_wei
        return LOCAL_ONBOARDING_FUND_WEI if self.network.is_local else 0

    @property
    def settlement_faucet(self) -> bool:
        """Whether the operator may mint settlement cash: the setting, else on the local chain only."""
        if self.api.settlement_faucet is not None:
            return self.api.settlement_faucet
        return self.network.is_local

    def enforcement_signer(self) -> Signer:
        """The ENFORCEMENT key that approves recoveries: never the operator's (two keys, two parties).

        Loaded once from `enforcement_keystore` (password in `TIERCHAIN_API_ENFORCEMENT_PASSWORD`).
        Unset: `EnforcementKeyMissing` (409) names the setting; the operator's own key:
        `EnforcementKeyIsOperator` (409)."""
        from api.errors import EnforcementKeyIsOperator, EnforcementKeyMissing  # api.errors is imported late

        if self.enforcement is None:
            path = self.api.enforcement_keystore
            if path is None:
                raise EnforcementKeyMissing(
                    "the service has no ENFORCEMENT key: the operator sets "
                    "TIERCHAIN_API_ENFORCEMENT_KEYSTORE (the keystore of an ENFORCEMENT key other than the "
                    "operator's) and "
                    f"{ENFORCEMENT_PASSWORD_ENV} (its password), and restarts the service"
                )
            password = keystore_password(ENFORCEMENT_PASSWORD_ENV, "password of the ENFORCEMENT keystore")
            self.enforcement = load_keystore(path, password)
        if self.enforcement.address == self.operator.address:
            raise EnforcementKeyIsOperator(
                "the service's ENFORCEMENT key is the operator's key: a recovery is requested and approved "
                "by two distinct keys; set TIERCHAIN_API_ENFORCEMENT_KEYSTORE to another key's keystore"
            )
        return self.enforcement

    def sync(self, through: int | None = None) -> None:
        """Bring the index to `through` (the block a write was mined in; default the chain head);
        writes call this before answering so reads agree.

        One process indexes at a time, holding the indexer writer lock (in the database) for the run.
        While another process holds it, this one does not index: it polls the cursor in the database
        until it reaches the block, and takes the lock itself if it comes free first (the other
        process finished a run short of the block, or died). Within a process, a sync that another
        request finished while this one waited, and that already indexed `through`, is enough.
        """
        target = through
        deadline = time.monotonic() + self.api.index_wait_seconds
        while True:
            with self.sync_lock:
                if through is not None and self.indexed_block >= through:
                    return
                if self.writer.acquire():
                    try:
                        self._index()
                    finally:
                        self.writer.release()
                    return
            if target is None:
                target = self.source.head()
            cursor = self.cursor()
            if cursor is not None and cursor >= target:
                self.watch.expire()  # another worker indexed it: read the new state at once
                return
            if time.monotonic() > deadline:
                log.warning("indexer writer behind block=%d cursor=%s", target, cursor)
                return
            time.sleep(INDEX_POLL_SECONDS)

    def background_sync(self) -> None:
        """The periodic sync, run by the one worker holding the leader lock (kept while it lives);
        a sync run by a write elsewhere at that moment is left to finish."""
        if not self.leader.acquire():
            return
        with self.sync_lock:
            if self.writer.acquire():
                try:
                    self._index()
                finally:
                    self.writer.release()

    @contextmanager
    def index_still(self) -> Iterator[None]:
        """Hold the index still for the block (no process indexes meanwhile): this process's sync
        lock and the indexer writer lock, waiting up to `index_wait_seconds` for a run elsewhere."""
        with self.sync_lock:
            deadline = time.monotonic() + self.api.index_wait_seconds
            while not (held := self.writer.acquire()) and time.monotonic() < deadline:
                time.sleep(INDEX_POLL_SECONDS)
            if not held:
                log.warning("indexer writer lock still held elsewhere; reading a moving index")
            try:
                yield
            finally:
                if held:
                    self.writer.release()

    def _index(self) -> None:
        # A reorg deeper than the confirmations raises DeepReorgError, recorded on the cursor in the
        # database for every worker: `/v1/ready` answers 503 with it until a sync succeeds.
        stats = self.indexer.sync()
        self.indexed_block = stats.cursor
        self.watch.expire()  # this process's next request sees the new cursor (or a reorg) at once
        if stats.events:
            log.debug("indexer synced head=%d events=%d", stats.head, stats.events)

    def cursor(self) -> int | None:
        """The indexer's cursor as stored in the database (whichever worker wrote it)."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(Cursor.block_number).where(  # type: ignore[call-overload]
                    Cursor.chain_id == self.indexer.chain_id, Cursor.deployment == self.indexer.key
                )
            ).scalar()
        return None if found is None else int(found)

    def close(self) -> None:
        self.leader.release()
        self.source.close()
        self.engine.dispose()
