// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {console2} from "forge-std/console2.sol";
import {Vm} from "forge-std/Vm.sol";
import {World} from "./utils/World.sol";
import {CallbackCurrency, FeeOnTransferCurrency, HostileCurrencyWorld} from "./utils/HostileCurrencies.sol";
import {RepaymentDesk} from "../../contracts/RepaymentDesk.sol";
import {SettlementTransfer} from "../../contracts/libraries/SettlementTransfer.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IReceivableToken, IReceivableTokenBase} from "../../contracts/interfaces/IReceivableToken.sol";

contract RepaymentDeskTest is World {
    uint256 internal constant FACE = 30_000; // 300.00 CNY, three pieces of 100.00
    uint256 internal constant PIECE = 10_000;

    uint256 internal slot;
    uint256 internal root;
    uint256 internal piece2;
    uint256 internal piece3;
    uint256 internal maturity;

    function setUp() public {
        _deployWorld();
        maturity = block.timestamp + 90 days;
        (slot, root) = issue(supplier1, core1, FACE, maturity, MIN_UNIT);
        piece2 = split(supplier1, root, supplier2, PIECE);
        piece3 = split(supplier1, root, supplier3, PIECE);
        fund(core1, 1_000_000);
    }

    function _deposit(uint256 amount) internal {
        vm.prank(core1);
        repayment.deposit(slot, amount);
    }

    function _redeem(address holder, uint256 tokenId) internal returns (uint256 payout) {
        vm.prank(holder);
        payout = repayment.redeem(tokenId);
    }

    function _state() internal view returns (RepaymentDesk.State) {
        return repayment.account(slot).state;
    }

    // ------------------------------------------------------------------ deposit

    function test_deposit_acceptsPartialPaymentsAndRecordsAccount() public {
        vm.expectEmit(address(repayment));
        emit RepaymentDesk.Deposited(slot, core1, 1_000, 1_000);
        _deposit(1_000);
        vm.expectEmit(address(repayment));
        emit RepaymentDesk.Deposited(slot, core1, 2_500, 3_500);
        _deposit(2_500);

        RepaymentDesk.Account memory a = repayment.account(slot);
        assertEq(a.paid, 3_500);
        assertEq(a.face, FACE);
        assertEq(a.paidOut, 0);
        assertEq(a.redeemedValue, 0);
        assertEq(a.currency, address(cash));
        assertEq(a.maturity, maturity);
        assertEq(uint8(a.state), uint8(RepaymentDesk.State.Outstanding));
        assertEq(cash.balanceOf(address(repayment)), 3_500);
        assertEq(cash.balanceOf(core1), 1_000_000 - 3_500);
    }

    function test_deposit_fullPaymentEmitsRepaid() public {
        _deposit(FACE - 100);
        vm.expectEmit(address(repayment));
        emit RepaymentDesk.Deposited(slot, core1, 100, FACE);
        vm.expectEmit(address(repayment));
        emit RepaymentDesk.ObligationRepaid(slot, FACE);
        _deposit(100);
        assertEq(uint8(_state()), uint8(RepaymentDesk.State.Repaid));
    }

    function test_RevertWhen_depositByNonObligor() public {
        fund(core2, FACE);
        vm.prank(core2);
        vm.expectRevert(abi.encodeWithSelector(RepaymentDesk.NotObligor.selector, slot, core2));
        repayment.deposit(slot, 100);
    }

    function test_RevertWhen_depositByHolderOfTheSlot() public {
        fund(supplier1, FACE);
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(RepaymentDesk.NotObligor.selector, slot, supplier1));
        repayment.deposit(slot, 100);
    }

    function test_RevertWhen_depositBySuspendedObligor() public {
        _suspend(core1);
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, core1));
        repayment.deposit(slot, 100);
    }

    function test_RevertWhen_depositOverpays() public {
        _deposit(FACE - 100);
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(RepaymentDesk.Overpayment.selector, slot, 50));
        repayment.deposit(slot, 150);
    }

    function test_RevertWhen_depositZero() public {
        vm.prank(core1);
        vm.expectRevert(RepaymentDesk.ZeroAmount.selector);
        repayment.deposit(slot, 0);
    }

    function test_RevertWhen_depositIntoRepaidSlot() public {
        _deposit(FACE);
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(RepaymentDesk.SlotClosed.selector, slot, RepaymentDesk.State.Repaid));
        repayment.deposit(slot, 1);
    }

    function test_RevertWhen_depositIntoDefaultedSlot() public {
        vm.warp(maturity + GRACE);
        repayment.declareDefault(slot);
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(RepaymentDesk.SlotClosed.selector, slot, RepaymentDesk.State.Defaulted));
        repayment.deposit(slot, 1);
    }

    function test_RevertWhen_depositIntoNonexistentSlot() public {
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentSlot.selector, 42));
        repayment.deposit(42, 1);
    }

    function test_deposit_lateWhileOverdueRepays() public {
        vm.warp(maturity + 1 days);
        repayment.markOverdue(slot);
        _deposit(FACE);
        assertEq(uint8(_state()), uint8(RepaymentDesk.State.Repaid));
    }

    // ------------------------------------------------------------------ redeem

    function test_RevertWhen_redeemBeforeSettlement() public {
        _deposit(FACE - 100);
        vm.warp(maturity);
        vm.prank(supplier2);
        vm.expectRevert(
            abi.encodeWithSelector(RepaymentDesk.NotSettled.selector, slot, RepaymentDesk.State.Outstanding)
        );
        repayment.redeem(piece2);
    }

    function test_RevertWhen_redeemBeforeMaturity() public {
        _deposit(FACE);
        vm.prank(supplier2);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.ObligationNotMatured.selector, slot, maturity));
        repayment.redeem(piece2);
    }

    function test_redeem_afterRepaymentPaysFullValueAndBurns() public {
        _deposit(FACE);
        vm.warp(maturity);
        vm.expectEmit(address(repayment));
        emit RepaymentDesk.Redeemed(piece2, slot, supplier2, PIECE, PIECE);
        uint256 payout = _redeem(supplier2, piece2);

        assertEq(payout, PIECE);
        assertEq(cash.balanceOf(supplier2), PIECE);
        assertFalse(token.exists(piece2));
        assertEq(token.slotTerms(slot).supply, FACE - PIECE);
        RepaymentDesk.Account memory a = repayment.account(slot);
        assertEq(a.paidOut, PIECE);
        assertEq(a.redeemedValue, PIECE);
        // Lineage survives the burn.
        assertEq(token.rootOf(piece2), root);

        _redeem(supplier3, piece3);
        _redeem(supplier1, root);
        assertEq(cash.balanceOf(address(repayment)), 0);
        assertEq(token.slotTerms(slot).supply, 0);
        vm.expectRevert(abi.encodeWithSelector(RepaymentDesk.NoDust.selector, slot));
        repayment.sweepDust(slot);
    }

    function test_RevertWhen_redeemByNonHolder() public {
        _deposit(FACE);
        vm.warp(maturity);
        vm.prank(supplier3);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.IncorrectOwner.selector, supplier3, piece2, supplier2)
        );
        repayment.redeem(piece2);
    }

    function test_RevertWhen_redeemTwice() public {
        _deposit(FACE);
        vm.warp(maturity);
        _redeem(supplier2, piece2);
        vm.prank(supplier2);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, piece2));
        repayment.redeem(piece2);
    }

    function test_RevertWhen_redeemFrozenToken() public {
        _deposit(FACE);
        vm.warp(maturity);
        vm.prank(regulator);
        token.freeze(piece2, 7);
        vm.prank(supplier2);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenFrozen.selector, piece2));
        repayment.redeem(piece2);

        vm.prank(regulator);
        token.unfreeze(piece2, 7);
        assertEq(_redeem(supplier2, piece2), PIECE);
    }

    // ------------------------------------------------------------------ overdue and default

    function test_RevertWhen_markOverdueBeforeMaturity() public {
        vm.warp(maturity - 1);
        vm.expectRevert(abi.encodeWithSelector(RepaymentDesk.NotOverdue.selector, slot));
        repayment.markOverdue(slot);
    }

    function test_markOverdue_atMaturityUnpaid() public {
        _deposit(1_000);
        vm.warp(maturity);
        vm.expectEmit(address(repayment));
        emit RepaymentDesk.ObligationOverdue(slot, maturity, 1_000, FACE);
        repayment.markOverdue(slot);
        assertEq(uint8(_state()), uint8(RepaymentDesk.State.Overdue));

        vm.expectRevert(abi.encodeWithSelector(RepaymentDesk.NotOverdue.selector, slot));
        repayment.markOverdue(slot);
    }

    function test_RevertWhen_markOverdueRepaidSlot() public {
        _deposit(FACE);
        vm.warp(maturity + 1);
        vm.expectRevert(abi.encodeWithSelector(RepaymentDesk.NotOverdue.selector, slot));
        repayment.markOverdue(slot);
    }

    function test_RevertWhen_declareDefaultDuringGracePeriod() public {
        vm.warp(maturity + GRACE - 1);
        vm.expectRevert(abi.encodeWithSelector(RepaymentDesk.GracePeriodRunning.selector, slot, maturity + GRACE));
        repayment.declareDefault(slot);
    }

    function test_declareDefault_afterGraceFromOutstandingAlsoMarksOverdue() public {
        _deposit(10_001);
        vm.warp(maturity + GRACE);
        vm.expectEmit(address(repayment));
        emit RepaymentDesk.ObligationOverdue(slot, maturity, 10_001, FACE);
        vm.expectEmit(address(repayment));
        emit RepaymentDesk.ObligationDefaulted(slot, 10_001, FACE, stranger);
        vm.prank(stranger);
        repayment.declareDefault(slot);
        assertEq(uint8(_state()), uint8(RepaymentDesk.State.Defaulted));

        vm.expectRevert(abi.encodeWithSelector(RepaymentDesk.SlotClosed.selector, slot, RepaymentDesk.State.Defaulted));
        repayment.declareDefault(slot);
    }

    function test_RevertWhen_declareDefaultOnRepaidSlot() public {
        _deposit(FACE);
        vm.warp(maturity + GRACE);
        vm.expectRevert(abi.encodeWithSelector(RepaymentDesk.SlotClosed.selector, slot, RepaymentDesk.State.Repaid));
        repayment.declareDefault(slot);
    }

    function test_redeem_defaultedPaysProRataAndSweepsDust() public {
        // 100.01 CNY paid on 300.00: each 100.00 piece gets floor(10000 × 10001 / 30000) = 3333; 2 units dust.
        _deposit(10_001);
        vm.warp(maturity + 1);
        repayment.markOverdue(slot);
        vm.warp(maturity + GRACE);
        repayment.declareDefault(slot);
        assertEq(repayment.payoutFor(slot, PIECE), 3_333);

        assertEq(_redeem(supplier2, piece2), 3_333);
        assertEq(_redeem(supplier3, piece3), 3_333);
        vm.expectRevert(abi.encodeWithSelector(RepaymentDesk.RedemptionsOutstanding.selector, slot, 2 * PIECE, FACE));
        repayment.sweepDust(slot);

        assertEq(_redeem(supplier1, root), 3_333);
        assertEq(cash.balanceOf(address(repayment)), 2);

        uint256 coreBefore = cash.balanceOf(core1);
        vm.expectEmit(address(repayment));
        emit RepaymentDesk.DustSwept(slot, core1, 2);
        repayment.sweepDust(slot);
        assertEq(cash.balanceOf(core1), coreBefore + 2);
        assertEq(cash.balanceOf(address(repayment)), 0);
        RepaymentDesk.Account memory a = repayment.account(slot);
        assertEq(a.paidOut, a.paid);

        vm.expectRevert(abi.encodeWithSelector(RepaymentDesk.NoDust.selector, slot));
        repayment.sweepDust(slot);
    }

    function test_redeem_defaultedWithNothingPaidBurnsForZero() public {
        vm.warp(maturity + GRACE);
        repayment.declareDefault(slot);
        assertEq(_redeem(supplier2, piece2), 0);
        assertFalse(token.exists(piece2));
        assertEq(cash.balanceOf(supplier2), 0);
    }

    function test_RevertWhen_sweepDustOnUntouchedSlot() public {
        vm.expectRevert(abi.encodeWithSelector(RepaymentDesk.RedemptionsOutstanding.selector, slot, 0, 0));
        repayment.sweepDust(slot);
    }

    // ------------------------------------------------------------------ pull payments scale

    /// @dev A slot of `n` equal pieces, each held by its own fresh supplier, repaid in full and matured.
    function _slotWithHolders(uint256 n, uint256 firstAccount)
        internal
        returns (uint256 s, address[] memory holders, uint256[] memory ids)
    {
        uint256 r;
        (s, r) = issue(supplier1, core2, n * PIECE, maturity, MIN_UNIT);
        holders = new address[](n);
        uint256[] memory values = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            holders[i] = address(uint160(firstAccount + i));
            _register(holders[i], Roles.SUPPLIER);
            values[i] = PIECE;
        }
        vm.prank(supplier1);
        ids = token.splitBatch(r, holders, values);
        repayInFull(s);
    }

    function _redeemGas(address holder, uint256 tokenId) internal returns (uint256 used) {
        // Every contract starts cold, as in a fresh transaction.
        vm.cool(address(repayment));
        vm.cool(address(token));
        vm.cool(address(cash));
        vm.cool(address(registry));
        vm.prank(holder);
        uint256 before = gasleft();
        repayment.redeem(tokenId);
        used = before - gasleft();
    }

    function test_redeem_gasIndependentOfHolderCount() public {
        (, address[] memory h10, uint256[] memory ids10) = _slotWithHolders(10, 0x10000);
        (, address[] memory h200, uint256[] memory ids200) = _slotWithHolders(200, 0x20000);
        vm.warp(maturity);

        // The first redemption of a slot also writes its payout totals from zero; compare the rest.
        _redeemGas(h10[0], ids10[0]);
        _redeemGas(h200[0], ids200[0]);
        uint256 ref = _redeemGas(h10[5], ids10[5]);
        uint256 last10 = _redeemGas(h10[9], ids10[9]);
        uint256 second200 = _redeemGas(h200[1], ids200[1]);
        uint256 mid200 = _redeemGas(h200[100], ids200[100]);
        uint256 last200 = _redeemGas(h200[199], ids200[199]);
        console2.log("redeem gas, 10 holders:  ", ref, last10);
        console2.log("redeem gas, 200 holders: ", second200, mid200, last200);

        uint256 tolerance = 200;
        assertApproxEqAbs(last10, ref, tolerance);
        assertApproxEqAbs(second200, ref, tolerance);
        assertApproxEqAbs(mid200, ref, tolerance);
        assertApproxEqAbs(last200, ref, tolerance);
    }
}

