"""Lost-key recoveries (密钥遗失恢复): a participant's record moved to a new address by ONBOARDING's request
and ENFORCEMENT's approval (`ParticipantRegistry.RecoveryRequested`, `ParticipantRecovered`,
`RecoveryCancelled`), then its tokens (`ReceivableToken.TokenRecovered`).

Revision ID: 0006_recovery
Revises: 0005_recourse

A database indexed before this revision has an empty table; re-index it to fill it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_recovery"
down_revision: str | None = "0005_recourse"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recoveries",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("lost", sa.String(length=42), nullable=False),
        sa.Column("replacement", sa.String(length=42), nullable=False),
        sa.Column("case_ref", sa.String(length=66), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=42), nullable=False),
        sa.Column("requested_block", sa.BigInteger(), nullable=False),
        sa.Column("requested_at", sa.BigInteger(), nullable=False),
        sa.Column("requested_tx", sa.String(length=66), nullable=False),
        sa.Column("approved_by", sa.String(length=42), nullable=True),
        sa.Column("cancelled_by", sa.String(length=42), nullable=True),
        sa.Column("closed_block", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        sa.Column("closed_tx", sa.String(length=66), nullable=True),
        sa.Column("tokens_moved", sa.BigInteger(), nullable=False),
        sa.Column("last_tokens_block", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("lost", "replacement", "case_ref", "state"):
        op.create_index(f"ix_recoveries_{column}", "recoveries", [column])


def downgrade() -> None:
    for column in ("state", "case_ref", "replacement", "lost"):
        op.drop_index(f"ix_recoveries_{column}", table_name="recoveries")
    op.drop_table("recoveries")
