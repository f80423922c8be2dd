"""Per-process work stores: what a node answered, and where each of the aggregator's documents stands.

Both are single SQLite files, one per node and one per aggregator, written *before* the process
acts on what they record: a node commits its answer before the HTTP reply leaves, and the
aggregator commits each document's state before asking nodes, before submitting and after
learning the outcome. A process that dies at any point restarts from the file and neither signs
a conflicting answer nor submits a document twice (the transaction journal covers the gap
between signing a transaction and recording its hash here).

One connection per store guarded by a lock: the HTTP server's threads share it, and every write
is a short transaction, so contention is negligible next to signature work.
"""

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from oracles.attestation import AttestationMessage
from oracles.errors import StoreError, StoreWriteFailed
from oracles.reasons import Refusal

NodeStatus = Literal["signed", "refused"]
ItemStatus = Literal["pending", "signed", "submitted", "attested", "refused", "no_quorum"]
OPEN_STATUSES: tuple[ItemStatus, ...] = ("pending", "signed", "submitted", "no_quorum")

_NODE_SCHEMA = """
CREATE TABLE IF NOT EXISTS node_documents (
    fingerprint   TEXT PRIMARY KEY,
    content_hash  TEXT NOT NULL,
    deadline      INTEGER NOT NULL,
    status        TEXT NOT NULL,
    verdict       TEXT NOT NULL,
    refusals      TEXT NOT NULL,
    message       TEXT,
    signature     TEXT,
    updated_at    TEXT NOT NULL
)
"""

_ITEM_SCHEMA = """
CREATE TABLE IF NOT EXISTS batch_items (
    fingerprint   TEXT PRIMARY KEY,
    content_hash  TEXT NOT NULL,
    document      TEXT NOT NULL,
    message       TEXT,
    signatures    TEXT NOT NULL,
    refusals      TEXT NOT NULL,
    status        TEXT NOT NULL,
    tx_hash       TEXT,
    reason        TEXT,
    updated_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS batch_items_status ON batch_items (status);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat()


class _SqliteStore:
    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL survives a process crash (what a restart resumes from); only power loss
        # can lose the last commits, and those are re-derivable from the chain and the journal.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(schema)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; a write the file refuses (a full disk, a read-only data dir) raises
        `StoreWriteFailed` naming the file and the cause: the caller acknowledges nothing."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:  # SQLite ends it itself on some errors (a full disk)
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise
                raise StoreWriteFailed(type(self).__name__, str(self.path), exc) from exc

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return list(self._db.execute(sql, params).fetchall())

    def close(self) -> None:
        with self._lock:
            self._db.close()


class NodeRecord(BaseModel):
    """What a node concluded about one fingerprint, and the signature it gave if any."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fingerprint: str
    content_hash: str
    deadline: int
    status: NodeStatus
    verdict: dict[str, object]
    refusals: list[Refusal]
    message: AttestationMessage | None = None
    signature: str | None = None