/// @notice Currencies that call back into the desk during a transfer, or deliver less than the amount.
contract RepaymentDeskHostileCurrencyTest is HostileCurrencyWorld {
    uint256 internal constant FACE = 30_000;
    bytes3 internal constant CBK = "CBK";
    bytes3 internal constant FEE = "FEE";

    CallbackCurrency internal callback;
    uint256 internal slot;
    uint256 internal maturity;

    function setUp() public {
        _deployWorld();
        maturity = block.timestamp + 90 days;
        callback = new CallbackCurrency();
        (slot,) = issueIn(CBK, address(callback), supplier1, core1, FACE, maturity);
        callback.mint(core1, FACE);
        vm.prank(core1);
        callback.approve(address(repayment), type(uint256).max);
        vm.prank(core1);
        repayment.deposit(slot, 10_000);
    }

    function _count(Vm.Log[] memory logs, bytes32 topic) internal view returns (uint256 n) {
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == address(repayment) && logs[i].topics[0] == topic) ++n;
        }
    }

    function _assertHookRefused() internal view {
        assertTrue(callback.hookRan(), "hook ran");
        assertFalse(callback.hookSucceeded(), "re-entrant call went through");
        assertEq(
            callback.hookReturnData(), abi.encodeWithSignature("ReentrancyGuardReentrantCall()"), "refused by the guard"
        );
    }

    /// @dev The obligor pays the rest of the face; the armed callback runs and is refused by the guard.
    function _finalDepositRefusingTheHook() internal returns (Vm.Log[] memory logs) {
        vm.recordLogs();
        vm.prank(core1);
        repayment.deposit(slot, FACE - 10_000);
        logs = vm.getRecordedLogs();
        _assertHookRefused();
    }

    function test_finalDepositCannotBeDeclaredInDefaultFromTheCurrencyCallback() public {
        vm.warp(maturity + GRACE);
        callback.arm(address(repayment), abi.encodeCall(RepaymentDesk.declareDefault, (slot)));
        Vm.Log[] memory logs = _finalDepositRefusingTheHook();
        assertEq(_count(logs, RepaymentDesk.ObligationDefaulted.selector), 0, "Defaulted recorded");
        assertEq(_count(logs, RepaymentDesk.ObligationRepaid.selector), 1, "Repaid recorded");
        assertEq(uint8(repayment.account(slot).state), uint8(RepaymentDesk.State.Repaid));
        assertEq(repayment.account(slot).paid, FACE);
    }

    function test_finalDepositCannotBeMarkedOverdueFromTheCurrencyCallback() public {
        vm.warp(maturity);
        callback.arm(address(repayment), abi.encodeCall(RepaymentDesk.markOverdue, (slot)));
        Vm.Log[] memory logs = _finalDepositRefusingTheHook();
        assertEq(_count(logs, RepaymentDesk.ObligationOverdue.selector), 0, "Overdue recorded while paid in full");
        assertEq(uint8(repayment.account(slot).state), uint8(RepaymentDesk.State.Repaid));
    }

    function test_RevertWhen_depositCurrencyDeliversLessThanTheAmount() public {
        FeeOnTransferCurrency fee = new FeeOnTransferCurrency(100); // keeps 1%
        (uint256 feeSlot,) = issueIn(FEE, address(fee), supplier1, core1, FACE, maturity);
        fee.mint(core1, FACE);
        vm.startPrank(core1);
        fee.approve(address(repayment), type(uint256).max);
        vm.expectRevert(
            abi.encodeWithSelector(SettlementTransfer.TransferShortfall.selector, address(fee), 10_000, 9_900)
        );
        repayment.deposit(feeSlot, 10_000);
        vm.stopPrank();
        assertEq(repayment.account(feeSlot).paid, 0);
        assertEq(fee.balanceOf(address(repayment)), 0);
    }
}
