"""The registry's pause bits (contracts/libraries/Roles.sol): names and numbers both ways."""

from __future__ import annotations

from collections.abc import Iterable

OPERATIONS: dict[str, int] = {"issuance": 1, "moves": 2, "financing": 4, "repayment": 8}
OP_ALL = 15


def operation_bits(operations: int | str | Iterable[str | int]) -> int:
    """Bits from a number (1..15), a name ("moves", "all") or several of either; raises ValueError
    naming the unknown part."""
    if isinstance(operations, bool):
        raise ValueError("operations: expected names or a number, got a boolean")
    if isinstance(operations, int):
        parts: list[str | int] = [operations]
    elif isinstance(operations, str):
        parts = [p for p in operations.replace(",", " ").split() if p]
    else:
        parts = list(operations)
    if not parts:
        raise ValueError(f"operations: name at least one of {', '.join([*OPERATIONS, 'all'])}")
    bits = 0
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            if not 1 <= part <= OP_ALL:
                raise ValueError(f"operations: {part} is not a set of operation bits (1..{OP_ALL})")
            bits |= part
            continue
        name = str(part).strip().lower()
        if name == "all":
            bits |= OP_ALL
        elif name in OPERATIONS:
            bits |= OPERATIONS[name]
        elif name.isdigit():
            bits |= operation_bits(int(name))
        else:
            known = ", ".join([*OPERATIONS, "all"])
            raise ValueError(f"operations: unknown operation {part!r}; known: {known}")
    return bits


def operation_names(bits: int) -> list[str]:
    """The names of the set bits, in bit order (`[]` for none)."""
    return [name for name, bit in OPERATIONS.items() if bits & bit]
