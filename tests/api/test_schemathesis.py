"""Property-based tests of the live OpenAPI document: Schemathesis generates requests for every
operation (valid and invalid), sends them to the ASGI app and runs all its checks on each answer:
no server error, status codes, content types, headers and bodies as the schema declares them.

Every built-in check runs; `positive_data_acceptance` is replaced by a variant that knows what this
API's 422 means (see `schema_valid_data_accepted`). Reads are made as a regulator (sees everything),
writes as the operator (may do anything the API allows). The event stream is excluded: it is endless
by design and tested with bounds elsewhere.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.config import ApiSettings
from oracles.testing_pki import build_pki, write_trust_store
from tests.api.support import ApiWorld, onboard

pytestmark = pytest.mark.chain

MAX_EXAMPLES = 40


@dataclass
class Target:
    app: FastAPI
    reader: dict[str, str]
    writer: dict[str, str]


@pytest.fixture
def target(
    api_world: ApiWorld, api_settings: ApiSettings, operator_headers: dict[str, str], tmp_path: Path
) -> Iterator[Target]:
    trust = write_trust_store(tmp_path / "trust", build_pki(random.Random(7), datetime.now(UTC)))
    app = api_world.make_app(api_settings.model_copy(update={"trust_store_dir": trust}))
    client = TestClient(app)
    regulator = onboard(
        client, operator_headers, "regulator", ["REGULATOR"], "self", api_world.actors["regulator"]
    )
    yield Target(app, regulator.headers, operator_headers)
    app.state.ctx.close()


ACCEPTED = {*range(200, 400), 401, 403, 404, 409, 429}


@schemathesis.check
def schema_valid_data_accepted(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """Schemathesis' `positive_data_acceptance`, but knowing what this API's 422 means.

    422 answers two things here: a request the schema forbids (request validation, listing `errors`)
    and a schema-valid value refused on meaning — a cross-field rule, a cursor this service never
    issued, a value the contract refused (`contract_error`). Only the first is a lie of the schema.
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code == 422:
        body = response.json()
        assert "errors" not in body, f"a schema-valid request failed request validation: {body.get('detail')}"
        return None
    assert response.status_code in ACCEPTED, f"schema-valid data refused with {response.status_code}"
    return None


def _schema(target: Target) -> Any:
    return schemathesis.openapi.from_asgi("/v1/openapi.json", target.app).exclude(path="/v1/events/stream")


def _headers(target: Target, method: str) -> dict[str, str]:
    """Regulator for reads, operator for writes; every write gets a fresh Idempotency-Key (reusing one
    for another request is refused by design, and tested in test_idempotency.py)."""
    if method.upper() in ("GET", "HEAD"):
        return target.reader
    return {**target.writer, "Idempotency-Key": uuid.uuid4().hex}


def test_every_operation_conforms(target: Target) -> None:
    """Each operation in turn, `MAX_EXAMPLES` generated cases each; all failures reported together."""
    failures: dict[str, str] = {}
    operations = 0
    for found in _schema(target).get_all_operations():
        operation = found.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=_headers(target, case.method),
                excluded_checks=[positive_data_acceptance],
                additional_checks=[schema_valid_data_accepted],
            )

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure, fail once
            failures[operation.label] = str(exc)[:3000]
    print(f"schemathesis: {operations} operations x up to {MAX_EXAMPLES} examples, {len(failures)} failing")
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
