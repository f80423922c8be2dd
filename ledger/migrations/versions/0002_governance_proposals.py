"""Governance proposals: a projection of the governor's and timelock's events.

Revision ID: 0002_governance_proposals
Revises: 0001_initial

The governance contracts' events themselves land in `events` like every other contract's; this table
follows each proposal from `ProposalCreated` through approvals, queueing (with the timelock
operation it became) to execution or cancellation. A database indexed before this revision has no
governance events yet (the indexer did not follow those contracts); re-index it to fill the table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.indexer.types import U256

revision: str = "0002_governance_proposals"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "governance_proposals"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("proposal_id", U256(), nullable=False),
        sa.Column("proposer", sa.String(length=42), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("approvals", sa.BigInteger(), nullable=False),
        sa.Column("against", sa.BigInteger(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("calldatas", sa.JSON(), nullable=False),
        sa.Column("vote_start", sa.BigInteger(), nullable=False),
        sa.Column("vote_end", sa.BigInteger(), nullable=False),
        sa.Column("eta", sa.BigInteger(), nullable=True),
        sa.Column("operation_id", sa.String(length=66), nullable=True),
        sa.Column("created_block", sa.BigInteger(), nullable=False),
        sa.Column("created_tx", sa.String(length=66), nullable=False),
        sa.Column("queued_block", sa.BigInteger(), nullable=True),
        sa.Column("executed_block", sa.BigInteger(), nullable=True),
        sa.Column("cancelled_block", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("proposal_id"),
    )
    for column in ("proposer", "state", "operation_id"):
        op.create_index(op.f(f"ix_{TABLE}_{column}"), TABLE, [column], unique=False)


def downgrade() -> None:
    for column in ("operation_id", "state", "proposer"):
        op.drop_index(op.f(f"ix_{TABLE}_{column}"), table_name=TABLE)
    op.drop_table(TABLE)
