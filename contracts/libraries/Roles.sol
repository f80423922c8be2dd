// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Roles
/// @notice The role identifiers every Tierchain contract checks against the participant registry.
/// @dev Participant roles (holders and actors) each own one bit in `ParticipantRegistry`'s packed record
///      so the hot transfer path reads one storage slot per account. Admin and infrastructure roles
///      (DEFAULT_ADMIN_ROLE, DESK, ENFORCEMENT) are plain AccessControl roles.
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
