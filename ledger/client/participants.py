"""Participants and roles: onboarding and status (the ONBOARDING key, at once), and the roles only
governance grants (REGULATOR, ORACLE, ENFORCEMENT and the operator roles).

A role is granted directly when the signer holds its admin role in the registry (ONBOARDING
administers CORE_ENTERPRISE, SUPPLIER and BANK); any other role goes through governance with
`Governance.enact`, which carries it through at once on a network where one seat approves and no
delay applies (the local network) and otherwise refuses, naming the governance command.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from web3.types import TxReceipt

from ledger.client.base import ClientBase, checksum
from ledger.client.models import (
    Participant,
    ParticipantRegistered,
    ParticipantStatus,
    RoleGranted,
    StatusChanged,
    bytes32,
    role_id,
    role_name,
)
from ledger.governance.actions import Action, parse_action
from ledger.governance.client import Governance
from ledger.governance.errors import GovernanceError
from ledger.keys import Signer

# The registry's participant role bits, in bit order (contracts/libraries/Roles.sol, BIT_*).
PARTICIPANT_ROLE_BITS = ("CORE_ENTERPRISE", "SUPPLIER", "BANK", "REGULATOR", "ORACLE")


class ParticipantOps(ClientBase):
    @cached_property
    def governance(self) -> Governance:
        """The governance client of this deployment (seats, governor, timelock)."""
        return Governance(self.manager, self.deployment, self._abis)

    def register_participant(
        self,
        admin: Signer,
        account: str,
        legal_id_hash: bytes | str,
        roles: Sequence[str | bytes],
        *,
        key: str | None = None,
    ) -> ParticipantRegistered:
        """Onboard `account` as active with participant roles (CORE_ENTERPRISE, SUPPLIER, BANK, ...).

        `admin` is the onboarding key. Roles it administers are granted in the registration itself;
        REGULATOR and ORACLE are then granted through governance (`enact`), which is refused before
        anything is sent where governance cannot carry them through at once.
        """
        ids = [role_id(r) for r in roles]
        direct, governed = self._split_by_admin(admin, ids)
        actions = [_role_action("grant-role", r, account) for r in governed]
        if actions:
            self.governance.require_enactable(admin, actions)
        receipt = self._send(
            admin, self.registry, "register", checksum(account), bytes32(legal_id_hash), direct, key=key
        )
        event = self._event(receipt, self.registry, "ParticipantRegistered")
        if actions:
            self._enact(
                admin, actions, f"Register {checksum(account)}: grant {_names(governed)}", key, "roles"
            )
        return ParticipantRegistered(
            **self._meta(receipt),
            account=event["account"],
            legal_id_hash=bytes(event["legalIdHash"]),
            roles=tuple(ids),
        )

    def set_status(
        self, admin: Signer, account: str, status: ParticipantStatus, *, key: str | None = None
    ) -> StatusChanged:
        """Activate or suspend `account`: at once by the onboarding key when it administers every role
        `account` holds (a trading party), else through governance (`enact`; an oracle or a regulator)."""
        bits = int(self._view(self.registry, "participant", checksum(account))[2])
        held = [role_id(name) for i, name in enumerate(PARTICIPANT_ROLE_BITS) if bits & (1 << i)]
        foreign = [r for r in held if not self._administers(admin, r)]
        if foreign and status in (ParticipantStatus.ACTIVE, ParticipantStatus.SUSPENDED):
            action = parse_action(
                "set-status",
                {
                    "account": checksum(account),
                    "status": "active" if status == ParticipantStatus.ACTIVE else "suspended",
                },
            )
            what = f"{'Reactivate' if status == ParticipantStatus.ACTIVE else 'Suspend'} {checksum(account)}"
            receipt = self._enact(admin, [action], f"{what} ({_names(foreign)})", key, "status")
        else:
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
        """Grant a role: at once when `admin` administers it, else through governance (`enact`)."""
        rid = role_id(role)
        if self._administers(admin, rid):
            receipt = self._send(admin, self.registry, "grantRole", rid, checksum(account), key=key)
        else:
            action = _role_action("grant-role", rid, account)
            receipt = self._enact(admin, [action], f"Grant {_name(rid)} to {checksum(account)}", key, "grant")
        granted = bool(self._events(receipt, self.registry, "RoleGranted"))
        return RoleGranted(**self._meta(receipt), account=checksum(account), role=rid, granted=granted)

    def revoke_role(
        self, admin: Signer, account: str, role: str | bytes, *, key: str | None = None
    ) -> RoleGranted:
        """Revoke a role: at once when `admin` administers it, else through governance (`enact`)."""
        rid = role_id(role)
        if self._administers(admin, rid):
            receipt = self._send(admin, self.registry, "revokeRole", rid, checksum(account), key=key)
        else:
            action = _role_action("revoke-role", rid, account)
            receipt = self._enact(
                admin, [action], f"Revoke {_name(rid)} from {checksum(account)}", key, "revoke"
            )
        return RoleGranted(**self._meta(receipt), account=checksum(account), role=rid, granted=False)

    def participant(self, account: str) -> Participant:
        legal_id_hash, status, bits = self._view(self.registry, "participant", checksum(account))
        return Participant(
            legal_id_hash=bytes(legal_id_hash), status=ParticipantStatus(status), role_bits=bits
        )

    def has_role(self, account: str, role: str | bytes) -> bool:
        return bool(self._view(self.registry, "hasRole", role_id(role), checksum(account)))

    # ----------------------------------------------------------------------------- routing

    def _administers(self, signer: Signer, role: bytes) -> bool:
        admin_role = bytes(self._view(self.registry, "getRoleAdmin", role))
        return bool(self._view(self.registry, "hasRole", admin_role, checksum(signer.address)))

    def _split_by_admin(self, signer: Signer, roles: Sequence[bytes]) -> tuple[list[bytes], list[bytes]]:
        direct = [r for r in roles if self._administers(signer, r)]
        return direct, [r for r in roles if r not in direct]

    def _enact(
        self, signer: Signer, actions: Sequence[Action], what: str, key: str | None, step: str
    ) -> TxReceipt:
        """Carry `actions` through governance; the receipt of the transaction that executed them."""
        # The description makes the proposal unique: per request key, else per block.
        suffix = f"request {key}" if key is not None else f"block {self.w3.eth.block_number}"
        description = f"{what} ({suffix})"
        enacted = self.governance.enact(
            signer, actions, description, key=f"{key}:{step}" if key is not None else None
        )
        execute_key = f"{key}:{step}:execute" if key is not None else None
        tx_hash = enacted.transactions[-1] if enacted.transactions else None
        if tx_hash is None and execute_key is not None and (entry := self.manager.journal.get(execute_key)):
            tx_hash = entry.tx_hash
        if tx_hash is None:
            raise GovernanceError(
                f"proposal {enacted.proposal_id} was executed earlier; its transaction is unknown"
            )
        return self.manager.wait_for_receipt(tx_hash)


def _role_action(name: str, role: bytes, account: str) -> Action:
    return parse_action(name, {"role": _name(role), "account": account})


def _name(role: bytes) -> str:
    return role_name(role) or "0x" + role.hex()


def _names(roles: Sequence[bytes]) -> str:
    return ", ".join(_name(r) for r in roles)
