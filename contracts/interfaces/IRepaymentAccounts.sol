// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IRepaymentAccounts
/// @notice What the financing desk reads of the repayment desk: a slot's repayment account. Mirrors
///         `RepaymentDesk.State` and `RepaymentDesk.Account` (same ABI).
interface IRepaymentAccounts {
    /// @notice Repayment states of a slot, as `RepaymentDesk.State`.
    enum State {
        Outstanding,
        Overdue,
        Repaid,
        Defaulted
    }

    /// @notice Repayment accounting of one slot, as `RepaymentDesk.Account`.
    struct Account {
        uint128 paid;
        uint128 face;
        uint128 paidOut;
        uint128 redeemedValue;
        address currency;
        uint48 maturity;
        State state;
    }

    /// @notice The repayment account of `slot` (all zero before the first touch).
    function account(uint256 slot) external view returns (Account memory);
}
