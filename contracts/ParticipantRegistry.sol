// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {
    AccessControlEnumerableUpgradeable
} from "@openzeppelin/contracts-upgradeable/access/extensions/AccessControlEnumerableUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title ParticipantRegistry
/// @notice The roster of core enterprises, suppliers, banks, regulators and oracles, with their status; the
///         home of every Tierchain role and of the circuit breaker (`pause`/`unpause`) every contract reads.
/// @dev Deployed behind an ERC-1967 proxy (UUPS); upgrades need DEFAULT_ADMIN_ROLE (governance, the timelock).
///      All state lives in one ERC-7201 namespace (`ParticipantRegistryStorage`).
///      DESK is bound once, at deployment, to the desk contracts (`bindDesks`) and never granted by
///      `grantRole`: see docs/contracts.md, "Desks are bound at deployment".
///      Roles are OpenZeppelin AccessControl roles; every grant or revoke of a participant role is mirrored
///      into a bitmask beside the status, so that the token's transfer check costs one SLOAD per account.
///      The mirror is written only in `_grantRole`/`_revokeRole`, the single mutation path for roles.
///      Role admins: ONBOARDING administers CORE_ENTERPRISE, SUPPLIER and BANK; DEFAULT_ADMIN_ROLE every other.
contract ParticipantRegistry is
    Initializable,
    AccessControlEnumerableUpgradeable,
    UUPSUpgradeable,
    IParticipantRegistry
{
    /// @custom:storage-location erc7201:tierchain.storage.ParticipantRegistry
    struct ParticipantRegistryStorage {
        mapping(address account => Participant) participants;
        mapping(bytes32 legalIdHash => address account) accountByLegalId;
        bool desksBound;
        uint8 pausedOperations;
        // 1.0.0 ends here; compliance policy (appended).
        Policy defaultPolicy;
        mapping(address obligor => Policy) obligorPolicies;
        mapping(address account => SizeClass) sizeClasses;
        mapping(address obligor => ObligorRecord) obligorRecords;
        // Bill mode (appended): the deployment's default and each core enterprise's own choice.
        bool billMode;
        uint32 acceptanceWindow;
        mapping(address obligor => SettlementMode) settlementModes;
        // Lost-key recovery (appended): open requests, and where each recovered record went.
        mapping(address lost => RecoveryRequest) recoveryRequests;
        mapping(address lost => address replacement) recoveredTo;
    }

    /// @notice Three obligations of one obligor marked overdue within this window suspend its issuance
    ///         (票交所 practice for supply-chain bills: 持续逾期 is three overdue acceptances within six months).
    uint256 public constant OVERDUE_WINDOW = 182 days;
    /// @notice How long a suspension for persistent overdue lasts: two years.
    uint256 public constant SUSPENSION = 730 days;
    /// @notice The acceptance window of bill mode until governance sets one: seven days.
    uint256 public constant DEFAULT_ACCEPTANCE_WINDOW = 7 days;
    /// @notice How many recoveries `currentAccount` follows from one address (one per lost key of the
    ///         same participant).
    uint256 public constant MAX_RECOVERY_HOPS = 8;

    // keccak256(abi.encode(uint256(keccak256("tierchain.storage.ParticipantRegistry")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_SLOT = 0x89352bd20ca9e9ea8faa5cb3d3a294f3ffa7fb0b3d312f09c92ff3568d913a00;

    /// @notice Locks the implementation: only a proxy can be initialized.
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @notice Initializes the proxy: `admin` gets DEFAULT_ADMIN_ROLE, and ONBOARDING becomes the role admin
    ///         of CORE_ENTERPRISE, SUPPLIER and BANK (every other role keeps DEFAULT_ADMIN_ROLE as its admin).
    /// @param admin The governance account (the timelock, or the deployer until it hands over).
    function initialize(address admin) external initializer {
        if (admin == address(0)) revert ZeroAddress();
        __AccessControl_init();
        __AccessControlEnumerable_init();
        _setRoleAdmin(Roles.CORE_ENTERPRISE, Roles.ONBOARDING);
        _setRoleAdmin(Roles.SUPPLIER, Roles.ONBOARDING);
        _setRoleAdmin(Roles.BANK, Roles.ONBOARDING);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        Policy memory p = Policy({
            maxTenor: 365 days,
            longTenor: 180 days,
            smePaymentTerm: 60 days,
            maxDepth: 32,
            minUnit: 1,
            tradeBackground: true,
            isSet: true
        });
        _s().defaultPolicy = p;
        emit PolicySet(p, msg.sender, "initial policy");
    }

    /// @inheritdoc IParticipantRegistry
    function version() external pure virtual returns (string memory) {
        return "1.0.0";
    }

    // ------------------------------------------------------------------ onboarding

    /// @inheritdoc IParticipantRegistry
    /// @dev Roles must be participant roles (see `Roles.bitOf`); infrastructure roles use `grantRole`. The
    ///      caller needs ONBOARDING and the admin role of every role in `roles`.
    function register(address account, bytes32 legalIdHash, bytes32[] calldata roles)
        external
        onlyRole(Roles.ONBOARDING)
    {
        if (account == address(0)) revert ZeroAddress();
        if (legalIdHash == bytes32(0)) revert InvalidLegalIdHash();
        ParticipantRegistryStorage storage $ = _s();
        Participant storage p = $.participants[account];
        if (p.status != Status.None) revert AlreadyRegistered(account);
        address holder = $.accountByLegalId[legalIdHash];
        if (holder != address(0)) revert LegalIdAlreadyRegistered(legalIdHash, holder);

        p.legalIdHash = legalIdHash;
        p.status = Status.Active;
        $.accountByLegalId[legalIdHash] = account;
        emit ParticipantRegistered(account, legalIdHash);
        emit ParticipantStatusChanged(account, Status.None, Status.Active);
        for (uint256 i = 0; i < roles.length; ++i) {
            if (Roles.bitOf(roles[i]) == 0) revert NotAParticipantRole(roles[i]);
            _checkRole(getRoleAdmin(roles[i]));
            _grantRole(roles[i], account);
        }
    }

    /// @inheritdoc IParticipantRegistry
    function bindDesks(address[] calldata desks) external onlyRole(DEFAULT_ADMIN_ROLE) {
        ParticipantRegistryStorage storage $ = _s();
        if ($.desksBound) revert DesksAlreadyBound();
        if (desks.length == 0) revert NoDesks();
        $.desksBound = true;
        for (uint256 i = 0; i < desks.length; ++i) {
            if (desks[i].code.length == 0) revert DeskNotAContract(desks[i]);
            _grantRole(Roles.DESK, desks[i]);
        }
        emit DesksBound(desks);
    }

    /// @inheritdoc IParticipantRegistry
    function desksBound() external view returns (bool) {
        return _s().desksBound;
    }

    /// @inheritdoc IParticipantRegistry
    /// @dev The caller needs ONBOARDING and the admin role of every participant role `account` holds, so
    ///      suspending a regulator or an oracle takes what granting it would.
    /// @dev Governance (DEFAULT_ADMIN_ROLE) may set any participant's status; the ONBOARDING key only that of a
    ///      participant whose every role it administers (a trading party, not an oracle or a regulator).
    function setStatus(address account, Status status) external {
        bool governance = hasRole(DEFAULT_ADMIN_ROLE, msg.sender);
        if (!governance) _checkRole(Roles.ONBOARDING);
        if (status == Status.None || status == Status.Recovered) revert InvalidStatus(status);
        Participant storage p = _s().participants[account];
        Status previous = p.status;
        if (previous == Status.None) revert NotRegistered(account);
        if (previous == Status.Recovered) revert AccountRecovered(account, _s().recoveredTo[account]);
        if (previous == status) revert InvalidStatus(status);
        if (!governance) _checkRoleAdmins(p.roleBits);
        p.status = status;
        emit ParticipantStatusChanged(account, previous, status);
    }

    // ------------------------------------------------------------------ circuit breaker

    /// @inheritdoc IParticipantRegistry
    function pause(uint8 operations, string calldata reason) external onlyRole(Roles.GUARDIAN) {
        _checkOperations(operations, reason);
        ParticipantRegistryStorage storage $ = _s();
        uint8 current = $.pausedOperations;
        if (current & operations == operations) revert AlreadyPaused(operations);
        $.pausedOperations = current | operations;
        emit OperationsPaused(operations, msg.sender, reason);
    }

    /// @inheritdoc IParticipantRegistry
    function unpause(uint8 operations, string calldata reason) external onlyRole(Roles.POLICY) {
        _checkOperations(operations, reason);
        ParticipantRegistryStorage storage $ = _s();
        uint8 current = $.pausedOperations;
        if (current & operations == 0) revert NotPaused(operations);
        $.pausedOperations = current & ~operations;
        emit OperationsUnpaused(operations, msg.sender, reason);
    }

    /// @inheritdoc IParticipantRegistry
    function pausedOperations() external view returns (uint8) {
        return _s().pausedOperations;
    }

    /// @inheritdoc IParticipantRegistry
    function checkNotPaused(uint8 operation) external view {
        if (_s().pausedOperations & operation != 0) revert OperationPaused(operation);
    }

    // ------------------------------------------------------------------ views and checks

    /// @inheritdoc IParticipantRegistry
    function participant(address account) external view returns (Participant memory) {
        return _s().participants[account];
    }

    /// @inheritdoc IParticipantRegistry
    function accountOf(bytes32 legalIdHash) external view returns (address) {
        return _s().accountByLegalId[legalIdHash];
    }

    /// @inheritdoc IParticipantRegistry
    function isActive(address account) external view returns (bool) {
        return _s().participants[account].status == Status.Active;
    }

    /// @inheritdoc IParticipantRegistry
    function checkHolders(address from, address to) external view {
        ParticipantRegistryStorage storage $ = _s();
        _checkHolder($, from);
        if (to != from) _checkHolder($, to);
    }

    /// @inheritdoc IParticipantRegistry
    /// @dev One call for the token's transfer path: the MOVES bit, both holder records, the trade-background
    ///      rule and the depth. Moving to oneself (a merge of one's own pieces) needs no trade document.
    function checkMove(address from, address to, address obligor, uint256 depth) external view {
        ParticipantRegistryStorage storage $ = _s();
        if ($.pausedOperations & Roles.OP_MOVES != 0) revert OperationPaused(Roles.OP_MOVES);
        _checkHolder($, from);
        if (to == from) {
            if (depth != 0) _checkDepth(_policyOf($, obligor), depth);
            return;
        }
        _checkHolder($, to);
        Policy memory p = _policyOf($, obligor);
        if (p.tradeBackground && $.participants[to].roleBits & Roles.BIT_BANK == 0) {
            revert TradeBackgroundRequired(from, to);
        }
        if (depth != 0) _checkDepth(p, depth);
    }

    /// @inheritdoc IParticipantRegistry
    function checkDeskMove(address from, address to, address obligor, uint256 depth) external view {
        ParticipantRegistryStorage storage $ = _s();
        _checkHolder($, from);
        if (to != from) _checkHolder($, to);
        if (depth != 0) _checkDepth(_policyOf($, obligor), depth);
    }

    /// @inheritdoc IParticipantRegistry
    /// @dev `checkMove(from, to, obligor, depth)` for each `to` in `recipients`, in order, with the MOVES bit,
    ///      `from`'s record and the policy read once.
    function checkMoveBatch(address from, address[] calldata recipients, address obligor, uint256 depth) external view {
        ParticipantRegistryStorage storage $ = _s();
        if ($.pausedOperations & Roles.OP_MOVES != 0) revert OperationPaused(Roles.OP_MOVES);
        _checkHolder($, from);
        Policy memory p = _policyOf($, obligor);
        uint256 n = recipients.length;
        for (uint256 i = 0; i < n; ++i) {
            address to = recipients[i];
            if (to == from) continue;
            _checkHolder($, to);
            if (p.tradeBackground && $.participants[to].roleBits & Roles.BIT_BANK == 0) {
                revert TradeBackgroundRequired(from, to);
            }
        }
        if (depth != 0) _checkDepth(p, depth);
    }

    /// @inheritdoc IParticipantRegistry
    function checkDeskCall(address desk, address from, address to, address obligor, uint256 depth)
        external
        view
        returns (bool isDesk)
    {
        if (!hasRole(Roles.DESK, desk)) return false;
        ParticipantRegistryStorage storage $ = _s();
        _checkHolder($, from);
        if (to != from) _checkHolder($, to);
        if (depth != 0) _checkDepth(_policyOf($, obligor), depth);
        return true;
    }

    /// @inheritdoc IParticipantRegistry
    function checkActiveRole(address account, bytes32 role) external view {
        _checkActiveRole(_s(), account, role);
    }

    /// @inheritdoc IParticipantRegistry
    /// @dev One call for a desk: its pause bit and the actor's role.
    function checkOperation(uint8 operation, address account, bytes32 role) external view {
        ParticipantRegistryStorage storage $ = _s();
        if ($.pausedOperations & operation != 0) revert OperationPaused(operation);
        _checkActiveRole($, account, role);
    }

    // ------------------------------------------------------------------ compliance policy

    /// @inheritdoc IParticipantRegistry
    function setPolicy(Policy calldata policy, string calldata reason) external onlyRole(Roles.POLICY) {
        Policy memory p = _validPolicy(policy, reason);
        _s().defaultPolicy = p;
        emit PolicySet(p, msg.sender, reason);
    }

    /// @inheritdoc IParticipantRegistry
    function setObligorPolicy(address obligor, Policy calldata policy, string calldata reason)
        external
        onlyRole(Roles.POLICY)
    {
        if (obligor == address(0)) revert ZeroAddress();
        Policy memory p = _validPolicy(policy, reason);
        _s().obligorPolicies[obligor] = p;
        emit ObligorPolicySet(obligor, p, msg.sender, reason);
    }

    /// @inheritdoc IParticipantRegistry
    function clearObligorPolicy(address obligor, string calldata reason) external onlyRole(Roles.POLICY) {
        if (bytes(reason).length == 0) revert PolicyReasonRequired();
        ParticipantRegistryStorage storage $ = _s();
        if (!$.obligorPolicies[obligor].isSet) revert NoObligorPolicy(obligor);
        delete $.obligorPolicies[obligor];
        emit ObligorPolicySet(obligor, $.obligorPolicies[obligor], msg.sender, reason);
    }

    /// @inheritdoc IParticipantRegistry
    function defaultPolicy() external view returns (Policy memory) {
        return _s().defaultPolicy;
    }

    /// @inheritdoc IParticipantRegistry
    function policyOf(address obligor) external view returns (Policy memory) {
        return _policyOf(_s(), obligor);
    }

    /// @inheritdoc IParticipantRegistry
    /// @dev The same keys that onboard record the class: ONBOARDING, or governance.
    function setSizeClass(address account, SizeClass sizeClass) external {
        if (!hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) _checkRole(Roles.ONBOARDING);
        if (sizeClass == SizeClass.Unclassified || uint8(sizeClass) > uint8(SizeClass.Micro)) {
            revert InvalidSizeClass(sizeClass);
        }
        ParticipantRegistryStorage storage $ = _s();
        _checkRecordOpen($, account);
        SizeClass previous = $.sizeClasses[account];
        $.sizeClasses[account] = sizeClass;
        emit SizeClassSet(account, previous, sizeClass);
    }

    /// @inheritdoc IParticipantRegistry
    function sizeClassOf(address account) external view returns (SizeClass) {
        return _s().sizeClasses[account];
    }

    /// @inheritdoc IParticipantRegistry
    /// @dev The record keeps the last three strikes; the third within `OVERDUE_WINDOW` (first to last)
    ///      suspends for `SUSPENSION` from now. A strike while suspended extends nothing.
    /// @dev An obligation of a recovered obligor counts on the record of the account acting for it now.
    function recordOverdue(address obligor, uint256 slot) external onlyRole(Roles.DESK) {
        ParticipantRegistryStorage storage $ = _s();
        obligor = _current($, obligor);
        ObligorRecord storage r = $.obligorRecords[obligor];
        uint40 nowTs = uint40(block.timestamp);
        uint40 first = r.strike1;
        r.strike0 = first;
        r.strike1 = r.strike2;
        r.strike2 = nowTs;
        uint32 count = r.overdueCount + 1;
        r.overdueCount = count;
        emit ObligorOverdueRecorded(obligor, slot, nowTs, count);
        if (first != 0 && nowTs - first <= OVERDUE_WINDOW && r.suspendedUntil <= nowTs) {
            uint40 until = uint40(block.timestamp + SUSPENSION);
            r.suspendedUntil = until;
            emit ObligorSuspended(obligor, until, first, nowTs);
        }
    }

    /// @inheritdoc IParticipantRegistry
    function liftSuspension(address obligor, string calldata reason) external onlyRole(Roles.POLICY) {
        if (bytes(reason).length == 0) revert PolicyReasonRequired();
        ObligorRecord storage r = _s().obligorRecords[obligor];
        if (r.suspendedUntil <= block.timestamp) revert ObligorNotSuspended(obligor);
        r.suspendedUntil = 0;
        r.strike0 = 0;
        r.strike1 = 0;
        r.strike2 = 0;
        emit ObligorSuspensionLifted(obligor, msg.sender, reason);
    }

    /// @inheritdoc IParticipantRegistry
    function obligorRecord(address obligor) external view returns (ObligorRecord memory) {
        return _s().obligorRecords[obligor];
    }

    /// @inheritdoc IParticipantRegistry
    function checkIssuance(address supplier, address obligor) external view returns (IssuanceRules memory rules) {
        ParticipantRegistryStorage storage $ = _s();
        if ($.pausedOperations & Roles.OP_ISSUANCE != 0) revert OperationPaused(Roles.OP_ISSUANCE);
        _checkActiveRole($, supplier, Roles.SUPPLIER);
        _checkActiveRole($, obligor, Roles.CORE_ENTERPRISE);
        rules = IssuanceRules(
            _policyOf($, obligor),
            $.obligorRecords[obligor].suspendedUntil,
            $.sizeClasses[obligor],
            $.sizeClasses[supplier]
        );
    }

    /// @inheritdoc IParticipantRegistry
    function checkSlotCreation(address desk, address holder, address obligor)
        external
        view
        returns (bool isDesk, bool billMode, uint256 acceptanceWindow)
    {
        if (!hasRole(Roles.DESK, desk)) return (false, false, 0);
        ParticipantRegistryStorage storage $ = _s();
        _checkHolder($, holder);
        (billMode, acceptanceWindow) = _settlementTerms($, obligor);
        isDesk = true;
    }

    /// @inheritdoc IParticipantRegistry
    function issuanceRules(address obligor, address supplier)
        external
        view
        returns (Policy memory policy, uint256 suspendedUntil, SizeClass obligorClass, SizeClass supplierClass)
    {
        ParticipantRegistryStorage storage $ = _s();
        policy = _policyOf($, obligor);
        suspendedUntil = $.obligorRecords[obligor].suspendedUntil;
        obligorClass = $.sizeClasses[obligor];
        supplierClass = $.sizeClasses[supplier];
    }

    // ------------------------------------------------------------------ bill mode (签收)

    /// @inheritdoc IParticipantRegistry
    function setBillPolicy(bool billMode, uint256 acceptanceWindow, string calldata reason)
        external
        onlyRole(Roles.POLICY)
    {
        if (bytes(reason).length == 0) revert PolicyReasonRequired();
        if (acceptanceWindow == 0 || acceptanceWindow > 365 days) revert InvalidAcceptanceWindow(acceptanceWindow);
        ParticipantRegistryStorage storage $ = _s();
        $.billMode = billMode;
        $.acceptanceWindow = uint32(acceptanceWindow);
        emit BillPolicySet(billMode, acceptanceWindow, msg.sender, reason);
    }

    /// @inheritdoc IParticipantRegistry
    function billPolicy() external view returns (bool billMode, uint256 acceptanceWindow) {
        ParticipantRegistryStorage storage $ = _s();
        return ($.billMode, _window($));
    }

    /// @inheritdoc IParticipantRegistry
    /// @dev Applies to obligations created afterwards: an obligation keeps the mode it was created with.
    function setObligorSettlementMode(SettlementMode mode) external {
        ParticipantRegistryStorage storage $ = _s();
        _checkActiveRole($, msg.sender, Roles.CORE_ENTERPRISE);
        $.settlementModes[msg.sender] = mode;
        emit ObligorSettlementModeSet(msg.sender, mode);
    }

    /// @inheritdoc IParticipantRegistry
    function obligorSettlementMode(address obligor) external view returns (SettlementMode) {
        return _s().settlementModes[obligor];
    }

    /// @inheritdoc IParticipantRegistry
    function settlementTermsOf(address obligor) external view returns (bool billMode, uint256 acceptanceWindow) {
        return _settlementTerms(_s(), obligor);
    }

    // ------------------------------------------------------------------ lost-key recovery

    /// @inheritdoc IParticipantRegistry
    function requestRecovery(address lost, address replacement, bytes32 caseRef) external {
        bool governance = hasRole(DEFAULT_ADMIN_ROLE, msg.sender);
        if (!governance) _checkRole(Roles.ONBOARDING);
        if (caseRef == bytes32(0)) revert InvalidCaseRef();
        if (replacement == address(0)) revert ZeroAddress();
        ParticipantRegistryStorage storage $ = _s();
        _checkRecordOpen($, lost);
        if (replacement == lost || $.participants[replacement].status != Status.None) {
            revert AlreadyRegistered(replacement);
        }
        bytes32 open = $.recoveryRequests[lost].caseRef;
        if (open != bytes32(0)) revert RecoveryAlreadyRequested(lost, open);
        if (!governance) _checkRoleAdmins($.participants[lost].roleBits);
        $.recoveryRequests[lost] = RecoveryRequest(replacement, caseRef, msg.sender);
        emit RecoveryRequested(lost, replacement, caseRef, msg.sender);
    }

    /// @inheritdoc IParticipantRegistry
    /// @dev The replacement is registered with the lost record's legal id and status (a suspended participant
    ///      stays suspended), its participant roles (granted anew, revoked from `lost`), its size class and,
    ///      for an obligor, its policy override, overdue record and settlement mode, so a recovery neither
    ///      loses nor sheds anything: a suspension follows the record. Infrastructure roles are not moved
    ///      (governance grants them). The usual registration, status, role and size-class events are emitted
    ///      for the replacement, then `ParticipantRecovered`.
    function approveRecovery(address lost, bytes32 caseRef) external onlyRole(Roles.ENFORCEMENT) {
        ParticipantRegistryStorage storage $ = _s();
        RecoveryRequest memory r = _openRequest($, lost, caseRef);
        if (msg.sender == r.requestedBy) revert RecoveryNeedsSecondParty(msg.sender);
        address to = r.replacement;
        // Registered since the request (by another onboarding): refused rather than merged.
        if ($.participants[to].status != Status.None) revert AlreadyRegistered(to);
        delete $.recoveryRequests[lost];

        Participant memory p = $.participants[lost];
        $.participants[to] = Participant(p.legalIdHash, p.status, 0);
        $.accountByLegalId[p.legalIdHash] = to;
        $.participants[lost].status = Status.Recovered;
        $.recoveredTo[lost] = to;
        emit ParticipantRegistered(to, p.legalIdHash);
        emit ParticipantStatusChanged(to, Status.None, p.status);
        emit ParticipantStatusChanged(lost, p.status, Status.Recovered);
        _moveRole(Roles.CORE_ENTERPRISE, p.roleBits, lost, to);
        _moveRole(Roles.SUPPLIER, p.roleBits, lost, to);
        _moveRole(Roles.BANK, p.roleBits, lost, to);
        _moveRole(Roles.REGULATOR, p.roleBits, lost, to);
        _moveRole(Roles.ORACLE, p.roleBits, lost, to);

        SizeClass sizeClass = $.sizeClasses[lost];
        if (sizeClass != SizeClass.Unclassified) {
            $.sizeClasses[to] = sizeClass;
            emit SizeClassSet(to, SizeClass.Unclassified, sizeClass);
        }
        Policy memory policy = $.obligorPolicies[lost];
        if (policy.isSet) {
            $.obligorPolicies[to] = policy;
            delete $.obligorPolicies[lost];
            emit ObligorPolicySet(to, policy, msg.sender, "lost-key recovery");
        }
        $.obligorRecords[to] = $.obligorRecords[lost];
        SettlementMode mode = $.settlementModes[lost];
        if (mode != SettlementMode.FollowDeployment) {
            $.settlementModes[to] = mode;
            emit ObligorSettlementModeSet(to, mode);
        }
        emit ParticipantRecovered(lost, to, caseRef, r.requestedBy, msg.sender);
    }

    /// @inheritdoc IParticipantRegistry
    function cancelRecovery(address lost, bytes32 caseRef) external {
        if (
            !hasRole(Roles.ONBOARDING, msg.sender) && !hasRole(Roles.ENFORCEMENT, msg.sender)
                && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)
        ) {
            revert AccessControlUnauthorizedAccount(msg.sender, Roles.ONBOARDING);
        }
        ParticipantRegistryStorage storage $ = _s();
        _openRequest($, lost, caseRef);
        delete $.recoveryRequests[lost];
        emit RecoveryCancelled(lost, caseRef, msg.sender);
    }

    /// @inheritdoc IParticipantRegistry
    function recoveryRequest(address lost) external view returns (RecoveryRequest memory) {
        return _s().recoveryRequests[lost];
    }

    /// @inheritdoc IParticipantRegistry
    function recoveredTo(address lost) external view returns (address) {
        return _s().recoveredTo[lost];
    }

    /// @inheritdoc IParticipantRegistry
    function currentAccount(address account) external view returns (address) {
        return _current(_s(), account);
    }

    // ------------------------------------------------------------------ roles

    /// @notice Grants `role` to `account`; DESK is refused here: only `bindDesks` grants it.
    /// @dev An admin key alone must not be able to turn a wallet into a desk, which moves anyone's tokens.
    function grantRole(bytes32 role, address account) public override(AccessControlUpgradeable, IAccessControl) {
        if (role == Roles.DESK) revert DeskGrantOutsideBinding(account);
        super.grantRole(role, account);
    }

    /// @dev Participant roles can only go to registered accounts; the bit mirror follows every grant.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        uint8 bit = Roles.bitOf(role);
        Participant storage p = _s().participants[account];
        if (bit != 0 && p.status == Status.None) revert NotRegistered(account);
        if (bit != 0 && p.status == Status.Recovered) revert AccountRecovered(account, _s().recoveredTo[account]);
        granted = super._grantRole(role, account);
        if (granted && bit != 0) p.roleBits |= bit;
    }

    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        uint8 bit = Roles.bitOf(role);
        if (revoked && bit != 0) _s().participants[account].roleBits &= ~bit;
    }

    /// @dev Upgrades are governance's alone (the timelock holds DEFAULT_ADMIN_ROLE).
    function _authorizeUpgrade(address) internal view override onlyRole(DEFAULT_ADMIN_ROLE) {}

    // ------------------------------------------------------------------ internals

    function _checkHolder(ParticipantRegistryStorage storage $, address account) private view {
        Participant storage p = $.participants[account];
        if (p.status != Status.Active) revert ParticipantNotActive(account);
        if (p.roleBits & Roles.HOLDER_BITS == 0) revert NotAHolder(account);
    }

    function _checkActiveRole(ParticipantRegistryStorage storage $, address account, bytes32 role) private view {
        Participant storage p = $.participants[account];
        if (p.status != Status.Active) revert ParticipantNotActive(account);
        uint8 bit = Roles.bitOf(role);
        bool has = bit == 0 ? hasRole(role, account) : p.roleBits & bit != 0;
        if (!has) revert MissingRole(account, role);
    }

    /// @dev Reverts unless `account` is registered and not recovered.
    function _checkRecordOpen(ParticipantRegistryStorage storage $, address account) private view {
        Status status = $.participants[account].status;
        if (status == Status.None) revert NotRegistered(account);
        if (status == Status.Recovered) revert AccountRecovered(account, $.recoveredTo[account]);
    }

    function _openRequest(ParticipantRegistryStorage storage $, address lost, bytes32 caseRef)
        private
        view
        returns (RecoveryRequest memory r)
    {
        r = $.recoveryRequests[lost];
        if (r.caseRef == bytes32(0)) revert NoRecoveryRequest(lost);
        if (r.caseRef != caseRef) revert RecoveryCaseMismatch(lost, r.caseRef, caseRef);
    }

    /// @dev Moves participant role `role` from `from` to `to` when `roleBits` has it.
    function _moveRole(bytes32 role, uint8 roleBits, address from, address to) private {
        if (roleBits & Roles.bitOf(role) == 0) return;
        _revokeRole(role, from);
        _grantRole(role, to);
    }

    /// @dev Follows `recoveredTo` from `account`, at most `MAX_RECOVERY_HOPS` steps.
    function _current(ParticipantRegistryStorage storage $, address account) private view returns (address) {
        for (uint256 i = 0; i < MAX_RECOVERY_HOPS; ++i) {
            address next = $.recoveredTo[account];
            if (next == address(0)) break;
            account = next;
        }
        return account;
    }

    function _policyOf(ParticipantRegistryStorage storage $, address obligor) private view returns (Policy memory) {
        Policy memory p = $.obligorPolicies[obligor];
        return p.isSet ? p : $.defaultPolicy;
    }

    function _settlementTerms(ParticipantRegistryStorage storage $, address obligor)
        private
        view
        returns (bool billMode, uint256 acceptanceWindow)
    {
        SettlementMode mode = $.settlementModes[obligor];
        billMode = mode == SettlementMode.FollowDeployment ? $.billMode : mode == SettlementMode.Bill;
        acceptanceWindow = _window($);
    }

    function _window(ParticipantRegistryStorage storage $) private view returns (uint256) {
        uint256 w = $.acceptanceWindow;
        return w == 0 ? DEFAULT_ACCEPTANCE_WINDOW : w;
    }

    function _checkDepth(Policy memory p, uint256 depth) private pure {
        if (depth > p.maxDepth) revert SplitTooDeep(depth, p.maxDepth);
    }

    /// @dev A policy keeps the law's outer bounds: a term of at most one year (365 days), a long-tenor
    ///      threshold within it, an SME term of at least a day, a depth of at least one split.
    function _validPolicy(Policy calldata policy, string calldata reason) private pure returns (Policy memory p) {
        if (bytes(reason).length == 0) revert PolicyReasonRequired();
        p = policy;
        if (p.maxTenor == 0 || p.maxTenor > 365 days) revert InvalidPolicy("maxTenor");
        if (p.longTenor == 0 || p.longTenor > p.maxTenor) revert InvalidPolicy("longTenor");
        if (p.smePaymentTerm == 0 || p.smePaymentTerm > p.maxTenor) revert InvalidPolicy("smePaymentTerm");
        if (p.maxDepth == 0) revert InvalidPolicy("maxDepth");
        if (p.minUnit == 0) revert InvalidPolicy("minUnit");
        p.isSet = true;
    }

    /// @dev The caller must hold the admin role of each participant role in `roleBits`.
    function _checkRoleAdmins(uint8 roleBits) private view {
        if (roleBits & Roles.BIT_CORE_ENTERPRISE != 0) _checkRole(getRoleAdmin(Roles.CORE_ENTERPRISE));
        if (roleBits & Roles.BIT_SUPPLIER != 0) _checkRole(getRoleAdmin(Roles.SUPPLIER));
        if (roleBits & Roles.BIT_BANK != 0) _checkRole(getRoleAdmin(Roles.BANK));
        if (roleBits & Roles.BIT_REGULATOR != 0) _checkRole(getRoleAdmin(Roles.REGULATOR));
        if (roleBits & Roles.BIT_ORACLE != 0) _checkRole(getRoleAdmin(Roles.ORACLE));
    }

    /// @dev A pause or unpause names known operations (1..OP_ALL) and gives a reason.
    function _checkOperations(uint8 operations, string calldata reason) private pure {
        if (operations == 0 || operations & ~Roles.OP_ALL != 0) revert UnknownOperations(operations);
        if (bytes(reason).length == 0) revert ReasonRequired();
    }

    /// @dev The contract's ERC-7201 namespace (`tierchain.storage.ParticipantRegistry`), at `STORAGE_SLOT`.
    function _s() private pure returns (ParticipantRegistryStorage storage $) {
        assembly {
            $.slot := STORAGE_SLOT
        }
    }
}
