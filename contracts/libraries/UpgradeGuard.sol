// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

/// @title UpgradeGuard
/// @notice The checks every Tierchain proxy but the registry makes before an upgrade: the caller holds the
///         registry's DEFAULT_ADMIN_ROLE (governance, the timelock), and the new implementation is wired to
///         the same Tierchain contracts as the current one (its immutables name the same proxies).
library UpgradeGuard {
    /// @notice Reverts `AccessControlUnauthorizedAccount(account, DEFAULT_ADMIN_ROLE)` unless `account` holds
    ///         DEFAULT_ADMIN_ROLE in `registry`.
    function checkAdmin(IAccessControl registry, address account) internal view {
        if (!registry.hasRole(bytes32(0), account)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(account, bytes32(0));
        }
    }

    /// @notice The address `implementation` answers to the parameterless getter `selector` (for example
    ///         `participants()`), or the zero address when it has no such getter or answers something else.
    /// @dev A plain static call, so an implementation without the getter (or without code) reads as
    ///      unwired instead of reverting with an undecodable answer.
    function wiredTo(address implementation, bytes4 selector) internal view returns (address) {
        (bool ok, bytes memory answer) = implementation.staticcall(abi.encodeWithSelector(selector));
        if (!ok || answer.length != 32) return address(0);
        uint256 word = abi.decode(answer, (uint256));
        return word >> 160 == 0 ? address(uint160(word)) : address(0);
    }
}

/// @title IWiring
/// @notice The getters through which a Tierchain implementation names the contracts it is wired to.
interface IWiring {
    /// @notice The participant registry (a proxy address).
    function participants() external view returns (address);
    /// @notice The receivable token (a proxy address).
    function token() external view returns (address);
    /// @notice The trade registry (a proxy address).
    function trades() external view returns (address);
    /// @notice The repayment desk (a proxy address).
    function repayments() external view returns (address);
}
