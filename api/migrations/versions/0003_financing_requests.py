"""Financing requests: a holder asks a bank to finance a token, which lets that bank see the token.

Revision ID: api_0003_financing_requests
Revises: api_0002_document_verdicts
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "api_0003_financing_requests"
down_revision: str | None = "api_0002_document_verdicts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "financing_requests",
        sa.Column("token_id", sa.BigInteger(), nullable=False),
        sa.Column("bank", sa.String(42), nullable=False),
        sa.Column("holder", sa.String(42), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_id", "bank", "holder"),
    )
    op.create_index("ix_financing_requests_bank", "financing_requests", ["bank"])


def downgrade() -> None:
    op.drop_index("ix_financing_requests_bank", table_name="financing_requests")
    op.drop_table("financing_requests")
