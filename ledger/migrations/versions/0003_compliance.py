"""Compliance records (docs/compliance.md): the codes an obligation's terms carry, and how much of each
trade document has backed onward moves.

Revision ID: 0003_compliance
Revises: 0002_governance_proposals

`tenor_justification` and `agreed_term_ref` come from `IssuanceDesk.TermsJustified` (emitted only when a
code is set: 0 and NULL mean none); `documents.moved_value` sums `TradeRegistry.DocumentBackedMove`;
`financings.registration_number` is the 中登网 number the bank recorded (`RegistrationRecorded`).
A database indexed before this revision has the columns at their defaults; re-index it to fill them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.indexer.types import U256

revision: str = "0003_compliance"
down_revision: str | None = "0002_governance_proposals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("proposals", "obligations"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("tenor_justification", sa.Integer(), nullable=False, server_default="0")
            )
            batch.add_column(sa.Column("agreed_term_ref", sa.String(length=66), nullable=True))
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("moved_value", U256(), nullable=False, server_default="0"))
    with op.batch_alter_table("financings") as batch:
        batch.add_column(sa.Column("registration_number", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("financings") as batch:
        batch.drop_column("registration_number")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("moved_value")
    for table in ("obligations", "proposals"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("agreed_term_ref")
            batch.drop_column("tenor_justification")
