"""Engines and schema migrations for the indexer database (SQLite or PostgreSQL).

The schema is owned by Alembic (`ledger/migrations`); the indexer upgrades to head when it starts, so
an operator never runs a separate migration step. The Alembic configuration is built in code: no
`alembic.ini` at the repository root, and the same functions serve the CLI and the tests.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import ConnectionPoolEntry

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def make_engine(
    url: str, *, schema: str | None = None, echo: bool = False, pool_size: int | None = None
) -> Engine:
    """An engine for `url`; on PostgreSQL `schema` (if given) becomes the search path of every session.

    SQLite files get WAL and a busy timeout, so a reader (the API) does not block the indexer's writes.
    `pool_size` connections are kept open (a server passes its thread count, so a busy request never
    opens a fresh connection and re-runs its set-up); the default is SQLAlchemy's (5, plus 10 opened and
    closed on demand). A pooled SQLite file connection is not checked before use (it cannot go away);
    a PostgreSQL one is (`pool_pre_ping`), so a restarted server costs one failed ping, not one
    failed request.
    """
    connect_args: dict[str, Any] = {}
    if url.startswith("sqlite"):
        connect_args["timeout"] = 30
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    else:
        # an unreachable server fails a connection in 10 s instead of the OS's TCP timeout (minutes)
        connect_args["connect_timeout"] = 10
        if schema is not None:
            connect_args["options"] = f"-csearch_path={schema}"
    sqlite_file = url.startswith("sqlite") and ":memory:" not in url
    pool: dict[str, Any] = {"pool_pre_ping": not url.startswith("sqlite")}
    if pool_size is not None and (sqlite_file or not url.startswith("sqlite")):
        pool.update(pool_size=pool_size, max_overflow=max(10, pool_size // 4))
    engine = create_engine(url, echo=echo, connect_args=connect_args, **pool)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at `ledger/migrations` that runs on `engine`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision` (idempotent: a schema at head is left alone)."""
    command.upgrade(alembic_config(engine), revision)
    log.info("schema upgraded revision=%s url=%s", revision, engine.url.render_as_string())


def downgrade(engine: Engine, revision: str = "base") -> None:
    command.downgrade(alembic_config(engine), revision)
    log.info("schema downgraded revision=%s url=%s", revision, engine.url.render_as_string())
