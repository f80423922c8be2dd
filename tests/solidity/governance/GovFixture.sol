// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {OperatorSeats} from "../../../contracts/governance/OperatorSeats.sol";
import {TierchainTimelock} from "../../../contracts/governance/TierchainTimelock.sol";
import {TierchainGovernor} from "../../../contracts/governance/TierchainGovernor.sol";
import {GovernedTarget} from "./GovernedTarget.sol";

/// @notice Governance as deployed on a permissioned network: N = 3 operator seats, M = 2 approvals, policy
///         delay 24 h (also the timelock's minimum), admin delay 48 h (the default), a guardian key that is
///         the proposal guardian and a timelock canceller, anyone executes, the deployer's timelock admin
///         renounced. Plus a stand-in governed contract and helpers to run a proposal.
abstract contract GovFixture is Test {
    uint256 internal constant T0 = 1_750_000_000;
    uint256 internal constant POLICY_DELAY = 24 hours;
    uint256 internal constant ADMIN_DELAY = 48 hours;
    uint32 internal constant VOTING_PERIOD = 50_400; // about a week of 12 s blocks
    uint256 internal constant APPROVALS = 2;
    uint8 internal constant AGAINST = 0;
    uint8 internal constant FOR = 1;
    uint8 internal constant ABSTAIN = 2;

    OperatorSeats internal seats;
    TierchainTimelock internal timelock;
    TierchainGovernor internal governor;
    GovernedTarget internal target;

    address internal op1 = makeAddr("op1");
    address internal op2 = makeAddr("op2");
    address internal op3 = makeAddr("op3");
    address internal guardian = makeAddr("guardian");
    address internal stranger = makeAddr("stranger");

    function setUp() public virtual {
        vm.warp(T0);
        vm.roll(100);
        timelock = new TierchainTimelock(
            POLICY_DELAY,
            ADMIN_DELAY,
            policySelectors(),
            _fill(4, POLICY_DELAY),
            new address[](0),
            _one(address(0)),
            address(this)
        );
        address[] memory operators = new address[](3);
        (operators[0], operators[1], operators[2]) = (op1, op2, op3);
        seats = new OperatorSeats(address(timelock), operators);
        governor = new TierchainGovernor(seats, timelock, VOTING_PERIOD, APPROVALS, guardian);
        timelock.grantRole(timelock.PROPOSER_ROLE(), address(governor));
        timelock.grantRole(timelock.CANCELLER_ROLE(), address(governor));
        timelock.grantRole(timelock.CANCELLER_ROLE(), guardian);
        timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), address(this));
        target = new GovernedTarget(address(timelock));
        vm.roll(block.number + 1); // seats' votes count from the next block
    }

    /// @dev The policy class as the deployer lists it: setThreshold, setCurrency, setBaseURI, unpause.
    function policySelectors() internal pure returns (bytes4[] memory s) {
        s = new bytes4[](4);
        s[0] = bytes4(keccak256("setThreshold(uint8)"));
        s[1] = bytes4(keccak256("setCurrency(bytes3,address)"));
        s[2] = bytes4(keccak256("setBaseURI(string)"));
        s[3] = bytes4(keccak256("unpause(uint8,string)"));
    }

    // ------------------------------------------------------------------ proposal helpers

    struct Proposal {
        address[] targets;
        uint256[] values;
        bytes[] calldatas;
        string description;
    }

    function _call(address to, bytes memory data) internal pure returns (Proposal memory p) {
        p.targets = _one(to);
        p.values = new uint256[](1);
        p.calldatas = new bytes[](1);
        p.calldatas[0] = data;
        p.description = "one call";
    }

    function _calls(address[] memory to, bytes[] memory data) internal pure returns (Proposal memory p) {
        p.targets = to;
        p.values = new uint256[](to.length);
        p.calldatas = data;
        p.description = "batch";
    }

    function _propose(Proposal memory p, address proposer) internal returns (uint256 id) {
        vm.prank(proposer);
        id = governor.propose(p.targets, p.values, p.calldatas, p.description);
    }

    function _approve(uint256 id, address seat) internal {
        vm.prank(seat);
        governor.castVote(id, FOR);
    }

    /// @dev Propose (op1), next block, approve by op1 and op2: Succeeded.
    function _pass(Proposal memory p) internal returns (uint256 id) {
        id = _propose(p, op1);
        vm.roll(block.number + 1);
        _approve(id, op1);
        _approve(id, op2);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Succeeded));
    }

    function _queue(Proposal memory p) internal returns (uint256 id) {
        id = governor.queue(p.targets, p.values, p.calldatas, keccak256(bytes(p.description)));
    }

    function _execute(Proposal memory p) internal returns (uint256 id) {
        id = governor.execute(p.targets, p.values, p.calldatas, keccak256(bytes(p.description)));
    }

    /// @dev Pass, queue, wait for the ETA, execute.
    function _enact(Proposal memory p) internal returns (uint256 id) {
        id = _pass(p);
        _queue(p);
        vm.warp(governor.proposalEta(id));
        _execute(p);
    }

    /// @dev The timelock operation id the governor uses for `p` (GovernorTimelockControl's salt).
    function _opId(Proposal memory p) internal view returns (bytes32) {
        bytes32 salt = bytes20(address(governor)) ^ keccak256(bytes(p.description));
        return timelock.hashOperationBatch(p.targets, p.values, p.calldatas, 0, salt);
    }

    function _readyBitmap() internal pure returns (bytes32) {
        // forge-lint: disable-next-line(incorrect-shift)
        return bytes32(1 << uint8(TimelockController.OperationState.Ready));
    }

    function _stateBitmap(IGovernor.ProposalState s) internal pure returns (bytes32) {
        // forge-lint: disable-next-line(incorrect-shift)
        return bytes32(1 << uint8(s));
    }

    // ------------------------------------------------------------------ array helpers

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
}
