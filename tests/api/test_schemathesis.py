"""Property-based tests of the live OpenAPI document: Schemathesis generates requests for every
operation (valid and invalid), sends them to the ASGI app and runs all its checks on each answer:
no server error, status codes, content types, headers and bodies as the schema declares them.

Every built-in check runs; `positive_data_acceptance` is replaced by a variant that knows what this
API's 422 means (see `schema_valid_data_accepted`). Reads are made as a regulator (sees everything),
writes as the operator (may do anything the API allows). The event stream is excluded: it is endless
by design and tested with bounds elsewhere.

The stateful phase chains calls along the links Schemathesis infers from the schema; before each
scenario the chain is reverted and the database, journal and nonces restored, so Hypothesis sees the
same answers when it replays a scenario.
"""

from __future__ import annotations

import random
import shutil
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

from api.cache import ReadCache
from api.config import ApiSettings
from api.credentials import PrincipalCache
from ledger.journal import TxJournal
from ledger.nonce import NonceManager
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
    # No background state watch: the stateful test swaps the database file between scenarios, which
    # a thread reading it meanwhile would see half-copied (each request reads the state instead).
    # Operations sent with `Prefer: respond-async` stay queued: a background runner would change the
    # world under the scenarios (tests/api/test_async_writes.py runs them).
    configured = api_settings.model_copy(
        update={"trust_store_dir": trust, "state_poll_seconds": 0, "operation_workers": 0}
    )
    app = api_world.make_app(configured)
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


STATEFUL_EXAMPLES = 40
STATEFUL_STEPS = 8


class _World:
    """Puts chain and database back where the fixture left them, before every scenario: Hypothesis
    replays scenarios to shrink them and must see the same answers to the same steps."""

    def __init__(self, target: Target, api_world: ApiWorld, backup: Path) -> None:
        self.target, self.chain, self.backup = target, api_world.chain, backup
        self.ctx = target.app.state.ctx
        self.database = Path(str(self.ctx.engine.url.database))
        self.ctx.engine.dispose()  # checkpoints the WAL: the file alone is the whole database
        shutil.copyfile(self.database, backup)
        self.snapshot = self.chain.snapshot()
        self.scenarios = 0

    def reset(self) -> None:
        assert self.chain.revert(self.snapshot)
        self.snapshot = self.chain.snapshot()  # anvil forgets a snapshot once reverted to
        self.scenarios += 1
        self.ctx.engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{self.database}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.backup, self.database)
        manager = self.ctx.client.manager
        # The ledger's journal maps idempotency keys to transactions; a replayed key would resume a
        # transaction the revert erased. Each scenario gets a journal of its own.
        previous, manager.journal = (
            manager.journal,
            TxJournal(self.backup.parent / f"journal-{self.scenarios}.sqlite"),
        )
        if isinstance(previous, TxJournal):  # the API's own journal lives in the database just restored
            previous.close()
        manager.nonces = NonceManager(
            lambda a: manager.w3.eth.get_transaction_count(manager.w3.to_checksum_address(a), "pending")
        )
        self.ctx.indexed_block = -1
        self.ctx.watch.expire()
        self.ctx.reads = ReadCache(self.ctx.watch)
        self.ctx.principals = PrincipalCache(self.ctx.watch)


def test_stateful_sequences_conform(target: Target, api_world: ApiWorld, tmp_path: Path) -> None:
    """Sequences of calls chained by the links Schemathesis infers (an id one answer returns is the
    next call's parameter), each scenario from the same fresh world; every check on every step."""
    world = _World(target, api_world, tmp_path / "backup.sqlite")
    base = _schema(target).as_state_machine()

    class Machine(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            world.reset()

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            headers = _headers(target, case.method)
            if any(name.lower() == "idempotency-key" for name in case.headers or {}):
                headers.pop("Idempotency-Key", None)  # keep the generated one (it may be the invalid part)
            return {"headers": headers}

        def validate_response(
            self, response: Any, case: schemathesis.Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(
                response,
                excluded_checks=[positive_data_acceptance],
                additional_checks=[schema_valid_data_accepted],
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    Machine.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
