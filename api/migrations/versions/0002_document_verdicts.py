"""Document verdicts: what `POST /v1/documents` concluded about each submitted trade document.

Revision ID: api_0002_document_verdicts
Revises: api_0001_initial
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "api_0002_document_verdicts"
down_revision: str | None = "api_0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_verdicts",
        sa.Column("fingerprint", sa.String(66), primary_key=True),
        sa.Column("content_hash", sa.String(66), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("refusals", sa.JSON(), nullable=False),
        sa.Column("submitted_by", sa.String(42), nullable=False),
        sa.Column("seller", sa.String(42), nullable=True),
        sa.Column("buyer", sa.String(42), nullable=True),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_document_verdicts_submitted_by", "document_verdicts", ["submitted_by"])


def downgrade() -> None:
    op.drop_index("ix_document_verdicts_submitted_by", table_name="document_verdicts")
    op.drop_table("document_verdicts")
