"""Contract refusals surface as typed, decoded errors; keyed writes act once; signatures match on-chain."""

from __future__ import annotations

from dataclasses import replace

import pytest
from client_world import DAY, World, build_world

from ledger.client import DayCount, TierchainClient, role_id
from ledger.errors import (
    DocumentAlreadyUsed,
    FaceNotMultipleOfMinUnit,
    IncorrectOwner,
    InsufficientBalance,
    InsufficientDocumentCover,
    InsufficientSignatures,
    InvalidConfirmationSignature,
    MaturityNotInFuture,
    MissingRole,
    NoDocuments,
    NonexistentToken,
    NotMultipleOfMinUnit,
    NotSettled,
    ObligationMatured,
    ObligationNotMatured,
    OfferExpired,
    OfferExpiryPast,
    OfferValueExceedsToken,
    ParticipantNotActive,
    RateOutOfRange,
    TermsMismatch,
)
from ledger.keys import Signer
from ledger.localchain import LocalChain

pytestmark = pytest.mark.chain


@pytest.fixture
def world(tierchain_client: TierchainClient, clean_chain: LocalChain, actors: dict[str, Signer]) -> World:
    return build_world(tierchain_client, clean_chain, actors)


def test_token_errors_decode(world: World) -> None:
    c, a = world.client, world.a
    issued, terms = world.issue(10_000_00)
    root = issued.token_id

    with pytest.raises(NotMultipleOfMinUnit) as e:
        c.split(a["tier1"], root, a["tier2"].address, 150)
    assert e.value.args_by_name == {"value": 150, "minUnit": 100}

    with pytest.raises(InsufficientBalance) as e2:
        c.split(a["tier1"], root, a["tier2"].address, 20_000_00)
    assert e2.value.args_by_name["needed"] == 20_000_00

    with pytest.raises(IncorrectOwner) as e3:
        c.transfer(a["tier2"], root, a["tier3"].address, owner=a["tier2"].address)
    expected = {"claimed": a["tier2"].address, "tokenId": root, "owner": a["tier1"].address}
    assert e3.value.args_by_name == expected

    with pytest.raises(ParticipantNotActive) as e4:
        c.split(a["tier1"], root, a["outsider"].address, 100)
    assert e4.value.args_by_name == {"account": a["outsider"].address}

    with pytest.raises(NonexistentToken) as e5:
        c.owner_of(10_000)
    assert e5.value.args_by_name == {"tokenId": 10_000}

    world.warp_to(terms.maturity)
    with pytest.raises(ObligationMatured):
        c.split(a["tier1"], root, a["tier2"].address, 100)


def test_issuance_errors_decode(world: World) -> None:
    c, a = world.client, world.a
    invoice = world.invoice(5_000_00)
    with pytest.raises(InsufficientSignatures) as e:
        c.sign_and_attest(a["oracle1"], invoice, [a["oracle1"]])
    assert e.value.args_by_name == {"valid": 1, "required": 2}
    world.attest(invoice)

    with pytest.raises(InsufficientDocumentCover) as e2:
        c.propose(a["tier1"], world.terms(6_000_00, (invoice.fingerprint,)))
    assert e2.value.args_by_name == {"invoiceTotal": 5_000_00, "face": 6_000_00}

    not_core = replace(world.terms(5_000_00, (invoice.fingerprint,)), obligor=a["bank"].address)
    with pytest.raises(MissingRole) as e3:
        c.propose(a["tier1"], not_core)
    assert e3.value.args_by_name == {"account": a["bank"].address, "role": role_id("CORE_ENTERPRISE")}

    terms = world.terms(5_000_00, (invoice.fingerprint,))
    first = c.propose(a["tier1"], terms).proposal_id
    second = c.propose(a["tier1"], terms).proposal_id
    altered = replace(terms, face=4_000_00)
    with pytest.raises(TermsMismatch):
        c.confirm(a["core"], first, altered)
    issued = c.confirm(a["core"], first, terms)
    with pytest.raises(DocumentAlreadyUsed) as e4:
        c.confirm(a["core"], second, terms)
    assert e4.value.args_by_name == {"fingerprint": invoice.fingerprint, "slot": issued.slot}


