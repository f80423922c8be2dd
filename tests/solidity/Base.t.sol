// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {ParticipantRegistry} from "../../contracts/ParticipantRegistry.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";
import {Deploy} from "./utils/Deploy.sol";

/// @notice The shared world of the Solidity tests: one participant registry (behind its proxy), its admin
///         (holding DEFAULT_ADMIN_ROLE, ONBOARDING, POLICY and GUARDIAN), and the cast of a
///         supply chain (a core enterprise, three suppliers, a bank, a regulator), plus helpers to register
///         more. Contract-specific fixtures (token, trade registry, oracles) live in each test file.
abstract contract Base is Test {
    /// @dev A fixed, realistic start time so maturity and deadline arithmetic never underflows.
    uint256 internal constant T0 = 1_750_000_000;

    ParticipantRegistry internal registry;

    address internal admin = makeAddr("admin");
    address internal coreEnterprise = makeAddr("coreEnterprise");
    address internal supplier1 = makeAddr("supplier1");
    address internal supplier2 = makeAddr("supplier2");
    address internal supplier3 = makeAddr("supplier3");
    address internal bank = makeAddr("bank");
    address internal regulator = makeAddr("regulator");
    address internal outsider = makeAddr("outsider");

    uint256 private _legalIdNonce;

    function setUp() public virtual {
        vm.warp(T0);
        registry = Deploy.registryWithOperator(admin);
        Deploy.setPolicy(registry, admin, Deploy.mechanicsPolicy());
        _register(coreEnterprise, Roles.CORE_ENTERPRISE);
        _register(supplier1, Roles.SUPPLIER);
        _register(supplier2, Roles.SUPPLIER);
        _register(supplier3, Roles.SUPPLIER);
        _register(bank, Roles.BANK);
        _register(regulator, Roles.REGULATOR);
    }

    // ------------------------------------------------------------------ helpers

    function _roles(bytes32 a) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](1);
        r[0] = a;
    }

    function _roles(bytes32 a, bytes32 b) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](2);
        r[0] = a;
        r[1] = b;
    }

    function _legalId(address account) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("USCC:", account));
    }

    /// @dev Registers `account` with one participant role under a legal id derived from its address.
    function _register(address account, bytes32 role) internal {
        vm.prank(admin);
        registry.register(account, _legalId(account), _roles(role));
    }

    /// @dev Registers `account` with no role at all (active, but neither holder nor actor).
    function _registerBare(address account) internal {
        vm.prank(admin);
        registry.register(account, _legalId(account), new bytes32[](0));
    }

    function _suspend(address account) internal {
        vm.prank(admin);
        registry.setStatus(account, IParticipantRegistry.Status.Suspended);
    }

    function _reactivate(address account) internal {
        vm.prank(admin);
        registry.setStatus(account, IParticipantRegistry.Status.Active);
    }

    /// @dev Grants a plain AccessControl role (ENFORCEMENT) or a participant role through the admin. DESK
    ///      can only be bound once, to contracts (`bindDesks`), so it goes through `_bindDesk`.
    function _grant(bytes32 role, address account) internal {
        if (role == Roles.DESK) return _bindDesk(account);
        vm.prank(admin);
        registry.grantRole(role, account);
    }

    /// @dev Binds `desk` as the registry's only desk. A test desk is an address the test pranks as, so it
    ///      gets a one-byte stand-in code first (a desk must be a contract).
    function _bindDesk(address desk) internal {
        if (desk.code.length == 0) vm.etch(desk, hex"00");
        address[] memory desks = new address[](1);
        desks[0] = desk;
        vm.prank(admin);
        registry.bindDesks(desks);
    }

    function _revoke(bytes32 role, address account) internal {
        vm.prank(admin);
        registry.revokeRole(role, account);
    }
}
