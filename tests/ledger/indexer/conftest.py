"""Fixtures for the indexer: a private anvil with the contracts deployed and a few operations done,
and a fresh database per test on SQLite and on PostgreSQL.

The contracts are deployed here with `TransactionManager.deploy` (not `ledger.deploy`), so these tests
depend only on the compiled artifacts. The chain is this package's own: the tests travel in time and
build competing branches, which must not disturb other test modules.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eth_utils.crypto import keccak
from sqlalchemy import Engine, text
from web3.contract import Contract

from ledger.compile import CompileResult, compile_contracts
from ledger.config import AnvilConfig, Settings, parse_network
from ledger.indexer.db import make_engine, upgrade
from ledger.indexer.manifest import IndexedDeployment
from ledger.journal import TxJournal
from ledger.keys import local_accounts
from ledger.localchain import LocalChain
from ledger.rpc import make_web3
from ledger.tx import TransactionManager
from tests.ledger.indexer.world import DAY, MNEMONIC, PG_URL, PROJECT_ROOT, DbFactory, World, populate
from tests.support.policy import MECHANICS_POLICY


def _role(name: str) -> bytes:
    return keccak(text=name)


@pytest.fixture(scope="session")
def build(settings: Settings) -> CompileResult:
    return compile_contracts(PROJECT_ROOT, settings.build_dir)


@pytest.fixture(scope="session")
def indexer_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalChain]:
    root = tmp_path_factory.mktemp("indexer-chain")
    config = AnvilConfig(mnemonic=MNEMONIC, state_file=root / "anvil-state.json", accounts=10)
    with LocalChain(config, PROJECT_ROOT, root / "data") as chain:
        yield chain


@pytest.fixture(scope="session")
def world(indexer_chain: LocalChain, build: CompileResult, tmp_path_factory: pytest.TempPathFactory) -> World:
    network = parse_network(PROJECT_ROOT / "chain_config" / "local.toml", PROJECT_ROOT)
    network = network.model_copy(
        update={
            "rpc_urls": [indexer_chain.url],
            "receipt_timeout_seconds": 20.0,
            "poll_interval_seconds": 0.02,
        }
    )
    names = ["admin", "core", "s1", "s2", "bank", "oracle", "regulator", "enforcer"]
    actors = dict(zip(names, local_accounts(MNEMONIC, len(names)), strict=True))
    w3 = make_web3(indexer_chain.url)
    journal = TxJournal(tmp_path_factory.mktemp("journal") / "journal.sqlite")
    tm = TransactionManager(w3, network, actors["admin"], journal)
    arts = build.artifacts
    admin = actors["admin"].address

    def deploy(name: str, *args: Any) -> Contract:
        receipt = tm.deploy(arts[name], *args)
        return w3.eth.contract(address=receipt["contractAddress"], abi=arts[name].abi)

    def proxied(name: str, immutables: list[Any], initializer: list[Any]) -> Contract:
        """The implementation behind an ERC1967Proxy that initializes it (what `ledger.deploy` does)."""
        implementation = deploy(name, *immutables)
        init = implementation.encode_abi("initialize", args=initializer)
        proxy = deploy("ERC1967Proxy", implementation.address, init)
        return w3.eth.contract(address=proxy.address, abi=arts[name].abi)

    deploy_block = int(w3.eth.block_number) + 1
    registry = proxied("ParticipantRegistry", [], [admin])
    for role in ("ONBOARDING", "POLICY"):  # the admin key onboards and sets policy itself here
        tm.send({"to": registry.address, "data": registry.encode_abi("grantRole", args=[_role(role), admin])})
    # The mechanics policy (tests/support/policy.py): these tests move pieces between suppliers freely.
    policy = MECHANICS_POLICY.as_abi()
    tm.send(
        {"to": registry.address, "data": registry.encode_abi("setPolicy", args=[policy, "indexer tests"])}
    )
    trades = proxied("TradeRegistry", [registry.address], [1])
    extension = deploy("ReceivableTokenExtension", registry.address, 2)
    token = proxied(
        "ReceivableToken", [registry.address, 2, extension.address], ["Tierchain Receivable", "TRCV"]
    )
    issuance = proxied("IssuanceDesk", [registry.address, trades.address, token.address], [])
    repayment = proxied("RepaymentDesk", [registry.address, token.address, 7 * DAY], [])
    financing = proxied("FinancingDesk", [registry.address, token.address, repayment.address], [])
    settlement = deploy("SettlementToken", "Digital CNY deposit", "dCNY", 2, admin)
    contracts = {
        "ParticipantRegistry": registry,
        "TradeRegistry": trades,
        "ReceivableToken": token,
        "IssuanceDesk": issuance,
        "FinancingDesk": financing,
        "RepaymentDesk": repayment,
        "SettlementToken": settlement,
    }
    deployment = IndexedDeployment.model_validate(
        {
            "network": "local",
            "chain_id": network.chain_id,
            "deploy_block": deploy_block,
            "contracts": {n: {"address": c.address} for n, c in contracts.items()},
            "currencies": {"CNY": settlement.address},
        }
    )
    abis = {name: a.abi for name, a in arts.items()}
    world = World(indexer_chain, w3, tm, network, contracts, actors, deployment, abis)
    populate(world)
    return world


@pytest.fixture
def chain(world: World) -> Iterator[World]:
    """The world, rolled back after the test."""
    snapshot = world.chain.snapshot()
    yield world
    world.revert(snapshot)


# ---------------------------------------------------------------- databases


def _pg_reachable() -> str | None:
    try:
        with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL unreachable at {PG_URL}: {exc}"


@pytest.fixture(scope="session")
def pg_unreachable() -> str | None:
    return _pg_reachable()


@pytest.fixture(params=["sqlite", "postgresql"])
def make_db(
    request: pytest.FixtureRequest, tmp_path: Path, pg_unreachable: str | None
) -> Iterator[DbFactory]:
    """Makes fresh, migrated databases of the parametrized kind; each PG one in its own schema."""
    kind: str = request.param
    if kind == "postgresql" and pg_unreachable:
        pytest.skip(pg_unreachable)
    engines: list[Engine] = []
    schemas: list[str] = []

    def factory() -> Engine:
        if kind == "sqlite":
            engine = make_engine(f"sqlite:///{tmp_path / f'index-{len(engines)}.sqlite'}")
        else:
            schema = f"t_{uuid.uuid4().hex[:16]}"
            admin = make_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            admin.dispose()
            schemas.append(schema)
            engine = make_engine(PG_URL, schema=schema)
        upgrade(engine)
        engines.append(engine)
        return engine

    yield factory
    for engine in engines:
        engine.dispose()
    if schemas:
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db(make_db: DbFactory) -> Engine:
    return make_db()
