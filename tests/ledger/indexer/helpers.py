"""Helpers shared by the indexer tests: building an indexer, dumping tables for comparison."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import SQLModel

from ledger.indexer.ingest import Indexer
from ledger.indexer.models import PROJECTION_TABLES, Event
from ledger.indexer.source import RpcSource
from tests.ledger.indexer.world import World

# Surrogate keys depend on insertion history, not on the chain; everything else must match exactly.
_SURROGATE = {"id", "event_id"}


def make_indexer(world: World, engine: Engine, **kwargs: Any) -> Indexer:
    kwargs.setdefault("max_reorg_depth", 5)
    return Indexer(engine, RpcSource(world.chain.url), world.deployment, world.abis, **kwargs)


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection table and the events, as sorted tuples without surrogate keys."""
    tables: list[type[SQLModel]] = [Event, *PROJECTION_TABLES]
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for model in tables:
            table = model.__table__  # type: ignore[attr-defined]
            columns = [c for c in table.columns if c.name not in _SURROGATE]
            rows = conn.execute(select(*columns)).all()
            out[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
    return out
