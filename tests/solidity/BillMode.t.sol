// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Base} from "./Base.t.sol";
import {ParticipantRegistry} from "../../contracts/ParticipantRegistry.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IReceivableToken, IReceivableTokenBase} from "../../contracts/interfaces/IReceivableToken.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";
import {Deploy} from "./utils/Deploy.sol";

/// @notice Bill mode: moves pend until the receiver accepts (签收); refusal (拒收), withdrawal (撤回), expiry
///         and maturity return the value to the sender; freezes, court orders and redemption still apply.
contract BillModeTest is Base {
    uint256 internal constant FACE = 100_000_000;
    uint256 internal constant UNIT = 100;
    uint256 internal constant MATURITY = T0 + 90 days;
    uint256 internal constant WINDOW = 3 days;
    address internal constant CURRENCY = address(0xC47);

    IReceivableToken internal token;
    address internal desk = makeAddr("desk");
    address internal enforcer = makeAddr("enforcer");
    address internal spender = makeAddr("spender");

    uint256 internal slot;
    uint256 internal root;

    function setUp() public override {
        super.setUp();
        token = Deploy.token(registry, "Tierchain Receivable", "TCR", 2);
        _grant(Roles.DESK, desk);
        _grant(Roles.ENFORCEMENT, enforcer);
        vm.prank(admin);
        registry.setBillPolicy(true, WINDOW, "bill mode");
        (slot, root) = _createSlot(coreEnterprise, supplier1, FACE);
    }

    // ------------------------------------------------------------------ helpers

    function _createSlot(address obligor, address to, uint256 face) internal returns (uint256 s, uint256 id) {
        vm.prank(desk);
        (s, id) = token.createSlot(obligor, CURRENCY, face, MATURITY, UNIT, to);
    }

    function _pay(address from, uint256 fromId, address to, uint256 value) internal returns (uint256 id) {
        vm.prank(from);
        id = token.transferFrom(fromId, to, value);
    }

    function _freeze(uint256 id) internal {
        vm.prank(regulator);
        token.freeze(id, 7);
    }

    function _pendingError(uint256 id) internal view returns (bytes memory) {
        IReceivableTokenBase.PendingMove memory p = token.pendingMove(id);
        return abi.encodeWithSelector(IReceivableTokenBase.AwaitingAcceptance.selector, id, p.to, p.expiry);
    }

    // ------------------------------------------------------------------ registry: modes

    function test_registry_defaultsAreVoucherAndSevenDays() public {
        ParticipantRegistry fresh = Deploy.registryWithOperator(admin);
        (bool bill, uint256 window) = fresh.billPolicy();
        assertFalse(bill);
        assertEq(window, 7 days);
        (bill, window) = fresh.settlementTermsOf(coreEnterprise);
        assertFalse(bill);
        assertEq(window, 7 days);
    }

    function test_registry_setBillPolicyEmits() public {
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.BillPolicySet(false, 5 days, admin, "back to vouchers");
        vm.prank(admin);
        registry.setBillPolicy(false, 5 days, "back to vouchers");
        (bool bill, uint256 window) = registry.billPolicy();
        assertFalse(bill);
        assertEq(window, 5 days);
    }

    function test_RevertWhen_setBillPolicyBadInput() public {
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.InvalidAcceptanceWindow.selector, 0));
        registry.setBillPolicy(true, 0, "r");
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.InvalidAcceptanceWindow.selector, 366 days));
        registry.setBillPolicy(true, 366 days, "r");
        vm.expectRevert(IParticipantRegistry.PolicyReasonRequired.selector);
        registry.setBillPolicy(true, 1 days, "");
        vm.stopPrank();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, supplier1, Roles.POLICY)
        );
        vm.prank(supplier1);
        registry.setBillPolicy(true, 1 days, "r");
    }

    function test_obligorModeOverridesDeployment() public {
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.ObligorSettlementModeSet(coreEnterprise, IParticipantRegistry.SettlementMode.Voucher);
        vm.prank(coreEnterprise);
        registry.setObligorSettlementMode(IParticipantRegistry.SettlementMode.Voucher);
        (uint256 s2, uint256 id2) = _createSlot(coreEnterprise, supplier1, FACE);
        assertEq(token.billWindowOf(s2), 0);
        assertEq(token.billWindowOf(slot), WINDOW, "an existing obligation keeps its mode");
        uint256 piece = _pay(supplier1, id2, supplier2, 1000);
        assertEq(token.ownerOf(piece), supplier2, "voucher: at once");

        vm.prank(admin);
        registry.setBillPolicy(false, WINDOW, "off");
        vm.prank(coreEnterprise);
        registry.setObligorSettlementMode(IParticipantRegistry.SettlementMode.Bill);
        (uint256 s3,) = _createSlot(coreEnterprise, supplier1, FACE);
        assertEq(token.billWindowOf(s3), WINDOW);
        assertEq(uint8(registry.obligorSettlementMode(coreEnterprise)), uint8(IParticipantRegistry.SettlementMode.Bill));
    }

    function test_RevertWhen_settlementModeByNonCore() public {
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.MissingRole.selector, supplier1, Roles.CORE_ENTERPRISE)
        );
        vm.prank(supplier1);
        registry.setObligorSettlementMode(IParticipantRegistry.SettlementMode.Bill);
    }

    // ------------------------------------------------------------------ pending split

    function test_split_pendsWithSenderAsOwner() public {
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.MovePending(2, root, supplier1, supplier2, 5000, T0 + WINDOW);
        uint256 piece = _pay(supplier1, root, supplier2, 5000);
        assertEq(piece, 2);
        assertEq(token.ownerOf(piece), supplier1);
        assertEq(token.balanceOf(piece), 5000);
        assertEq(token.balanceOf(root), FACE - 5000);
        assertEq(token.parentOf(piece), root);
        IReceivableTokenBase.PendingMove memory p = token.pendingMove(piece);
        assertEq(p.from, supplier1);
        assertEq(p.to, supplier2);
        assertEq(p.source, root);
        assertEq(p.expiry, T0 + WINDOW);
        assertEq(token.slotTerms(slot).supply, FACE);
    }

    function test_split_expiryCappedAtMaturity() public {
        vm.warp(MATURITY - 1 days);
        uint256 piece = _pay(supplier1, root, supplier2, 5000);
        assertEq(token.pendingMove(piece).expiry, MATURITY);
    }

    function test_RevertWhen_pendingPieceMoves() public {
        uint256 piece = _pay(supplier1, root, supplier2, 5000);
        bytes memory err = _pendingError(piece);
        vm.startPrank(supplier1);
        vm.expectRevert(err);
        token.transferFrom(piece, supplier3, 100);
        vm.expectRevert(err);
        token.transferFrom(supplier1, supplier3, piece);
        vm.expectRevert(err);
        token.transferFrom(piece, root, 100);
        vm.expectRevert(err);
        token.transferFrom(root, piece, 100);
        vm.stopPrank();
        vm.expectRevert(err);
        vm.prank(desk);
        token.deskTransfer(supplier1, piece, bank, 5000);
    }

    function test_lockVoidsApprovals() public {
        vm.prank(supplier1);
        token.approve(root, spender, 10_000);
        vm.prank(supplier1);
        token.approve(spender, root);
        _pay(supplier1, root, supplier2, FACE - 1000); // root itself stays unlocked
        assertEq(token.allowance(root, spender), 10_000);
        vm.prank(supplier1);
        token.transferFrom(supplier1, supplier3, root); // whole: locks root
        assertEq(token.allowance(root, spender), 0);
        assertEq(token.getApproved(root), address(0));
    }

    function test_splitBatch_eachPends() public {
        address[] memory to = new address[](2);
        (to[0], to[1]) = (supplier2, supplier3);
        uint256[] memory values = new uint256[](2);
        (values[0], values[1]) = (1000, 2000);
        vm.prank(supplier1);
        uint256[] memory ids = token.splitBatch(root, to, values);
        assertEq(token.pendingMove(ids[0]).to, supplier2);
        assertEq(token.pendingMove(ids[1]).to, supplier3);
        assertEq(token.ownerOf(ids[1]), supplier1);
    }

    function test_splitToSelf_neverPends() public {
        uint256 piece = _pay(supplier1, root, supplier1, 1000);
        assertEq(token.pendingMove(piece).to, address(0));
        vm.prank(supplier1);
        token.transferFrom(piece, root, 1000);
    }

    // ------------------------------------------------------------------ accept

    function test_accept_movesToReceiver() public {
        uint256 piece = _pay(supplier1, root, supplier2, 5000);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.MoveAccepted(piece, supplier1, supplier2, 5000);
        vm.prank(supplier2);
        token.acceptMove(piece);
        assertEq(token.ownerOf(piece), supplier2);
        assertEq(token.balanceOf(supplier2), 1);
        assertEq(token.balanceOf(supplier1), 1);
        assertEq(token.pendingMove(piece).to, address(0));
        // The receiver pays on: pends again (the mode is inherited).
        uint256 next = _pay(supplier2, piece, supplier3, 1000);
        assertEq(token.pendingMove(next).from, supplier2);
        assertEq(token.depthOf(next), 2);
    }

    function test_RevertWhen_acceptByOther() public {
        uint256 piece = _pay(supplier1, root, supplier2, 5000);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotMoveParty.selector, supplier1, piece));
        vm.prank(supplier1);
        token.acceptMove(piece);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NoPendingMove.selector, root));
        vm.prank(supplier2);
        token.acceptMove(root);
    }

    function test_RevertWhen_acceptAfterExpiry() public {
        uint256 piece = _pay(supplier1, root, supplier2, 5000);
        vm.warp(T0 + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.MoveExpired.selector, piece, T0 + WINDOW));
        vm.prank(supplier2);
        token.acceptMove(piece);
    }

    function test_RevertWhen_acceptFrozen() public {
        uint256 piece = _pay(supplier1, root, supplier2, 5000);
        _freeze(piece);
        assertTrue(token.isFrozen(piece));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenFrozen.selector, piece));
        vm.prank(supplier2);
        token.acceptMove(piece);
        vm.prank(regulator);
        token.unfreeze(piece, 8);
        vm.prank(supplier2);
        token.acceptMove(piece);
        assertEq(token.ownerOf(piece), supplier2);
    }

    function test_RevertWhen_acceptPausedOrReceiverSuspended() public {
        uint256 piece = _pay(supplier1, root, supplier2, 5000);
        vm.prank(admin);
        registry.pause(Roles.OP_MOVES, "incident");
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.OperationPaused.selector, Roles.OP_MOVES));
        vm.prank(supplier2);
        token.acceptMove(piece);
        vm.prank(admin);
        registry.unpause(Roles.OP_MOVES, "resolved");
        _suspend(supplier2);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, supplier2));
        vm.prank(supplier2);
        token.acceptMove(piece);
    }

    // ------------------------------------------------------------------ returns

    function test_refuse_mergesBack() public {
        uint256 piece = _pay(supplier1, root, supplier2, 5000);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.MoveReturned(piece, root, supplier1, IReceivableTokenBase.ReturnReason.Refused);
        vm.prank(supplier2);
        token.refuseMove(piece);
        assertEq(token.balanceOf(root), FACE);
        assertFalse(token.exists(piece));
        assertEq(token.lineage(piece).length, 2, "lineage keeps the record");
        assertEq(token.balanceOf(supplier1), 1);
        assertEq(token.slotTerms(slot).supply, FACE);
    }

    function test_withdraw_bySenderOnly() public {
        uint256 piece = _pay(supplier1, root, supplier2, 5000);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotMoveParty.selector, supplier2, piece));
        vm.prank(supplier2);
        token.withdrawMove(piece);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotMoveParty.selector, supplier1, piece));
        vm.prank(supplier1);
        token.refuseMove(piece);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.MoveReturned(piece, root, supplier1, IReceivableTokenBase.ReturnReason.Withdrawn);
        vm.prank(supplier1);
        token.withdrawMove(piece);
        assertEq(token.balanceOf(root), FACE);
    }

    function test_expire_afterWindowByAnyone() public {
        uint256 piece = _pay(supplier1, root, supplier2, 5000);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.MoveNotExpired.selector, piece, T0 + WINDOW));
        token.expireMove(piece);
        vm.warp(T0 + WINDOW);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.MoveReturned(piece, root, supplier1, IReceivableTokenBase.ReturnReason.Expired);
        vm.prank(outsider);
        token.expireMove(piece);
        assertEq(token.balanceOf(root), FACE);
    }

    function test_expire_atMaturityReturnsMatured() public {
        vm.warp(MATURITY - 1 hours);
        uint256 piece = _pay(supplier1, root, supplier2, 5000);
        vm.warp(MATURITY);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.MoveReturned(piece, root, supplier1, IReceivableTokenBase.ReturnReason.Matured);
        token.expireMove(piece);
    }

    function test_return_withoutMergeWhenSourceFrozen() public {
        uint256 piece = _pay(supplier1, root, supplier2, 5000);
        _freeze(root);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.MoveReturned(piece, 0, supplier1, IReceivableTokenBase.ReturnReason.Refused);
        vm.prank(supplier2);
        token.refuseMove(piece);
        assertEq(token.ownerOf(piece), supplier1);
        assertEq(token.balanceOf(piece), 5000);
        // Unlocked: the sender may pay it again.
        uint256 again = _pay(supplier1, piece, supplier3, 1000);
        assertEq(token.pendingMove(again).to, supplier3);
    }

    function test_return_worksWhilePaused() public {
        uint256 piece = _pay(supplier1, root, supplier2, 5000);
        vm.prank(admin);
        registry.pause(Roles.OP_MOVES, "incident");
        vm.prank(supplier2);
        token.refuseMove(piece);
        assertEq(token.balanceOf(root), FACE);
    }

    // ------------------------------------------------------------------ whole transfers

    function test_whole_pendsAndAccepts() public {
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.MovePending(root, 0, supplier1, supplier2, FACE, T0 + WINDOW);
        vm.prank(supplier1);
        token.safeTransferFrom(supplier1, supplier2, root);
        assertEq(token.ownerOf(root), supplier1);
        vm.prank(supplier2);
        token.acceptMove(root);
        assertEq(token.ownerOf(root), supplier2);
        assertEq(token.pendingMove(root).to, address(0));
    }

    function test_whole_refusedStaysWithSender() public {
        vm.prank(supplier1);
        token.transferFrom(supplier1, supplier2, root);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.MoveReturned(root, 0, supplier1, IReceivableTokenBase.ReturnReason.Refused);
        vm.prank(supplier2);
        token.refuseMove(root);
        assertEq(token.ownerOf(root), supplier1);
        vm.prank(supplier1);
        token.transferFrom(supplier1, supplier3, root);
        assertEq(token.pendingMove(root).to, supplier3);
    }

    // ------------------------------------------------------------------ desks and enforcement

    function test_deskTransfer_neverPends_deskPayPends() public {
        vm.prank(desk);
        uint256 financed = token.deskTransfer(supplier1, root, bank, 1000);
        assertEq(token.ownerOf(financed), bank);
        vm.prank(desk);
        uint256 paid = token.deskPay(supplier1, root, supplier2, 1000);
        assertEq(token.ownerOf(paid), supplier1);
        assertEq(token.pendingMove(paid).to, supplier2);
    }

    function test_forceTransfer_cancelsPendingFirst() public {
        uint256 piece = _pay(supplier1, root, supplier2, 5000);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.MoveReturned(piece, 0, supplier1, IReceivableTokenBase.ReturnReason.Enforced);
        vm.prank(enforcer);
        token.forceTransfer(piece, supplier3, 5000, bytes32("order-1"));
        assertEq(token.ownerOf(piece), supplier3);
        assertEq(token.pendingMove(piece).to, address(0));
    }

    function test_redeem_pendingAfterMaturityLapses() public {
        uint256 piece = _pay(supplier1, root, supplier2, 5000);
        vm.warp(MATURITY);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.MoveReturned(piece, 0, supplier1, IReceivableTokenBase.ReturnReason.Matured);
        vm.prank(desk);
        (, uint256 value) = token.redeem(supplier1, piece);
        assertEq(value, 5000);
        assertFalse(token.exists(piece));
        assertEq(token.slotTerms(slot).supply, FACE - 5000);
    }

    function test_voucherSlot_unchanged() public {
        vm.prank(admin);
        registry.setBillPolicy(false, WINDOW, "off");
        (, uint256 id) = _createSlot(coreEnterprise, supplier1, FACE);
        uint256 piece = _pay(supplier1, id, supplier2, 5000);
        assertEq(token.ownerOf(piece), supplier2);
        vm.prank(supplier1);
        token.transferFrom(supplier1, supplier3, id);
        assertEq(token.ownerOf(id), supplier3);
    }

    // ------------------------------------------------------------------ fuzz

    /// @dev Whatever ends a pending move, value is conserved and lands with exactly one party.
    function testFuzz_pendingMoveConservesValue(uint256 units, uint8 action, uint32 wait) public {
        units = bound(units, 1, FACE / UNIT - 1);
        uint256 value = units * UNIT;
        uint256 piece = _pay(supplier1, root, supplier2, value);
        vm.warp(T0 + bound(wait, 0, 100 days));
        bool open = block.timestamp < T0 + WINDOW;
        action = action % 4;
        if (action == 0 && open) {
            vm.prank(supplier2);
            token.acceptMove(piece);
            assertEq(token.ownerOf(piece), supplier2);
            assertEq(token.balanceOf(root) + token.balanceOf(piece), FACE);
        } else {
            if (action == 1) vm.prank(supplier2);
            else vm.prank(supplier1);
            if (action == 1) token.refuseMove(piece);
            else if (action == 2) token.withdrawMove(piece);
            else if (open) return;
            else token.expireMove(piece);
            assertFalse(token.exists(piece));
            assertEq(token.balanceOf(root), FACE);
        }
        assertEq(token.pendingMove(piece).to, address(0));
        assertEq(token.slotTerms(slot).supply, FACE);
    }
}
