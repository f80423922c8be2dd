// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {DiscountMath} from "../../contracts/libraries/DiscountMath.sol";

/// @dev Exposes the internal library functions as external calls so reverts can be expected.
contract DiscountMathHarness {
    function basis(uint8 code) external pure returns (uint256) {
        return DiscountMath.basis(DiscountMath.DayCount(code));
    }

    function toDayCount(uint8 code) external pure returns (DiscountMath.DayCount) {
        return DiscountMath.toDayCount(code);
    }

    function daysBetween(uint256 start, uint256 end) external pure returns (uint256) {
        return DiscountMath.daysBetween(start, end);
    }

    function discountPrice(uint256 value, uint256 rateBps, uint256 daysToMaturity, uint8 dayCount)
        external
        pure
        returns (uint256 price, uint256 discount)
    {
        return DiscountMath.discountPrice(value, rateBps, daysToMaturity, DiscountMath.toDayCount(dayCount));
    }

    function proRata(uint256 value, uint256 paid, uint256 face) external pure returns (uint256) {
        return DiscountMath.proRata(value, paid, face);
    }
}

contract DiscountMathTest is Test {
    DiscountMathHarness internal m;

    function setUp() public {
        m = new DiscountMathHarness();
    }

    // ------------------------------------------------------------------ day counts

    function test_basis_is360Or365() public view {
        assertEq(m.basis(0), 360);
        assertEq(m.basis(1), 365);
        assertEq(uint8(m.toDayCount(0)), uint8(DiscountMath.DayCount.ACT_360));
        assertEq(uint8(m.toDayCount(1)), uint8(DiscountMath.DayCount.ACT_365F));
    }

    function test_RevertWhen_unknownDayCount() public {
        vm.expectRevert(abi.encodeWithSelector(DiscountMath.UnknownDayCount.selector, uint8(2)));
        m.toDayCount(2);
        vm.expectRevert(abi.encodeWithSelector(DiscountMath.UnknownDayCount.selector, uint8(255)));
        m.discountPrice(100, 1, 1, 255);
    }

    // ------------------------------------------------------------------ daysBetween

    function test_daysBetween_countsStartedDayAsWhole() public view {
        uint256 t = 1_750_000_000;
        assertEq(m.daysBetween(t, t + 1), 1);
        assertEq(m.daysBetween(t, t + 1 days - 1), 1);
        assertEq(m.daysBetween(t, t + 1 days), 1);
        assertEq(m.daysBetween(t, t + 1 days + 1), 2);
        assertEq(m.daysBetween(t, t + 180 days), 180);
        // 09:00 to midnight four days later: 3 days 15 hours count as 4.
        assertEq(m.daysBetween(t + 9 hours, t + 4 days), 4);
    }

    function test_daysBetween_zeroWhenEndNotAfterStart() public view {
        assertEq(m.daysBetween(100, 100), 0);
        assertEq(m.daysBetween(101, 100), 0);
        assertEq(m.daysBetween(type(uint256).max, 0), 0);
    }

    function testFuzz_daysBetween_isCeilOfSeconds(uint256 start, uint256 span) public view {
        start = bound(start, 0, type(uint64).max);
        span = bound(span, 0, 100 * 365 days);
        uint256 d = m.daysBetween(start, start + span);
        if (span == 0) {
            assertEq(d, 0);
        } else {
            // (d − 1) days < span ≤ d days
            assertLe(span, d * 1 days);
            assertGt(span, (d - 1) * 1 days);
        }
    }

    // ------------------------------------------------------------------ discountPrice

    function test_discountPrice_handComputedAct360() public view {
        // 1,000,000.00 CNY, 180 days at 4.50% ACT/360: 100000000 × 450 × 180 / 3,600,000 = 2,250,000.
        (uint256 price, uint256 discount) = m.discountPrice(100_000_000, 450, 180, 0);
        assertEq(discount, 2_250_000);
        assertEq(price, 97_750_000);
    }

    function test_discountPrice_handComputedAct365RoundsDiscountUp() public view {
        // 100000000 × 450 × 180 / 3,650,000 = 2,219,178.08… → price floor 97,780,821, discount 2,219,179.
        (uint256 price, uint256 discount) = m.discountPrice(100_000_000, 450, 180, 1);
        assertEq(price, 97_780_821);
        assertEq(discount, 2_219_179);
    }

    function test_discountPrice_zeroDaysIsPar() public view {
        (uint256 price, uint256 discount) = m.discountPrice(123_456, 900, 0, 1);
        assertEq(price, 123_456);
        assertEq(discount, 0);
    }

    function test_RevertWhen_discountReachesValue() public {
        // 10000 bps × 360 days = the whole ACT/360 denominator.
        vm.expectRevert(abi.encodeWithSelector(DiscountMath.DiscountExceedsValue.selector, 10_000, 360, 360));
        m.discountPrice(1_000, 10_000, 360, 0);
        vm.expectRevert(abi.encodeWithSelector(DiscountMath.DiscountExceedsValue.selector, 65_535, 3_650, 365));
        m.discountPrice(1_000, 65_535, 3_650, 1);
        // One day less is still a (tiny) positive price.
        (uint256 price,) = m.discountPrice(360_000, 10_000, 359, 0);
        assertEq(price, 1_000);
    }

    /// @dev Most (rate, days) pairs of the full domain discount more than the value; unless `anyDays`,
    ///      days are bounded to where a price exists so most runs check the rounding.
    function testFuzz_price_matchesExactRational(
        uint256 value,
        uint256 rateBps,
        uint256 daysToMaturity,
        bool act365,
        bool anyDays
    ) public view {
        value = bound(value, 0, 1e30);
        rateBps = bound(rateBps, 1, 65_535);
        uint8 dc = act365 ? 1 : 0;
        uint256 den = uint256(act365 ? 365 : 360) * 10_000;
        uint256 maxDays = anyDays ? 3_650 : _min(3_650, (den - 1) / rateBps);
        daysToMaturity = bound(daysToMaturity, 0, maxDays);
        _checkPrice(value, rateBps, daysToMaturity, dc, den);
    }

    function _checkPrice(uint256 value, uint256 rateBps, uint256 daysToMaturity, uint8 dc, uint256 den) private view {
        uint256 charge = rateBps * daysToMaturity;
        if (charge >= den) {
            try m.discountPrice(value, rateBps, daysToMaturity, dc) {
                revert("expected DiscountExceedsValue");
            } catch (bytes memory reason) {
                assertEq(bytes4(reason), DiscountMath.DiscountExceedsValue.selector);
            }
            return;
        }
        (uint256 price, uint256 discount) = m.discountPrice(value, rateBps, daysToMaturity, dc);
        // value ≤ 1e30 and den < 2^22: every product below fits in 256 bits exactly.
        uint256 exact = value * (den - charge);
        assertLe(price * den, exact, "price above the exact rational");
        assertLt(exact, (price + 1) * den, "price more than one unit below the exact rational");
        assertEq(discount, value - price);
        // The discount is the exact rational discount rounded up.
        assertEq(discount, (value * charge + den - 1) / den);
    }

    // ------------------------------------------------------------------ proRata

    function test_proRata_handComputed() public view {
        assertEq(m.proRata(333, 1_000, 1_000), 333); // repaid in full: value
        assertEq(m.proRata(333, 500, 1_000), 166); // 166.5 → 166
        assertEq(m.proRata(1, 999, 1_000), 0); // dust
        assertEq(m.proRata(0, 500, 1_000), 0);
    }

    function testFuzz_proRata_isFloor(uint256 value, uint256 paid, uint256 face) public view {
        face = bound(face, 1, type(uint128).max);
        value = bound(value, 0, face);
        paid = bound(paid, 0, face);
        uint256 p = m.proRata(value, paid, face);
        // Compare in 512 bits by splitting: floor(v·p/f) is the unique q with q·f ≤ v·p < (q+1)·f.
        (uint256 lhsHi, uint256 lhsLo) = _mul512(p, face);
        (uint256 vpHi, uint256 vpLo) = _mul512(value, paid);
        (uint256 rhsHi, uint256 rhsLo) = _mul512(p + 1, face);
        assertTrue(_le512(lhsHi, lhsLo, vpHi, vpLo), "proRata above exact share");
        assertTrue(_lt512(vpHi, vpLo, rhsHi, rhsLo), "proRata a unit or more below exact share");
        assertLe(p, value);
    }

    function testFuzz_proRata_sumOverSplitsNeverExceedsPaid(uint256 seed, uint256 face, uint256 paid, uint8 pieces)
        public
        view
    {
        face = bound(face, 1, 1e30);
        paid = bound(paid, 0, face);
        uint256 n = bound(pieces, 1, 40);
        uint256 remaining = face;
        uint256 total;
        for (uint256 i = 0; i < n; ++i) {
            uint256 v = i == n - 1 ? remaining : bound(uint256(keccak256(abi.encode(seed, i))), 0, remaining);
            remaining -= v;
            total += m.proRata(v, paid, face);
        }
        assertLe(total, paid);
        // Each piece loses less than one unit to rounding.
        assertGt(total + n, paid);
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }

    function _mul512(uint256 a, uint256 b) private pure returns (uint256 hi, uint256 lo) {
        unchecked {
            uint256 mm = mulmod(a, b, type(uint256).max);
            lo = a * b;
            hi = mm - lo - (mm < lo ? 1 : 0);
        }
    }

    function _le512(uint256 aHi, uint256 aLo, uint256 bHi, uint256 bLo) private pure returns (bool) {
        return aHi < bHi || (aHi == bHi && aLo <= bLo);
    }

    function _lt512(uint256 aHi, uint256 aLo, uint256 bHi, uint256 bLo) private pure returns (bool) {
        return aHi < bHi || (aHi == bHi && aLo < bLo);
    }
}
