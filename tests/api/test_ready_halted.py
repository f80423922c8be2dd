"""`/v1/ready` answers 503 with the reason as soon as the API's indexer stops at a reorg deeper than the
confirmations, and ready again once a sync succeeds (the lag alone would still pass for a while)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlmodel import Session

from api.config import AppContext
from api.routes.health import ready
from ledger.indexer.db import make_engine, upgrade
from ledger.indexer.errors import DeepReorgError
from ledger.indexer.models import Cursor


class Indexer:
    key = "deployment"

    def __init__(self) -> None:
        self.fail = True

    def sync(self) -> Any:
        if self.fail:
            raise DeepReorgError("reorg of 3 blocks below the confirmation depth 1", depth=3, max_depth=1)
        return SimpleNamespace(cursor=11, events=0, head=12)


class Watch:
    def expire(self) -> None:
        pass


def _ready(ctx: Any) -> tuple[int, dict[str, Any]]:
    answer = ready(ctx)
    return answer.status_code, json.loads(bytes(answer.body))


def test_a_deep_reorg_makes_the_api_not_ready_until_a_sync_succeeds(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'index.sqlite'}")
    upgrade(engine)
    with Session(engine) as session:
        session.add(Cursor(chain_id=1, deployment=Indexer.key, start_block=0, block_number=11))
        session.commit()
    ctx: Any = SimpleNamespace(
        engine=engine,
        deployment=SimpleNamespace(chain_id=1),
        indexer=Indexer(),
        source=SimpleNamespace(head=lambda: 12),
        api=SimpleNamespace(max_indexer_lag_blocks=10),
        watch=Watch(),
        index_halted=None,
        indexed_block=-1,
    )
    assert _ready(ctx)[0] == 200

    with pytest.raises(DeepReorgError):
        AppContext._index(ctx)
    status, body = _ready(ctx)
    assert status == 503 and body["status"] == "not-ready"
    assert body["lag"] == 1 and "3 blocks" in body["reason"]  # the lag alone would have passed

    ctx.indexer.fail = False
    AppContext._index(ctx)
    status, body = _ready(ctx)
    assert status == 200 and body["reason"] is None and ctx.indexed_block == 11
    engine.dispose()
