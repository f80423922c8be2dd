"""An idempotency claim whose worker was killed mid-write (SIGKILL) is taken over by the retry on
PostgreSQL, where it used to answer 409 "still running" for ever; a claim whose worker lives still
answers 409."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, select, text

from api.errors import IdempotencyInProgress, IdempotencyKeyReused
from api.idempotency import StoredResponse, claim
from api.tables import idempotency_records, upgrade
from ledger.indexer.db import make_engine
from tests.support.processes import PROJECT_ROOT

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PRINCIPAL = "0x" + "ab" * 20
BODY = b'{"pieces": [{"to": "0x01", "value": 100}]}'
PATH = "/v1/tokens/1/split"

# A worker that claims the key, then is killed before the write ends.
CLAIM_AND_DIE = f"""
import os, signal, sys
from api.idempotency import claim
from ledger.indexer.db import make_engine
claim(make_engine(sys.argv[1]), {PRINCIPAL!r}, sys.argv[2], "POST", {PATH!r}, {BODY!r})
print("claimed", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture
def engine() -> Iterator[Engine]:
    try:
        psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3).close()
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {exc}")
    name = f"tc_idem_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    built = make_engine(url)
    upgrade(built)
    try:
        yield built
    finally:
        built.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _pending(engine: Engine, key: str) -> bool:
    with engine.connect() as conn:
        row = conn.execute(select(idempotency_records).where(idempotency_records.c.key == key)).first()
    return row is not None and row.status_code is None


def test_a_claim_left_by_a_killed_worker_is_taken_over_by_the_retry(engine: Engine) -> None:
    key = "pay-tier2-killed"
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    worker = subprocess.run(
        [sys.executable, "-c", CLAIM_AND_DIE, url, key],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == -9 and "claimed" in worker.stdout, worker.stderr
    assert _pending(engine, key)  # the dead worker never released its claim

    with pytest.raises(IdempotencyKeyReused):  # the same key on another request is still refused
        claim(engine, PRINCIPAL, key, "POST", PATH, b"{}")
    retry = claim(engine, PRINCIPAL, key, "POST", PATH, BODY)  # was: 409 for ever
    assert retry.lease is not None and retry.lease.held
    with pytest.raises(IdempotencyInProgress):  # while the retry runs, a third request waits
        claim(engine, PRINCIPAL, key, "POST", PATH, BODY)
    retry.store(200, {"result": "done"})
    retry.release()
    with pytest.raises(StoredResponse) as stored:
        claim(engine, PRINCIPAL, key, "POST", PATH, BODY)
    assert (stored.value.status_code, stored.value.body) == (200, {"result": "done"})


def test_a_claim_whose_worker_lives_answers_still_running(engine: Engine) -> None:
    first = claim(engine, PRINCIPAL, "live-key", "POST", PATH, BODY)
    try:
        with pytest.raises(IdempotencyInProgress):
            claim(engine, PRINCIPAL, "live-key", "POST", PATH, BODY)
    finally:
        first.release()
    assert not _pending(engine, "live-key")  # a write that ended without an answer frees its key
    again = claim(engine, PRINCIPAL, "live-key", "POST", PATH, BODY)
    again.release()


def test_a_late_release_does_not_delete_a_claim_taken_over_meanwhile(engine: Engine) -> None:
    """A worker whose release failed (the database was down) and whose lock went with its session
    releases late, after another worker took the claim over: the late release deletes nothing, and
    the answer the new holder stores is kept."""
    key = f"late-{uuid.uuid4().hex[:8]}"
    first = claim(engine, PRINCIPAL, key, "POST", PATH, BODY)
    assert first.lease is not None
    first.lease.release()  # its session died: the lock is gone, the claim still pending
    second = claim(engine, PRINCIPAL, key, "POST", PATH, BODY)  # taken over
    first.release()  # the late release
    second.store(201, {"ok": True})
    second.release()
    with engine.connect() as conn:
        row = conn.execute(select(idempotency_records).where(idempotency_records.c.key == key)).one()
    assert row.status_code == 201
    with pytest.raises(StoredResponse):
        claim(engine, PRINCIPAL, key, "POST", PATH, BODY)
