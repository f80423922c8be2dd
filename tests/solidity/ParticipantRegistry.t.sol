// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IAccessControlEnumerable} from "@openzeppelin/contracts/access/extensions/IAccessControlEnumerable.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Base} from "./Base.t.sol";
import {ParticipantRegistry} from "../../contracts/ParticipantRegistry.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";

/// @dev Stands in for a desk contract: DESK goes only to accounts with code.
contract DeskStub {}

contract ParticipantRegistryTest is Base {
    address internal newcomer = makeAddr("newcomer");
    bytes32 internal constant NEW_ID = keccak256("USCC:91310000MA1FL0000X");
    bytes32 internal constant ADMIN_ROLE = bytes32(0);

    // ------------------------------------------------------------------ initialize

    function test_initialize_grantsAdminRole() public view {
        assertTrue(registry.hasRole(ADMIN_ROLE, admin));
        assertEq(registry.getRoleMemberCount(ADMIN_ROLE), 1);
        assertEq(registry.getRoleMember(ADMIN_ROLE, 0), admin);
    }

    function test_initialize_setsRoleAdmins() public view {
        assertEq(registry.getRoleAdmin(Roles.CORE_ENTERPRISE), Roles.ONBOARDING);
        assertEq(registry.getRoleAdmin(Roles.SUPPLIER), Roles.ONBOARDING);
        assertEq(registry.getRoleAdmin(Roles.BANK), Roles.ONBOARDING);
        assertEq(registry.getRoleAdmin(Roles.REGULATOR), ADMIN_ROLE);
        assertEq(registry.getRoleAdmin(Roles.ORACLE), ADMIN_ROLE);
        assertEq(registry.getRoleAdmin(Roles.ENFORCEMENT), ADMIN_ROLE);
        assertEq(registry.getRoleAdmin(Roles.DESK), ADMIN_ROLE);
        assertEq(registry.getRoleAdmin(Roles.ONBOARDING), ADMIN_ROLE);
        assertEq(registry.getRoleAdmin(Roles.GUARDIAN), ADMIN_ROLE);
        assertEq(registry.getRoleAdmin(Roles.POLICY), ADMIN_ROLE);
        assertEq(registry.getRoleAdmin(ADMIN_ROLE), ADMIN_ROLE);
    }

    function test_RevertWhen_initializeAdminIsZero() public {
        address impl = address(new ParticipantRegistry());
        bytes memory init = abi.encodeCall(ParticipantRegistry.initialize, (address(0)));
        vm.expectRevert(IParticipantRegistry.ZeroAddress.selector);
        new ERC1967Proxy(impl, init);
    }

    function test_version() public view {
        assertEq(registry.version(), "1.0.0");
    }

    function test_supportsInterface_accessControlEnumerable() public view {
        assertTrue(registry.supportsInterface(type(IAccessControlEnumerable).interfaceId));
        assertTrue(registry.supportsInterface(type(IAccessControl).interfaceId));
        assertTrue(registry.supportsInterface(type(IERC165).interfaceId));
        assertFalse(registry.supportsInterface(0xffffffff));
    }

    // ------------------------------------------------------------------ register

    function test_register_emitsEventsAndGrantsRoles() public {
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.ParticipantRegistered(newcomer, NEW_ID);
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.ParticipantStatusChanged(
            newcomer, IParticipantRegistry.Status.None, IParticipantRegistry.Status.Active
        );
        vm.expectEmit(address(registry));
        emit IAccessControl.RoleGranted(Roles.SUPPLIER, newcomer, admin);
        vm.expectEmit(address(registry));
        emit IAccessControl.RoleGranted(Roles.BANK, newcomer, admin);

        vm.prank(admin);
        registry.register(newcomer, NEW_ID, _roles(Roles.SUPPLIER, Roles.BANK));

        IParticipantRegistry.Participant memory p = registry.participant(newcomer);
        assertEq(p.legalIdHash, NEW_ID);
        assertEq(uint8(p.status), uint8(IParticipantRegistry.Status.Active));
        assertEq(p.roleBits, Roles.BIT_SUPPLIER | Roles.BIT_BANK);
        assertTrue(registry.hasRole(Roles.SUPPLIER, newcomer));
        assertTrue(registry.hasRole(Roles.BANK, newcomer));
        assertFalse(registry.hasRole(Roles.CORE_ENTERPRISE, newcomer));
        assertEq(registry.accountOf(NEW_ID), newcomer);
        assertTrue(registry.isActive(newcomer));
    }

    function test_register_eachParticipantRoleSetsItsBit() public {
        bytes32[5] memory roles = [Roles.CORE_ENTERPRISE, Roles.SUPPLIER, Roles.BANK, Roles.REGULATOR, Roles.ORACLE];
        uint8[5] memory bits =
            [Roles.BIT_CORE_ENTERPRISE, Roles.BIT_SUPPLIER, Roles.BIT_BANK, Roles.BIT_REGULATOR, Roles.BIT_ORACLE];
        for (uint256 i = 0; i < 5; ++i) {
            address account = address(uint160(0xB000 + i));
            _register(account, roles[i]);
            assertEq(registry.participant(account).roleBits, bits[i]);
        }
    }

    function test_register_allRolesSetsAllBits() public {
        bytes32[] memory roles = new bytes32[](5);
        roles[0] = Roles.CORE_ENTERPRISE;
        roles[1] = Roles.SUPPLIER;
        roles[2] = Roles.BANK;
        roles[3] = Roles.REGULATOR;
        roles[4] = Roles.ORACLE;
        vm.prank(admin);
        registry.register(newcomer, NEW_ID, roles);
        assertEq(registry.participant(newcomer).roleBits, 0x1f);
    }

    function test_register_withoutRolesIsActiveButNotAHolder() public {
        vm.prank(admin);
        registry.register(newcomer, NEW_ID, new bytes32[](0));
        assertTrue(registry.isActive(newcomer));
        assertEq(registry.participant(newcomer).roleBits, 0);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotAHolder.selector, newcomer));
        registry.checkHolders(newcomer, newcomer);
    }

    function test_register_sameRoleTwiceIsIdempotent() public {
        vm.prank(admin);
        registry.register(newcomer, NEW_ID, _roles(Roles.SUPPLIER, Roles.SUPPLIER));
        assertEq(registry.participant(newcomer).roleBits, Roles.BIT_SUPPLIER);
        assertEq(registry.getRoleMemberCount(Roles.SUPPLIER), 4);
    }

    function test_RevertWhen_registerDuplicateAccount() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.AlreadyRegistered.selector, supplier1));
        vm.prank(admin);
        registry.register(supplier1, NEW_ID, _roles(Roles.SUPPLIER));
    }

    function test_RevertWhen_registerDuplicateAccountEvenIfSuspended() public {
        _suspend(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.AlreadyRegistered.selector, supplier1));
        vm.prank(admin);
        registry.register(supplier1, NEW_ID, _roles(Roles.SUPPLIER));
    }

    function test_RevertWhen_registerDuplicateLegalId() public {
        bytes32 taken = _legalId(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.LegalIdAlreadyRegistered.selector, taken, supplier1)
        );
        vm.prank(admin);
        registry.register(newcomer, taken, _roles(Roles.SUPPLIER));
    }

    function test_RevertWhen_registerZeroAddress() public {
        vm.expectRevert(IParticipantRegistry.ZeroAddress.selector);
        vm.prank(admin);
        registry.register(address(0), NEW_ID, _roles(Roles.SUPPLIER));
    }

    function test_RevertWhen_registerZeroLegalIdHash() public {
        vm.expectRevert(IParticipantRegistry.InvalidLegalIdHash.selector);
        vm.prank(admin);
        registry.register(newcomer, bytes32(0), _roles(Roles.SUPPLIER));
    }

    function test_RevertWhen_registerWithDeskRole() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotAParticipantRole.selector, Roles.DESK));
        vm.prank(admin);
        registry.register(newcomer, NEW_ID, _roles(Roles.SUPPLIER, Roles.DESK));
        // The whole registration rolled back, including the valid first role.
        assertEq(uint8(registry.participant(newcomer).status), uint8(IParticipantRegistry.Status.None));
        assertFalse(registry.hasRole(Roles.SUPPLIER, newcomer));
        assertEq(registry.accountOf(NEW_ID), address(0));
    }

    function test_RevertWhen_registerWithEnforcementRole() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotAParticipantRole.selector, Roles.ENFORCEMENT));
        vm.prank(admin);
        registry.register(newcomer, NEW_ID, _roles(Roles.ENFORCEMENT));
    }

    function test_RevertWhen_registerWithAdminRole() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotAParticipantRole.selector, ADMIN_ROLE));
        vm.prank(admin);
        registry.register(newcomer, NEW_ID, _roles(ADMIN_ROLE));
    }

    function test_RevertWhen_registerCalledByNonOnboarding() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, supplier1, Roles.ONBOARDING
            )
        );
        vm.prank(supplier1);
        registry.register(newcomer, NEW_ID, _roles(Roles.SUPPLIER));
    }

    // ------------------------------------------------------------------ setStatus

    function test_setStatus_suspendThenReactivate() public {
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.ParticipantStatusChanged(
            supplier1, IParticipantRegistry.Status.Active, IParticipantRegistry.Status.Suspended
        );
        _suspend(supplier1);
        assertFalse(registry.isActive(supplier1));
        assertEq(uint8(registry.participant(supplier1).status), uint8(IParticipantRegistry.Status.Suspended));
        // Suspension keeps roles and bits.
        assertTrue(registry.hasRole(Roles.SUPPLIER, supplier1));
        assertEq(registry.participant(supplier1).roleBits, Roles.BIT_SUPPLIER);

        vm.expectEmit(address(registry));
        emit IParticipantRegistry.ParticipantStatusChanged(
            supplier1, IParticipantRegistry.Status.Suspended, IParticipantRegistry.Status.Active
        );
        _reactivate(supplier1);
        assertTrue(registry.isActive(supplier1));
    }

    function test_RevertWhen_setStatusToSameStatus() public {
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.InvalidStatus.selector, IParticipantRegistry.Status.Active)
        );
        vm.prank(admin);
        registry.setStatus(supplier1, IParticipantRegistry.Status.Active);

        _suspend(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.InvalidStatus.selector, IParticipantRegistry.Status.Suspended)
        );
        vm.prank(admin);
        registry.setStatus(supplier1, IParticipantRegistry.Status.Suspended);
    }

    function test_RevertWhen_setStatusToNone() public {
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.InvalidStatus.selector, IParticipantRegistry.Status.None)
        );
        vm.prank(admin);
        registry.setStatus(supplier1, IParticipantRegistry.Status.None);
    }

    function test_RevertWhen_setStatusOfUnregistered() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotRegistered.selector, newcomer));
        vm.prank(admin);
        registry.setStatus(newcomer, IParticipantRegistry.Status.Suspended);
    }

    function test_RevertWhen_setStatusCalledByNonOnboarding() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, regulator, Roles.ONBOARDING
            )
        );
        vm.prank(regulator);
        registry.setStatus(supplier1, IParticipantRegistry.Status.Suspended);
    }

    // ------------------------------------------------------------------ views

    function test_participant_unknownIsAllZero() public view {
        IParticipantRegistry.Participant memory p = registry.participant(newcomer);
        assertEq(p.legalIdHash, bytes32(0));
        assertEq(uint8(p.status), uint8(IParticipantRegistry.Status.None));
        assertEq(p.roleBits, 0);
        assertFalse(registry.isActive(newcomer));
        assertEq(registry.accountOf(NEW_ID), address(0));
    }

    // ------------------------------------------------------------------ checkHolders

    function test_checkHolders_passesForActiveHolders() public view {
        registry.checkHolders(supplier1, supplier2);
        registry.checkHolders(coreEnterprise, bank);
        registry.checkHolders(bank, supplier1);
        registry.checkHolders(supplier1, supplier1);
    }

    function test_RevertWhen_checkHoldersFromUnregistered() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, newcomer));
        registry.checkHolders(newcomer, supplier1);
    }

    function test_RevertWhen_checkHoldersToUnregistered() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, newcomer));
        registry.checkHolders(supplier1, newcomer);
    }

    function test_RevertWhen_checkHoldersFromSuspended() public {
        _suspend(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, supplier1));
        registry.checkHolders(supplier1, supplier2);
    }

    function test_RevertWhen_checkHoldersToSuspended() public {
        _suspend(supplier2);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, supplier2));
        registry.checkHolders(supplier1, supplier2);
    }

    function test_RevertWhen_checkHoldersRegulatorOnly() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotAHolder.selector, regulator));
        registry.checkHolders(supplier1, regulator);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotAHolder.selector, regulator));
        registry.checkHolders(regulator, supplier1);
    }

    function test_RevertWhen_checkHoldersOracleOnly() public {
        address oracle = makeAddr("oracle");
        _register(oracle, Roles.ORACLE);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotAHolder.selector, oracle));
        registry.checkHolders(oracle, oracle);
    }

    function test_RevertWhen_checkHoldersAfterHolderRoleRevoked() public {
        _revoke(Roles.SUPPLIER, supplier2);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotAHolder.selector, supplier2));
        registry.checkHolders(supplier1, supplier2);
    }

    function test_checkHolders_regulatorWhoIsAlsoSupplierMayHold() public {
        _grant(Roles.SUPPLIER, regulator);
        registry.checkHolders(regulator, supplier1);
    }

    // ------------------------------------------------------------------ checkActiveRole

    function test_checkActiveRole_participantRoles() public view {
        registry.checkActiveRole(supplier1, Roles.SUPPLIER);
        registry.checkActiveRole(regulator, Roles.REGULATOR);
        registry.checkActiveRole(coreEnterprise, Roles.CORE_ENTERPRISE);
        registry.checkActiveRole(bank, Roles.BANK);
    }

    function test_RevertWhen_checkActiveRoleMissingParticipantRole() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.MissingRole.selector, supplier1, Roles.REGULATOR));
        registry.checkActiveRole(supplier1, Roles.REGULATOR);
    }

    function test_RevertWhen_checkActiveRoleSuspended() public {
        _suspend(regulator);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, regulator));
        registry.checkActiveRole(regulator, Roles.REGULATOR);
    }

    function test_RevertWhen_checkActiveRoleUnregistered() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, newcomer));
        registry.checkActiveRole(newcomer, Roles.SUPPLIER);
    }

    function test_checkActiveRole_nonParticipantRoleUsesAccessControl() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.MissingRole.selector, supplier1, Roles.ENFORCEMENT));
        registry.checkActiveRole(supplier1, Roles.ENFORCEMENT);
        _grant(Roles.ENFORCEMENT, supplier1);
        registry.checkActiveRole(supplier1, Roles.ENFORCEMENT);
        // Bits are untouched by an infrastructure role.
        assertEq(registry.participant(supplier1).roleBits, Roles.BIT_SUPPLIER);
    }

    function test_RevertWhen_checkActiveRoleNonParticipantRoleOnUnregistered() public {
        address desk = makeAddr("desk");
        _grant(Roles.DESK, desk);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, desk));
        registry.checkActiveRole(desk, Roles.DESK);
    }

    // ------------------------------------------------------------------ DESK binding

    function _list(address a, address b) internal pure returns (address[] memory r) {
        r = new address[](2);
        (r[0], r[1]) = (a, b);
    }

    /// @notice The review's finding: an admin could hand DESK to a wallet. `grantRole` refuses DESK outright,
    ///         to a wallet and to a contract alike.
    function test_RevertWhen_grantRoleDeskOutsideBinding() public {
        address wallet = makeAddr("wallet");
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.DeskGrantOutsideBinding.selector, wallet));
        vm.prank(admin);
        registry.grantRole(Roles.DESK, wallet);
        address desk = address(new DeskStub());
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.DeskGrantOutsideBinding.selector, desk));
        vm.prank(admin);
        registry.grantRole(Roles.DESK, desk);
        assertFalse(registry.hasRole(Roles.DESK, wallet));
        assertFalse(registry.hasRole(Roles.DESK, desk));
    }

    function test_bindDesks_grantsEachContractOnceAndEmits() public {
        address a = address(new DeskStub());
        address b = address(new DeskStub());
        assertFalse(registry.desksBound());
        vm.expectEmit(address(registry));
        emit IAccessControl.RoleGranted(Roles.DESK, a, admin);
        vm.expectEmit(address(registry));
        emit IAccessControl.RoleGranted(Roles.DESK, b, admin);
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.DesksBound(_list(a, b));
        vm.prank(admin);
        registry.bindDesks(_list(a, b));
        assertTrue(registry.desksBound());
        assertTrue(registry.hasRole(Roles.DESK, a));
        assertTrue(registry.hasRole(Roles.DESK, b));
        assertEq(registry.getRoleMemberCount(Roles.DESK), 2);
    }

    function test_RevertWhen_bindDesksTwice() public {
        address a = address(new DeskStub());
        _bindDesk(a);
        address c = address(new DeskStub());
        vm.expectRevert(IParticipantRegistry.DesksAlreadyBound.selector);
        vm.prank(admin);
        registry.bindDesks(_list(c, c));
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.DeskGrantOutsideBinding.selector, c));
        vm.prank(admin);
        registry.grantRole(Roles.DESK, c);
    }

    function test_RevertWhen_bindDesksToAccountWithoutCode() public {
        address a = address(new DeskStub());
        address wallet = makeAddr("wallet");
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.DeskNotAContract.selector, wallet));
        vm.prank(admin);
        registry.bindDesks(_list(a, wallet));
        assertFalse(registry.desksBound());
        assertFalse(registry.hasRole(Roles.DESK, a));
    }

    function test_RevertWhen_bindDesksEmpty() public {
        vm.expectRevert(IParticipantRegistry.NoDesks.selector);
        vm.prank(admin);
        registry.bindDesks(new address[](0));
    }

    function test_RevertWhen_bindDesksByNonAdmin() public {
        address a = address(new DeskStub());
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, supplier1, ADMIN_ROLE)
        );
        vm.prank(supplier1);
        registry.bindDesks(_list(a, a));
    }

    /// @notice A bound desk can still be retired (revoked), but not replaced.
    function test_revokeDesk_afterBindingRetiresIt() public {
        address a = address(new DeskStub());
        _bindDesk(a);
        _revoke(Roles.DESK, a);
        assertFalse(registry.hasRole(Roles.DESK, a));
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.DeskGrantOutsideBinding.selector, a));
        vm.prank(admin);
        registry.grantRole(Roles.DESK, a);
    }

    // ------------------------------------------------------------------ grantRole / revokeRole

    function test_RevertWhen_grantParticipantRoleToUnregistered() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotRegistered.selector, newcomer));
        vm.prank(admin);
        registry.grantRole(Roles.SUPPLIER, newcomer);
    }

    function test_grantRole_participantRoleSetsBit() public {
        vm.expectEmit(address(registry));
        emit IAccessControl.RoleGranted(Roles.BANK, supplier1, admin);
        _grant(Roles.BANK, supplier1);
        assertEq(registry.participant(supplier1).roleBits, Roles.BIT_SUPPLIER | Roles.BIT_BANK);
        registry.checkActiveRole(supplier1, Roles.BANK);
    }

    function test_grantRole_infrastructureRoleToUnregistered() public {
        address desk = address(new DeskStub());
        _bindDesk(desk);
        _grant(Roles.ENFORCEMENT, desk);
        assertTrue(registry.hasRole(Roles.DESK, desk));
        assertTrue(registry.hasRole(Roles.ENFORCEMENT, desk));
        assertEq(uint8(registry.participant(desk).status), uint8(IParticipantRegistry.Status.None));
        assertEq(registry.participant(desk).roleBits, 0);
    }

    function test_grantRole_toSuspendedParticipantAllowed() public {
        _suspend(supplier1);
        _grant(Roles.BANK, supplier1);
        assertEq(registry.participant(supplier1).roleBits, Roles.BIT_SUPPLIER | Roles.BIT_BANK);
    }

    /// @dev BANK's role admin is ONBOARDING.
    function test_RevertWhen_grantRoleCalledByNonAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, supplier1, Roles.ONBOARDING
            )
        );
        vm.prank(supplier1);
        registry.grantRole(Roles.BANK, supplier2);
    }

    function test_revokeRole_clearsBit() public {
        _grant(Roles.BANK, supplier1);
        vm.expectEmit(address(registry));
        emit IAccessControl.RoleRevoked(Roles.SUPPLIER, supplier1, admin);
        _revoke(Roles.SUPPLIER, supplier1);
        assertEq(registry.participant(supplier1).roleBits, Roles.BIT_BANK);
        assertFalse(registry.hasRole(Roles.SUPPLIER, supplier1));
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.MissingRole.selector, supplier1, Roles.SUPPLIER));
        registry.checkActiveRole(supplier1, Roles.SUPPLIER);
        // Revoking again is a no-op and keeps the other bit.
        _revoke(Roles.SUPPLIER, supplier1);
        assertEq(registry.participant(supplier1).roleBits, Roles.BIT_BANK);
    }

    function test_revokeRole_infrastructureRoleLeavesBits() public {
        _grant(Roles.ENFORCEMENT, supplier1);
        _revoke(Roles.ENFORCEMENT, supplier1);
        assertFalse(registry.hasRole(Roles.ENFORCEMENT, supplier1));
        assertEq(registry.participant(supplier1).roleBits, Roles.BIT_SUPPLIER);
    }

    function test_renounceRole_clearsBit() public {
        vm.prank(supplier1);
        registry.renounceRole(Roles.SUPPLIER, supplier1);
        assertEq(registry.participant(supplier1).roleBits, 0);
        assertEq(registry.getRoleMemberCount(Roles.SUPPLIER), 2);
    }

    /// @dev SUPPLIER's role admin is ONBOARDING.
    function test_RevertWhen_revokeRoleCalledByNonAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, regulator, Roles.ONBOARDING
            )
        );
        vm.prank(regulator);
        registry.revokeRole(Roles.SUPPLIER, supplier1);
    }

    function test_getRoleMemberCount_tracksGrantsAndRevokes() public {
        assertEq(registry.getRoleMemberCount(Roles.SUPPLIER), 3);
        assertEq(registry.getRoleMemberCount(Roles.CORE_ENTERPRISE), 1);
        assertEq(registry.getRoleMemberCount(Roles.BANK), 1);
        assertEq(registry.getRoleMemberCount(Roles.REGULATOR), 1);
        assertEq(registry.getRoleMemberCount(Roles.ORACLE), 0);

        _register(newcomer, Roles.SUPPLIER);
        assertEq(registry.getRoleMemberCount(Roles.SUPPLIER), 4);
        _revoke(Roles.SUPPLIER, supplier2);
        assertEq(registry.getRoleMemberCount(Roles.SUPPLIER), 3);
        // Suspension does not change membership.
        _suspend(supplier1);
        assertEq(registry.getRoleMemberCount(Roles.SUPPLIER), 3);

        address[] memory members = registry.getRoleMembers(Roles.SUPPLIER);
        assertEq(members.length, 3);
    }

    // ------------------------------------------------------------------ fuzz

    /// @dev Registering with any subset of the five participant roles stores exactly that subset as bits.
    function testFuzz_register_bitsMatchRoles(uint8 mask, address account, bytes32 legalIdHash) public {
        mask = mask & 0x1f;
        vm.assume(account != address(0) && legalIdHash != bytes32(0));
        vm.assume(registry.participant(account).status == IParticipantRegistry.Status.None);
        vm.assume(registry.accountOf(legalIdHash) == address(0));
        bytes32[5] memory all = [Roles.CORE_ENTERPRISE, Roles.SUPPLIER, Roles.BANK, Roles.REGULATOR, Roles.ORACLE];
        uint256 n;
        for (uint256 i = 0; i < 5; ++i) {
            if (mask & (1 << i) != 0) ++n;
        }
        bytes32[] memory roles = new bytes32[](n);
        n = 0;
        for (uint256 i = 0; i < 5; ++i) {
            if (mask & (1 << i) != 0) roles[n++] = all[i];
        }
        vm.prank(admin);
        registry.register(account, legalIdHash, roles);
        assertEq(registry.participant(account).roleBits, mask);
        for (uint256 i = 0; i < 5; ++i) {
            assertEq(registry.hasRole(all[i], account), mask & (1 << i) != 0);
        }
        bool holder = mask & Roles.HOLDER_BITS != 0;
        if (!holder) vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotAHolder.selector, account));
        registry.checkHolders(account, account);
    }
}
