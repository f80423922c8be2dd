// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {World} from "./utils/World.sol";
import {ReentrantWallet} from "./utils/ReentrantWallet.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";

/// @notice Receiver callbacks (ERC-3525 `onERC3525Received`, ERC-721 `onERC721Received`) run while the
///         token's re-entrancy guard is held: a contract wallet cannot sell, move, merge or split anything
///         from inside one, and a batch split makes every piece before it calls any receiver.
contract ReceivableTokenReentrancyTest is World {
    uint256 internal constant FACE = 100_000_000; // 1,000,000.00 CNY

    ReentrantWallet internal wallet;
    ReentrantWallet internal bankWallet;
    uint256 internal slot;
    uint256 internal root; // held by `wallet`

    function setUp() public {
        _deployWorld();
        wallet = new ReentrantWallet(token, financing);
        _register(address(wallet), Roles.SUPPLIER);
        bankWallet = new ReentrantWallet(token, financing);
        _register(address(bankWallet), Roles.BANK);
        (slot, root) = issueDefault();
        vm.prank(supplier1);
        token.transferFrom(supplier1, address(wallet), root);
        fund(bank1, 10 * FACE);
    }

    // ------------------------------------------------------------------ helpers

    function _pair(address a, address b) internal pure returns (address[] memory r) {
        r = new address[](2);
        (r[0], r[1]) = (a, b);
    }

    function _pair(uint256 a, uint256 b) internal pure returns (uint256[] memory r) {
        r = new uint256[](2);
        (r[0], r[1]) = (a, b);
    }

    function _plan(
        ReentrantWallet.Action action,
        uint256 tokenId,
        uint256 other,
        uint256 offerId,
        address to,
        uint256 v
    ) internal pure returns (ReentrantWallet.Plan memory) {
        return ReentrantWallet.Plan(action, tokenId, other, offerId, to, v);
    }

    function _assertRefusedByGuard(ReentrantWallet w) internal view {
        assertTrue(w.attempted(), "the callback did not run the armed action");
        assertFalse(w.lastSucceeded(), "the re-entrant action went through");
        assertEq(w.lastError(), abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector));
    }

    /// @dev Σ live values of the slot == its supply == face (nothing redeemed in these tests).
    function _assertSlotConserved() internal view {
        uint256 sum;
        for (uint256 id = 1; id <= token.lastTokenId(); ++id) {
            if (token.exists(id) && token.slotOf(id) == slot) sum += token.balanceOf(id);
        }
        assertEq(sum, token.slotTerms(slot).supply, "supply != sum of live values");
        assertEq(sum, FACE, "value created or destroyed");
    }

    // ------------------------------------------------------------------ the reported attacks

    /// @notice The review's attack: the wallet batch-splits its token; inside the first receiver callback it
    ///         sells the token (now worth the rest) whole to a bank; the later pieces must not come out of
    ///         the bank's token.
    function test_splitBatch_receiverSellingSourceMidBatch_doesNotDrainBank() public {
        uint256 rest = FACE - MIN_UNIT;
        uint256 offerId = makeOffer(bank1, root, rest, 500, 0);
        wallet.arm(_plan(ReentrantWallet.Action.Sell, 0, 0, offerId, address(0), 0));
        uint256 bankCash = cash.balanceOf(bank1);

        try wallet.splitBatch(root, _pair(address(wallet), address(wallet)), _pair(MIN_UNIT, rest)) {} catch {}

        uint256 paid = bankCash - cash.balanceOf(bank1);
        if (paid != 0) {
            assertEq(token.ownerOf(root), bank1, "bank paid but holds nothing");
            assertEq(token.balanceOf(root), rest, "bank paid for value it does not hold");
        }
        _assertSlotConserved();
        _assertRefusedByGuard(wallet);
        assertEq(paid, 0, "bank paid");
    }

    /// @notice The same with a plain ERC-721 transfer inside the callback: the new owner keeps its token whole.
    function test_splitBatch_receiverTransferringSourceMidBatch_doesNotDrainNewOwner() public {
        uint256 rest = FACE - MIN_UNIT;
        wallet.arm(_plan(ReentrantWallet.Action.TransferWhole, root, 0, 0, supplier2, 0));

        try wallet.splitBatch(root, _pair(address(wallet), address(wallet)), _pair(MIN_UNIT, 10 * MIN_UNIT)) {} catch {}

        if (token.ownerOf(root) == supplier2) {
            assertEq(token.balanceOf(root), rest, "new owner's token was split after it changed hands");
        }
        _assertSlotConserved();
        _assertRefusedByGuard(wallet);
    }

    /// @notice Every piece of a batch exists (and the source is debited in full) before the first receiver
    ///         callback runs: effects before interactions.
    function test_splitBatch_makesEveryPieceBeforeTheFirstCallback() public {
        uint256 before = token.lastTokenId();
        uint256[] memory ids =
            wallet.splitBatch(root, _pair(address(wallet), address(wallet)), _pair(MIN_UNIT, 2 * MIN_UNIT));
        assertEq(wallet.callbacks(), 2);
        assertEq(wallet.lastTokenIdAtFirstCallback(), before + 2, "callback ran before the last piece existed");
        assertEq(ids[1], before + 2);
        assertEq(token.balanceOf(root), FACE - 3 * MIN_UNIT);
    }

    // ------------------------------------------------------------------ every action from every callback

    /// @notice Sell, transfer, merge and split from inside a batch split's callback are all refused.
    function test_splitBatchCallback_cannotSellTransferMergeOrSplit() public {
        uint256 other = split(address(wallet), root, address(wallet), 10 * MIN_UNIT);
        uint256 offerId = makeOffer(bank1, other, 10 * MIN_UNIT, 500, 0);
        ReentrantWallet.Plan[4] memory plans = [
            _plan(ReentrantWallet.Action.Sell, 0, 0, offerId, address(0), 0),
            _plan(ReentrantWallet.Action.TransferWhole, other, 0, 0, supplier2, 0),
            _plan(ReentrantWallet.Action.Merge, other, root, 0, address(0), MIN_UNIT),
            _plan(ReentrantWallet.Action.Split, root, 0, 0, supplier2, MIN_UNIT)
        ];
        for (uint256 i = 0; i < plans.length; ++i) {
            wallet.arm(plans[i]);
            wallet.splitBatch(root, _pair(address(wallet), supplier3), _pair(MIN_UNIT, MIN_UNIT));
            _assertRefusedByGuard(wallet);
        }
        assertEq(token.ownerOf(other), address(wallet));
        assertEq(token.balanceOf(other), 10 * MIN_UNIT);
        _assertSlotConserved();
    }

    /// @notice A split's callback cannot re-enter.
    function test_splitCallback_cannotReenter() public {
        uint256 other = split(address(wallet), root, address(wallet), 10 * MIN_UNIT);
        wallet.arm(_plan(ReentrantWallet.Action.TransferWhole, other, 0, 0, supplier2, 0));
        uint256 piece = split(address(wallet), root, supplier1, MIN_UNIT);
        vm.prank(supplier1);
        token.transferFrom(piece, address(wallet), MIN_UNIT);
        _assertRefusedByGuard(wallet);
        assertEq(token.ownerOf(other), address(wallet));
    }

    /// @notice A merge's callback cannot re-enter.
    function test_mergeCallback_cannotReenter() public {
        uint256 piece = split(address(wallet), root, supplier1, 2 * MIN_UNIT);
        wallet.arm(_plan(ReentrantWallet.Action.Split, root, 0, 0, supplier2, MIN_UNIT));
        vm.prank(supplier1);
        token.transferFrom(piece, root, MIN_UNIT);
        _assertRefusedByGuard(wallet);
        _assertSlotConserved();
    }

    /// @notice `safeTransferFrom`'s `onERC721Received` runs under the guard.
    function test_safeTransferCallback_cannotReenter() public {
        uint256 piece = split(address(wallet), root, supplier1, MIN_UNIT);
        wallet.arm(_plan(ReentrantWallet.Action.Split, root, 0, 0, supplier2, MIN_UNIT));
        vm.prank(supplier1);
        token.safeTransferFrom(supplier1, address(wallet), piece);
        _assertRefusedByGuard(wallet);
        assertEq(token.ownerOf(piece), address(wallet));
    }

    /// @notice A desk's move (a bank wallet buying part of a token) calls the buyer under the guard: the
    ///         buyer cannot re-enter, not even through another desk.
    function test_deskTransferCallback_cannotReenter() public {
        uint256 value = 10 * MIN_UNIT;
        fund(address(bankWallet), 10 * FACE);
        vm.prank(address(bankWallet));
        uint256 offerId = financing.makeOffer(root, value, 500, 0, false, block.timestamp + 1 days);
        uint256 other = split(address(wallet), root, address(bankWallet), MIN_UNIT);
        bankWallet.arm(_plan(ReentrantWallet.Action.TransferWhole, other, 0, 0, supplier2, 0));
        uint256 financed = wallet.accept(offerId);
        _assertRefusedByGuard(bankWallet);
        assertEq(token.ownerOf(financed), address(bankWallet));
        assertEq(token.balanceOf(financed), value);
    }

    /// @notice A court's forced split calls the receiver under the guard too.
    function test_forceTransferCallback_cannotReenter() public {
        uint256 other = split(address(wallet), root, address(bankWallet), MIN_UNIT);
        bankWallet.arm(_plan(ReentrantWallet.Action.TransferWhole, other, 0, 0, supplier2, 0));
        vm.prank(court);
        token.forceTransfer(root, address(bankWallet), MIN_UNIT, "order-1");
        _assertRefusedByGuard(bankWallet);
        assertEq(token.ownerOf(other), address(bankWallet));
    }
}
