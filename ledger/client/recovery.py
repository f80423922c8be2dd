"""Lost-key recovery (密钥遗失恢复): a participant that lost its key is moved to a new address by two keys
in two transactions. ONBOARDING asks (`request_recovery`: the lost address, the replacement, the case
reference), ENFORCEMENT approves (`approve_recovery`, another key than the requester's): the registry
record (legal id, status, roles, size class, obligor data) moves to the replacement and the lost address
becomes Recovered, never to act again. Then ENFORCEMENT moves the lost address's tokens in batches of at
most 100 (`recover_tokens`): every live token it owns and every move pending to it; lineage, value,
freeze and pending records stay as they are, approvals are voided. Either key may withdraw an open
request (`cancel_recovery`).

Case references are written as people write them ("(2026)沪0115执1234号", "RC-2026-0042") and recorded
as 32 bytes by `ledger.client.models.case_ref`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from ledger.client.base import checksum
from ledger.client.bill import BillOps
from ledger.client.models import (
    ParticipantRecovered,
    RecoveryBatch,
    RecoveryCancelled,
    RecoveryRequest,
    RecoveryRequested,
    TokensRecovered,
    case_ref,
)
from ledger.errors import TierchainError
from ledger.keys import Signer

MAX_RECOVERY_BATCH = 100  # the token's MAX_RECOVERY_BATCH
ZERO_ADDRESS = "0x" + "00" * 20


class NotRecoveredYet(TierchainError):
    """Tokens are moved only once the registry recorded the recovery (`approve_recovery`)."""


class RecoveryOps(BillOps):
    # ----------------------------------------------------------------------------- registry

    def request_recovery(
        self,
        onboarding: Signer,
        lost: str,
        replacement: str,
        reference: str | bytes,
        *,
        key: str | None = None,
    ) -> RecoveryRequested:
        """Ask to move the record of `lost` to `replacement` (a never registered address) under case
        `reference` (ONBOARDING holding the admin role of every role of `lost`, or governance)."""
        ref = case_ref(reference)
        receipt = self._send(
            onboarding, self.registry, "requestRecovery", checksum(lost), checksum(replacement), ref, key=key
        )
        event = self._event(receipt, self.registry, "RecoveryRequested")
        return RecoveryRequested(
            **self._meta(receipt),
            lost=event["lost"],
            replacement=event["replacement"],
            case_ref=bytes(event["caseRef"]),
            requested_by=event["requestedBy"],
        )

    def approve_recovery(
        self, enforcer: Signer, lost: str, reference: str | bytes, *, key: str | None = None
    ) -> ParticipantRecovered:
        """Approve the open request of `lost` (ENFORCEMENT, not the requesting key), its case repeated:
        the record moves to the replacement. The tokens follow with `recover_tokens`."""
        receipt = self._send(
            enforcer, self.registry, "approveRecovery", checksum(lost), case_ref(reference), key=key
        )
        event = self._event(receipt, self.registry, "ParticipantRecovered")
        return ParticipantRecovered(
            **self._meta(receipt),
            lost=event["lost"],
            replacement=event["replacement"],
            case_ref=bytes(event["caseRef"]),
            requested_by=event["requestedBy"],
            approved_by=event["approvedBy"],
        )

    def cancel_recovery(
        self, signer: Signer, lost: str, reference: str | bytes, *, key: str | None = None
    ) -> RecoveryCancelled:
        """Withdraw the open request of `lost` (ONBOARDING, ENFORCEMENT or governance), its case repeated."""
        receipt = self._send(
            signer, self.registry, "cancelRecovery", checksum(lost), case_ref(reference), key=key
        )
        event = self._event(receipt, self.registry, "RecoveryCancelled")
        return RecoveryCancelled(
            **self._meta(receipt),
            lost=event["lost"],
            case_ref=bytes(event["caseRef"]),
            cancelled_by=event["by"],
        )

    def recovery_request(self, lost: str) -> RecoveryRequest | None:
        """The open request of `lost`, or None."""
        replacement, ref, requested_by = self._view(self.registry, "recoveryRequest", checksum(lost))
        if int(replacement, 16) == 0:
            return None
        return RecoveryRequest(
            lost=checksum(lost),
            replacement=checksum(replacement),
            case_ref=bytes(ref),
            requested_by=checksum(requested_by),
        )

    def recovered_to(self, lost: str) -> str | None:
        """The address the record of `lost` moved to, or None when it was never recovered."""
        to = str(self._view(self.registry, "recoveredTo", checksum(lost)))
        return None if int(to, 16) == 0 else checksum(to)

    def current_account(self, account: str) -> str:
        """The address acting for `account` today: itself, or the end of its chain of recoveries."""
        return checksum(str(self._view(self.registry, "currentAccount", checksum(account))))

    # ----------------------------------------------------------------------------- tokens

    def recoverable_tokens(self, lost: str) -> list[int]:
        """Every live token `lost` owns and every token whose move is pending to it, ascending.

        Owned tokens are found as the client finds holdings: the token's `Transfer` logs to `lost` since
        deployment, each confirmed by `ownerOf` now (a token moved on or burned since drops out)."""
        owner = checksum(lost)
        logs = self.token.events.Transfer().get_logs(
            argument_filters={"_to": owner}, from_block=self.deployment.deploy_block
        )
        ids: set[int] = set()
        for token_id in {int(entry["args"]["_tokenId"]) for entry in logs}:
            if (
                self._view(self.token, "exists", token_id)
                and checksum(self._view(self.token, "ownerOf", token_id)) == owner
            ):
                ids.add(token_id)
        ids.update(move.token_id for move in self.pending_moves(receiver=owner))
        return sorted(ids)

    def recover_tokens(
        self,
        enforcer: Signer,
        lost: str,
        reference: str | bytes,
        token_ids: Sequence[int] | None = None,
        *,
        batch_size: int = MAX_RECOVERY_BATCH,
        key: str | None = None,
    ) -> TokensRecovered:
        """Move the tokens of recovered address `lost` to its replacement (ENFORCEMENT), at most
        `batch_size` (≤ 100) ids a transaction. Without `token_ids`, every token `recoverable_tokens`
        finds now: run again after an interruption, it moves what is left (nothing left: no batch).

        With an idempotency `key`, each batch is keyed by `key` and the ids it carries, so a retry of
        the same batch returns its first outcome and a re-run over what is left sends new batches."""
        if not 1 <= batch_size <= MAX_RECOVERY_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_RECOVERY_BATCH}, got {batch_size}")
        ref = case_ref(reference)
        replacement = self.recovered_to(lost)
        if replacement is None:
            raise NotRecoveredYet(
                f"{checksum(lost)} is not recovered: approve its recovery request before moving its tokens"
            )
        ids = sorted(set(token_ids)) if token_ids is not None else self.recoverable_tokens(lost)
        batches: list[RecoveryBatch] = []
        for chunk in _chunks(ids, batch_size):
            batch_key = f"{key}:tokens:{_digest(chunk)}" if key is not None else None
            receipt = self._send(
                enforcer, self.token, "recoverTokens", checksum(lost), list(chunk), ref, key=batch_key
            )
            moved = tuple(
                int(e["args"]["tokenId"]) for e in self._events(receipt, self.token, "TokenRecovered")
            )
            batches.append(RecoveryBatch(**self._meta(receipt), token_ids=moved))
        return TokensRecovered(
            lost=checksum(lost), replacement=replacement, case_ref=ref, batches=tuple(batches)
        )


def _chunks(ids: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _digest(ids: Sequence[int]) -> str:
    return hashlib.sha256(",".join(str(i) for i in ids).encode()).hexdigest()[:16]
