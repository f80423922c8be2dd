"""Participants and roles: onboarding, suspension, infrastructure roles (registry admin only)."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.client.base import ClientBase, checksum
from ledger.client.models import (
    Participant,
    ParticipantRegistered,
    ParticipantStatus,
    RoleGranted,
    StatusChanged,
    bytes32,
    role_id,
)
from ledger.keys import Signer


class ParticipantOps(ClientBase):
    def register_participant(
        self,
        admin: Signer,
        account: str,
        legal_id_hash: bytes | str,
        roles: Sequence[str | bytes],
        *,
        key: str | None = None,
    ) -> ParticipantRegistered:
        """Onboard `account` as active with participant roles (CORE_ENTERPRISE, SUPPLIER, BANK, ...)."""
        ids = [role_id(r) for r in roles]
        receipt = self._send(
            admin, self.registry, "register", checksum(account), bytes32(legal_id_hash), ids, key=key
        )
        event = self._event(receipt, self.registry, "ParticipantRegistered")
        return ParticipantRegistered(
            **self._meta(receipt),
            account=event["account"],
            legal_id_hash=bytes(event["legalIdHash"]),
            roles=tuple(ids),
        )

    def set_status(
        self, admin: Signer, account: str, status: ParticipantStatus, *, key: str | None = None
    ) -> StatusChanged:
        receipt = self._send(admin, self.registry, "setStatus", checksum(account), int(status), key=key)
        event = self._event(receipt, self.registry, "ParticipantStatusChanged")
        return StatusChanged(
            **self._meta(receipt),
            account=event["account"],
            previous=ParticipantStatus(event["previous"]),
            current=ParticipantStatus(event["current"]),
        )

    def grant_role(
        self, admin: Signer, account: str, role: str | bytes, *, key: str | None = None
    ) -> RoleGranted:
        """Grant any role, e.g. ENFORCEMENT to a court's executor; participant roles need registration."""
        rid = role_id(role)
        receipt = self._send(admin, self.registry, "grantRole", rid, checksum(account), key=key)
        granted = bool(self._events(receipt, self.registry, "RoleGranted"))
        return RoleGranted(**self._meta(receipt), account=checksum(account), role=rid, granted=granted)

    def revoke_role(
        self, admin: Signer, account: str, role: str | bytes, *, key: str | None = None
    ) -> RoleGranted:
        rid = role_id(role)
        receipt = self._send(admin, self.registry, "revokeRole", rid, checksum(account), key=key)
        return RoleGranted(**self._meta(receipt), account=checksum(account), role=rid, granted=False)

    def participant(self, account: str) -> Participant:
        legal_id_hash, status, bits = self._view(self.registry, "participant", checksum(account))
        return Participant(
            legal_id_hash=bytes(legal_id_hash), status=ParticipantStatus(status), role_bits=bits
        )

    def has_role(self, account: str, role: str | bytes) -> bool:
        return bool(self._view(self.registry, "hasRole", role_id(role), checksum(account)))
