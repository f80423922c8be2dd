"""Reorgs built on anvil with evm_snapshot / evm_revert: the indexer must end where a fresh replay of
the canonical chain ends, and must refuse a reorg deeper than its confirmation depth."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from ledger.indexer.errors import DeepReorgError
from tests.ledger.indexer.helpers import dump, make_indexer
from tests.ledger.indexer.world import DbFactory, World

pytestmark = pytest.mark.chain


def _root(world: World) -> int:
    return int(world.call("ReceivableToken", "slotTerms", 1)[2])


def _branch_a(world: World) -> None:
    root = _root(world)
    world.send("s1", "ReceivableToken", "transferFrom", root, world.addr("s2"), 10_000)
    world.send("regulator", "ReceivableToken", "freeze", root, 3)


def _branch_b(world: World, extra_blocks: int) -> None:
    root = _root(world)
    world.send("s1", "ReceivableToken", "transferFrom", root, world.addr("bank"), 20_000)
    world.send("core", "RepaymentDesk", "deposit", 1, 100_000)
    if extra_blocks:
        world.chain.mine(extra_blocks)


@pytest.mark.parametrize("extra_blocks", [0, 3], ids=["same-height", "longer"])
def test_reorg_matches_fresh_replay(chain: World, make_db: DbFactory, extra_blocks: int) -> None:
    db = make_db()
    indexer = make_indexer(chain, db, max_reorg_depth=5, chunk_size=3)
    indexer.sync()
    fork = chain.chain.snapshot()
    _branch_a(chain)
    indexer.sync()
    orphaned = dump(db)
    chain.revert(fork)
    _branch_b(chain, extra_blocks)

    stats = indexer.sync()

    assert stats.reorgs == 1 and stats.reorg_depths == [2]
    assert stats.cursor == chain.w3.eth.block_number
    fresh = make_db()
    make_indexer(chain, fresh).sync()
    assert dump(db) == dump(fresh)
    assert dump(db) != orphaned


def test_deep_reorg_stops_loudly(chain: World, db: Engine) -> None:
    indexer = make_indexer(chain, db, max_reorg_depth=1)
    indexer.sync()
    fork = chain.chain.snapshot()
    _branch_a(chain)
    indexer.sync()
    before = dump(db)
    chain.revert(fork)
    _branch_b(chain, 1)

    with pytest.raises(DeepReorgError, match="depth 2") as caught:
        indexer.sync()

    assert caught.value.depth == 2 and caught.value.max_depth == 1
    assert dump(db) == before  # nothing was touched
    # the stop is recorded on the cursor, for every process reading this database
    halted = indexer.cursor().halted
    assert halted is not None and "depth 2" in halted
    with pytest.raises(DeepReorgError):
        indexer.sync()  # it stays stopped
    assert indexer.cursor().halted == halted

    # an indexer allowed deeper reorgs repairs it; its successful sync clears the stop
    make_indexer(chain, db, max_reorg_depth=5).sync()
    assert indexer.cursor().halted is None
