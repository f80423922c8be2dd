// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Base} from "./Base.t.sol";
import {World} from "./utils/World.sol";
import {IssuanceDesk} from "../../contracts/IssuanceDesk.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IReceivableToken, IReceivableTokenBase} from "../../contracts/interfaces/IReceivableToken.sol";
import {ITradeRegistry} from "../../contracts/interfaces/ITradeRegistry.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";

/// @notice Who administers which role: ONBOARDING (an operator key, acting at once) registers participants and
///         grants or revokes CORE_ENTERPRISE, SUPPLIER and BANK; every other role (REGULATOR, ORACLE,
///         ENFORCEMENT, GUARDIAN, POLICY, ONBOARDING itself, DEFAULT_ADMIN_ROLE) is governance's
///         (DEFAULT_ADMIN_ROLE); DESK is bound once and never granted.
contract RoleAdminTest is Base {
    bytes32 internal constant ADMIN_ROLE = bytes32(0);

    /// @dev Holds ONBOARDING only.
    address internal onboarder = makeAddr("onboarder");
    /// @dev Holds DEFAULT_ADMIN_ROLE only (governance, the timelock).
    address internal governance = makeAddr("governance");
    address internal newcomer = makeAddr("newcomer");

    function setUp() public override {
        super.setUp();
        vm.startPrank(admin);
        registry.grantRole(Roles.ONBOARDING, onboarder);
        registry.grantRole(ADMIN_ROLE, governance);
        vm.stopPrank();
    }

    function _unauthorized(address account, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role);
    }

    function _governanceRoles() internal pure returns (bytes32[7] memory) {
        return
            [
                Roles.REGULATOR,
                Roles.ORACLE,
                Roles.ENFORCEMENT,
                Roles.GUARDIAN,
                Roles.POLICY,
                Roles.ONBOARDING,
                ADMIN_ROLE
            ];
    }

    // ------------------------------------------------------------------ ONBOARDING's roles

    function test_onboarding_grantsAndRevokesHolderRolesAtOnce() public {
        bytes32[3] memory roles = [Roles.CORE_ENTERPRISE, Roles.SUPPLIER, Roles.BANK];
        _registerBare(newcomer);
        for (uint256 i = 0; i < roles.length; ++i) {
            vm.expectEmit(address(registry));
            emit IAccessControl.RoleGranted(roles[i], newcomer, onboarder);
            vm.prank(onboarder);
            registry.grantRole(roles[i], newcomer);
            assertTrue(registry.hasRole(roles[i], newcomer));
            registry.checkActiveRole(newcomer, roles[i]);
        }
        assertEq(
            registry.participant(newcomer).roleBits, Roles.BIT_CORE_ENTERPRISE | Roles.BIT_SUPPLIER | Roles.BIT_BANK
        );
        for (uint256 i = 0; i < roles.length; ++i) {
            vm.prank(onboarder);
            registry.revokeRole(roles[i], newcomer);
            assertFalse(registry.hasRole(roles[i], newcomer));
        }
        assertEq(registry.participant(newcomer).roleBits, 0);
    }

    function test_onboarding_registersWithHolderRoles() public {
        bytes32[] memory roles = new bytes32[](3);
        (roles[0], roles[1], roles[2]) = (Roles.CORE_ENTERPRISE, Roles.SUPPLIER, Roles.BANK);
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.ParticipantRegistered(newcomer, _legalId(newcomer));
        vm.prank(onboarder);
        registry.register(newcomer, _legalId(newcomer), roles);
        assertEq(
            registry.participant(newcomer).roleBits, Roles.BIT_CORE_ENTERPRISE | Roles.BIT_SUPPLIER | Roles.BIT_BANK
        );
    }

    function test_RevertWhen_onboardingGrantsGovernanceRoles() public {
        bytes32[7] memory roles = _governanceRoles();
        _registerBare(newcomer);
        for (uint256 i = 0; i < roles.length; ++i) {
            vm.expectRevert(_unauthorized(onboarder, ADMIN_ROLE));
            vm.prank(onboarder);
            registry.grantRole(roles[i], newcomer);
        }
    }

    function test_RevertWhen_onboardingRevokesGovernanceRoles() public {
        vm.expectRevert(_unauthorized(onboarder, ADMIN_ROLE));
        vm.prank(onboarder);
        registry.revokeRole(Roles.REGULATOR, regulator);
        vm.expectRevert(_unauthorized(onboarder, ADMIN_ROLE));
        vm.prank(onboarder);
        registry.revokeRole(Roles.GUARDIAN, admin);
    }

    /// @notice Registering with REGULATOR or ORACLE needs their admin (governance); the other governance roles
    ///         are no participant roles at all.
    function test_RevertWhen_onboardingRegistersWithGovernanceRoles() public {
        bytes32[7] memory roles = _governanceRoles();
        for (uint256 i = 0; i < roles.length; ++i) {
            if (Roles.bitOf(roles[i]) != 0) {
                vm.expectRevert(_unauthorized(onboarder, ADMIN_ROLE));
            } else {
                vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotAParticipantRole.selector, roles[i]));
            }
            vm.prank(onboarder);
            registry.register(newcomer, _legalId(newcomer), _roles(roles[i]));
        }
        // Nothing half-registered: a holder role beside a refused one rolls the whole registration back.
        vm.expectRevert(_unauthorized(onboarder, ADMIN_ROLE));
        vm.prank(onboarder);
        registry.register(newcomer, _legalId(newcomer), _roles(Roles.SUPPLIER, Roles.ORACLE));
        assertEq(uint8(registry.participant(newcomer).status), uint8(IParticipantRegistry.Status.None));
        assertEq(registry.accountOf(_legalId(newcomer)), address(0));
    }

    /// @notice Onboarding together with governance (the test admin holds both) registers an oracle.
    function test_onboardingWithAdminRegistersOracle() public {
        vm.prank(admin);
        registry.register(newcomer, _legalId(newcomer), _roles(Roles.ORACLE, Roles.SUPPLIER));
        assertEq(registry.participant(newcomer).roleBits, Roles.BIT_ORACLE | Roles.BIT_SUPPLIER);
    }

    // ------------------------------------------------------------------ DESK

    function test_RevertWhen_anyoneGrantsDesk() public {
        address[3] memory callers = [onboarder, governance, admin];
        for (uint256 i = 0; i < callers.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.DeskGrantOutsideBinding.selector, newcomer));
            vm.prank(callers[i]);
            registry.grantRole(Roles.DESK, newcomer);
        }
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotAParticipantRole.selector, Roles.DESK));
        vm.prank(onboarder);
        registry.register(newcomer, _legalId(newcomer), _roles(Roles.DESK));
    }

    function test_RevertWhen_onboardingBindsDesks() public {
        address[] memory desks = new address[](1);
        desks[0] = address(registry);
        vm.expectRevert(_unauthorized(onboarder, ADMIN_ROLE));
        vm.prank(onboarder);
        registry.bindDesks(desks);
    }

    // ------------------------------------------------------------------ status

    function test_onboarding_suspendsAndReactivatesHolders() public {
        vm.prank(onboarder);
        registry.setStatus(supplier1, IParticipantRegistry.Status.Suspended);
        assertFalse(registry.isActive(supplier1));
        vm.prank(onboarder);
        registry.setStatus(supplier1, IParticipantRegistry.Status.Active);
        assertTrue(registry.isActive(supplier1));
    }

    /// @notice Suspending a regulator or an oracle takes what granting the role would: governance's admin role.
    function test_RevertWhen_onboardingSuspendsGovernanceAdministeredParticipant() public {
        vm.expectRevert(_unauthorized(onboarder, ADMIN_ROLE));
        vm.prank(onboarder);
        registry.setStatus(regulator, IParticipantRegistry.Status.Suspended);
        // The test admin holds ONBOARDING and DEFAULT_ADMIN_ROLE.
        vm.prank(admin);
        registry.setStatus(regulator, IParticipantRegistry.Status.Suspended);
        assertFalse(registry.isActive(regulator));
    }

    // ------------------------------------------------------------------ governance alone

    function test_governance_grantsItsRolesButNotHolderRoles() public {
        _registerBare(newcomer);
        bytes32[7] memory roles = _governanceRoles();
        for (uint256 i = 0; i < roles.length; ++i) {
            vm.prank(governance);
            registry.grantRole(roles[i], newcomer);
            assertTrue(registry.hasRole(roles[i], newcomer));
        }
        vm.expectRevert(_unauthorized(governance, Roles.ONBOARDING));
        vm.prank(governance);
        registry.grantRole(Roles.SUPPLIER, newcomer);
    }

    function test_RevertWhen_governanceAloneRegisters() public {
        vm.expectRevert(_unauthorized(governance, Roles.ONBOARDING));
        vm.prank(governance);
        registry.register(newcomer, _legalId(newcomer), new bytes32[](0));
    }

    /// @notice Governance alone (no ONBOARDING) suspends and reactivates anyone: an oracle or a regulator
    ///         that only governance administers, and a trading party too.
    function test_governanceAloneSetsAnyStatus() public {
        vm.startPrank(governance);
        registry.setStatus(regulator, IParticipantRegistry.Status.Suspended);
        registry.setStatus(supplier1, IParticipantRegistry.Status.Suspended);
        vm.stopPrank();
        assertFalse(registry.isActive(regulator));
        assertFalse(registry.isActive(supplier1));
        vm.prank(governance);
        registry.setStatus(regulator, IParticipantRegistry.Status.Active);
        assertTrue(registry.isActive(regulator));
    }

    function test_RevertWhen_neitherOnboardingNorGovernanceSetsStatus() public {
        vm.expectRevert(_unauthorized(outsider, Roles.ONBOARDING));
        vm.prank(outsider);
        registry.setStatus(supplier1, IParticipantRegistry.Status.Suspended);
    }

    function test_revokedOnboardingCannotRegister() public {
        vm.prank(governance);
        registry.revokeRole(Roles.ONBOARDING, onboarder);
        vm.expectRevert(_unauthorized(onboarder, Roles.ONBOARDING));
        vm.prank(onboarder);
        registry.register(newcomer, _legalId(newcomer), _roles(Roles.SUPPLIER));
    }
}

