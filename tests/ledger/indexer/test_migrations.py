"""The Alembic migration: up to head and back to base on both databases, and it matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from ledger.indexer.db import downgrade, upgrade
from ledger.indexer.models import PROJECTION_TABLES, RAW_TABLES


def test_upgrade_head_then_downgrade_base(db: Engine) -> None:
    names = {m.__tablename__ for m in (*RAW_TABLES, *PROJECTION_TABLES)}  # type: ignore[attr-defined]
    assert names <= set(inspect(db).get_table_names())
    upgrade(db)  # already at head: a no-op
    with db.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []
    downgrade(db)
    assert set(inspect(db).get_table_names()) <= {"alembic_version"}
    upgrade(db)
    assert names <= set(inspect(db).get_table_names())
