// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice A stand-in for a governed Tierchain contract: one policy-class function (`setThreshold`, the same
///         selector as TradeRegistry's) and one admin-class function (`setAdmin`, unlisted in the timelock, so
///         it takes the default delay). Only the timelock may call either.
contract GovernedTarget {
    /// @notice The timelock allowed to call the setters.
    address public immutable timelock;
    /// @notice The policy-class value.
    uint8 public threshold;
    /// @notice The admin-class value.
    address public admin;

    /// @notice The threshold changed.
    event ThresholdSet(uint8 oldThreshold, uint8 newThreshold);
    /// @notice The admin changed.
    event AdminSet(address oldAdmin, address newAdmin);

    /// @notice The caller is not the timelock.
    error NotTimelock(address caller);

    /// @param timelock_ The only allowed caller.
    constructor(address timelock_) {
        timelock = timelock_;
    }

    /// @notice Policy class (24 h).
    function setThreshold(uint8 newThreshold) external {
        if (msg.sender != timelock) revert NotTimelock(msg.sender);
        emit ThresholdSet(threshold, newThreshold);
        threshold = newThreshold;
    }

    /// @notice Admin class (48 h, the default).
    function setAdmin(address newAdmin) external {
        if (msg.sender != timelock) revert NotTimelock(msg.sender);
        emit AdminSet(admin, newAdmin);
        admin = newAdmin;
    }
}