/// @notice The policy settings (oracle threshold, settlement currencies, metadata base URI) belong to POLICY
///         (governance, the policy class); DEFAULT_ADMIN_ROLE alone does not change them.
contract PolicyRoleTest is World {
    address internal policy = makeAddr("policy");
    address internal governance = makeAddr("governance");

    function setUp() public {
        _deployWorld();
        vm.startPrank(admin);
        registry.grantRole(Roles.POLICY, policy);
        registry.grantRole(bytes32(0), governance);
        vm.stopPrank();
    }

    function test_policy_setsThresholdCurrencyAndBaseURI() public {
        vm.startPrank(policy);
        trades.setThreshold(3);
        issuance.setCurrency("USD", makeAddr("dUSD"));
        token.setBaseURI("https://tierchain.example/v1/metadata/");
        vm.stopPrank();
        assertEq(trades.threshold(), 3);
        assertEq(issuance.currencyToken("USD"), makeAddr("dUSD"));
        assertEq(token.contractURI(), "https://tierchain.example/v1/metadata/contract");
    }

    function test_RevertWhen_defaultAdminAloneSetsPolicy() public {
        vm.startPrank(governance);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.NotAdmin.selector, governance));
        trades.setThreshold(3);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.NotAdmin.selector, governance));
        issuance.setCurrency("USD", makeAddr("dUSD"));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotAuthorized.selector, governance));
        token.setBaseURI("https://tierchain.example/v1/metadata/");
        vm.stopPrank();
    }

    function test_RevertWhen_operatorRolesSetPolicy() public {
        address operator = makeAddr("operator");
        vm.startPrank(admin);
        registry.grantRole(Roles.ONBOARDING, operator);
        registry.grantRole(Roles.GUARDIAN, operator);
        vm.stopPrank();
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.NotAdmin.selector, operator));
        trades.setThreshold(3);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.NotAdmin.selector, operator));
        issuance.setCurrency("USD", makeAddr("dUSD"));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotAuthorized.selector, operator));
        token.setBaseURI("https://tierchain.example/v1/metadata/");
        vm.stopPrank();
    }
}
