"""The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, the last a check
character over the first 17, and the hash the participant registry keeps of it."""

from __future__ import annotations

from eth_utils.crypto import keccak

# The code's alphabet: digits and capitals without I, O, Z, S, V (GB 32100-2015, table 1).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18


def check_character(first17: str) -> str:
    """The 18th character for the first 17: 31 - (Σ value x weight mod 31), 31 read as 0."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """Why `code` is not a unified social credit code, or None when it is one."""
    if len(code) != LENGTH:
        return f"a unified social credit code has {LENGTH} characters; this one has {len(code)}"
    bad = sorted({c for c in code if c not in ALPHABET})
    if bad:
        return (
            f"character(s) {', '.join(repr(c) for c in bad)} are not used in a unified social credit code "
            "(digits and capital letters except I, O, Z, S, V)"
        )
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]!r} but GB 32100-2015 gives {expected!r} for the first 17"
    return None


def legal_id_hash(code: str) -> str:
    """The registry's hash of a legal id, as onboarding computes it: keccak256 of its UTF-8 text."""
    return "0x" + keccak(text=code).hex()
