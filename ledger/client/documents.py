"""Trade documents: oracle attestations (M-of-N EIP-712 signatures) and the documents they stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ledger.client.base import ClientBase, checksum
from ledger.client.models import Attestation, Attested, Document, DocumentKind, bytes32
from ledger.client.signing import attestation_digest, sign_attestation
from ledger.keys import Signer


class DocumentOps(ClientBase):
    def sign_attestation(self, oracle: Signer, attestation: Attestation) -> bytes:
        """`oracle`'s signature over `attestation` for this deployment's TradeRegistry."""
        return sign_attestation(
            oracle, attestation, chain_id=self.chain_id, trade_registry=self.trades.address
        )

    def attestation_digest(self, attestation: Attestation) -> bytes:
        return attestation_digest(attestation, chain_id=self.chain_id, trade_registry=self.trades.address)

    def attest(
        self,
        submitter: Signer,
        attestation: Attestation,
        signatures: Mapping[str, bytes],
        *,
        key: str | None = None,
    ) -> Attested:
        """Submit `attestation` with signatures by signer address; they are sent sorted ascending."""
        ordered = [sig for _, sig in sorted(signatures.items(), key=lambda kv: int(kv[0], 16))]
        receipt = self._send(submitter, self.trades, "attest", attestation.as_abi(), ordered, key=key)
        event = self._event(receipt, self.trades, "DocumentAttested")
        return Attested(
            **self._meta(receipt),
            fingerprint=bytes(event["fingerprint"]),
            signers=tuple(checksum(s) for s in event["signers"]),
        )

    def sign_and_attest(
        self,
        submitter: Signer,
        attestation: Attestation,
        oracles: Sequence[Signer],
        *,
        key: str | None = None,
    ) -> Attested:
        """Have each of `oracles` sign, then submit (the demo's and the benchmark's path)."""
        signatures = {str(o.address): self.sign_attestation(o, attestation) for o in oracles}
        return self.attest(submitter, attestation, signatures, key=key)

    def document(self, fingerprint: bytes | str) -> Document:
        d = self._view(self.trades, "document", bytes32(fingerprint))
        return Document(
            seller=d[0],
            kind=DocumentKind(d[1]) if d[1] else None,
            issue_date=d[2],
            due_date=d[3],
            buyer=d[4],
            currency=bytes(d[5]).rstrip(b"\x00").decode("ascii", errors="replace"),
            attested_at=d[6],
            amount=d[7],
            used_by_slot=d[8],
        )

    def oracle_threshold(self) -> int:
        return int(self._view(self.trades, "threshold"))
