"""The database rate limiter (`api.ratelimit.DbRateLimiter`) on SQLite and PostgreSQL: the same
buckets, refusals and Retry-After as the in-memory one, shared by every limiter over one database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text

from api import tables
from api.errors import RateLimited
from api.ratelimit import DbRateLimiter, RateLimiter
from ledger.indexer.db import make_engine

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'limits.sqlite'}"
        built = make_engine(url)
        tables.upgrade(built)
        yield built
        built.dispose()
        return
    try:
        psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3).close()
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {exc}")
    name = f"tc_limits_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    built = make_engine(PG_URL.rsplit("/", 1)[0] + f"/{name}")
    tables.upgrade(built)
    yield built
    built.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_burst_beyond_the_limit_is_refused_with_the_wait_for_the_next_token(engine: Engine) -> None:
    clock = Clock()
    limiter = DbRateLimiter(engine, "participant", 10, clock, reason="limit of 10 used up")
    for _ in range(10):
        limiter.hit("0xabc")
    with pytest.raises(RateLimited) as refused:
        limiter.hit("0xabc")
    assert refused.value.headers["Retry-After"] == "6"  # one token every 6 s at 10 a minute
    assert refused.value.detail == "limit of 10 used up; retry in 6s"
    clock.now += 3  # half a token: still refused, and the wait halves
    with pytest.raises(RateLimited) as again:
        limiter.hit("0xabc")
    assert again.value.headers["Retry-After"] == "3"
    clock.now += 3
    limiter.hit("0xabc")  # the token refilled meanwhile is taken
    limiter.hit("0xdef")  # another participant has its own bucket


def test_two_limiters_over_one_database_share_a_bucket(engine: Engine) -> None:
    clock = Clock()
    first, second = (DbRateLimiter(engine, "participant", 10, clock) for _ in range(2))
    refused = 0
    for i in range(12):
        try:
            (first if i % 2 else second).hit("0xabc")
        except RateLimited:
            refused += 1
    assert refused == 2
    other_scope = DbRateLimiter(engine, "client", 10, clock)
    other_scope.hit("0xabc")  # the client-address buckets are another set


def test_it_answers_as_the_memory_limiter_does(engine: Engine) -> None:
    clock = Clock()
    shared = DbRateLimiter(engine, "participant", 5, clock)
    local = RateLimiter(5, clock)
    for step in [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 2.5, 0.0, 0.7, 0.0, 13.0, 0.0, 0.0, 70.0, 0.0]:
        clock.now += step
        answers = []
        for limiter in (shared, local):
            try:
                limiter.hit("k")
                answers.append(None)
            except RateLimited as exc:
                answers.append(exc.detail)
        assert answers[0] == answers[1], f"after {step}s"


def test_check_and_charge_meter_failures_without_a_refusal_of_their_own(engine: Engine) -> None:
    clock = Clock()
    limiter = DbRateLimiter(engine, "client", 3, clock)
    limiter.check("10.0.0.1")  # no bucket yet: allowed
    for _ in range(5):
        limiter.charge("10.0.0.1")  # never raises, never below zero
    with pytest.raises(RateLimited) as refused:
        limiter.check("10.0.0.1")
    assert refused.value.headers["Retry-After"] == "20"  # from zero tokens, 3 a minute
    clock.now += 20
    limiter.check("10.0.0.1")


def test_idle_buckets_are_forgotten(engine: Engine) -> None:
    clock = Clock()
    limiter = DbRateLimiter(engine, "participant", 10, clock)
    limiter.hit("old")
    clock.now += 61
    limiter.hit("new")
    with engine.connect() as conn:
        buckets = {row[0] for row in conn.execute(text("SELECT bucket FROM api_rate_buckets"))}
    assert buckets == {"participant:new"}
