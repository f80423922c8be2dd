"""Operations on the event stream: an asynchronous write's state changes reach its sender, regulators and
the operator as `operation` events, and nobody else."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import operations as store
from tests.api.support import Party

pytestmark = pytest.mark.chain

STREAM_SECONDS = 4.0


def _operation_events(text: str) -> list[dict[str, Any]]:
    found = []
    for block in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if lines.get("event") == "operation":
            assert "id" not in lines  # resuming with Last-Event-ID concerns the ledger events only
            found.append(json.loads(lines["data"]))
    return found


def test_operation_state_changes_reach_the_sender_and_the_regulator_only(
    api: TestClient,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
) -> None:
    token = issue_obligation()["token_id"]
    tier1, tier2 = parties["tier1"], parties["tier2"]
    watchers = {"tier1": tier1.headers, "tier2": tier2.headers, "regulator": parties["regulator"].headers}
    watchers["operator"] = operator_headers
    streams: dict[str, str] = {}

    def listen(name: str, headers: dict[str, str]) -> None:
        answer = api.get("/v1/events/stream", params={"max_seconds": STREAM_SECONDS}, headers=headers)
        assert answer.status_code == 200, answer.text
        streams[name] = answer.text

    threads = [threading.Thread(target=listen, args=item) for item in watchers.items()]
    for thread in threads:
        thread.start()
    time.sleep(2.0)  # the streams are open

    # no runner in this app: the test moves the operation as a runner would, and fails it
    body = {"pieces": [{"to": tier2.address, "value": 100_00}]}
    accepted = api.post(
        f"/v1/tokens/{token}/split", json=body, headers={**tier1.headers, "Prefer": "respond-async"}
    )
    assert accepted.status_code == 202, accepted.text
    op_id = accepted.json()["id"]
    engine = api.app.state.ctx.engine  # type: ignore[attr-defined]
    time.sleep(0.6)
    [claimed] = store.claim_batch(engine, 5, lease_seconds=60)
    assert claimed.op_id == op_id
    time.sleep(0.6)
    problem = {"status": 409, "title": "Conflict", "detail": "the piece holds less than 100.00"}
    store.finish(engine, op_id, status_code=409, body=problem, tx_hashes=[])
    for thread in threads:
        thread.join(timeout=STREAM_SECONDS + 30)

    # The stream polls the table (every 0.25 s): on a loaded machine a state held for less than a
    # poll may pass untold; the states told are in order, once each, and the final one always is.
    mine = [e for e in _operation_events(streams["tier1"]) if e["id"] == op_id]
    assert _in_order([e["state"] for e in mine])
    assert mine[-1]["error"] == problem and mine[-1]["status_code"] == 409
    assert mine[0]["principal"] == tier1.address
    for overseer in ("regulator", "operator"):
        told = [e["state"] for e in _operation_events(streams[overseer]) if e["id"] == op_id]
        assert _in_order(told), told
    assert _operation_events(streams["tier2"]) == []  # the receiver is not the sender


def _in_order(states: list[str]) -> bool:
    """Told states: a subsequence of queued → running → failed, each once, ending failed."""
    lifecycle = ["queued", "running", "failed"]
    positions = [lifecycle.index(s) for s in states if s in lifecycle]
    return (
        len(positions) == len(states)
        and positions == sorted(set(positions))
        and bool(states)
        and states[-1] == "failed"
    )
