"""The indexer on the real deployment: `deploy_system`'s manifest, a multi-tier flow driven through
`TierchainClient`, and the indexed views checked against the client's own reads of the chain.

Also: an indexer stopped half-way and restarted on the same database ends with exactly the tables a
one-shot sync writes.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from client_world import World, build_world
from sqlmodel import Session

from ledger.client import DayCount, TierchainClient
from ledger.compile import load_abis
from ledger.config import NetworkConfig, Settings
from ledger.deploy import Deployment
from ledger.indexer import Indexer, reconcile, run_indexer
from ledger.indexer.db import make_engine, upgrade
from ledger.indexer.manifest import load_manifest
from ledger.indexer.queries import exposure_by_tier, financing_book, holders, lineage
from ledger.indexer.source import RpcSource
from ledger.keys import Signer
from ledger.localchain import LocalChain
from tests.conftest import PROJECT_ROOT
from tests.ledger.indexer.helpers import dump

pytestmark = pytest.mark.chain

FACE = 1_000_000_00


@pytest.fixture
def world(tierchain_client: TierchainClient, clean_chain: LocalChain, actors: dict[str, Signer]) -> World:
    return build_world(tierchain_client, clean_chain, actors)


@pytest.fixture
def index_settings(session_dir: Path, tmp_path: Path, tierchain_deployment: Deployment) -> Settings:
    """Settings whose data dir holds the manifest `deploy_system` wrote for the session deployment."""
    return Settings(
        project_root=PROJECT_ROOT,
        data_dir=session_dir / "tierchain-deploy",
        build_dir=PROJECT_ROOT / "build",
        database_url=f"sqlite:///{tmp_path / 'index.sqlite'}",
    )


def _flow(world: World) -> dict[str, int]:
    """Issue, three tiers of splits, a financing, freeze and unfreeze, maturity, repayment, redemption."""
    c, a = world.client, world.a
    issued, terms = world.issue(FACE, days=60)
    root = issued.token_id
    t2 = c.split(a["tier1"], root, a["tier2"].address, 400_000_00).token_id
    t3 = c.split(a["tier2"], t2, a["tier3"].address, 150_000_00).token_id
    t4 = c.split(a["tier3"], t3, a["tier2"].address, 50_000_00).token_id
    offer = c.make_offer(a["bank"], t3, 60_000_00, 450, DayCount.ACT_360, world.now + 7 * 86_400)
    financed = c.accept_offer(a["tier3"], offer.offer_id)
    c.make_offer(a["bank"], t2, 10_000_00, 500, DayCount.ACT_365F, world.now + 86_400)  # left open
    c.freeze(a["regulator"], t2, 3)
    c.unfreeze(a["regulator"], t2, 4)
    world.warp_to(terms.maturity)
    c.deposit(a["core"], issued.slot, FACE)
    c.redeem(a["bank"], financed.financed_token_id)
    c.redeem(a["tier3"], t3)
    return {"slot": issued.slot, "root": root, "t2": t2, "t3": t3, "deepest": t4, "offer": offer.offer_id,
            "financed": financed.financed_token_id, "price": financed.price}  # fmt: skip


def test_indexed_views_match_the_client_and_reconcile(
    world: World, index_settings: Settings, local_network: NetworkConfig
) -> None:
    c, a = world.client, world.a
    ids = _flow(world)
    stats = run_indexer(index_settings, local_network, once=True)
    assert stats.cursor == c.w3.eth.block_number and stats.events > 0

    deployment = load_manifest(index_settings, local_network.name)
    assert deployment.address("ReceivableToken") == c.token.address.lower()
    assert index_settings.database_url is not None
    engine = make_engine(index_settings.database_url)
    source = RpcSource(local_network.rpc_urls)
    try:
        assert reconcile(engine, source, deployment) == []
        with Session(engine) as session:
            # Lineage: the deepest piece (tier 3 → tier 2 again) back to the root, as the contract says.
            tree = lineage(session, ids["deepest"])
            assert tree is not None
            assert [t.token_id for t in tree.ancestors] == list(c.lineage(ids["deepest"])[1:])
            assert tree.token.depth == c.depth(ids["deepest"]) == 3
            root_tree = lineage(session, ids["root"])
            assert root_tree is not None
            assert {ids["t2"], ids["t3"], ids["deepest"], ids["financed"]} <= {
                t.token_id for t in root_tree.descendants
            }

            # Holders: every live piece with the owner and value the token contract reports.
            holder_list = holders(session, ids["slot"])
            assert holder_list is not None
            live = [t for p in holder_list.holders for t in p.tokens]
            assert sorted(live) == sorted(t for t in live if c.exists(t))
            by_owner: dict[str, int] = defaultdict(int)
            for token in live:
                by_owner[c.owner_of(token).lower()] += c.balance_of(token)
            assert {p.owner: p.value for p in holder_list.holders} == dict(by_owner)
            assert ids["t3"] not in live and ids["financed"] not in live, "redeemed pieces are burned"

            # Financing book: the accepted offer at the contract's price, the open one still open.
            book = {e.offer_id: e for e in financing_book(session, a["bank"].address)}
            accepted = book[ids["offer"]]
            assert accepted.status == "financed" and accepted.price == ids["price"]
            assert accepted.financed_token_id == ids["financed"] and accepted.redeemed is True
            assert [e.status for e in book.values()].count("open") == 1

            # Exposure per tier: live value by depth, as the chain's balances and depths add up.
            expected: dict[int, int] = defaultdict(int)
            for token in live:
                expected[c.depth(token)] += c.balance_of(token)
            tiers = exposure_by_tier(session, ids["slot"])
            assert {t.depth: t.value for t in tiers} == dict(expected)
            assert sum(t.value for t in tiers) == c.slot_terms(ids["slot"]).supply
    finally:
        source.close()
        engine.dispose()


def test_restart_half_way_matches_a_one_shot_sync(
    world: World, index_settings: Settings, local_network: NetworkConfig, tmp_path: Path
) -> None:
    _flow(world)
    deployment = load_manifest(index_settings, local_network.name)
    abis = load_abis(index_settings.build_dir)
    head = world.client.w3.eth.block_number

    def indexer(engine_url: str) -> Indexer:
        engine = make_engine(engine_url)
        upgrade(engine)
        return Indexer(engine, RpcSource(local_network.rpc_urls), deployment, abis, max_reorg_depth=0,
                       chunk_size=7)  # fmt: skip

    one_shot = indexer(f"sqlite:///{tmp_path / 'one-shot.sqlite'}")
    one_shot.sync()

    url = f"sqlite:///{tmp_path / 'restarted.sqlite'}"
    first = indexer(url)
    middle = (deployment.start_block + head) // 2
    assert first.sync(target=middle).cursor == middle
    first.engine.dispose()
    second = indexer(url)  # a new process, as far as the indexer can tell: only the database is shared
    assert second.cursor().block_number == middle
    assert second.sync().cursor == head

    assert dump(second.engine) == dump(one_shot.engine)
    for engine in (one_shot.engine, second.engine):
        engine.dispose()
