"""Recovery cases: the case reference of a lost-key recovery as the operator wrote it, beside the 32 bytes
the registry records (`ParticipantRegistry.requestRecovery`), and the operator's note.

Revision ID: api_0006_recovery_cases
Revises: api_0005_financing_market
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "api_0006_recovery_cases"
down_revision: str | None = "api_0005_financing_market"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recovery_cases",
        sa.Column("lost", sa.String(42), nullable=False),
        sa.Column("case_hash", sa.String(66), nullable=False),
        sa.Column("case_ref", sa.Text(), nullable=False),
        sa.Column("replacement", sa.String(42), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(42), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("lost", "case_hash"),
    )


def downgrade() -> None:
    op.drop_table("recovery_cases")
