"""The request that created each custodial key (`custodial_keys.request_key`): a retried onboarding
under the same Idempotency-Key gets the key the first attempt created, whose registration the journal
may already have sent, instead of a second one.

Revision ID: api_0009_custodial_request_key
Revises: api_0008_operations
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "api_0009_custodial_request_key"
down_revision: str | None = "api_0008_operations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("custodial_keys") as batch:
        batch.add_column(sa.Column("request_key", sa.String(300), nullable=True))
    op.create_index("ix_custodial_keys_request_key", "custodial_keys", ["request_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_custodial_keys_request_key", table_name="custodial_keys")
    with op.batch_alter_table("custodial_keys") as batch:
        batch.drop_column("request_key")
