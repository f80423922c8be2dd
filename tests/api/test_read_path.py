"""The cached read path: a cached answer costs no database round trip, the state it depends on (the
indexer cursor, API-key revocations) is read at most once per interval, and a change this process
makes (a write's sync, a revoked key) shows at once."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from api.cache import ReadCache
from api.watch import State, StateWatch
from tests.api.support import Party

pytestmark = pytest.mark.chain


class FakeWatch(StateWatch):
    """A watch whose state the test sets (no database)."""

    def __init__(self) -> None:
        self.now = 0.0
        super().__init__(engine=None, chain_id=1, deployment_key="d", interval=1.0, clock=lambda: self.now)  # type: ignore[arg-type]
        self.stored = State((10, "0xaa"), 0)

    def read(self) -> State:
        self.reads += 1
        return self.stored


def count_statements(engine: Engine) -> list[str]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return seen


def test_the_watch_reads_at_most_once_per_interval_and_expire_forces_a_read() -> None:
    watch = FakeWatch()
    assert watch.peek() is None  # nothing read yet: the event loop must not guess
    assert watch.current() == State((10, "0xaa"), 0) and watch.reads == 1
    watch.now = 0.5
    assert watch.current() is not None and watch.reads == 1
    assert watch.peek() == State((10, "0xaa"), 0)
    watch.stored = State((11, "0xbb"), 0)
    watch.now = 1.0  # the interval has passed
    assert watch.peek() is None
    assert watch.current().cursor == (11, "0xbb") and watch.reads == 2
    watch.expire()
    assert watch.peek() is None
    watch.current()
    assert watch.reads == 3


def test_the_read_cache_serves_one_cursor_and_forgets_it_when_it_moves() -> None:
    watch = FakeWatch()
    cache = ReadCache(watch)
    made: list[int] = []

    def make() -> bytes:
        made.append(1)
        return b"answer"

    assert cache.get("k", make) == b"answer" and cache.get("k", make) == b"answer"
    assert len(made) == 1 and cache.peek("k") == b"answer"
    watch.stored = State((10, "0xcc"), 0)  # a reorg: same height, another hash
    watch.expire()
    assert cache.peek("k") is None
    assert cache.get("k", make) == b"answer" and len(made) == 2


def test_cached_token_reads_cost_no_database_round_trip(
    api: TestClient, parties: dict[str, Party], issue_obligation: Any
) -> None:
    issued = issue_obligation()
    tier1 = parties["tier1"]
    path = f"/v1/tokens/{issued['token_id']}"
    first = api.get(path, headers=tier1.headers)
    assert first.status_code == 200, first.text
    ctx = api.app.state.ctx  # type: ignore[attr-defined]
    ctx.watch.interval = 3600.0  # no re-read due during the test: what is left is per-request work
    ctx.watch.current()
    statements = count_statements(ctx.engine)
    for _ in range(50):
        again = api.get(path, headers=tier1.headers)
        assert again.status_code == 200 and again.json() == first.json()
    assert statements == [], statements[:5]


def test_a_revoked_key_is_refused_at_once_and_a_write_is_read_back_at_once(
    api: TestClient, parties: dict[str, Party], issue_obligation: Any, operator_headers: dict[str, str]
) -> None:
    issued = issue_obligation()
    tier1, tier2 = parties["tier1"], parties["tier2"]
    ctx = api.app.state.ctx  # type: ignore[attr-defined]
    ctx.watch.interval = 3600.0  # only this process's own changes can refresh the state
    path = f"/v1/tokens/{issued['token_id']}"
    before = api.get(path, headers=tier1.headers).json()
    split = api.post(
        f"{path}/split", json={"pieces": [{"to": tier2.address, "value": 100_00}]}, headers=tier1.headers
    )
    assert split.status_code == 200, split.text
    after = api.get(path, headers=tier1.headers).json()
    assert after["value"] == before["value"] - 100_00  # the write's sync expired the cached answer

    issued_key = api.post(
        f"/v1/participants/{tier2.address}/api-keys", json={"scopes": ["read"]}, headers=operator_headers
    )
    assert issued_key.status_code == 201, issued_key.text
    key, key_id = issued_key.json()["api_key"], issued_key.json()["key_id"]
    mine = {"Authorization": f"Bearer {key}"}
    assert api.get("/v1/participants/me", headers=mine).status_code == 200  # checked and kept
    revoked = api.delete(f"/v1/participants/{tier2.address}/api-keys/{key_id}", headers=operator_headers)
    assert revoked.status_code == 204
    refused = api.get("/v1/participants/me", headers=mine)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
