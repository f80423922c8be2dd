"""Read-side queries on the indexed scenario, and their latency on a 10,000-piece obligation."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from ledger.indexer.queries import (
    exposure_by_bank,
    exposure_by_obligor,
    exposure_by_tier,
    financing_book,
    holders,
    holdings,
    lineage,
    maturity_calendar,
)
from tests.ledger.indexer.helpers import make_indexer
from tests.ledger.indexer.world import PG_URL, World
from tierchain.bench.indexer import bench_ingest


@pytest.mark.chain
def test_queries_answer_from_the_projections(chain: World, db: Engine) -> None:
    make_indexer(chain, db).sync()
    a = chain.addr
    root = int(chain.call("ReceivableToken", "slotTerms", 1)[2])
    with Session(db) as s:
        assert [h.token.token_id for h in holdings(s, a("s1"))] == [root, root + 3]
        tree = lineage(s, root + 3)
        assert tree is not None
        assert [t.token_id for t in tree.ancestors] == [root + 1, root]
        assert lineage(s, root) is not None
        assert [t.token_id for t in lineage(s, root).descendants] == [root + 1, root + 2, root + 3]  # type: ignore[union-attr]
        listing = holders(s, 1)
        assert listing is not None and listing.supply == 1_000_000
        assert [(h.owner, h.value) for h in listing.holders] == [
            (a("s1").lower(), 750_000), (a("s2").lower(), 150_000), (a("bank").lower(), 100_000),
        ]  # fmt: skip
        (obligor,) = exposure_by_obligor(s)
        assert (obligor.obligor, obligor.face, obligor.outstanding) == (a("core").lower(), 1_000_000, 700_000)
        (bank,) = exposure_by_bank(s)
        assert (bank.held_value, bank.financed_value, bank.by_obligor) == (
            100_000, 100_000, {a("core").lower(): 100_000},
        )  # fmt: skip
        assert [(t.depth, t.value) for t in exposure_by_tier(s)] == [(0, 700_000), (1, 250_000), (2, 50_000)]
        (entry,) = maturity_calendar(s)
        assert entry.outstanding == 700_000
        book = financing_book(s, a("bank"))
        assert [(b.offer_id, b.status, b.current_value) for b in book] == [
            (1, "financed", 100_000), (2, "cancelled", None),
        ]  # fmt: skip


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_bench_smoke(kind: str, pg_unreachable: str | None) -> None:
    """The benchmark runs (figures are reported, not asserted), including the lineage/holder queries."""
    if kind == "postgresql" and pg_unreachable:
        pytest.skip(pg_unreachable)
    result = bench_ingest(300, PG_URL if kind == "postgresql" else None)
    assert result["events"] >= 300 and result["lineage_depth"] == 10
