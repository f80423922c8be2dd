// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {IReceivableToken, IReceivableTokenBase} from "./interfaces/IReceivableToken.sol";
import {DiscountMath} from "./libraries/DiscountMath.sol";
import {Roles} from "./libraries/Roles.sol";
import {SettlementTransfer} from "./libraries/SettlementTransfer.sol";
import {IWiring, UpgradeGuard} from "./libraries/UpgradeGuard.sol";

/// @title RepaymentDesk
/// @notice The obligor pays an obligation's face into this desk (in parts if it likes); once the
///         obligation is settled — repaid in full, or declared in default after the grace period — each
///         holder pulls its share: value × paid / face. Pull, not push: a slot with 10,000 holders costs
///         each holder the same as a slot with 10.
/// @dev States per slot: Outstanding → (maturity passes unpaid) Overdue → Repaid or Defaulted. `Repaid` and
///      `Defaulted` are final and open redemption. Money is accounted to the unit: for every slot
///      paid = paidOut + held, and once every piece is redeemed the rounding dust (paid − paidOut) can be
///      swept to the obligor with an event, so nothing is lost or stranded.
///      Every state-changing function is `nonReentrant` (one guard for the whole desk) and writes its state
///      before it calls the currency, so a currency that calls back cannot see or record a half-made change.
///      Deposits must arrive whole: a currency that delivers less than the amount is refused.
///      Upgradeable (UUPS behind an ERC-1967 proxy): all state lives in one ERC-7201 namespace
///      (`RepaymentDeskStorage`); the registry, the token and the grace period (part of every obligation's
///      terms) are immutables of the implementation.
///      Pause: deposit stops while `OP_REPAYMENT` is paused (checked in the same registry call as the
///      obligor's role). Redemption, markOverdue, declareDefault and sweepDust never stop: a holder of a
///      settled obligation can always be paid. The burn of a redemption is a desk move, never `OP_MOVES`.
contract RepaymentDesk is Initializable, ReentrancyGuardTransient, UUPSUpgradeable {
    using SafeERC20 for IERC20;

    enum State {
        Outstanding,
        Overdue,
        Repaid,
        Defaulted
    }

    /// @notice Repayment accounting of one slot (minor units of the slot's currency).
    struct Account {
        uint128 paid;
        uint128 face;
        uint128 paidOut;
        uint128 redeemedValue;
        address currency;
        uint48 maturity;
        State state;
    }

    /// @notice The participant registry (a proxy): roles, status and the pause bits.
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    IParticipantRegistry public immutable participants;
    /// @notice The receivable token (a proxy) whose pieces this desk redeems.
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    IReceivableToken public immutable token;
    /// @notice Seconds after maturity before an unpaid obligation may be declared in default.
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    uint256 public immutable gracePeriod;

    /// @custom:storage-location erc7201:tierchain.storage.RepaymentDesk
    struct RepaymentDeskStorage {
        mapping(uint256 slot => Account) accounts;
    }

    // keccak256(abi.encode(uint256(keccak256("tierchain.storage.RepaymentDesk")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_SLOT = 0x7d9312913d928048e56651ff12b6d17383c3ee1a4d766195601d8557b8ee1600;

    event Deposited(uint256 indexed slot, address indexed obligor, uint256 amount, uint256 paidTotal);
    event ObligationOverdue(uint256 indexed slot, uint256 maturity, uint256 paid, uint256 face);
    event ObligationRepaid(uint256 indexed slot, uint256 face);
    event ObligationDefaulted(uint256 indexed slot, uint256 paid, uint256 face, address declaredBy);
    event Redeemed(
        uint256 indexed tokenId, uint256 indexed slot, address indexed holder, uint256 value, uint256 payout
    );
    event DustSwept(uint256 indexed slot, address indexed to, uint256 amount);

    error NotObligor(uint256 slot, address account);
    error ZeroAmount();
    error Overpayment(uint256 slot, uint256 excess);
    error SlotClosed(uint256 slot, State state);
    error NotSettled(uint256 slot, State state);
    error NotOverdue(uint256 slot);
    error GracePeriodRunning(uint256 slot, uint256 defaultableAt);
    error RedemptionsOutstanding(uint256 slot, uint256 redeemedValue, uint256 face);
    error NoDust(uint256 slot);
    /// @notice An upgrade to `newImplementation`, which is not wired to this desk's registry and token.
    error UpgradeMiswired(address newImplementation);

    /// @notice The implementation: its immutables name the proxies it works with and the grace period; only
    ///         a proxy is initialized.
    /// @param registry The participant registry (proxy).
    /// @param receivables The receivable token (proxy).
    /// @param gracePeriod_ Seconds after maturity before an unpaid obligation may be declared in default.
    /// @custom:oz-upgrades-unsafe-allow constructor state-variable-immutable
    constructor(IParticipantRegistry registry, IReceivableToken receivables, uint256 gracePeriod_) {
        participants = registry;
        token = receivables;
        gracePeriod = gracePeriod_;
        _disableInitializers();
    }

    /// @notice Initializes the proxy; the desk has no settings, so this only marks it initialized.
    function initialize() external initializer {}

    /// @notice The version of this implementation ("1.0.0").
    function version() external pure virtual returns (string memory) {
        return "1.0.0";
    }

    /// @notice The obligor pays `amount` towards `slot`, pulled from it in the slot's currency. After a lost-key
    ///         recovery, the account the registry recovered the obligor to pays in its place.
    /// @dev Early and partial payments are accepted; more than the outstanding amount is refused. The account
    ///      (paid, and `Repaid` when this pays the face) is written before the money is pulled, which must
    ///      arrive whole (`SettlementTransfer.TransferShortfall` otherwise).
    function deposit(uint256 slot, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Account storage a = _account(slot);
        State state = a.state;
        if (state == State.Repaid || state == State.Defaulted) revert SlotClosed(slot, state);
        address obligor = token.slotTerms(slot).obligor;
        // The obligor, or the account the registry recovered its lost key to (asked on the refusal path only).
        if (msg.sender != obligor && participants.currentAccount(obligor) != msg.sender) {
            revert NotObligor(slot, msg.sender);
        }
        participants.checkOperation(Roles.OP_REPAYMENT, msg.sender, Roles.CORE_ENTERPRISE);
        uint256 face = a.face;
        uint256 paid = uint256(a.paid) + amount;
        if (paid > face) revert Overpayment(slot, paid - face);
        // paid <= face, and face fits in uint128.
        a.paid = uint128(paid);
        emit Deposited(slot, msg.sender, amount, paid);
        if (paid == face) {
            a.state = State.Repaid;
            emit ObligationRepaid(slot, face);
        }
        SettlementTransfer.pullExact(IERC20(a.currency), msg.sender, address(this), amount);
    }

    /// @notice Records that `slot` passed maturity unpaid. Anyone may call; the facts decide.
    function markOverdue(uint256 slot) external nonReentrant {
        Account storage a = _account(slot);
        if (a.state != State.Outstanding || block.timestamp < a.maturity) revert NotOverdue(slot);
        a.state = State.Overdue;
        emit ObligationOverdue(slot, a.maturity, a.paid, a.face);
        _recordOverdue(slot);
    }

    /// @notice Declares `slot` in default once the grace period after maturity ended unpaid; what was paid
    ///         becomes final and redeemable pro rata. Anyone may call; the facts decide.
    function declareDefault(uint256 slot) external nonReentrant {
        Account storage a = _account(slot);
        State state = a.state;
        if (state == State.Repaid || state == State.Defaulted) revert SlotClosed(slot, state);
        uint256 defaultableAt = uint256(a.maturity) + gracePeriod;
        if (block.timestamp < defaultableAt) revert GracePeriodRunning(slot, defaultableAt);
        a.state = State.Defaulted;
        if (state == State.Outstanding) {
            emit ObligationOverdue(slot, a.maturity, a.paid, a.face);
            _recordOverdue(slot);
        }
        emit ObligationDefaulted(slot, a.paid, a.face, msg.sender);
    }

    /// @dev Every obligation that goes overdue counts once on its obligor's record in the registry
    ///      (three within the window suspend the obligor's issuance).
    function _recordOverdue(uint256 slot) private {
        participants.recordOverdue(token.slotTerms(slot).obligor, slot);
    }

    /// @notice The caller redeems its token `tokenId` after maturity of a settled slot, for
    ///         value × paid / face (rounded down; see `DiscountMath.proRata`). The token is burned.
    function redeem(uint256 tokenId) external nonReentrant returns (uint256 payout) {
        // `token` is the immutable ReceivableToken this desk was built with, and this function is
        // nonReentrant. The token answers the slot; a slot not settled reverts the whole redemption below.
        // See docs/slither-triage.md.
        // slither-disable-next-line reentrancy-no-eth
        (uint256 slot, uint256 value) = token.redeem(msg.sender, tokenId);
        Account storage a = _s().accounts[slot];
        State state = a.state;
        if (state != State.Repaid && state != State.Defaulted) revert NotSettled(slot, state);
        payout = state == State.Repaid ? value : DiscountMath.proRata(value, a.paid, a.face);
        // Σ payouts ≤ paid and Σ redeemed values ≤ face, both within uint128.
        unchecked {
            a.paidOut += uint128(payout);
            a.redeemedValue += uint128(value);
        }
        if (payout != 0) IERC20(a.currency).safeTransfer(msg.sender, payout);
        emit Redeemed(tokenId, slot, msg.sender, value, payout);
    }

    /// @notice Once every piece of `slot` is redeemed, returns the rounding dust to the obligor (or the account the
    ///         registry recovered it to).
    function sweepDust(uint256 slot) external nonReentrant {
        RepaymentDeskStorage storage $ = _s();
        Account storage a = $.accounts[slot];
        if (a.redeemedValue != a.face || a.face == 0) revert RedemptionsOutstanding(slot, a.redeemedValue, a.face);
        uint256 dust = uint256(a.paid) - a.paidOut;
        if (dust == 0) revert NoDust(slot);
        a.paidOut = a.paid;
        // To the obligor, or the account the registry recovered its lost key to.
        address obligor = participants.currentAccount(token.slotTerms(slot).obligor);
        IERC20(a.currency).safeTransfer(obligor, dust);
        emit DustSwept(slot, obligor, dust);
    }

    /// @notice The repayment account of `slot` (all zero before the first touch).
    function account(uint256 slot) external view returns (Account memory) {
        RepaymentDeskStorage storage $ = _s();
        return $.accounts[slot];
    }

    /// @notice What redeeming a piece of `value` in `slot` would pay now, if the slot were settled.
    function payoutFor(uint256 slot, uint256 value) external view returns (uint256) {
        RepaymentDeskStorage storage $ = _s();
        Account storage a = $.accounts[slot];
        return a.face == 0 ? 0 : DiscountMath.proRata(value, a.paid, a.face);
    }

    /// @dev Opens the slot's account from the token's terms on first use, so later calls read one place.
    function _account(uint256 slot) private returns (Account storage a) {
        RepaymentDeskStorage storage $ = _s();
        a = $.accounts[slot];
        if (a.face == 0) {
            IReceivableTokenBase.SlotTerms memory t = token.slotTerms(slot);
            a.face = t.face;
            a.currency = t.currency;
            a.maturity = t.maturity;
        }
    }

    /// @dev Only a holder of the registry's DEFAULT_ADMIN_ROLE (governance) upgrades, and only to an
    ///      implementation wired to the same registry and token.
    function _authorizeUpgrade(address newImplementation) internal view override {
        UpgradeGuard.checkAdmin(participants, msg.sender);
        if (
            UpgradeGuard.wiredTo(newImplementation, IWiring.participants.selector) != address(participants)
                || UpgradeGuard.wiredTo(newImplementation, IWiring.token.selector) != address(token)
        ) revert UpgradeMiswired(newImplementation);
    }

    /// @dev The contract's ERC-7201 namespace (`tierchain.storage.RepaymentDesk`), at `STORAGE_SLOT`.
    function _s() private pure returns (RepaymentDeskStorage storage $) {
        assembly {
            $.slot := STORAGE_SLOT
        }
    }
}
