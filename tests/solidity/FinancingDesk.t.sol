// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {World} from "./utils/World.sol";
import {FinancingDesk} from "../../contracts/FinancingDesk.sol";
import {DiscountMath} from "../../contracts/libraries/DiscountMath.sol";
import {SettlementTransfer} from "../../contracts/libraries/SettlementTransfer.sol";
import {CallbackCurrency, FeeOnTransferCurrency, HostileCurrencyWorld} from "./utils/HostileCurrencies.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IReceivableToken, IReceivableTokenBase} from "../../contracts/interfaces/IReceivableToken.sol";

contract FinancingDeskTest is World {
    uint256 internal constant FACE = 100_000_000; // 1,000,000.00 CNY
    uint256 internal constant RATE = 450; // 4.50% a year
    uint8 internal constant ACT_360 = 0;
    uint8 internal constant ACT_365F = 1;

    uint256 internal slot;
    uint256 internal root;
    uint256 internal maturity;

    function setUp() public {
        _deployWorld();
        (slot, root) = issueDefault(); // matures in exactly 180 days
        maturity = block.timestamp + 180 days;
        fund(bank1, 1_000_000_000);
        fund(bank2, 1_000_000_000);
    }

    // ------------------------------------------------------------------ makeOffer

    function test_makeOffer_storesAndEmits() public {
        uint256 expiry = block.timestamp + 1 days;
        vm.expectEmit(address(financing));
        emit FinancingDesk.OfferMade(1, bank1, root, FACE, RATE, DiscountMath.DayCount.ACT_365F, true, expiry);
        vm.prank(bank1);
        uint256 id = financing.makeOffer(root, FACE, RATE, ACT_365F, true, expiry);
        assertEq(id, 1);
        assertEq(financing.lastOfferId(), 1);
        FinancingDesk.Offer memory o = financing.offer(id);
        assertEq(o.bank, bank1);
        assertEq(o.tokenId, root);
        assertEq(o.rateBps, RATE);
        assertEq(uint8(o.dayCount), ACT_365F);
        assertTrue(o.recourse);
        assertEq(uint8(o.status), uint8(FinancingDesk.OfferStatus.Open));
        assertEq(o.value, FACE);
        assertEq(o.expiry, expiry);
        assertEq(o.financedTokenId, 0);
    }

    function test_RevertWhen_offerMadeByNonBank() public {
        vm.prank(supplier2);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.MissingRole.selector, supplier2, Roles.BANK));
        financing.makeOffer(root, FACE, RATE, ACT_360, false, block.timestamp + 1 days);
    }

    function test_RevertWhen_offerMadeBySuspendedBank() public {
        _suspend(bank1);
        vm.prank(bank1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, bank1));
        financing.makeOffer(root, FACE, RATE, ACT_360, false, block.timestamp + 1 days);
    }

    function _expectOfferRevert(uint256 value, uint256 rate, uint256 expiry, bytes memory reason) internal {
        vm.prank(bank1);
        vm.expectRevert(reason);
        financing.makeOffer(root, value, rate, ACT_360, false, expiry);
    }

    function test_RevertWhen_offerValueZero_namesTheValue() public {
        _expectOfferRevert(
            0, RATE, block.timestamp + 1 days, abi.encodeWithSelector(FinancingDesk.ZeroOfferValue.selector)
        );
    }

    function test_RevertWhen_offerRateOutOfRange_carriesRateAndMaximum() public {
        uint256 later = block.timestamp + 1 days;
        bytes4 sel = FinancingDesk.RateOutOfRange.selector;
        _expectOfferRevert(FACE, 0, later, abi.encodeWithSelector(sel, 0, 65_535));
        _expectOfferRevert(FACE, 65_536, later, abi.encodeWithSelector(sel, 65_536, 65_535));
    }

    function test_RevertWhen_offerExpiryNotInFuture_carriesExpiryAndNow() public {
        bytes4 sel = FinancingDesk.OfferExpiryPast.selector;
        uint256 now_ = block.timestamp;
        _expectOfferRevert(FACE, RATE, now_, abi.encodeWithSelector(sel, now_, now_));
        _expectOfferRevert(FACE, RATE, now_ - 1, abi.encodeWithSelector(sel, now_ - 1, now_));
    }

    function test_RevertWhen_offerValueExceedsTokenValue_atOfferTime() public {
        _expectOfferRevert(
            FACE + MIN_UNIT,
            RATE,
            block.timestamp + 1 days,
            abi.encodeWithSelector(FinancingDesk.OfferValueExceedsToken.selector, root, FACE + MIN_UNIT, FACE)
        );
    }

    function test_RevertWhen_offerUnknownDayCount() public {
        vm.prank(bank1);
        vm.expectRevert(abi.encodeWithSelector(DiscountMath.UnknownDayCount.selector, uint8(2)));
        financing.makeOffer(root, FACE, RATE, 2, false, block.timestamp + 1 days);
    }

    function test_RevertWhen_offerForNonexistentToken() public {
        vm.prank(bank1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, 99));
        financing.makeOffer(99, FACE, RATE, ACT_360, false, block.timestamp + 1 days);
    }

    // ------------------------------------------------------------------ quote

    function test_quote_act360HandComputed() public view {
        // discount = 100000000 × 450 × 180 / 3,600,000 = 2,250,000
        FinancingDesk.Quote memory q = financing.quote(FACE, RATE, ACT_360, maturity);
        assertEq(q.value, FACE);
        assertEq(q.daysToMaturity, 180);
        assertEq(q.rateBps, RATE);
        assertEq(uint8(q.dayCount), ACT_360);
        assertEq(q.discount, 2_250_000);
        assertEq(q.price, 97_750_000);
    }

    function test_quote_act365FHandComputed() public view {
        // discount = 100000000 × 450 × 180 / 3,650,000 = 2,219,178.08… → rounded up to 2,219,179
        FinancingDesk.Quote memory q = financing.quote(FACE, RATE, ACT_365F, maturity);
        assertEq(q.daysToMaturity, 180);
        assertEq(uint8(q.dayCount), ACT_365F);
        assertEq(q.discount, 2_219_179);
        assertEq(q.price, 97_780_821);
    }

    function test_quote_partDayCountsAsWholeDay() public {
        vm.warp(block.timestamp + 1 hours); // 179 days 23 hours left: still 180 days
        assertEq(financing.quote(FACE, RATE, ACT_360, maturity).daysToMaturity, 180);
        vm.warp(block.timestamp + 1 days); // 178 days 23 hours left
        assertEq(financing.quote(FACE, RATE, ACT_360, maturity).daysToMaturity, 179);
    }

    function test_RevertWhen_quoteUnknownDayCount() public {
        vm.expectRevert(abi.encodeWithSelector(DiscountMath.UnknownDayCount.selector, uint8(7)));
        financing.quote(FACE, RATE, 7, maturity);
    }

    // ------------------------------------------------------------------ accept

    function test_accept_wholeToken_paysHolderAndDeliversToken() public {
        uint256 id = makeOffer(bank1, root, FACE, RATE, ACT_360);
        uint256 bankBefore = cash.balanceOf(bank1);

        vm.expectEmit(address(financing));
        emit FinancingDesk.Financed(id, root, bank1, supplier1, root, FACE, 97_750_000, 2_250_000, 180);
        vm.prank(supplier1);
        uint256 financed = financing.accept(id);

        assertEq(financed, root);
        assertEq(token.ownerOf(root), bank1);
        assertEq(token.balanceOf(root), FACE);
        assertEq(cash.balanceOf(supplier1), 97_750_000);
        assertEq(cash.balanceOf(bank1), bankBefore - 97_750_000);
        assertEq(cash.balanceOf(address(financing)), 0);
        FinancingDesk.Offer memory o = financing.offer(id);
        assertEq(uint8(o.status), uint8(FinancingDesk.OfferStatus.Accepted));
        assertEq(o.financedTokenId, root);
    }

    function test_accept_partial_deliversNewPieceWhoseParentIsTheToken() public {
        uint256 id = makeOffer(bank1, root, 40_000_000, RATE, ACT_360);
        vm.prank(supplier1);
        uint256 piece = financing.accept(id);

        assertEq(piece, root + 1);
        assertEq(token.ownerOf(piece), bank1);
        assertEq(token.balanceOf(piece), 40_000_000);
        assertEq(token.parentOf(piece), root);
        assertEq(token.rootOf(piece), root);
        assertEq(token.slotOf(piece), slot);
        assertEq(token.ownerOf(root), supplier1);
        assertEq(token.balanceOf(root), 60_000_000);
        // 40,000,000 × (3,600,000 − 81,000) / 3,600,000 = 39,100,000
        assertEq(cash.balanceOf(supplier1), 39_100_000);
        assertEq(financing.offer(id).financedTokenId, piece);
    }

    function _assertNothingMoved(uint256 bankBalance) internal view {
        assertEq(token.ownerOf(root), supplier1);
        assertEq(token.balanceOf(root), FACE);
        assertEq(token.lastTokenId(), root);
        assertEq(cash.balanceOf(supplier1), 0);
        assertEq(cash.balanceOf(bank1), bankBalance);
    }

    function test_RevertWhen_bankGaveNoAllowance_nothingMoves() public {
        uint256 id = makeOffer(bank1, root, FACE, RATE, ACT_360);
        vm.prank(bank1);
        cash.approve(address(financing), 0);
        uint256 bankBalance = cash.balanceOf(bank1);

        vm.prank(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(financing), 0, 97_750_000)
        );
        financing.accept(id);
        _assertNothingMoved(bankBalance);
        assertEq(uint8(financing.offer(id).status), uint8(FinancingDesk.OfferStatus.Open));
    }

    function test_RevertWhen_bankLacksBalance_nothingMoves() public {
        uint256 id = makeOffer(bank1, root, 40_000_000, RATE, ACT_360);
        vm.startPrank(bank1);
        cash.transfer(bank2, cash.balanceOf(bank1) - 1_000);
        vm.stopPrank();

        vm.prank(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, bank1, 1_000, 39_100_000)
        );
        financing.accept(id);
        _assertNothingMoved(1_000);
    }

    function test_accept_atExpiryStillValid() public {
        uint256 id = makeOffer(bank1, root, FACE, RATE, ACT_360);
        vm.warp(block.timestamp + 1 days);
        vm.prank(supplier1);
        financing.accept(id);
        assertEq(token.ownerOf(root), bank1);
    }

    function test_RevertWhen_offerExpired() public {
        uint256 id = makeOffer(bank1, root, FACE, RATE, ACT_360);
        uint256 expiry = block.timestamp + 1 days;
        vm.warp(expiry + 1);
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.OfferExpired.selector, id, expiry));
        financing.accept(id);
    }

    function test_cancelOffer_emitsAndBlocksAcceptance() public {
        uint256 id = makeOffer(bank1, root, FACE, RATE, ACT_360);
        vm.expectEmit(address(financing));
        emit FinancingDesk.OfferCancelled(id, bank1);
        vm.prank(bank1);
        financing.cancelOffer(id);
        assertEq(uint8(financing.offer(id).status), uint8(FinancingDesk.OfferStatus.Cancelled));

        vm.prank(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(FinancingDesk.OfferNotOpen.selector, id, FinancingDesk.OfferStatus.Cancelled)
        );
        financing.accept(id);
    }

    function test_RevertWhen_cancelOfferByOtherBank() public {
        uint256 id = makeOffer(bank1, root, FACE, RATE, ACT_360);
        vm.prank(bank2);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.NotOfferBank.selector, id, bank2));
        financing.cancelOffer(id);
    }

    // ------------------------------------------------------------------ credit limits (授信)

    function test_obligorLimit_allowsUpToTheLimit_refusesBeyond() public {
        vm.expectEmit(address(financing));
        emit FinancingDesk.CreditLimitSet(bank1, core1, true, 10_000_000);
        vm.prank(bank1);
        financing.setCreditLimit(core1, true, 10_000_000);
        finance(bank1, root, 6_000_000, RATE, ACT_360);
        uint256 id = makeOffer(bank1, root, 5_000_000, RATE, ACT_360);
        vm.prank(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(
                FinancingDesk.CreditLimitExceeded.selector, bank1, core1, true, 10_000_000, 11_000_000
            )
        );
        financing.accept(id);
        // Exactly at the limit is allowed.
        finance(bank1, root, 4_000_000, RATE, ACT_360);
        FinancingDesk.Limit memory l = financing.creditLimit(bank1, core1, true);
        assertEq(l.limit, 10_000_000);
        assertEq(l.used, 10_000_000);
        // Another bank's limit is its own; a bank keeping none counts nothing (and stores nothing).
        (uint256 unlimited,) = finance(bank2, root, 5_000_000, RATE, ACT_360);
        assertEq(financing.creditLimit(bank2, core1, true).used, 0);
        assertFalse(financing.exposureOf(unlimited).obligorCounted);
    }

    function test_sellerLimit_countsPerSeller() public {
        vm.prank(bank1);
        financing.setCreditLimit(supplier1, false, 3_000_000);
        uint256 id = makeOffer(bank1, root, 3_000_100, RATE, ACT_360);
        vm.prank(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(
                FinancingDesk.CreditLimitExceeded.selector, bank1, supplier1, false, 3_000_000, 3_000_100
            )
        );
        financing.accept(id);
        finance(bank1, root, 3_000_000, RATE, ACT_360);
        assertEq(financing.creditLimit(bank1, supplier1, false).used, 3_000_000);
    }

    function test_RevertWhen_limitBelowUse_orByNonBank() public {
        vm.prank(bank1);
        financing.setCreditLimit(core1, true, 10_000_000);
        finance(bank1, root, 6_000_000, RATE, ACT_360);
        vm.prank(bank1);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.LimitBelowUse.selector, core1, 5_000_000, 6_000_000));
        financing.setCreditLimit(core1, true, 5_000_000);
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.MissingRole.selector, supplier1, Roles.BANK));
        financing.setCreditLimit(core1, true, 5_000_000);
        // Removing the limit (0) is always allowed; the use under it keeps counting until released.
        vm.prank(bank1);
        financing.setCreditLimit(core1, true, 0);
        finance(bank1, root, 1_000_000, RATE, ACT_360);
        assertEq(financing.creditLimit(bank1, core1, true).used, 7_000_000);
    }

    function test_repaymentFreesTheLimit_onceTheBankRedeems() public {
        vm.prank(bank1);
        financing.setCreditLimit(core1, true, 10_000_000);
        (uint256 offerId, uint256 piece) = finance(bank1, root, 10_000_000, RATE, ACT_360);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.ExposureNotReleasable.selector, offerId));
        financing.releaseExposure(offerId);
        repayInFull(slot);
        vm.warp(maturity);
        vm.prank(bank1);
        repayment.redeem(piece);
        vm.expectEmit(address(financing));
        // Only the obligor limit counted it (no limit on the seller): the event names no seller.
        emit FinancingDesk.ExposureReleased(offerId, bank1, core1, address(0), 10_000_000);
        financing.releaseExposure(offerId);
        assertEq(financing.creditLimit(bank1, core1, true).used, 0);
        assertEq(financing.creditLimit(bank1, supplier1, false).used, 0);
        assertTrue(financing.exposureOf(offerId).released);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.ExposureNotReleasable.selector, offerId));
        financing.releaseExposure(offerId);
        // The freed limit finances again.
        (, uint256 again) = issue(supplier1, core1, 10_000_000, block.timestamp + 90 days, MIN_UNIT);
        finance(bank1, again, 10_000_000, RATE, ACT_360);
    }

    // ------------------------------------------------------------------ 中登网 registration number

    function test_recordRegistration_byTheBank_andCorrected() public {
        (uint256 id,) = finance(bank1, root, 10_000_000, RATE, ACT_360);
        assertEq(financing.registrationOf(id), "");
        vm.expectEmit(address(financing));
        emit FinancingDesk.RegistrationRecorded(id, bank1, "04487955000012345678", "");
        vm.prank(bank1);
        financing.recordRegistration(id, "04487955000012345678");
        assertEq(financing.registrationOf(id), "04487955000012345678");
        vm.expectEmit(address(financing));
        emit FinancingDesk.RegistrationRecorded(id, bank1, "04487955000012345679", "04487955000012345678");
        vm.prank(bank1);
        financing.recordRegistration(id, "04487955000012345679");
        assertEq(financing.registrationOf(id), "04487955000012345679");
    }

    function test_RevertWhen_recordRegistrationWrongly() public {
        uint256 open = makeOffer(bank1, root, 10_000_000, RATE, ACT_360);
        vm.prank(bank1);
        vm.expectRevert(
            abi.encodeWithSelector(FinancingDesk.NotFinanced.selector, open, FinancingDesk.OfferStatus.Open)
        );
        financing.recordRegistration(open, "0448");
        vm.prank(supplier1);
        financing.accept(open);
        vm.prank(bank2);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.NotOfferBank.selector, open, bank2));
        financing.recordRegistration(open, "0448");
        vm.startPrank(bank1);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.InvalidRegistrationNumber.selector, 0, 64));
        financing.recordRegistration(open, "");
        string memory tooLong = string(new bytes(65));
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.InvalidRegistrationNumber.selector, 65, 64));
        financing.recordRegistration(open, tooLong);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.UnknownOffer.selector, 99));
        financing.recordRegistration(99, "0448");
        vm.stopPrank();
    }

    function test_RevertWhen_offerUnknown() public {
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.UnknownOffer.selector, 5));
        financing.accept(5);
        vm.prank(bank1);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.UnknownOffer.selector, 5));
        financing.cancelOffer(5);
    }

    function test_RevertWhen_offerAcceptedTwice() public {
        uint256 id = makeOffer(bank1, root, 10_000_000, RATE, ACT_360);
        vm.prank(supplier1);
        financing.accept(id);
        vm.prank(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(FinancingDesk.OfferNotOpen.selector, id, FinancingDesk.OfferStatus.Accepted)
        );
        financing.accept(id);
    }

    function test_RevertWhen_nonHolderAccepts() public {
        uint256 id = makeOffer(bank1, root, FACE, RATE, ACT_360);
        vm.prank(supplier2);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.IncorrectOwner.selector, supplier2, root, supplier1)
        );
        financing.accept(id);
    }

    function test_RevertWhen_acceptFrozenToken() public {
        uint256 id = makeOffer(bank1, root, FACE, RATE, ACT_360);
        vm.prank(regulator);
        token.freeze(root, 1);
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenFrozen.selector, root));
        financing.accept(id);
    }

    function test_RevertWhen_acceptMaturedToken() public {
        vm.prank(bank1);
        uint256 id = financing.makeOffer(root, FACE, RATE, ACT_360, false, maturity + 1 days);
        vm.warp(maturity);
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.ObligationMatured.selector, slot, maturity));
        financing.accept(id);
    }

    function test_RevertWhen_selfFinancing() public {
        (, uint256 held) = finance(bank1, root, 10_000_000, RATE, ACT_360);
        uint256 id = makeOffer(bank1, held, 10_000_000, RATE, ACT_360);
        vm.prank(bank1);
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.SelfFinancing.selector, bank1));
        financing.accept(id);
    }

    function test_RevertWhen_bankSuspendedAfterOffering() public {
        uint256 id = makeOffer(bank1, root, FACE, RATE, ACT_360);
        _suspend(bank1);
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, bank1));
        financing.accept(id);
    }

    function test_RevertWhen_holderSuspendedBeforeAccepting() public {
        uint256 id = makeOffer(bank1, root, FACE, RATE, ACT_360);
        _suspend(supplier1);
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, supplier1));
        financing.accept(id);
    }

    function test_RevertWhen_tokenShrankBelowOfferBeforeAccept() public {
        // The offer fitted when made; the holder split part of the token away before accepting.
        uint256 id = makeOffer(bank1, root, FACE, RATE, ACT_360);
        vm.prank(supplier1);
        token.transferFrom(root, supplier2, MIN_UNIT);
        vm.prank(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.InsufficientBalance.selector, root, FACE - MIN_UNIT, FACE)
        );
        financing.accept(id);
    }

    function test_RevertWhen_offerValueNotMultipleOfMinUnit() public {
        uint256 id = makeOffer(bank1, root, 150, RATE, ACT_360);
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotMultipleOfMinUnit.selector, 150, MIN_UNIT));
        financing.accept(id);
    }

    function test_RevertWhen_rateDiscountsWholeValue() public {
        // 65,535 bps × 180 days ≥ 360 × 10,000
        uint256 id = makeOffer(bank1, root, FACE, 65_535, ACT_360);
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(DiscountMath.DiscountExceedsValue.selector, 65_535, 180, 360));
        financing.accept(id);
    }

    function test_accept_offerFollowsTokenToNewHolder() public {
        // The offer names the token, not the holder: after a whole transfer the new holder may accept.
        uint256 id = makeOffer(bank1, root, FACE, RATE, ACT_360);
        vm.prank(supplier1);
        token.transferFrom(supplier1, supplier2, root);
        vm.prank(supplier2);
        financing.accept(id);
        assertEq(token.ownerOf(root), bank1);
        assertEq(cash.balanceOf(supplier2), 97_750_000);
    }

    function testFuzz_accept_holderReceivesExactlyTheQuote(uint256 units, uint256 rate, uint256 elapsed, bool act365)
        public
    {
        units = bound(units, 1, FACE / MIN_UNIT);
        rate = bound(rate, 1, 15_000); // 15,000 bps × 180 days stays below 360 × 10,000
        elapsed = bound(elapsed, 0, 180 days - 1);
        vm.warp(block.timestamp + elapsed);
        uint8 dc = act365 ? ACT_365F : ACT_360;
        uint256 value = units * MIN_UNIT;
        FinancingDesk.Quote memory q = financing.quote(value, rate, dc, maturity);
        uint256 bankBefore = cash.balanceOf(bank1);

        (, uint256 financed) = finance(bank1, root, value, rate, dc);

        assertEq(q.price + q.discount, value);
        assertEq(cash.balanceOf(supplier1), q.price);
        assertEq(bankBefore - cash.balanceOf(bank1), q.price);
        assertEq(token.balanceOf(financed), value);
        assertEq(token.balanceOf(root) + (financed == root ? 0 : token.balanceOf(financed)), FACE);
    }
}

