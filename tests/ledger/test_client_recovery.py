"""Lost-key recovery (密钥遗失恢复) through the client on a real chain: ONBOARDING requests, ENFORCEMENT (a
second key) approves, the record moves to the replacement; then the lost supplier's tokens follow in
batches, keeping value, lineage, freeze and pending moves, voiding approvals; a re-run moves what is left."""

from __future__ import annotations

from typing import Any

import pytest
from client_world import DAY, World, build_world

from ledger.client import DayCount, ParticipantStatus, TierchainClient, case_ref, role_id
from ledger.client.models import SettlementMode
from ledger.client.recovery import NotRecoveredYet
from ledger.errors import (
    AccountRecovered,
    AlreadyRegistered,
    InvalidCaseRef,
    NoRecoveryRequest,
    NotRecoverable,
    RecoveryAlreadyRequested,
    RecoveryCaseMismatch,
    RecoveryNeedsSecondParty,
)
from ledger.keys import Signer
from ledger.localchain import LocalChain

pytestmark = pytest.mark.chain

FACE = 1_000_000_00
CASE = "\uff082026\uff09沪0115执1234号"  # full-width brackets, as courts write them
CASE_ASCII = " (2026)沪0115执1234号 "


@pytest.fixture
def world(tierchain_client: TierchainClient, clean_chain: LocalChain, actors: dict[str, Signer]) -> World:
    return build_world(tierchain_client, clean_chain, actors)


def _has_recover_tokens(abis: dict[str, list[dict[str, Any]]]) -> bool:
    return any(e.get("name") == "recoverTokens" for e in abis["ReceivableToken"])


def test_case_references_hash_as_written_with_brackets_of_either_width() -> None:
    assert case_ref(CASE) == case_ref(CASE_ASCII) != case_ref("RC-2026-0042")
    raw = case_ref("RC-2026-0042")
    assert case_ref("0x" + raw.hex()) == raw == case_ref(raw)
    with pytest.raises(ValueError, match="case reference"):
        case_ref("  ")


def test_request_cancel_and_approve_move_the_record(world: World) -> None:
    c, a = world.client, world.a
    lost, new = a["tier1"].address, a["outsider"].address
    before = c.participant(lost)
    assert c.recovery_request(lost) is None and c.recovered_to(lost) is None
    assert c.current_account(lost) == lost

    with pytest.raises(AlreadyRegistered):  # the replacement must be a fresh address
        c.request_recovery(a["admin"], lost, a["tier2"].address, CASE)
    with pytest.raises(InvalidCaseRef):
        c.request_recovery(a["admin"], lost, new, b"\x00" * 32)
    requested = c.request_recovery(a["admin"], lost, new, CASE)
    assert (requested.lost, requested.replacement, requested.requested_by) == (lost, new, a["admin"].address)
    assert requested.case_ref == case_ref(CASE)
    open_request = c.recovery_request(lost)
    assert open_request is not None and open_request.replacement == new
    with pytest.raises(RecoveryAlreadyRequested):
        c.request_recovery(a["admin"], lost, new, "RC-2026-0042")
    with pytest.raises(RecoveryCaseMismatch):
        c.approve_recovery(a["court"], lost, "RC-2026-0042")
    with pytest.raises(NotRecoveredYet):  # nothing moves before the approval
        c.recover_tokens(a["court"], lost, CASE)

    cancelled = c.cancel_recovery(a["court"], lost, CASE)
    assert (cancelled.cancelled_by, cancelled.case_ref) == (a["court"].address, case_ref(CASE))
    assert c.recovery_request(lost) is None
    with pytest.raises(NoRecoveryRequest):
        c.approve_recovery(a["court"], lost, CASE)

    c.request_recovery(a["admin"], lost, new, CASE)
    approved = c.approve_recovery(a["court"], lost, CASE_ASCII)  # the same case, written otherwise
    assert (approved.lost, approved.replacement, approved.approved_by) == (lost, new, a["court"].address)
    assert c.participant(lost).status == ParticipantStatus.RECOVERED
    moved = c.participant(new)
    assert (moved.legal_id_hash, moved.status, moved.role_bits) == (
        before.legal_id_hash,
        ParticipantStatus.ACTIVE,
        before.role_bits,
    )
    assert c.has_role(new, "SUPPLIER") and not c.has_role(lost, "SUPPLIER")
    assert c.recovered_to(lost) == new and c.current_account(lost) == new
    assert c.recovery_request(lost) is None
    with pytest.raises(AccountRecovered):
        c.request_recovery(a["admin"], lost, a["tier3"].address, "RC-2026-0043")


def test_the_requesting_key_cannot_approve(world: World) -> None:
    c, a = world.client, world.a
    c.grant_role(a["admin"], a["admin"].address, "ENFORCEMENT")
    assert c.has_role(a["admin"].address, role_id("ENFORCEMENT"))
    c.request_recovery(a["admin"], a["tier2"].address, a["outsider"].address, "RC-2026-0042")
    with pytest.raises(RecoveryNeedsSecondParty):
        c.approve_recovery(a["admin"], a["tier2"].address, "RC-2026-0042")
    assert (
        c.approve_recovery(a["court"], a["tier2"].address, "RC-2026-0042").replacement
        == a["outsider"].address
    )


