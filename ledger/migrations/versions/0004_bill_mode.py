"""Bill mode (签收): pending moves and each obligation's acceptance window.

Revision ID: 0004_bill_mode
Revises: 0003_compliance

`obligations.bill_window` comes from `ReceivableToken.SlotBillMode` (0 for a voucher-mode obligation);
`pending_moves` has one row per piece that pended (`MovePending`), closed by `MoveAccepted` or
`MoveReturned` (status refused, withdrawn, expired, matured or enforced). A database indexed before this
revision has no pending moves (none existed before bill mode).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.indexer.types import U256

revision: str = "0004_bill_mode"
down_revision: str | None = "0003_compliance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("obligations") as batch:
        batch.add_column(sa.Column("bill_window", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_table(
        "pending_moves",
        sa.Column("token_id", sa.BigInteger(), primary_key=True),
        sa.Column("source_token_id", sa.BigInteger(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("sender", sa.String(length=42), nullable=False),
        sa.Column("receiver", sa.String(length=42), nullable=False),
        sa.Column("value", U256(), nullable=False),
        sa.Column("expiry", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("merged_into", sa.BigInteger(), nullable=True),
        sa.Column("created_block", sa.BigInteger(), nullable=False),
        sa.Column("created_tx", sa.String(length=66), nullable=False),
        sa.Column("closed_block", sa.BigInteger(), nullable=True),
        sa.Column("closed_tx", sa.String(length=66), nullable=True),
    )
    op.create_index("ix_pending_moves_slot", "pending_moves", ["slot"])
    op.create_index("ix_pending_moves_sender", "pending_moves", ["sender"])
    op.create_index("ix_pending_moves_receiver", "pending_moves", ["receiver"])
    op.create_index("ix_pending_moves_status", "pending_moves", ["status"])


def downgrade() -> None:
    op.drop_index("ix_pending_moves_status", table_name="pending_moves")
    op.drop_index("ix_pending_moves_receiver", table_name="pending_moves")
    op.drop_index("ix_pending_moves_sender", table_name="pending_moves")
    op.drop_index("ix_pending_moves_slot", table_name="pending_moves")
    op.drop_table("pending_moves")
    with op.batch_alter_table("obligations") as batch:
        batch.drop_column("bill_window")
