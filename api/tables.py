"""The API's own tables, beside the indexer's in the same database, under their own Alembic history.

API keys are stored only as sha256 hashes of their secret; request nonces make signed requests
single-use; idempotency records hold the first answer to a keyed write; custodial keys map a
participant to the keystore file the service signs with; document verdicts remember what the
documents route concluded about each submitted trade document; financing requests record a holder
asking chosen banks (or every bank) to finance a token or part of it before a deadline, with the offers
made against each and what happened to it (what lets those banks see the token, see `api.access`); participant
profiles are the directory of legal names and unified social credit codes the regulatory exports
name parties by (`api.directory`); recovery cases keep a lost-key recovery's case reference as the
operator wrote it (`api.routes.recovery`); rate buckets are the token buckets every API worker shares
(`api.ratelimit.DbRateLimiter`); signer nonces are the next nonce of each custodial signer, kept so
that a worker that did not send a signer's last transaction does not reuse its nonce
(`api.nonces.SharedNonces`); the transaction journal records what was signed for each idempotency key,
so a retry on any worker or host finds it (`api.txjournal.DbTxJournal`); operations are writes sent
with `Prefer: respond-async`, kept from their acceptance to their answer (`api.operations`). The
schema is
created by `api/migrations` with version table `alembic_version_api`, so it never collides with the
indexer's.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version_api"

metadata = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("address", String(42), nullable=False, index=True),
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

request_nonces = Table(
    "request_nonces",
    metadata,
    Column("address", String(42), nullable=False),
    Column("nonce", String(78), nullable=False),
    Column("deadline", BigInteger, nullable=False),
    PrimaryKeyConstraint("address", "nonce"),
)

idempotency_records = Table(
    "idempotency_records",
    metadata,
    Column("principal", String(64), nullable=False),
    Column("key", String(255), nullable=False),
    Column("method", String(10), nullable=False),
    Column("path", String(500), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("response", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("principal", "key"),
)

document_verdicts = Table(
    "document_verdicts",
    metadata,
    Column("fingerprint", String(66), primary_key=True),
    Column("content_hash", String(66), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("status", String(40), nullable=False),
    Column("refusals", JSON, nullable=False),
    Column("submitted_by", String(42), nullable=False, index=True),
    Column("seller", String(42), nullable=True),
    Column("buyer", String(42), nullable=True),
    Column("tx_hash", String(66), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

financing_requests = Table(
    "financing_requests",
    metadata,
    Column("request_id", Integer, primary_key=True, autoincrement=True),
    Column("holder", String(42), nullable=False, index=True),
    Column("token_id", BigInteger, nullable=False, index=True),
    # minor units asked for; null (a request made before values were asked for): the whole token
    Column("value", BigInteger, nullable=True),
    Column("all_banks", Boolean, nullable=False, default=False),
    # unix seconds (chain time); null (a request made before deadlines): open while the holder holds
    Column("deadline", BigInteger, nullable=True),
    # what was decided: open, accepted or withdrawn; `closed` and `expired` follow from the ledger
    Column("status", String(16), nullable=False, default="open"),
    Column("accepted_offer_id", BigInteger, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=True),
)

# The banks a request names (none when it is addressed to every bank).
financing_request_banks = Table(
    "financing_request_banks",
    metadata,
    Column("request_id", Integer, nullable=False),
    Column("bank", String(42), nullable=False, index=True),
    PrimaryKeyConstraint("request_id", "bank"),
)

# Offers made against a request (`POST /financing/requests/{id}/offers`).
financing_request_offers = Table(
    "financing_request_offers",
    metadata,
    Column("offer_id", BigInteger, primary_key=True, autoincrement=False),
    Column("request_id", Integer, nullable=False, index=True),
    Column("bank", String(42), nullable=False),
)

# What happened to requests, for the event stream: `anchor` is the indexer's last event id when it
# happened, so a stream orders it after that chain event.
financing_request_events = Table(
    "financing_request_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, nullable=False, index=True),
    Column("name", String(40), nullable=False),
    Column("args", JSON, nullable=False),
    Column("anchor", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

participant_profiles = Table(
    "participant_profiles",
    metadata,
    Column("address", String(42), primary_key=True),
    Column("legal_name", Text, nullable=False),
    Column("uscc", String(18), nullable=False),
    Column("legal_id_hash", String(66), nullable=False),
    Column("updated_by", String(42), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Lost-key recoveries: the case reference as written (the registry records its keccak256, `case_hash`).
recovery_cases = Table(
    "recovery_cases",
    metadata,
    Column("lost", String(42), nullable=False),
    Column("case_hash", String(66), nullable=False),
    Column("case_ref", Text, nullable=False),
    Column("replacement", String(42), nullable=False),
    Column("note", Text, nullable=True),
    Column("recorded_by", String(42), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("lost", "case_hash"),
)

# Writes accepted with `Prefer: respond-async` (`api.operations`): the request as received, who sent it,
# where it is (`state`, and the lease of the process running it) and its answer once it has one.
operations = Table(
    "operations",
    metadata,
    Column("op_id", String(32), primary_key=True),
    Column("principal", String(42), nullable=False),
    Column("via", String(16), nullable=False),
    Column("key_id", String(32), nullable=True),
    Column("scopes", JSON, nullable=False),
    Column("method", String(10), nullable=False),
    Column("path", String(500), nullable=False),
    Column("query", Text, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("idempotency_key", String(255), nullable=True),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("tx_hashes", JSON, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("result", JSON, nullable=True),
    Column("error", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Index("ix_operations_principal_created", "principal", "created_at"),
    Index("ix_operations_state", "state"),
    Index("ix_operations_updated", "updated_at", "op_id"),  # the event streams' reads of changes
    Index("ux_operations_principal_key", "principal", "idempotency_key", unique=True),
)

custodial_keys = Table(
    "custodial_keys",
    metadata,
    Column("address", String(42), primary_key=True),
    Column("keystore", String(500), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # the onboarding request (its idempotency key) that created it: a retry gets this key back
    Column("request_key", String(300), nullable=True, unique=True, index=True),
)

rate_buckets = Table(
    "api_rate_buckets",
    metadata,
    Column("bucket", String(200), primary_key=True),  # "<limiter>:<participant or client address>"
    Column("tokens", Float, nullable=False),
    Column("granted", Integer, nullable=False),  # whether the last hit took a token (1) or was refused (0)
    Column("updated_at", Float, nullable=False),  # unix seconds of the last hit
)

signer_nonces = Table(
    "api_signer_nonces",
    metadata,
    Column("address", String(42), primary_key=True),  # lower case
    Column("next_nonce", BigInteger, nullable=False),
)

tx_journal = Table(
    "api_tx_journal",
    metadata,
    Column("key", String(400), primary_key=True),
    Column("sender", String(42), nullable=False),
    Column("nonce", BigInteger, nullable=False),
    Column("tx_hash", String(66), nullable=False),
    Column("raw_tx", Text, nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or update the API tables (idempotent)."""
    command.upgrade(alembic_config(engine), revision)
