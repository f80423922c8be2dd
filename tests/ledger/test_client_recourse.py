"""Recourse (追索) through the client on a real chain: a with-recourse financing whose obligation defaults
after a partial repayment; the bank claims the shortfall, the seller settles it in parts, or the bank waives
it. Without recourse nothing is claimable."""

from __future__ import annotations

import pytest
from client_world import DAY, World, build_world

from ledger.client import DayCount, RecourseState, RepaymentState, TierchainClient
from ledger.errors import (
    NoRecourse,
    NotDefaulted,
    NotRecourseSeller,
    RecourseAlreadyOpen,
    RecourseNotOpen,
    RecourseOverpayment,
    RecoursePieceNotHeld,
)
from ledger.keys import Signer
from ledger.localchain import LocalChain

pytestmark = pytest.mark.chain

FACE = 1_000_000_00
PAID = 250_000_00


@pytest.fixture
def world(tierchain_client: TierchainClient, clean_chain: LocalChain, actors: dict[str, Signer]) -> World:
    return build_world(tierchain_client, clean_chain, actors)


def test_recourse_claim_settled_in_parts_or_waived(world: World) -> None:
    c, a = world.client, world.a
    issued, terms = world.issue(FACE, days=30)
    sold: dict[str, tuple[int, int]] = {}
    for label, value, recourse in (
        ("a", 400_000_00, True),
        ("b", 200_000_00, True),
        ("c", 100_000_00, False),
    ):
        offer = c.make_offer(
            a["bank"], issued.token_id, value, 500, DayCount.ACT_360, world.now + DAY, recourse=recourse
        )
        financed = c.accept_offer(a["tier1"], offer.offer_id)
        sold[label] = (offer.offer_id, financed.financed_token_id)
    (offer_a, piece_a), (offer_b, _), (offer_c, _) = sold["a"], sold["b"], sold["c"]
    assert c.offer(offer_a).recourse and not c.offer(offer_c).recourse
    before = c.recourse_claim(offer_a)
    assert before.state == RecourseState.NONE and before.seller == a["tier1"].address

    c.deposit(a["core"], issued.slot, PAID)
    with pytest.raises(NotDefaulted):
        c.open_recourse(a["bank"], offer_a)
    world.warp_to(terms.maturity + c.deployment.grace_period_seconds)
    assert c.declare_default(a["outsider"], issued.slot).state == RepaymentState.DEFAULTED

    with pytest.raises(NoRecourse):
        c.open_recourse(a["bank"], offer_c)
    opened = c.open_recourse(a["bank"], offer_a)
    shortfall = 400_000_00 - 400_000_00 * PAID // FACE
    assert (opened.bank, opened.seller, opened.slot, opened.shortfall) == (
        a["bank"].address,
        a["tier1"].address,
        issued.slot,
        shortfall,
    )
    with pytest.raises(RecourseAlreadyOpen):
        c.open_recourse(a["bank"], offer_a)

    bank_before = c.cash_balance("CNY", a["bank"].address)
    seller_before = c.cash_balance("CNY", a["tier1"].address)
    with pytest.raises(NotRecourseSeller):
        c.settle_recourse(a["tier2"], offer_a, 1, fund=False)
    part = c.settle_recourse(a["tier1"], offer_a, 100_000_00)
    assert (part.amount, part.remaining) == (100_000_00, shortfall - 100_000_00)
    assert c.recourse_claim(offer_a).state == RecourseState.PARTLY_SETTLED
    with pytest.raises(RecourseOverpayment):
        c.settle_recourse(a["tier1"], offer_a, shortfall)
    rest = c.settle_recourse(a["tier1"], offer_a, shortfall - 100_000_00)
    assert rest.remaining == 0
    claim = c.recourse_claim(offer_a)
    assert (claim.state, claim.settled, claim.remaining) == (RecourseState.SETTLED, shortfall, 0)
    assert c.cash_balance("CNY", a["bank"].address) == bank_before + shortfall
    assert c.cash_balance("CNY", a["tier1"].address) == seller_before - shortfall
    # Then the bank redeems the piece: claim and redemption make up the financed value.
    assert c.redeem(a["bank"], piece_a).payout + shortfall == 400_000_00

    shortfall_b = 200_000_00 - 200_000_00 * PAID // FACE
    c.open_recourse(a["bank"], offer_b)
    c.settle_recourse(a["tier1"], offer_b, 50_000_00)
    waived = c.waive_recourse(a["bank"], offer_b)
    assert waived.remaining == shortfall_b - 50_000_00
    claim_b = c.recourse_claim(offer_b)
    assert (claim_b.state, claim_b.settled, claim_b.remaining) == (RecourseState.WAIVED, 50_000_00, 0)
    with pytest.raises(RecourseNotOpen):
        c.waive_recourse(a["bank"], offer_b)


def test_recourse_is_opened_before_the_piece_is_redeemed(world: World) -> None:
    c, a = world.client, world.a
    issued, terms = world.issue(FACE, days=30)
    offer = c.make_offer(
        a["bank"], issued.token_id, FACE, 500, DayCount.ACT_360, world.now + DAY, recourse=True
    )
    piece = c.accept_offer(a["tier1"], offer.offer_id).financed_token_id
    world.warp_to(terms.maturity + c.deployment.grace_period_seconds)
    c.declare_default(a["outsider"], issued.slot)
    c.redeem(a["bank"], piece)
    with pytest.raises(RecoursePieceNotHeld):
        c.open_recourse(a["bank"], offer.offer_id)
