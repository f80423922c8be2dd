"""Alembic environment for the API's tables; its history lives in `alembic_version_api`."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Engine, create_engine

from api.tables import VERSION_TABLE, metadata

config = context.config


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if isinstance(engine, Engine):
        return engine
    url = os.environ.get("TIERCHAIN_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: set TIERCHAIN_DATABASE_URL or sqlalchemy.url")
    return create_engine(url)


def run_migrations_online() -> None:
    with _engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise RuntimeError("offline migrations are not supported for the API schema")
run_migrations_online()
