"""The client end to end on a real chain: a multi-tier receivable from invoice to redemption."""

from __future__ import annotations

import math

import pytest
from client_world import CASH, DAY, World, build_world

from ledger.client import (
    DayCount,
    OfferStatus,
    ParticipantStatus,
    RepaymentState,
    TierchainClient,
)
from ledger.errors import InvalidSupplierSignature, ParticipantNotActive, TokenFrozen
from ledger.keys import Signer
from ledger.localchain import LocalChain

pytestmark = pytest.mark.chain

FACE = 1_000_000_00  # CNY 1,000,000.00


@pytest.fixture
def world(tierchain_client: TierchainClient, clean_chain: LocalChain, actors: dict[str, Signer]) -> World:
    return build_world(tierchain_client, clean_chain, actors)


def act_360_price(value: int, rate_bps: int, start: int, maturity: int) -> tuple[int, int]:
    """The contract's pricing, independently: days round up, price rounds down."""
    days = math.ceil((maturity - start) / DAY)
    return value * (360 * 10_000 - rate_bps * days) // (360 * 10_000), days


def test_multi_tier_flow(world: World) -> None:
    c, a = world.client, world.a
    start_cash = {name: c.cash_balance("CNY", a[name].address) for name in a}

    # Documents: two of three oracles attest the invoice; signatures go sorted whatever the input order.
    invoice = world.invoice(FACE)
    signatures = {s.address: c.sign_attestation(s, invoice) for s in (a["oracle3"], a["oracle1"])}
    attested = c.attest(a["oracle3"], invoice, signatures)
    assert list(attested.signers) == sorted(signatures, key=lambda s: int(s, 16))
    assert c.document(invoice.fingerprint).amount == FACE
    assert c.document(invoice.fingerprint).used_by_slot == 0

    # Issue: tier 1 proposes, the core enterprise signs off-chain, tier 1 submits the signature.
    terms = world.terms(FACE, (invoice.fingerprint,))
    assert c.hash_terms(terms) == terms.hash()
    proposed = c.propose(a["tier1"], terms)
    assert c.is_pending(proposed.proposal_id)
    deadline = world.now + DAY
    signature = c.sign_confirmation(a["core"], proposed.proposal_id, terms, deadline=deadline)
    issued = c.confirm_with_signature(
        a["tier1"], proposed.proposal_id, terms, deadline=deadline, signature=signature
    )
    assert issued.proposal_id == proposed.proposal_id and not c.is_pending(proposed.proposal_id)
    assert c.confirmation_nonce(a["core"].address) == 1
    root, slot = issued.token_id, issued.slot
    assert c.document(invoice.fingerprint).used_by_slot == slot
    assert c.owner_of(root) == a["tier1"].address and c.balance_of(root) == FACE
    assert c.slot_of(root) == slot and c.depth(root) == 0
    slot_terms = c.slot_terms(slot)
    assert (slot_terms.obligor, slot_terms.face, slot_terms.root_token_id) == (a["core"].address, FACE, root)
    assert slot_terms.currency == c.deployment.currencies["CNY"]

    # Tier 1 pays tier 2 with a piece; tier 2 pays tier 3 with two pieces in one batch.
    t2 = c.split(a["tier1"], root, a["tier2"].address, 400_000_00)
    assert c.owner_of(t2.token_id) == a["tier2"].address and c.lineage(t2.token_id) == (t2.token_id, root)
    batch = c.split_batch(a["tier2"], t2.token_id, [(a["tier3"].address, 100_000_00)] * 2)
    piece_a, piece_b = batch.token_ids
    assert c.depth(piece_a) == 2 and c.lineage(piece_b) == (piece_b, t2.token_id, root)
    assert c.balance_of(t2.token_id) == 200_000_00

    # Tier 3 merges its two pieces.
    merged = c.merge(a["tier3"], piece_b, piece_a, 100_000_00)
    assert merged.value == 100_000_00
    assert (c.balance_of(piece_a), c.balance_of(piece_b)) == (200_000_00, 0)

    # Financing at ACT/360: the bank buys tier 3's piece whole and part of tier 2's.
    expiry = world.now + 7 * DAY
    whole = c.make_offer(a["bank"], piece_a, 200_000_00, 450, DayCount.ACT_360, expiry)
    financed = c.accept_offer(a["tier3"], whole.offer_id)
    accepted_at = int(c.w3.eth.get_block(financed.block_number)["timestamp"])
    price, days = act_360_price(200_000_00, 450, accepted_at, terms.maturity)
    assert (financed.price, financed.days_to_maturity) == (price, days)
    assert financed.discount == 200_000_00 - price
    assert financed.financed_token_id == piece_a and c.owner_of(piece_a) == a["bank"].address
    assert c.offer(whole.offer_id).status == OfferStatus.ACCEPTED
    quote = c.quote(200_000_00, 450, DayCount.ACT_360, terms.maturity)
    assert quote.price == act_360_price(200_000_00, 450, world.now, terms.maturity)[0]

    part = c.make_offer(a["bank"], t2.token_id, 50_000_00, 450, DayCount.ACT_365F, expiry)
    part_financed = c.accept_offer(a["tier2"], part.offer_id)
    bank_piece = part_financed.financed_token_id
    assert bank_piece != t2.token_id and c.balance_of(bank_piece) == 50_000_00
    assert c.lineage(bank_piece) == (bank_piece, t2.token_id, root)

    # The regulator freezes tier 2's piece: a split is refused with the token named; unfreeze restores.
    c.freeze(a["regulator"], t2.token_id, 7)
    assert c.is_frozen(t2.token_id)
    with pytest.raises(TokenFrozen) as refused:
        c.split(a["tier2"], t2.token_id, a["tier3"].address, 10_000_00)
    assert refused.value.args_by_name == {"tokenId": t2.token_id}
    c.unfreeze(a["regulator"], t2.token_id, 7)
    t3_late = c.split(a["tier2"], t2.token_id, a["tier3"].address, 10_000_00)

    # Maturity: the obligor repays in two deposits, then every holder redeems.
    world.warp_to(terms.maturity)
    first = c.deposit(a["core"], slot, 600_000_00)
    assert not first.repaid and first.paid_total == 600_000_00
    second = c.deposit(a["core"], slot, FACE - 600_000_00)
    assert second.repaid and c.repayment_account(slot).state == RepaymentState.REPAID

    live = {
        root: "tier1",
        t2.token_id: "tier2",
        t3_late.token_id: "tier3",
        piece_a: "bank",
        bank_piece: "bank",
    }
    values = {token: c.balance_of(token) for token in live}
    assert sum(values.values()) == FACE
    payouts = {token: c.redeem(a[holder], token).payout for token, holder in live.items()}
    assert payouts == values, "repaid in full: every piece pays its value exactly"
    assert not any(c.exists(token) for token in live)
    assert c.lineage(t3_late.token_id) == (t3_late.token_id, t2.token_id, root), "lineage survives burn"

    # Cash to the unit: the desk holds nothing, each party's cash moved by exactly what it earned.
    account = c.repayment_account(slot)
    assert account.paid == account.paid_out == account.redeemed_value == FACE
    assert c.cash_balance("CNY", c.repayment.address) == 0
    end_cash = {name: c.cash_balance("CNY", a[name].address) for name in a}
    paid_by_bank = financed.price + part_financed.price
    assert end_cash["core"] == start_cash["core"] - FACE == CASH - FACE
    assert end_cash["bank"] == CASH - paid_by_bank + values[piece_a] + values[bank_piece]
    assert end_cash["tier1"] == values[root]
    assert end_cash["tier2"] == part_financed.price + values[t2.token_id]
    assert end_cash["tier3"] == financed.price + values[t3_late.token_id]
    assert sum(end_cash.values()) == sum(start_cash.values())


