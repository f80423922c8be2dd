"""Locks every API worker over one database sees: PostgreSQL advisory locks, or lock files beside a
SQLite database (several workers on one host).

`exclusive(engine, name)` blocks until it holds the lock (schema migrations at start-up, when several
workers start at once); `Lease` is taken without waiting and kept until released or until its holder
dies (the one indexer writer): PostgreSQL frees an advisory lock when its session ends, the kernel
frees a file lock when its process ends. An in-memory SQLite database belongs to one engine in one
process: nobody else can contend, so its locks are always granted.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A signed 64-bit key for `name` (PostgreSQL advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def lock_file(engine: Engine, name: str) -> Path | None:
    """The lock file for `name` beside a SQLite database file; None for PostgreSQL or in-memory SQLite."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    path = Path(database)
    safe = re.sub(r"[^A-Za-z0-9._@:-]", "_", name)  # a name is never a path
    return path.with_name(f"{path.name}.{safe}.lock")


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[None]:
    """Hold the lock `name` for the block, waiting for any other worker that holds it."""
    if is_postgres(engine):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": lock_key(name)})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(name)})
        return
    path = lock_file(engine, name)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


class Lease:
    """A lock taken without waiting and held until `release` or the holder's death."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self._guard = threading.Lock()
        self._conn: Connection | None = None
        self._fd: int | None = None
        self._local = False

    @property
    def held(self) -> bool:
        return self._conn is not None or self._fd is not None or self._local

    def acquire(self) -> bool:
        """True if this lease holds the lock now (taking it if free); a lost PostgreSQL session drops it."""
        with self._guard:
            if self.held:
                if self._conn is not None and not self._alive(self._conn):
                    self._drop_connection()
                else:
                    return True
            return self._try()

    def _alive(self, conn: Connection) -> bool:
        try:
            conn.execute(text("SELECT 1"))
        except Exception as exc:  # the session is gone, and the advisory lock with it
            log.warning("writer lock connection lost name=%s error=%s", self.name, exc)
            return False
        return True

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # already broken: nothing more to free
                pass

    def _try(self) -> bool:
        if is_postgres(self.engine):
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                got = bool(
                    conn.execute(
                        text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(self.name)}
                    ).scalar()
                )
            except Exception:
                conn.close()
                raise
            if got:
                self._conn = conn
            else:
                conn.close()
            return got
        path = lock_file(self.engine, self.name)
        if path is None:
            self._local = True
            return True
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        with self._guard:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(self.name)})
                    self._conn.close()
                except Exception:  # a broken session has released it already
                    self._drop_connection()
                self._conn = None
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            self._local = False
