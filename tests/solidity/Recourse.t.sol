// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {console2} from "forge-std/console2.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {World} from "./utils/World.sol";
import {FinancingDesk} from "../../contracts/FinancingDesk.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IRepaymentAccounts} from "../../contracts/interfaces/IRepaymentAccounts.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";

/// @notice Recourse (追索): a financing made with recourse gives its bank, once the obligation is in default,
///         a claim on the seller for the shortfall, settled in parts (清偿) or waived (放弃追索).
contract RecourseTest is World {
    uint256 internal constant FACE = 100_000_000; // 1,000,000.00 CNY
    uint256 internal constant RATE = 450;
    uint256 internal constant PAID = 40_000_000; // the obligor pays 40% before it defaults

    uint256 internal slot;
    uint256 internal root;
    uint256 internal maturity;

    function setUp() public {
        _deployWorld();
        (slot, root) = issueDefault();
        maturity = block.timestamp + 180 days;
        fund(bank1, 1_000_000_000);
        fund(bank2, 1_000_000_000);
    }

    // ------------------------------------------------------------------ helpers

    function _offer(address bank, uint256 tokenId, uint256 value, bool recourse) internal returns (uint256 id) {
        vm.prank(bank);
        id = financing.makeOffer(tokenId, value, RATE, 0, recourse, block.timestamp + 1 days);
    }

    /// @dev supplier1 sells `value` of the root to bank1, with or without recourse.
    function _financed(uint256 value, bool recourse) internal returns (uint256 offerId, uint256 piece) {
        offerId = _offer(bank1, root, value, recourse);
        vm.prank(supplier1);
        piece = financing.accept(offerId);
    }

    function _pay(uint256 amount) internal {
        if (amount == 0) return;
        fund(core1, amount);
        vm.prank(core1);
        repayment.deposit(slot, amount);
    }

    function _default() internal {
        vm.warp(maturity + GRACE);
        repayment.declareDefault(slot);
    }

    /// @dev A whole financing with recourse, 40% paid, defaulted, and the claim opened: 60,000,000 short.
    function _openClaim() internal returns (uint256 offerId) {
        (offerId,) = _financed(FACE, true);
        _pay(PAID);
        _default();
        vm.prank(bank1);
        financing.openRecourse(offerId);
    }

    function _settle(uint256 offerId, uint256 amount) internal {
        vm.prank(supplier1);
        financing.settleRecourse(offerId, amount);
    }

    // ------------------------------------------------------------------ acceptance

    function test_accept_recordsTheSellerOnlyWithRecourse() public {
        (uint256 with,) = _financed(FACE / 2, true);
        (uint256 without,) = _financed(FACE / 4, false);
        assertEq(financing.recourseSeller(with), supplier1);
        assertEq(financing.recourseSeller(without), address(0));
        FinancingDesk.RecourseClaim memory c = financing.recourseClaim(with);
        assertEq(uint8(c.state), uint8(FinancingDesk.RecourseState.None));
        assertEq(c.seller, supplier1);
        assertEq(c.shortfall, 0);
    }

    // ------------------------------------------------------------------ openRecourse

    function test_openRecourse_claimsTheShortfallAndEmits() public {
        (uint256 offerId, uint256 piece) = _financed(FACE, true);
        _pay(PAID);
        _default();
        uint256 shortfall = FACE - PAID;
        vm.expectEmit(address(financing));
        emit FinancingDesk.RecourseOpened(offerId, bank1, supplier1, slot, shortfall);
        vm.prank(bank1);
        financing.openRecourse(offerId);

        FinancingDesk.RecourseClaim memory c = financing.recourseClaim(offerId);
        assertEq(uint8(c.state), uint8(FinancingDesk.RecourseState.Open));
        assertEq(c.bank, bank1);
        assertEq(c.seller, supplier1);
        assertEq(c.slot, slot);
        assertEq(c.currency, address(cash));
        assertEq(c.shortfall, shortfall);
        assertEq(c.settled, 0);
        assertEq(c.remaining, shortfall);
        // The bank then redeems what the piece pays: claim + redemption = the financed value.
        vm.prank(bank1);
        uint256 payout = repayment.redeem(piece);
        assertEq(payout + c.shortfall, FACE);
    }

    function test_openRecourse_partFinancedPieceRoundsLikeRedemption() public {
        _pay(33_333_333);
        (uint256 offerId, uint256 piece) = _financed(12_345_600, true);
        _default();
        vm.prank(bank1);
        financing.openRecourse(offerId);
        uint256 shortfall = financing.recourseClaim(offerId).shortfall;
        vm.prank(bank1);
        uint256 payout = repayment.redeem(piece);
        assertEq(shortfall, 12_345_600 - payout, "shortfall = value - what the piece redeems");
    }

    function test_openRecourse_nothingPaidClaimsTheWholeValue() public {
        (uint256 offerId,) = _financed(FACE, true);
        _default();
        vm.prank(bank1);
        financing.openRecourse(offerId);
        assertEq(financing.recourseClaim(offerId).shortfall, FACE);
    }

    function test_RevertWhen_openRecourseWithoutRecourse() public {
        (uint256 offerId,) = _financed(FACE, false);
        _default();
        vm.prank(bank1);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.NoRecourse.selector, offerId));
        financing.openRecourse(offerId);
    }

    function test_RevertWhen_openRecourseByAnotherAccount() public {
        (uint256 offerId,) = _financed(FACE, true);
        _default();
        vm.prank(bank2);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.NotOfferBank.selector, offerId, bank2));
        financing.openRecourse(offerId);
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.NotOfferBank.selector, offerId, supplier1));
        financing.openRecourse(offerId);
    }

    function test_RevertWhen_openRecourseOnUnknownOrUnacceptedOffer() public {
        vm.prank(bank1);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.UnknownOffer.selector, 7));
        financing.openRecourse(7);
        uint256 offerId = _offer(bank1, root, FACE, true);
        vm.prank(bank1);
        vm.expectRevert(
            abi.encodeWithSelector(FinancingDesk.NotFinanced.selector, offerId, FinancingDesk.OfferStatus.Open)
        );
        financing.openRecourse(offerId);
    }

    function test_RevertWhen_openRecourseBeforeDefault() public {
        (uint256 offerId,) = _financed(FACE, true);
        _pay(PAID);
        vm.prank(bank1);
        vm.expectRevert(
            abi.encodeWithSelector(FinancingDesk.NotDefaulted.selector, slot, IRepaymentAccounts.State.Outstanding)
        );
        financing.openRecourse(offerId);
        vm.warp(maturity + 1);
        repayment.markOverdue(slot);
        vm.prank(bank1);
        vm.expectRevert(
            abi.encodeWithSelector(FinancingDesk.NotDefaulted.selector, slot, IRepaymentAccounts.State.Overdue)
        );
        financing.openRecourse(offerId);
    }

    function test_RevertWhen_openRecourseAfterRepayment() public {
        (uint256 offerId,) = _financed(FACE, true);
        repayInFull(slot);
        vm.prank(bank1);
        vm.expectRevert(
            abi.encodeWithSelector(FinancingDesk.NotDefaulted.selector, slot, IRepaymentAccounts.State.Repaid)
        );
        financing.openRecourse(offerId);
    }

    function test_RevertWhen_openRecourseTwice() public {
        uint256 offerId = _openClaim();
        vm.prank(bank1);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.RecourseAlreadyOpen.selector, offerId));
        financing.openRecourse(offerId);
    }

    function test_RevertWhen_openRecourseAfterThePieceWasRedeemed() public {
        (uint256 offerId, uint256 piece) = _financed(FACE, true);
        _pay(PAID);
        _default();
        vm.prank(bank1);
        repayment.redeem(piece);
        vm.prank(bank1);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.RecoursePieceNotHeld.selector, offerId, piece));
        financing.openRecourse(offerId);
    }

    function test_RevertWhen_openRecourseAfterThePieceWasSoldOnInPart() public {
        (uint256 offerId, uint256 piece) = _financed(FACE, true);
        vm.prank(bank1);
        token.transferFrom(piece, bank2, 1_000_000);
        _default();
        vm.prank(bank1);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.RecoursePieceNotHeld.selector, offerId, piece));
        financing.openRecourse(offerId);
    }

    function test_RevertWhen_openRecourseWhileFinancingPaused() public {
        (uint256 offerId,) = _financed(FACE, true);
        _default();
        vm.prank(admin);
        registry.pause(Roles.OP_FINANCING, "incident");
        vm.prank(bank1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.OperationPaused.selector, Roles.OP_FINANCING));
        financing.openRecourse(offerId);
    }

    // ------------------------------------------------------------------ settleRecourse

    function test_settleRecourse_inPartsPaysTheBankAndSettles() public {
        uint256 offerId = _openClaim();
        fund(supplier1, FACE);
        uint256 bankBefore = cash.balanceOf(bank1);
        uint256 sellerBefore = cash.balanceOf(supplier1);

        vm.expectEmit(address(financing));
        emit FinancingDesk.RecourseSettled(offerId, supplier1, 10_000_000, 50_000_000);
        _settle(offerId, 10_000_000);
        FinancingDesk.RecourseClaim memory c = financing.recourseClaim(offerId);
        assertEq(uint8(c.state), uint8(FinancingDesk.RecourseState.PartlySettled));
        assertEq(c.settled, 10_000_000);
        assertEq(c.remaining, 50_000_000);

        vm.expectEmit(address(financing));
        emit FinancingDesk.RecourseSettled(offerId, supplier1, 50_000_000, 0);
        _settle(offerId, 50_000_000);
        c = financing.recourseClaim(offerId);
        assertEq(uint8(c.state), uint8(FinancingDesk.RecourseState.Settled));
        assertEq(c.settled, 60_000_000);
        assertEq(c.remaining, 0);
        assertEq(cash.balanceOf(bank1) - bankBefore, 60_000_000);
        assertEq(sellerBefore - cash.balanceOf(supplier1), 60_000_000);
        assertEq(cash.balanceOf(address(financing)), 0, "the desk holds nothing");
    }

    function test_RevertWhen_settleRecourseAboveWhatRemains() public {
        uint256 offerId = _openClaim();
        fund(supplier1, FACE);
        _settle(offerId, 59_000_000);
        vm.prank(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(FinancingDesk.RecourseOverpayment.selector, offerId, 1_000_001, 1_000_000)
        );
        financing.settleRecourse(offerId, 1_000_001);
    }

    function test_RevertWhen_settleRecourseOfZero() public {
        uint256 offerId = _openClaim();
        vm.prank(supplier1);
        vm.expectRevert(FinancingDesk.ZeroRecourseAmount.selector);
        financing.settleRecourse(offerId, 0);
    }

    function test_RevertWhen_settleRecourseByAnotherAccount() public {
        uint256 offerId = _openClaim();
        fund(supplier2, FACE);
        vm.prank(supplier2);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.NotRecourseSeller.selector, offerId, supplier2));
        financing.settleRecourse(offerId, 1);
    }

    function test_RevertWhen_settleRecourseWithoutAnOpenClaim() public {
        (uint256 offerId,) = _financed(FACE, true);
        vm.prank(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(FinancingDesk.RecourseNotOpen.selector, offerId, FinancingDesk.RecourseState.None)
        );
        financing.settleRecourse(offerId, 1);
    }

    function test_RevertWhen_settleRecourseAfterSettledOrWaived() public {
        uint256 offerId = _openClaim();
        fund(supplier1, FACE);
        _settle(offerId, FACE - PAID);
        vm.prank(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(FinancingDesk.RecourseNotOpen.selector, offerId, FinancingDesk.RecourseState.Settled)
        );
        financing.settleRecourse(offerId, 1);
    }

    function test_RevertWhen_settleRecourseWithoutFunds_nothingMoves() public {
        uint256 offerId = _openClaim();
        vm.prank(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(financing), 0, 1)
        );
        financing.settleRecourse(offerId, 1);
        assertEq(uint8(financing.recourseClaim(offerId).state), uint8(FinancingDesk.RecourseState.Open));
    }

    function test_settleAndWaive_workWhileFinancingIsPausedAndTheSellerSuspended() public {
        uint256 offerId = _openClaim();
        fund(supplier1, FACE);
        vm.prank(admin);
        registry.pause(Roles.OP_ALL, "incident");
        _suspend(supplier1);
        _settle(offerId, 1_000_000);
        vm.prank(bank1);
        financing.waiveRecourse(offerId);
        assertEq(uint8(financing.recourseClaim(offerId).state), uint8(FinancingDesk.RecourseState.Waived));
    }

    // ------------------------------------------------------------------ waiveRecourse

    function test_waiveRecourse_forgivesWhatRemains() public {
        uint256 offerId = _openClaim();
        fund(supplier1, FACE);
        _settle(offerId, 15_000_000);
        vm.expectEmit(address(financing));
        emit FinancingDesk.RecourseWaived(offerId, bank1, 45_000_000);
        vm.prank(bank1);
        financing.waiveRecourse(offerId);
        FinancingDesk.RecourseClaim memory c = financing.recourseClaim(offerId);
        assertEq(uint8(c.state), uint8(FinancingDesk.RecourseState.Waived));
        assertEq(c.settled, 15_000_000);
        assertEq(c.remaining, 0);
        vm.prank(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(FinancingDesk.RecourseNotOpen.selector, offerId, FinancingDesk.RecourseState.Waived)
        );
        financing.settleRecourse(offerId, 1);
    }

    function test_RevertWhen_waiveRecourseByAnotherAccount() public {
        uint256 offerId = _openClaim();
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.NotOfferBank.selector, offerId, supplier1));
        financing.waiveRecourse(offerId);
    }

    function test_RevertWhen_waiveRecourseNotOpen() public {
        (uint256 offerId,) = _financed(FACE, true);
        vm.prank(bank1);
        vm.expectRevert(
            abi.encodeWithSelector(FinancingDesk.RecourseNotOpen.selector, offerId, FinancingDesk.RecourseState.None)
        );
        financing.waiveRecourse(offerId);
        _pay(PAID);
        _default();
        vm.prank(bank1);
        financing.openRecourse(offerId);
        vm.prank(bank1);
        financing.waiveRecourse(offerId);
        vm.prank(bank1);
        vm.expectRevert(
            abi.encodeWithSelector(FinancingDesk.RecourseNotOpen.selector, offerId, FinancingDesk.RecourseState.Waived)
        );
        financing.waiveRecourse(offerId);
    }

    // ------------------------------------------------------------------ fuzz

    /// @notice Any sequence of partial settlements sums to the shortfall, and the bank receives exactly what
    ///         the seller paid.
    function testFuzz_partialSettlementsSumToTheShortfall(uint256 paid, uint256 value, uint256[8] memory parts) public {
        paid = bound(paid, 0, FACE - 1);
        value = bound(value, 1, FACE / MIN_UNIT) * MIN_UNIT; // whole units, as the token splits
        _pay(paid);
        (uint256 offerId, uint256 piece) = _financed(value, true);
        _default();
        vm.prank(bank1);
        financing.openRecourse(offerId);
        uint256 shortfall = financing.recourseClaim(offerId).shortfall;
        assertEq(shortfall, value - repayment.payoutFor(slot, value));
        assertGt(shortfall, 0);

        fund(supplier1, shortfall);
        uint256 bankBefore = cash.balanceOf(bank1);
        uint256 sellerBefore = cash.balanceOf(supplier1);
        uint256 remaining = shortfall;
        for (uint256 i = 0; i < parts.length && remaining > 0; ++i) {
            uint256 amount = i == parts.length - 1 ? remaining : bound(parts[i], 1, remaining);
            _settle(offerId, amount);
            remaining -= amount;
            assertEq(financing.recourseClaim(offerId).remaining, remaining);
        }
        FinancingDesk.RecourseClaim memory c = financing.recourseClaim(offerId);
        assertEq(uint8(c.state), uint8(FinancingDesk.RecourseState.Settled));
        assertEq(c.settled, shortfall);
        assertEq(cash.balanceOf(bank1) - bankBefore, sellerBefore - cash.balanceOf(supplier1));
        assertEq(cash.balanceOf(bank1) - bankBefore, shortfall);
        // What the bank recovers in all: the piece's redemption plus the claim, exactly the financed value.
        vm.prank(bank1);
        assertEq(repayment.redeem(piece) + shortfall, value);
    }
}

