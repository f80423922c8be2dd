"""Operations' store without a chain: the `Prefer` header, and leases that let one process at a time
run an operation (and another take it up when the first one's lease expires)."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine

from api import operations as store
from api import tables
from api.dblocks import Lease
from api.errors import IdempotencyKeyReused
from api.operation_runner import OperationRunner
from ledger.indexer.db import make_engine


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    tables.upgrade(engine)
    return engine


def queue(engine: Engine, key: str | None = None, body: bytes = b'{"a":1}') -> str:
    row, _new = store.create(
        engine,
        principal="0x" + "ab" * 20,
        via="api_key",
        key_id="k1",
        scopes=["read", "write"],
        method="POST",
        path="/v1/tokens/1/split",
        query="",
        headers={"content-type": "application/json"},
        body=body,
        idempotency_key=key,
    )
    return str(row.op_id)


@pytest.mark.parametrize(
    ("header", "wanted"),
    [
        ("respond-async", True),
        ("wait=10, respond-async", True),
        ("Respond-Async; x=1", True),
        ("return=minimal", False),
        ("respond-asynchronously", False),
        ("", False),
        (None, False),
    ],
)
def test_prefer_header(header: str | None, wanted: bool) -> None:
    assert store.prefers_async(header) is wanted


def test_one_process_holds_an_operation_until_its_lease_expires(engine: Engine) -> None:
    op_id = queue(engine)
    assert store.runnable(engine, 10) == [op_id]
    assert store.claim(engine, op_id, lease_seconds=0.2) is True
    assert store.claim(engine, op_id, lease_seconds=0.2) is False  # another process: refused
    assert store.runnable(engine, 10) == []
    time.sleep(0.3)  # the first process died: its lease expires
    assert store.runnable(engine, 10) == [op_id]
    assert store.claim(engine, op_id, lease_seconds=60) is True
    row = store.get(engine, op_id)
    assert row is not None and row.attempts == 2 and row.state == "running"

    store.finish(engine, op_id, status_code=200, body={"ok": True}, tx_hashes=["0x01"])
    time.sleep(0.1)
    assert store.claim(engine, op_id, lease_seconds=0.01) is False  # finished: never runs again
    assert store.runnable(engine, 10) == []
    done = store.to_model(store.get(engine, op_id))
    assert (done.state, done.result, done.tx_hashes, done.error) == ("done", {"ok": True}, ["0x01"], None)


def test_a_batch_claim_takes_the_oldest_runnable_operations_once(engine: Engine) -> None:
    ids = [queue(engine) for _ in range(5)]
    created = store.to_model(store.get(engine, ids[0]))
    assert created.state == "queued" and created.attempts == 0

    first = store.claim_batch(engine, 3, lease_seconds=0.2)
    assert [r.op_id for r in first] == ids[:3]
    assert all(r.state == "running" and r.attempts == 1 and bytes(r.body) == b'{"a":1}' for r in first)
    second = store.claim_batch(engine, 10, lease_seconds=60)  # another process: only what is left
    assert [r.op_id for r in second] == ids[3:]
    assert store.claim_batch(engine, 10, lease_seconds=60) == []
    assert store.claim_batch(engine, 0, lease_seconds=60) == []
    time.sleep(0.3)  # the first process died: its three leases expire
    again = store.claim_batch(engine, 10, lease_seconds=60)
    assert [(r.op_id, r.attempts) for r in again] == [(op_id, 2) for op_id in ids[:3]]


def test_a_failed_answer_is_kept_as_the_error(engine: Engine) -> None:
    op_id = queue(engine)
    assert store.claim(engine, op_id, lease_seconds=60)
    problem = {"type": "https://tierchain.dev/problems/x", "title": "X", "status": 409, "detail": "why"}
    assert store.finish(engine, op_id, status_code=409, body=problem, tx_hashes=[]) == store.OpState.FAILED
    failed = store.to_model(store.get(engine, op_id))
    assert (failed.status_code, failed.error, failed.result) == (409, problem, None)


def test_the_same_key_gives_the_same_operation_and_refuses_another_request(engine: Engine) -> None:
    first = queue(engine, key="k")
    assert queue(engine, key="k") == first
    with pytest.raises(IdempotencyKeyReused, match="different request"):
        queue(engine, key="k", body=b'{"a":2}')
    assert queue(engine) != queue(engine)  # without a key every write is its own operation


def test_the_runner_setting_picks_the_processes_that_run_operations(engine: Engine) -> None:
    ctx: Any = SimpleNamespace(engine=engine)

    def runner(mode: str) -> OperationRunner:
        lease = Lease(engine, "operation-runner:test")
        return OperationRunner(
            ctx, workers=2, lease_seconds=60, poll_seconds=1, mode=mode, runner_lease=lease
        )

    first, second, everywhere = runner("one"), runner("one"), runner("all")
    assert first._runs_here() and not second._runs_here()  # one process holds the lease
    assert everywhere._runs_here()
    first.stop()  # it stops (or dies): another takes over
    assert second._runs_here()
    second.stop()
    idle = runner("none")
    idle.start(app=None)
    idle.submit("anything")  # accepted operations stay queued for the processes that run them
    assert idle.workers == 0 and idle._pool is None
    idle.stop()
