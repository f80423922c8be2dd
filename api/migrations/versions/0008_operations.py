"""Operations: writes accepted with `Prefer: respond-async`, from acceptance to their answer, with the
lease of the process running each.

Revision ID: api_0008_operations
Revises: api_0007_shared_workers
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "api_0008_operations"
down_revision: str | None = "api_0007_shared_workers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operations",
        sa.Column("op_id", sa.String(32), primary_key=True),
        sa.Column("principal", sa.String(42), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tx_hashes", sa.JSON(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_operations_principal_created", "operations", ["principal", "created_at"])
    op.create_index("ix_operations_state", "operations", ["state"])
    op.create_index(
        "ux_operations_principal_key", "operations", ["principal", "idempotency_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ux_operations_principal_key", table_name="operations")
    op.drop_index("ix_operations_state", table_name="operations")
    op.drop_index("ix_operations_principal_created", table_name="operations")
    op.drop_table("operations")