/// @notice Execution gas of opening, settling (in part and in full) and waiving a recourse claim, each in a
///         transaction of its own (preconditions committed in `setUp`, contracts cooled); printed.
contract RecourseGasTest is World {
    uint256 internal toOpen;
    uint256 internal opened;

    function setUp() public {
        _deployWorld();
        (uint256 slot, uint256 root) = issueDefault();
        fund(bank1, 1_000_000_000);
        fund(supplier1, 1_000_000_000);
        uint256 a = _sell(root, 40_000_000);
        uint256 b = _sell(root, 40_000_000);
        fund(core1, 10_000_000);
        vm.prank(core1);
        repayment.deposit(slot, 10_000_000);
        vm.warp(block.timestamp + 180 days + GRACE);
        repayment.declareDefault(slot);
        vm.prank(bank1);
        financing.openRecourse(b);
        (toOpen, opened) = (a, b);
    }

    function _sell(uint256 root, uint256 value) internal returns (uint256 offerId) {
        vm.prank(bank1);
        offerId = financing.makeOffer(root, value, 450, 0, true, block.timestamp + 1 days);
        vm.prank(supplier1);
        financing.accept(offerId);
    }

    function _cool() internal {
        vm.cool(address(registry));
        vm.cool(address(token));
        vm.cool(address(financing));
        vm.cool(address(repayment));
        vm.cool(address(cash));
    }

    function _report(string memory name) internal {
        uint256 used = vm.lastCallGas().gasTotalUsed;
        console2.log(name, used);
        assertLt(used, 200_000, name);
    }

    function test_gas_recourseOpen() public {
        _cool();
        vm.prank(bank1);
        financing.openRecourse(toOpen);
        _report("recourseOpen");
    }

    function test_gas_recourseSettlePart() public {
        _cool();
        vm.prank(supplier1);
        financing.settleRecourse(opened, 1_000_000);
        _report("recourseSettlePart");
    }

    function test_gas_recourseSettleFull() public {
        _cool();
        vm.prank(supplier1);
        financing.settleRecourse(opened, 36_000_000); // 40,000,000 less the 10% it redeems
        _report("recourseSettleFull");
    }

    function test_gas_recourseWaive() public {
        _cool();
        vm.prank(bank1);
        financing.waiveRecourse(opened);
        _report("recourseWaive");
    }
}
