"""`/v1/ready` answers 503 with the reason as soon as the indexer stops at a reorg deeper than the
confirmations, in every worker over the database (the halt is recorded on the cursor, not in the
memory of the process whose sync raised), and ready again once a sync succeeds; the lag alone would
still pass for a while."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlmodel import Session

from api.routes.health import ready
from ledger.indexer.db import make_engine, upgrade
from ledger.indexer.models import Cursor

KEY = "deployment"


def _ready(ctx: Any) -> tuple[int, dict[str, Any]]:
    answer = ready(ctx)
    return answer.status_code, json.loads(bytes(answer.body))


def _worker(engine: Any) -> Any:
    """What `ready` reads of an API worker: its engine, deployment, indexer key, source and limits."""
    return SimpleNamespace(
        engine=engine,
        deployment=SimpleNamespace(chain_id=1),
        indexer=SimpleNamespace(key=KEY),
        source=SimpleNamespace(head=lambda: 12),
        api=SimpleNamespace(max_indexer_lag_blocks=10),
    )


def _halt(engine: Any, reason: str | None) -> None:
    with Session(engine) as session:
        row = session.get(Cursor, (1, KEY))
        assert row is not None
        row.halted = reason
        session.add(row)
        session.commit()


def test_a_halt_recorded_by_the_indexing_process_makes_every_worker_not_ready(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        session.add(Cursor(chain_id=1, deployment=KEY, start_block=0, block_number=11))
        session.commit()
    other = make_engine(url)  # another worker: its own engine, nothing shared in memory
    assert _ready(_worker(engine))[0] == 200 and _ready(_worker(other))[0] == 200

    _halt(engine, "the indexer stopped: reorg of 3 blocks below the confirmation depth 1")
    for worker in (_worker(engine), _worker(other)):
        status, body = _ready(worker)
        assert status == 503 and body["status"] == "not-ready"
        assert body["lag"] == 1 and "3 blocks" in body["reason"]  # the lag alone would have passed

    _halt(engine, None)  # what the next successful sync does
    status, body = _ready(_worker(other))
    assert status == 200 and body["reason"] is None
    engine.dispose()
    other.dispose()
