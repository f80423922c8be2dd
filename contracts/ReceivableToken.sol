// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {ERC721Utils} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {IERC721} from "@solvprotocol/erc-3525/IERC721.sol";
import {IERC3525} from "@solvprotocol/erc-3525/IERC3525.sol";
import {IERC3525Receiver} from "@solvprotocol/erc-3525/IERC3525Receiver.sol";
import {IERC721Metadata} from "@solvprotocol/erc-3525/extensions/IERC721Metadata.sol";
import {IERC3525Metadata} from "@solvprotocol/erc-3525/extensions/IERC3525Metadata.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {IReceivableToken} from "./interfaces/IReceivableToken.sol";
import {Roles} from "./libraries/Roles.sol";
import {IWiring, UpgradeGuard} from "./libraries/UpgradeGuard.sol";

/// @title ReceivableToken
/// @notice ERC-3525 semi-fungible receivables. A slot is one confirmed obligation (obligor, settlement
///         currency, face, maturity, minimum unit); a token is a piece of it. Holders split pieces off to pay
///         their own suppliers, merge pieces of the same slot, and move whole tokens as ERC-721s. Every
///         piece remembers its parent, so the chain of splits back to the issued token is on-chain.
/// @dev Storage is packed for the hot paths: a token is two slots (`TokenCore`: owner, slot, frozen flag,
///      approval epoch; `TokenValue`: value, parent, depth, slot), an obligation three, of which the
///      one every move reads holds both rules it needs (maturity and minimum unit). A minimum unit is
///      therefore at most 2^48 − 1 minor units (2.8 trillion in a 2-decimal currency).
///      Approvals are never cleared by writing zero: each ERC-721 and value approval records the token's
///      approval epoch, and moving the whole token bumps the epoch, which voids them all at no extra cost.
///      Mutation paths: `_moveValue` is the only code that changes a token's value, `_moveToken` the only
///      code that changes an owner, `_createToken`/`_burn` the only code that creates or destroys tokens.
///      The rules (frozen, matured, minimum unit, active participants) are applied by `_checkPolicy` and
///      `participants.checkMove`/`checkHolders` before any of them runs.
///      Re-entrancy: every state-changing function holds one token-wide guard (transient storage) for its
///      whole run, and receiver callbacks (`onERC3525Received`, `onERC721Received`) run last, after every
///      state change, while the guard is held: a callback cannot re-enter any mutator, directly or
///      through a desk. A batch split makes all its pieces before it calls the first receiver.
///      Upgradeable (UUPS behind an ERC-1967 proxy): all state lives in one ERC-7201 namespace
///      (`ReceivableTokenStorage`); the registry and the value decimals are immutables of the implementation.
///      Pause: holder-initiated moves (transfers, splits, merges) stop while `OP_MOVES` is paused; desk
///      moves follow their desk's bit, and redemption, freezes and court orders are never paused.
contract ReceivableToken is Initializable, UUPSUpgradeable, IReceivableToken, ReentrancyGuardTransient {
    using SafeCast for uint256;
    using Strings for uint256;

    struct TokenCore {
        address owner;
        uint48 slot;
        bool frozen;
        uint40 epoch;
    }

    struct TokenValue {
        uint128 value;
        uint48 parent;
        uint16 depth;
        uint48 slot;
    }

    /// @dev Everything a move checks (maturity, minimum unit) sits in this one slot.
    struct SlotHead {
        address obligor;
        uint48 maturity;
        uint48 minUnit;
    }

    struct SlotMoney {
        address currency;
        uint48 rootTokenId;
    }

    struct SlotSupply {
        uint128 face;
        uint128 supply;
    }

    struct TokenApproval {
        address approved;
        uint40 epoch;
    }

    /// @dev A pending move as stored: one slot. Its sender is the piece's owner while it pends.
    struct PendingRecord {
        address to;
        uint48 source;
        uint40 expiry;
    }

    struct ValueAllowance {
        uint216 amount;
        uint40 epoch;
    }

    /// @dev A stored allowance of this amount is unlimited; `allowance()` reports it as `type(uint256).max`.
    uint216 private constant UNLIMITED = type(uint216).max;

    uint256 private constant CHECK_FROZEN = 1;
    uint256 private constant CHECK_LIVE = 2;
    uint256 private constant CHECK_UNIT = 4;
    uint256 private constant CHECK_PARTIES = 8;
    uint256 private constant CHECK_ALL = 15;

    /// @dev Holder-initiated moves also check that moves are not paused (`OP_MOVES`), in the same registry
    ///      call as the holders (`checkMove`); desk and enforcement moves do not.
    uint256 private constant CHECK_OPEN = 16;
    uint256 private constant HOLDER_MOVE = CHECK_ALL | CHECK_OPEN;
    /// @dev A payment (holder split or whole transfer, a trade-backed desk payment) pends in bill mode.
    uint256 private constant PEND = 32;

    /// @dev Bill mode flags ride in the two top bits of a token's approval epoch, which the move paths load
    ///      anyway: `BILL` (the piece's obligation settles in bill mode, inherited at split) and `LOCKED` (the
    ///      piece is pending acceptance). Epochs count up from the flags and never reach bit 38, so the flags
    ///      survive every bump; setting or clearing `LOCKED` also bumps the epoch, voiding every approval.
    uint40 private constant BILL = uint40(1) << 39;
    uint40 private constant LOCKED = uint40(1) << 38;

    /// @inheritdoc IReceivableToken
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    IParticipantRegistry public immutable participants;
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    uint8 private immutable _valueDecimals;

    /// @custom:storage-location erc7201:tierchain.storage.ReceivableToken
    struct ReceivableTokenStorage {
        uint48 lastTokenId;
        uint48 lastSlot;
        string name;
        string symbol;
        string baseURI;
        mapping(uint256 tokenId => TokenCore) cores;
        mapping(uint256 tokenId => TokenValue) values;
        mapping(address owner => uint256) balances;
        mapping(uint256 tokenId => TokenApproval) tokenApprovals;
        mapping(address owner => mapping(address operator => bool)) operatorApprovals;
        mapping(uint256 tokenId => mapping(address operator => ValueAllowance)) valueAllowances;
        mapping(uint256 slot => SlotHead) heads;
        mapping(uint256 slot => SlotMoney) money;
        mapping(uint256 slot => SlotSupply) supplies;
        // Bill mode (appended): the acceptance window of a bill-mode obligation (0: voucher mode) and the
        // pending moves.
        mapping(uint256 slot => uint32 acceptanceWindow) billWindows;
        mapping(uint256 tokenId => PendingRecord) pendingMoves;
    }

    // keccak256(abi.encode(uint256(keccak256("tierchain.storage.ReceivableToken")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_SLOT = 0x0dfd51ff811f30f31e2be76ec4335e38faa8280a580898e835c78bee5ce95400;

    /// @notice The implementation: its immutables name the registry proxy and the value decimals; it cannot
    ///         be initialized itself, only a proxy pointing at it can.
    /// @param registry Participant registry (proxy): holder checks, the pause bits and every role.
    /// @param valueDecimals_ Decimals of values for display: values are minor units (2 for CNY, USD, EUR).
    /// @custom:oz-upgrades-unsafe-allow constructor state-variable-immutable
    constructor(IParticipantRegistry registry, uint8 valueDecimals_) {
        participants = registry;
        _valueDecimals = valueDecimals_;
        _disableInitializers();
    }

    /// @notice Initializes the proxy with the ERC-721 name and symbol.
    /// @param name_ ERC-721 name.
    /// @param symbol_ ERC-721 symbol.
    function initialize(string calldata name_, string calldata symbol_) external initializer {
        ReceivableTokenStorage storage $ = _s();
        $.name = name_;
        $.symbol = symbol_;
    }

    /// @inheritdoc IReceivableToken
    function version() external pure virtual returns (string memory) {
        return "1.0.0";
    }

    /// @dev The check lives in a function so that each use of the modifier does not inline the registry call.
    modifier onlyRole(bytes32 role) {
        _checkRole(role);
        _;
    }

    modifier noEther() {
        if (msg.value != 0) revert NoEtherAccepted();
        _;
    }

    // ------------------------------------------------------------------ ERC-165 and metadata

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IERC721).interfaceId
            || interfaceId == type(IERC3525).interfaceId || interfaceId == type(IERC721Metadata).interfaceId
            || interfaceId == type(IERC3525Metadata).interfaceId;
    }

    /// @inheritdoc IERC721Metadata
    function name() external view returns (string memory) {
        ReceivableTokenStorage storage $ = _s();
        return $.name;
    }

    /// @inheritdoc IERC721Metadata
    function symbol() external view returns (string memory) {
        ReceivableTokenStorage storage $ = _s();
        return $.symbol;
    }

    /// @inheritdoc IERC721Metadata
    /// @dev `<baseURI>token/<id>`, or empty while no base URI is set.
    function tokenURI(uint256 tokenId) external view returns (string memory) {
        ReceivableTokenStorage storage $ = _s();
        _requireCore(tokenId);
        return bytes($.baseURI).length == 0 ? "" : string.concat($.baseURI, "token/", tokenId.toString());
    }

    /// @inheritdoc IERC3525Metadata
    function contractURI() external view returns (string memory) {
        ReceivableTokenStorage storage $ = _s();
        return bytes($.baseURI).length == 0 ? "" : string.concat($.baseURI, "contract");
    }

    /// @inheritdoc IERC3525Metadata
    function slotURI(uint256 slot) external view returns (string memory) {
        ReceivableTokenStorage storage $ = _s();
        return bytes($.baseURI).length == 0 ? "" : string.concat($.baseURI, "slot/", slot.toString());
    }

    /// @notice Sets the metadata base URI (for example the API's `/v1/metadata/`). POLICY (governance) only.
    function setBaseURI(string calldata baseURI_) external nonReentrant onlyRole(Roles.POLICY) {
        ReceivableTokenStorage storage $ = _s();
        $.baseURI = baseURI_;
        emit BaseURIChanged(baseURI_);
    }

    /// @inheritdoc IERC3525
    function valueDecimals() external view returns (uint8) {
        return _valueDecimals;
    }

    // ------------------------------------------------------------------ ERC-721 views

    /// @inheritdoc IERC721
    function balanceOf(address owner) external view returns (uint256) {
        ReceivableTokenStorage storage $ = _s();
        if (owner == address(0)) revert InvalidOwner(owner);
        return $.balances[owner];
    }

    /// @inheritdoc IERC721
    function ownerOf(uint256 tokenId) external view returns (address) {
        return _requireCore(tokenId).owner;
    }

    /// @inheritdoc IERC721
    function getApproved(uint256 tokenId) external view returns (address) {
        return _approvedOf(tokenId, _requireCore(tokenId));
    }

    /// @inheritdoc IERC721
    function isApprovedForAll(address owner, address operator) external view returns (bool) {
        ReceivableTokenStorage storage $ = _s();
        return $.operatorApprovals[owner][operator];
    }

    // ------------------------------------------------------------------ ERC-3525 views

    /// @inheritdoc IERC3525
    function balanceOf(uint256 tokenId) external view returns (uint256) {
        ReceivableTokenStorage storage $ = _s();
        _requireCore(tokenId);
        return $.values[tokenId].value;
    }

    /// @inheritdoc IERC3525
    function slotOf(uint256 tokenId) external view returns (uint256) {
        return _requireCore(tokenId).slot;
    }

    /// @inheritdoc IERC3525
    /// @dev An unlimited allowance (approved at 2^216 − 1 or more) reads as `type(uint256).max`.
    function allowance(uint256 tokenId, address operator) external view returns (uint256) {
        ReceivableTokenStorage storage $ = _s();
        TokenCore memory c = _requireCore(tokenId);
        ValueAllowance memory a = $.valueAllowances[tokenId][operator];
        if (a.epoch != c.epoch) return 0;
        return a.amount == UNLIMITED ? type(uint256).max : a.amount;
    }

    // ------------------------------------------------------------------ approvals

    /// @inheritdoc IERC721
    function approve(address to, uint256 tokenId) external payable noEther nonReentrant {
        ReceivableTokenStorage storage $ = _s();
        TokenCore memory c = _requireCore(tokenId);
        if (msg.sender != c.owner && !$.operatorApprovals[c.owner][msg.sender]) {
            revert InsufficientApproval(msg.sender, tokenId);
        }
        $.tokenApprovals[tokenId] = TokenApproval(to, c.epoch);
        emit Approval(c.owner, to, tokenId);
    }

    /// @inheritdoc IERC721
    function setApprovalForAll(address operator, bool approved) external nonReentrant {
        ReceivableTokenStorage storage $ = _s();
        if (operator == address(0) || operator == msg.sender) revert SelfApproval(operator);
        $.operatorApprovals[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    /// @inheritdoc IERC3525
    /// @dev An allowance of 2^216 − 1 or more is unlimited: it is stored as 2^216 − 1, never decreases, and
    ///      both the event and `allowance()` report it as `type(uint256).max`, so state and events agree.
    function approve(uint256 tokenId, address operator, uint256 value) external payable noEther nonReentrant {
        ReceivableTokenStorage storage $ = _s();
        TokenCore memory c = _requireCore(tokenId);
        if (!_isApprovedOrOwner(msg.sender, tokenId, c)) revert InsufficientApproval(msg.sender, tokenId);
        if (operator == c.owner || operator == address(0)) revert SelfApproval(operator);
        uint216 amount = value >= UNLIMITED ? UNLIMITED : uint216(value);
        $.valueAllowances[tokenId][operator] = ValueAllowance(amount, c.epoch);
        emit ApprovalValue(tokenId, operator, amount == UNLIMITED ? type(uint256).max : value);
    }

    // ------------------------------------------------------------------ transfers

    /// @inheritdoc IERC3525
    /// @dev Split: a new piece of the same slot for `to`, whose parent is `fromTokenId`. In bill mode the piece
    ///      stays the sender's, locked, until `to` accepts it (`acceptMove`); its id is returned all the same.
    function transferFrom(uint256 fromTokenId, address to, uint256 value)
        external
        payable
        noEther
        nonReentrant
        returns (uint256 newTokenId)
    {
        TokenCore memory c = _requireCore(fromTokenId);
        _spendAllowance(msg.sender, fromTokenId, c, value);
        newTokenId = _split(fromTokenId, c, to, value, HOLDER_MOVE | PEND);
        if (!_pends(c, to, HOLDER_MOVE | PEND)) _checkOnERC3525Received(fromTokenId, newTokenId, to, value);
    }

    /// @inheritdoc IERC3525
    /// @dev Merge: value moves between two existing tokens of the same slot; lineage is unchanged.
    function transferFrom(uint256 fromTokenId, uint256 toTokenId, uint256 value) external payable noEther nonReentrant {
        if (fromTokenId == toTokenId) revert SameToken(fromTokenId);
        TokenCore memory from = _requireCore(fromTokenId);
        TokenCore memory to = _requireCore(toTokenId);
        if (from.slot != to.slot) revert SlotMismatch(fromTokenId, toTokenId);
        if (to.frozen) revert TokenFrozen(toTokenId);
        if (to.epoch & LOCKED != 0) _revertPending(toTokenId);
        _spendAllowance(msg.sender, fromTokenId, from, value);
        participants.checkMove(from.owner, to.owner, _s().heads[from.slot].obligor, 0);
        _checkPolicy(fromTokenId, from, value, CHECK_FROZEN | CHECK_LIVE | CHECK_UNIT);
        _moveValue(fromTokenId, toTokenId, value);
        _checkOnERC3525Received(fromTokenId, toTokenId, to.owner, value);
    }

    /// @inheritdoc IReceivableToken
    /// @dev Each piece must be a positive multiple of the slot's minimum unit; all pieces share one parent.
    ///      Every piece is made before any receiver is called (effects, then interactions), so no callback
    ///      can run between two pieces, and the guard keeps callbacks from re-entering.
    function splitBatch(uint256 tokenId, address[] calldata recipients, uint256[] calldata values)
        external
        nonReentrant
        returns (uint256[] memory newTokenIds)
    {
        uint256 n = recipients.length;
        if (n == 0) revert EmptyBatch();
        if (values.length != n) revert LengthMismatch(n, values.length);
        TokenCore memory c = _requireCore(tokenId);
        uint256 total = 0;
        for (uint256 i = 0; i < n; ++i) {
            total += values[i];
        }
        _spendAllowance(msg.sender, tokenId, c, total);
        newTokenIds = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            newTokenIds[i] = _split(tokenId, c, recipients[i], values[i], HOLDER_MOVE | PEND);
        }
        for (uint256 i = 0; i < n; ++i) {
            if (_pends(c, recipients[i], HOLDER_MOVE | PEND)) continue;
            _checkOnERC3525Received(tokenId, newTokenIds[i], recipients[i], values[i]);
        }
    }

    /// @inheritdoc IERC721
    function transferFrom(address from, address to, uint256 tokenId) external payable noEther nonReentrant {
        _transferWhole(from, to, tokenId);
    }

    /// @inheritdoc IERC721
    /// @dev `onERC721Received` runs after the move, while the guard is held; not for a move that pends (bill
    ///      mode), where the receiver's own `acceptMove` is its consent.
    function safeTransferFrom(address from, address to, uint256 tokenId) external payable noEther nonReentrant {
        if (_transferWhole(from, to, tokenId)) return;
        ERC721Utils.checkOnERC721Received(msg.sender, from, to, tokenId, "");
    }

    /// @inheritdoc IERC721
    /// @dev `onERC721Received` runs after the move, while the guard is held; not for a move that pends (bill
    ///      mode), where the receiver's own `acceptMove` is its consent.
    function safeTransferFrom(address from, address to, uint256 tokenId, bytes calldata data)
        external
        payable
        noEther
        nonReentrant
    {
        if (_transferWhole(from, to, tokenId)) return;
        ERC721Utils.checkOnERC721Received(msg.sender, from, to, tokenId, data);
    }

    // ------------------------------------------------------------------ desks

    /// @inheritdoc IReceivableToken
    /// @dev The face must be a positive multiple of `minUnit`, maturity in the future. The obligation takes the
    ///      settlement mode the registry gives its obligor now (`settlementTermsOf`) and keeps it.
    function createSlot(address obligor, address currency, uint256 face, uint256 maturity, uint256 minUnit, address to)
        external
        nonReentrant
        onlyRole(Roles.DESK)
        returns (uint256 slot, uint256 tokenId)
    {
        ReceivableTokenStorage storage $ = _s();
        if (obligor == address(0)) revert ZeroAddress("obligor");
        if (currency == address(0)) revert ZeroAddress("currency");
        _checkAmounts(face, minUnit, maturity);
        participants.checkHolders(to, to);
        slot = ++$.lastSlot;
        (bool bill, uint256 window) = participants.settlementTermsOf(obligor);
        tokenId = _createToken(to, slot, 0, 0, bill ? BILL : 0);
        $.heads[slot] = SlotHead(obligor, maturity.toUint48(), minUnit.toUint48());
        $.money[slot] = SlotMoney(currency, uint48(tokenId));
        $.supplies[slot] = SlotSupply(face.toUint128(), uint128(face));
        _moveValue(0, tokenId, face);
        emit SlotCreated(slot, obligor, currency, face, maturity, minUnit, tokenId);
        if (bill) {
            // The registry keeps the window within a year.
            $.billWindows[slot] = uint32(window);
            emit SlotBillMode(slot, window);
        }
    }

    /// @inheritdoc IReceivableToken
    /// @dev Emits `DeskMoved` naming the desk (`msg.sender`). A new piece's receiver is called last.
    function deskTransfer(address holder, uint256 tokenId, address to, uint256 value)
        external
        nonReentrant
        onlyRole(Roles.DESK)
        returns (uint256 toTokenId)
    {
        return _deskMove(holder, tokenId, to, value, CHECK_ALL);
    }

    /// @inheritdoc IReceivableToken
    /// @dev As `deskTransfer`; in bill mode the moved value pends (`MovePending`) and no receiver is called.
    function deskPay(address holder, uint256 tokenId, address to, uint256 value)
        external
        nonReentrant
        onlyRole(Roles.DESK)
        returns (uint256 toTokenId)
    {
        return _deskMove(holder, tokenId, to, value, CHECK_ALL | PEND);
    }

    // ------------------------------------------------------------------ bill mode (签收, 拒收, 撤回)

    /// @inheritdoc IReceivableToken
    /// @dev Refused while frozen, after expiry (which is never after maturity), while moves are paused or the
    ///      receiver is not an active holder. The piece's approvals are void (epoch bump); a split piece's
    ///      receiver callback runs last.
    function acceptMove(uint256 tokenId) external nonReentrant {
        ReceivableTokenStorage storage $ = _s();
        PendingMove memory p = _requirePending(tokenId);
        if (msg.sender != p.to) revert NotMoveParty(msg.sender, tokenId);
        TokenCore memory c = $.cores[tokenId];
        if (c.frozen) revert TokenFrozen(tokenId);
        if (block.timestamp >= p.expiry) revert MoveExpired(tokenId, p.expiry);
        participants.checkNotPaused(Roles.OP_MOVES);
        delete $.pendingMoves[tokenId];
        c.epoch &= ~LOCKED;
        _moveToken(tokenId, c, p.to, 0);
        uint256 value = $.values[tokenId].value;
        emit MoveAccepted(tokenId, p.from, p.to, value);
        if (p.source != 0) _checkOnERC3525Received(p.source, tokenId, p.to, value);
    }

    /// @inheritdoc IReceivableToken
    /// @dev Never paused: a return must always be possible.
    function refuseMove(uint256 tokenId) external nonReentrant {
        _endMove(tokenId, ReturnReason.Refused);
    }

    /// @inheritdoc IReceivableToken
    /// @dev Never paused: a return must always be possible.
    function withdrawMove(uint256 tokenId) external nonReentrant {
        _endMove(tokenId, ReturnReason.Withdrawn);
    }

    /// @inheritdoc IReceivableToken
    /// @dev The reason is `Matured` once the obligation matured, otherwise `Expired`.
    function expireMove(uint256 tokenId) external nonReentrant {
        _endMove(tokenId, ReturnReason.Expired);
    }

    /// @inheritdoc IReceivableToken
    function pendingMove(uint256 tokenId) external view returns (PendingMove memory p) {
        PendingRecord memory r = _s().pendingMoves[tokenId];
        if (r.to != address(0)) p = PendingMove(_s().cores[tokenId].owner, r.source, r.expiry, r.to);
    }

    /// @inheritdoc IReceivableToken
    function billWindowOf(uint256 slot) external view returns (uint256) {
        return _s().billWindows[slot];
    }

    /// @inheritdoc IReceivableToken
    /// @dev The lineage record (parent, depth, slot) survives the burn so `lineage()` still answers. A piece
    ///      still pending at maturity is its sender's: the pending move lapses (`MoveReturned`, Matured).
    ///      Emits `SlotChanged(tokenId, slot, 0)` (EIP-3525's burn) and `DeskRedeemed` naming the desk.
    function redeem(address holder, uint256 tokenId)
        external
        nonReentrant
        onlyRole(Roles.DESK)
        returns (uint256 slot, uint256 value)
    {
        ReceivableTokenStorage storage $ = _s();
        TokenCore memory c = _requireCore(tokenId);
        if (c.owner != holder) revert IncorrectOwner(holder, tokenId, c.owner);
        if (c.frozen) revert TokenFrozen(tokenId);
        participants.checkHolders(holder, holder);
        slot = c.slot;
        uint256 maturity = $.heads[slot].maturity;
        if (block.timestamp < maturity) revert ObligationNotMatured(slot, maturity);
        if (c.epoch & LOCKED != 0) _returnMove(tokenId, _requirePending(tokenId), ReturnReason.Matured, false);
        value = $.values[tokenId].value;
        _moveValue(tokenId, 0, value);
        // supply == Σ live values of the slot >= value, so this cannot underflow.
        unchecked {
            $.supplies[slot].supply -= uint128(value);
        }
        _burn(tokenId, holder, slot);
        emit DeskRedeemed(tokenId, slot, msg.sender, holder, value);
    }

    // ------------------------------------------------------------------ regulator and enforcement

    /// @inheritdoc IReceivableToken
    function freeze(uint256 tokenId, uint32 reasonCode) external nonReentrant {
        ReceivableTokenStorage storage $ = _s();
        participants.checkActiveRole(msg.sender, Roles.REGULATOR);
        TokenCore storage c = $.cores[tokenId];
        if (c.owner == address(0)) revert NonexistentToken(tokenId);
        if (c.frozen) revert TokenFrozen(tokenId);
        c.frozen = true;
        emit Frozen(tokenId, msg.sender, reasonCode);
    }

    /// @inheritdoc IReceivableToken
    function unfreeze(uint256 tokenId, uint32 reasonCode) external nonReentrant {
        ReceivableTokenStorage storage $ = _s();
        participants.checkActiveRole(msg.sender, Roles.REGULATOR);
        TokenCore storage c = $.cores[tokenId];
        if (c.owner == address(0)) revert NonexistentToken(tokenId);
        if (!c.frozen) revert TokenNotFrozen(tokenId);
        c.frozen = false;
        emit Unfrozen(tokenId, msg.sender, reasonCode);
    }

    /// @inheritdoc IReceivableToken
    /// @dev A court order overrides the freeze, maturity and the source's status (often why a court acts);
    ///      the receiver must still be an active holder and the value a multiple of the minimum unit.
    ///      Moving the whole token keeps its frozen flag; a split-off piece starts unfrozen. A pending move of
    ///      `tokenId` is cancelled first (`MoveReturned`, Enforced; the piece stays apart), and nothing pends.
    function forceTransfer(uint256 tokenId, address to, uint256 value, bytes32 orderRef)
        external
        nonReentrant
        onlyRole(Roles.ENFORCEMENT)
        returns (uint256 toTokenId)
    {
        ReceivableTokenStorage storage $ = _s();
        TokenCore memory c = _requireCore(tokenId);
        if (c.epoch & LOCKED != 0) {
            _returnMove(tokenId, _requirePending(tokenId), ReturnReason.Enforced, false);
            c.epoch = (c.epoch & ~LOCKED) + 1;
        }
        bool whole = value == $.values[tokenId].value;
        if (whole) {
            _moveToken(tokenId, c, to, 0);
            toTokenId = tokenId;
        } else {
            toTokenId = _split(tokenId, c, to, value, CHECK_UNIT);
        }
        emit ForcedTransfer(tokenId, toTokenId, to, value, orderRef, msg.sender);
        if (!whole) _checkOnERC3525Received(tokenId, toTokenId, to, value);
    }

    // ------------------------------------------------------------------ Tierchain views

    /// @inheritdoc IReceivableToken
    function slotTerms(uint256 slot) external view returns (SlotTerms memory t) {
        ReceivableTokenStorage storage $ = _s();
        SlotHead memory h = $.heads[slot];
        if (h.obligor == address(0)) revert NonexistentSlot(slot);
        SlotMoney memory m = $.money[slot];
        SlotSupply memory s = $.supplies[slot];
        return SlotTerms(h.obligor, h.maturity, m.rootTokenId, m.currency, h.minUnit, s.face, s.supply);
    }

    /// @inheritdoc IReceivableToken
    function parentOf(uint256 tokenId) external view returns (uint256) {
        return _requireMinted(tokenId).parent;
    }

    /// @inheritdoc IReceivableToken
    function rootOf(uint256 tokenId) external view returns (uint256) {
        ReceivableTokenStorage storage $ = _s();
        return $.money[_requireMinted(tokenId).slot].rootTokenId;
    }

    /// @inheritdoc IReceivableToken
    /// @dev 0 for the issued token held by the tier-1 supplier; a piece it pays to a tier-2 supplier is 1.
    function depthOf(uint256 tokenId) external view returns (uint256) {
        return _requireMinted(tokenId).depth;
    }

    /// @inheritdoc IReceivableToken
    /// @dev `chain[0]` is `tokenId`, the last element the slot's root; burned ancestors are included.
    function lineage(uint256 tokenId) external view returns (uint256[] memory chain) {
        ReceivableTokenStorage storage $ = _s();
        TokenValue memory v = _requireMinted(tokenId);
        chain = new uint256[](uint256(v.depth) + 1);
        chain[0] = tokenId;
        for (uint256 i = 1; i < chain.length; ++i) {
            chain[i] = v.parent;
            v = $.values[v.parent];
        }
    }

    /// @inheritdoc IReceivableToken
    function isFrozen(uint256 tokenId) external view returns (bool) {
        return _requireCore(tokenId).frozen;
    }

    /// @inheritdoc IReceivableToken
    function exists(uint256 tokenId) external view returns (bool) {
        ReceivableTokenStorage storage $ = _s();
        return $.cores[tokenId].owner != address(0);
    }

    /// @inheritdoc IReceivableToken
    function lastTokenId() external view returns (uint256) {
        ReceivableTokenStorage storage $ = _s();
        return $.lastTokenId;
    }

    /// @inheritdoc IReceivableToken
    function lastSlot() external view returns (uint256) {
        ReceivableTokenStorage storage $ = _s();
        return $.lastSlot;
    }

    // ------------------------------------------------------------------ internals

    /// @dev Returns true when the move pends (bill mode) instead of completing.
    function _transferWhole(address from, address to, uint256 tokenId) private returns (bool pended) {
        TokenCore memory c = _requireCore(tokenId);
        if (c.owner != from) revert IncorrectOwner(from, tokenId, c.owner);
        if (!_isApprovedOrOwner(msg.sender, tokenId, c)) revert InsufficientApproval(msg.sender, tokenId);
        _moveToken(tokenId, c, to, HOLDER_MOVE | PEND);
        return _pends(c, to, HOLDER_MOVE | PEND);
    }

    function _deskMove(address holder, uint256 tokenId, address to, uint256 value, uint256 policy)
        private
        returns (uint256 toTokenId)
    {
        ReceivableTokenStorage storage $ = _s();
        TokenCore memory c = _requireCore(tokenId);
        if (c.owner != holder) revert IncorrectOwner(holder, tokenId, c.owner);
        bool whole = value == $.values[tokenId].value;
        bool pend = _pends(c, to, policy);
        if (whole) {
            _moveToken(tokenId, c, to, policy);
            toTokenId = tokenId;
        } else {
            toTokenId = _split(tokenId, c, to, value, policy);
        }
        emit DeskMoved(tokenId, toTokenId, msg.sender, holder, to, value);
        if (!whole && !pend) _checkOnERC3525Received(tokenId, toTokenId, to, value);
    }

    /// @dev True when a move of `c` to `to` under `policy` pends: a payment (`PEND`) of a bill-mode piece to
    ///      someone else.
    function _pends(TokenCore memory c, address to, uint256 policy) private pure returns (bool) {
        return policy & PEND != 0 && c.epoch & BILL != 0 && to != c.owner;
    }

    /// @dev Records the pending move of `tokenId` (already locked), expiring after the slot's window or at
    ///      maturity, whichever comes first.
    function _recordPending(uint256 tokenId, uint256 source, TokenCore memory c, address to, uint256 value) private {
        ReceivableTokenStorage storage $ = _s();
        uint256 expiry = block.timestamp + $.billWindows[c.slot];
        uint256 maturity = $.heads[c.slot].maturity;
        if (expiry > maturity) expiry = maturity;
        // expiry <= maturity, a uint48; source is a token id, a uint48.
        $.pendingMoves[tokenId] = PendingRecord(to, uint48(source), uint40(expiry));
        emit MovePending(tokenId, source, c.owner, to, value, expiry);
    }

    /// @dev Refusal by the receiver, withdrawal by the sender, or expiry by anyone (`Matured` once the
    ///      obligation matured).
    function _endMove(uint256 tokenId, ReturnReason reason) private {
        PendingMove memory p = _requirePending(tokenId);
        if (reason == ReturnReason.Expired) {
            if (block.timestamp < p.expiry) revert MoveNotExpired(tokenId, p.expiry);
            if (block.timestamp >= _s().heads[_s().cores[tokenId].slot].maturity) reason = ReturnReason.Matured;
        } else if (msg.sender != (reason == ReturnReason.Refused ? p.to : p.from)) {
            revert NotMoveParty(msg.sender, tokenId);
        }
        _returnMove(tokenId, p, reason, true);
    }

    /// @dev Ends a pending move without acceptance. The value goes back into the source piece when `mayMerge`
    ///      and the source is still the sender's, unlocked, and neither piece is frozen (the pending piece is
    ///      burned; its lineage record stays); otherwise the piece is simply unlocked (epoch bump).
    function _returnMove(uint256 tokenId, PendingMove memory p, ReturnReason reason, bool mayMerge) private {
        ReceivableTokenStorage storage $ = _s();
        delete $.pendingMoves[tokenId];
        TokenCore memory c = $.cores[tokenId];
        uint256 into = mayMerge && !c.frozen ? p.source : 0;
        TokenCore memory s = $.cores[into];
        if (into != 0 && s.owner == p.from && !s.frozen && s.epoch & LOCKED == 0) {
            _moveValue(tokenId, into, $.values[tokenId].value);
            _burn(tokenId, p.from, c.slot);
        } else {
            into = 0;
            $.cores[tokenId].epoch = (c.epoch & ~LOCKED) + 1;
        }
        emit MoveReturned(tokenId, into, p.from, reason);
    }

    function _requirePending(uint256 tokenId) private view returns (PendingMove memory) {
        ReceivableTokenStorage storage $ = _s();
        PendingRecord memory r = $.pendingMoves[tokenId];
        if (r.to == address(0)) revert NoPendingMove(tokenId);
        return PendingMove($.cores[tokenId].owner, r.source, r.expiry, r.to);
    }

    function _revertPending(uint256 tokenId) private view {
        PendingRecord memory p = _s().pendingMoves[tokenId];
        revert AwaitingAcceptance(tokenId, p.to, p.expiry);
    }

    /// @dev Creates a piece for `to` and moves `value` into it from `fromTokenId`; a payment in bill mode
    ///      (`_pends`) creates it for the sender instead, locked, pending `to`'s acceptance. Makes no external call but
    ///      the registry's view check: the caller calls the receiver (`_checkOnERC3525Received`) afterwards.
    function _split(uint256 fromTokenId, TokenCore memory c, address to, uint256 value, uint256 policy)
        private
        returns (uint256 newTokenId)
    {
        ReceivableTokenStorage storage $ = _s();
        if (to == address(0)) revert InvalidReceiver(to);
        uint256 depth = uint256($.values[fromTokenId].depth) + 1;
        _checkParties(c, to, policy, depth);
        _checkPolicy(fromTokenId, c, value, policy);
        bool pend = _pends(c, to, policy);
        newTokenId =
            _createToken(pend ? c.owner : to, c.slot, fromTokenId, depth, (c.epoch & BILL) | (pend ? LOCKED : 0));
        _moveValue(fromTokenId, newTokenId, value);
        if (pend) _recordPending(newTokenId, fromTokenId, c, to, value);
    }

    /// @dev The only code that changes an owner. Bumping the epoch voids every approval of the token. A payment
    ///      that pends (`_pends`) changes no owner: the token is locked (epoch bump) with a pending record.
    function _moveToken(uint256 tokenId, TokenCore memory c, address to, uint256 policy) private {
        ReceivableTokenStorage storage $ = _s();
        if (to == address(0)) revert InvalidReceiver(to);
        _checkParties(c, to, policy, 0);
        _checkPolicy(tokenId, c, 0, policy & (CHECK_FROZEN | CHECK_LIVE));
        if (_pends(c, to, policy)) {
            $.cores[tokenId].epoch = (c.epoch + 1) | LOCKED;
            _recordPending(tokenId, 0, c, to, $.values[tokenId].value);
            return;
        }
        // A balance counts tokens owned; an owner's count is >= 1 here and no count nears 2^256.
        unchecked {
            $.balances[c.owner] -= 1;
            $.balances[to] += 1;
        }
        $.cores[tokenId] = TokenCore(to, c.slot, c.frozen, c.epoch + 1);
        emit Transfer(c.owner, to, tokenId);
    }

    /// @dev The only code that changes a token's value; 0 as an id means mint (from) or burn (to).
    ///      Callers have applied the policy and checked both tokens share a slot.
    function _moveValue(uint256 fromTokenId, uint256 toTokenId, uint256 value) private {
        ReceivableTokenStorage storage $ = _s();
        if (fromTokenId != 0) {
            TokenValue storage f = $.values[fromTokenId];
            uint256 balance = f.value;
            if (balance < value) revert InsufficientBalance(fromTokenId, balance, value);
            // balance >= value, checked above.
            unchecked {
                f.value = uint128(balance - value);
            }
        }
        if (toTokenId != 0) {
            // A slot's values sum to at most its face, which fits in uint128.
            unchecked {
                $.values[toTokenId].value += uint128(value);
            }
        }
        emit TransferValue(fromTokenId, toTokenId, value);
    }

    function _createToken(address to, uint256 slot, uint256 parent, uint256 depth, uint40 flags)
        private
        returns (uint256 id)
    {
        ReceivableTokenStorage storage $ = _s();
        id = ++$.lastTokenId;
        $.cores[id] = TokenCore(to, uint48(slot), false, flags);
        $.values[id] = TokenValue(0, uint48(parent), depth.toUint16(), uint48(slot));
        unchecked {
            $.balances[to] += 1;
        }
        emit Transfer(address(0), to, id);
        emit SlotChanged(id, 0, slot);
    }

    function _burn(uint256 tokenId, address owner, uint256 slot) private {
        ReceivableTokenStorage storage $ = _s();
        delete $.cores[tokenId];
        unchecked {
            $.balances[owner] -= 1;
        }
        emit Transfer(owner, address(0), tokenId);
        emit SlotChanged(tokenId, slot, 0);
    }

    /// @dev The registry's one check of a move's parties: a holder move (`CHECK_OPEN`) also checks that moves
    ///      are not paused and the obligor's compliance policy (trade background, depth); a desk move checks
    ///      the depth; a check without `CHECK_PARTIES` (enforcement, a court order) checks the receiver only.
    ///      `depth` is the new piece's, 0 when no piece is made.
    function _checkParties(TokenCore memory c, address to, uint256 policy, uint256 depth) private view {
        if (policy & CHECK_PARTIES == 0) {
            participants.checkHolders(to, to);
            return;
        }
        address obligor = _s().heads[c.slot].obligor;
        if (policy & CHECK_OPEN != 0) participants.checkMove(c.owner, to, obligor, depth);
        else participants.checkDeskMove(c.owner, to, obligor, depth);
    }

    /// @dev The checks of new terms' numbers, each with its own error.
    function _checkAmounts(uint256 face, uint256 minUnit, uint256 maturity) private view {
        if (face == 0) revert ZeroFace();
        if (minUnit == 0) revert ZeroMinUnit();
        if (face % minUnit != 0) revert FaceNotMultipleOfMinUnit(face, minUnit);
        if (maturity <= block.timestamp) revert MaturityNotInFuture(maturity, block.timestamp);
    }

    function _checkPolicy(uint256 tokenId, TokenCore memory c, uint256 value, uint256 policy) private view {
        ReceivableTokenStorage storage $ = _s();
        if (policy & CHECK_FROZEN != 0) {
            if (c.frozen) revert TokenFrozen(tokenId);
            if (c.epoch & LOCKED != 0) _revertPending(tokenId);
        }
        if (policy & CHECK_LIVE != 0) {
            uint256 maturity = $.heads[c.slot].maturity;
            if (block.timestamp >= maturity) revert ObligationMatured(c.slot, maturity);
        }
        if (policy & CHECK_UNIT != 0) {
            uint256 unit = $.heads[c.slot].minUnit;
            if (value == 0 || value % unit != 0) revert NotMultipleOfMinUnit(value, unit);
        }
    }

    /// @dev Lowers a limited allowance by `value` and emits `ApprovalValue` with what remains (EIP-3525: the
    ///      event accompanies every change); an unlimited one is left as it is.
    function _spendAllowance(address operator, uint256 tokenId, TokenCore memory c, uint256 value) private {
        ReceivableTokenStorage storage $ = _s();
        if (_isApprovedOrOwner(operator, tokenId, c)) return;
        ValueAllowance memory a = $.valueAllowances[tokenId][operator];
        uint256 current = a.epoch == c.epoch ? a.amount : 0;
        if (current == UNLIMITED) return;
        if (current < value) revert InsufficientAllowance(operator, tokenId, current, value);
        // current >= value, checked above.
        unchecked {
            $.valueAllowances[tokenId][operator].amount = uint216(current - value);
            emit ApprovalValue(tokenId, operator, current - value);
        }
    }

    function _isApprovedOrOwner(address spender, uint256 tokenId, TokenCore memory c) private view returns (bool) {
        ReceivableTokenStorage storage $ = _s();
        return spender == c.owner || $.operatorApprovals[c.owner][spender] || _approvedOf(tokenId, c) == spender;
    }

    function _approvedOf(uint256 tokenId, TokenCore memory c) private view returns (address) {
        ReceivableTokenStorage storage $ = _s();
        TokenApproval memory a = $.tokenApprovals[tokenId];
        return a.epoch == c.epoch ? a.approved : address(0);
    }

    function _requireCore(uint256 tokenId) private view returns (TokenCore memory c) {
        ReceivableTokenStorage storage $ = _s();
        c = $.cores[tokenId];
        if (c.owner == address(0)) revert NonexistentToken(tokenId);
    }

    function _requireMinted(uint256 tokenId) private view returns (TokenValue memory v) {
        ReceivableTokenStorage storage $ = _s();
        if (tokenId == 0 || tokenId > $.lastTokenId) revert NonexistentToken(tokenId);
        return $.values[tokenId];
    }

    /// @dev As EIP-3525 says: a receiving contract that declares IERC3525Receiver must accept. Called last,
    ///      under the guard, after every state change of the calling function.
    function _checkOnERC3525Received(uint256 fromTokenId, uint256 toTokenId, address to, uint256 value) private {
        if (to.code.length == 0) return;
        try IERC165(to).supportsInterface(type(IERC3525Receiver).interfaceId) returns (bool declared) {
            if (!declared) return;
        } catch {
            return;
        }
        try IERC3525Receiver(to).onERC3525Received(msg.sender, fromTokenId, toTokenId, value, "") returns (
            bytes4 answer
        ) {
            if (answer != IERC3525Receiver.onERC3525Received.selector) revert RejectedByReceiver(to);
        } catch {
            revert RejectedByReceiver(to);
        }
    }

    /// @dev Only a holder of the registry's DEFAULT_ADMIN_ROLE (governance) upgrades, and only to an
    ///      implementation wired to the same registry.
    function _authorizeUpgrade(address newImplementation) internal view override {
        UpgradeGuard.checkAdmin(participants, msg.sender);
        if (UpgradeGuard.wiredTo(newImplementation, IWiring.participants.selector) != address(participants)) {
            revert UpgradeMiswired(newImplementation);
        }
    }

    function _checkRole(bytes32 role) private view {
        if (!participants.hasRole(role, msg.sender)) revert NotAuthorized(msg.sender);
    }

    /// @dev The contract's ERC-7201 namespace (`tierchain.storage.ReceivableToken`), at `STORAGE_SLOT`.
    function _s() private pure returns (ReceivableTokenStorage storage $) {
        assembly {
            $.slot := STORAGE_SLOT
        }
    }
}
