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
        Suspended,
        Recovered
    }

    /// @notice An open request to recover the participant at a lost address: the new address its record
    ///         is to move to, the case reference of the recovery (e.g. the hash of the case file's number)
    ///         and the onboarding key that asked.
    /// @notice The rules of an issuance (`checkIssuance`): the obligor's policy, the end of its suspension (0 or
    ///         past when none) and the size classes of both parties.
    struct IssuanceRules {
        Policy policy;
        uint256 suspendedUntil;
        SizeClass obligorClass;
        SizeClass supplierClass;
    }

    struct RecoveryRequest {
        address replacement;
        bytes32 caseRef;
        address requestedBy;
    }

    /// @notice A participant as stored: the hash of its legal identifier (e.g. a unified social credit
    ///         code, normalised), its status and the bitmask of its participant roles (see `Roles`).
    struct Participant {
        bytes32 legalIdHash;
        Status status;
        uint8 roleBits;
    }

    /// @notice An enterprise's size class under the national classification (《中小企业划型标准规定》):
    ///         大型 Large, 中型 Medium, 小型 Small, 微型 Micro. `Unclassified` until onboarding records it.
    enum SizeClass {
        Unclassified,
        Large,
        Medium,
        Small,
        Micro
    }

    /// @notice The compliance policy of a deployment, or of one obligor when `isSet` (an override).
    ///         Durations are seconds; `minUnit` is minor units.
    /// @param maxTenor The longest term from issue to maturity (银发〔2025〕77号: never over one year).
    /// @param longTenor Above this term, confirmation must carry a justification code (the notice: six months
    ///        in principle).
    /// @param smePaymentTerm How long after delivery a large enterprise may make a small, medium or micro
    ///        supplier wait (国务院令第802号: 60 days) unless the terms cite an agreed contract term.
    /// @param maxDepth The deepest a piece may sit below its obligation's root (a split making depth
    ///        `maxDepth + 1` is refused).
    /// @param minUnit The smallest minimum unit an obligation may set: every piece is a multiple of it.
    /// @param tradeBackground Whether a split or transfer to a non-bank participant must cite a trade document.
    /// @param isSet True for a stored policy (always for the deployment's once initialized).
    struct Policy {
        uint32 maxTenor;
        uint32 longTenor;
        uint32 smePaymentTerm;
        uint16 maxDepth;
        uint48 minUnit;
        bool tradeBackground;
        bool isSet;
    }

    /// @notice An obligor's overdue record: the times of its last three obligations marked overdue (newest
    ///         last), how many were ever marked, and the end of a suspension of its issuance (0 when none).
    struct ObligorRecord {
        uint40 strike0;
        uint40 strike1;
        uint40 strike2;
        uint32 overdueCount;
        uint40 suspendedUntil;
    }

    /// @notice How a core enterprise's future obligations settle their moves: as the deployment says
    ///         (`FollowDeployment`), at once (`Voucher`), or pending the receiver's acceptance (`Bill`, 签收).
    enum SettlementMode {
        FollowDeployment,
        Voucher,
        Bill
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

    /// @notice The deployment's policy changed, by POLICY `by`, for `reason`.
    event PolicySet(Policy policy, address indexed by, string reason);
    /// @notice The policy of obligor `obligor` overrides the deployment's (`policy.isSet`) or no longer does.
    event ObligorPolicySet(address indexed obligor, Policy policy, address indexed by, string reason);
    /// @notice Onboarding recorded the size class of `account`.
    event SizeClassSet(address indexed account, SizeClass previous, SizeClass current);
    /// @notice Obligation `slot` of `obligor` was marked overdue at `at`; `overdueCount` counts them all.
    event ObligorOverdueRecorded(address indexed obligor, uint256 indexed slot, uint256 at, uint256 overdueCount);
    /// @notice `obligor` may not issue until `until`: its third overdue obligation within the window.
    event ObligorSuspended(address indexed obligor, uint256 until, uint256 firstStrike, uint256 lastStrike);
    /// @notice POLICY `by` lifted the suspension of `obligor` early, for `reason`; its strikes are cleared.
    event ObligorSuspensionLifted(address indexed obligor, address indexed by, string reason);

    /// @notice The deployment's bill mode (moves pend until 签收) and acceptance window changed, by POLICY `by`.
    event BillPolicySet(bool billMode, uint256 acceptanceWindow, address indexed by, string reason);
    /// @notice Core enterprise `obligor` chose how its future obligations settle their moves.
    event ObligorSettlementModeSet(address indexed obligor, SettlementMode mode);

    /// @notice Onboarding (`requestedBy`) asked to move the record of `lost` to `replacement` (case `caseRef`).
    event RecoveryRequested(
        address indexed lost, address indexed replacement, bytes32 indexed caseRef, address requestedBy
    );
    /// @notice The record of `lost` moved to `replacement` (legal id, status, roles, size class, obligor policy,
    ///         overdue record and settlement mode); `lost` is now `Recovered` and holds no role.
    event ParticipantRecovered(
        address indexed lost,
        address indexed replacement,
        bytes32 indexed caseRef,
        address requestedBy,
        address approvedBy
    );
    /// @notice The open recovery request of `lost` (case `caseRef`) was withdrawn by `by`.
    event RecoveryCancelled(address indexed lost, bytes32 indexed caseRef, address by);

    error ZeroAddress();
    /// @notice `account` lost its key and was recovered to `replacement`: it can never act or be changed again.
    error AccountRecovered(address account, address replacement);
    /// @notice A recovery needs a case reference (it cannot be zero).
    error InvalidCaseRef();
    /// @notice `lost` already has an open recovery request, of case `caseRef`.
    error RecoveryAlreadyRequested(address lost, bytes32 caseRef);
    /// @notice `lost` has no open recovery request.
    error NoRecoveryRequest(address lost);
    /// @notice The case reference given does not match the open request's.
    error RecoveryCaseMismatch(address lost, bytes32 expected, bytes32 given);
    /// @notice The approval of a recovery must come from another key than its request's (`account` asked).
    error RecoveryNeedsSecondParty(address account);
    /// @notice An acceptance window of zero or longer than a year.
    error InvalidAcceptanceWindow(uint256 window);
    /// @notice A policy field out of range: `field` names it (e.g. "longTenor").
    error InvalidPolicy(string field);
    /// @notice A policy change without a reason.
    error PolicyReasonRequired();
    /// @notice `obligor` has no policy override to clear.
    error NoObligorPolicy(address obligor);
    /// @notice `obligor` is not suspended: nothing to lift.
    error ObligorNotSuspended(address obligor);
    /// @notice The size class is not one of Large, Medium, Small, Micro.
    error InvalidSizeClass(SizeClass sizeClass);
    /// @notice A move from `from` to `to`, a non-bank, without a cited trade document while the obligor's
    ///         policy requires one (银发〔2025〕77号: no transfer without a genuine trade background).
    error TradeBackgroundRequired(address from, address to);
    /// @notice A split making a piece `depth` levels below its root, beyond the policy's `maxDepth`.
    error SplitTooDeep(uint256 depth, uint256 maxDepth);
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

    /// @notice The check of a holder-initiated move of a piece of `obligor`'s obligation: reverts
    ///         `OperationPaused(OP_MOVES)` while moves are paused, then as `checkHolders(from, to)`, then
    ///         `TradeBackgroundRequired` when the value changes hands to a non-bank and the obligor's policy
    ///         requires a trade document, then `SplitTooDeep` when `depth` (the new piece's; 0 for no new
    ///         piece) exceeds the policy's.
    function checkMove(address from, address to, address obligor, uint256 depth) external view;
    /// @notice The check of a desk's move (financing, a trade-backed payment): as `checkHolders(from, to)`,
    ///         then the depth of a new piece (0 for none) against `obligor`'s policy.
    function checkDeskMove(address from, address to, address obligor, uint256 depth) external view;
    /// @notice The check of a batch split from `from`: as `checkMove(from, to, obligor, depth)` for each `to` in
    ///         `recipients`, in order (the first refusal reverts), in one call.
    function checkMoveBatch(address from, address[] calldata recipients, address obligor, uint256 depth) external view;
    /// @notice A desk's call in one: false, checking nothing more, when `desk` does not hold DESK; otherwise
    ///         `checkDeskMove(from, to, obligor, depth)` (its refusals revert) and true.
    /// @param desk The caller the token acts for (`msg.sender` at the token).
    /// @return isDesk Whether `desk` holds DESK.
    function checkDeskCall(address desk, address from, address to, address obligor, uint256 depth)
        external
        view
        returns (bool isDesk);

    // ------------------------------------------------------------------ compliance policy

    /// @notice Sets the deployment's policy, with a reason. POLICY (governance) only.
    function setPolicy(Policy calldata policy, string calldata reason) external;
    /// @notice Sets a policy for `obligor` that replaces the deployment's, with a reason. POLICY only.
    function setObligorPolicy(address obligor, Policy calldata policy, string calldata reason) external;
    /// @notice Removes `obligor`'s override: the deployment's policy applies again. POLICY only.
    function clearObligorPolicy(address obligor, string calldata reason) external;
    /// @notice The deployment's policy.
    function defaultPolicy() external view returns (Policy memory);
    /// @notice The policy that applies to obligations of `obligor`: its override, or the deployment's.
    function policyOf(address obligor) external view returns (Policy memory);
    /// @notice Records the size class of a registered `account`. ONBOARDING (or governance) only.
    function setSizeClass(address account, SizeClass sizeClass) external;
    /// @notice The recorded size class of `account`.
    function sizeClassOf(address account) external view returns (SizeClass);
    /// @notice Records that obligation `slot` of `obligor` went overdue now; the third within
    ///         `OVERDUE_WINDOW` suspends `obligor`'s issuance for `SUSPENSION`. DESK only.
    function recordOverdue(address obligor, uint256 slot) external;
    /// @notice Lifts `obligor`'s suspension with a recorded reason and clears its strikes. POLICY only.
    function liftSuspension(address obligor, string calldata reason) external;
    /// @notice The overdue record of `obligor`.
    function obligorRecord(address obligor) external view returns (ObligorRecord memory);
    /// @notice An issuance's checks and rules in one call: reverts `OperationPaused(OP_ISSUANCE)` while issuance
    ///         is paused, then as `checkActiveRole(supplier, SUPPLIER)` and `checkActiveRole(obligor,
    ///         CORE_ENTERPRISE)`; returns what `issuanceRules(obligor, supplier)` returns.
    function checkIssuance(address supplier, address obligor) external view returns (IssuanceRules memory rules);
    /// @notice A new obligation's checks in one call: `isDesk` false (nothing more checked) when `desk` does not
    ///         hold DESK; otherwise as `checkHolders(holder, holder)`, and the settlement terms `settlementTermsOf`
    ///         gives `obligor` now.
    function checkSlotCreation(address desk, address holder, address obligor)
        external
        view
        returns (bool isDesk, bool billMode, uint256 acceptanceWindow);
    /// @notice Everything an issuance checks in one call: the obligor's policy, the end of its suspension
    ///         (0 or past when none) and the size classes of both parties.
    function issuanceRules(address obligor, address supplier)
        external
        view
        returns (Policy memory policy, uint256 suspendedUntil, SizeClass obligorClass, SizeClass supplierClass);

    // ------------------------------------------------------------------ bill mode (签收)

    /// @notice Sets the deployment's default: bill mode on or off, and the acceptance window in seconds (1 s to
    ///         365 days) after which an unaccepted move expires. POLICY (governance) only, with a reason.
    function setBillPolicy(bool billMode, uint256 acceptanceWindow, string calldata reason) external;
    /// @notice The deployment's default: bill mode on or off, and the acceptance window (7 days until set).
    function billPolicy() external view returns (bool billMode, uint256 acceptanceWindow);
    /// @notice The calling core enterprise (active, CORE_ENTERPRISE) chooses the mode of its future obligations.
    function setObligorSettlementMode(SettlementMode mode) external;
    /// @notice The mode `obligor` chose (`FollowDeployment` unless it chose).
    function obligorSettlementMode(address obligor) external view returns (SettlementMode);
    /// @notice The mode a new obligation of `obligor` gets: bill mode or not, and the acceptance window.
    function settlementTermsOf(address obligor) external view returns (bool billMode, uint256 acceptanceWindow);

    // ------------------------------------------------------------------ lost-key recovery

    /// @notice Asks to move the record of `lost` (a participant that lost its key) to `replacement`, a new,
    ///         never registered address, under case reference `caseRef`. ONBOARDING holding the admin role
    ///         of every participant role of `lost` (as `setStatus`), or governance. One open request per
    ///         lost address; nothing moves until ENFORCEMENT approves (`approveRecovery`).
    function requestRecovery(address lost, address replacement, bytes32 caseRef) external;
    /// @notice Approves the open request of `lost` (its `caseRef` repeated): the record moves to the
    ///         replacement, `lost` becomes `Recovered`. ENFORCEMENT only, and not the requesting key. The
    ///         tokens follow in batches through the token's `recoverTokens`.
    function approveRecovery(address lost, bytes32 caseRef) external;
    /// @notice Withdraws the open request of `lost` (its `caseRef` repeated). ONBOARDING, ENFORCEMENT or
    ///         governance.
    function cancelRecovery(address lost, bytes32 caseRef) external;
    /// @notice The open recovery request of `lost` (all zero when none).
    function recoveryRequest(address lost) external view returns (RecoveryRequest memory);
    /// @notice The address the record of `lost` moved to, or zero when `lost` was never recovered.
    function recoveredTo(address lost) external view returns (address);
    /// @notice The address that acts today for `account`: `account` itself, or the end of its chain of
    ///         recoveries (followed for at most `MAX_RECOVERY_HOPS` steps). Desks use it where they check a
    ///         recorded address (an obligor, a recourse seller).
    function currentAccount(address account) external view returns (address);

    /// @notice Reverts unless `account` is active and holds the participant role `role`.
    function checkActiveRole(address account, bytes32 role) external view;

    /// @notice The check of a desk operation: reverts `OperationPaused(operation)` while `operation` is
    ///         paused, otherwise as `checkActiveRole(account, role)`.
    function checkOperation(uint8 operation, address account, bytes32 role) external view;
}
