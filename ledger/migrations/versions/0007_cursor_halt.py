"""Why the indexer stopped (`cursors.halted`): a reorg deeper than the confirmations, recorded in the
database so every process reading the index (each API worker, `tierchain index status`) knows the
index is stopped, not only the process whose sync raised. Cleared by the next sync that succeeds, and
gone with the cursor when the database is re-indexed.

Revision ID: 0007_cursor_halt
Revises: 0006_recovery
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_cursor_halt"
down_revision: str | None = "0006_recovery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cursors") as batch:
        batch.add_column(sa.Column("halted", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cursors") as batch:
        batch.drop_column("halted")