def test_tokens_follow_in_batches_keeping_value_lineage_freeze_and_pending_moves(
    world: World, tierchain_abis: dict[str, list[dict[str, Any]]]
) -> None:
    if not _has_recover_tokens(tierchain_abis):
        pytest.skip("the token of this build has no recoverTokens yet")
    c, a = world.client, world.a
    c.set_settlement_mode(a["core"], SettlementMode.BILL)
    lost, new = a["tier1"].address, a["outsider"].address
    issued, _ = world.issue(FACE)
    root = issued.token_id
    held = c.split(a["tier1"], root, a["tier2"].address, 400_000_00).token_id
    c.accept_move(a["tier2"], held)  # tier2 holds `held`
    outgoing = c.split(a["tier1"], root, a["tier2"].address, 100_000_00).token_id  # pending to tier2
    incoming = c.split(a["tier2"], held, lost, 50_000_00).token_id  # pending to the lost address
    c.approve_value(a["tier1"], root, a["bank"].address, 1_000_00)
    c.freeze(a["regulator"], root, 7)
    values = {t: c.balance_of(t) for t in (root, outgoing, incoming)}
    lineages = {t: c.lineage(t) for t in (root, outgoing, incoming)}
    assert c.recoverable_tokens(lost) == sorted([root, outgoing, incoming])

    c.request_recovery(a["admin"], lost, new, CASE)
    c.approve_recovery(a["court"], lost, CASE)
    with pytest.raises(NotRecoverable):
        c.recover_tokens(a["court"], lost, CASE, [held])
    with pytest.raises(ValueError, match="batch_size"):
        c.recover_tokens(a["court"], lost, CASE, batch_size=101)

    moved = c.recover_tokens(a["court"], lost, CASE, batch_size=2, key="recovery-1")
    assert moved.replacement == new and len(moved.batches) == 2
    assert sorted(moved.token_ids) == sorted([root, outgoing, incoming])
    assert len(set(moved.tx_hashes)) == 2
    assert c.owner_of(root) == new and c.owner_of(outgoing) == new
    assert {t: c.balance_of(t) for t in values} == values
    assert {t: c.lineage(t) for t in lineages} == lineages
    assert c.is_frozen(root) and c.value_allowance(root, a["bank"].address) == 0
    pending_in, pending_out = c.pending_move(incoming), c.pending_move(outgoing)
    assert pending_in is not None and pending_in.to == new and c.owner_of(incoming) == a["tier2"].address
    assert pending_out is not None and pending_out.to == a["tier2"].address
    assert c.recoverable_tokens(lost) == []
    again = c.recover_tokens(a["court"], lost, CASE, key="recovery-1")
    assert again.batches == () and again.token_ids == ()

    c.accept_move(a["outsider"], incoming)  # the replacement signs for what came to the lost address
    assert c.owner_of(incoming) == new
    c.accept_move(a["tier2"], outgoing)
    assert c.owner_of(outgoing) == a["tier2"].address


def test_the_replacement_of_an_obligor_repays_its_obligations(
    world: World, tierchain_abis: dict[str, list[dict[str, Any]]]
) -> None:
    if not _has_recover_tokens(tierchain_abis):
        pytest.skip("the desks of this build do not follow recoveries yet")
    c, a = world.client, world.a
    issued, _ = world.issue(FACE)
    lost, new = a["core"].address, a["outsider"].address
    c.request_recovery(a["admin"], lost, new, "RC-2026-0099")
    c.approve_recovery(a["court"], lost, "RC-2026-0099")
    assert c.recover_tokens(a["court"], lost, "RC-2026-0099").batches == ()  # an obligor holds no pieces
    c.mint(a["admin"], "CNY", new, FACE)
    paid = c.deposit(a["outsider"], issued.slot, FACE)
    assert (paid.slot, paid.paid_total, paid.repaid) == (issued.slot, FACE, True)


def test_the_replacement_of_a_seller_settles_its_recourse_claim(
    world: World, tierchain_abis: dict[str, list[dict[str, Any]]]
) -> None:
    if not _has_recover_tokens(tierchain_abis):
        pytest.skip("the desks of this build do not follow recoveries yet")
    c, a = world.client, world.a
    issued, terms = world.issue(FACE, days=30)
    offer = c.make_offer(
        a["bank"], issued.token_id, FACE, 500, DayCount.ACT_360, world.now + DAY, recourse=True
    )
    c.accept_offer(a["tier1"], offer.offer_id)
    world.warp_to(terms.maturity + c.deployment.grace_period_seconds)
    c.declare_default(a["outsider"], issued.slot)
    opened = c.open_recourse(a["bank"], offer.offer_id)
    lost, new = a["tier1"].address, a["outsider"].address
    c.request_recovery(a["admin"], lost, new, "RC-2026-0100")
    c.approve_recovery(a["court"], lost, "RC-2026-0100")
    c.recover_tokens(a["court"], lost, "RC-2026-0100")
    c.mint(a["admin"], "CNY", new, opened.shortfall)
    settled = c.settle_recourse(a["outsider"], offer.offer_id, opened.shortfall)
    assert settled.remaining == 0 and c.recourse_claim(offer.offer_id).remaining == 0
