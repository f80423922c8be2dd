// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {TierchainTimelock} from "../../../contracts/governance/TierchainTimelock.sol";
import {GovernedTarget} from "./GovernedTarget.sol";

contract TierchainTimelockTest is Test {
    event FunctionDelaySet(bytes4 indexed selector, uint256 oldDelay, uint256 newDelay);
    event DefaultDelaySet(uint256 oldDelay, uint256 newDelay);
    event CallScheduled(
        bytes32 indexed id,
        uint256 indexed index,
        address target,
        uint256 value,
        bytes data,
        bytes32 predecessor,
        uint256 delay
    );

    uint256 internal constant T0 = 1_750_000_000;
    uint256 internal constant POLICY = 24 hours;
    uint256 internal constant ADMIN = 48 hours;

    TierchainTimelock internal timelock;
    GovernedTarget internal target;
    address internal proposer = makeAddr("proposer");
    address internal stranger = makeAddr("stranger");

    bytes4 internal constant SET_THRESHOLD = bytes4(keccak256("setThreshold(uint8)"));
    bytes4 internal constant SET_CURRENCY = bytes4(keccak256("setCurrency(bytes3,address)"));
    bytes4 internal constant SET_BASE_URI = bytes4(keccak256("setBaseURI(string)"));
    bytes4 internal constant UNPAUSE = bytes4(keccak256("unpause(uint8,string)"));

    function setUp() public {
        vm.warp(T0);
        timelock = new TierchainTimelock(
            POLICY, ADMIN, _policy(), _fill(4, POLICY), _one(proposer), _one(address(0)), address(0)
        );
        target = new GovernedTarget(address(timelock));
    }

    function _policy() internal pure returns (bytes4[] memory s) {
        s = new bytes4[](4);
        (s[0], s[1], s[2], s[3]) = (SET_THRESHOLD, SET_CURRENCY, SET_BASE_URI, UNPAUSE);
    }

    function _one(address a) internal pure returns (address[] memory r) {
        r = new address[](1);
        r[0] = a;
    }

    function _fill(uint256 n, uint256 v) internal pure returns (uint256[] memory r) {
        r = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            r[i] = v;
        }
    }

    // ------------------------------------------------------------------ construction

    function test_constructorSetsClassesAndRoles() public view {
        assertEq(timelock.getMinDelay(), POLICY);
        assertEq(timelock.defaultDelay(), ADMIN);
        assertEq(timelock.functionDelay(SET_THRESHOLD), POLICY);
        assertEq(timelock.functionDelay(UNPAUSE), POLICY);
        assertTrue(timelock.hasFunctionDelay(SET_BASE_URI));
        assertEq(timelock.functionDelay(GovernedTarget.setAdmin.selector), ADMIN);
        assertFalse(timelock.hasFunctionDelay(GovernedTarget.setAdmin.selector));
        assertTrue(timelock.hasRole(timelock.PROPOSER_ROLE(), proposer));
        assertTrue(timelock.hasRole(timelock.CANCELLER_ROLE(), proposer));
        assertTrue(timelock.hasRole(timelock.EXECUTOR_ROLE(), address(0)));
        assertTrue(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), address(timelock)));
    }

    function test_constructorEmitsEveryDelay() public {
        vm.expectEmit();
        emit DefaultDelaySet(0, ADMIN);
        vm.expectEmit();
        emit FunctionDelaySet(SET_THRESHOLD, ADMIN, POLICY);
        new TierchainTimelock(
            POLICY, ADMIN, _slice(SET_THRESHOLD), _fill(1, POLICY), _one(proposer), _one(address(0)), address(0)
        );
    }

    function test_constructorRefusesMismatchedLists() public {
        vm.expectRevert(abi.encodeWithSelector(TierchainTimelock.FunctionDelaysLengthMismatch.selector, 4, 3));
        new TierchainTimelock(POLICY, ADMIN, _policy(), _fill(3, POLICY), _one(proposer), _one(address(0)), address(0));
    }

    function test_constructorRefusesDelaysBelowMinimum() public {
        vm.expectRevert(
            abi.encodeWithSelector(TimelockController.TimelockInsufficientDelay.selector, POLICY - 1, POLICY)
        );
        new TierchainTimelock(
            POLICY, POLICY - 1, _policy(), _fill(4, POLICY), _one(proposer), _one(address(0)), address(0)
        );
        vm.expectRevert(abi.encodeWithSelector(TimelockController.TimelockInsufficientDelay.selector, 1 hours, POLICY));
        new TierchainTimelock(POLICY, ADMIN, _policy(), _fill(4, 1 hours), _one(proposer), _one(address(0)), address(0));
    }

    function test_localNetworkAllZero() public {
        TierchainTimelock local = new TierchainTimelock(
            0, 0, new bytes4[](0), new uint256[](0), _one(proposer), _one(address(0)), address(0)
        );
        assertEq(local.functionDelay(SET_THRESHOLD), 0);
        GovernedTarget t = new GovernedTarget(address(local));
        bytes memory data = abi.encodeCall(GovernedTarget.setThreshold, (4));
        vm.prank(proposer);
        local.schedule(address(t), 0, data, 0, 0, 0);
        local.execute(address(t), 0, data, 0, 0);
        assertEq(t.threshold(), 4);
    }

    function _slice(bytes4 s) internal pure returns (bytes4[] memory r) {
        r = new bytes4[](1);
        r[0] = s;
    }

    // ------------------------------------------------------------------ setters: only the timelock itself

    function test_settersAreOnlyForTheTimelockItself() public {
        vm.startPrank(stranger);
        vm.expectRevert(abi.encodeWithSelector(TimelockController.TimelockUnauthorizedCaller.selector, stranger));
        timelock.setFunctionDelay(SET_THRESHOLD, ADMIN);
        vm.expectRevert(abi.encodeWithSelector(TimelockController.TimelockUnauthorizedCaller.selector, stranger));
        timelock.setDefaultDelay(ADMIN);
        vm.stopPrank();
        vm.startPrank(proposer); // a proposer cannot skip the queue either
        vm.expectRevert(abi.encodeWithSelector(TimelockController.TimelockUnauthorizedCaller.selector, proposer));
        timelock.setFunctionDelay(SET_THRESHOLD, ADMIN);
        vm.stopPrank();
    }

    function test_setFunctionDelayEmitsAndApplies() public {
        bytes4 sel = GovernedTarget.setAdmin.selector;
        vm.expectEmit(address(timelock));
        emit FunctionDelaySet(sel, ADMIN, 72 hours);
        vm.prank(address(timelock));
        timelock.setFunctionDelay(sel, 72 hours);
        assertEq(timelock.functionDelay(sel), 72 hours);
        assertTrue(timelock.hasFunctionDelay(sel));
    }

    function test_anExplicitEntryEqualToTheMinimumIsKeptApartFromTheDefault() public {
        TierchainTimelock t = new TierchainTimelock(
            0, ADMIN, new bytes4[](0), new uint256[](0), _one(proposer), _one(address(0)), address(0)
        );
        vm.prank(address(t));
        t.setFunctionDelay(SET_THRESHOLD, 0);
        assertEq(t.functionDelay(SET_THRESHOLD), 0);
        assertEq(t.functionDelay(UNPAUSE), ADMIN);
    }

    function test_setDefaultDelayEmitsAndApplies() public {
        vm.expectEmit(address(timelock));
        emit DefaultDelaySet(ADMIN, 96 hours);
        vm.prank(address(timelock));
        timelock.setDefaultDelay(96 hours);
        assertEq(timelock.defaultDelay(), 96 hours);
        assertEq(timelock.functionDelay(GovernedTarget.setAdmin.selector), 96 hours);
        assertEq(timelock.functionDelay(SET_THRESHOLD), POLICY, "explicit entries stay");
    }

    function test_delaysBelowTheMinimumAreRefused() public {
        vm.startPrank(address(timelock));
        vm.expectRevert(
            abi.encodeWithSelector(TimelockController.TimelockInsufficientDelay.selector, POLICY - 1, POLICY)
        );
        timelock.setFunctionDelay(SET_THRESHOLD, POLICY - 1);
        vm.expectRevert(abi.encodeWithSelector(TimelockController.TimelockInsufficientDelay.selector, 0, POLICY));
        timelock.setDefaultDelay(0);
        timelock.setFunctionDelay(SET_THRESHOLD, POLICY); // the minimum itself is fine
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ scheduling lifts the delay

    function test_scheduleLiftsTheDelayToTheClass() public {
        bytes memory policyCall = abi.encodeCall(GovernedTarget.setThreshold, (3));
        bytes memory adminCall = abi.encodeCall(GovernedTarget.setAdmin, (stranger));
        bytes32 idP = timelock.hashOperation(address(target), 0, policyCall, 0, bytes32("p"));
        bytes32 idA = timelock.hashOperation(address(target), 0, adminCall, 0, bytes32("a"));
        vm.startPrank(proposer);
        vm.expectEmit(address(timelock));
        emit CallScheduled(idA, 0, address(target), 0, adminCall, 0, ADMIN);
        timelock.schedule(address(target), 0, adminCall, 0, bytes32("a"), POLICY);
        timelock.schedule(address(target), 0, policyCall, 0, bytes32("p"), POLICY);
        vm.stopPrank();
        assertEq(timelock.getTimestamp(idP), T0 + POLICY);
        assertEq(timelock.getTimestamp(idA), T0 + ADMIN);
        vm.warp(T0 + ADMIN - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                TimelockController.TimelockUnexpectedOperationState.selector,
                idA,
                // forge-lint: disable-next-line(incorrect-shift)
                bytes32(1 << uint8(TimelockController.OperationState.Ready))
            )
        );
        timelock.execute(address(target), 0, adminCall, 0, bytes32("a"));
        vm.warp(T0 + ADMIN);
        timelock.execute(address(target), 0, adminCall, 0, bytes32("a"));
        assertEq(target.admin(), stranger);
    }

    function test_aLongerRequestedDelayIsKept() public {
        bytes memory policyCall = abi.encodeCall(GovernedTarget.setThreshold, (3));
        vm.prank(proposer);
        timelock.schedule(address(target), 0, policyCall, 0, 0, 30 days);
        assertEq(timelock.getTimestamp(timelock.hashOperation(address(target), 0, policyCall, 0, 0)), T0 + 30 days);
    }

    function test_aValueTransferTakesTheDefaultDelay() public {
        vm.prank(proposer);
        timelock.schedule(stranger, 1, "", 0, 0, POLICY);
        assertEq(timelock.getTimestamp(timelock.hashOperation(stranger, 1, "", 0, 0)), T0 + ADMIN);
        vm.prank(proposer);
        timelock.schedule(stranger, 0, hex"aabbcc", 0, 0, POLICY);
        assertEq(timelock.getTimestamp(timelock.hashOperation(stranger, 0, hex"aabbcc", 0, 0)), T0 + ADMIN);
    }

    function test_scheduleBatchTakesTheLongestClass() public {
        address[] memory targets = new address[](2);
        (targets[0], targets[1]) = (address(target), address(target));
        bytes[] memory payloads = new bytes[](2);
        payloads[0] = abi.encodeCall(GovernedTarget.setThreshold, (3));
        payloads[1] = abi.encodeCall(GovernedTarget.setAdmin, (stranger));
        vm.prank(proposer);
        timelock.scheduleBatch(targets, new uint256[](2), payloads, 0, 0, 0 + POLICY);
        bytes32 id = timelock.hashOperationBatch(targets, new uint256[](2), payloads, 0, 0);
        assertEq(timelock.getTimestamp(id), T0 + ADMIN);
        assertEq(timelock.requiredDelay(targets, payloads), ADMIN);
    }

    function test_scheduleStillNeedsTheProposerRole() public {
        bytes32 role = timelock.PROPOSER_ROLE();
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        timelock.schedule(address(target), 0, abi.encodeCall(GovernedTarget.setThreshold, (3)), 0, 0, ADMIN);
    }

    function test_scheduleBelowTheMinimumIsStillRefusedForAShortClass() public {
        // The minimum is enforced by OZ even if a listed class were somehow shorter.
        bytes memory policyCall = abi.encodeCall(GovernedTarget.setThreshold, (3));
        vm.prank(address(timelock));
        timelock.updateDelay(ADMIN + 1);
        vm.prank(proposer);
        vm.expectRevert(
            abi.encodeWithSelector(TimelockController.TimelockInsufficientDelay.selector, POLICY, ADMIN + 1)
        );
        timelock.schedule(address(target), 0, policyCall, 0, 0, 0);
    }

    function test_requiredDelayRefusesMismatchedLengths() public {
        vm.expectRevert(abi.encodeWithSelector(TierchainTimelock.OperationLengthMismatch.selector, 1, 0));
        timelock.requiredDelay(_one(address(target)), new bytes[](0));
    }

    function test_requiredDelayOfNothingIsZero() public view {
        assertEq(timelock.requiredDelay(new address[](0), new bytes[](0)), 0);
    }

    // ------------------------------------------------------------------ fuzz

    /// @dev Any selector without an entry waits the default (admin) delay.
    function testFuzz_functionDelayOfAnUnlistedSelectorIsTheDefault(bytes4 selector) public view {
        vm.assume(selector != SET_THRESHOLD && selector != SET_CURRENCY && selector != SET_BASE_URI);
        vm.assume(selector != UNPAUSE);
        assertEq(timelock.functionDelay(selector), ADMIN);
        assertFalse(timelock.hasFunctionDelay(selector));
    }

    /// @dev A batch of random calls (listed and unlisted selectors, short payloads) requires the largest of
    ///      its calls' class delays, and scheduling it yields that ETA.
    function testFuzz_requiredDelayIsTheMaxOfTheClasses(uint256 seed, uint8 n, uint32 extra) public {
        n = uint8(bound(n, 1, 12));
        // a third class, between the two, to make the max non-trivial
        bytes4 mid = bytes4(keccak256("setMid()"));
        uint256 midDelay = POLICY + bound(extra, 1, ADMIN - POLICY - 1);
        vm.prank(address(timelock));
        timelock.setFunctionDelay(mid, midDelay);
        address[] memory targets = new address[](n);
        bytes[] memory payloads = new bytes[](n);
        uint256 expected;
        for (uint256 i = 0; i < n; ++i) {
            uint256 pick = uint256(keccak256(abi.encode(seed, i)));
            uint256 d;
            (payloads[i], d) = _randomCall(pick, mid, midDelay);
            targets[i] = address(target);
            if (d > expected) expected = d;
        }
        assertEq(timelock.requiredDelay(targets, payloads), expected);
        vm.prank(proposer);
        timelock.scheduleBatch(targets, new uint256[](n), payloads, 0, bytes32(seed), 0 + POLICY);
        bytes32 id = timelock.hashOperationBatch(targets, new uint256[](n), payloads, 0, bytes32(seed));
        assertEq(timelock.getTimestamp(id), block.timestamp + expected);
    }

    function _randomCall(uint256 pick, bytes4 mid, uint256 midDelay) internal pure returns (bytes memory, uint256) {
        uint256 kind = pick % 7;
        bytes4[] memory listed = _policy();
        if (kind < 4) return (abi.encodePacked(listed[kind], pick), POLICY);
        if (kind == 4) return (abi.encodePacked(mid), midDelay);
        if (kind == 5) return (abi.encodePacked(bytes3(uint24(pick >> 8))), ADMIN); // shorter than a selector
        bytes4 sel = bytes4(uint32(pick >> 32));
        if (sel == listed[0] || sel == listed[1] || sel == listed[2] || sel == listed[3]) {
            return (abi.encodePacked(sel), POLICY);
        }
        if (sel == mid) return (abi.encodePacked(sel), midDelay);
        return (abi.encodePacked(sel, pick), ADMIN);
    }
}
