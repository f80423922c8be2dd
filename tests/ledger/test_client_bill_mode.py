"""Bill mode (签收) through the client on a real chain: pending splits, acceptance, refusal, withdrawal,
expiry, maturity, a freeze and a court order; then the indexer's pending moves against the chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from client_world import DAY, World, build_world
from sqlmodel import Session, select

from ledger.client import TierchainClient
from ledger.client.models import ReturnReason, SettlementMode
from ledger.config import NetworkConfig, Settings
from ledger.deploy import Deployment
from ledger.errors import AwaitingAcceptance, MoveExpired, NotMoveParty, TokenFrozen
from ledger.indexer import run_indexer
from ledger.indexer.db import make_engine
from ledger.indexer.models import Obligation, PendingMove
from ledger.indexer.queries import pending_moves
from ledger.keys import Signer
from ledger.localchain import LocalChain
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.chain

FACE = 1_000_000_00


@pytest.fixture
def world(tierchain_client: TierchainClient, clean_chain: LocalChain, actors: dict[str, Signer]) -> World:
    w = build_world(tierchain_client, clean_chain, actors)
    w.client.set_settlement_mode(actors["core"], SettlementMode.BILL)
    return w


def test_modes_default_and_obligor_choice(world: World) -> None:
    c, a = world.client, world.a
    policy = c.bill_policy()
    assert policy.bill_mode is False and policy.acceptance_window == 7 * DAY
    assert c.settlement_mode(a["core"].address) is SettlementMode.BILL
    assert c.settlement_terms(a["core"].address).bill_mode is True
    issued, _ = world.issue(FACE)
    assert c.bill_window(issued.slot) == 7 * DAY
    c.set_settlement_mode(a["core"], SettlementMode.VOUCHER)
    voucher, _ = world.issue(FACE)
    assert c.bill_window(voucher.slot) == 0
    piece = c.split(a["tier1"], voucher.token_id, a["tier2"].address, 100_00).token_id
    assert c.owner_of(piece) == a["tier2"].address and c.pending_move(piece) is None


def test_split_pends_then_accept(world: World) -> None:
    c, a = world.client, world.a
    issued, _ = world.issue(FACE)
    root = issued.token_id
    split = c.split(a["tier1"], root, a["tier2"].address, 400_000_00)
    piece = split.token_id
    pended = c.pended(split.tx_hash)
    assert [(p.token_id, p.source_token_id, p.value) for p in pended] == [(piece, root, 400_000_00)]
    move = c.pending_move(piece)
    assert move is not None and move.to == a["tier2"].address and move.sender == a["tier1"].address
    assert move.expiry == pended[0].expiry
    assert c.owner_of(piece) == a["tier1"].address
    assert [m.token_id for m in c.pending_moves(receiver=a["tier2"].address)] == [piece]
    assert [m.token_id for m in c.pending_moves(sender=a["tier1"].address)] == [piece]

    with pytest.raises(AwaitingAcceptance):
        c.split(a["tier1"], piece, a["tier3"].address, 100_00)
    with pytest.raises(NotMoveParty):
        c.accept_move(a["tier3"], piece)

    accepted = c.accept_move(a["tier2"], piece)
    assert accepted.to == a["tier2"].address and accepted.value == 400_000_00
    assert c.owner_of(piece) == a["tier2"].address and c.pending_move(piece) is None
    assert c.pending_moves(receiver=a["tier2"].address) == []


def test_refuse_withdraw_and_expire_return_the_value(world: World) -> None:
    c, a = world.client, world.a
    issued, _ = world.issue(FACE)
    root = issued.token_id
    refused = c.split(a["tier1"], root, a["tier2"].address, 100_00).token_id
    back = c.refuse_move(a["tier2"], refused)
    assert back.reason is ReturnReason.REFUSED and back.merged_into == root
    assert not c.exists(refused) and c.balance_of(root) == FACE

    withdrawn = c.split(a["tier1"], root, a["tier2"].address, 200_00).token_id
    assert c.withdraw_move(a["tier1"], withdrawn).reason is ReturnReason.WITHDRAWN
    assert c.balance_of(root) == FACE

    late = c.split(a["tier1"], root, a["tier3"].address, 300_00).token_id
    move = c.pending_move(late)
    assert move is not None
    world.warp_to(move.expiry)
    with pytest.raises(MoveExpired):
        c.accept_move(a["tier3"], late)
    expired = c.expire_move(a["outsider"], late)
    assert expired.reason is ReturnReason.EXPIRED and c.balance_of(root) == FACE


def test_maturity_freeze_and_court_order(world: World) -> None:
    c, a = world.client, world.a
    issued, terms = world.issue(FACE, days=5)
    root = issued.token_id
    frozen = c.split(a["tier1"], root, a["tier2"].address, 100_00).token_id
    c.freeze(a["regulator"], frozen, 9)
    with pytest.raises(TokenFrozen):
        c.accept_move(a["tier2"], frozen)

    enforced = c.split(a["tier1"], root, a["tier2"].address, 200_00).token_id
    forced = c.force_transfer(a["court"], enforced, a["tier3"].address, 200_00, b"order-7".ljust(32, b"\0"))
    assert forced.to_token_id == enforced and c.owner_of(enforced) == a["tier3"].address
    assert c.pending_move(enforced) is None

    matures = c.split(a["tier1"], root, a["tier3"].address, 300_00).token_id
    move = c.pending_move(matures)
    assert move is not None and move.expiry == terms.maturity
    world.warp_to(terms.maturity)
    assert c.expire_move(a["outsider"], matures).reason is ReturnReason.MATURED


def test_indexer_projects_pending_moves(
    world: World,
    session_dir: Path,
    tmp_path: Path,
    local_network: NetworkConfig,
    tierchain_deployment: Deployment,
) -> None:
    c, a = world.client, world.a
    issued, _ = world.issue(FACE)
    root = issued.token_id
    open_piece = c.split(a["tier1"], root, a["tier2"].address, 100_00).token_id
    accepted = c.split(a["tier1"], root, a["tier2"].address, 200_00).token_id
    c.accept_move(a["tier2"], accepted)
    refused = c.split(a["tier1"], root, a["tier3"].address, 300_00).token_id
    c.refuse_move(a["tier3"], refused)

    settings = Settings(
        project_root=PROJECT_ROOT,
        data_dir=session_dir / "tierchain-deploy",
        build_dir=PROJECT_ROOT / "build",
        database_url=f"sqlite:///{tmp_path / 'index.sqlite'}",
    )
    run_indexer(settings, local_network, once=True)
    assert settings.database_url is not None
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            obligation = session.get(Obligation, issued.slot)
            assert obligation is not None and obligation.bill_window == c.bill_window(issued.slot)
            incoming = pending_moves(session, receiver=a["tier2"].address.lower())
            assert [m.token_id for m in incoming] == [open_piece]
            chain = c.pending_move(open_piece)
            assert chain is not None
            assert incoming[0].expiry == chain.expiry and incoming[0].sender == chain.sender.lower()
            assert incoming[0].value == c.balance_of(open_piece) and incoming[0].source_token_id == root
            rows = {r.token_id: r for r in session.exec(select(PendingMove)).all()}
            assert rows[accepted].status == "accepted"
            assert rows[refused].status == "refused" and rows[refused].merged_into == root
    finally:
        engine.dispose()
