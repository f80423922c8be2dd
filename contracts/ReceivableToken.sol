// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {ERC721Utils} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC721} from "@solvprotocol/erc-3525/IERC721.sol";
import {IERC3525} from "@solvprotocol/erc-3525/IERC3525.sol";
import {IERC721Metadata} from "@solvprotocol/erc-3525/extensions/IERC721Metadata.sol";
import {IERC3525Metadata} from "@solvprotocol/erc-3525/extensions/IERC3525Metadata.sol";
import {IERC7943MultiToken} from "./interfaces/IERC7943.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {IReceivableTokenCore} from "./interfaces/IReceivableToken.sol";
import {IWiring, UpgradeGuard} from "./libraries/UpgradeGuard.sol";
import {ReceivableTokenBase} from "./token/ReceivableTokenBase.sol";

/// @title ReceivableToken
/// @notice ERC-3525 semi-fungible receivables. A slot is one confirmed obligation (obligor, settlement
///         currency, face, maturity, minimum unit); a token is a piece of it. Holders split pieces off to pay
///         their own suppliers, merge pieces of the same slot, and move whole tokens as ERC-721s. Every
///         piece remembers its parent, so the chain of splits back to the issued token is on-chain.
/// @dev The state, its packing and the shared internal code are in `ReceivableTokenBase`. The rarely used
///      functions (bill-mode acceptance, freezes, court orders, metadata URIs, lineage) live in
///      `ReceivableTokenExtension`, which this contract's `fallback()` reaches by `delegatecall` at the
///      immutable `extension()` (OpenZeppelin `Proxy._delegate`'s code): it runs in this proxy's storage, under
///      the same re-entrancy guard, and callers use the whole interface `IReceivableToken`.
///      Re-entrancy: every state-changing function holds one token-wide guard (transient storage) for its
///      whole run, and receiver callbacks (`onERC3525Received`, `onERC721Received`) run last, after every
///      state change, while the guard is held: a callback cannot re-enter any mutator, directly or
///      through a desk. A batch split makes all its pieces before it calls the first receiver.
///      Upgradeable (UUPS behind an ERC-1967 proxy): all state lives in one ERC-7201 namespace
///      (`ReceivableTokenStorage`); the registry, the value decimals and the extension are immutables of the
///      implementation.
///      Pause: holder-initiated moves (transfers, splits, merges) stop while `OP_MOVES` is paused; desk
///      moves follow their desk's bit, and redemption, freezes and court orders are never paused.
contract ReceivableToken is Initializable, UUPSUpgradeable, ReceivableTokenBase, IReceivableTokenCore {
    using SafeCast for uint256;

    /// @dev ERC-7943's multi-token interface as drafted with `canTransact(address)` in place of `canSend` and
    ///      `canReceive` (the extension answers all three): the XOR of `canTransact`, `canTransfer`,
    ///      `getFrozenTokens`, `setFrozenTokens` and `forcedTransfer`.
    bytes4 private constant ERC7943_DRAFT_INTERFACE_ID = 0x5627c61a;

    /// @dev The source of a batch split as `splitBatch` keeps it in memory between its pieces.
    struct BatchSource {
        uint256 tokenId;
        TokenCore core;
        SlotHead head;
        TokenValue value;
    }

    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    address private immutable _extension;

    /// @notice The implementation: its immutables name the registry proxy, the value decimals and the extension;
    ///         it cannot be initialized itself, only a proxy pointing at it can.
    /// @param registry Participant registry (proxy): holder checks, the pause bits and every role.
    /// @param valueDecimals_ Decimals of values for display: values are minor units (2 for CNY, USD, EUR).
    /// @param extension_ The `ReceivableTokenExtension` wired to the same registry (checked).
    /// @custom:oz-upgrades-unsafe-allow constructor state-variable-immutable
    constructor(IParticipantRegistry registry, uint8 valueDecimals_, address extension_)
        ReceivableTokenBase(registry, valueDecimals_)
    {
        if (UpgradeGuard.wiredTo(extension_, IWiring.participants.selector) != address(registry)) {
            revert ExtensionMiswired(extension_);
        }
        _extension = extension_;
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

    /// @inheritdoc IReceivableTokenCore
    function extension() external view returns (address) {
        return _extension;
    }

    /// @inheritdoc IReceivableTokenCore
    function version() external pure virtual returns (string memory) {
        return "1.0.0";
    }

    modifier noEther() {
        if (msg.value != 0) revert NoEtherAccepted();
        _;
    }

    // ------------------------------------------------------------------ ERC-165 and metadata (URIs: extension)

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IERC721).interfaceId
            || interfaceId == type(IERC3525).interfaceId || interfaceId == type(IERC721Metadata).interfaceId
            || interfaceId == type(IERC3525Metadata).interfaceId || interfaceId == type(IERC7943MultiToken).interfaceId
            || interfaceId == ERC7943_DRAFT_INTERFACE_ID;
    }

    /// @notice The ERC-721 name of the token (ERC-721 metadata).
    function name() external view returns (string memory) {
        ReceivableTokenStorage storage $ = _s();
        return $.name;
    }

    /// @notice The ERC-721 symbol of the token (ERC-721 metadata).
    function symbol() external view returns (string memory) {
        ReceivableTokenStorage storage $ = _s();
        return $.symbol;
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
        // Value may merge into a piece with a value freeze, not into one frozen whole.
        if (to.frozen) {
            if (_s().frozenValues[toTokenId] == 0) revert TokenFrozen(toTokenId);
        }
        if (to.epoch & LOCKED != 0) _revertPending(toTokenId);
        _spendAllowance(msg.sender, fromTokenId, from, value);
        SlotHead memory h = _s().heads[from.slot];
        participants.checkMove(from.owner, to.owner, h.obligor, 0);
        _checkPolicy(fromTokenId, from, h, value, CHECK_FROZEN | CHECK_LIVE | CHECK_UNIT);
        _moveValue(fromTokenId, toTokenId, value);
        _checkOnERC3525Received(fromTokenId, toTokenId, to.owner, value);
    }

    /// @inheritdoc IReceivableTokenCore
    /// @dev Each piece must be a positive multiple of the slot's minimum unit; all pieces share one parent.
    ///      Every piece is made before any receiver is called (effects, then interactions), so no callback
    ///      can run between two pieces, and the guard keeps callbacks from re-entering.
    ///      The registry checks every recipient in one call (`checkMoveBatch`); the source piece is debited and
    ///      the id counter advanced once, after the last piece.
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
        newTokenIds = _splitBatch(tokenId, c, recipients, values);
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

    /// @inheritdoc IReceivableTokenCore
    /// @dev The face must be a positive multiple of `minUnit`, maturity in the future. The obligation takes the
    ///      settlement mode the registry gives its obligor now (`settlementTermsOf`) and keeps it. The caller's
    ///      DESK role, the holder and the settlement terms are asked in one registry call (`checkSlotCreation`).
    function createSlot(address obligor, address currency, uint256 face, uint256 maturity, uint256 minUnit, address to)
        external
        nonReentrant
        returns (uint256 slot, uint256 tokenId)
    {
        ReceivableTokenStorage storage $ = _s();
        (bool isDesk, bool bill, uint256 window) = participants.checkSlotCreation(msg.sender, to, obligor);
        if (!isDesk) revert NotAuthorized(msg.sender);
        if (obligor == address(0)) revert ZeroAddress("obligor");
        if (currency == address(0)) revert ZeroAddress("currency");
        _checkAmounts(face, minUnit, maturity);
        slot = ++$.lastSlot;
        tokenId = _createRoot(to, slot, bill ? BILL : 0, face);
        $.heads[slot] = SlotHead(obligor, maturity.toUint48(), minUnit.toUint48());
        $.money[slot] = SlotMoney(currency, uint48(tokenId));
        $.supplies[slot] = SlotSupply(face.toUint128(), uint128(face));
        emit IERC3525.TransferValue(0, tokenId, face);
        emit SlotCreated(slot, obligor, currency, face, maturity, minUnit, tokenId);
        if (bill) {
            // The registry keeps the window within a year.
            $.billWindows[slot] = uint32(window);
            emit SlotBillMode(slot, window);
        }
    }

    /// @inheritdoc IReceivableTokenCore
    /// @dev Emits `DeskMoved` naming the desk (`msg.sender`). A new piece's receiver is called last. The caller's
    ///      DESK role is asked with the parties, in one registry call (`checkDeskCall`), before any state changes.
    function deskTransfer(address holder, uint256 tokenId, address to, uint256 value)
        external
        nonReentrant
        returns (uint256 toTokenId)
    {
        return _deskMove(holder, tokenId, to, value, CHECK_ALL);
    }

    /// @inheritdoc IReceivableTokenCore
    /// @dev As `deskTransfer`; in bill mode the moved value pends (`MovePending`) and no receiver is called.
    function deskPay(address holder, uint256 tokenId, address to, uint256 value)
        external
        nonReentrant
        returns (uint256 toTokenId)
    {
        return _deskMove(holder, tokenId, to, value, CHECK_ALL | PEND);
    }

    /// @inheritdoc IReceivableTokenCore
    /// @dev The lineage record (parent, depth, slot) survives the burn so `lineage()` still answers. A piece
    ///      still pending at maturity is its sender's: the pending move lapses (`MoveReturned`, Matured).
    ///      Emits `SlotChanged(tokenId, slot, 0)` (EIP-3525's burn) and `DeskRedeemed` naming the desk.
    ///      The caller's DESK role and the holder are asked in one registry call (`checkDeskCall`).
    function redeem(address holder, uint256 tokenId) external nonReentrant returns (uint256 slot, uint256 value) {
        ReceivableTokenStorage storage $ = _s();
        TokenCore memory c = _requireCore(tokenId);
        if (c.owner != holder) revert IncorrectOwner(holder, tokenId, c.owner);
        if (c.frozen) _checkFrozen(tokenId, c, 0);
        if (!participants.checkDeskCall(msg.sender, holder, holder, address(0), 0)) revert NotAuthorized(msg.sender);
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

    // ------------------------------------------------------------------ Tierchain views

    /// @inheritdoc IReceivableTokenCore
    function slotTerms(uint256 slot) external view returns (SlotTerms memory t) {
        ReceivableTokenStorage storage $ = _s();
        SlotHead memory h = $.heads[slot];
        if (h.obligor == address(0)) revert NonexistentSlot(slot);
        SlotMoney memory m = $.money[slot];
        SlotSupply memory s = $.supplies[slot];
        return SlotTerms(h.obligor, h.maturity, m.rootTokenId, m.currency, h.minUnit, s.face, s.supply);
    }

    /// @inheritdoc IReceivableTokenCore
    function pieceTerms(uint256 tokenId) external view returns (PieceTerms memory) {
        ReceivableTokenStorage storage $ = _s();
        uint256 slot = _requireCore(tokenId).slot;
        SlotHead memory h = $.heads[slot];
        return PieceTerms(h.obligor, h.maturity, $.money[slot].currency);
    }

    /// @inheritdoc IReceivableTokenCore
    function parentOf(uint256 tokenId) external view returns (uint256) {
        return _requireMinted(tokenId).parent;
    }

    /// @inheritdoc IReceivableTokenCore
    function rootOf(uint256 tokenId) external view returns (uint256) {
        ReceivableTokenStorage storage $ = _s();
        return $.money[_requireMinted(tokenId).slot].rootTokenId;
    }

    /// @inheritdoc IReceivableTokenCore
    /// @dev 0 for the issued token held by the tier-1 supplier; a piece it pays to a tier-2 supplier is 1.
    function depthOf(uint256 tokenId) external view returns (uint256) {
        return _requireMinted(tokenId).depth;
    }

    /// @inheritdoc IReceivableTokenCore
    function isFrozen(uint256 tokenId) external view returns (bool) {
        return _requireCore(tokenId).frozen && _s().frozenValues[tokenId] == 0;
    }

    /// @inheritdoc IReceivableTokenCore
    function exists(uint256 tokenId) external view returns (bool) {
        ReceivableTokenStorage storage $ = _s();
        return $.cores[tokenId].owner != address(0);
    }

    /// @inheritdoc IReceivableTokenCore
    function lastTokenId() external view returns (uint256) {
        ReceivableTokenStorage storage $ = _s();
        return $.lastTokenId;
    }

    /// @inheritdoc IReceivableTokenCore
    function lastSlot() external view returns (uint256) {
        ReceivableTokenStorage storage $ = _s();
        return $.lastSlot;
    }

    // ------------------------------------------------------------------ internals

    /// @dev The pieces of `splitBatch`, each checked and made as `_split` would (the same rules, errors and events,
    ///      in the same order per piece; the registry checks the parties of the whole batch first, in one call),
    ///      with the source's value record, the slot's head and the id counter read once and the source's value
    ///      and the counter written once, after the last piece.
    function _splitBatch(uint256 tokenId, TokenCore memory c, address[] calldata recipients, uint256[] calldata values)
        private
        returns (uint256[] memory ids)
    {
        for (uint256 i = 0; i < recipients.length; ++i) {
            if (recipients[i] == address(0)) revert InvalidReceiver(address(0));
        }
        BatchSource memory b = BatchSource(tokenId, c, _s().heads[c.slot], _s().values[tokenId]);
        participants.checkMoveBatch(c.owner, recipients, b.head.obligor, uint256(b.value.depth) + 1);
        uint256 id = _s().lastTokenId;
        ids = new uint256[](recipients.length);
        for (uint256 i = 0; i < recipients.length; ++i) {
            ids[i] = ++id;
            _batchPiece(b, id, recipients[i], values[i]);
        }
        _s().lastTokenId = id.toUint48();
        TokenValue memory v = b.value;
        _s().values[tokenId] = TokenValue(v.value, v.parent, v.depth, v.slot);
    }

    /// @dev Piece `id` of a batch split: `_split`'s checks of the piece, the piece, its `TransferValue`; the
    ///      source's value record `b.value` (in memory) is debited.
    function _batchPiece(BatchSource memory b, uint256 id, address to, uint256 value) private {
        TokenCore memory c = b.core;
        if (c.frozen) _checkFrozenAt(b.tokenId, c, value, b.value.value);
        if (c.epoch & LOCKED != 0) _revertPending(b.tokenId);
        if (block.timestamp >= b.head.maturity) revert ObligationMatured(c.slot, b.head.maturity);
        if (value == 0 || value % b.head.minUnit != 0) revert NotMultipleOfMinUnit(value, b.head.minUnit);
        bool pend = _pends(c, to, HOLDER_MOVE | PEND);
        _makeToken(
            id,
            pend ? c.owner : to,
            (c.epoch & BILL) | (pend ? LOCKED : 0),
            c.slot,
            b.tokenId,
            uint256(b.value.depth) + 1,
            value
        );
        uint256 balance = b.value.value;
        if (balance < value) revert InsufficientBalance(b.tokenId, balance, value);
        // balance >= value, checked above.
        unchecked {
            b.value.value = uint128(balance - value);
        }
        emit IERC3525.TransferValue(b.tokenId, id, value);
        if (pend) _recordPending(id, b.tokenId, c, to, value);
    }

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

    /// @dev The checks of new terms' numbers, each with its own error.
    function _checkAmounts(uint256 face, uint256 minUnit, uint256 maturity) private view {
        if (face == 0) revert ZeroFace();
        if (minUnit == 0) revert ZeroMinUnit();
        if (face % minUnit != 0) revert FaceNotMultipleOfMinUnit(face, minUnit);
        if (maturity <= block.timestamp) revert MaturityNotInFuture(maturity, block.timestamp);
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

    /// @notice Every selector this contract does not declare runs in the extension, in this contract's storage
    ///         (`delegatecall`), and answers as if the token had it; ether is refused (not payable).
    /// @dev OpenZeppelin `Proxy._delegate`'s code. OpenZeppelin `Proxy` itself is not inherited: its `fallback` is
    ///      payable, which would make the token accept ether with any extension call and every conversion of an
    ///      `address` to this contract type need an `address payable`.
    fallback() external {
        address target = _extension;
        assembly ("memory-safe") {
            calldatacopy(0x00, 0x00, calldatasize())
            let result := delegatecall(gas(), target, 0x00, calldatasize(), 0x00, 0x00)
            returndatacopy(0x00, 0x00, returndatasize())
            switch result
            case 0 { revert(0x00, returndatasize()) }
            default { return(0x00, returndatasize()) }
        }
    }

    /// @dev Only a holder of the registry's DEFAULT_ADMIN_ROLE (governance) upgrades, and only to an
    ///      implementation wired to the same registry, whose extension (if it has one) is wired to it too.
    function _authorizeUpgrade(address newImplementation) internal view override {
        UpgradeGuard.checkAdmin(participants, msg.sender);
        if (UpgradeGuard.wiredTo(newImplementation, IWiring.participants.selector) != address(participants)) {
            revert UpgradeMiswired(newImplementation);
        }
        address next = UpgradeGuard.wiredTo(newImplementation, IReceivableTokenCore.extension.selector);
        if (next != address(0) && UpgradeGuard.wiredTo(next, IWiring.participants.selector) != address(participants)) {
            revert ExtensionMiswired(next);
        }
    }
}