/// @notice Currencies that call back into the desk while paying, or deliver less than the price.
contract FinancingDeskHostileCurrencyTest is HostileCurrencyWorld {
    uint256 internal constant FACE = 100_000_000;
    uint256 internal constant RATE = 450;
    uint256 internal constant PRICE = 97_750_000; // FACE at 4.50% ACT/360 for 180 days

    function _issueAndOffer(bytes3 code, address currency) internal returns (uint256 root, uint256 offerId) {
        (, root) = issueIn(code, currency, supplier1, core1, FACE, block.timestamp + 180 days);
        offerId = makeOffer(bank1, root, FACE, RATE, 0);
    }

    function setUp() public {
        _deployWorld();
    }

    function test_RevertWhen_acceptCurrencyDeliversLessThanThePrice() public {
        FeeOnTransferCurrency fee = new FeeOnTransferCurrency(100); // keeps 1%
        (uint256 root, uint256 offerId) = _issueAndOffer("FEE", address(fee));
        fee.mint(bank1, FACE);
        vm.prank(bank1);
        fee.approve(address(financing), type(uint256).max);

        vm.prank(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(
                SettlementTransfer.TransferShortfall.selector, address(fee), PRICE, PRICE - PRICE / 100
            )
        );
        financing.accept(offerId);
        assertEq(token.ownerOf(root), supplier1);
        assertEq(fee.balanceOf(supplier1), 0);
        assertEq(uint8(financing.offer(offerId).status), uint8(FinancingDesk.OfferStatus.Open));
    }

    function test_acceptCannotBeReenteredFromTheCurrencyCallback() public {
        CallbackCurrency callback = new CallbackCurrency();
        (uint256 root, uint256 offerId) = _issueAndOffer("CBK", address(callback));
        uint256 second = makeOffer(bank2, root, FACE, RATE, 0);
        callback.mint(bank1, FACE);
        vm.prank(bank1);
        callback.approve(address(financing), type(uint256).max);

        // While paying for the first sale, the currency tries to sell the same token again to bank2.
        callback.arm(address(financing), abi.encodeCall(FinancingDesk.accept, (second)));
        vm.prank(supplier1);
        financing.accept(offerId);

        assertFalse(callback.hookSucceeded());
        assertEq(callback.hookReturnData(), abi.encodeWithSignature("ReentrancyGuardReentrantCall()"));
        assertEq(token.ownerOf(root), bank1);
        assertEq(uint8(financing.offer(second).status), uint8(FinancingDesk.OfferStatus.Open));
    }
}
