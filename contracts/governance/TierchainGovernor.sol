// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IGovernor, Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorSuperQuorum} from "@openzeppelin/contracts/governance/extensions/GovernorSuperQuorum.sol";
import {GovernorProposalGuardian} from "@openzeppelin/contracts/governance/extensions/GovernorProposalGuardian.sol";
import {
    GovernorSequentialProposalId
} from "@openzeppelin/contracts/governance/extensions/GovernorSequentialProposalId.sol";
import {GovernorStorage} from "@openzeppelin/contracts/governance/extensions/GovernorStorage.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {OperatorSeats} from "./OperatorSeats.sol";

/// @title TierchainGovernor
/// @notice M-of-N operator governance over the TierchainTimelock: a seat holder proposes, and the proposal
///         succeeds as soon as M seats approve (vote For, support = 1); it is then queued in the timelock,
///         which holds it for its class delay (policy or admin), and anyone executes it once ready.
/// @dev `approvalsRequired()` is both {quorum} and {superQuorum}, so M For votes (more For than Against)
///      make a proposal Succeeded at once, without waiting for the voting period to end. Only For votes count
///      toward the quorum (an abstention is not an approval). M is checkpointed by block number: a proposal
///      is judged by the M in force at its snapshot, so changing M never flips a proposal already voted or
///      queued. Voting delay 0, proposal threshold 1 seat, voting period in blocks. The proposal guardian
///      cancels any proposal; the timelock's cancellers (the governor and the guardian key) cancel a queued
///      operation.
///      Proposal ids are sequential (GovernorSequentialProposalId): the first proposal is 1, the next 2, and so
///      on; {latestProposalId} is the last one given. The id is known once the proposal is made (propose's
///      return value, the ProposalCreated event, or {getProposalId} of its calls and description hash, which
///      reverts `GovernorNonexistentProposal(0)` for calls never proposed). Proposing the same calls with the
///      same description again resolves to the same id and is refused, as before.
contract TierchainGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorSuperQuorum,
    GovernorProposalGuardian,
    GovernorSequentialProposalId,
    GovernorStorage,
    GovernorTimelockControl
{
    using Checkpoints for Checkpoints.Trace208;

    Checkpoints.Trace208 private _approvalsRequired;

    /// @notice M, the number of seat approvals a proposal needs, changed.
    /// @param oldApprovals M before.
    /// @param newApprovals M now.
    event ApprovalsRequiredSet(uint256 oldApprovals, uint256 newApprovals);

    /// @notice M must be at least 1 and at most the number of seats held now.
    /// @param approvals The refused M.
    /// @param seats The number of seats held now.
    error InvalidApprovalsRequired(uint256 approvals, uint256 seats);

    /// @param seats The operators' seats (the voting token); its operators must be seated already.
    /// @param timelock_ The TierchainTimelock that executes proposals (this governor must be its proposer and
    ///        canceller).
    /// @param votingPeriod_ How many blocks a proposal stays open for approvals (at least 1).
    /// @param approvalsRequired_ M: approvals a proposal needs, 1..seats.seatCount().
    /// @param proposalGuardian_ The key that may cancel any proposal (address(0): each proposer cancels their own).
    constructor(
        OperatorSeats seats,
        TimelockController timelock_,
        uint32 votingPeriod_,
        uint256 approvalsRequired_,
        address proposalGuardian_
    )
        Governor("TierchainGovernor")
        GovernorSettings(0, votingPeriod_, 1)
        GovernorVotes(IVotes(address(seats)))
        GovernorTimelockControl(timelock_)
    {
        _setApprovalsRequired(approvalsRequired_);
        _setProposalGuardian(proposalGuardian_);
    }

    /// @notice Sets M, the approvals a proposal needs. Only through governance (the timelock).
    /// @dev Applies to proposals whose snapshot is at or after the block this runs in.
    /// @param newApprovals The new M, 1..the number of seats held now.
    function setApprovalsRequired(uint256 newApprovals) external onlyGovernance {
        _setApprovalsRequired(newApprovals);
    }

    /// @notice M, the approvals a proposal needs now.
    /// @return The current M.
    function approvalsRequired() public view returns (uint256) {
        return _approvalsRequired.latest();
    }

    /// @notice M as it was at `timepoint` (a block number).
    /// @param timepoint The block number.
    /// @return M in force at `timepoint`.
    function approvalsRequiredAt(uint256 timepoint) public view returns (uint256) {
        return _approvalsRequired.upperLookupRecent(SafeCast.toUint48(timepoint));
    }

    /// @notice The quorum of a proposal with snapshot `timepoint`: M at that timepoint.
    /// @param timepoint The proposal's snapshot (a block number).
    /// @return The number of For (and Abstain) votes needed once voting has closed.
    function quorum(uint256 timepoint) public view override returns (uint256) {
        return approvalsRequiredAt(timepoint);
    }

    /// @notice The super quorum of a proposal with snapshot `timepoint`: M at that timepoint, so M For votes
    ///         make the proposal Succeeded at once.
    /// @param timepoint The proposal's snapshot (a block number).
    /// @return The number of For votes that ends the vote early.
    function superQuorum(uint256 timepoint) public view override returns (uint256) {
        return approvalsRequiredAt(timepoint);
    }

    /// @inheritdoc GovernorSuperQuorum
    function proposalVotes(uint256 proposalId)
        public
        view
        override(GovernorCountingSimple, GovernorSuperQuorum)
        returns (uint256 againstVotes, uint256 forVotes, uint256 abstainVotes)
    {
        return super.proposalVotes(proposalId);
    }

    /// @inheritdoc Governor
    /// @dev GovernorTimelockControl wraps GovernorSuperQuorum: super quorum may report Queued before the
    ///      deadline, and the timelock then tells whether the operation is still pending, done or cancelled.
    function state(uint256 proposalId)
        public
        view
        override(Governor, GovernorSuperQuorum, GovernorTimelockControl)
        returns (ProposalState)
    {
        return super.state(proposalId);
    }

    /// @notice The sequential id given to the proposal of these calls and description hash.
    /// @dev Reverts `GovernorNonexistentProposal(0)` when they were never proposed.
    /// @param targets The proposal's call targets.
    /// @param values The proposal's call values.
    /// @param calldatas The proposal's call data.
    /// @param descriptionHash keccak256 of the proposal's description.
    /// @return The proposal's id (1, 2, 3... in the order proposals were made).
    function getProposalId(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) public view override(Governor, GovernorSequentialProposalId) returns (uint256) {
        return super.getProposalId(targets, values, calldatas, descriptionHash);
    }

    /// @notice Votes are Against (0), For (1, an approval) or Abstain (2); only For votes count toward the quorum.
    /// @return The ERC-6372 counting mode string.
    function COUNTING_MODE() public pure override(IGovernor, GovernorCountingSimple) returns (string memory) {
        return "support=bravo&quorum=for";
    }

    /// @inheritdoc Governor
    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    /// @inheritdoc Governor
    function proposalNeedsQueuing(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (bool)
    {
        return super.proposalNeedsQueuing(proposalId);
    }

    /// @dev The quorum counts approvals only. GovernorCountingSimple would also count Abstain votes, so one
    ///      approval and one abstention would pass a 2-of-N proposal once its voting period ended.
    function _quorumReached(uint256 proposalId)
        internal
        view
        override(Governor, GovernorCountingSimple)
        returns (bool)
    {
        (, uint256 forVotes,) = proposalVotes(proposalId);
        return quorum(proposalSnapshot(proposalId)) <= forVotes;
    }

    /// @dev Checks M against the seats held now, checkpoints it at the current block and emits.
    function _setApprovalsRequired(uint256 newApprovals) private {
        uint256 seats = OperatorSeats(address(token())).seatCount();
        if (newApprovals == 0 || newApprovals > seats) revert InvalidApprovalsRequired(newApprovals, seats);
        (uint208 oldApprovals, uint208 recorded) = _approvalsRequired.push(clock(), SafeCast.toUint208(newApprovals));
        emit ApprovalsRequiredSet(oldApprovals, recorded);
    }

    /// @dev Numbers the proposal (GovernorSequentialProposalId, before Governor reads the id through
    ///      {getProposalId}) and records its calls under that number (GovernorStorage) so it can be
    ///      queued/executed by id.
    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal override(Governor, GovernorSequentialProposalId, GovernorStorage) returns (uint256) {
        return super._propose(targets, values, calldatas, description, proposer);
    }

    /// @dev Schedules the batch in the timelock, which may lengthen the delay to the calls' class delay,
    ///      and returns the timelock's real ETA (`getTimestamp` of the operation) rather than now + minDelay.
    ///      The operation id uses GovernorTimelockControl's salt: `bytes20(address(this)) ^ descriptionHash`.
    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
        bytes32 salt = bytes20(address(this)) ^ descriptionHash;
        bytes32 id = keccak256(abi.encode(targets, values, calldatas, bytes32(0), salt));
        return SafeCast.toUint48(TimelockController(payable(timelock())).getTimestamp(id));
    }

    /// @dev Executes through the timelock.
    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    /// @dev Cancels the proposal and, if queued, its timelock operation.
    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    /// @dev The proposal guardian cancels any proposal (see GovernorProposalGuardian).
    function _validateCancel(uint256 proposalId, address caller)
        internal
        view
        override(Governor, GovernorProposalGuardian)
        returns (bool)
    {
        return super._validateCancel(proposalId, caller);
    }

    /// @dev The timelock executes proposals and is the caller of `onlyGovernance` functions.
    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }
}
