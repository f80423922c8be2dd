// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {OperatorSeats} from "../../../contracts/governance/OperatorSeats.sol";
import {TierchainTimelock} from "../../../contracts/governance/TierchainTimelock.sol";
import {TierchainGovernor} from "../../../contracts/governance/TierchainGovernor.sol";
import {GovFixture} from "./GovFixture.sol";
import {GovernedTarget} from "./GovernedTarget.sol";

/// @notice The whole path with N = 3, M = 2, policy 24 h, admin 48 h: propose, approve, queue with the class
///         delay, execute once ready; the guardian's two vetoes; seats and settings changed only by the timelock.
contract GovernanceEndToEndTest is GovFixture {
    function _policyCall() internal view returns (Proposal memory) {
        return _call(address(target), abi.encodeCall(GovernedTarget.setThreshold, (7)));
    }

    function _adminCall() internal view returns (Proposal memory) {
        return _call(address(target), abi.encodeCall(GovernedTarget.setAdmin, (op3)));
    }

    function _both() internal view returns (Proposal memory p) {
        address[] memory to = new address[](2);
        (to[0], to[1]) = (address(target), address(target));
        bytes[] memory data = new bytes[](2);
        data[0] = abi.encodeCall(GovernedTarget.setThreshold, (7));
        data[1] = abi.encodeCall(GovernedTarget.setAdmin, (op3));
        p = _calls(to, data);
    }

    /// @dev propose → one approval is not enough → second approval → Succeeded at once → queue with ETA =
    ///      now + `delay` → execute before the ETA reverts → at the ETA it executes.
    function _run(Proposal memory p, uint256 delay) internal returns (uint256 id) {
        id = _propose(p, op1);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Pending));
        vm.roll(block.number + 1);
        _approve(id, op1);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Active), "one approval is not enough");
        _approve(id, op2);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Succeeded), "two succeed at once");

        uint256 queuedAt = block.timestamp;
        _queue(p);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Queued));
        assertEq(governor.proposalEta(id), queuedAt + delay, "ETA = now + class delay");
        assertEq(timelock.getTimestamp(_opId(p)), queuedAt + delay);

        vm.warp(queuedAt + delay - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                TimelockController.TimelockUnexpectedOperationState.selector, _opId(p), _readyBitmap()
            )
        );
        _execute(p);

        vm.warp(queuedAt + delay);
        _execute(p);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Executed));
        assertTrue(timelock.isOperationDone(_opId(p)));
    }

    function test_policyCallWaits24h() public {
        _run(_policyCall(), POLICY_DELAY);
        assertEq(target.threshold(), 7);
    }

    function test_adminCallWaits48h() public {
        _run(_adminCall(), ADMIN_DELAY);
        assertEq(target.admin(), op3);
    }

    function test_aBatchWithBothWaits48h() public {
        _run(_both(), ADMIN_DELAY);
        assertEq(target.threshold(), 7);
        assertEq(target.admin(), op3);
    }

    function test_anyoneExecutesOnceReady() public {
        Proposal memory p = _policyCall();
        uint256 id = _pass(p);
        _queue(p);
        vm.warp(governor.proposalEta(id));
        vm.prank(stranger);
        _execute(p);
        assertEq(target.threshold(), 7);
    }

    function test_theGuardianCancelsAProposal() public {
        Proposal memory p = _policyCall();
        uint256 id = _propose(p, op1);
        vm.roll(block.number + 1);
        _approve(id, op1);
        vm.prank(guardian);
        governor.cancel(id);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Canceled));
        vm.prank(op2);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector,
                id,
                IGovernor.ProposalState.Canceled,
                _stateBitmap(IGovernor.ProposalState.Active)
            )
        );
        governor.castVote(id, FOR);
    }

    function test_theGuardianCancelsAQueuedOperationInTheTimelock() public {
        Proposal memory p = _adminCall();
        uint256 id = _pass(p);
        _queue(p);
        bytes32 op = _opId(p);
        vm.prank(guardian);
        timelock.cancel(op);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Canceled));
        vm.warp(block.timestamp + ADMIN_DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector,
                id,
                IGovernor.ProposalState.Canceled,
                _stateBitmap(IGovernor.ProposalState.Queued)
            )
        );
        _execute(p);
        assertEq(target.admin(), address(0));
    }

    function test_onlyTheGovernorAndTheGuardianCancelInTheTimelock() public {
        Proposal memory p = _adminCall();
        _pass(p);
        _queue(p);
        bytes32 role = timelock.CANCELLER_ROLE();
        bytes32 op = _opId(p);
        vm.prank(op1);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, op1, role));
        timelock.cancel(op);
        assertTrue(timelock.isOperationPending(op));
    }

    function test_theGuardianCannotProposeOrScheduleDirectly() public {
        Proposal memory p = _policyCall();
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorInsufficientProposerVotes.selector, guardian, 0, 1));
        _propose(p, guardian);
        bytes32 role = timelock.PROPOSER_ROLE();
        vm.prank(guardian);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, role)
        );
        timelock.schedule(address(target), 0, p.calldatas[0], 0, 0, POLICY_DELAY);
    }

    function test_aNonSeatCannotPropose() public {
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorInsufficientProposerVotes.selector, stranger, 0, 1));
        _propose(_policyCall(), stranger);
    }

    function test_seatsAreNotTransferable() public {
        uint256 seat = seats.seatId(op1);
        vm.prank(op1);
        vm.expectRevert(OperatorSeats.SeatsAreNotTransferable.selector);
        seats.transferFrom(op1, stranger, seat);
    }

    function test_noOneButTheTimelockSeatsUnseatsOrChangesSettings() public {
        address[3] memory callers = [op1, guardian, stranger];
        for (uint256 i = 0; i < callers.length; ++i) {
            address who = callers[i];
            vm.startPrank(who);
            vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, who));
            seats.seat(stranger);
            vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, who));
            seats.unseat(op2);
            vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorOnlyExecutor.selector, who));
            governor.setApprovalsRequired(3);
            vm.expectRevert(abi.encodeWithSelector(TimelockController.TimelockUnauthorizedCaller.selector, who));
            timelock.setFunctionDelay(GovernedTarget.setAdmin.selector, 1 weeks);
            vm.expectRevert(abi.encodeWithSelector(TimelockController.TimelockUnauthorizedCaller.selector, who));
            timelock.setDefaultDelay(1 weeks);
            vm.expectRevert(abi.encodeWithSelector(TimelockController.TimelockUnauthorizedCaller.selector, who));
            timelock.updateDelay(1 weeks);
            vm.stopPrank();
        }
        assertFalse(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), address(this)), "deployer renounced");
    }

    function test_throughAProposalTheTimelockSeatsAndChangesApprovals() public {
        address op4 = makeAddr("op4");
        address[] memory to = new address[](2);
        (to[0], to[1]) = (address(seats), address(governor));
        bytes[] memory data = new bytes[](2);
        data[0] = abi.encodeCall(OperatorSeats.seat, (op4));
        data[1] = abi.encodeCall(TierchainGovernor.setApprovalsRequired, (3));
        Proposal memory p = _calls(to, data);
        uint256 id = _pass(p);
        _queue(p);
        assertEq(governor.proposalEta(id), block.timestamp + ADMIN_DELAY);
        vm.warp(governor.proposalEta(id));
        _execute(p);
        assertTrue(seats.isSeated(op4));
        assertEq(seats.seatCount(), 4);
        assertEq(governor.approvalsRequired(), 3);

        // op4 proposes from the next block; three approvals are now needed
        vm.roll(block.number + 1);
        Proposal memory q = _policyCall();
        uint256 qid = _propose(q, op4);
        vm.roll(block.number + 1);
        _approve(qid, op4);
        _approve(qid, op1);
        assertEq(uint8(governor.state(qid)), uint8(IGovernor.ProposalState.Active));
        _approve(qid, op2);
        assertEq(uint8(governor.state(qid)), uint8(IGovernor.ProposalState.Succeeded));
    }

    function test_throughAProposalTheTimelockUnseatsAndLowersApprovals() public {
        address[] memory to = new address[](2);
        (to[0], to[1]) = (address(governor), address(seats));
        bytes[] memory data = new bytes[](2);
        data[0] = abi.encodeCall(TierchainGovernor.setApprovalsRequired, (1));
        data[1] = abi.encodeCall(OperatorSeats.unseat, (op3));
        _enact(_calls(to, data));
        assertFalse(seats.isSeated(op3));
        assertEq(governor.approvalsRequired(), 1);
        vm.roll(block.number + 1);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorInsufficientProposerVotes.selector, op3, 0, 1));
        _propose(_policyCall(), op3);
    }

    function test_throughAProposalTheTimelockChangesDelays() public {
        bytes4 setAdmin = GovernedTarget.setAdmin.selector;
        address[] memory to = new address[](2);
        (to[0], to[1]) = (address(timelock), address(timelock));
        bytes[] memory data = new bytes[](2);
        data[0] = abi.encodeCall(TierchainTimelock.setFunctionDelay, (setAdmin, POLICY_DELAY));
        data[1] = abi.encodeCall(TierchainTimelock.setDefaultDelay, (72 hours));
        uint256 id = _enact(_calls(to, data));
        assertEq(governor.proposalEta(id), T0 + ADMIN_DELAY, "delay changes are admin class");
        assertEq(timelock.functionDelay(setAdmin), POLICY_DELAY);
        assertEq(timelock.defaultDelay(), 72 hours);
        // the admin-class call is now policy class
        vm.roll(block.number + 1);
        _run(_adminCall(), POLICY_DELAY);
    }

    function test_delaysBelowTheMinimumAreRefusedEvenThroughAProposal() public {
        Proposal memory p =
            _call(address(timelock), abi.encodeCall(TierchainTimelock.setDefaultDelay, (POLICY_DELAY - 1)));
        uint256 id = _pass(p);
        _queue(p);
        vm.warp(governor.proposalEta(id));
        vm.expectRevert(
            abi.encodeWithSelector(
                TimelockController.TimelockInsufficientDelay.selector, POLICY_DELAY - 1, POLICY_DELAY
            )
        );
        _execute(p);
    }

    function test_localNetworkOneSeatOneApprovalNoDelay() public {
        address deployer = makeAddr("deployer");
        TierchainTimelock tl = new TierchainTimelock(
            0, 0, new bytes4[](0), new uint256[](0), new address[](0), _one(address(0)), address(this)
        );
        OperatorSeats s = new OperatorSeats(address(tl), _one(deployer));
        TierchainGovernor g = new TierchainGovernor(s, tl, VOTING_PERIOD, 1, deployer);
        tl.grantRole(tl.PROPOSER_ROLE(), address(g));
        tl.grantRole(tl.CANCELLER_ROLE(), address(g));
        tl.renounceRole(tl.DEFAULT_ADMIN_ROLE(), address(this));
        GovernedTarget t = new GovernedTarget(address(tl));
        vm.roll(block.number + 1);
        Proposal memory p = _call(address(t), abi.encodeCall(GovernedTarget.setAdmin, (deployer)));
        vm.prank(deployer);
        uint256 id = g.propose(p.targets, p.values, p.calldatas, p.description);
        vm.roll(block.number + 1);
        vm.prank(deployer);
        g.castVote(id, FOR);
        assertEq(uint8(g.state(id)), uint8(IGovernor.ProposalState.Succeeded));
        g.queue(id);
        assertEq(g.proposalEta(id), block.timestamp);
        g.execute(id);
        assertEq(t.admin(), deployer);
    }
}
