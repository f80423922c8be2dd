"""An index on `operations.updated_at`: each event stream reads the operations changed since its last
poll (every 0.25 s); for a regulator or the operator, who see every operation, that read was a scan
of the whole table.

Revision ID: api_0010_operations_updated
Revises: api_0009_custodial_request_key
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "api_0010_operations_updated"
down_revision: str | None = "api_0009_custodial_request_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_operations_updated", "operations", ["updated_at", "op_id"])


def downgrade() -> None:
    op.drop_index("ix_operations_updated", table_name="operations")
