// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {TierchainGovernor} from "../../../contracts/governance/TierchainGovernor.sol";
import {GovFixture} from "./GovFixture.sol";
import {GovernedTarget} from "./GovernedTarget.sol";

contract TierchainGovernorTest is GovFixture {
    event ApprovalsRequiredSet(uint256 oldApprovals, uint256 newApprovals);
    event ProposalGuardianSet(address oldProposalGuardian, address newProposalGuardian);

    function _policyProposal() internal view returns (Proposal memory) {
        return _call(address(target), abi.encodeCall(GovernedTarget.setThreshold, (3)));
    }

    function test_settings() public view {
        assertEq(governor.name(), "TierchainGovernor");
        assertEq(governor.votingDelay(), 0);
        assertEq(governor.votingPeriod(), VOTING_PERIOD);
        assertEq(governor.proposalThreshold(), 1);
        assertEq(governor.approvalsRequired(), APPROVALS);
        assertEq(governor.quorum(block.number - 1), APPROVALS);
        assertEq(governor.superQuorum(block.number - 1), APPROVALS);
        assertEq(governor.proposalGuardian(), guardian);
        assertEq(governor.timelock(), address(timelock));
        assertEq(address(governor.token()), address(seats));
        assertEq(governor.CLOCK_MODE(), "mode=blocknumber&from=default");
        assertEq(governor.clock(), block.number);
        assertTrue(governor.proposalNeedsQueuing(0));
        assertEq(governor.COUNTING_MODE(), "support=bravo&quorum=for");
    }

    function test_constructorEmitsAndRefusesBadApprovals() public {
        vm.expectEmit();
        emit ApprovalsRequiredSet(0, 3);
        vm.expectEmit();
        emit ProposalGuardianSet(address(0), guardian);
        new TierchainGovernor(seats, timelock, VOTING_PERIOD, 3, guardian);
        vm.expectRevert(abi.encodeWithSelector(TierchainGovernor.InvalidApprovalsRequired.selector, 0, 3));
        new TierchainGovernor(seats, timelock, VOTING_PERIOD, 0, guardian);
        vm.expectRevert(abi.encodeWithSelector(TierchainGovernor.InvalidApprovalsRequired.selector, 4, 3));
        new TierchainGovernor(seats, timelock, VOTING_PERIOD, 4, guardian);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorInvalidVotingPeriod.selector, 0));
        new TierchainGovernor(seats, timelock, 0, 2, guardian);
    }

    function test_aNonSeatCannotPropose() public {
        Proposal memory p = _policyProposal();
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorInsufficientProposerVotes.selector, stranger, 0, 1));
        _propose(p, stranger);
    }

    function test_aSeatProposesPendingThenActive() public {
        uint256 id = _propose(_policyProposal(), op3);
        assertEq(governor.proposalProposer(id), op3);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Pending));
        assertEq(governor.proposalSnapshot(id), block.number);
        assertEq(governor.proposalDeadline(id), block.number + VOTING_PERIOD);
        vm.roll(block.number + 1);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Active));
    }

    function test_oneApprovalIsNotEnoughTwoSucceedAtOnce() public {
        uint256 id = _propose(_policyProposal(), op1);
        vm.roll(block.number + 1);
        _approve(id, op1);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Active));
        _approve(id, op3);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Succeeded));
        assertLt(block.number, governor.proposalDeadline(id), "before the deadline");
    }

    function test_anAgainstVoteDoesNotBlockMApprovals() public {
        uint256 id = _propose(_policyProposal(), op1);
        vm.roll(block.number + 1);
        vm.prank(op3);
        governor.castVote(id, AGAINST);
        _approve(id, op1);
        _approve(id, op2);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Succeeded));
    }

    function test_oneApprovalIsDefeatedAtTheDeadline() public {
        uint256 id = _propose(_policyProposal(), op1);
        vm.roll(block.number + 1);
        _approve(id, op1);
        vm.roll(governor.proposalDeadline(id) + 1);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Defeated));
    }

    function test_anAbstentionIsNotAnApproval() public {
        uint256 id = _propose(_policyProposal(), op1);
        vm.roll(block.number + 1);
        _approve(id, op1);
        vm.prank(op2);
        governor.castVote(id, ABSTAIN);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Active));
        vm.roll(governor.proposalDeadline(id) + 1);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Defeated), "one approval, one abstention");
    }

    function test_MApprovalsStillSucceedAfterTheDeadline() public {
        uint256 id = _propose(_policyProposal(), op1);
        vm.roll(block.number + 1);
        _approve(id, op1);
        vm.prank(op3);
        governor.castVote(id, ABSTAIN);
        _approve(id, op2);
        vm.roll(governor.proposalDeadline(id) + 1);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Succeeded));
    }

    function test_aSeatVotesOnce() public {
        uint256 id = _propose(_policyProposal(), op1);
        vm.roll(block.number + 1);
        _approve(id, op1);
        vm.prank(op1);
        vm.expectRevert(abi.encodeWithSignature("GovernorAlreadyCastVote(address)", op1));
        governor.castVote(id, FOR);
    }

    function test_aSeatGivenAfterTheSnapshotDoesNotCount() public {
        uint256 id = _propose(_policyProposal(), op1);
        vm.roll(block.number + 1); // the snapshot is the proposal's block, as it ends
        address late = makeAddr("late");
        vm.prank(address(timelock));
        seats.seat(late);
        vm.roll(block.number + 1);
        _approve(id, op1);
        vm.prank(late);
        governor.castVote(id, FOR); // weight 0
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Active));
    }

    function test_setApprovalsRequiredOnlyThroughGovernance() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorOnlyExecutor.selector, stranger));
        governor.setApprovalsRequired(1);
        vm.prank(op1);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorOnlyExecutor.selector, op1));
        governor.setApprovalsRequired(1);
    }

    function test_setApprovalsRequiredThroughAProposal() public {
        Proposal memory p = _call(address(governor), abi.encodeCall(TierchainGovernor.setApprovalsRequired, (3)));
        uint256 id = _pass(p);
        _queue(p);
        assertEq(governor.proposalEta(id), block.timestamp + ADMIN_DELAY, "admin class");
        vm.warp(governor.proposalEta(id));
        vm.expectEmit(address(governor));
        emit ApprovalsRequiredSet(2, 3);
        _execute(p);
        assertEq(governor.approvalsRequired(), 3);
        assertEq(governor.quorum(block.number), 3);
    }

    function test_setApprovalsRequiredRefusesZeroAndMoreThanTheSeats() public {
        Proposal memory zero = _call(address(governor), abi.encodeCall(TierchainGovernor.setApprovalsRequired, (0)));
        uint256 id = _pass(zero);
        _queue(zero);
        vm.warp(governor.proposalEta(id));
        vm.expectRevert(abi.encodeWithSelector(TierchainGovernor.InvalidApprovalsRequired.selector, 0, 3));
        _execute(zero);

        Proposal memory four = _call(address(governor), abi.encodeCall(TierchainGovernor.setApprovalsRequired, (4)));
        four.description = "four";
        id = _pass(four);
        _queue(four);
        vm.warp(governor.proposalEta(id));
        vm.expectRevert(abi.encodeWithSelector(TierchainGovernor.InvalidApprovalsRequired.selector, 4, 3));
        _execute(four);
        assertEq(governor.approvalsRequired(), 2);
    }

    function test_changingMDoesNotFlipAProposalAlreadyPassed() public {
        // A policy proposal passes with 2 approvals; M is raised to 3 while it is queued.
        Proposal memory policy = _policyProposal();
        uint256 pid = _pass(policy);
        _queue(policy);
        Proposal memory raise = _call(address(governor), abi.encodeCall(TierchainGovernor.setApprovalsRequired, (3)));
        _enact(raise);
        assertEq(governor.approvalsRequired(), 3);
        assertEq(governor.approvalsRequiredAt(governor.proposalSnapshot(pid)), 2);
        // past its deadline, the earlier proposal is judged by the M at its snapshot
        vm.roll(governor.proposalDeadline(pid) + 1);
        assertEq(uint8(governor.state(pid)), uint8(IGovernor.ProposalState.Queued));
        _execute(policy);
        assertEq(target.threshold(), 3);
        // and a new proposal needs 3
        Proposal memory next = _call(address(target), abi.encodeCall(GovernedTarget.setThreshold, (5)));
        next.description = "next";
        uint256 nid = _propose(next, op1);
        vm.roll(block.number + 1);
        _approve(nid, op1);
        _approve(nid, op2);
        assertEq(uint8(governor.state(nid)), uint8(IGovernor.ProposalState.Active));
        _approve(nid, op3);
        assertEq(uint8(governor.state(nid)), uint8(IGovernor.ProposalState.Succeeded));
    }

    function test_queueReturnsTheTimelocksRealEta() public {
        Proposal memory p = _policyProposal();
        uint256 id = _pass(p);
        _queue(p);
        assertEq(governor.proposalEta(id), timelock.getTimestamp(_opId(p)));
        assertEq(governor.proposalEta(id), block.timestamp + POLICY_DELAY);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Queued));
    }

    function test_queueBeforeSuccessIsRefused() public {
        Proposal memory p = _policyProposal();
        uint256 id = _propose(p, op1);
        vm.roll(block.number + 1);
        _approve(id, op1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector,
                id,
                IGovernor.ProposalState.Active,
                _stateBitmap(IGovernor.ProposalState.Succeeded)
            )
        );
        _queue(p);
    }

    function test_storageQueueAndExecuteById() public {
        Proposal memory p = _policyProposal();
        uint256 id = _pass(p);
        assertEq(governor.proposalCount(), 1);
        (address[] memory t,, bytes[] memory c, bytes32 dh) = governor.proposalDetails(id);
        assertEq(t[0], address(target));
        assertEq(c[0], p.calldatas[0]);
        assertEq(dh, keccak256(bytes(p.description)));
        (uint256 first,,,,) = governor.proposalDetailsAt(0);
        assertEq(first, id);
        assertEq(id, 1, "the first proposal is number 1");
        governor.queue(id);
        vm.warp(governor.proposalEta(id));
        governor.execute(id);
        assertEq(target.threshold(), 3);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Executed));
    }

    /// @notice Ids are 1, 2, 3... in the order proposals are made; getProposalId resolves calls and a
    ///         description hash to the id they were given, and refuses calls never proposed.
    function test_proposalIdsAreSequential() public {
        assertEq(governor.latestProposalId(), 0, "no proposal yet");
        Proposal memory a = _policyProposal();
        Proposal memory b = _call(address(target), abi.encodeCall(GovernedTarget.setThreshold, (4)));
        b.description = "second";
        Proposal memory c = _call(address(target), abi.encodeCall(GovernedTarget.setAdmin, (stranger)));
        c.description = "third";

        vm.expectEmit(address(governor));
        emit IGovernor.ProposalCreated(
            1,
            op1,
            a.targets,
            a.values,
            new string[](1),
            a.calldatas,
            block.number,
            block.number + VOTING_PERIOD,
            a.description
        );
        assertEq(_propose(a, op1), 1);
        assertEq(_propose(b, op2), 2);
        assertEq(_propose(c, op3), 3);
        assertEq(governor.latestProposalId(), 3);
        assertEq(governor.proposalCount(), 3);

        assertEq(governor.getProposalId(a.targets, a.values, a.calldatas, keccak256(bytes(a.description))), 1);
        assertEq(governor.getProposalId(b.targets, b.values, b.calldatas, keccak256(bytes(b.description))), 2);
        assertEq(governor.getProposalId(c.targets, c.values, c.calldatas, keccak256(bytes(c.description))), 3);
        assertEq(governor.proposalProposer(2), op2);
        (uint256 first,,,,) = governor.proposalDetailsAt(0);
        (uint256 last,,,,) = governor.proposalDetailsAt(2);
        assertEq(first, 1);
        assertEq(last, 3);

        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorNonexistentProposal.selector, 0));
        governor.getProposalId(a.targets, a.values, a.calldatas, keccak256("never proposed"));
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorNonexistentProposal.selector, 4));
        governor.state(4);
    }

    /// @notice The same calls and description proposed again resolve to the same id and are refused, even
    ///         once cancelled; the number is not spent.
    function test_reproposingResolvesToTheSameIdAndIsRefused() public {
        Proposal memory p = _policyProposal();
        uint256 id = _propose(p, op1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector, id, IGovernor.ProposalState.Pending, bytes32(0)
            )
        );
        _propose(p, op2);
        vm.prank(guardian);
        governor.cancel(id);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector, id, IGovernor.ProposalState.Canceled, bytes32(0)
            )
        );
        _propose(p, op1);
        assertEq(governor.latestProposalId(), 1, "a refused proposal takes no number");

        p.description = "one call, again";
        assertEq(_propose(p, op1), 2, "a new description is a new proposal");
    }

    /// @notice The id-only queue/execute/cancel (GovernorStorage) work on sequential ids and refuse unknown ones.
    function test_storageByIdRefusesAnUnknownId() public {
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorNonexistentProposal.selector, 1));
        governor.queue(1);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorNonexistentProposal.selector, 1));
        governor.execute(1);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorNonexistentProposal.selector, 1));
        governor.cancel(1);
    }

    function test_theGuardianCancelsAnyProposalAtAnyStage() public {
        Proposal memory p = _policyProposal();
        uint256 id = _propose(p, op1);
        vm.prank(guardian);
        governor.cancel(id);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Canceled));

        Proposal memory q = _call(address(target), abi.encodeCall(GovernedTarget.setAdmin, (stranger)));
        id = _pass(q);
        _queue(q);
        bytes32 op = _opId(q);
        assertTrue(timelock.isOperationPending(op));
        vm.prank(guardian);
        governor.cancel(q.targets, q.values, q.calldatas, keccak256(bytes(q.description)));
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Canceled));
        assertFalse(timelock.isOperation(op), "the queued operation is cancelled too");
    }

    function test_othersCannotCancelAnActiveProposal() public {
        uint256 id = _propose(_policyProposal(), op1);
        vm.roll(block.number + 1);
        vm.prank(op1); // with a guardian set, the proposer has no cancel right
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorUnableToCancel.selector, id, op1));
        governor.cancel(id);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorUnableToCancel.selector, id, stranger));
        governor.cancel(id);
    }

    function test_proposalGuardianChangesOnlyThroughGovernance() public {
        vm.prank(guardian);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorOnlyExecutor.selector, guardian));
        governor.setProposalGuardian(stranger);
        Proposal memory p = _call(address(governor), abi.encodeWithSignature("setProposalGuardian(address)", stranger));
        uint256 id = _enact(p);
        assertEq(governor.proposalEta(id), T0 + ADMIN_DELAY);
        assertEq(governor.proposalGuardian(), stranger);
    }

    function test_governorRefusesDeposits() public {
        vm.deal(stranger, 1 ether);
        vm.prank(stranger);
        (bool ok,) = address(governor).call{value: 1}("");
        assertFalse(ok);
    }
}
