"""Initial schema: raw chain data (blocks, cursors, events) and every projection table.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.indexer.types import U256

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blocks",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=66), nullable=False),
        sa.Column("parent_hash", sa.String(length=66), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "number"),
    )
    op.create_table(
        "currencies",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("token_address", sa.String(length=42), nullable=True),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index(op.f("ix_currencies_token_address"), "currencies", ["token_address"], unique=False)
    op.create_table(
        "cursors",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("deployment", sa.String(length=100), nullable=False),
        sa.Column("start_block", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "deployment"),
    )
    op.create_table(
        "documents",
        sa.Column("fingerprint", sa.String(length=66), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("seller", sa.String(length=42), nullable=False),
        sa.Column("buyer", sa.String(length=42), nullable=False),
        sa.Column("amount", U256(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("issue_date", U256(), nullable=False),
        sa.Column("due_date", U256(), nullable=False),
        sa.Column("nonce", U256(), nullable=False),
        sa.Column("signers", sa.JSON(), nullable=False),
        sa.Column("attested_block", sa.BigInteger(), nullable=False),
        sa.Column("attested_at", sa.BigInteger(), nullable=False),
        sa.Column("used_by_slot", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("fingerprint"),
    )
    op.create_index(op.f("ix_documents_buyer"), "documents", ["buyer"], unique=False)
    op.create_index(op.f("ix_documents_seller"), "documents", ["seller"], unique=False)
    op.create_index(op.f("ix_documents_used_by_slot"), "documents", ["used_by_slot"], unique=False)
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("block_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("contract", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain_id", "block_hash", "tx_hash", "log_index", name="uq_events_identity"),
    )
    op.create_index(
        "ix_events_chain_block", "events", ["chain_id", "block_number", "log_index"], unique=False
    )
    op.create_index(op.f("ix_events_name"), "events", ["name"], unique=False)
    op.create_table(
        "financings",
        sa.Column("offer_id", sa.BigInteger(), nullable=False),
        sa.Column("bank", sa.String(length=42), nullable=False),
        sa.Column("token_id", sa.BigInteger(), nullable=False),
        sa.Column("value", U256(), nullable=False),
        sa.Column("rate_bps", sa.BigInteger(), nullable=False),
        sa.Column("day_count", sa.String(length=10), nullable=False),
        sa.Column("recourse", sa.Boolean(), nullable=False),
        sa.Column("expiry", U256(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=42), nullable=True),
        sa.Column("financed_token_id", sa.BigInteger(), nullable=True),
        sa.Column("price", U256(), nullable=True),
        sa.Column("discount", U256(), nullable=True),
        sa.Column("days", sa.BigInteger(), nullable=True),
        sa.Column("offered_block", sa.BigInteger(), nullable=False),
        sa.Column("closed_block", sa.BigInteger(), nullable=True),
        sa.Column("financed_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("offer_id"),
    )
    op.create_index(op.f("ix_financings_bank"), "financings", ["bank"], unique=False)
    op.create_index(op.f("ix_financings_status"), "financings", ["status"], unique=False)
    op.create_index(op.f("ix_financings_token_id"), "financings", ["token_id"], unique=False)
    op.create_table(
        "obligations",
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("obligor", sa.String(length=42), nullable=False),
        sa.Column("currency", sa.String(length=42), nullable=False),
        sa.Column("currency_code", sa.String(length=3), nullable=True),
        sa.Column("face", U256(), nullable=False),
        sa.Column("maturity", sa.BigInteger(), nullable=False),
        sa.Column("min_unit", U256(), nullable=False),
        sa.Column("root_token_id", sa.BigInteger(), nullable=False),
        sa.Column("supply", U256(), nullable=False),
        sa.Column("proposal_id", sa.BigInteger(), nullable=True),
        sa.Column("confirmed_by", sa.String(length=42), nullable=True),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("paid", U256(), nullable=False),
        sa.Column("paid_out", U256(), nullable=False),
        sa.Column("redeemed_value", U256(), nullable=False),
        sa.Column("dust_swept", U256(), nullable=False),
        sa.Column("issued_block", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("slot"),
    )
    op.create_index(op.f("ix_obligations_maturity"), "obligations", ["maturity"], unique=False)
    op.create_index(op.f("ix_obligations_obligor"), "obligations", ["obligor"], unique=False)
    op.create_index(op.f("ix_obligations_state"), "obligations", ["state"], unique=False)
    op.create_table(
        "participants",
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("legal_id_hash", sa.String(length=66), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("registered_block", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("address"),
    )
    op.create_index(op.f("ix_participants_legal_id_hash"), "participants", ["legal_id_hash"], unique=False)
    op.create_table(
        "proposals",
        sa.Column("proposal_id", sa.BigInteger(), nullable=False),
        sa.Column("supplier", sa.String(length=42), nullable=False),
        sa.Column("obligor", sa.String(length=42), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("face", U256(), nullable=False),
        sa.Column("maturity", U256(), nullable=False),
        sa.Column("min_unit", U256(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.BigInteger(), nullable=True),
        sa.Column("slot", sa.BigInteger(), nullable=True),
        sa.Column("proposed_block", sa.BigInteger(), nullable=False),
        sa.Column("closed_block", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("proposal_id"),
    )
    op.create_index(op.f("ix_proposals_obligor"), "proposals", ["obligor"], unique=False)
    op.create_index(op.f("ix_proposals_supplier"), "proposals", ["supplier"], unique=False)
    op.create_table(
        "tokens",
        sa.Column("token_id", sa.BigInteger(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(length=42), nullable=False),
        sa.Column("value", U256(), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("root_id", sa.BigInteger(), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("burned", sa.Boolean(), nullable=False),
        sa.Column("minted_block", sa.BigInteger(), nullable=False),
        sa.Column("minted_tx", sa.String(length=66), nullable=False),
        sa.Column("burned_block", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("token_id"),
    )
    op.create_index(op.f("ix_tokens_owner"), "tokens", ["owner"], unique=False)
    op.create_index(op.f("ix_tokens_parent_id"), "tokens", ["parent_id"], unique=False)
    op.create_index(op.f("ix_tokens_slot"), "tokens", ["slot"], unique=False)
    op.create_table(
        "forced_transfers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("from_token_id", sa.BigInteger(), nullable=False),
        sa.Column("to_token_id", sa.BigInteger(), nullable=False),
        sa.Column("to_address", sa.String(length=42), nullable=False),
        sa.Column("value", U256(), nullable=False),
        sa.Column("order_ref", sa.String(length=66), nullable=False),
        sa.Column("enforcer", sa.String(length=42), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index(
        op.f("ix_forced_transfers_block_number"), "forced_transfers", ["block_number"], unique=False
    )
    op.create_index(
        op.f("ix_forced_transfers_from_token_id"), "forced_transfers", ["from_token_id"], unique=False
    )
    op.create_table(
        "freezes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("regulator", sa.String(length=42), nullable=False),
        sa.Column("reason_code", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index(op.f("ix_freezes_block_number"), "freezes", ["block_number"], unique=False)
    op.create_index(op.f("ix_freezes_token_id"), "freezes", ["token_id"], unique=False)
    op.create_table(
        "redemptions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.BigInteger(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("holder", sa.String(length=42), nullable=False),
        sa.Column("value", U256(), nullable=False),
        sa.Column("payout", U256(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index(op.f("ix_redemptions_block_number"), "redemptions", ["block_number"], unique=False)
    op.create_index(op.f("ix_redemptions_holder"), "redemptions", ["holder"], unique=False)
    op.create_index(op.f("ix_redemptions_slot"), "redemptions", ["slot"], unique=False)
    op.create_index(op.f("ix_redemptions_token_id"), "redemptions", ["token_id"], unique=False)
    op.create_table(
        "repayments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("obligor", sa.String(length=42), nullable=False),
        sa.Column("amount", U256(), nullable=False),
        sa.Column("paid_total", U256(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index(op.f("ix_repayments_block_number"), "repayments", ["block_number"], unique=False)
    op.create_index(op.f("ix_repayments_slot"), "repayments", ["slot"], unique=False)
    op.create_table(
        "transfers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("token_id", sa.BigInteger(), nullable=True),
        sa.Column("from_address", sa.String(length=42), nullable=True),
        sa.Column("to_address", sa.String(length=42), nullable=True),
        sa.Column("from_token_id", sa.BigInteger(), nullable=True),
        sa.Column("to_token_id", sa.BigInteger(), nullable=True),
        sa.Column("value", U256(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index(op.f("ix_transfers_block_number"), "transfers", ["block_number"], unique=False)
    op.create_index(op.f("ix_transfers_token_id"), "transfers", ["token_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_transfers_token_id"), table_name="transfers")
    op.drop_index(op.f("ix_transfers_block_number"), table_name="transfers")
    op.drop_table("transfers")
    op.drop_index(op.f("ix_repayments_slot"), table_name="repayments")
    op.drop_index(op.f("ix_repayments_block_number"), table_name="repayments")
    op.drop_table("repayments")
    op.drop_index(op.f("ix_redemptions_token_id"), table_name="redemptions")
    op.drop_index(op.f("ix_redemptions_slot"), table_name="redemptions")
    op.drop_index(op.f("ix_redemptions_holder"), table_name="redemptions")
    op.drop_index(op.f("ix_redemptions_block_number"), table_name="redemptions")
    op.drop_table("redemptions")
    op.drop_index(op.f("ix_freezes_token_id"), table_name="freezes")
    op.drop_index(op.f("ix_freezes_block_number"), table_name="freezes")
    op.drop_table("freezes")
    op.drop_index(op.f("ix_forced_transfers_from_token_id"), table_name="forced_transfers")
    op.drop_index(op.f("ix_forced_transfers_block_number"), table_name="forced_transfers")
    op.drop_table("forced_transfers")
    op.drop_index(op.f("ix_tokens_slot"), table_name="tokens")
    op.drop_index(op.f("ix_tokens_parent_id"), table_name="tokens")
    op.drop_index(op.f("ix_tokens_owner"), table_name="tokens")
    op.drop_table("tokens")
    op.drop_index(op.f("ix_proposals_supplier"), table_name="proposals")
    op.drop_index(op.f("ix_proposals_obligor"), table_name="proposals")
    op.drop_table("proposals")
    op.drop_index(op.f("ix_participants_legal_id_hash"), table_name="participants")
    op.drop_table("participants")
    op.drop_index(op.f("ix_obligations_state"), table_name="obligations")
    op.drop_index(op.f("ix_obligations_obligor"), table_name="obligations")
    op.drop_index(op.f("ix_obligations_maturity"), table_name="obligations")
    op.drop_table("obligations")
    op.drop_index(op.f("ix_financings_token_id"), table_name="financings")
    op.drop_index(op.f("ix_financings_status"), table_name="financings")
    op.drop_index(op.f("ix_financings_bank"), table_name="financings")
    op.drop_table("financings")
    op.drop_index(op.f("ix_events_name"), table_name="events")
    op.drop_index("ix_events_chain_block", table_name="events")
    op.drop_table("events")
    op.drop_index(op.f("ix_documents_used_by_slot"), table_name="documents")
    op.drop_index(op.f("ix_documents_seller"), table_name="documents")
    op.drop_index(op.f("ix_documents_buyer"), table_name="documents")
    op.drop_table("documents")
    op.drop_table("cursors")
    op.drop_index(op.f("ix_currencies_token_address"), table_name="currencies")
    op.drop_table("currencies")
    op.drop_table("blocks")
