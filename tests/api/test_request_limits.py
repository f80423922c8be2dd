"""Hostile bodies against a real server process: refused with a problem+json before any JSON parsing,
and the process still answers the next request (a crash would not show in a `TestClient`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ledger.deploy import Deployment
from ledger.localchain import LocalChain
from tests.api.served import serve_api
from tests.api.support import OPERATOR_KEY
from tests.support.processes import Served

pytestmark = pytest.mark.chain

PROBLEM = "https://tierchain.dev/problems/"
ROUTE = "/v1/participants"  # a write every deployment has; its body is a JSON object
OPERATOR = {"Authorization": f"Bearer {OPERATOR_KEY}", "Content-Type": "application/json"}
JSON = {"Content-Type": "application/json"}
FIFTY_MB = 50 * 1024 * 1024

NESTED_ARRAYS = b"[" * 100_000  # the body that crashed the process (C recursion past the stack)
NESTED_OBJECTS = b'{"a":' * 10_000 + b"0" + b"}" * 10_000
HUGE = b'{"legal_id": "' + b"x" * FIFTY_MB + b'"}'


@pytest.fixture
def served(clean_chain: LocalChain, tierchain_deployment: Deployment, tmp_path: Path) -> Iterator[Served]:
    with serve_api(
        tmp_path / "served", clean_chain.url, tierchain_deployment.model_dump_json(), OPERATOR_KEY
    ) as server:
        yield server


def _post(served: Served, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(served.url + ROUTE, content=body, headers=headers, timeout=120)


def _assert_problem(answer: httpx.Response, status: int, slug: str) -> None:
    assert answer.status_code == status, answer.text[:500]
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"] == PROBLEM + slug
    assert answer.json()["detail"]


def test_hundred_thousand_nested_arrays_are_refused_and_the_server_survives(served: Served) -> None:
    _assert_problem(_post(served, NESTED_ARRAYS, OPERATOR), 400, "json-too-deep")
    assert served.alive()


def test_ten_thousand_nested_objects_are_refused_and_the_server_survives(served: Served) -> None:
    _assert_problem(_post(served, NESTED_OBJECTS, OPERATOR), 400, "json-too-deep")
    assert served.alive()


def _streamed(body: bytes) -> Iterator[bytes]:
    """The body in 1 MiB chunks without a Content-Length: chunked transfer encoding."""
    for start in range(0, len(body), 1024 * 1024):
        yield body[start : start + 1024 * 1024]


def test_fifty_megabyte_body_is_413_by_length_and_when_streamed(served: Served) -> None:
    _assert_problem(_post(served, HUGE, OPERATOR), 413, "body-too-large")
    assert served.alive()
    streamed = httpx.post(served.url + ROUTE, content=_streamed(HUGE), headers=OPERATOR, timeout=120)
    _assert_problem(streamed, 413, "body-too-large")
    assert served.alive()


def test_hostile_bodies_without_credentials_are_refused_before_the_body_is_read(
    served: Served,
) -> None:
    for body in (NESTED_ARRAYS, NESTED_OBJECTS):
        _assert_problem(_post(served, body, JSON), 401, "unauthorized")
        assert served.alive()
    streamed = httpx.post(served.url + ROUTE, content=_streamed(HUGE), headers=JSON, timeout=120)
    _assert_problem(streamed, 401, "unauthorized")
    _assert_problem(_post(served, HUGE, JSON), 413, "body-too-large")  # its Content-Length says enough
    assert served.alive()


def test_a_sane_body_still_reaches_validation(served: Served) -> None:
    answer = _post(served, b'{"legal_id": "X", "roles": ["NOT_A_ROLE"]}', OPERATOR)
    _assert_problem(answer, 422, "validation-error")
    assert served.alive()
