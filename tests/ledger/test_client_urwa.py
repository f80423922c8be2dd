"""ERC-7943 through the client on a real chain: a regulator freezes part of a piece's value; the holder
moves the rest but never below it; `can_transfer` agrees with what the chain then does; a court order
carries the moved part's frozen share to the destination or releases it; a transfer to oneself is
refused; the standard's interface ids are declared."""

from __future__ import annotations

import pytest
from client_world import World, build_world
from eth_utils.crypto import keccak

from ledger.client import TierchainClient
from ledger.client.urwa import ERC7943_DRAFT_INTERFACE_ID, ERC7943_INTERFACE_ID
from ledger.errors import ContractRevert
from ledger.keys import Signer
from ledger.localchain import LocalChain

pytestmark = pytest.mark.chain

FACE = 1_000_000_00


@pytest.fixture
def world(tierchain_client: TierchainClient, clean_chain: LocalChain, actors: dict[str, Signer]) -> World:
    return build_world(tierchain_client, clean_chain, actors)


def test_a_value_freeze_leaves_the_rest_movable(world: World) -> None:
    c, a = world.client, world.a
    issued, _ = world.issue(FACE)
    piece = c.split(a["tier1"], issued.token_id, a["tier2"].address, 300_000_00).token_id
    tier2, tier3 = a["tier2"].address, a["tier3"].address
    assert c.can_transact(tier2) and not c.can_transact(a["court"].address)

    frozen = c.set_frozen_value(a["regulator"], piece, 200_000_00)
    assert (frozen.token_id, frozen.account, frozen.amount) == (piece, tier2, 200_000_00)
    assert c.frozen_value(piece) == 200_000_00
    assert not c.is_frozen(piece)  # the whole-piece freeze is a different tool
    assert c.can_transfer(tier2, tier3, piece, 100_000_00)
    assert not c.can_transfer(tier2, tier3, piece, 100_000_01 // 100 * 100 + 100)
    assert not c.can_transfer(tier2, tier3, piece, 300_000_00)

    moved = c.split(a["tier2"], piece, tier3, 100_000_00).token_id
    assert c.balance_of(piece) == 200_000_00 and c.balance_of(moved) == 100_000_00
    with pytest.raises(ContractRevert) as refused:
        c.split(a["tier2"], piece, tier3, 100_00)
    assert refused.value.error_name == "ERC7943InsufficientUnfrozenBalance"
    assert c.balance_of(piece) == 200_000_00

    lifted = c.set_frozen_value(a["regulator"], piece, 0)
    assert lifted.amount == 0 and c.frozen_value(piece) == 0
    assert c.can_transfer(tier2, tier3, piece, 200_000_00)


def test_a_court_order_carries_or_releases_the_frozen_share(world: World) -> None:
    c, a = world.client, world.a
    issued, _ = world.issue(FACE)
    piece = c.split(a["tier1"], issued.token_id, a["tier2"].address, 300_000_00).token_id
    c.set_frozen_value(a["regulator"], piece, 250_000_00)

    kept = c.force_transfer_order(a["court"], piece, a["tier3"].address, 100_000_00, keccak(text="order-1"))
    assert kept.value == 100_000_00 and kept.to == a["tier3"].address
    assert kept.frozen_moved == 100_000_00 and c.frozen_value(kept.to_token_id) == 100_000_00
    assert c.frozen_value(piece) == 150_000_00

    released = c.force_transfer_order(
        a["court"], piece, a["tier3"].address, 100_000_00, keccak(text="order-2"), release_frozen=True
    )
    assert released.frozen_moved == 0 and c.frozen_value(released.to_token_id) == 0
    assert c.frozen_value(piece) == 50_000_00

    standard = c.forced_transfer(a["court"], a["tier2"].address, a["tier3"].address, piece, 100_00)
    assert standard.value == 100_00 and c.owner_of(standard.to_token_id) == a["tier3"].address
    # The moved part takes its frozen share first (min(frozen, value)): 100.00 of the 50,000.00.
    assert standard.frozen_moved == 100_00 and c.frozen_value(piece) == 49_900_00
    with pytest.raises(ContractRevert) as refused:
        c.forced_transfer(a["court"], a["tier2"].address, a["tier2"].address, piece, 100_00)
    assert refused.value.error_name == "ERC7943CannotTransfer"
    assert c.frozen_value(piece) == 49_900_00  # a transfer to oneself lifted nothing


def test_the_standards_interface_ids_are_declared(world: World) -> None:
    token = world.client.token
    assert token.functions.supportsInterface(ERC7943_INTERFACE_ID).call()
    assert token.functions.supportsInterface(ERC7943_DRAFT_INTERFACE_ID).call()
    assert not token.functions.supportsInterface(bytes.fromhex("ffffffff")).call()
