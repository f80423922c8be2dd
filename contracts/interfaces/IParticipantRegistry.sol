// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControlEnumerable} from "@openzeppelin/contracts/access/extensions/IAccessControlEnumerable.sol";

/// @title IParticipantRegistry
/// @notice Who may take part in Tierchain: each participant has roles, a status and a hashed legal identifier.
///         The registry also holds the circuit breaker: operation bits (`Roles.OP_*`) a guardian pauses at
///         once and governance unpauses; every contract asks the registry before a pausable operation.
interface IParticipantRegistry is IAccessControlEnumerable {
    /// @notice A participant's lifecycle state. `None` means never registered.
    enum Status {
        None,
        Active,
        Suspended
    }

    /// @notice A participant as stored: the hash of its legal identifier (e.g. a unified social credit
    ///         code, normalised), its status and the bitmask of its participant roles (see `Roles`).
    struct Participant {
        bytes32 legalIdHash;
        Status status;
        uint8 roleBits;
    }

    /// @notice Emitted once when `account` joins with the legal identifier hash `legalIdHash`.
    event ParticipantRegistered(address indexed account, bytes32 indexed legalIdHash);
    /// @notice Emitted on every status change, including the first activation.
    event ParticipantStatusChanged(address indexed account, Status previous, Status current);
    /// @notice Emitted once, when the deployment bound its desk contracts; no other account can get DESK.
    event DesksBound(address[] desks);
    /// @notice The guardian `by` paused `operations` (a mask of `Roles.OP_*` bits), giving `reason`.
    event OperationsPaused(uint8 operations, address indexed by, string reason);
    /// @notice Governance (`by`, a POLICY holder) unpaused `operations`, giving `reason`.
    event OperationsUnpaused(uint8 operations, address indexed by, string reason);

    error ZeroAddress();
    error InvalidLegalIdHash();
    error AlreadyRegistered(address account);
    error LegalIdAlreadyRegistered(bytes32 legalIdHash, address account);
    error NotRegistered(address account);
    error InvalidStatus(Status status);
    error ParticipantNotActive(address account);
    error NotAHolder(address account);
    error MissingRole(address account, bytes32 role);
    error NotAParticipantRole(bytes32 role);
    /// @notice DESK is granted only by `bindDesks`, never by `grantRole`.
    error DeskGrantOutsideBinding(address account);
    /// @notice A desk must be a deployed contract.
    error DeskNotAContract(address account);
    /// @notice `bindDesks` runs once; the desks it bound were `bound`.
    error DesksAlreadyBound();
    /// @notice `bindDesks` needs at least one desk.
    error NoDesks();
    /// @notice `operation` is paused by the guardian (see `pausedOperations`).
    error OperationPaused(uint8 operation);
    /// @notice A pause or unpause of no operation, or of bits outside `Roles.OP_ALL`.
    error UnknownOperations(uint8 operations);
    /// @notice A pause or unpause without a reason.
    error ReasonRequired();
    /// @notice Every one of `operations` is paused already: the pause would change nothing.
    error AlreadyPaused(uint8 operations);
    /// @notice None of `operations` is paused: the unpause would change nothing.
    error NotPaused(uint8 operations);

    /// @notice The version of this implementation ("1.0.0").
    function version() external pure returns (string memory);

    /// @notice Registers `account` as an active participant with `roles` (participant roles only).
    ///         ONBOARDING only; the caller must also hold the admin role of every role in `roles`.
    function register(address account, bytes32 legalIdHash, bytes32[] calldata roles) external;

    /// @notice Grants DESK to the deployed desk contracts, once; afterwards DESK can be revoked but never
    ///         granted again. Each desk must be a contract. Admin only.
    function bindDesks(address[] calldata desks) external;

    /// @notice True once `bindDesks` has run.
    function desksBound() external view returns (bool);

    /// @notice Moves `account` to `status` (Active or Suspended). Governance (DEFAULT_ADMIN_ROLE) for any
    ///         participant; the ONBOARDING key for a participant whose every role it administers (core
    ///         enterprises, suppliers, banks) — suspending an oracle or a regulator is a governance change.
    function setStatus(address account, Status status) external;

    /// @notice Pauses `operations` (a mask of `Roles.OP_*` bits) at once, with a reason. GUARDIAN only.
    function pause(uint8 operations, string calldata reason) external;

    /// @notice Lifts the pause of `operations`, with a reason. POLICY (governance) only.
    function unpause(uint8 operations, string calldata reason) external;

    /// @notice The mask of operations paused now (`Roles.OP_*` bits).
    function pausedOperations() external view returns (uint8);

    /// @notice Reverts `OperationPaused(operation)` while any bit of `operation` is paused.
    function checkNotPaused(uint8 operation) external view;

    /// @notice The stored record of `account` (all zero when never registered).
    function participant(address account) external view returns (Participant memory);

    /// @notice The account registered under `legalIdHash`, or the zero address.
    function accountOf(bytes32 legalIdHash) external view returns (address);

    /// @notice True when `account` is registered and active.
    function isActive(address account) external view returns (bool);

    /// @notice Reverts unless both `from` and `to` are active participants allowed to hold receivables.
    function checkHolders(address from, address to) external view;

    /// @notice The check of a holder-initiated move: reverts `OperationPaused(OP_MOVES)` while moves are
    ///         paused, otherwise as `checkHolders(from, to)`.
    function checkMove(address from, address to) external view;

    /// @notice Reverts unless `account` is active and holds the participant role `role`.
    function checkActiveRole(address account, bytes32 role) external view;

    /// @notice The check of a desk operation: reverts `OperationPaused(operation)` while `operation` is
    ///         paused, otherwise as `checkActiveRole(account, role)`.
    function checkOperation(uint8 operation, address account, bytes32 role) external view;
}
