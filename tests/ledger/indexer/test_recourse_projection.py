"""Recourse claims (追索) in the index: opened, settled in parts, waived — rows match the chain, and the
queries the API reads answer them."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from ledger.indexer import queries
from ledger.indexer.models import RecourseClaim
from ledger.regulatory.recourse import recourse_exposure
from tests.ledger.indexer.helpers import make_indexer
from tests.ledger.indexer.world import DAY, World

pytestmark = pytest.mark.chain

STATES = {1: "open", 2: "partly_settled", 3: "settled", 4: "waived"}


def test_recourse_claims_follow_the_chain(chain: World, db: Engine) -> None:
    send, addr = chain.send, chain.addr
    slot = chain.issue(1_000_000, maturity_days=10)
    root = chain.last_token()
    expiry = chain.now() + DAY
    first = int(chain.call("FinancingDesk", "lastOfferId")) + 1
    send("bank", "FinancingDesk", "makeOffer", root, 400_000, 500, 0, True, expiry)
    send("s1", "FinancingDesk", "accept", first)
    send("bank", "FinancingDesk", "makeOffer", root, 200_000, 500, 0, True, expiry)
    send("s1", "FinancingDesk", "accept", first + 1)
    send("core", "RepaymentDesk", "deposit", slot, 250_000)
    chain.chain.increase_time(10 * DAY + 7 * DAY)
    chain.chain.mine()
    send("s2", "RepaymentDesk", "declareDefault", slot)
    send("bank", "FinancingDesk", "openRecourse", first)
    send("bank", "FinancingDesk", "openRecourse", first + 1)
    send("s1", "SettlementToken", "approve", chain.contracts["FinancingDesk"].address, 2**255)
    send("s1", "FinancingDesk", "settleRecourse", first, 100_000)
    send("s1", "FinancingDesk", "settleRecourse", first, 200_000)  # the rest
    send("s1", "FinancingDesk", "settleRecourse", first + 1, 50_000)
    send("bank", "FinancingDesk", "waiveRecourse", first + 1)

    make_indexer(chain, db, chunk_size=5).sync()
    with Session(db) as s:
        rows = {c.offer_id: c for c in s.exec(select(RecourseClaim)).all()}
        assert set(rows) == {first, first + 1}
        for offer_id, row in rows.items():
            state, bank, seller, on_slot, _, shortfall, settled, _ = chain.call(
                "FinancingDesk", "recourseClaim", offer_id
            )
            assert (row.state, row.bank, row.seller, row.slot, row.shortfall, row.settled) == (
                STATES[state], bank.lower(), seller.lower(), on_slot, shortfall, settled,
            )  # fmt: skip
        done = rows[first]
        assert (done.shortfall, done.settled, done.state) == (300_000, 300_000, "settled")
        assert (rows[first + 1].shortfall, rows[first + 1].waived) == (150_000, 100_000)

        mine = queries.recourse_claims(s, seller=addr("s1"))
        assert [(c.offer_id, c.remaining, c.obligor) for c in mine] == [
            (first, 0, addr("core").lower()),
            (first + 1, 0, addr("core").lower()),
        ]
        assert queries.recourse_claims(s, party=addr("s2")) == []
        assert recourse_exposure(s).claims == []
        book = {b.offer_id: b for b in queries.financing_book(s, addr("bank"))}
        assert (book[first].recourse_state, book[first + 1].recourse_state) == ("settled", "waived")
