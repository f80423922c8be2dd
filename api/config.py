"""The API's settings and the context built once per app: engine, chain client, indexer, key store.

`ApiSettings` (prefix `TIERCHAIN_API_`) holds what only the HTTP service needs; everything about the
chain and the database comes from the shared `ledger.config.Settings`. `AppContext` is created in
`create_app` and hung on `app.state.ctx`; nothing in `api/` builds a client or an engine at import.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine

from api.cache import ReadCache
from ledger.client import TierchainClient
from ledger.config import NetworkConfig
from ledger.deploy import Deployment
from ledger.indexer import Indexer
from ledger.indexer.source import RpcSource
from ledger.keys import SCRYPT_N, Signer, keystore_password, load_keystore

log = logging.getLogger(__name__)

LOCAL_ONBOARDING_FUND_WEI = 10**18  # gas for a new custodial participant on the local chain (1 ETH)
ENFORCEMENT_PASSWORD_ENV = "TIERCHAIN_API_ENFORCEMENT_PASSWORD"  # password of `enforcement_keystore`


class ApiSettings(BaseSettings):
    """Settings of the HTTP service; build once at the entry point and pass to `create_app`."""

    model_config = SettingsConfigDict(env_prefix="TIERCHAIN_API_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="address `tierchain serve` listens on")
    port: int = Field(default=8000, ge=1, le=65535, description="port `tierchain serve` listens on")
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
    max_indexer_lag_blocks: int = Field(default=10, ge=0, description="`/v1/ready` fails beyond this")
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
    limiter: Any  # api.ratelimit.RateLimiter, one bucket per participant
    auth_failures: Any  # api.ratelimit.RateLimiter, one bucket per client address
    reads: ReadCache
    data_dir: Path  # the ledger's data dir: where a local chain records its RPC URL
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
        """Bring the indexer to the chain head; writes call this before answering so reads agree.

        With `through` (the block a write was mined in) a sync that another request finished while
        this one waited for the lock, and that already indexed that block, is enough: concurrent
        writes share one sync instead of queueing one each behind the lock.
        """
        with self.sync_lock:
            if through is not None and self.indexed_block >= through:
                return
            stats = self.indexer.sync()
            self.indexed_block = stats.cursor
        if stats.events:
            log.debug("indexer synced head=%d events=%d", stats.head, stats.events)

    def close(self) -> None:
        self.source.close()
        self.engine.dispose()
