"""A populated Tierchain for client tests: every party registered, cash minted, helpers to issue."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from eth_utils.crypto import keccak

from ledger.client import Attestation, DocumentKind, Issued, Terms, TierchainClient
from ledger.keys import Signer
from ledger.localchain import LocalChain

DAY = 86_400
CASH = 100_000_000_00  # CNY 100 million in fen, for the obligor and the bank each

PARTICIPANT_ROLES = {
    "oracle1": ["ORACLE"],
    "oracle2": ["ORACLE"],
    "oracle3": ["ORACLE"],
    "core": ["CORE_ENTERPRISE"],
    "tier1": ["SUPPLIER"],
    "tier2": ["SUPPLIER"],
    "tier3": ["SUPPLIER"],
    "bank": ["BANK"],
    "regulator": ["REGULATOR"],
}


@dataclass
class World:
    client: TierchainClient
    chain: LocalChain
    a: dict[str, Signer]
    _nonces: count[int] = field(default_factory=lambda: count(1))

    @property
    def now(self) -> int:
        return int(self.client.w3.eth.get_block("latest")["timestamp"])

    def warp_to(self, timestamp: int) -> None:
        self.chain.increase_time(max(0, timestamp - self.now))
        self.chain.mine()

    def invoice(
        self, amount: int, *, seller: str = "tier1", buyer: str = "core", label: str | None = None
    ) -> Attestation:
        nonce = next(self._nonces)
        return Attestation(
            fingerprint=keccak(text=label or f"invoice-{nonce}"),
            kind=DocumentKind.INVOICE,
            seller=self.a[seller].address,
            buyer=self.a[buyer].address,
            amount=amount,
            currency="CNY",
            issue_date=self.now - DAY,
            due_date=self.now + 90 * DAY,
            nonce=nonce,
            deadline=self.now + DAY,
        )

    def attest(self, attestation: Attestation) -> None:
        self.client.sign_and_attest(self.a["oracle1"], attestation, [self.a["oracle1"], self.a["oracle2"]])

    def terms(self, face: int, documents: tuple[bytes, ...], *, days: int = 90, min_unit: int = 100) -> Terms:
        return Terms(
            supplier=self.a["tier1"].address,
            obligor=self.a["core"].address,
            currency="CNY",
            face=face,
            maturity=self.now + days * DAY,
            min_unit=min_unit,
            documents=documents,
        )

    def issue(self, face: int, *, days: int = 90, min_unit: int = 100) -> tuple[Issued, Terms]:
        """Attest an invoice for `face`, propose and confirm it: the root token goes to tier1."""
        invoice = self.invoice(face)
        self.attest(invoice)
        terms = self.terms(face, (invoice.fingerprint,), days=days, min_unit=min_unit)
        proposed = self.client.propose(self.a["tier1"], terms)
        return self.client.confirm(self.a["core"], proposed.proposal_id, terms), terms


def build_world(client: TierchainClient, chain: LocalChain, actors: dict[str, Signer]) -> World:
    admin = actors["admin"]
    for i, (name, roles) in enumerate(PARTICIPANT_ROLES.items()):
        client.register_participant(admin, actors[name].address, keccak(text=f"USCC-{i:04d}-{name}"), roles)
    client.grant_role(admin, actors["court"].address, "ENFORCEMENT")
    client.mint(admin, "CNY", actors["core"].address, CASH)
    client.mint(admin, "CNY", actors["bank"].address, CASH)
    return World(client, chain, actors)
