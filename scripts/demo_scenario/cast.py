"""Who takes part: one core enterprise, a supplier tree five tiers deep, two banks, a regulator, three
oracles and a court. Each party is an anvil account from the public test mnemonic and a legal entity
with an 18-character unified social credit code (generated with a valid check character); the
registry stores keccak256 of the normalized code, exactly as the oracles look it up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from gen_documents import uscc

from ledger.client.compliance import SizeClass
from ledger.keys import Signer, local_accounts
from oracles.normalize import legal_id_hash

# (key, display name, registry role, tier). Keys are stable: the report and the tests use them.
PARTIES: tuple[tuple[str, str, str, int | None], ...] = (
    ("admin", "Platform operator", "DEFAULT_ADMIN", None),
    ("core", "Huaxin Motors (core enterprise)", "CORE_ENTERPRISE", 0),
    ("t1", "Dongfang Drivetrain", "SUPPLIER", 1),
    ("t2a", "Jinhai Castings", "SUPPLIER", 2),
    ("t2b", "Ruifeng Electronics", "SUPPLIER", 2),
    ("t2c", "Yongxing Bearings", "SUPPLIER", 2),
    ("t3a", "Hengtai Forgings", "SUPPLIER", 3),
    ("t3b", "Lianyi Alloys", "SUPPLIER", 3),
    ("t4", "Xinda Ore Processing", "SUPPLIER", 4),
    ("t5", "Baoshan Mining Co-op", "SUPPLIER", 5),
    ("bank_a", "Bank A (Pudong branch)", "BANK", None),
    ("bank_b", "Bank B (Shenzhen branch)", "BANK", None),
    ("regulator", "Supply-chain finance regulator", "REGULATOR", None),
    ("oracle1", "Oracle node 1", "ORACLE", None),
    ("oracle2", "Oracle node 2", "ORACLE", None),
    ("oracle3", "Oracle node 3", "ORACLE", None),
    ("court", "Commercial court executor", "ENFORCEMENT", None),
)
ORACLES = ("oracle1", "oracle2", "oracle3")
# Enterprise size (企业划型) as onboarding records it: the carmaker is large, its tier-1 supplier medium, the
# deeper tiers small and micro. Banks, the regulator and the oracles stay unclassified.
SIZE_CLASSES: dict[str, SizeClass] = {
    "core": SizeClass.LARGE,
    "t1": SizeClass.MEDIUM,
    "t2a": SizeClass.SMALL,
    "t2b": SizeClass.SMALL,
    "t2c": SizeClass.SMALL,
    "t3a": SizeClass.SMALL,
    "t3b": SizeClass.SMALL,
    "t4": SizeClass.MICRO,
    "t5": SizeClass.MICRO,
}
# Roles the registry records per participant; ENFORCEMENT and DEFAULT_ADMIN are plain access roles.
PARTICIPANT_ROLES = ("CORE_ENTERPRISE", "SUPPLIER", "BANK", "REGULATOR", "ORACLE")


@dataclass(frozen=True)
class Party:
    key: str
    name: str
    role: str
    tier: int | None
    signer: Signer
    uscc: str

    @property
    def address(self) -> str:
        return str(self.signer.address)

    @property
    def is_participant(self) -> bool:
        return self.role in PARTICIPANT_ROLES

    @property
    def legal_id_hash(self) -> str:
        return legal_id_hash(self.uscc)


def cast(mnemonic: str, rng: random.Random) -> dict[str, Party]:
    """Every party, keyed by handle; the codes are unique (a registry refuses a reused legal id)."""
    signers = local_accounts(mnemonic, len(PARTIES))
    codes: set[str] = set()
    parties: dict[str, Party] = {}
    for (key, name, role, tier), signer in zip(PARTIES, signers, strict=True):
        code = uscc(rng)
        while code in codes:
            code = uscc(rng)
        codes.add(code)
        parties[key] = Party(key, name, role, tier, signer, code)
    return parties