def test_settlement_errors_decode(world: World) -> None:
    c, a = world.client, world.a
    issued, terms = world.issue(10_000_00)
    offer = c.make_offer(a["bank"], issued.token_id, 1_000_00, 500, DayCount.ACT_360, world.now + 60)
    world.warp_to(world.now + 120)
    with pytest.raises(OfferExpired) as e:
        c.accept_offer(a["tier1"], offer.offer_id)
    assert e.value.args_by_name["offerId"] == offer.offer_id

    # The token refuses a piece before maturity before the desk looks at the account's state.
    with pytest.raises(ObligationNotMatured) as e3:
        c.redeem(a["tier1"], issued.token_id)
    assert e3.value.args_by_name == {"slot": issued.slot, "maturity": terms.maturity}
    world.warp_to(terms.maturity)
    with pytest.raises(NotSettled) as e2:
        c.redeem(a["tier1"], issued.token_id)
    assert e2.value.args_by_name == {"slot": issued.slot, "state": 0}


def test_keyed_operation_acts_once(world: World) -> None:
    c, a = world.client, world.a
    issued, _ = world.issue(10_000_00)
    first = c.split(a["tier1"], issued.token_id, a["tier2"].address, 1_000_00, key="pay:tier2:42")
    again = c.split(a["tier1"], issued.token_id, a["tier2"].address, 1_000_00, key="pay:tier2:42")
    assert again == first
    assert c.balance_of(issued.token_id) == 9_000_00 and c.token_count(a["tier2"].address) == 1

    # Even an operation that could not run twice (the proposal is gone) returns its first outcome.
    invoice = world.invoice(2_000_00)
    world.attest(invoice)
    more = world.terms(2_000_00, (invoice.fingerprint,))
    proposal = c.propose(a["tier1"], more, key="propose:2").proposal_id
    assert c.propose(a["tier1"], more, key="propose:2").proposal_id == proposal
    confirmed = c.confirm(a["core"], proposal, more, key="confirm:2")
    assert c.confirm(a["core"], proposal, more, key="confirm:2") == confirmed


def test_signatures_match_contract_digests(world: World) -> None:
    c, a = world.client, world.a
    invoice = world.invoice(1_000_00)
    on_chain = bytes(c.trades.functions.attestationDigest(invoice.as_abi()).call())
    assert c.attestation_digest(invoice) == on_chain
    world.attest(invoice)
    terms = world.terms(1_000_00, (invoice.fingerprint,))
    proposal = c.propose(a["tier1"], terms).proposal_id
    deadline = world.now + DAY
    stale = c.sign_confirmation(a["core"], proposal, terms, deadline=deadline, nonce=5)
    with pytest.raises(InvalidConfirmationSignature):
        c.confirm_with_signature(a["tier1"], proposal, terms, deadline=deadline, signature=stale)
    good = c.sign_confirmation(a["core"], proposal, terms, deadline=deadline)
    assert c.confirm_with_signature(a["tier1"], proposal, terms, deadline=deadline, signature=good).slot > 0
    consent_on_chain = bytes(c.issuance.functions.supplierConsentDigest(terms.as_abi(), 3, deadline).call())
    assert c.supplier_consent_digest(terms, nonce=3, deadline=deadline) == consent_on_chain


def test_refused_terms_name_the_condition_and_its_numbers(world: World) -> None:
    c, a = world.client, world.a
    invoice = world.invoice(5_000_00)
    world.attest(invoice)
    terms = world.terms(5_000_00, (invoice.fingerprint,))
    with pytest.raises(MaturityNotInFuture) as e:
        c.propose(a["tier1"], replace(terms, maturity=world.now - DAY))
    assert e.value.field == "maturity" and e.value.args_by_name["maturity"] == world.now - DAY
    with pytest.raises(FaceNotMultipleOfMinUnit) as e2:
        c.propose(a["tier1"], replace(terms, face=5_000_50, min_unit=100))
    assert e2.value.field == "face" and e2.value.args_by_name == {"face": 5_000_50, "minUnit": 100}
    with pytest.raises(NoDocuments):
        c.propose(a["tier1"], replace(terms, documents=()))


def test_refused_offers_name_the_condition_and_its_numbers(world: World) -> None:
    c, a = world.client, world.a
    issued, _ = world.issue(10_000_00)
    later = world.now + DAY
    with pytest.raises(OfferValueExceedsToken) as e:
        c.make_offer(a["bank"], issued.token_id, 20_000_00, 500, DayCount.ACT_360, later)
    assert e.value.args_by_name == {"tokenId": issued.token_id, "value": 20_000_00, "tokenValue": 10_000_00}
    with pytest.raises(OfferExpiryPast) as e2:
        c.make_offer(a["bank"], issued.token_id, 1_000_00, 500, DayCount.ACT_360, world.now - 1)
    assert e2.value.field == "expiry"
    with pytest.raises(RateOutOfRange) as e3:
        c.make_offer(a["bank"], issued.token_id, 1_000_00, 0, DayCount.ACT_360, later)
    assert e3.value.args_by_name == {"rateBps": 0, "maxRateBps": 65_535}
