"""In-memory participant directory and fingerprint ledger.

Nodes back these Protocols with the chain; these dictionaries serve tests, the benchmark and
dry runs of a document batch before anything touches the chain.
"""

from oracles.checks import Participant
from oracles.normalize import legal_id_hash


class InMemoryDirectory:
    """Participants keyed by ``legal_id_hash``, registered by tax id for convenience."""

    def __init__(self) -> None:
        self._by_hash: dict[str, Participant] = {}

    def register(self, tax_id: str, participant: Participant) -> None:
        self._by_hash[legal_id_hash(tax_id)] = participant

    def lookup(self, legal_id_hash: str) -> Participant | None:
        return self._by_hash.get(legal_id_hash.lower())


class InMemoryFingerprintLedger:
    """Set of fingerprints already backing a receivable."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def is_used(self, fingerprint: str) -> bool:
        return fingerprint.lower() in self._used

    def mark_used(self, fingerprint: str) -> None:
        self._used.add(fingerprint.lower())
