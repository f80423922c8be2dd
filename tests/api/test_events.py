"""The event stream: server-sent events filtered to the caller, resumable with Last-Event-ID."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.support import Party

pytestmark = pytest.mark.chain


def _events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[len("data: ") :]) for line in text.splitlines() if line.startswith("data: ")]


def test_stream_resumes_after_last_event_id_and_shows_only_what_the_caller_may_see(
    api: TestClient, parties: dict[str, Party], issue_obligation: Callable[..., dict[str, Any]]
) -> None:
    root = issue_obligation()["token_id"]
    tier1, tier2, tier3 = parties["tier1"], parties["tier2"], parties["tier3"]
    split = {"pieces": [{"to": tier2.address, "value": 100_000_00}]}
    assert api.post(f"/v1/tokens/{root}/split", json=split, headers=tier1.headers).status_code == 200

    everything = api.get(
        "/v1/events/stream", params={"max_seconds": 0.3}, headers=parties["regulator"].headers
    )
    assert everything.status_code == 200
    assert everything.headers["content-type"].startswith("text/event-stream")
    seen = _events(everything.text)
    assert len(seen) > 5 and [e["id"] for e in seen] == sorted(e["id"] for e in seen)

    first_three = api.get("/v1/events/stream", params={"limit": 3}, headers=parties["regulator"].headers)
    ids = [e["id"] for e in _events(first_three.text)]
    assert ids == [e["id"] for e in seen[:3]]
    resumed = api.get(
        "/v1/events/stream",
        params={"limit": 2},
        headers={**parties["regulator"].headers, "Last-Event-ID": str(ids[-1])},
    )
    assert [e["id"] for e in _events(resumed.text)] == [e["id"] for e in seen[3:5]]

    # tier 2 sees the split that paid it; tier 3 sees nothing of this obligation
    mine = _events(api.get("/v1/events/stream", params={"max_seconds": 0.3}, headers=tier2.headers).text)
    assert any(e["name"] == "TransferValue" for e in mine)
    assert all(tier3.address not in json.dumps(e).lower() for e in mine)
    theirs = _events(api.get("/v1/events/stream", params={"max_seconds": 0.3}, headers=tier3.headers).text)
    assert theirs and all(tier3.address in json.dumps(e["args"]).lower() for e in theirs)  # its onboarding
    assert not {"ObligationIssued", "TransferValue"} & {e["name"] for e in theirs}
    beat = api.get("/v1/events/stream", params={"max_seconds": 0.6, "heartbeat": 0.2}, headers=tier3.headers)
    assert ": heartbeat" in beat.text
    bad = api.get("/v1/events/stream", headers={**tier3.headers, "Last-Event-ID": "abc"})
    assert bad.status_code == 422


def test_a_stream_from_now_sends_only_what_happens_after_it_opened(
    api: TestClient, parties: dict[str, Party], issue_obligation: Callable[..., dict[str, Any]]
) -> None:
    import threading
    import time

    root = issue_obligation()["token_id"]
    tier1, tier2, regulator = parties["tier1"], parties["tier2"], parties["regulator"]
    past = _events(api.get("/v1/events/stream", params={"max_seconds": 0.3}, headers=regulator.headers).text)
    assert past  # the onboarding and the issuance

    now = api.get(
        "/v1/events/stream", params={"max_seconds": 0.3, "from_now": True}, headers=regulator.headers
    )
    assert now.status_code == 200 and _events(now.text) == []  # nothing new yet

    got: dict[str, str] = {}

    def listen() -> None:
        answer = api.get(
            "/v1/events/stream", params={"max_seconds": 4, "from_now": True}, headers=regulator.headers
        )
        got["text"] = answer.text

    listener = threading.Thread(target=listen)
    listener.start()
    time.sleep(1.0)
    split = {"pieces": [{"to": tier2.address, "value": 100_000_00}]}
    assert api.post(f"/v1/tokens/{root}/split", json=split, headers=tier1.headers).status_code == 200
    listener.join(timeout=30)
    fresh = _events(got["text"])
    assert fresh and all(e["id"] > past[-1]["id"] for e in fresh)
    assert any(e["name"] == "TransferValue" for e in fresh)

    both = api.get("/v1/events/stream", params={"from_now": True, "after": 1}, headers=regulator.headers)
    assert both.status_code == 422 and "from_now" in both.text