class NodeStore(_SqliteStore):
    """One oracle node's answers, keyed by fingerprint."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _NODE_SCHEMA)

    def get(self, fingerprint: str) -> NodeRecord | None:
        rows = self._query(
            "SELECT fingerprint, content_hash, deadline, status, verdict, refusals, message, signature "
            "FROM node_documents WHERE fingerprint = ?",
            (fingerprint.lower(),),
        )
        if not rows:
            return None
        fp, content, deadline, status, verdict, refusals, message, signature = rows[0]
        try:
            return NodeRecord(
                fingerprint=str(fp),
                content_hash=str(content),
                deadline=int(str(deadline)),
                status=status,  # validated by pydantic
                verdict=json.loads(str(verdict)),
                refusals=[Refusal.model_validate(r) for r in json.loads(str(refusals))],
                message=AttestationMessage.model_validate_json(str(message)) if message else None,
                signature=str(signature) if signature else None,
            )
        except (ValidationError, ValueError) as exc:
            raise StoreError(f"{self.path}: unreadable record for {fp}: {exc}") from exc

    def put_many(self, records: Iterable[NodeRecord]) -> None:
        """Commit answers in one transaction; the caller replies only after this returns."""
        rows = [
            (
                r.fingerprint.lower(),
                r.content_hash,
                r.deadline,
                r.status,
                json.dumps(r.verdict),
                json.dumps([x.model_dump(mode="json") for x in r.refusals]),
                r.message.model_dump_json() if r.message else None,
                r.signature,
                _now(),
            )
            for r in records
        ]
        with self._transaction() as db:
            db.executemany("INSERT OR REPLACE INTO node_documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def count(self) -> int:
        return int(str(self._query("SELECT COUNT(*) FROM node_documents")[0][0]))


class BatchItem(BaseModel):
    """One document on its way through the aggregator.

    ``signatures`` maps oracle address to a signature already checked against ``message``;
    ``refusals`` maps a node's URL to the refusals it returned (``aggregator`` holds the
    aggregator's own finding when the chain, not the nodes, refused the document).
    """

    model_config = ConfigDict(extra="forbid")

    fingerprint: str
    content_hash: str
    document: dict[str, object]
    message: AttestationMessage | None = None
    signatures: dict[str, str] = {}
    refusals: dict[str, list[Refusal]] = {}
    status: ItemStatus = "pending"
    tx_hash: str | None = None
    reason: str | None = None

    def reasons(self) -> list[Refusal]:
        """Every distinct reason, once: nodes usually refuse alike, and a person needs it said once.

        Refusals count as the same when code and field agree; the first node's sentence is kept.
        """
        seen: dict[tuple[str, str | None], Refusal] = {}
        for node in sorted(self.refusals):
            for refusal in self.refusals[node]:
                seen.setdefault((refusal.code.value, refusal.field), refusal)
        return [seen[key] for key in sorted(seen, key=lambda k: (k[0], k[1] or ""))]


_ITEM_COLUMNS = "fingerprint, content_hash, document, message, signatures, refusals, status, tx_hash, reason"


def _item_from_row(row: tuple[object, ...]) -> BatchItem:
    fp, content, document, message, signatures, refusals, status, tx_hash, reason = row
    try:
        return BatchItem(
            fingerprint=str(fp),
            content_hash=str(content),
            document=json.loads(str(document)),
            message=AttestationMessage.model_validate_json(str(message)) if message else None,
            signatures=json.loads(str(signatures)),
            refusals={
                node: [Refusal.model_validate(r) for r in items]
                for node, items in json.loads(str(refusals)).items()
            },
            status=status,  # validated by pydantic
            tx_hash=str(tx_hash) if tx_hash else None,
            reason=str(reason) if reason else None,
        )
    except (ValidationError, ValueError) as exc:
        raise StoreError(f"unreadable batch item {fp}: {exc}") from exc


class AggregatorStore(_SqliteStore):
    """The aggregator's documents and their state, keyed by fingerprint."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _ITEM_SCHEMA)

    def add_new(self, items: Iterable[BatchItem]) -> int:
        """Record unseen documents (a known fingerprint keeps its state); returns how many were new."""
        rows = [self._row(item) for item in items]
        with self._transaction() as db:
            before = db.total_changes
            db.executemany(f"INSERT OR IGNORE INTO batch_items ({_ITEM_COLUMNS}, updated_at) VALUES "
                           "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)  # fmt: skip
            return db.total_changes - before

    def save_many(self, items: Iterable[BatchItem]) -> None:
        rows = [self._row(item) for item in items]
        with self._transaction() as db:
            db.executemany(f"INSERT OR REPLACE INTO batch_items ({_ITEM_COLUMNS}, updated_at) VALUES "
                           "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)  # fmt: skip

    def get(self, fingerprint: str) -> BatchItem | None:
        rows = self._query(
            f"SELECT {_ITEM_COLUMNS} FROM batch_items WHERE fingerprint = ?", (fingerprint.lower(),)
        )
        return _item_from_row(rows[0]) if rows else None

    def get_many(self, fingerprints: Sequence[str]) -> dict[str, BatchItem]:
        """Stored items among ``fingerprints``, keyed by lower-case fingerprint."""
        found: dict[str, BatchItem] = {}
        keys = [fp.lower() for fp in fingerprints]
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = self._query(
                f"SELECT {_ITEM_COLUMNS} FROM batch_items WHERE fingerprint IN ({marks})", chunk
            )
            found.update((str(row[0]), _item_from_row(row)) for row in rows)
        return found

    def by_status(self, *statuses: ItemStatus) -> list[BatchItem]:
        marks = ", ".join("?" for _ in statuses)
        rows = self._query(
            f"SELECT {_ITEM_COLUMNS} FROM batch_items WHERE status IN ({marks}) ORDER BY rowid", statuses
        )
        return [_item_from_row(row) for row in rows]

    def counts(self) -> dict[str, int]:
        rows = self._query("SELECT status, COUNT(*) FROM batch_items GROUP BY status")
        return {str(status): int(str(n)) for status, n in rows}

    @staticmethod
    def _row(item: BatchItem) -> tuple[object, ...]:
        return (
            item.fingerprint.lower(),
            item.content_hash,
            json.dumps(item.document),
            item.message.model_dump_json() if item.message else None,
            json.dumps(item.signatures),
            json.dumps({n: [r.model_dump(mode="json") for r in rs] for n, rs in item.refusals.items()}),
            item.status,
            item.tx_hash,
            item.reason,
            _now(),
        )
