// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Base} from "./Base.t.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";

/// @notice The registry's half of lost-key recovery: request (onboarding), approval (enforcement, another
///         key), the record's move and the refusals around it.
contract RegistryRecoveryTest is Base {
    address internal onboarder = makeAddr("onboarder");
    address internal enforcer = makeAddr("enforcer");
    address internal replacement = makeAddr("replacement");
    bytes32 internal constant CASE = keccak256("RECOVERY-2026-0042");

    function setUp() public override {
        super.setUp();
        _grant(Roles.ONBOARDING, onboarder);
        _grant(Roles.ENFORCEMENT, enforcer);
    }

    function _request(address lost) internal {
        vm.prank(onboarder);
        registry.requestRecovery(lost, replacement, CASE);
    }

    function _recover(address lost) internal {
        _request(lost);
        vm.prank(enforcer);
        registry.approveRecovery(lost, CASE);
    }

    // ------------------------------------------------------------------ request

    function test_requestRecovery_recordsTheRequest() public {
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.RecoveryRequested(supplier1, replacement, CASE, onboarder);
        _request(supplier1);
        IParticipantRegistry.RecoveryRequest memory r = registry.recoveryRequest(supplier1);
        assertEq(r.replacement, replacement);
        assertEq(r.caseRef, CASE);
        assertEq(r.requestedBy, onboarder);
        // Nothing moved yet.
        assertTrue(registry.hasRole(Roles.SUPPLIER, supplier1));
        assertEq(registry.recoveredTo(supplier1), address(0));
    }

    function test_RevertWhen_requestRecoveryWithoutOnboarding() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, enforcer, Roles.ONBOARDING)
        );
        vm.prank(enforcer);
        registry.requestRecovery(supplier1, replacement, CASE);
    }

    function test_RevertWhen_requestRecoveryOfAParticipantOnboardingDoesNotAdminister() public {
        // A regulator's roles are governance's to administer: its recovery is a governance request.
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, onboarder, bytes32(0))
        );
        vm.prank(onboarder);
        registry.requestRecovery(regulator, replacement, CASE);
        vm.prank(admin);
        registry.requestRecovery(regulator, replacement, CASE);
    }

    function test_RevertWhen_requestRecoveryHasNoCase() public {
        vm.expectRevert(IParticipantRegistry.InvalidCaseRef.selector);
        vm.prank(onboarder);
        registry.requestRecovery(supplier1, replacement, bytes32(0));
    }

    function test_RevertWhen_requestRecoveryToZeroRegisteredOrSelf() public {
        vm.startPrank(onboarder);
        vm.expectRevert(IParticipantRegistry.ZeroAddress.selector);
        registry.requestRecovery(supplier1, address(0), CASE);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.AlreadyRegistered.selector, supplier2));
        registry.requestRecovery(supplier1, supplier2, CASE);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.AlreadyRegistered.selector, supplier1));
        registry.requestRecovery(supplier1, supplier1, CASE);
        vm.stopPrank();
    }

    function test_RevertWhen_requestRecoveryOfUnregistered() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotRegistered.selector, outsider));
        vm.prank(onboarder);
        registry.requestRecovery(outsider, replacement, CASE);
    }

    function test_RevertWhen_requestRecoveryTwice() public {
        _request(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.RecoveryAlreadyRequested.selector, supplier1, CASE));
        vm.prank(onboarder);
        registry.requestRecovery(supplier1, makeAddr("other"), keccak256("other case"));
    }

    // ------------------------------------------------------------------ approve

    function test_approveRecovery_movesTheRecord() public {
        vm.prank(onboarder);
        registry.setSizeClass(supplier1, IParticipantRegistry.SizeClass.Small);
        bytes32 legalId = registry.participant(supplier1).legalIdHash;
        _request(supplier1);

        vm.expectEmit(address(registry));
        emit IParticipantRegistry.ParticipantRegistered(replacement, legalId);
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.ParticipantStatusChanged(
            replacement, IParticipantRegistry.Status.None, IParticipantRegistry.Status.Active
        );
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.ParticipantStatusChanged(
            supplier1, IParticipantRegistry.Status.Active, IParticipantRegistry.Status.Recovered
        );
        vm.expectEmit(address(registry));
        emit IAccessControl.RoleRevoked(Roles.SUPPLIER, supplier1, enforcer);
        vm.expectEmit(address(registry));
        emit IAccessControl.RoleGranted(Roles.SUPPLIER, replacement, enforcer);
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.SizeClassSet(
            replacement, IParticipantRegistry.SizeClass.Unclassified, IParticipantRegistry.SizeClass.Small
        );
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.ParticipantRecovered(supplier1, replacement, CASE, onboarder, enforcer);
        vm.prank(enforcer);
        registry.approveRecovery(supplier1, CASE);

        IParticipantRegistry.Participant memory moved = registry.participant(replacement);
        assertEq(moved.legalIdHash, legalId);
        assertEq(uint8(moved.status), uint8(IParticipantRegistry.Status.Active));
        assertEq(moved.roleBits, Roles.BIT_SUPPLIER);
        assertTrue(registry.hasRole(Roles.SUPPLIER, replacement));
        assertEq(uint8(registry.sizeClassOf(replacement)), uint8(IParticipantRegistry.SizeClass.Small));
        assertEq(registry.accountOf(legalId), replacement);

        IParticipantRegistry.Participant memory old = registry.participant(supplier1);
        assertEq(uint8(old.status), uint8(IParticipantRegistry.Status.Recovered));
        assertEq(old.roleBits, 0);
        assertFalse(registry.hasRole(Roles.SUPPLIER, supplier1));
        assertFalse(registry.isActive(supplier1));
        assertTrue(registry.isActive(replacement));
        assertEq(registry.recoveredTo(supplier1), replacement);
        assertEq(registry.currentAccount(supplier1), replacement);
        assertEq(registry.currentAccount(replacement), replacement);
        assertEq(registry.recoveryRequest(supplier1).caseRef, bytes32(0));
    }

    function test_approveRecovery_movesTheObligorsRecordPolicyAndMode() public {
        IParticipantRegistry.Policy memory p = registry.defaultPolicy();
        p.maxDepth = 3;
        vm.prank(admin);
        registry.setObligorPolicy(coreEnterprise, p, "tighter depth");
        vm.prank(coreEnterprise);
        registry.setObligorSettlementMode(IParticipantRegistry.SettlementMode.Bill);
        _bindDesk(makeAddr("desk"));
        vm.prank(makeAddr("desk"));
        registry.recordOverdue(coreEnterprise, 7);

        _recover(coreEnterprise);

        assertEq(registry.policyOf(replacement).maxDepth, 3);
        assertFalse(registry.policyOf(coreEnterprise).maxDepth == 3);
        assertEq(registry.obligorRecord(replacement).overdueCount, 1);
        assertEq(uint8(registry.obligorSettlementMode(replacement)), uint8(IParticipantRegistry.SettlementMode.Bill));
        assertTrue(registry.hasRole(Roles.CORE_ENTERPRISE, replacement));

        // An old obligation of the lost obligor going overdue counts on the replacement's record.
        vm.prank(makeAddr("desk"));
        registry.recordOverdue(coreEnterprise, 8);
        assertEq(registry.obligorRecord(replacement).overdueCount, 2);
    }

    function test_approveRecovery_keepsASuspension() public {
        _suspend(supplier1);
        _recover(supplier1);
        assertEq(uint8(registry.participant(replacement).status), uint8(IParticipantRegistry.Status.Suspended));
        assertFalse(registry.isActive(replacement));
    }

    function test_RevertWhen_approveRecoveryBySameKey() public {
        _grant(Roles.ENFORCEMENT, onboarder);
        _request(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.RecoveryNeedsSecondParty.selector, onboarder));
        vm.prank(onboarder);
        registry.approveRecovery(supplier1, CASE);
    }

    function test_RevertWhen_approveRecoveryWithoutEnforcement() public {
        _request(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, Roles.ENFORCEMENT)
        );
        vm.prank(admin);
        registry.approveRecovery(supplier1, CASE);
    }

    function test_RevertWhen_approveRecoveryOtherCaseOrNone() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NoRecoveryRequest.selector, supplier1));
        vm.prank(enforcer);
        registry.approveRecovery(supplier1, CASE);
        _request(supplier1);
        bytes32 other = keccak256("other case");
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.RecoveryCaseMismatch.selector, supplier1, CASE, other)
        );
        vm.prank(enforcer);
        registry.approveRecovery(supplier1, other);
    }

    function test_RevertWhen_approveRecoveryAfterReplacementRegistered() public {
        _request(supplier1);
        _register(replacement, Roles.SUPPLIER);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.AlreadyRegistered.selector, replacement));
        vm.prank(enforcer);
        registry.approveRecovery(supplier1, CASE);
    }

    // ------------------------------------------------------------------ after recovery

    function test_RevertWhen_recoveredAccountIsTouchedAgain() public {
        _recover(supplier1);
        bytes memory recovered =
            abi.encodeWithSelector(IParticipantRegistry.AccountRecovered.selector, supplier1, replacement);
        vm.startPrank(admin);
        vm.expectRevert(recovered);
        registry.setStatus(supplier1, IParticipantRegistry.Status.Active);
        vm.expectRevert(recovered);
        registry.grantRole(Roles.SUPPLIER, supplier1);
        vm.expectRevert(recovered);
        registry.setSizeClass(supplier1, IParticipantRegistry.SizeClass.Micro);
        vm.expectRevert(recovered);
        registry.requestRecovery(supplier1, makeAddr("third"), CASE);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.AlreadyRegistered.selector, supplier1));
        registry.register(supplier1, keccak256("fresh id"), _roles(Roles.SUPPLIER));
        vm.stopPrank();
    }

    function test_RevertWhen_setStatusToRecovered() public {
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.InvalidStatus.selector, IParticipantRegistry.Status.Recovered)
        );
        vm.prank(admin);
        registry.setStatus(supplier1, IParticipantRegistry.Status.Recovered);
    }

    function test_currentAccount_followsAChainOfRecoveries() public {
        _recover(supplier1);
        address third = makeAddr("third");
        bytes32 second = keccak256("second case");
        vm.prank(onboarder);
        registry.requestRecovery(replacement, third, second);
        vm.prank(enforcer);
        registry.approveRecovery(replacement, second);
        assertEq(registry.currentAccount(supplier1), third);
        assertEq(registry.currentAccount(replacement), third);
        assertEq(registry.accountOf(registry.participant(third).legalIdHash), third);
    }

    // ------------------------------------------------------------------ cancel

    function test_cancelRecovery_byEnforcement() public {
        _request(supplier1);
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.RecoveryCancelled(supplier1, CASE, enforcer);
        vm.prank(enforcer);
        registry.cancelRecovery(supplier1, CASE);
        assertEq(registry.recoveryRequest(supplier1).caseRef, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NoRecoveryRequest.selector, supplier1));
        vm.prank(enforcer);
        registry.approveRecovery(supplier1, CASE);
    }

    function test_RevertWhen_cancelRecoveryByOutsiderOrOtherCase() public {
        _request(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, outsider, Roles.ONBOARDING)
        );
        vm.prank(outsider);
        registry.cancelRecovery(supplier1, CASE);
        bytes32 other = keccak256("other case");
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.RecoveryCaseMismatch.selector, supplier1, CASE, other)
        );
        vm.prank(onboarder);
        registry.cancelRecovery(supplier1, other);
    }
}
