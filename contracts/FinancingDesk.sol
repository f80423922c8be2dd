// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {IReceivableToken, IReceivableTokenBase} from "./interfaces/IReceivableToken.sol";
import {IRepaymentAccounts} from "./interfaces/IRepaymentAccounts.sol";
import {DiscountMath} from "./libraries/DiscountMath.sol";
import {Roles} from "./libraries/Roles.sol";
import {SettlementTransfer} from "./libraries/SettlementTransfer.sol";
import {IWiring, UpgradeGuard} from "./libraries/UpgradeGuard.sol";

/// @title FinancingDesk
/// @notice Banks buy receivables before maturity at a discount, delivery versus payment: when the holder
///         accepts an offer, the bank's settlement tokens go to the holder and the token (or the part
///         offered for) goes to the bank in the same transaction — both legs or neither.
/// @dev The price is fixed at acceptance from the days left to maturity (see `DiscountMath.discountPrice`
///      for the formula and its rounding). The bank funds by ERC-20 allowance to this desk; a missing
///      allowance or balance reverts the acceptance and nothing moves. The holder must receive the whole
///      price: a currency that delivers less is refused. Every state-changing function is `nonReentrant`.
///      Upgradeable (UUPS behind an ERC-1967 proxy): all state lives in one ERC-7201 namespace
///      (`FinancingDeskStorage`); the registry and the token are immutables of the implementation.
///      Pause: makeOffer and accept stop while `OP_FINANCING` is paused (checked in the same registry call as
///      the bank's role); cancelOffer never stops, so a bank can always withdraw. The token delivery of an
///      acceptance is a desk move: it follows `OP_FINANCING`, not `OP_MOVES`.
///      Recourse (追索): a financing accepted with recourse lets its bank open, once the obligation is
///      Defaulted, a claim on the seller for the shortfall (the offer's value less what the piece redeems);
///      the seller settles it in parts, the bank may waive it. openRecourse follows `OP_FINANCING`;
///      settleRecourse and waiveRecourse never stop (they only reduce what is owed).
contract FinancingDesk is Initializable, ReentrancyGuardTransient, UUPSUpgradeable {
    using SafeCast for uint256;

    enum OfferStatus {
        None,
        Open,
        Accepted,
        Cancelled
    }

    /// @notice States of a recourse claim (追索): none opened, open, partly settled (清偿 in part), settled in
    ///         full, or waived by the bank (放弃追索).
    enum RecourseState {
        None,
        Open,
        PartlySettled,
        Settled,
        Waived
    }

    /// @notice An offer of `bank` to buy `value` of `tokenId` at `rateBps` a year under `dayCount`.
    struct Offer {
        address bank;
        uint48 tokenId;
        uint16 rateBps;
        DiscountMath.DayCount dayCount;
        bool recourse;
        OfferStatus status;
        uint128 value;
        uint40 expiry;
        uint48 financedTokenId;
    }

    /// @notice A price breakdown, as `quote` returns it.
    struct Quote {
        uint256 value;
        uint256 daysToMaturity;
        uint256 rateBps;
        DiscountMath.DayCount dayCount;
        uint256 discount;
        uint256 price;
    }

    /// @notice The participant registry (a proxy): roles, status and the pause bits.
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    IParticipantRegistry public immutable participants;
    /// @notice The receivable token (a proxy) whose pieces banks buy.
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    IReceivableToken public immutable token;
    /// @notice The repayment desk (a proxy): what a defaulted obligation paid, for recourse claims.
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    IRepaymentAccounts public immutable repayments;

    /// @custom:storage-location erc7201:tierchain.storage.FinancingDesk
    struct FinancingDeskStorage {
        uint256 lastOfferId;
        mapping(uint256 offerId => Offer) offers;
        // 1.0.0 ends here; 中登网 registration numbers (appended).
        mapping(uint256 offerId => string) registrationNumbers;
        // Credit limits (授信) and what each bank has outstanding under them (appended).
        mapping(address bank => mapping(address counterparty => Limit)) obligorLimits;
        mapping(address bank => mapping(address counterparty => Limit)) sellerLimits;
        mapping(uint256 offerId => ExposureRecord) exposures;
        // Recourse (追索, appended): the seller of each financing accepted with recourse, and the claims.
        mapping(uint256 offerId => address) recourseSellers;
        mapping(uint256 offerId => RecourseRecord) recourseClaims;
    }

    /// @dev A recourse claim as stored: the shortfall, what the seller paid towards it, the slot's currency.
    struct RecourseRecord {
        uint128 shortfall;
        uint128 settled;
        address currency;
        uint64 slot;
        RecourseState state;
    }

    /// @notice A recourse claim of financing `offerId`'s bank on its seller, as `recourseClaim` returns it.
    ///         `remaining` is what the seller still owes (0 once settled or waived).
    struct RecourseClaim {
        RecourseState state;
        address bank;
        address seller;
        uint256 slot;
        address currency;
        uint256 shortfall;
        uint256 settled;
        uint256 remaining;
    }

    /// @notice A bank's credit limit on one counterparty (an obligor, or a seller) and its use: the face
    ///         value of pieces it financed that are still outstanding. `limit` 0 means none recorded.
    struct Limit {
        uint128 limit;
        uint128 used;
    }

    /// @notice What a financing counts against its bank's limits: its offer's value, on the obligation's
    ///         obligor and on the seller who accepted, each only where the bank keeps a limit (or still has
    ///         use outstanding under one); until released. All zero for a financing that counted nowhere.
    struct Exposure {
        address obligor;
        address seller;
        uint256 value;
        bool released;
        bool obligorCounted;
        bool sellerCounted;
    }

    /// @dev What is stored per financing that counted against a limit (the bank and the value are the
    ///      offer's); nothing is stored for one that counted nowhere, so banks without limits pay nothing.
    struct ExposureRecord {
        address obligor;
        bool released;
        bool obligorCounted;
        bool sellerCounted;
        address seller;
    }

    /// @notice The longest registration number accepted, in bytes.
    uint256 public constant MAX_REGISTRATION_NUMBER = 64;

    // keccak256(abi.encode(uint256(keccak256("tierchain.storage.FinancingDesk")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_SLOT = 0x98825a89019844ab466177a562e937ba556d94e95c77dec322e7e9117e7fa600;

    event OfferMade(
        uint256 indexed offerId,
        address indexed bank,
        uint256 indexed tokenId,
        uint256 value,
        uint256 rateBps,
        DiscountMath.DayCount dayCount,
        bool recourse,
        uint256 expiry
    );
    event OfferCancelled(uint256 indexed offerId, address indexed bank);
    /// @notice Offer `offerId` settled: `holder` sold `value` of `tokenId` to `bank`, which now holds
    ///         `financedTokenId`, for `price` (`discount` below value, `daysToMaturity` days at the offer's rate).
    event Financed(
        uint256 indexed offerId,
        uint256 indexed tokenId,
        address indexed bank,
        address holder,
        uint256 financedTokenId,
        uint256 value,
        uint256 price,
        uint256 discount,
        uint256 daysToMaturity
    );

    /// @notice The bank of financing `offerId` recorded `number`, the registration number 中登网
    ///         (动产融资统一登记公示系统) gave its accounts-receivable transfer registration; `previous` is the
    ///         number it replaces (empty the first time).
    event RegistrationRecorded(uint256 indexed offerId, address indexed bank, string number, string previous);

    /// @notice `bank` set its credit limit on `counterparty` (an obligor when `perObligor`, else a seller).
    event CreditLimitSet(address indexed bank, address indexed counterparty, bool perObligor, uint256 limit);
    /// @notice Financing `offerId` stopped counting against its bank's limits (its piece left the bank:
    ///         redeemed after repayment, or sold on). `seller` is zero when no limit on the seller counted it.
    event ExposureReleased(
        uint256 indexed offerId, address indexed bank, address obligor, address seller, uint256 value
    );
    /// @notice The bank of financing `offerId` opened a recourse claim (追索) on `seller` for `shortfall`, what
    ///         its piece of defaulted `slot` does not redeem.
    event RecourseOpened(
        uint256 indexed offerId, address indexed bank, address indexed seller, uint256 slot, uint256 shortfall
    );
    /// @notice `seller` paid `amount` towards the recourse claim of financing `offerId` (清偿); `remaining` is
    ///         still owed.
    event RecourseSettled(uint256 indexed offerId, address indexed seller, uint256 amount, uint256 remaining);
    /// @notice The bank of financing `offerId` waived its recourse claim (放弃追索), forgiving `remaining`.
    event RecourseWaived(uint256 indexed offerId, address indexed bank, uint256 remaining);

    /// @notice An offer for no value.
    error ZeroOfferValue();
    /// @notice An offer's rate is zero or above `maxRateBps`.
    error RateOutOfRange(uint256 rateBps, uint256 maxRateBps);
    /// @notice An offer whose expiry is not after the current block's time.
    error OfferExpiryPast(uint256 expiry, uint256 currentTime);
    /// @notice An offer for more than the token holds now.
    error OfferValueExceedsToken(uint256 tokenId, uint256 value, uint256 tokenValue);
    error UnknownOffer(uint256 offerId);
    error OfferNotOpen(uint256 offerId, OfferStatus status);
    error OfferExpired(uint256 offerId, uint256 expiry);
    error NotOfferBank(uint256 offerId, address account);
    error SelfFinancing(address account);
    /// @notice Offer `offerId` was not accepted: only a settled financing is registered.
    error NotFinanced(uint256 offerId, OfferStatus status);
    /// @notice A registration number that is empty or longer than `MAX_REGISTRATION_NUMBER` bytes.
    error InvalidRegistrationNumber(uint256 length, uint256 maxLength);
    /// @notice Accepting would take `bank`'s outstanding financed value on `counterparty` (an obligor when
    ///         `perObligor`, else a seller) to `wouldBe`, above its limit `limit` (授信额度).
    error CreditLimitExceeded(address bank, address counterparty, bool perObligor, uint256 limit, uint256 wouldBe);
    /// @notice A limit below what the bank already has outstanding on the counterparty.
    error LimitBelowUse(address counterparty, uint256 limit, uint256 used);
    /// @notice Financing `offerId` still counts: its bank still holds the financed piece (or it was released).
    error ExposureNotReleasable(uint256 offerId);
    /// @notice Financing `offerId` was not made with recourse (or was accepted before recourse was recorded):
    ///         nothing is claimable from its seller.
    error NoRecourse(uint256 offerId);
    /// @notice The obligation `slot` is not in default (`state` is its repayment state).
    error NotDefaulted(uint256 slot, IRepaymentAccounts.State state);
    /// @notice Financing `offerId` already has a recourse claim.
    error RecourseAlreadyOpen(uint256 offerId);
    /// @notice The bank no longer holds financed piece `tokenId` of financing `offerId` with its whole value:
    ///         a claim is opened before the piece is redeemed or sold on.
    error RecoursePieceNotHeld(uint256 offerId, uint256 tokenId);
    /// @notice The piece of financing `offerId` redeems its whole value: there is no shortfall to claim.
    error NoShortfall(uint256 offerId);
    /// @notice Financing `offerId` has no recourse claim that is open or partly settled (`state`).
    error RecourseNotOpen(uint256 offerId, RecourseState state);
    /// @notice Only the seller of financing `offerId` settles its recourse claim.
    error NotRecourseSeller(uint256 offerId, address account);
    /// @notice A recourse settlement of zero.
    error ZeroRecourseAmount();
    /// @notice A settlement of `amount` above the `remaining` of financing `offerId`'s recourse claim.
    error RecourseOverpayment(uint256 offerId, uint256 amount, uint256 remaining);
    /// @notice An upgrade to `newImplementation`, which is not wired to this desk's registry, token and
    ///         repayment desk.
    error UpgradeMiswired(address newImplementation);

    /// @notice The implementation: its immutables name the proxies it works with; only a proxy is initialized.
    /// @param registry The participant registry (proxy).
    /// @param receivables The receivable token (proxy).
    /// @param repaymentDesk The repayment desk (proxy).
    /// @custom:oz-upgrades-unsafe-allow constructor state-variable-immutable
    constructor(IParticipantRegistry registry, IReceivableToken receivables, IRepaymentAccounts repaymentDesk) {
        participants = registry;
        token = receivables;
        repayments = repaymentDesk;
        _disableInitializers();
    }

    /// @notice Initializes the proxy; the desk has no settings, so this only marks it initialized.
    function initialize() external initializer {}

    /// @notice The version of this implementation ("1.0.0").
    function version() external pure virtual returns (string memory) {
        return "1.0.0";
    }

    /// @notice The last offer id handed out (ids start at 1).
    function lastOfferId() external view returns (uint256) {
        return _s().lastOfferId;
    }

    /// @notice The bank offers to buy `value` of `tokenId` at `rateBps` a year, until `expiry`.
    /// @dev The value may not exceed what the token holds when the offer is made; the holder may still split
    ///      the token afterwards, so `accept` refuses an offer the token no longer covers (`InsufficientBalance`).
    /// @param dayCount 0 = ACT/360, 1 = ACT/365F.
    /// @param recourse True when the seller stays liable should the obligor default: the bank may then open a
    ///        recourse claim on the seller for the shortfall (`openRecourse`).
    function makeOffer(uint256 tokenId, uint256 value, uint256 rateBps, uint8 dayCount, bool recourse, uint256 expiry)
        external
        nonReentrant
        returns (uint256 offerId)
    {
        FinancingDeskStorage storage $ = _s();
        participants.checkOperation(Roles.OP_FINANCING, msg.sender, Roles.BANK);
        DiscountMath.DayCount dc = DiscountMath.toDayCount(dayCount);
        if (value == 0) revert ZeroOfferValue();
        if (rateBps == 0 || rateBps > type(uint16).max) revert RateOutOfRange(rateBps, type(uint16).max);
        if (expiry <= block.timestamp) revert OfferExpiryPast(expiry, block.timestamp);
        if (!token.exists(tokenId)) revert IReceivableTokenBase.NonexistentToken(tokenId);
        // The token may still shrink before acceptance (its holder splits it): `accept` checks again.
        uint256 tokenValue = token.balanceOf(tokenId);
        if (value > tokenValue) revert OfferValueExceedsToken(tokenId, value, tokenValue);
        offerId = ++$.lastOfferId;
        $.offers[offerId] = Offer({
            bank: msg.sender,
            tokenId: tokenId.toUint48(),
            rateBps: uint16(rateBps),
            dayCount: dc,
            recourse: recourse,
            status: OfferStatus.Open,
            value: value.toUint128(),
            expiry: expiry.toUint40(),
            financedTokenId: 0
        });
        emit OfferMade(offerId, msg.sender, tokenId, value, rateBps, dc, recourse, expiry);
    }

    /// @notice The bank withdraws its open offer.
    function cancelOffer(uint256 offerId) external nonReentrant {
        Offer storage o = _openOffer(offerId);
        _checkOfferBank(offerId, o.bank);
        o.status = OfferStatus.Cancelled;
        emit OfferCancelled(offerId, msg.sender);
    }

    /// @notice The holder of the offered token accepts: price to the holder, receivable to the bank.
    /// @return financedTokenId The token the bank now holds (the offered token itself if sold whole).
    function accept(uint256 offerId) external nonReentrant returns (uint256 financedTokenId) {
        Offer storage o = _openOffer(offerId);
        Offer memory accepted = o;
        if (accepted.expiry < block.timestamp) revert OfferExpired(offerId, accepted.expiry);
        if (accepted.bank == msg.sender) revert SelfFinancing(msg.sender);
        participants.checkOperation(Roles.OP_FINANCING, accepted.bank, Roles.BANK);

        IReceivableTokenBase.PieceTerms memory terms = token.pieceTerms(accepted.tokenId);
        Quote memory q = _quote(accepted.value, accepted.rateBps, accepted.dayCount, terms.maturity);

        o.status = OfferStatus.Accepted;
        // Only financings with recourse record their seller: the others pay nothing for it.
        if (accepted.recourse) _s().recourseSellers[offerId] = msg.sender;
        _countAgainstLimits(offerId, accepted.bank, terms.obligor, msg.sender, accepted.value);
        // Delivery: the token checks that the caller holds it, that it is not frozen or matured, and that
        // both parties are active holders. Payment: pulled from the bank. Either failing reverts both.
        financedTokenId = token.deskTransfer(msg.sender, accepted.tokenId, accepted.bank, accepted.value);
        o.financedTokenId = financedTokenId.toUint48();
        // The payer is the bank that made this offer (offers are created only by their bank, in makeOffer),
        // pulling no more than the price its own rate yields: see docs/slither-triage.md.
        // slither-disable-next-line arbitrary-send-erc20
        SettlementTransfer.pullExact(IERC20(terms.currency), accepted.bank, msg.sender, q.price);
        emit Financed(
            offerId,
            accepted.tokenId,
            accepted.bank,
            msg.sender,
            financedTokenId,
            q.value,
            q.price,
            q.discount,
            q.daysToMaturity
        );
    }

    /// @notice The bank records the registration number of financing `offerId` once it has registered the
    ///         transfer on 中登网 (银发〔2025〕77号 requires the registration); recording again corrects it.
    /// @dev Only the offer's bank, only for an accepted offer; never paused (a record, not a move).
    function recordRegistration(uint256 offerId, string calldata number) external {
        FinancingDeskStorage storage $ = _s();
        Offer storage o = $.offers[offerId];
        if (o.status == OfferStatus.None) revert UnknownOffer(offerId);
        _checkOfferBank(offerId, o.bank);
        if (o.status != OfferStatus.Accepted) revert NotFinanced(offerId, o.status);
        uint256 length = bytes(number).length;
        if (length == 0 || length > MAX_REGISTRATION_NUMBER) {
            revert InvalidRegistrationNumber(length, MAX_REGISTRATION_NUMBER);
        }
        string memory previous = $.registrationNumbers[offerId];
        $.registrationNumbers[offerId] = number;
        emit RegistrationRecorded(offerId, msg.sender, number, previous);
    }

    /// @notice The registration number recorded for financing `offerId` (empty until the bank records it).
    function registrationOf(uint256 offerId) external view returns (string memory) {
        return _s().registrationNumbers[offerId];
    }

    // ------------------------------------------------------------------ credit limits (授信)

    /// @notice The calling bank records its credit limit on `counterparty`: an obligor (core enterprise)
    ///         when `perObligor`, else a seller. `accept` refuses a financing that would take the bank's
    ///         outstanding financed value on either above its limit. 0 removes the limit (none recorded:
    ///         unlimited). A limit may not be set below what is outstanding now.
    /// @dev Use is counted from the first financing after a limit is set: financings accepted while the
    ///      bank kept no limit on a counterparty never count against one set later.
    function setCreditLimit(address counterparty, bool perObligor, uint256 limit) external {
        participants.checkActiveRole(msg.sender, Roles.BANK);
        if (counterparty == address(0)) revert IReceivableTokenBase.ZeroAddress("counterparty");
        Limit storage l =
            perObligor ? _s().obligorLimits[msg.sender][counterparty] : _s().sellerLimits[msg.sender][counterparty];
        if (limit != 0 && limit < l.used) revert LimitBelowUse(counterparty, limit, l.used);
        l.limit = limit.toUint128();
        emit CreditLimitSet(msg.sender, counterparty, perObligor, limit);
    }

    /// @notice `bank`'s limit on `counterparty` (obligor or seller) and its use.
    function creditLimit(address bank, address counterparty, bool perObligor) external view returns (Limit memory) {
        return perObligor ? _s().obligorLimits[bank][counterparty] : _s().sellerLimits[bank][counterparty];
    }

    /// @notice What financing `offerId` counts against its bank's limits.
    function exposureOf(uint256 offerId) external view returns (Exposure memory e) {
        FinancingDeskStorage storage $ = _s();
        ExposureRecord memory r = $.exposures[offerId];
        if (!r.obligorCounted && !r.sellerCounted) return e;
        e = Exposure(r.obligor, r.seller, $.offers[offerId].value, r.released, r.obligorCounted, r.sellerCounted);
    }

    /// @notice Frees financing `offerId`'s value from its bank's limits once the bank no longer holds the
    ///         financed piece: redeemed after the obligor repaid (repayment frees the limit), or sold on.
    ///         Anyone may call; the facts decide.
    function releaseExposure(uint256 offerId) external nonReentrant {
        FinancingDeskStorage storage $ = _s();
        ExposureRecord storage r = $.exposures[offerId];
        bool onObligor = r.obligorCounted;
        bool onSeller = r.sellerCounted;
        if ((!onObligor && !onSeller) || r.released) revert ExposureNotReleasable(offerId);
        Offer memory o = $.offers[offerId];
        uint256 piece = o.financedTokenId;
        if (token.exists(piece) && token.ownerOf(piece) == o.bank) revert ExposureNotReleasable(offerId);
        r.released = true;
        // Each was raised by exactly this value at acceptance, and only releases lower it.
        if (onObligor) $.obligorLimits[o.bank][r.obligor].used -= o.value;
        if (onSeller) $.sellerLimits[o.bank][r.seller].used -= o.value;
        emit ExposureReleased(offerId, o.bank, r.obligor, r.seller, o.value);
    }

    // ------------------------------------------------------------------ recourse (追索)

    /// @notice The bank of financing `offerId`, made with recourse, opens its claim on the seller once the
    ///         obligation is Defaulted: the shortfall is the offer's value less what that value redeems
    ///         (value × paid / face, rounded down, as `RepaymentDesk.redeem` pays).
    /// @dev Only the offer's bank, while it still holds the financed piece with at least the financed value:
    ///      open the claim first, then redeem the piece (the shortfall does not change: a defaulted slot's paid
    ///      is final). One claim per financing. Follows `OP_FINANCING` and needs the bank active.
    function openRecourse(uint256 offerId) external nonReentrant {
        FinancingDeskStorage storage $ = _s();
        Offer memory o = $.offers[offerId];
        if (o.status == OfferStatus.None) revert UnknownOffer(offerId);
        _checkOfferBank(offerId, o.bank);
        if (o.status != OfferStatus.Accepted) revert NotFinanced(offerId, o.status);
        address seller = $.recourseSellers[offerId];
        if (!o.recourse || seller == address(0)) revert NoRecourse(offerId);
        RecourseRecord storage c = $.recourseClaims[offerId];
        if (c.state != RecourseState.None) revert RecourseAlreadyOpen(offerId);
        participants.checkOperation(Roles.OP_FINANCING, msg.sender, Roles.BANK);
        uint256 piece = o.financedTokenId;
        if (!token.exists(piece) || token.ownerOf(piece) != msg.sender || token.balanceOf(piece) < o.value) {
            revert RecoursePieceNotHeld(offerId, piece);
        }
        uint256 slot = token.slotOf(piece);
        IRepaymentAccounts.Account memory a = repayments.account(slot);
        if (a.state != IRepaymentAccounts.State.Defaulted) revert NotDefaulted(slot, a.state);
        uint256 shortfall = o.value - DiscountMath.proRata(o.value, a.paid, a.face);
        if (shortfall == 0) revert NoShortfall(offerId);
        // shortfall <= value, a uint128.
        c.shortfall = uint128(shortfall);
        c.currency = a.currency;
        c.slot = slot.toUint64();
        c.state = RecourseState.Open;
        emit RecourseOpened(offerId, msg.sender, seller, slot, shortfall);
    }

    /// @notice The seller of financing `offerId` pays `amount` towards its recourse claim (清偿), from 1 up to
    ///         what remains; pulled from the seller to the bank in the obligation's currency, whole or not at
    ///         all. Paying what remains settles the claim.
    /// @dev Never paused and no status check: paying a debt is always possible. Needs the seller's allowance
    ///      to this desk. After a lost-key recovery the account the registry recovered the seller to pays in its
    ///      place, and a recovered bank is paid at the account it was recovered to (`currentAccount`). Likewise
    ///      every check that the caller is an offer's bank accepts the bank's recovered account.
    function settleRecourse(uint256 offerId, uint256 amount) external nonReentrant {
        FinancingDeskStorage storage $ = _s();
        RecourseRecord storage c = $.recourseClaims[offerId];
        RecourseRecord memory claim = c;
        if (claim.state != RecourseState.Open && claim.state != RecourseState.PartlySettled) {
            revert RecourseNotOpen(offerId, claim.state);
        }
        address seller = $.recourseSellers[offerId];
        if (seller != msg.sender && participants.currentAccount(seller) != msg.sender) {
            revert NotRecourseSeller(offerId, msg.sender);
        }
        if (amount == 0) revert ZeroRecourseAmount();
        uint256 remaining = uint256(claim.shortfall) - claim.settled;
        if (amount > remaining) revert RecourseOverpayment(offerId, amount, remaining);
        remaining -= amount;
        // settled + amount <= shortfall, a uint128.
        c.settled = uint128(claim.settled + amount);
        c.state = remaining == 0 ? RecourseState.Settled : RecourseState.PartlySettled;
        emit RecourseSettled(offerId, msg.sender, amount, remaining);
        // The payer is the seller recorded at acceptance (or the account its key was recovered to), who is the
        // caller; the receiver the offer's bank, or the account its key was recovered to.
        address bank = participants.currentAccount($.offers[offerId].bank);
        // slither-disable-next-line arbitrary-send-erc20
        SettlementTransfer.pullExact(IERC20(claim.currency), msg.sender, bank, amount);
    }

    /// @notice The bank of financing `offerId` waives its recourse claim (放弃追索): what remains is forgiven.
    /// @dev Only the offer's bank, while the claim is open or partly settled; never paused.
    function waiveRecourse(uint256 offerId) external nonReentrant {
        FinancingDeskStorage storage $ = _s();
        RecourseRecord storage c = $.recourseClaims[offerId];
        RecourseState state = c.state;
        if (state != RecourseState.Open && state != RecourseState.PartlySettled) {
            revert RecourseNotOpen(offerId, state);
        }
        _checkOfferBank(offerId, $.offers[offerId].bank);
        uint256 remaining = uint256(c.shortfall) - c.settled;
        c.state = RecourseState.Waived;
        emit RecourseWaived(offerId, msg.sender, remaining);
    }

    /// @notice The recourse claim of financing `offerId` (state None and the seller alone, or all zero, before
    ///         one is opened).
    function recourseClaim(uint256 offerId) external view returns (RecourseClaim memory r) {
        FinancingDeskStorage storage $ = _s();
        RecourseRecord memory c = $.recourseClaims[offerId];
        r.state = c.state;
        r.seller = $.recourseSellers[offerId];
        if (c.state == RecourseState.None) return r;
        r.bank = $.offers[offerId].bank;
        r.slot = c.slot;
        r.currency = c.currency;
        r.shortfall = c.shortfall;
        r.settled = c.settled;
        if (c.state != RecourseState.Waived) r.remaining = uint256(c.shortfall) - c.settled;
    }

    /// @notice The seller recorded for financing `offerId` when it was accepted with recourse (zero otherwise).
    function recourseSeller(uint256 offerId) external view returns (address) {
        return _s().recourseSellers[offerId];
    }

    /// @notice What `value` of a token maturing at `maturity` would cost today at `rateBps` under `dayCount`.
    function quote(uint256 value, uint256 rateBps, uint8 dayCount, uint256 maturity)
        external
        view
        returns (Quote memory)
    {
        return _quote(value, rateBps, DiscountMath.toDayCount(dayCount), maturity);
    }

    /// @notice The stored offer `offerId`.
    function offer(uint256 offerId) external view returns (Offer memory) {
        FinancingDeskStorage storage $ = _s();
        return $.offers[offerId];
    }

    /// @dev Counts `value` against the bank's limits on the obligor and on the seller (where it keeps one, or
    ///         still has use under one); refuses above either. Records what it counted, for the release.
    function _countAgainstLimits(uint256 offerId, address bank, address obligor, address seller, uint256 value)
        private
    {
        FinancingDeskStorage storage $ = _s();
        bool onObligor = _use($.obligorLimits[bank][obligor], bank, obligor, true, value);
        bool onSeller = _use($.sellerLimits[bank][seller], bank, seller, false, value);
        if (onObligor || onSeller) {
            $.exposures[offerId] = ExposureRecord(obligor, false, onObligor, onSeller, onSeller ? seller : address(0));
        }
    }

    function _use(Limit storage l, address bank, address counterparty, bool perObligor, uint256 value)
        private
        returns (bool counted)
    {
        Limit memory current = l;
        if (current.limit == 0 && current.used == 0) return false;
        uint256 wouldBe = uint256(current.used) + value;
        if (current.limit != 0 && wouldBe > current.limit) {
            revert CreditLimitExceeded(bank, counterparty, perObligor, current.limit, wouldBe);
        }
        l.used = wouldBe.toUint128();
        return true;
    }

    /// @dev Reverts unless the caller is `bank`, or the account the registry recovered `bank`'s lost key to
    ///      (`currentAccount`, asked on the refusal path only).
    function _checkOfferBank(uint256 offerId, address bank) private view {
        if (bank != msg.sender && participants.currentAccount(bank) != msg.sender) {
            revert NotOfferBank(offerId, msg.sender);
        }
    }

    function _openOffer(uint256 offerId) private view returns (Offer storage o) {
        FinancingDeskStorage storage $ = _s();
        o = $.offers[offerId];
        if (o.status == OfferStatus.None) revert UnknownOffer(offerId);
        if (o.status != OfferStatus.Open) revert OfferNotOpen(offerId, o.status);
    }

    function _quote(uint256 value, uint256 rateBps, DiscountMath.DayCount dayCount, uint256 maturity)
        private
        view
        returns (Quote memory q)
    {
        q.value = value;
        q.rateBps = rateBps;
        q.dayCount = dayCount;
        q.daysToMaturity = DiscountMath.daysBetween(block.timestamp, maturity);
        (q.price, q.discount) = DiscountMath.discountPrice(value, rateBps, q.daysToMaturity, dayCount);
    }

    /// @dev Only a holder of the registry's DEFAULT_ADMIN_ROLE (governance) upgrades, and only to an
    ///      implementation wired to the same registry, token and repayment desk.
    function _authorizeUpgrade(address newImplementation) internal view override {
        UpgradeGuard.checkAdmin(participants, msg.sender);
        if (
            UpgradeGuard.wiredTo(newImplementation, IWiring.participants.selector) != address(participants)
                || UpgradeGuard.wiredTo(newImplementation, IWiring.token.selector) != address(token)
                || UpgradeGuard.wiredTo(newImplementation, IWiring.repayments.selector) != address(repayments)
        ) revert UpgradeMiswired(newImplementation);
    }

    /// @dev The contract's ERC-7201 namespace (`tierchain.storage.FinancingDesk`), at `STORAGE_SLOT`.
    function _s() private pure returns (FinancingDeskStorage storage $) {
        assembly {
            $.slot := STORAGE_SLOT
        }
    }
}
