// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC721} from "@solvprotocol/erc-3525/IERC721.sol";
import {IERC3525} from "@solvprotocol/erc-3525/IERC3525.sol";
import {IERC3525Receiver} from "@solvprotocol/erc-3525/IERC3525Receiver.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {IERC7943MultiToken} from "../interfaces/IERC7943.sol";
import {IReceivableTokenBase} from "../interfaces/IReceivableToken.sol";

/// @title ReceivableTokenBase
/// @notice The state and the internal code shared by `ReceivableToken` and `ReceivableTokenExtension`: both run
///         in the token proxy's storage (the extension through the token's `delegatecall`), so both declare the
///         same ERC-7201 namespace here, once.
/// @dev Storage is packed for the hot paths: a token is two slots (`TokenCore`: owner, slot, frozen flag,
///      approval epoch; `TokenValue`: value, parent, depth, slot), an obligation three, of which the
///      one every move reads holds both rules it needs (maturity and minimum unit). A minimum unit is
///      therefore at most 2^48 − 1 minor units (2.8 trillion in a 2-decimal currency).
///      Approvals are never cleared by writing zero: each ERC-721 and value approval records the token's
///      approval epoch, and moving the whole token bumps the epoch, which voids them all at no extra cost.
///      Mutation paths: `_moveValue` is the only code that changes a token's value, `_moveToken` the only
///      code that changes an owner, `_makeToken`/`_burn` the only code that creates or destroys tokens.
///      The rules (frozen, matured, minimum unit, active participants) are applied by `_checkPolicy` and
///      `participants.checkMove`/`checkHolders` before any of them runs.
///      Freezes: the `frozen` flag of `TokenCore` marks a piece the move paths must look at. With a frozen value of
///      0 (`frozenValues`) it is the regulator's whole-piece freeze (`freeze`, `isFrozen`); with a nonzero frozen
///      value it is an ERC-7943 value freeze (`setFrozenTokens`): a move may take value out only down to the
///      frozen value, and the whole token cannot move. Pieces without the flag never read `frozenValues`.
///      Internal functions are compiled only into the contract that uses them. No plain state variables: the
///      immutables live in each contract's code (the token's and the extension's name the same registry).
abstract contract ReceivableTokenBase is IReceivableTokenBase, ReentrancyGuardTransient {
    using SafeCast for uint256;

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
    uint216 internal constant UNLIMITED = type(uint216).max;

    uint256 internal constant CHECK_FROZEN = 1;
    uint256 internal constant CHECK_LIVE = 2;
    uint256 internal constant CHECK_UNIT = 4;
    uint256 internal constant CHECK_PARTIES = 8;
    uint256 internal constant CHECK_ALL = 15;

    /// @dev Holder-initiated moves also check that moves are not paused (`OP_MOVES`), in the same registry
    ///      call as the holders (`checkMove`); desk and enforcement moves do not.
    uint256 internal constant CHECK_OPEN = 16;
    uint256 internal constant HOLDER_MOVE = CHECK_ALL | CHECK_OPEN;
    /// @dev A payment (holder split or whole transfer, a trade-backed desk payment) pends in bill mode.
    uint256 internal constant PEND = 32;

    /// @dev Bill mode flags ride in the two top bits of a token's approval epoch, which the move paths load
    ///      anyway: `BILL` (the piece's obligation settles in bill mode, inherited at split) and `LOCKED` (the
    ///      piece is pending acceptance). Epochs count up from the flags and never reach bit 38, so the flags
    ///      survive every bump; setting or clearing `LOCKED` also bumps the epoch, voiding every approval.
    uint40 internal constant BILL = uint40(1) << 39;
    uint40 internal constant LOCKED = uint40(1) << 38;

    /// @inheritdoc IReceivableTokenBase
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    IParticipantRegistry public immutable participants;
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    uint8 internal immutable _valueDecimals;

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
        // ERC-7943 value freeze (appended): the frozen value of a piece whose `frozen` flag is raised; 0 with the
        // flag raised is the whole-piece freeze (`freeze`), so only flagged pieces ever read it.
        mapping(uint256 tokenId => uint256) frozenValues;
    }

    // keccak256(abi.encode(uint256(keccak256("tierchain.storage.ReceivableToken")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 internal constant STORAGE_SLOT = 0x0dfd51ff811f30f31e2be76ec4335e38faa8280a580898e835c78bee5ce95400;

    /// @param registry Participant registry (proxy): holder checks, the pause bits and every role.
    /// @param valueDecimals_ Decimals of values for display: values are minor units (2 for CNY, USD, EUR).
    /// @custom:oz-upgrades-unsafe-allow constructor state-variable-immutable
    constructor(IParticipantRegistry registry, uint8 valueDecimals_) {
        participants = registry;
        _valueDecimals = valueDecimals_;
    }

    /// @dev The check lives in a function so that each use of the modifier does not inline the registry call.
    modifier onlyRole(bytes32 role) {
        _checkRole(role);
        _;
    }

    // ------------------------------------------------------------------ moves

    /// @dev True when a move of `c` to `to` under `policy` pends: a payment (`PEND`) of a bill-mode piece to
    ///      someone else.
    function _pends(TokenCore memory c, address to, uint256 policy) internal pure returns (bool) {
        return policy & PEND != 0 && c.epoch & BILL != 0 && to != c.owner;
    }

    /// @dev Records the pending move of `tokenId` (already locked), expiring after the slot's window or at
    ///      maturity, whichever comes first.
    function _recordPending(uint256 tokenId, uint256 source, TokenCore memory c, address to, uint256 value) internal {
        ReceivableTokenStorage storage $ = _s();
        uint256 expiry = block.timestamp + $.billWindows[c.slot];
        uint256 maturity = $.heads[c.slot].maturity;
        if (expiry > maturity) expiry = maturity;
        // expiry <= maturity, a uint48; source is a token id, a uint48.
        $.pendingMoves[tokenId] = PendingRecord(to, uint48(source), uint40(expiry));
        emit MovePending(tokenId, source, c.owner, to, value, expiry);
    }

    /// @dev Ends a pending move without acceptance. The value goes back into the source piece when `mayMerge`
    ///      and the source is still the sender's, unlocked, and neither piece is frozen (the pending piece is
    ///      burned; its lineage record stays); otherwise the piece is simply unlocked (epoch bump).
    function _returnMove(uint256 tokenId, PendingMove memory p, ReturnReason reason, bool mayMerge) internal {
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

    function _requirePending(uint256 tokenId) internal view returns (PendingMove memory) {
        ReceivableTokenStorage storage $ = _s();
        PendingRecord memory r = $.pendingMoves[tokenId];
        if (r.to == address(0)) revert NoPendingMove(tokenId);
        return PendingMove($.cores[tokenId].owner, r.source, r.expiry, r.to);
    }

    function _revertPending(uint256 tokenId) internal view {
        PendingRecord memory p = _s().pendingMoves[tokenId];
        revert AwaitingAcceptance(tokenId, p.to, p.expiry);
    }

    /// @dev Creates a piece for `to` and moves `value` into it from `fromTokenId`; a payment in bill mode
    ///      (`_pends`) creates it for the sender instead, locked, pending `to`'s acceptance. Makes no external call but
    ///      the registry's view check: the caller calls the receiver (`_checkOnERC3525Received`) afterwards.
    ///      The source's value record and the obligation's head are read once; the new piece's value is written
    ///      once, with the piece.
    function _split(uint256 fromTokenId, TokenCore memory c, address to, uint256 value, uint256 policy)
        internal
        returns (uint256 newTokenId)
    {
        if (to == address(0)) revert InvalidReceiver(to);
        TokenValue memory v = _s().values[fromTokenId];
        {
            SlotHead memory h = _head(c.slot, policy);
            _checkParties(c, h, to, policy, uint256(v.depth) + 1);
            _checkPolicy(fromTokenId, c, h, value, policy);
        }
        bool pend = _pends(c, to, policy);
        newTokenId = ++_s().lastTokenId;
        _makeToken(
            newTokenId,
            pend ? c.owner : to,
            (c.epoch & BILL) | (pend ? LOCKED : 0),
            c.slot,
            fromTokenId,
            uint256(v.depth) + 1,
            value
        );
        if (v.value < value) revert InsufficientBalance(fromTokenId, v.value, value);
        // v.value >= value, checked above.
        unchecked {
            _s().values[fromTokenId] = TokenValue(uint128(v.value - value), v.parent, v.depth, v.slot);
        }
        emit IERC3525.TransferValue(fromTokenId, newTokenId, value);
        if (pend) _recordPending(newTokenId, fromTokenId, c, to, value);
    }

    /// @dev The only code that changes an owner. Bumping the epoch voids every approval of the token. A payment
    ///      that pends (`_pends`) changes no owner: the token is locked (epoch bump) with a pending record.
    function _moveToken(uint256 tokenId, TokenCore memory c, address to, uint256 policy) internal {
        ReceivableTokenStorage storage $ = _s();
        if (to == address(0)) revert InvalidReceiver(to);
        SlotHead memory h = _head(c.slot, policy);
        _checkParties(c, h, to, policy, 0);
        _checkPolicy(tokenId, c, h, 0, policy & (CHECK_FROZEN | CHECK_LIVE));
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
        emit IERC721.Transfer(c.owner, to, tokenId);
    }

    /// @dev The only code that changes a token's value; 0 as an id means mint (from) or burn (to).
    ///      Callers have applied the policy and checked both tokens share a slot.
    function _moveValue(uint256 fromTokenId, uint256 toTokenId, uint256 value) internal {
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
        emit IERC3525.TransferValue(fromTokenId, toTokenId, value);
    }

    /// @dev Creates the next token, the root of `slot` holding `value` (the caller emits `TransferValue`).
    function _createRoot(address to, uint256 slot, uint40 flags, uint256 value) internal returns (uint256 id) {
        id = ++_s().lastTokenId;
        _makeToken(id, to, flags, slot, 0, 0, value);
    }

    /// @dev Writes token `id` (its id already counted in `lastTokenId`) for `to`, holding `value`: each of its two
    ///      slots once. The caller moves the value out of its source, or mints it, and emits `TransferValue`.
    ///      `value` is at most its source's value or a face checked to fit 128 bits; `parent` and `slot` are ids,
    ///      which fit 48 bits (`lastTokenId`, `lastSlot`).
    function _makeToken(
        uint256 id,
        address to,
        uint40 flags,
        uint256 slot,
        uint256 parent,
        uint256 depth,
        uint256 value
    ) internal {
        ReceivableTokenStorage storage $ = _s();
        // `TokenCore(to, slot, false, flags)` in one SSTORE (the compiler stores this literal member by member):
        // `TokenCore`'s released layout puts the owner in bits 0-159, the slot in 160-207, `frozen` in 208-215
        // and the epoch in 216-255.
        TokenCore storage core = $.cores[id];
        uint256 packed = uint256(uint160(to)) | (uint256(uint48(slot)) << 160) | (uint256(flags) << 216);
        assembly ("memory-safe") {
            sstore(core.slot, packed)
        }
        $.values[id] = TokenValue(uint128(value), uint48(parent), depth.toUint16(), uint48(slot));
        unchecked {
            $.balances[to] += 1;
        }
        emit IERC721.Transfer(address(0), to, id);
        emit IERC3525.SlotChanged(id, 0, slot);
    }

    function _burn(uint256 tokenId, address owner, uint256 slot) internal {
        ReceivableTokenStorage storage $ = _s();
        delete $.cores[tokenId];
        unchecked {
            $.balances[owner] -= 1;
        }
        emit IERC721.Transfer(owner, address(0), tokenId);
        emit IERC3525.SlotChanged(tokenId, slot, 0);
    }

    // ------------------------------------------------------------------ checks

    /// @dev The registry's one check of a move's parties: a holder move (`CHECK_OPEN`) also checks that moves
    ///      are not paused and the obligor's compliance policy (trade background, depth); a desk move checks
    ///      the depth; a check without `CHECK_PARTIES` (enforcement, a court order) checks the receiver only.
    ///      `depth` is the new piece's, 0 when no piece is made.
    ///      A desk's move (`CHECK_PARTIES` without `CHECK_OPEN`) asks the caller's DESK role in the same call
    ///      (`checkDeskCall`); the desk entry points leave their role check to it. `h` is the slot's head.
    function _checkParties(TokenCore memory c, SlotHead memory h, address to, uint256 policy, uint256 depth)
        internal
        view
    {
        if (policy & CHECK_PARTIES == 0) {
            participants.checkHolders(to, to);
        } else if (policy & CHECK_OPEN != 0) {
            participants.checkMove(c.owner, to, h.obligor, depth);
        } else if (!participants.checkDeskCall(msg.sender, c.owner, to, h.obligor, depth)) {
            revert NotAuthorized(msg.sender);
        }
    }

    /// @dev The slot's head, read once per operation; not read (zero) when `policy` needs none of it.
    function _head(uint256 slot, uint256 policy) internal view returns (SlotHead memory h) {
        if (policy & (CHECK_PARTIES | CHECK_LIVE | CHECK_UNIT) != 0) h = _s().heads[slot];
    }

    /// @dev `h` is the slot's head (`_head(c.slot, policy)`).
    function _checkPolicy(uint256 tokenId, TokenCore memory c, SlotHead memory h, uint256 value, uint256 policy)
        internal
        view
    {
        if (policy & CHECK_FROZEN != 0) {
            if (c.frozen) _checkFrozen(tokenId, c, value);
            if (c.epoch & LOCKED != 0) _revertPending(tokenId);
        }
        if (policy & CHECK_LIVE != 0) {
            if (block.timestamp >= h.maturity) revert ObligationMatured(c.slot, h.maturity);
        }
        if (policy & CHECK_UNIT != 0) {
            if (value == 0 || value % h.minUnit != 0) revert NotMultipleOfMinUnit(value, h.minUnit);
        }
    }

    /// @dev A flagged piece (`c.frozen`): reverts `TokenFrozen` when it is frozen whole (frozen value 0), and
    ///      `ERC7943InsufficientUnfrozenBalance` when moving `value` out of it (0: the whole token) would leave less
    ///      than its frozen value. Only flagged pieces come here, so unfrozen ones pay no extra read.
    function _checkFrozen(uint256 tokenId, TokenCore memory c, uint256 value) internal view {
        _checkFrozenAt(tokenId, c, value, _s().values[tokenId].value);
    }

    /// @dev `_checkFrozen` against `balance`, the piece's value at this point of the operation.
    function _checkFrozenAt(uint256 tokenId, TokenCore memory c, uint256 value, uint256 balance) internal view {
        uint256 frozenValue = _s().frozenValues[tokenId];
        if (frozenValue == 0) revert TokenFrozen(tokenId);
        uint256 amount = value == 0 ? balance : value;
        // More than the balance fails as `InsufficientBalance` where the value moves.
        if (amount <= balance && balance - amount < frozenValue) {
            revert IERC7943MultiToken.ERC7943InsufficientUnfrozenBalance(
                c.owner, tokenId, amount, balance > frozenValue ? balance - frozenValue : 0
            );
        }
    }

    function _isApprovedOrOwner(address spender, uint256 tokenId, TokenCore memory c) internal view returns (bool) {
        ReceivableTokenStorage storage $ = _s();
        return spender == c.owner || $.operatorApprovals[c.owner][spender] || _approvedOf(tokenId, c) == spender;
    }

    function _approvedOf(uint256 tokenId, TokenCore memory c) internal view returns (address) {
        ReceivableTokenStorage storage $ = _s();
        TokenApproval memory a = $.tokenApprovals[tokenId];
        return a.epoch == c.epoch ? a.approved : address(0);
    }

    function _requireCore(uint256 tokenId) internal view returns (TokenCore memory c) {
        ReceivableTokenStorage storage $ = _s();
        c = $.cores[tokenId];
        if (c.owner == address(0)) revert NonexistentToken(tokenId);
    }

    function _requireMinted(uint256 tokenId) internal view returns (TokenValue memory v) {
        ReceivableTokenStorage storage $ = _s();
        if (tokenId == 0 || tokenId > $.lastTokenId) revert NonexistentToken(tokenId);
        return $.values[tokenId];
    }

    /// @dev As EIP-3525 says: a receiving contract that declares IERC3525Receiver must accept. Called last,
    ///      under the guard, after every state change of the calling function.
    function _checkOnERC3525Received(uint256 fromTokenId, uint256 toTokenId, address to, uint256 value) internal {
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

    function _checkRole(bytes32 role) internal view {
        if (!participants.hasRole(role, msg.sender)) revert NotAuthorized(msg.sender);
    }

    /// @dev The token's ERC-7201 namespace (`tierchain.storage.ReceivableToken`), at `STORAGE_SLOT`.
    function _s() internal pure returns (ReceivableTokenStorage storage $) {
        assembly {
            $.slot := STORAGE_SLOT
        }
    }
}
