"""Issuance: a supplier proposes an obligation, its obligor confirms (or signs), rejects; or the obligor
issues directly on terms the supplier signed. Proposals store only the terms hash, so
confirm/reject/cancel take the same `Terms` back.
"""

from __future__ import annotations

from web3.types import TxReceipt

from ledger.client.base import ClientBase
from ledger.client.models import Issued, ProposalClosed, Proposed, Terms
from ledger.client.signing import sign_confirmation, sign_supplier_consent, supplier_consent_digest
from ledger.keys import Signer


class IssuanceOps(ClientBase):
    def propose(self, supplier: Signer, terms: Terms, *, key: str | None = None) -> Proposed:
        receipt = self._send(supplier, self.issuance, "propose", terms.as_abi(), key=key)
        event = self._event(receipt, self.issuance, "ObligationProposed")
        return Proposed(**self._meta(receipt), proposal_id=event["proposalId"], terms_hash=terms.hash())

    def _issued(self, receipt: TxReceipt) -> Issued:
        event = self._event(receipt, self.issuance, "ObligationIssued")
        return Issued(
            **self._meta(receipt),
            proposal_id=event["proposalId"],
            slot=event["slot"],
            token_id=event["rootTokenId"],
        )

    def confirm(self, obligor: Signer, proposal_id: int, terms: Terms, *, key: str | None = None) -> Issued:
        receipt = self._send(obligor, self.issuance, "confirm", proposal_id, terms.as_abi(), key=key)
        return self._issued(receipt)

    def confirmation_nonce(self, account: str) -> int:
        """`IssuanceDesk.nonces(account)`: one sequence for confirmations and supplier consents."""
        return int(self._view(self.issuance, "nonces", account))

    def _next_nonce(self, account: str, nonce: int | None) -> int:
        """`nonce` if given, else the one `IssuanceDesk` expects next from `account`."""
        return self.confirmation_nonce(account) if nonce is None else nonce

    def sign_confirmation(
        self, obligor: Signer, proposal_id: int, terms: Terms, *, deadline: int, nonce: int | None = None
    ) -> bytes:
        """The obligor's EIP-712 `Confirmation`; the nonce defaults to `IssuanceDesk.nonces(obligor)`."""
        return sign_confirmation(
            obligor,
            proposal_id,
            terms,
            nonce=self._next_nonce(obligor.address, nonce),
            deadline=deadline,
            chain_id=self.chain_id,
            issuance_desk=self.issuance.address,
        )

    def confirm_with_signature(
        self,
        submitter: Signer,
        proposal_id: int,
        terms: Terms,
        *,
        deadline: int,
        signature: bytes,
        key: str | None = None,
    ) -> Issued:
        """Anyone submits the obligor's signature (e.g. the supplier, paying the gas)."""
        args = (proposal_id, terms.as_abi(), deadline, signature)
        receipt = self._send(submitter, self.issuance, "confirmWithSignature", *args, key=key)
        return self._issued(receipt)

    def reject(
        self, obligor: Signer, proposal_id: int, terms: Terms, reason_code: int = 0, *, key: str | None = None
    ) -> ProposalClosed:
        receipt = self._send(
            obligor, self.issuance, "reject", proposal_id, terms.as_abi(), reason_code, key=key
        )
        event = self._event(receipt, self.issuance, "ProposalRejected")
        return ProposalClosed(**self._meta(receipt), proposal_id=event["proposalId"], outcome="rejected")

    def cancel(
        self, supplier: Signer, proposal_id: int, terms: Terms, *, key: str | None = None
    ) -> ProposalClosed:
        receipt = self._send(supplier, self.issuance, "cancel", proposal_id, terms.as_abi(), key=key)
        event = self._event(receipt, self.issuance, "ProposalCancelled")
        return ProposalClosed(**self._meta(receipt), proposal_id=event["proposalId"], outcome="cancelled")

    def sign_supplier_consent(
        self, supplier: Signer, terms: Terms, *, deadline: int, nonce: int | None = None
    ) -> bytes:
        """The supplier's EIP-712 `SupplierConsent` to a direct issue of exactly `terms`; the nonce
        defaults to `IssuanceDesk.nonces(supplier)`."""
        return sign_supplier_consent(
            supplier,
            terms,
            nonce=self._next_nonce(supplier.address, nonce),
            deadline=deadline,
            chain_id=self.chain_id,
            issuance_desk=self.issuance.address,
        )

    def supplier_consent_digest(self, terms: Terms, *, nonce: int, deadline: int) -> bytes:
        """The digest a supplier signs to consent to a direct issue (as `supplierConsentDigest`)."""
        return supplier_consent_digest(
            terms, nonce=nonce, deadline=deadline, chain_id=self.chain_id, issuance_desk=self.issuance.address
        )

    def issue_direct(
        self,
        obligor: Signer,
        terms: Terms,
        *,
        deadline: int,
        supplier_signature: bytes,
        key: str | None = None,
    ) -> Issued:
        """The obligor issues in one step on terms the supplier signed (`sign_supplier_consent`): the
        contract refuses to consume a supplier's documents on the obligor's word alone."""
        args = (terms.as_abi(), deadline, supplier_signature)
        receipt = self._send(obligor, self.issuance, "issueDirect", *args, key=key)
        return self._issued(receipt)

    def is_pending(self, proposal_id: int) -> bool:
        return bool(self._view(self.issuance, "isPending", proposal_id))

    def hash_terms(self, terms: Terms) -> bytes:
        """The contract's own hash of `terms` (the client computes the same locally: `Terms.hash`)."""
        return bytes(self._view(self.issuance, "hashTerms", terms.as_abi()))
