"""Reconciliation against the chain: clean after a full life cycle, loud on a corrupted row."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from ledger.indexer.models import Event, Obligation, Redemption, Token
from ledger.indexer.reconcile import reconcile
from ledger.indexer.source import RpcSource
from tests.ledger.indexer.helpers import make_indexer
from tests.ledger.indexer.world import DAY, World

pytestmark = pytest.mark.chain


def _settle_and_redeem(world: World) -> None:
    """Repay in full, pass maturity, and redeem two pieces (burning them)."""
    world.send("core", "RepaymentDesk", "deposit", 1, 700_000)
    world.chain.increase_time(31 * DAY)
    world.chain.mine()
    root = int(world.call("ReceivableToken", "slotTerms", 1)[2])
    world.send("s1", "RepaymentDesk", "redeem", root)
    world.send("bank", "RepaymentDesk", "redeem", root + 2)


def test_reconcile_is_clean_after_a_full_life_cycle(chain: World, db: Engine) -> None:
    _settle_and_redeem(chain)
    indexer = make_indexer(chain, db)
    indexer.sync()
    source = RpcSource(chain.chain.url)
    assert reconcile(db, source, chain.deployment) == []
    with Session(db) as s:
        obligation = s.exec(select(Obligation)).one()
        assert (obligation.state, obligation.paid, obligation.paid_out) == ("repaid", 1_000_000, 800_000)
        assert (obligation.supply, obligation.redeemed_value) == (200_000, 800_000)
        assert len(s.exec(select(Redemption)).all()) == 2
        assert sum(1 for t in s.exec(select(Token)).all() if t.burned) == 2


def test_reconcile_finds_a_corrupted_row(chain: World, db: Engine) -> None:
    make_indexer(chain, db).sync()
    source = RpcSource(chain.chain.url)
    assert reconcile(db, source, chain.deployment) == []
    with Session(db) as s, s.begin():
        first = s.exec(select(Token).order_by(Token.token_id)).first()
        assert first is not None
        victim, value = first.token_id, first.value
        s.exec(update(Token).where(Token.token_id == victim).values(value=value + 100))  # type: ignore[call-overload]
    found = reconcile(db, source, chain.deployment)
    kinds = {(m.kind, m.key) for m in found}
    assert ("token.value", f"token {victim}") in kinds
    assert ("slot.sum_of_token_values", "slot 1") in kinds


def test_burn_is_projected_from_slot_changed_and_keeps_the_slot(chain: World, db: Engine) -> None:
    """A redeem emits `SlotChanged(id, slot, 0)` (EIP-3525's burn); the indexer marks the piece burned from
    it and keeps the slot the piece belonged to, so its lineage still answers per obligation."""
    _settle_and_redeem(chain)
    make_indexer(chain, db).sync()
    root = int(chain.call("ReceivableToken", "slotTerms", 1)[2])
    with Session(db) as s:
        left = [
            (int(e.args["_tokenId"]), int(e.args["_oldSlot"]))
            for e in s.exec(select(Event).where(col(Event.name) == "SlotChanged")).all()
            if int(e.args["_newSlot"]) == 0
        ]
        assert sorted(left) == [(root, 1), (root + 2, 1)]
        for token_id in (root, root + 2):
            token = s.get(Token, token_id)
            assert token is not None
            assert (token.burned, token.slot) == (True, 1)
            assert token.burned_block is not None
