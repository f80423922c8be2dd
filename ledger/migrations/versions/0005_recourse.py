"""Recourse claims (追索): a with-recourse financing's bank claims the shortfall from the seller after the
obligation defaulted (`FinancingDesk.RecourseOpened`, `RecourseSettled`, `RecourseWaived`).

Revision ID: 0005_recourse
Revises: 0004_bill_mode

A database indexed before this revision has an empty table; re-index it to fill it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.indexer.types import U256

revision: str = "0005_recourse"
down_revision: str | None = "0004_bill_mode"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recourse_claims",
        sa.Column("offer_id", sa.BigInteger(), nullable=False),
        sa.Column("bank", sa.String(length=42), nullable=False),
        sa.Column("seller", sa.String(length=42), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("shortfall", U256(), nullable=False),
        sa.Column("settled", U256(), nullable=False),
        sa.Column("waived", U256(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_block", sa.BigInteger(), nullable=False),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.Column("closed_block", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("offer_id"),
    )
    for column in ("bank", "seller", "slot", "state"):
        op.create_index(f"ix_recourse_claims_{column}", "recourse_claims", [column])


def downgrade() -> None:
    for column in ("state", "slot", "seller", "bank"):
        op.drop_index(f"ix_recourse_claims_{column}", table_name="recourse_claims")
    op.drop_table("recourse_claims")
