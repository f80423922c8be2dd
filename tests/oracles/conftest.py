"""Shared fixtures for the oracle tests: a test PKI, a participant directory and document factories.

The PKI comes from ``scripts/gen_documents.py`` so the tests exercise the same certificates
the demo data set uses; it is built once per session because key generation dominates setup.
"""

import importlib.util
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from eth_account import Account

from oracles.checks import CORE_ENTERPRISE, SUPPLIER, Participant
from oracles.documents import Invoice
from oracles.memory import InMemoryDirectory, InMemoryFingerprintLedger
from oracles.signatures import SignedDocument, sign_document
from oracles.trust import TrustStore

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
SELLER = "91310000MA1FL0XX1X"
BUYER = "91110000100000000X"
TIER2 = "914403007261824992"
BANK = "91100000100003962T"
SUSPENDED = "91320500MA1MXXXX2K"


@pytest.fixture(scope="session")
def gen() -> ModuleType:
    """The document generator script, imported by path (scripts/ is not a package)."""
    path = Path(__file__).resolve().parents[2] / "scripts" / "gen_documents.py"
    spec = importlib.util.spec_from_file_location("gen_documents", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_documents"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def pki(gen: ModuleType) -> Any:
    return gen.build_pki(random.Random(11), NOW)


@pytest.fixture(scope="session")
def trust(pki: Any) -> TrustStore:
    return TrustStore([pki.root], [pki.crl])


@dataclass
class Parties:
    """Registered tax ids of the test world and their addresses."""

    directory: InMemoryDirectory
    addresses: dict[str, str]
    seller: str = SELLER
    buyer: str = BUYER
    tier2: str = TIER2
    bank: str = BANK
    suspended: str = SUSPENDED


@pytest.fixture
def parties() -> Parties:
    directory = InMemoryDirectory()
    addresses: dict[str, str] = {}
    for tax_id, roles, active in (
        (SELLER, {SUPPLIER}, True),
        (BUYER, {CORE_ENTERPRISE}, True),
        (TIER2, {SUPPLIER}, True),
        (BANK, {"BANK"}, True),
        (SUSPENDED, {SUPPLIER}, False),
    ):
        address = Account.create().address
        addresses[tax_id] = address
        directory.register(tax_id, Participant(address=address, roles=frozenset(roles), active=active))
    return Parties(directory=directory, addresses=addresses)


@pytest.fixture
def ledger() -> InMemoryFingerprintLedger:
    return InMemoryFingerprintLedger()


def _invoice_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "kind": 1,
        "currency": "CNY",
        "invoice_code": "044001900111",
        "invoice_number": "00012345",
        "issue_date": date(2026, 3, 1),
        "seller_tax_id": SELLER,
        "buyer_tax_id": BUYER,
        "amount_without_tax": 100_000_00,
        "tax_amount": 13_000_00,
        "total_with_tax": 113_000_00,
        "line_items_hash": "0x" + "ab" * 32,
        "due_date": date(2026, 6, 1),
    }
    fields.update(overrides)
    return fields


@pytest.fixture(scope="session")
def now() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def invoice_fields() -> Callable[..., dict[str, Any]]:
    """Raw fields of the reference invoice (seller -> core-enterprise buyer), with overrides."""
    return _invoice_fields


@pytest.fixture(scope="session")
def make_invoice() -> Callable[..., Invoice]:
    return lambda **overrides: Invoice.model_validate(_invoice_fields(**overrides))


@pytest.fixture
def sign(pki: Any) -> Callable[..., SignedDocument]:
    def _sign(document: Any, issuer: str = "einvoice") -> SignedDocument:
        key, chain = pki.issuers[issuer]
        return sign_document(document, key, chain)

    return _sign
