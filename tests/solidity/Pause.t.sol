// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {World} from "./utils/World.sol";
import {IssuanceDesk} from "../../contracts/IssuanceDesk.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";

/// @notice The circuit breaker: each operation bit stops exactly its operations (issuance, holder moves,
///         financing, repayment deposits) and nothing else; redemption, withdrawals of proposals and offers,
///         freezes, court orders and the repayment bookkeeping never stop. Only GUARDIAN pauses, only POLICY
///         unpauses, each with a reason recorded in the event.
/// @dev Every operation runs from one prepared world (`setUp`), each in a state snapshot of its own, through
///      `runOp` so that an unexpected refusal names the operation.
contract PauseTest is World {
    // ------------------------------------------------------------------ the operations

    uint256 internal constant OPS = 24;

    uint256 internal constant PROPOSE = 0;
    uint256 internal constant CONFIRM = 1;
    uint256 internal constant CONFIRM_WITH_SIGNATURE = 2;
    uint256 internal constant ISSUE_DIRECT = 3;
    uint256 internal constant SPLIT = 4;
    uint256 internal constant MERGE = 5;
    uint256 internal constant TRANSFER_WHOLE = 6;
    uint256 internal constant SAFE_TRANSFER = 7;
    uint256 internal constant SPLIT_BATCH = 8;
    uint256 internal constant MAKE_OFFER = 9;
    uint256 internal constant ACCEPT = 10;
    uint256 internal constant DEPOSIT = 11;
    uint256 internal constant REDEEM = 12;
    uint256 internal constant REJECT = 13;
    uint256 internal constant CANCEL = 14;
    uint256 internal constant CANCEL_OFFER = 15;
    uint256 internal constant FREEZE = 16;
    uint256 internal constant FORCE_TRANSFER = 17;
    uint256 internal constant MARK_OVERDUE = 18;
    uint256 internal constant DECLARE_DEFAULT = 19;
    uint256 internal constant SWEEP_DUST = 20;
    uint256 internal constant APPROVE_TOKEN = 21;
    uint256 internal constant APPROVE_ALL = 22;
    uint256 internal constant APPROVE_VALUE = 23;

    string[OPS] internal names = [
        "propose",
        "confirm",
        "confirmWithSignature",
        "issueDirect",
        "split",
        "merge",
        "transferWhole",
        "safeTransferFrom",
        "splitBatch",
        "makeOffer",
        "accept",
        "deposit",
        "redeem",
        "reject",
        "cancel",
        "cancelOffer",
        "freeze",
        "forceTransfer",
        "markOverdue",
        "declareDefault",
        "sweepDust",
        "approve",
        "setApprovalForAll",
        "approveValue"
    ];

    /// @dev The pause bit that stops each operation; 0 for those never paused.
    uint8[OPS] internal bitOf = [
        Roles.OP_ISSUANCE,
        Roles.OP_ISSUANCE,
        Roles.OP_ISSUANCE,
        Roles.OP_ISSUANCE,
        Roles.OP_MOVES,
        Roles.OP_MOVES,
        Roles.OP_MOVES,
        Roles.OP_MOVES,
        Roles.OP_MOVES,
        Roles.OP_FINANCING,
        Roles.OP_FINANCING,
        Roles.OP_REPAYMENT,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0
    ];

    // ------------------------------------------------------------------ the world

    address internal guardian = makeAddr("guardian");
    address internal governance = makeAddr("governance");
    address internal supplierK;
    uint256 internal supplierKKey;

    uint256 internal mainSlot;
    uint256 internal root;
    uint256 internal ownPiece;
    uint256 internal repaidRoot;
    uint256 internal overdueSlot;
    uint256 internal dustSlot;
    uint256 internal pendingId;
    uint256 internal offerId;
    IssuanceDesk.Terms internal pendingTerms;
    IssuanceDesk.Terms internal freshTerms;
    IssuanceDesk.Terms internal directTerms;

    function setUp() public {
        _deployWorld();
        (supplierK, supplierKKey) = makeAddrAndKey("supplierK");
        _register(supplierK, Roles.SUPPLIER);
        vm.startPrank(admin);
        registry.grantRole(Roles.GUARDIAN, guardian);
        registry.grantRole(Roles.POLICY, governance);
        vm.stopPrank();

        uint256 soon = block.timestamp + 1 hours;
        // Repaid in full: its root is redeemable once matured.
        uint256 repaidSlot;
        (repaidSlot, repaidRoot) = issue(supplier1, core2, 2_000_000, soon, MIN_UNIT);
        repayInFull(repaidSlot);
        // Unpaid: overdue after maturity, defaultable after the grace period.
        (overdueSlot,) = issue(supplier2, core2, 1_000_000, soon, MIN_UNIT);
        // A third paid, then defaulted; its three pieces redeem 3,333 each and leave 1 unit of dust.
        uint256 dustRoot;
        (dustSlot, dustRoot) = issue(supplier1, core2, 30_000, soon, MIN_UNIT);
        uint256 p2 = split(supplier1, dustRoot, supplier2, 10_000);
        uint256 p3 = split(supplier1, dustRoot, supplier3, 10_000);
        fund(core2, 10_000);
        vm.prank(core2);
        repayment.deposit(dustSlot, 10_000);
        vm.warp(soon + GRACE);
        repayment.declareDefault(dustSlot);
        vm.prank(supplier1);
        repayment.redeem(dustRoot);
        vm.prank(supplier2);
        repayment.redeem(p2);
        vm.prank(supplier3);
        repayment.redeem(p3);

        // A live obligation, a pending proposal, terms to propose and to issue directly, an open offer.
        uint256 maturity = block.timestamp + 180 days;
        (mainSlot, root) = issue(supplier1, core1, 100_000_000, maturity, MIN_UNIT);
        ownPiece = split(supplier1, root, supplier1, 1_000_000);
        pendingTerms =
            _terms(supplier1, core1, 40_000_000, maturity, MIN_UNIT, attestInvoice(supplier1, core1, 40_000_000));
        pendingId = _propose(pendingTerms);
        freshTerms =
            _terms(supplier1, core1, 50_000_000, maturity, MIN_UNIT, attestInvoice(supplier1, core1, 50_000_000));
        directTerms =
            _terms(supplierK, core1, 30_000_000, maturity, MIN_UNIT, attestInvoice(supplierK, core1, 30_000_000));
        fund(bank1, 1_000_000_000);
        offerId = makeOffer(bank1, root, 10_000_000, 450, 0);
        fund(core1, 10_000_000);
    }

    /// @notice Runs operation `op` as its natural caller, with valid arguments.
    function runOp(uint256 op) external {
        if (op == PROPOSE) {
            vm.prank(supplier1);
            issuance.propose(freshTerms);
        } else if (op == CONFIRM) {
            vm.prank(core1);
            issuance.confirm(pendingId, pendingTerms);
        } else if (op == CONFIRM_WITH_SIGNATURE) {
            uint256 deadline = block.timestamp + 1 hours;
            bytes32 digest = issuance.confirmationDigest(pendingId, pendingTerms, issuance.nonces(core1), deadline);
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(core1Key, digest);
            vm.prank(stranger);
            issuance.confirmWithSignature(pendingId, pendingTerms, deadline, abi.encodePacked(r, s, v));
        } else if (op == ISSUE_DIRECT) {
            uint256 deadline = block.timestamp + 1 hours;
            bytes32 digest = issuance.supplierConsentDigest(directTerms, issuance.nonces(supplierK), deadline);
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(supplierKKey, digest);
            vm.prank(core1);
            issuance.issueDirect(directTerms, deadline, abi.encodePacked(r, s, v));
        } else if (op == SPLIT) {
            vm.prank(supplier1);
            token.transferFrom(root, supplier2, 1_000_000);
        } else if (op == MERGE) {
            vm.prank(supplier1);
            token.transferFrom(ownPiece, root, 1_000_000);
        } else if (op == TRANSFER_WHOLE) {
            vm.prank(supplier1);
            token.transferFrom(supplier1, supplier2, ownPiece);
        } else if (op == SAFE_TRANSFER) {
            vm.prank(supplier1);
            token.safeTransferFrom(supplier1, supplier3, ownPiece);
        } else if (op == SPLIT_BATCH) {
            address[] memory to = new address[](2);
            uint256[] memory values = new uint256[](2);
            (to[0], to[1], values[0], values[1]) = (supplier2, supplier3, 1_000_000, 2_000_000);
            vm.prank(supplier1);
            token.splitBatch(root, to, values);
        } else if (op == MAKE_OFFER) {
            vm.prank(bank2);
            financing.makeOffer(root, 1_000_000, 500, 0, false, block.timestamp + 1 days);
        } else if (op == ACCEPT) {
            vm.prank(supplier1);
            financing.accept(offerId);
        } else if (op == DEPOSIT) {
            vm.prank(core1);
            repayment.deposit(mainSlot, 1_000_000);
        } else if (op == REDEEM) {
            vm.prank(supplier1);
            repayment.redeem(repaidRoot);
        } else if (op == REJECT) {
            vm.prank(core1);
            issuance.reject(pendingId, pendingTerms, 1);
        } else if (op == CANCEL) {
            vm.prank(supplier1);
            issuance.cancel(pendingId, pendingTerms);
        } else if (op == CANCEL_OFFER) {
            vm.prank(bank1);
            financing.cancelOffer(offerId);
        } else if (op == FREEZE) {
            vm.prank(regulator);
            token.freeze(root, 7);
        } else if (op == FORCE_TRANSFER) {
            vm.prank(court);
            token.forceTransfer(root, supplier2, 1_000_000, keccak256("court order 1"));
        } else if (op == MARK_OVERDUE) {
            repayment.markOverdue(overdueSlot);
        } else if (op == DECLARE_DEFAULT) {
            repayment.declareDefault(overdueSlot);
        } else if (op == SWEEP_DUST) {
            repayment.sweepDust(dustSlot);
        } else if (op == APPROVE_TOKEN) {
            vm.prank(supplier1);
            token.approve(supplier2, root);
        } else if (op == APPROVE_ALL) {
            vm.prank(supplier1);
            token.setApprovalForAll(supplier2, true);
        } else if (op == APPROVE_VALUE) {
            vm.prank(supplier1);
            token.approve(root, supplier2, 1_000_000);
        } else {
            revert("unknown operation");
        }
    }

    // ------------------------------------------------------------------ helpers

    function _pause(uint8 operations) internal {
        vm.prank(guardian);
        registry.pause(operations, "incident");
    }

    function _unpause(uint8 operations) internal {
        vm.prank(governance);
        registry.unpause(operations, "resolved");
    }

    /// @dev Runs `op` in a snapshot: it must be refused with `OperationPaused(its bit)` when its bit is in
    ///      `paused`, and must succeed otherwise.
    function _checkOp(uint256 op, uint8 paused) internal {
        uint256 snapshot = vm.snapshotState();
        uint8 bit = bitOf[op];
        if (bit & paused != 0) {
            try this.runOp(op) {
                assertTrue(false, string.concat(names[op], " ran while paused"));
            } catch (bytes memory err) {
                assertEq(
                    err,
                    abi.encodeWithSelector(IParticipantRegistry.OperationPaused.selector, bit),
                    string.concat(names[op], " refused with OperationPaused(its bit)")
                );
            }
        } else {
            try this.runOp(op) {}
            catch (bytes memory err) {
                emit log_named_bytes(names[op], err);
                assertTrue(false, string.concat(names[op], " refused although its operation is not paused"));
            }
        }
        vm.revertToState(snapshot);
    }

    function _checkAll(uint8 paused) internal {
        for (uint256 op = 0; op < OPS; ++op) {
            _checkOp(op, paused);
        }
    }

    // ------------------------------------------------------------------ what each bit stops

    function test_nothingPaused_everyOperationRuns() public {
        assertEq(registry.pausedOperations(), 0);
        _checkAll(0);
    }

    function test_eachBitStopsExactlyItsOperations() public {
        uint8[4] memory bits = [Roles.OP_ISSUANCE, Roles.OP_MOVES, Roles.OP_FINANCING, Roles.OP_REPAYMENT];
        for (uint256 i = 0; i < bits.length; ++i) {
            uint256 snapshot = vm.snapshotState();
            _pause(bits[i]);
            assertEq(registry.pausedOperations(), bits[i]);
            _checkAll(bits[i]);
            vm.revertToState(snapshot);
        }
    }

    function test_allPaused_onlyTheNeverPausedRun() public {
        _pause(Roles.OP_ALL);
        _checkAll(Roles.OP_ALL);
    }

    function test_unpause_restoresEveryOperation() public {
        _pause(Roles.OP_ALL);
        _unpause(Roles.OP_ALL);
        assertEq(registry.pausedOperations(), 0);
        _checkAll(0);
    }

    /// @dev Any mask of bits, any operation: refused exactly when the mask holds the operation's bit.
    function testFuzz_pausedMaskStopsExactlyItsOperations(uint8 mask, uint256 op) public {
        mask = uint8(bound(mask, 0, Roles.OP_ALL));
        op = bound(op, 0, OPS - 1);
        if (mask != 0) _pause(mask);
        assertEq(registry.pausedOperations(), mask);
        _checkOp(op, mask);
    }

    /// @notice A holder of a settled obligation is always paid, whatever is paused.
    function test_redeem_worksWhileEverythingIsPaused() public {
        _pause(Roles.OP_ALL);
        uint256 before = cash.balanceOf(supplier1);
        vm.prank(supplier1);
        uint256 payout = repayment.redeem(repaidRoot);
        assertEq(payout, 2_000_000);
        assertEq(cash.balanceOf(supplier1), before + payout);
        assertFalse(token.exists(repaidRoot));
    }

    /// @notice Desk moves follow their desk's bit: with holder moves paused, financing still delivers.
    function test_movesPaused_financingStillDelivers() public {
        _pause(Roles.OP_MOVES);
        vm.prank(supplier1);
        uint256 financed = financing.accept(offerId);
        assertEq(token.ownerOf(financed), bank1);
    }

    // ------------------------------------------------------------------ registry checks

    function test_checkMove_refusesWhileMovesPausedBeforeHolderChecks() public {
        registry.checkMove(supplier1, supplier2, core1, 0);
        _pause(Roles.OP_MOVES);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.OperationPaused.selector, Roles.OP_MOVES));
        registry.checkMove(supplier1, supplier2, core1, 0);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.OperationPaused.selector, Roles.OP_MOVES));
        registry.checkMove(stranger, stranger, core1, 0);
        // The plain holder check (desk moves) ignores the pause.
        registry.checkHolders(supplier1, supplier2);
    }

    function test_checkMove_otherBitsLeaveMovesOpen() public {
        _pause(Roles.OP_ALL & ~Roles.OP_MOVES);
        registry.checkMove(supplier1, supplier2, core1, 0);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, stranger));
        registry.checkMove(supplier1, stranger, core1, 0);
    }

    function test_checkNotPaused_followsTheBits() public {
        _pause(Roles.OP_FINANCING | Roles.OP_ISSUANCE);
        registry.checkNotPaused(Roles.OP_MOVES);
        registry.checkNotPaused(Roles.OP_REPAYMENT);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.OperationPaused.selector, Roles.OP_FINANCING));
        registry.checkNotPaused(Roles.OP_FINANCING);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.OperationPaused.selector, Roles.OP_ISSUANCE));
        registry.checkNotPaused(Roles.OP_ISSUANCE);
    }

    function test_checkOperation_pauseBeforeRole() public {
        registry.checkOperation(Roles.OP_FINANCING, bank1, Roles.BANK);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.MissingRole.selector, supplier1, Roles.BANK));
        registry.checkOperation(Roles.OP_FINANCING, supplier1, Roles.BANK);
        _pause(Roles.OP_FINANCING);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.OperationPaused.selector, Roles.OP_FINANCING));
        registry.checkOperation(Roles.OP_FINANCING, bank1, Roles.BANK);
        registry.checkOperation(Roles.OP_REPAYMENT, bank1, Roles.BANK);
    }

    // ------------------------------------------------------------------ who pauses and unpauses

    function test_pause_onlyGuardian() public {
        address[3] memory callers = [stranger, governance, supplier1];
        for (uint256 i = 0; i < callers.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAccessControl.AccessControlUnauthorizedAccount.selector, callers[i], Roles.GUARDIAN
                )
            );
            vm.prank(callers[i]);
            registry.pause(Roles.OP_MOVES, "not mine to pause");
        }
        _pause(Roles.OP_MOVES);
        assertEq(registry.pausedOperations(), Roles.OP_MOVES);
    }

    function test_unpause_onlyPolicy() public {
        _pause(Roles.OP_MOVES);
        address[3] memory callers = [stranger, guardian, supplier1];
        for (uint256 i = 0; i < callers.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAccessControl.AccessControlUnauthorizedAccount.selector, callers[i], Roles.POLICY
                )
            );
            vm.prank(callers[i]);
            registry.unpause(Roles.OP_MOVES, "not mine to lift");
        }
        _unpause(Roles.OP_MOVES);
        assertEq(registry.pausedOperations(), 0);
    }

    function test_revokedGuardianCannotPause() public {
        vm.prank(admin);
        registry.revokeRole(Roles.GUARDIAN, guardian);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, Roles.GUARDIAN)
        );
        vm.prank(guardian);
        registry.pause(Roles.OP_ALL, "incident");
    }

    // ------------------------------------------------------------------ events

    function test_pause_emitsOperationsPausedWithReason() public {
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.OperationsPaused(Roles.OP_FINANCING, guardian, "bank feed compromised");
        vm.prank(guardian);
        registry.pause(Roles.OP_FINANCING, "bank feed compromised");
    }

    function test_unpause_emitsOperationsUnpausedWithReason() public {
        _pause(Roles.OP_ALL);
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.OperationsUnpaused(Roles.OP_ISSUANCE | Roles.OP_MOVES, governance, "fixed");
        vm.prank(governance);
        registry.unpause(Roles.OP_ISSUANCE | Roles.OP_MOVES, "fixed");
        assertEq(registry.pausedOperations(), Roles.OP_FINANCING | Roles.OP_REPAYMENT);
    }

    // ------------------------------------------------------------------ errors

    function test_RevertWhen_pauseOrUnpauseUnknownOperations() public {
        uint8[4] memory bad = [0, 16, 17, 0xff];
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.UnknownOperations.selector, bad[i]));
            vm.prank(guardian);
            registry.pause(bad[i], "incident");
            vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.UnknownOperations.selector, bad[i]));
            vm.prank(governance);
            registry.unpause(bad[i], "resolved");
        }
    }

    function test_RevertWhen_pauseOrUnpauseWithoutReason() public {
        vm.expectRevert(IParticipantRegistry.ReasonRequired.selector);
        vm.prank(guardian);
        registry.pause(Roles.OP_MOVES, "");
        _pause(Roles.OP_MOVES);
        vm.expectRevert(IParticipantRegistry.ReasonRequired.selector);
        vm.prank(governance);
        registry.unpause(Roles.OP_MOVES, "");
    }

    function test_RevertWhen_pauseChangesNothing() public {
        _pause(Roles.OP_ISSUANCE | Roles.OP_MOVES);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.AlreadyPaused.selector, Roles.OP_ISSUANCE));
        vm.prank(guardian);
        registry.pause(Roles.OP_ISSUANCE, "again");
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.AlreadyPaused.selector, Roles.OP_ISSUANCE | Roles.OP_MOVES)
        );
        vm.prank(guardian);
        registry.pause(Roles.OP_ISSUANCE | Roles.OP_MOVES, "again");
        // A mask that adds a bit changes something: accepted.
        _pause(Roles.OP_MOVES | Roles.OP_FINANCING);
        assertEq(registry.pausedOperations(), Roles.OP_ISSUANCE | Roles.OP_MOVES | Roles.OP_FINANCING);
    }

    function test_RevertWhen_unpauseChangesNothing() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotPaused.selector, Roles.OP_ALL));
        vm.prank(governance);
        registry.unpause(Roles.OP_ALL, "nothing to lift");
        _pause(Roles.OP_REPAYMENT);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotPaused.selector, Roles.OP_MOVES));
        vm.prank(governance);
        registry.unpause(Roles.OP_MOVES, "nothing to lift");
        // A mask that lifts one paused bit changes something: accepted.
        _unpause(Roles.OP_MOVES | Roles.OP_REPAYMENT);
        assertEq(registry.pausedOperations(), 0);
    }

    /// @dev Pausing then unpausing any two masks leaves exactly the bits one would expect.
    function testFuzz_pauseUnpause_bitArithmetic(uint8 first, uint8 second) public {
        first = uint8(bound(first, 1, Roles.OP_ALL));
        second = uint8(bound(second, 1, Roles.OP_ALL));
        _pause(first);
        if (first & second == second) {
            vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.AlreadyPaused.selector, second));
            vm.prank(guardian);
            registry.pause(second, "incident");
        } else {
            _pause(second);
        }
        uint8 paused = first | second;
        assertEq(registry.pausedOperations(), paused);
        _unpause(second);
        assertEq(registry.pausedOperations(), paused & ~second);
    }
}
