"""Ingestion against a real anvil: projections, idempotency, crash safety."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from ledger.indexer.models import Cursor, Document, Financing, Obligation, Participant, Proposal, Token
from ledger.indexer.project import EventRecord, Projector
from tests.ledger.indexer.helpers import dump, make_indexer
from tests.ledger.indexer.world import DbFactory, World

pytestmark = pytest.mark.chain


def test_projections_follow_the_chain(chain: World, db: Engine) -> None:
    stats = make_indexer(chain, db, chunk_size=7).sync()
    assert stats.cursor == chain.w3.eth.block_number
    assert stats.events > 40
    addr = chain.addr
    with Session(db) as s:
        tokens = {t.token_id: t for t in s.exec(select(Token).order_by(Token.token_id)).all()}
        root = min(tokens)
        assert [(t.token_id - root, t.parent_id, t.depth, t.value) for t in tokens.values()] == [
            (0, None, 0, 700_000),
            (1, root, 1, 150_000),
            (2, root, 1, 100_000),
            (3, root + 1, 2, 50_000),
        ]
        assert {t.root_id for t in tokens.values()} == {root}
        assert tokens[root + 2].owner == addr("bank").lower()
        assert tokens[root + 3].owner == addr("s1").lower() and not tokens[root + 3].frozen
        for token in tokens.values():
            assert token.value == chain.call("ReceivableToken", "balanceOf", token.token_id)
        (obligation,) = s.exec(select(Obligation)).all()
        assert (obligation.face, obligation.supply, obligation.paid, obligation.state) == (
            1_000_000, 1_000_000, 300_000, "outstanding",
        )  # fmt: skip
        assert obligation.currency_code == "CNY" and obligation.proposal_id == 1
        (document,) = s.exec(select(Document)).all()
        assert document.used_by_slot == obligation.slot and obligation.documents == [document.fingerprint]
        assert s.exec(select(Proposal)).one().status == "issued"
        offers = {f.offer_id: f for f in s.exec(select(Financing)).all()}
        assert offers[1].status == "financed" and offers[1].financed_token_id == root + 2
        assert offers[1].price is not None and offers[1].price + (offers[1].discount or 0) == 100_000
        assert offers[2].status == "cancelled" and offers[2].day_count == "ACT/365F" and offers[2].recourse
        bank = s.get(Participant, addr("bank").lower())
        assert bank is not None and bank.roles == ["BANK"] and bank.status == "active"
        desk = s.get(Participant, chain.contracts["IssuanceDesk"].address.lower())
        assert desk is not None and desk.roles == ["DESK"] and desk.status == "none"


def test_same_blocks_twice_is_a_no_op(chain: World, db: Engine) -> None:
    indexer = make_indexer(chain, db, chunk_size=5)
    indexer.sync()
    before = dump(db)
    start = indexer.deployment.start_block
    with Session(db) as s, s.begin():  # rewind the cursor: every block is offered again
        s.exec(update(Cursor).values(block_number=start - 1, block_hash=None))  # type: ignore[call-overload]
    stats = indexer.sync()
    assert stats.events == 0 and stats.ranges > 0
    assert dump(db) == before


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_crash_mid_range_loses_and_duplicates_nothing(
    chain: World, make_db: DbFactory, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    reference = make_db()
    make_indexer(chain, reference, chunk_size=4).sync()
    db = make_db()
    total = len(dump(reference)["events"])
    crash_at = random.Random(seed).randrange(1, total)
    applied = 0
    original = Projector.apply

    def crashing(self: Projector, event: EventRecord) -> None:
        nonlocal applied
        applied += 1
        if applied == crash_at:
            self.session.flush()  # rows of this range are really written before the crash
            raise RuntimeError("simulated crash")
        original(self, event)

    monkeypatch.setattr(Projector, "apply", crashing)
    indexer = make_indexer(chain, db, chunk_size=4)
    with pytest.raises(RuntimeError, match="simulated crash"):
        indexer.sync()
    monkeypatch.setattr(Projector, "apply", original)
    make_indexer(chain, db, chunk_size=4).sync()  # "restart": a new indexer resumes from the cursor
    assert dump(db) == dump(reference)


def test_database_of_another_deployment_is_refused(chain: World, db: Engine) -> None:
    make_indexer(chain, db).sync()
    other = chain.deployment.model_copy(update={"network": "elsewhere"})
    indexer = make_indexer(chain, db)
    indexer.key = other.key
    from ledger.indexer.errors import IndexerError

    with pytest.raises(IndexerError, match="this database indexes"):
        indexer.sync()
