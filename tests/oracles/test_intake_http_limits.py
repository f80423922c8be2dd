"""Hostile bodies against the aggregator's HTTP intake, served by its own process: refused with a
problem+json before any JSON parsing, and the process still answers the next request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.oracles.served_aggregator import serve_aggregator
from tests.support.processes import Served

JSON = {"Content-Type": "application/json"}
NESTED_ARRAYS = b"[" * 100_000
NESTED_OBJECTS = b'{"a":' * 10_000 + b"0" + b"}" * 10_000
HUGE = b'{"documents": ["' + b"x" * (50 * 1024 * 1024) + b'"]}'


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serve_aggregator(tmp_path / "aggregator.log") as server:
        yield server


def _post(served: Served, body: bytes) -> httpx.Response:
    return httpx.post(f"{served.url}/documents", content=body, headers=JSON, timeout=120)


def _assert_problem(answer: httpx.Response, status: int, words: str) -> None:
    assert answer.status_code == status, answer.text[:500]
    assert answer.headers["content-type"] == "application/problem+json"
    assert words in answer.json()["detail"]


def test_hundred_thousand_nested_arrays_are_refused_and_the_intake_survives(
    served: Served,
) -> None:
    _assert_problem(_post(served, NESTED_ARRAYS), 400, "nested deeper than")
    assert served.alive()


def test_ten_thousand_nested_objects_are_refused_and_the_intake_survives(served: Served) -> None:
    _assert_problem(_post(served, NESTED_OBJECTS), 400, "nested deeper than")
    assert served.alive()


def test_fifty_megabyte_body_is_413_and_the_intake_survives(served: Served) -> None:
    _assert_problem(_post(served, HUGE), 413, "split the batch")
    assert served.alive()


def test_a_sane_batch_is_still_answered_record_by_record(served: Served) -> None:
    answer = _post(served, b'[{"document": {"kind": "invoice"}}]')
    assert answer.status_code == 202, answer.text
    assert answer.json()["results"][0]["status"] == "rejected"
    assert served.alive()
