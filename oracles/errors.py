"""Exceptions raised by the oracles package.

One base class lets callers (the node process, the API) catch everything the oracles raise in
one place. Format errors also subclass ``ValueError`` so pydantic turns them into ordinary
validation errors carrying the field path, which intake then reports to the person who sent
the file.
"""


class OracleError(Exception):
    """Base class of every error raised by ``oracles``."""


class DocumentFormatError(OracleError, ValueError):
    """A value on a document cannot be read without guessing (amount, date, identifier)."""


class TrustStoreError(OracleError):
    """The deployment's trust store folder is missing or holds unreadable files."""
