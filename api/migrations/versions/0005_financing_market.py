"""Financing market: requests get an id, a value, banks (or every bank), a deadline and a status; the
offers made against a request and the request's events are kept beside it.

Revision ID: api_0005_financing_market
Revises: api_0004_participant_profiles
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "api_0005_financing_market"
down_revision: str | None = "api_0004_participant_profiles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_financing_requests_bank", table_name="financing_requests")
    op.rename_table("financing_requests", "financing_requests_0003")
    requests = op.create_table(
        "financing_requests",
        sa.Column("request_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("holder", sa.String(42), nullable=False),
        sa.Column("token_id", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=True),
        sa.Column("all_banks", sa.Boolean(), nullable=False),
        sa.Column("deadline", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("accepted_offer_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_financing_requests_holder", "financing_requests", ["holder"])
    op.create_index("ix_financing_requests_token_id", "financing_requests", ["token_id"])
    banks = op.create_table(
        "financing_request_banks",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("bank", sa.String(42), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "bank"),
    )
    op.create_index("ix_financing_request_banks_bank", "financing_request_banks", ["bank"])
    op.create_table(
        "financing_request_offers",
        sa.Column("offer_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("bank", sa.String(42), nullable=False),
    )
    op.create_index("ix_financing_request_offers_request_id", "financing_request_offers", ["request_id"])
    op.create_table(
        "financing_request_events",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("anchor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_financing_request_events_request_id", "financing_request_events", ["request_id"])

    # Each earlier request (one bank, the whole token, open while the holder holds it) carries over.
    old = sa.table(
        "financing_requests_0003",
        sa.column("token_id", sa.BigInteger()),
        sa.column("bank", sa.String()),
        sa.column("holder", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(old).order_by(old.c.created_at, old.c.token_id, old.c.bank)).all()
    for row in rows:
        inserted = conn.execute(
            requests.insert().values(
                holder=row.holder,
                token_id=row.token_id,
                value=None,
                all_banks=False,
                deadline=None,
                status="open",
                created_at=row.created_at,
            )
        )
        request_id = inserted.inserted_primary_key[0] if inserted.inserted_primary_key else None
        conn.execute(banks.insert().values(request_id=request_id, bank=row.bank))
    op.drop_table("financing_requests_0003")


def downgrade() -> None:
    op.drop_table("financing_request_events")
    op.drop_table("financing_request_offers")
    op.drop_index("ix_financing_request_banks_bank", table_name="financing_request_banks")
    op.drop_table("financing_request_banks")
    op.drop_index("ix_financing_requests_token_id", table_name="financing_requests")
    op.drop_index("ix_financing_requests_holder", table_name="financing_requests")
    op.drop_table("financing_requests")
    op.create_table(
        "financing_requests",
        sa.Column("token_id", sa.BigInteger(), nullable=False),
        sa.Column("bank", sa.String(42), nullable=False),
        sa.Column("holder", sa.String(42), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_id", "bank", "holder"),
    )
    op.create_index("ix_financing_requests_bank", "financing_requests", ["bank"])
