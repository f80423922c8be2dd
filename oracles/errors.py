"""Exceptions raised by the oracles package.

One base class lets callers (the node process, the API) catch everything the oracles raise in
one place. Format errors also subclass ``ValueError`` so pydantic turns them into ordinary
validation errors carrying the field path, which intake then reports to the person who sent
the file. ``OracleError`` sits under ledger's ``TierchainError`` so the API and the CLI catch
the whole project's deliberate failures with one clause.
"""

from ledger.errors import NotPersisted, TierchainError


class OracleError(TierchainError):
    """Base class of every error raised by ``oracles``."""


class DocumentFormatError(OracleError, ValueError):
    """A value on a document cannot be read without guessing (amount, date, identifier)."""


class TrustStoreError(OracleError):
    """The deployment's trust store folder is missing or holds unreadable files."""


class StoreError(OracleError):
    """A node's or the aggregator's work store holds something it cannot read back."""


class StoreWriteFailed(StoreError, NotPersisted):
    """A work store could not commit (a full disk, a read-only data dir): the answer or the document's
    state was not persisted, so it is neither returned nor acted on."""

    def __init__(self, store: str, path: str, cause: BaseException | str) -> None:
        NotPersisted.__init__(self, f"the oracle work store ({store})", path, cause)


class NodeRequestError(OracleError):
    """An oracle node could not be reached, or answered with something that is not an answer."""
