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


# --- A deployed TradeRegistry with three oracle nodes, for the node and aggregator tests ---------


@dataclass
class OracleWorld:
    """ParticipantRegistry + TradeRegistry on anvil, parties and three oracles registered."""

    tx: Any
    registry: Any
    trade: Any
    abis: dict[str, list[dict[str, Any]]]
    oracles: list[Any]
    seller: str
    buyer: str
    journal_path: Path
    threshold: int = 2

    def directory(self) -> Any:
        from oracles.node import ChainDirectory

        return ChainDirectory(self.tx.w3, self.registry.address, self.abis["ParticipantRegistry"])

    def ledger(self) -> Any:
        from oracles.node import ChainFingerprintLedger

        return ChainFingerprintLedger(self.tx.w3, self.trade.address, self.abis["TradeRegistry"])

    def domain(self) -> Any:
        from oracles.attestation import Eip712Domain

        return Eip712Domain(chain_id=self.tx.network.chain_id, verifying_contract=self.trade.address)

    def attested_events(self) -> list[Any]:
        return list(self.trade.events.DocumentAttested().get_logs(from_block=0))


def deploy_oracle_world(tx: Any, build_dir: Path, journal_path: Path, threshold: int = 2) -> OracleWorld:
    """Deploy the two registries and register the test parties and three oracle accounts."""
    from eth_utils.crypto import keccak

    from ledger.compile import load_artifact
    from oracles.normalize import legal_id_hash

    names = ("ParticipantRegistry", "TradeRegistry")
    artifacts = {name: load_artifact(build_dir, name) for name in names}
    proxy = load_artifact(build_dir, "ERC1967Proxy")
    admin = tx.signer.address

    def proxied(name: str, immutables: list[Any], initializer: list[Any]) -> Any:
        """The implementation behind an ERC1967Proxy that initializes it (what `ledger.deploy` does)."""
        implementation = tx.deploy(artifacts[name], *immutables)["contractAddress"]
        init = tx.w3.eth.contract(abi=artifacts[name].abi).encode_abi("initialize", args=initializer)
        address = tx.deploy(proxy, implementation, init)["contractAddress"]
        return tx.w3.eth.contract(address=address, abi=artifacts[name].abi)

    registry = proxied("ParticipantRegistry", [], [admin])
    registry_address = registry.address
    # The admin key onboards here too (ONBOARDING), and administers ORACLE (DEFAULT_ADMIN_ROLE).
    tx.send(
        {
            "to": registry_address,
            "data": registry.encode_abi("grantRole", args=[keccak(text="ONBOARDING"), admin]),
        }
    )
    trade = proxied("TradeRegistry", [registry_address], [threshold])
    seller, buyer = Account.create().address, Account.create().address
    oracles = [Account.create() for _ in range(3)]
    entries = [
        (seller, bytes.fromhex(legal_id_hash(SELLER)[2:]), [keccak(text=SUPPLIER)]),
        (buyer, bytes.fromhex(legal_id_hash(BUYER)[2:]), [keccak(text=CORE_ENTERPRISE)]),
    ] + [(o.address, keccak(text=f"oracle-{i}"), [keccak(text="ORACLE")]) for i, o in enumerate(oracles)]
    for receipt_hash in tx.send_many(
        [{"to": registry_address, "data": registry.encode_abi("register", args=list(e))} for e in entries]
    ):
        assert tx.wait_for_receipt(receipt_hash)["status"] == 1
    return OracleWorld(
        tx=tx,
        registry=registry,
        trade=trade,
        abis={name: a.abi for name, a in artifacts.items()},
        oracles=oracles,
        seller=seller,
        buyer=buyer,
        journal_path=journal_path,
        threshold=threshold,
    )


@pytest.fixture(scope="session")
def system_build(settings: Any) -> Any:
    from ledger.compile import compile_contracts

    return compile_contracts(settings.project_root, settings.build_dir)


def _transaction_manager(url: str, network: Any, signer: Any, journal_path: Path, build: Any) -> Any:
    from ledger.errors import ErrorDecoder
    from ledger.journal import TxJournal
    from ledger.rpc import make_web3
    from ledger.tx import TransactionManager

    decoder = ErrorDecoder.from_artifacts({n: a.abi for n, a in build.artifacts.items()})
    return TransactionManager(make_web3(url), network, signer, TxJournal(journal_path), decoder)


@pytest.fixture
def make_tx(clean_chain: Any, local_network: Any, accounts: list[Any], system_build: Any) -> Any:
    """A fresh TransactionManager (a restarted process) over a given journal file."""
    return lambda journal_path: _transaction_manager(
        clean_chain.url, local_network, accounts[0], journal_path, system_build
    )


@pytest.fixture
def world(make_tx: Any, settings: Any, system_build: Any, tmp_path: Path) -> OracleWorld:
    journal = tmp_path / "journal.sqlite"
    return deploy_oracle_world(make_tx(journal), settings.build_dir, journal)


@pytest.fixture
def start_node(world: OracleWorld, trust: TrustStore, tmp_path: Path) -> Any:
    """Start oracle node ``index`` (optionally a subclass) serving HTTP on a free port."""
    from ledger.localchain import free_port
    from oracles.node import NodeServer, OracleNode
    from oracles.store import NodeStore

    servers: list[Any] = []

    def _start(index: int, node_class: type = OracleNode) -> Any:
        node = node_class(
            world.oracles[index],
            world.domain(),
            trust,
            world.directory(),
            world.ledger(),
            NodeStore(tmp_path / f"node{index}.sqlite"),
            clock=lambda: NOW,
        )
        server = NodeServer(node, free_port()).start()
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.stop()


@pytest.fixture
def make_aggregator(world: OracleWorld, make_tx: Any, tmp_path: Path) -> Any:
    from oracles.aggregator import Aggregator
    from oracles.store import AggregatorStore

    def _make(nodes: list[str], **options: Any) -> Any:
        db = options.pop("db", tmp_path / "aggregator.sqlite")
        return Aggregator(
            make_tx(world.journal_path),
            world.trade,
            world.directory(),
            world.ledger(),
            AggregatorStore(db),
            nodes,
            world.threshold,
            timeout=5.0,
            **options,
        )

    return _make


@pytest.fixture
def invoices(make_invoice: Callable[..., Invoice], sign: Callable[..., SignedDocument]) -> Any:
    """``n`` distinct signed invoices (seller -> buyer), numbered from ``first``."""
    return lambda n, first=1: [
        sign(make_invoice(invoice_number=f"{70_000_000 + first + i}")) for i in range(n)
    ]
