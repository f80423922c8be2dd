"""Errors the indexer raises on purpose; all are `TierchainError`s so the CLI reports them uniformly."""

from __future__ import annotations

from ledger.errors import TierchainError


class IndexerError(TierchainError):
    """The indexer cannot go on: bad manifest, a database holding another deployment, and the like."""


class DeepReorgError(IndexerError):
    """The chain reorganised below what the network's confirmation depth promises.

    Replaying automatically would silently rewrite history that was reported as final, so the indexer
    stops loudly instead; an operator decides (usually: re-index from the deployment block).
    """

    def __init__(self, message: str, *, depth: int | None = None, max_depth: int | None = None) -> None:
        self.depth = depth
        self.max_depth = max_depth
        super().__init__(message)


class StallError(IndexerError):
    """The follower made no progress (head frozen, or the cursor stuck behind it) for too long."""
