"""The indexer: the deployment's events in a SQL database (SQLite or PostgreSQL), reorg-safe.

Rooms: `models` (tables), `db` (engines, migrations), `source` (JSON-RPC reads), `decode` (logs to
events), `project` (events to projections), `ingest` (ranges, cursor, reorgs), `follower` (the loop),
`reconcile` (database vs chain), `queries` (read side for the API), `cli` (`tierchain index …`).
"""

from ledger.indexer.errors import DeepReorgError, IndexerError, StallError
from ledger.indexer.follower import run_indexer
from ledger.indexer.ingest import Indexer, SyncStats
from ledger.indexer.reconcile import Mismatch, reconcile

__all__ = [
    "DeepReorgError",
    "Indexer",
    "IndexerError",
    "Mismatch",
    "StallError",
    "SyncStats",
    "reconcile",
    "run_indexer",
]
