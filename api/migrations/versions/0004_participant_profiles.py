"""Participant profiles: the directory of legal names and unified social credit codes, off-chain.

Revision ID: api_0004_participant_profiles
Revises: api_0003_financing_requests
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "api_0004_participant_profiles"
down_revision: str | None = "api_0003_financing_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "participant_profiles",
        sa.Column("address", sa.String(42), primary_key=True),
        sa.Column("legal_name", sa.Text(), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("legal_id_hash", sa.String(66), nullable=False),
        sa.Column("updated_by", sa.String(42), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("participant_profiles")