def test_default_pays_pro_rata_and_sweeps_dust(world: World) -> None:
    c, a = world.client, world.a
    issued, terms = world.issue(1_000_00, days=30, min_unit=100)
    x = c.split(a["tier1"], issued.token_id, a["tier2"].address, 333_00)
    y = c.split(a["tier1"], issued.token_id, a["tier3"].address, 333_00)
    world.warp_to(terms.maturity)
    assert c.mark_overdue(a["outsider"], issued.slot).state == RepaymentState.OVERDUE
    c.deposit(a["core"], issued.slot, 333_33)
    world.warp_to(terms.maturity + c.deployment.grace_period_seconds)
    assert c.declare_default(a["outsider"], issued.slot).state == RepaymentState.DEFAULTED

    payouts = [
        c.redeem(a["tier1"], issued.token_id).payout,
        c.redeem(a["tier2"], x.token_id).payout,
        c.redeem(a["tier3"], y.token_id).payout,
    ]
    assert payouts == [334_00 * 333_33 // 1_000_00, 333_00 * 333_33 // 1_000_00, 333_00 * 333_33 // 1_000_00]
    core_before = c.cash_balance("CNY", a["core"].address)
    swept = c.sweep_dust(a["outsider"], issued.slot)
    assert swept.amount == 333_33 - sum(payouts) > 0 and swept.to == a["core"].address
    assert c.cash_balance("CNY", a["core"].address) == core_before + swept.amount
    assert c.cash_balance("CNY", c.repayment.address) == 0


def test_other_operations(world: World) -> None:
    c, a = world.client, world.a
    # Proposals can be rejected by the obligor or cancelled by the supplier; a direct issue needs the
    # supplier's signature instead.
    for outcome in ("rejected", "cancelled"):
        invoice = world.invoice(5_000_00)
        world.attest(invoice)
        terms = world.terms(5_000_00, (invoice.fingerprint,))
        proposal = c.propose(a["tier1"], terms).proposal_id
        closed = (
            c.reject(a["core"], proposal, terms, 3)
            if outcome == "rejected"
            else c.cancel(a["tier1"], proposal, terms)
        )
        assert closed.outcome == outcome and not c.is_pending(proposal)
    invoice = world.invoice(9_000_00)
    world.attest(invoice)
    terms = world.terms(9_000_00, (invoice.fingerprint,))
    deadline = world.now + DAY
    # The obligor cannot consume the supplier's invoice on its own word (here: its own signature).
    own_word = c.sign_supplier_consent(a["core"], terms, deadline=deadline, nonce=0)
    with pytest.raises(InvalidSupplierSignature):
        c.issue_direct(a["core"], terms, deadline=deadline, supplier_signature=own_word)
    assert c.document(invoice.fingerprint).used_by_slot == 0
    consent = c.sign_supplier_consent(a["tier1"], terms, deadline=deadline)
    direct = c.issue_direct(a["core"], terms, deadline=deadline, supplier_signature=consent)
    assert direct.proposal_id == 0 and c.owner_of(direct.token_id) == a["tier1"].address
    assert c.confirmation_nonce(a["tier1"].address) == 1

    # A value allowance lets an operator split on the holder's behalf.
    token = direct.token_id
    approved = c.approve_value(a["tier1"], token, a["tier2"].address, 2_000_00)
    assert approved.value == 2_000_00 and c.value_allowance(token, a["tier2"].address) == 2_000_00
    by_operator = c.split(a["tier2"], token, a["tier3"].address, 2_000_00)
    assert c.owner_of(by_operator.token_id) == a["tier3"].address
    assert c.value_allowance(token, a["tier2"].address) == 0

    # Whole transfer, then a court-ordered transfer that overrides a freeze.
    moved = c.transfer(a["tier3"], by_operator.token_id, a["tier2"].address)
    assert (moved.sender, moved.to) == (a["tier3"].address, a["tier2"].address)
    assert c.token_count(a["tier2"].address) == 1
    c.freeze(a["regulator"], token, 9)
    forced = c.force_transfer(a["court"], token, a["tier3"].address, 1_000_00, b"\x01" * 32)
    assert forced.from_token_id == token and forced.value == 1_000_00
    assert c.owner_of(forced.to_token_id) == a["tier3"].address and not c.is_frozen(forced.to_token_id)

    # Offers can be withdrawn; participants suspended and reinstated; roles granted.
    offer = c.make_offer(a["bank"], by_operator.token_id, 1_000_00, 300, DayCount.ACT_365F, world.now + DAY)
    assert c.cancel_offer(a["bank"], offer.offer_id).offer_id == offer.offer_id
    assert c.offer(offer.offer_id).status == OfferStatus.CANCELLED
    suspended = c.set_status(a["admin"], a["tier3"].address, ParticipantStatus.SUSPENDED)
    assert (suspended.previous, suspended.current) == (ParticipantStatus.ACTIVE, ParticipantStatus.SUSPENDED)
    with pytest.raises(ParticipantNotActive):
        c.split(a["tier2"], by_operator.token_id, a["tier3"].address, 100)
    c.set_status(a["admin"], a["tier3"].address, ParticipantStatus.ACTIVE)
    assert c.participant(a["tier3"].address).status == ParticipantStatus.ACTIVE
    granted = c.grant_role(a["admin"], a["regulator"].address, "ENFORCEMENT")
    assert granted.granted and c.has_role(a["regulator"].address, "ENFORCEMENT")
    assert not c.grant_role(a["admin"], a["regulator"].address, "ENFORCEMENT").granted


def test_split_many_batches_consecutive_nonces(world: World) -> None:
    c, a = world.client, world.a
    issued, _ = world.issue(10_000_00)
    splits = [(issued.token_id, a[n].address, 1_000_00) for n in ("tier2", "tier3", "bank", "tier2")]
    results = c.split_many(a["tier1"], splits, keys=[f"payroll:{i}" for i in range(len(splits))])
    assert [c.owner_of(r.token_id) for r in results] == [s[1] for s in splits]
    assert len({r.token_id for r in results}) == 4
    assert c.balance_of(issued.token_id) == 6_000_00
