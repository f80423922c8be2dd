// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC721} from "@solvprotocol/erc-3525/IERC721.sol";
import {World} from "./utils/World.sol";
import {FinancingDesk} from "../../contracts/FinancingDesk.sol";
import {RepaymentDesk} from "../../contracts/RepaymentDesk.sol";
import {ReceivableTokenExtension} from "../../contracts/token/ReceivableTokenExtension.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IReceivableTokenBase} from "../../contracts/interfaces/IReceivableToken.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";

/// @notice Lost-key recovery end to end: the registry moves a participant's record to a new address (ONBOARDING
///         requests, ENFORCEMENT approves), then ENFORCEMENT moves the lost address's tokens in bounded batches
///         (`recoverTokens`), keeping lineage, values, freezes and pending moves and voiding approvals; the desks
///         accept the recovered account where they check a recorded address, and a lost bank's offers are void.
contract RecoveryTest is World {
    bytes32 internal constant CASE = keccak256("RECOVERY-2026-0042");
    uint256 internal constant FACE = 100_000_000;

    address internal onboarder = makeAddr("onboarder");
    address internal replacement = makeAddr("replacement");
    address internal core3 = makeAddr("core3");

    uint256 internal slot;
    uint256 internal root;
    uint256 internal maturity;

    function setUp() public {
        _deployWorld();
        vm.prank(admin);
        registry.grantRole(Roles.ONBOARDING, onboarder);
        (slot, root) = issueDefault();
        maturity = block.timestamp + 180 days;
        // Bill mode: core3's obligations settle on acceptance (签收).
        _register(core3, Roles.CORE_ENTERPRISE);
        vm.prank(core3);
        registry.setObligorSettlementMode(IParticipantRegistry.SettlementMode.Bill);
    }

    // ------------------------------------------------------------------ helpers

    function _request(address lost, address to) internal {
        vm.prank(onboarder);
        registry.requestRecovery(lost, to, CASE);
    }

    /// @dev Registry half: onboarding requests, the court (ENFORCEMENT, another key) approves.
    function _recoverRecord(address lost, address to) internal {
        _request(lost, to);
        vm.prank(court);
        registry.approveRecovery(lost, CASE);
    }

    function _recoverTokens(address lost, uint256[] memory ids) internal {
        vm.prank(court);
        token.recoverTokens(lost, ids, CASE);
    }

    function _ids(uint256 a) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](1);
        ids[0] = a;
    }

    function _ids(uint256 a, uint256 b) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](2);
        (ids[0], ids[1]) = (a, b);
    }

    // ------------------------------------------------------------------ the registry record

    function test_recovery_movesTheRecordWithRequestAndApproval() public {
        bytes32 legalId = keccak256(abi.encode("legal id", supplier1));
        _request(supplier1, replacement);
        IParticipantRegistry.RecoveryRequest memory r = registry.recoveryRequest(supplier1);
        assertEq(r.replacement, replacement);
        assertEq(r.caseRef, CASE);
        assertEq(r.requestedBy, onboarder);
        assertEq(registry.recoveredTo(supplier1), address(0), "nothing moves before approval");

        vm.expectEmit(address(registry));
        emit IParticipantRegistry.ParticipantRecovered(supplier1, replacement, CASE, onboarder, court);
        vm.prank(court);
        registry.approveRecovery(supplier1, CASE);

        assertEq(registry.recoveredTo(supplier1), replacement);
        assertEq(registry.currentAccount(supplier1), replacement);
        assertTrue(registry.isActive(replacement));
        assertFalse(registry.isActive(supplier1));
        assertTrue(registry.hasRole(Roles.SUPPLIER, replacement));
        assertFalse(registry.hasRole(Roles.SUPPLIER, supplier1));
        assertEq(registry.accountOf(legalId), replacement);
        assertEq(registry.participant(replacement).legalIdHash, legalId);
        assertEq(uint256(registry.participant(supplier1).status), uint256(IParticipantRegistry.Status.Recovered));
        assertEq(registry.recoveryRequest(supplier1).replacement, address(0), "the request is deleted");
    }

    function test_RevertWhen_recoveryApprovedByTheRequester() public {
        vm.prank(admin);
        registry.grantRole(Roles.ENFORCEMENT, onboarder);
        _request(supplier1, replacement);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.RecoveryNeedsSecondParty.selector, onboarder));
        vm.prank(onboarder);
        registry.approveRecovery(supplier1, CASE);
    }

    function test_cancelRecovery_leavesNothingToRecover() public {
        _request(supplier1, replacement);
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.RecoveryCancelled(supplier1, CASE, court);
        vm.prank(court);
        registry.cancelRecovery(supplier1, CASE);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotRecovered.selector, supplier1));
        _recoverTokens(supplier1, _ids(root));
        assertEq(token.ownerOf(root), supplier1);
    }

    // ------------------------------------------------------------------ tokens held by the lost address

    function test_recoverTokens_movesHeldTokensKeepingLineageValuesAndFreezes() public {
        uint256 piece = split(supplier1, root, supplier2, 1_000_000);
        uint256 back = split(supplier2, piece, supplier1, 400_000); // depth 2, held by supplier1
        vm.prank(regulator);
        token.freeze(back, 9);
        uint256 rootValue = token.balanceOf(root);
        uint256[] memory lineageBefore = token.lineage(back);

        _recoverRecord(supplier1, replacement);
        vm.expectEmit(address(token));
        emit IERC721.Transfer(supplier1, replacement, root);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.TokenRecovered(root, supplier1, replacement, CASE);
        vm.expectEmit(address(token));
        emit IERC721.Transfer(supplier1, replacement, back);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.TokenRecovered(back, supplier1, replacement, CASE);
        _recoverTokens(supplier1, _ids(root, back));

        assertEq(token.ownerOf(root), replacement);
        assertEq(token.ownerOf(back), replacement);
        assertEq(token.ownerOf(piece), supplier2, "another holder's piece stays");
        assertEq(token.balanceOf(supplier1), 0);
        assertEq(token.balanceOf(replacement), 2);
        assertEq(token.balanceOf(root), rootValue);
        assertEq(token.balanceOf(back), 400_000);
        assertEq(token.lineage(back), lineageBefore);
        assertEq(token.depthOf(back), 2);
        assertTrue(token.isFrozen(back), "a freeze survives recovery");
        assertFalse(token.isFrozen(root));
        assertEq(token.slotTerms(slot).supply, FACE, "no value is created or destroyed");
    }

    function test_recoverTokens_voidsApprovalsOfTheLostAddress() public {
        address spender = makeAddr("spender");
        address operator = makeAddr("operator");
        vm.startPrank(supplier1);
        token.approve(spender, root);
        token.approve(root, spender, 5_000_000);
        token.setApprovalForAll(operator, true);
        vm.stopPrank();
        assertEq(token.getApproved(root), spender);

        _recoverRecord(supplier1, replacement);
        _recoverTokens(supplier1, _ids(root));

        assertEq(token.getApproved(root), address(0));
        assertEq(token.allowance(root, spender), 0);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InsufficientApproval.selector, operator, root));
        vm.prank(operator);
        token.transferFrom(replacement, supplier2, root);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.InsufficientAllowance.selector, spender, root, 0, 1_000_000)
        );
        vm.prank(spender);
        token.transferFrom(root, supplier2, 1_000_000);
        // The replacement moves its token as any holder does.
        vm.prank(replacement);
        token.transferFrom(root, supplier2, 1_000_000);
    }

    // ------------------------------------------------------------------ pending moves, both directions

    function test_recoverTokens_pendingMoveFromTheLostAddressKeepsPending() public {
        (, uint256 billRoot) = issue(supplier1, core3, FACE, maturity, MIN_UNIT);
        uint256 pending = split(supplier1, billRoot, supplier2, 2_000_000);
        IReceivableTokenBase.PendingMove memory before = token.pendingMove(pending);
        assertEq(before.from, supplier1);

        _recoverRecord(supplier1, replacement);
        _recoverTokens(supplier1, _ids(billRoot, pending));

        IReceivableTokenBase.PendingMove memory p = token.pendingMove(pending);
        assertEq(p.from, replacement, "the sender is the piece's owner, now the replacement");
        assertEq(p.to, supplier2);
        assertEq(p.source, billRoot);
        assertEq(p.expiry, before.expiry);
        assertEq(token.ownerOf(pending), replacement);
        // Still locked: the replacement cannot move it, the receiver can still accept it.
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.AwaitingAcceptance.selector, pending, supplier2, p.expiry)
        );
        vm.prank(replacement);
        token.transferFrom(replacement, supplier3, pending);
        vm.prank(supplier2);
        token.acceptMove(pending);
        assertEq(token.ownerOf(pending), supplier2);
    }

    function test_recoverTokens_pendingMoveToTheLostAddressNowAwaitsTheReplacement() public {
        (, uint256 billRoot) = issue(supplier2, core3, FACE, maturity, MIN_UNIT);
        uint256 pending = split(supplier2, billRoot, supplier1, 3_000_000);
        assertEq(token.pendingMove(pending).to, supplier1);

        _recoverRecord(supplier1, replacement);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.TokenRecovered(pending, supplier1, replacement, CASE);
        _recoverTokens(supplier1, _ids(pending));

        assertEq(token.ownerOf(pending), supplier2, "the sender still holds it while it pends");
        assertEq(token.pendingMove(pending).to, replacement);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotMoveParty.selector, supplier1, pending));
        vm.prank(supplier1);
        token.acceptMove(pending);
        vm.prank(replacement);
        token.acceptMove(pending);
        assertEq(token.ownerOf(pending), replacement);
        assertEq(token.balanceOf(pending), 3_000_000);
    }

    // ------------------------------------------------------------------ refusals and bounds

    function test_RevertWhen_recoverTokensBeforeApproval() public {
        _request(supplier1, replacement);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotRecovered.selector, supplier1));
        _recoverTokens(supplier1, _ids(root));
    }

    function test_RevertWhen_recoverTokensWithoutEnforcement() public {
        _recoverRecord(supplier1, replacement);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotAuthorized.selector, onboarder));
        vm.prank(onboarder);
        token.recoverTokens(supplier1, _ids(root), CASE);
    }

    function test_RevertWhen_recoverTokensOfAnEmptyOrOversizedBatch() public {
        _recoverRecord(supplier1, replacement);
        vm.expectRevert(IReceivableTokenBase.EmptyBatch.selector);
        _recoverTokens(supplier1, new uint256[](0));
        uint256 max = ReceivableTokenExtension(token.extension()).MAX_RECOVERY_BATCH();
        assertEq(max, 100);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.RecoveryBatchTooLarge.selector, max + 1, max));
        _recoverTokens(supplier1, new uint256[](max + 1));
    }

    function test_RevertWhen_recoverTokensNotHeldNorPendingToTheLostAddress() public {
        uint256 piece = split(supplier1, root, supplier2, 1_000_000);
        _recoverRecord(supplier1, replacement);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotRecoverable.selector, piece, supplier1));
        _recoverTokens(supplier1, _ids(root, piece));
        uint256 missing = token.lastTokenId() + 1;
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotRecoverable.selector, missing, supplier1));
        _recoverTokens(supplier1, _ids(missing));
        // Moved once, a token is no longer the lost address's: a second recovery of it is refused.
        _recoverTokens(supplier1, _ids(root));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotRecoverable.selector, root, supplier1));
        _recoverTokens(supplier1, _ids(root));
    }

    /// @notice A full batch (100 tokens) goes through in one call, while moves are paused.
    function test_recoverTokens_fullBatchWhilePaused() public {
        address[] memory to = new address[](99);
        uint256[] memory values = new uint256[](99);
        for (uint256 i = 0; i < 99; ++i) {
            (to[i], values[i]) = (supplier2, MIN_UNIT);
        }
        vm.prank(supplier1);
        uint256[] memory pieces = token.splitBatch(root, to, values);
        for (uint256 i = 0; i < 99; ++i) {
            vm.prank(supplier2);
            token.transferFrom(supplier2, supplier1, pieces[i]);
        }
        uint256[] memory ids = new uint256[](100);
        for (uint256 i = 0; i < 99; ++i) {
            ids[i] = pieces[i];
        }
        ids[99] = root;
        _recoverRecord(supplier1, replacement);
        vm.prank(admin);
        registry.pause(Roles.OP_ALL, "incident");
        _recoverTokens(supplier1, ids);
        assertEq(token.balanceOf(replacement), 100);
        assertEq(token.balanceOf(supplier1), 0);
    }

    // ------------------------------------------------------------------ desks

    function test_replacementRepaysTheLostObligorsObligation() public {
        _recoverRecord(core1, replacement);
        fund(replacement, FACE);
        vm.expectRevert(abi.encodeWithSelector(RepaymentDesk.NotObligor.selector, slot, stranger));
        vm.prank(stranger);
        repayment.deposit(slot, 1_000);
        vm.expectEmit(address(repayment));
        emit RepaymentDesk.Deposited(slot, replacement, FACE, FACE);
        vm.prank(replacement);
        repayment.deposit(slot, FACE);
        assertEq(repayment.account(slot).paid, FACE);
    }

    /// @dev supplier1 sells the root to bank1 with recourse; the obligor pays 40% and defaults; bank1 opens
    ///      the claim.
    function _openClaim() internal returns (uint256 offerId) {
        fund(bank1, 1_000_000_000);
        vm.prank(bank1);
        offerId = financing.makeOffer(root, FACE, 450, 0, true, block.timestamp + 1 days);
        vm.prank(supplier1);
        financing.accept(offerId);
        fund(core1, FACE * 4 / 10);
        vm.prank(core1);
        repayment.deposit(slot, FACE * 4 / 10);
        vm.warp(maturity + GRACE);
        repayment.declareDefault(slot);
        vm.prank(bank1);
        financing.openRecourse(offerId);
    }

    function test_replacementSettlesTheLostSellersRecourseClaim() public {
        uint256 offerId = _openClaim();
        _recoverRecord(supplier1, replacement);
        fund(replacement, FACE);
        uint256 bankBefore = cash.balanceOf(bank1);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.NotRecourseSeller.selector, offerId, stranger));
        vm.prank(stranger);
        financing.settleRecourse(offerId, 1_000);
        vm.prank(replacement);
        financing.settleRecourse(offerId, 1_000_000);
        assertEq(cash.balanceOf(bank1), bankBefore + 1_000_000);
        assertEq(financing.recourseClaim(offerId).remaining, FACE * 6 / 10 - 1_000_000);
    }

    function test_recoveredBankIsPaidAndActsAtItsReplacement() public {
        uint256 offerId = _openClaim();
        _recoverRecord(bank1, replacement);
        vm.prank(supplier1);
        cash.approve(address(financing), type(uint256).max);
        fund(supplier1, 2_000_000);
        vm.prank(supplier1);
        financing.settleRecourse(offerId, 2_000_000);
        assertEq(cash.balanceOf(replacement), 2_000_000, "paid at the recovered bank's new account");
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.NotOfferBank.selector, offerId, stranger));
        vm.prank(stranger);
        financing.waiveRecourse(offerId);
        vm.prank(replacement);
        financing.waiveRecourse(offerId);
        assertEq(financing.recourseClaim(offerId).remaining, 0);
    }

    function test_RevertWhen_acceptingAnOfferOfALostBank() public {
        fund(bank1, 1_000_000_000);
        uint256 offerId = makeOffer(bank1, root, FACE, 450, 0);
        _recoverRecord(bank1, replacement);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, bank1));
        vm.prank(supplier1);
        financing.accept(offerId);
        assertEq(token.ownerOf(root), supplier1);
    }

    function test_RevertWhen_recoveryRequestedWithoutOnboarding() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, Roles.ONBOARDING)
        );
        vm.prank(stranger);
        registry.requestRecovery(supplier1, replacement, CASE);
    }
}
