// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title DiscountMath
/// @notice Pure money maths for financing and repayment, with every rounding direction written down.
library DiscountMath {
    /// @notice Day-count conventions: actual days over a 360-day year, or over a fixed 365-day year.
    enum DayCount {
        ACT_360,
        ACT_365F
    }

    uint256 internal constant BPS = 10_000;

    error UnknownDayCount(uint8 dayCount);
    error DiscountExceedsValue(uint256 rateBps, uint256 daysToMaturity, uint256 basis);

    /// @notice Days in the year of `dayCount`: 360 for ACT/360, 365 for ACT/365F.
    function basis(DayCount dayCount) internal pure returns (uint256) {
        return dayCount == DayCount.ACT_360 ? 360 : 365;
    }

    /// @notice Checks a raw day-count code and converts it.
    function toDayCount(uint8 code) internal pure returns (DayCount) {
        if (code > uint8(DayCount.ACT_365F)) revert UnknownDayCount(code);
        return DayCount(code);
    }

    /// @notice Actual days from `start` to `end`, counting a started day as a whole day.
    /// @dev Rounds UP: a piece bought at 09:00 that matures at 00:00 four days later is discounted for 4 days,
    ///      never for 3, so the financier is never short-changed by the clock. 0 when `end <= start`.
    function daysBetween(uint256 start, uint256 end) internal pure returns (uint256) {
        return end <= start ? 0 : Math.ceilDiv(end - start, 1 days);
    }

    /// @notice Price of `value` discounted at `rateBps` a year for `daysToMaturity` days (simple discount).
    /// @dev price = value × (basis × 10_000 − rateBps × days) / (basis × 10_000), rounded DOWN.
    ///      Equivalently the discount value × rateBps × days / (basis × 10_000) is rounded UP; the seller gets
    ///      at most the exact rational price and is short by less than one minor unit. Reverts when the
    ///      discount would reach the whole value (rate × days ≥ basis × 10_000).
    /// @return price What the financier pays, in minor units.
    /// @return discount value − price.
    function discountPrice(uint256 value, uint256 rateBps, uint256 daysToMaturity, DayCount dayCount)
        internal
        pure
        returns (uint256 price, uint256 discount)
    {
        uint256 denominator = basis(dayCount) * BPS;
        uint256 charge = rateBps * daysToMaturity;
        if (charge >= denominator) revert DiscountExceedsValue(rateBps, daysToMaturity, basis(dayCount));
        price = Math.mulDiv(value, denominator - charge, denominator);
        discount = value - price;
    }

    /// @notice A holder's pro-rata share of what the obligor paid: value × paid / face, rounded DOWN.
    /// @dev Σ floor(vᵢ·paid/face) ≤ floor(Σvᵢ·paid/face) ≤ paid, so payouts never exceed deposits; what
    ///      rounding leaves over (less than one minor unit per holder) is tracked as dust by the desk.
    function proRata(uint256 value, uint256 paid, uint256 face) internal pure returns (uint256) {
        return Math.mulDiv(value, paid, face);
    }
}
