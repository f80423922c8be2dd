"""The database or a store unavailable: 503 `database-unavailable` / 507 `storage-full` / 503
`storage-unavailable` problem+json with `Retry-After`, from a route or from a middleware, never a 500;
and an idempotency claim whose release failed while the database was away is released afterwards."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.middleware.base import BaseHTTPMiddleware

from api import idempotency, tables
from api.errors import register_handlers
from ledger.errors import NotPersisted


class _Refused(Exception):
    """A DBAPI exception standing for psycopg's, with the SQLSTATE it carries."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _app(raise_it: Callable[[], None], *, in_middleware: bool = False) -> TestClient:
    app = FastAPI()
    register_handlers(app)

    @app.get("/v1/thing")
    def thing() -> dict[str, str]:
        raise_it()
        return {}

    if in_middleware:

        async def failing(request, call_next):  # type: ignore[no-untyped-def]
            raise_it()
            return await call_next(request)

        app.add_middleware(BaseHTTPMiddleware, dispatch=failing)
    return TestClient(app, raise_server_exceptions=False)


def _op(message: str, sqlstate: str | None = None) -> OperationalError:
    return OperationalError("SELECT 1", None, _Refused(message, sqlstate))


CASES = {
    "connection refused": (
        lambda: _op(
            'connection failed: connection to server at "127.0.0.1", port 5433 failed: Connection refused'
        ),
        503,
        "database-unavailable",
    ),
    "admin shutdown": (
        lambda: _op("terminating connection due to administrator command", "57P01"),
        503,
        "database-unavailable",
    ),
    "invalidated": (
        lambda: DBAPIError(
            "SELECT 1", None, _Refused("server closed the connection"), connection_invalidated=True
        ),
        503,
        "database-unavailable",
    ),
    "pool exhausted": (lambda: PoolTimeout("QueuePool limit reached"), 503, "database-unavailable"),
    "sqlite full": (
        lambda: OperationalError("INSERT", None, sqlite3.OperationalError("database or disk is full")),
        507,
        "storage-full",
    ),
    "postgres disk full": (
        lambda: _op("could not extend file base/16384/2619: No space left on device", "53100"),
        507,
        "storage-full",
    ),
    "read-only": (
        lambda: OperationalError(
            "INSERT", None, sqlite3.OperationalError("attempt to write a readonly database")
        ),
        503,
        "storage-unavailable",
    ),
    "journal full": (
        lambda: NotPersisted("the transaction journal", "/data/journal.sqlite", "database or disk is full"),
        507,
        "storage-full",
    ),
    "journal read-only": (
        lambda: NotPersisted(
            "the transaction journal", "/data/journal.sqlite", "attempt to write a readonly database"
        ),
        503,
        "storage-unavailable",
    ),
}


@pytest.mark.parametrize("in_middleware", [False, True], ids=["route", "middleware"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_database_and_storage_failures_are_problems_with_retry_after(case: str, in_middleware: bool) -> None:
    make, status, slug = CASES[case]

    def raise_it() -> None:
        raise make()

    answer = _app(raise_it, in_middleware=in_middleware).get("/v1/thing")
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"] == f"https://tierchain.dev/problems/{slug}"
    assert int(answer.headers["Retry-After"]) >= 1
    assert "acknowledged" in answer.json()["detail"]
    if case.startswith("journal"):
        assert "/data/journal.sqlite" in answer.json()["detail"]


@pytest.mark.parametrize(
    "make",
    [
        lambda: IntegrityError("INSERT", None, _Refused("duplicate key value", "23505")),
        lambda: _op("canceling statement due to lock timeout", "55P03"),
    ],
    ids=["integrity", "lock-timeout"],
)
def test_other_database_errors_stay_internal_errors(make: Callable[[], Exception]) -> None:
    def raise_it() -> None:
        raise make()

    answer = _app(raise_it).get("/v1/thing")
    assert answer.status_code == 500
    assert "Retry-After" not in answer.headers


def test_a_claim_not_released_while_the_database_was_away_is_released_at_the_next_claim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'api.sqlite'}")
    tables.metadata.create_all(engine)
    first = idempotency.claim(engine, "0xabc", "k1", "POST", "/v1/x", b"{}")
    real_delete = idempotency.IdempotencyClaim._delete

    def unreachable(self: idempotency.IdempotencyClaim) -> None:
        raise _op("connection refused")

    monkeypatch.setattr(idempotency.IdempotencyClaim, "_delete", unreachable)
    with pytest.raises(OperationalError):
        first.release()
    monkeypatch.setattr(idempotency.IdempotencyClaim, "_delete", real_delete)
    with engine.connect() as conn:
        assert conn.execute(select(tables.idempotency_records.c.key)).scalars().all() == ["k1"]
    idempotency.claim(engine, "0xabc", "k2", "POST", "/v1/x", b"{}")  # the database is back
    with engine.connect() as conn:
        assert conn.execute(select(tables.idempotency_records.c.key)).scalars().all() == ["k2"]
    again = idempotency.claim(engine, "0xabc", "k1", "POST", "/v1/x", b"{}")  # retried: claimed anew
    assert again.key == "k1"
    engine.dispose()
