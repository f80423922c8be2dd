"""The indexer tests' world: the deployed system, its actors, and the scenario driven on it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak
from sqlalchemy import Engine
from web3 import Web3
from web3.contract import Contract

from ledger.config import NetworkConfig
from ledger.indexer.manifest import IndexedDeployment
from ledger.keys import Signer
from ledger.localchain import LocalChain
from ledger.tx import TransactionManager

PROJECT_ROOT = Path(__file__).resolve().parents[3]
MNEMONIC = "test test test test test test test test test test test junk"
PG_URL = os.environ.get("TIERCHAIN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DAY = 86_400


def _role(name: str) -> bytes:
    return keccak(text=name)


@dataclass
class World:
    """The deployed system, its actors and helpers to drive it."""

    chain: LocalChain
    w3: Web3
    tm: TransactionManager
    network: NetworkConfig
    contracts: dict[str, Contract]
    actors: dict[str, Signer]
    deployment: IndexedDeployment
    abis: dict[str, list[dict[str, Any]]]
    nonce: list[int] = field(default_factory=lambda: [100])

    def send(self, who: str, contract: str, fn: str, *args: Any) -> Any:
        c = self.contracts[contract]
        tx = {"to": c.address, "data": c.encode_abi(fn, args=list(args))}
        return self.tm.send(tx, signer=self.actors[who])

    def revert(self, snapshot: str) -> None:
        """Roll the chain back and forget the nonces the transaction manager had counted past it."""
        assert self.chain.revert(snapshot)
        for signer in self.actors.values():
            self.tm.nonces.resync(signer.address)

    def call(self, contract: str, fn: str, *args: Any) -> Any:
        return getattr(self.contracts[contract].functions, fn)(*args).call()

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def addr(self, who: str) -> str:
        return str(self.actors[who].address)

    def attest(self, seller: str, buyer: str, amount: int) -> bytes:
        """One invoice attested by the (single) oracle; returns its fingerprint."""
        self.nonce[0] += 1
        fp = keccak(text=f"invoice-{self.nonce[0]}")
        now = self.now()
        a = (fp, 1, self.addr(seller), self.addr(buyer), amount, b"CNY", now - DAY, now + 60 * DAY,
             self.nonce[0], now + 3600)  # fmt: skip
        digest = self.call("TradeRegistry", "attestationDigest", a)
        signature = self.actors["oracle"].unsafe_sign_hash(digest).signature
        self.send("admin", "TradeRegistry", "attest", a, [bytes(signature)])
        return fp

    def issue(self, face: int, maturity_days: int = 30, min_unit: int = 100) -> int:
        """s1 proposes an obligation on core, core confirms; returns the slot."""
        fp = self.attest("s1", "core", face)
        terms = (
            self.addr("s1"),
            self.addr("core"),
            b"CNY",
            face,
            self.now() + maturity_days * DAY,
            min_unit,
            [fp],
            0,  # no long-tenor justification
            b"\x00" * 32,  # no agreed contract term
        )
        self.send("s1", "IssuanceDesk", "propose", terms)
        proposal = self.call("IssuanceDesk", "lastProposalId")
        self.send("core", "IssuanceDesk", "confirm", proposal, terms)
        return int(self.call("ReceivableToken", "lastSlot"))

    def last_token(self) -> int:
        return int(self.call("ReceivableToken", "lastTokenId"))


def populate(world: World) -> None:
    """Roles, one obligation split over three tiers, a financing, a freeze and a partial repayment."""
    send, addr = world.send, world.addr
    desks = [world.contracts[d].address for d in ("IssuanceDesk", "FinancingDesk", "RepaymentDesk")]
    send("admin", "ParticipantRegistry", "bindDesks", desks)
    send("admin", "ParticipantRegistry", "grantRole", _role("ENFORCEMENT"), addr("enforcer"))
    for who, role in [("core", "CORE_ENTERPRISE"), ("s1", "SUPPLIER"), ("s2", "SUPPLIER"), ("bank", "BANK"),
                      ("oracle", "ORACLE"), ("regulator", "REGULATOR")]:  # fmt: skip
        send(
            "admin", "ParticipantRegistry", "register", addr(who), keccak(text=f"legal-{who}"), [_role(role)]
        )
    send("admin", "IssuanceDesk", "setCurrency", b"CNY", world.contracts["SettlementToken"].address)
    slot = world.issue(1_000_000)
    root = world.last_token()
    send("s1", "ReceivableToken", "splitBatch", root, [addr("s2"), addr("s2")], [200_000, 100_000])
    send("s2", "ReceivableToken", "transferFrom", root + 1, addr("s1"), 50_000)
    for who, spender in [("bank", "FinancingDesk"), ("core", "RepaymentDesk")]:
        send("admin", "SettlementToken", "mint", addr(who), 10_000_000)
        send(who, "SettlementToken", "approve", world.contracts[spender].address, 2**255)
    expiry = world.now() + DAY
    send("bank", "FinancingDesk", "makeOffer", root + 2, 100_000, 500, 0, False, expiry)
    send("s2", "FinancingDesk", "accept", 1)
    send("bank", "FinancingDesk", "makeOffer", root, 100_000, 400, 1, True, expiry)
    send("bank", "FinancingDesk", "cancelOffer", 2)
    send("regulator", "ReceivableToken", "freeze", root + 3, 7)
    send("regulator", "ReceivableToken", "unfreeze", root + 3, 8)
    send("core", "RepaymentDesk", "deposit", slot, 300_000)


DbFactory = Callable[[], Engine]
