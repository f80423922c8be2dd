// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title TierchainTimelock
/// @notice The timelock that holds Tierchain's governance powers, with a delay per function readable on-chain:
///         every scheduled call waits at least the delay of its function's class (policy or admin), whatever
///         delay the proposer asked for.
/// @dev A call's delay is looked up by its selector: an explicit entry if one was set, else `defaultDelay`
///      (the admin class, so an unlisted function is never faster than admin). A call with fewer than 4
///      bytes of data (a plain value transfer) takes `defaultDelay`. `schedule`/`scheduleBatch` use
///      `max(delay, requiredDelay(...))`, so the Governor, which asks for `getMinDelay()`, still gets the
///      class delay. Every delay set here must be at least `getMinDelay()` when it is set; raising the minimum
///      later (`updateDelay`) lifts any shorter class to the new minimum, since OZ refuses to schedule below it.
contract TierchainTimelock is TimelockController {
    using SafeCast for uint256;

    /// @dev An explicit per-function delay; `listed` tells an explicit 0 from no entry.
    struct FunctionDelay {
        bool listed;
        uint248 delay;
    }

    uint256 private _defaultDelay;
    mapping(bytes4 selector => FunctionDelay) private _functionDelays;

    /// @notice The delay of calls to `selector` changed.
    /// @param selector The function selector.
    /// @param oldDelay The delay before (the default delay if the selector had no entry), in seconds.
    /// @param newDelay The delay now, in seconds.
    event FunctionDelaySet(bytes4 indexed selector, uint256 oldDelay, uint256 newDelay);

    /// @notice The delay of calls to functions without an entry changed.
    /// @param oldDelay The default delay before, in seconds.
    /// @param newDelay The default delay now, in seconds.
    event DefaultDelaySet(uint256 oldDelay, uint256 newDelay);

    /// @notice The constructor's selector and delay lists differ in length.
    /// @param selectors The number of selectors.
    /// @param delays The number of delays.
    error FunctionDelaysLengthMismatch(uint256 selectors, uint256 delays);

    /// @notice `requiredDelay` was given different numbers of targets and payloads.
    /// @param targets The number of targets.
    /// @param payloads The number of payloads.
    error OperationLengthMismatch(uint256 targets, uint256 payloads);

    /// @param minDelay The smallest delay of any operation (the policy class), in seconds.
    /// @param defaultDelay_ The delay of any function without an entry (the admin class), in seconds.
    /// @param selectors Functions with their own delay (e.g. the policy class).
    /// @param delays The delay of each of `selectors`, in seconds, in the same order.
    /// @param proposers Accounts granted PROPOSER and CANCELLER (the governor).
    /// @param executors Accounts granted EXECUTOR (address(0): anyone executes a ready operation).
    /// @param admin An optional extra DEFAULT_ADMIN (the deployer, to wire roles; renounced after deployment).
    constructor(
        uint256 minDelay,
        uint256 defaultDelay_,
        bytes4[] memory selectors,
        uint256[] memory delays,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {
        if (selectors.length != delays.length) {
            revert FunctionDelaysLengthMismatch(selectors.length, delays.length);
        }
        _setDefaultDelay(defaultDelay_);
        for (uint256 i = 0; i < selectors.length; ++i) {
            _setFunctionDelay(selectors[i], delays[i]);
        }
    }

    /// @notice Sets the delay of calls to `selector`. Only the timelock itself (through a proposal).
    /// @param selector The function selector.
    /// @param newDelay The delay in seconds; at least `getMinDelay()`.
    function setFunctionDelay(bytes4 selector, uint256 newDelay) external {
        _checkSelf();
        _setFunctionDelay(selector, newDelay);
    }

    /// @notice Sets the delay of calls to functions without an entry. Only the timelock itself.
    /// @param newDelay The delay in seconds; at least `getMinDelay()`.
    function setDefaultDelay(uint256 newDelay) external {
        _checkSelf();
        _setDefaultDelay(newDelay);
    }

    /// @notice The delay of functions without an entry (the admin class), in seconds.
    /// @return The default delay.
    function defaultDelay() external view returns (uint256) {
        return _defaultDelay;
    }

    /// @notice The delay a call to `selector` waits: its explicit entry, else the default delay.
    /// @param selector The function selector.
    /// @return The delay in seconds.
    function functionDelay(bytes4 selector) public view returns (uint256) {
        FunctionDelay memory entry = _functionDelays[selector];
        return entry.listed ? entry.delay : _defaultDelay;
    }

    /// @notice Whether `selector` has an explicit entry (else it takes the default delay).
    /// @param selector The function selector.
    /// @return True if an entry was set.
    function hasFunctionDelay(bytes4 selector) external view returns (bool) {
        return _functionDelays[selector].listed;
    }

    /// @notice The delay an operation made of these calls waits: the largest of its calls' delays.
    /// @dev A payload shorter than 4 bytes takes the default delay. An empty operation requires 0 (the
    ///      minimum delay still applies when it is scheduled).
    /// @param targets The called contracts (one per payload).
    /// @param payloads The calldata of each call.
    /// @return delay The required delay in seconds.
    function requiredDelay(address[] calldata targets, bytes[] calldata payloads) public view returns (uint256 delay) {
        if (targets.length != payloads.length) revert OperationLengthMismatch(targets.length, payloads.length);
        for (uint256 i = 0; i < payloads.length; ++i) {
            delay = Math.max(delay, _callDelay(payloads[i]));
        }
    }

    /// @inheritdoc TimelockController
    /// @dev Schedules with `max(delay, functionDelay(selector of data))`.
    function schedule(
        address target,
        uint256 value,
        bytes calldata data,
        bytes32 predecessor,
        bytes32 salt,
        uint256 delay
    ) public override {
        delay = Math.max(delay, _callDelay(data));
        super.schedule(target, value, data, predecessor, salt, delay);
    }

    /// @inheritdoc TimelockController
    /// @dev Schedules with `max(delay, requiredDelay(targets, payloads))`.
    function scheduleBatch(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata payloads,
        bytes32 predecessor,
        bytes32 salt,
        uint256 delay
    ) public override {
        delay = Math.max(delay, requiredDelay(targets, payloads));
        super.scheduleBatch(targets, values, payloads, predecessor, salt, delay);
    }

    /// @dev The delay of one call, by its selector; short data takes the default delay.
    function _callDelay(bytes calldata data) private view returns (uint256) {
        return data.length < 4 ? _defaultDelay : functionDelay(bytes4(data[:4]));
    }

    /// @dev Same rule as {TimelockController-updateDelay}: only the timelock itself.
    function _checkSelf() private view {
        if (msg.sender != address(this)) revert TimelockUnauthorizedCaller(msg.sender);
    }

    /// @dev Checks the delay against the minimum, emits (the old delay is the default if unlisted) and lists it.
    function _setFunctionDelay(bytes4 selector, uint256 newDelay) private {
        _checkDelay(newDelay);
        emit FunctionDelaySet(selector, functionDelay(selector), newDelay);
        _functionDelays[selector] = FunctionDelay({listed: true, delay: newDelay.toUint248()});
    }

    /// @dev Checks the delay against the minimum, emits and stores it.
    function _setDefaultDelay(uint256 newDelay) private {
        _checkDelay(newDelay);
        emit DefaultDelaySet(_defaultDelay, newDelay);
        _defaultDelay = newDelay;
    }

    /// @dev A class delay below the minimum delay is refused with OZ's `TimelockInsufficientDelay`.
    function _checkDelay(uint256 newDelay) private view {
        uint256 minDelay = getMinDelay();
        if (newDelay < minDelay) revert TimelockInsufficientDelay(newDelay, minDelay);
    }
}
