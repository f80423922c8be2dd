// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC721} from "@solvprotocol/erc-3525/IERC721.sol";
import {World} from "./utils/World.sol";
import {IERC7943MultiToken} from "../../contracts/interfaces/IERC7943.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IReceivableTokenBase} from "../../contracts/interfaces/IReceivableToken.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";

/// @dev ERC-7943's multi-token interface as first drafted: `canTransact` in place of `canSend`/`canReceive`.
interface IERC7943MultiTokenDraft {
    function forcedTransfer(address from, address to, uint256 tokenId, uint256 amount) external returns (bool);
    function setFrozenTokens(address account, uint256 tokenId, uint256 amount) external returns (bool);
    function canTransact(address account) external view returns (bool);
    function getFrozenTokens(address account, uint256 tokenId) external view returns (uint256);
    function canTransfer(address from, address to, uint256 tokenId, uint256 amount) external view returns (bool);
}

/// @notice ERC-7943 (uRWA) conformance of the receivable token, from the standard's text: an account is a piece's
///         owner, a token id a piece, an amount a value in minor units. Value freezes (`setFrozenTokens`), the
///         compliance views (`canSend`, `canReceive`, `canTransfer`, `getFrozenTokens`), forced transfers
///         (`forcedTransfer`, and Tierchain's `forceTransferOrder`), their events, errors and interface id.
contract ERC7943Test is World {
    uint256 internal constant FACE = 100_000_000;
    uint256 internal slot;
    uint256 internal root;
    uint256 internal maturity;

    function setUp() public {
        _deployWorld();
        (slot, root) = issueDefault();
        maturity = block.timestamp + 180 days;
    }

    function _freezeValue(uint256 tokenId, uint256 amount) internal {
        address owner = token.ownerOf(tokenId);
        vm.prank(regulator);
        assertTrue(token.setFrozenTokens(owner, tokenId, amount));
    }

    function _frozen(uint256 tokenId) internal view returns (uint256) {
        return token.getFrozenTokens(token.ownerOf(tokenId), tokenId);
    }

    function _unfrozenError(address account, uint256 tokenId, uint256 amount, uint256 unfrozen)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(
            IERC7943MultiToken.ERC7943InsufficientUnfrozenBalance.selector, account, tokenId, amount, unfrozen
        );
    }

    // ------------------------------------------------------------------ ERC-165

    function test_supportsInterface_declaresTheMultiTokenId() public view {
        IERC7943MultiToken i;
        bytes4 computed = i.forcedTransfer.selector ^ i.setFrozenTokens.selector ^ i.canSend.selector
            ^ i.canReceive.selector ^ i.getFrozenTokens.selector ^ i.canTransfer.selector;
        assertEq(computed, bytes4(0x41c4fbad));
        assertEq(type(IERC7943MultiToken).interfaceId, bytes4(0x41c4fbad));
        assertTrue(token.supportsInterface(0x41c4fbad));
        assertEq(type(IERC7943MultiTokenDraft).interfaceId, bytes4(0x5627c61a));
        assertTrue(token.supportsInterface(0x5627c61a));
        assertFalse(token.supportsInterface(0xffffffff));
    }

    // ------------------------------------------------------------------ canSend, canReceive, canTransact

    function test_canSendReceiveTransact_followTheRegistry() public {
        assertTrue(token.canSend(supplier1));
        assertTrue(token.canReceive(supplier1));
        assertTrue(token.canTransact(bank1));
        assertFalse(token.canSend(stranger), "not registered");
        assertFalse(token.canReceive(regulator), "registered, but not a holder");
        assertFalse(token.canTransact(address(0)));
        _suspend(supplier2);
        assertFalse(token.canSend(supplier2));
        assertFalse(token.canReceive(supplier2));
        assertFalse(token.canTransact(supplier2));
    }

    // ------------------------------------------------------------------ setFrozenTokens, getFrozenTokens

    function test_setFrozenTokens_setsOverwritesAndLifts() public {
        vm.expectEmit(address(token));
        emit IERC7943MultiToken.Frozen(supplier1, root, 30_000_000);
        _freezeValue(root, 30_000_000);
        assertEq(_frozen(root), 30_000_000);
        assertFalse(token.isFrozen(root), "isFrozen reports the whole freeze only");
        assertEq(token.getFrozenTokens(supplier2, root), 0, "another account holds nothing of it");
        _freezeValue(root, 10_000_000);
        assertEq(_frozen(root), 10_000_000, "overwrites, like approve");
        _freezeValue(root, FACE * 2);
        assertEq(_frozen(root), FACE * 2, "may exceed the value");
        _freezeValue(root, 0);
        assertEq(_frozen(root), 0);
        split(supplier1, root, supplier2, FACE / 2); // free again
    }

    function test_getFrozenTokens_ofAWholeFreezeIsTheWholeValue() public {
        vm.prank(regulator);
        token.freeze(root, 1);
        assertEq(_frozen(root), FACE);
        assertTrue(token.isFrozen(root));
    }

    function test_RevertWhen_setFrozenTokensByANonRegulator() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.MissingRole.selector, supplier1, Roles.REGULATOR));
        vm.prank(supplier1);
        token.setFrozenTokens(supplier1, root, 1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, court));
        vm.prank(court);
        token.setFrozenTokens(supplier1, root, 1);
    }

    function test_RevertWhen_setFrozenTokensForANonOwnerOrAWholeFreeze() public {
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.IncorrectOwner.selector, supplier2, root, supplier1)
        );
        vm.prank(regulator);
        token.setFrozenTokens(supplier2, root, 1);
        vm.prank(regulator);
        token.freeze(root, 1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenFrozen.selector, root));
        vm.prank(regulator);
        token.setFrozenTokens(supplier1, root, 1);
        // And the whole freeze is not lifted by the value tool, nor a value freeze by `unfreeze`.
        vm.prank(regulator);
        token.unfreeze(root, 2);
        _freezeValue(root, 5);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenNotFrozen.selector, root));
        vm.prank(regulator);
        token.unfreeze(root, 3);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenFrozen.selector, root));
        vm.prank(regulator);
        token.freeze(root, 4);
    }

    // ------------------------------------------------------------------ holder moves under a value freeze

    function test_valueFreeze_holderMovesKeepTheFrozenValue() public {
        _freezeValue(root, 60_000_000);
        split(supplier1, root, supplier2, 40_000_000); // leaves exactly the frozen value
        assertEq(token.balanceOf(root), 60_000_000);
        vm.expectRevert(_unfrozenError(supplier1, root, 100, 0));
        vm.prank(supplier1);
        token.transferFrom(root, supplier2, 100);
        // A whole-token move, a merge out and redemption are refused the same way; a merge in is fine.
        vm.expectRevert(_unfrozenError(supplier1, root, 60_000_000, 0));
        vm.prank(supplier1);
        token.transferFrom(supplier1, supplier3, root);
        uint256 own = split(supplier2, token.lastTokenId(), supplier1, 1_000_000);
        vm.prank(supplier1);
        token.transferFrom(own, root, 1_000_000);
        assertEq(token.balanceOf(root), 61_000_000);
        vm.prank(supplier1);
        token.transferFrom(root, supplier2, 1_000_000);
        vm.expectRevert(_unfrozenError(supplier1, root, 100, 0));
        vm.prank(supplier1);
        token.transferFrom(root, own, 100);
    }

    function test_valueFreeze_refusesFinancingTheWholePieceAndRedemption() public {
        _freezeValue(root, 1);
        fund(bank1, FACE);
        uint256 offerId = makeOffer(bank1, root, FACE, 450, 0);
        vm.expectRevert(_unfrozenError(supplier1, root, FACE, FACE - 1));
        vm.prank(supplier1);
        financing.accept(offerId);
        repayInFull(slot);
        vm.warp(maturity);
        vm.expectRevert(_unfrozenError(supplier1, root, FACE, FACE - 1));
        vm.prank(supplier1);
        repayment.redeem(root);
    }

    /// @notice Value-freeze arithmetic: a split of `amount` succeeds exactly when the rest covers the frozen
    ///         value, and a piece never ends below its frozen value through a holder move.
    function testFuzz_valueFreeze_splitLeavesTheFrozenValue(uint256 frozen, uint256 units) public {
        frozen = bound(frozen, 1, FACE * 2);
        units = bound(units, 1, FACE / MIN_UNIT);
        uint256 amount = units * MIN_UNIT;
        _freezeValue(root, frozen);
        bool fits = FACE - amount >= frozen;
        assertEq(token.canTransfer(supplier1, supplier2, root, amount), fits && amount < FACE);
        if (!fits) {
            vm.expectRevert(_unfrozenError(supplier1, root, amount, FACE > frozen ? FACE - frozen : 0));
        }
        vm.prank(supplier1);
        token.transferFrom(root, supplier2, amount);
        assertGe(token.balanceOf(root), fits ? frozen : FACE);
        assertEq(_frozen(root), frozen, "a holder move never changes the frozen value");
    }

    /// @notice Whatever holder moves are tried in whatever order, the piece's value never drops below its frozen
    ///         value.
    function testFuzz_valueFreeze_neverBreachedByHolderMoves(uint256 frozen, uint256[4] memory tries) public {
        frozen = bound(frozen, 1, FACE);
        _freezeValue(root, frozen);
        for (uint256 i = 0; i < tries.length; ++i) {
            uint256 amount = bound(tries[i], 1, FACE / MIN_UNIT) * MIN_UNIT;
            vm.prank(supplier1);
            if (i % 2 == 0) {
                try token.transferFrom(root, supplier2, amount) {} catch {}
            } else {
                try token.transferFrom(supplier1, supplier2, root) {} catch {}
            }
            assertEq(token.ownerOf(root), supplier1);
            assertGe(token.balanceOf(root), frozen);
        }
    }

    // ------------------------------------------------------------------ canTransfer

    function test_canTransfer_appliesEveryRuleAndNeverReverts() public {
        assertTrue(token.canTransfer(supplier1, supplier2, root, 1_000_000));
        assertTrue(token.canTransfer(supplier1, supplier2, root, FACE), "whole");
        assertFalse(token.canTransfer(supplier2, supplier3, root, 1_000_000), "not the owner");
        assertFalse(token.canTransfer(supplier1, supplier2, root, 150), "not a multiple of the minimum unit");
        assertFalse(token.canTransfer(supplier1, supplier2, root, 0));
        assertFalse(token.canTransfer(supplier1, supplier2, root, FACE + MIN_UNIT), "more than the value");
        assertFalse(token.canTransfer(supplier1, stranger, root, 1_000_000), "receiver not a holder");
        assertFalse(token.canTransfer(supplier1, supplier2, 999, 1_000_000), "no such token");
        assertFalse(token.canTransfer(supplier1, address(0), root, 1_000_000));
        _freezeValue(root, 1);
        assertTrue(token.canTransfer(supplier1, supplier2, root, 1_000_000));
        assertFalse(token.canTransfer(supplier1, supplier2, root, FACE), "a whole move of a value-frozen piece");
        _freezeValue(root, 0);
        vm.prank(regulator);
        token.freeze(root, 1);
        assertFalse(token.canTransfer(supplier1, supplier2, root, 1_000_000), "frozen whole");
        vm.prank(regulator);
        token.unfreeze(root, 1);
        vm.prank(admin);
        registry.pause(Roles.OP_MOVES, "incident");
        assertFalse(token.canTransfer(supplier1, supplier2, root, 1_000_000), "moves paused");
        vm.prank(admin);
        registry.unpause(Roles.OP_MOVES, "over");
        vm.warp(maturity);
        assertFalse(token.canTransfer(supplier1, supplier2, root, 1_000_000), "matured");
    }

    // ------------------------------------------------------------------ forcedTransfer

    function test_forcedTransfer_splitCarriesTheFrozenShare() public {
        _freezeValue(root, 30_000_000);
        uint256 next = token.lastTokenId() + 1;
        vm.expectEmit(address(token));
        emit IERC7943MultiToken.Frozen(supplier1, root, 0);
        vm.expectEmit(address(token));
        emit IERC721.Transfer(address(0), supplier2, next);
        vm.recordLogs();
        vm.prank(court);
        assertTrue(token.forcedTransfer(supplier1, supplier2, root, 40_000_000));
        // The moved part's frozen share is min(frozen, amount) = 30,000,000: all of it went along.
        assertEq(_frozen(root), 0);
        assertFalse(token.isFrozen(root));
        assertEq(token.ownerOf(next), supplier2);
        assertEq(token.balanceOf(next), 40_000_000);
        assertEq(_frozen(next), 30_000_000);
        vm.expectRevert(_unfrozenError(supplier2, next, 20_000_000, 10_000_000));
        vm.prank(supplier2);
        token.transferFrom(next, supplier3, 20_000_000);
    }

    function test_forcedTransfer_emitsTheStandardAndTierchainEvents() public {
        _freezeValue(root, 50_000_000);
        uint256 next = token.lastTokenId() + 1;
        vm.expectEmit(address(token));
        emit IERC7943MultiToken.Frozen(supplier1, root, 40_000_000);
        vm.expectEmit(address(token));
        emit IERC7943MultiToken.Frozen(supplier2, next, 10_000_000);
        vm.expectEmit(address(token));
        emit IERC7943MultiToken.ForcedTransfer(supplier1, supplier2, root, 10_000_000);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.ForcedTransfer(root, next, supplier2, 10_000_000, bytes32(0), court);
        vm.prank(court);
        token.forcedTransfer(supplier1, supplier2, root, 10_000_000);
        assertEq(_frozen(root), 40_000_000);
        assertEq(_frozen(next), 10_000_000);
    }

    function test_forcedTransfer_wholePieceKeepsItsFreeze() public {
        _freezeValue(root, 25_000_000);
        vm.expectEmit(address(token));
        emit IERC7943MultiToken.Frozen(supplier1, root, 0);
        vm.expectEmit(address(token));
        emit IERC721.Transfer(supplier1, supplier2, root);
        vm.expectEmit(address(token));
        emit IERC7943MultiToken.Frozen(supplier2, root, 25_000_000);
        vm.prank(court);
        token.forcedTransfer(supplier1, supplier2, root, FACE);
        assertEq(token.ownerOf(root), supplier2);
        assertEq(_frozen(root), 25_000_000);
    }

    /// @notice The self-transfer that used to lift a freeze silently is refused, and the freeze stays.
    function test_RevertWhen_forcedTransferToItself() public {
        vm.prank(regulator);
        token.freeze(root, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IERC7943MultiToken.ERC7943CannotTransfer.selector, supplier1, supplier1, root, FACE)
        );
        vm.prank(court);
        token.forcedTransfer(supplier1, supplier1, root, FACE);
        vm.expectRevert(
            abi.encodeWithSelector(IERC7943MultiToken.ERC7943CannotTransfer.selector, supplier1, supplier1, root, 100)
        );
        vm.prank(court);
        token.forceTransferOrder(root, supplier1, 100, "order", true);
        assertTrue(token.isFrozen(root));
    }

    function test_RevertWhen_forcedTransferFromANonOwnerOrWithoutEnforcement() public {
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.IncorrectOwner.selector, supplier2, root, supplier1)
        );
        vm.prank(court);
        token.forcedTransfer(supplier2, supplier3, root, 100);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotAuthorized.selector, regulator));
        vm.prank(regulator);
        token.forcedTransfer(supplier1, supplier2, root, 100);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, stranger));
        vm.prank(court);
        token.forcedTransfer(supplier1, stranger, root, 100);
    }

    /// @notice Frozen value is conserved by a forced split: what stays plus what moves is what was frozen.
    function testFuzz_forcedTransfer_frozenShareRule(uint256 frozen, uint256 units) public {
        frozen = bound(frozen, 1, FACE * 2);
        units = bound(units, 1, FACE / MIN_UNIT - 1);
        uint256 amount = units * MIN_UNIT;
        _freezeValue(root, frozen);
        uint256 next = token.lastTokenId() + 1;
        vm.prank(court);
        token.forcedTransfer(supplier1, supplier2, root, amount);
        uint256 share = frozen < amount ? frozen : amount;
        assertEq(_frozen(next), share);
        assertEq(_frozen(root), frozen - share);
        assertEq(token.balanceOf(root) + token.balanceOf(next), FACE);
    }

    // ------------------------------------------------------------------ forceTransferOrder

    function test_forceTransferOrder_releasesTheMovedShareOnRequest() public {
        _freezeValue(root, 30_000_000);
        uint256 next = token.lastTokenId() + 1;
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.ForcedTransfer(root, next, supplier2, 40_000_000, "court-2026-7", court);
        vm.prank(court);
        assertEq(token.forceTransferOrder(root, supplier2, 40_000_000, "court-2026-7", true), next);
        assertEq(_frozen(next), 0);
        assertEq(_frozen(root), 0);
        vm.prank(supplier2);
        token.transferFrom(next, supplier3, 40_000_000 - MIN_UNIT);
    }

    function test_forceTransferOrder_releasesAWholeFreeze() public {
        vm.prank(regulator);
        token.freeze(root, 1);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.Unfrozen(root, court, 0);
        vm.prank(court);
        token.forceTransferOrder(root, supplier2, FACE, "order", true);
        assertFalse(token.isFrozen(root));
        assertEq(token.ownerOf(root), supplier2);
    }

    function test_forceTransferOrder_splitOfAWholeFreezeFreezesTheMovedValue() public {
        vm.prank(regulator);
        token.freeze(root, 1);
        uint256 next = token.lastTokenId() + 1;
        vm.prank(court);
        token.forceTransferOrder(root, supplier2, 10_000_000, "order", false);
        assertTrue(token.isFrozen(root), "what stays is still frozen whole");
        assertEq(_frozen(next), 10_000_000, "the moved part keeps its share frozen, by value");
        // forceTransfer keeps its meaning: a split-off piece starts unfrozen.
        uint256 third = token.lastTokenId() + 1;
        vm.prank(court);
        token.forceTransfer(root, supplier3, 10_000_000, "order-2");
        assertEq(_frozen(third), 0);
    }
}
