"""The role identifiers of contracts/libraries/Roles.sol, by name and by keccak id, both ways.

Roles travel on-chain as `keccak256("SUPPLIER")`; people read names. Every answer and every error
text shows the name (`role_name`), and every input may give either (`role_id`).
"""

from __future__ import annotations

from eth_utils.crypto import keccak

# The same list, in the same order, as the constants of contracts/libraries/Roles.sol.
ROLE_NAMES = (
    "CORE_ENTERPRISE",
    "SUPPLIER",
    "BANK",
    "REGULATOR",
    "ORACLE",
    "ENFORCEMENT",
    "DESK",
    "POLICY",
    "ONBOARDING",
    "GUARDIAN",
)
ROLES: dict[str, bytes] = {name: keccak(text=name) for name in ROLE_NAMES}
DEFAULT_ADMIN_ROLE = b"\x00" * 32
_NAMES_BY_ID: dict[bytes, str] = {role: name for name, role in ROLES.items()}


def role_id(role: str | bytes) -> bytes:
    """A role given by name ("SUPPLIER") or by its 32-byte id."""
    if isinstance(role, bytes):
        return role
    try:
        return ROLES[role.upper()]
    except KeyError as exc:
        raise ValueError(f"unknown role {role!r}; known: {', '.join(ROLE_NAMES)}") from exc


def role_name(role: bytes) -> str | None:
    """The name of a role id (`keccak256("SUPPLIER")` → `"SUPPLIER"`), or None for an unknown id."""
    if role == DEFAULT_ADMIN_ROLE:
        return "DEFAULT_ADMIN_ROLE"
    return _NAMES_BY_ID.get(bytes(role))
