// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Roles
/// @notice The role identifiers every Tierchain contract checks against the participant registry.
/// @dev Participant roles (holders and actors) each own one bit in `ParticipantRegistry`'s packed record
///      so the hot transfer path reads one storage slot per account. Admin, governance and infrastructure
///      roles (DEFAULT_ADMIN_ROLE, POLICY, ONBOARDING, GUARDIAN, DESK, ENFORCEMENT) are plain AccessControl
///      roles. Role admins: ONBOARDING administers CORE_ENTERPRISE, SUPPLIER and BANK; DEFAULT_ADMIN_ROLE
///      (governance, the timelock) administers every other role.
///      The `OP_*` constants are the operation bits of the registry's circuit breaker (`pause`/`unpause`).
library Roles {
    /// @notice A buyer that confirms obligations and repays them at maturity.
    bytes32 internal constant CORE_ENTERPRISE = keccak256("CORE_ENTERPRISE");
    /// @notice A seller at any tier; receives, splits and pays with receivables.
    bytes32 internal constant SUPPLIER = keccak256("SUPPLIER");
    /// @notice A financier that buys receivables at a discount.
    bytes32 internal constant BANK = keccak256("BANK");
    /// @notice Reads everything and freezes tokens; never moves value.
    bytes32 internal constant REGULATOR = keccak256("REGULATOR");
    /// @notice Signs EIP-712 attestations of verified trade documents.
    bytes32 internal constant ORACLE = keccak256("ORACLE");
    /// @notice Executes court-ordered forced transfers; deliberately distinct from REGULATOR.
    bytes32 internal constant ENFORCEMENT = keccak256("ENFORCEMENT");
    /// @notice Tierchain's own desk contracts (issuance, financing, repayment) that mint, settle and burn.
    ///         Granted only by `ParticipantRegistry.bindDesks`, once, to contracts; never by `grantRole`.
    bytes32 internal constant DESK = keccak256("DESK");
    /// @notice Governance (the timelock): policy settings — the oracle threshold, settlement currencies, the
    ///         metadata base URI — and lifting a pause (`ParticipantRegistry.unpause`).
    bytes32 internal constant POLICY = keccak256("POLICY");
    /// @notice An operator key acting at once: registers participants, changes their status, and, as their
    ///         role admin, grants and revokes CORE_ENTERPRISE, SUPPLIER and BANK.
    bytes32 internal constant ONBOARDING = keccak256("ONBOARDING");
    /// @notice An operator key acting at once: pauses operations (`ParticipantRegistry.pause`), nothing else.
    bytes32 internal constant GUARDIAN = keccak256("GUARDIAN");

    /// @notice Pause bit: issuance (IssuanceDesk propose, confirm, confirmWithSignature, issueDirect).
    uint8 internal constant OP_ISSUANCE = 1 << 0;
    /// @notice Pause bit: holder-initiated token moves (ERC-721 and ERC-3525 transfers, splits, merges).
    uint8 internal constant OP_MOVES = 1 << 1;
    /// @notice Pause bit: financing (FinancingDesk makeOffer and accept; cancelOffer stays open).
    uint8 internal constant OP_FINANCING = 1 << 2;
    /// @notice Pause bit: repayment deposits (RepaymentDesk deposit; redemption is never paused).
    uint8 internal constant OP_REPAYMENT = 1 << 3;
    /// @notice Every pause bit.
    uint8 internal constant OP_ALL = OP_ISSUANCE | OP_MOVES | OP_FINANCING | OP_REPAYMENT;

    uint8 internal constant BIT_CORE_ENTERPRISE = 1 << 0;
    uint8 internal constant BIT_SUPPLIER = 1 << 1;
    uint8 internal constant BIT_BANK = 1 << 2;
    uint8 internal constant BIT_REGULATOR = 1 << 3;
    uint8 internal constant BIT_ORACLE = 1 << 4;
    /// @notice Roles whose members may hold receivables.
    uint8 internal constant HOLDER_BITS = BIT_CORE_ENTERPRISE | BIT_SUPPLIER | BIT_BANK;

    /// @notice The participant bit of `role`, or 0 when `role` is not a participant role.
    function bitOf(bytes32 role) internal pure returns (uint8) {
        if (role == CORE_ENTERPRISE) return BIT_CORE_ENTERPRISE;
        if (role == SUPPLIER) return BIT_SUPPLIER;
        if (role == BANK) return BIT_BANK;
        if (role == REGULATOR) return BIT_REGULATOR;
        if (role == ORACLE) return BIT_ORACLE;
        return 0;
    }
}
