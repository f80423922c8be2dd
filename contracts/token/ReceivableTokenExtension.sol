// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {IERC721} from "@solvprotocol/erc-3525/IERC721.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {IERC7943MultiToken} from "../interfaces/IERC7943.sol";
import {IReceivableTokenExtension} from "../interfaces/IReceivableToken.sol";
import {Roles} from "../libraries/Roles.sol";
import {ReceivableTokenBase} from "./ReceivableTokenBase.sol";

/// @title ReceivableTokenExtension
/// @notice The receivable token's rarely used functions: bill-mode acceptance (签收, 拒收, 撤回, expiry), the
///         regulator's freezes (whole and ERC-7943 value freezes), court orders (ERC-7943 `forcedTransfer`
///         included), ERC-7943's compliance views, lost-key recovery, metadata URIs and lineage. The token (`ReceivableToken`) reaches them
///         from its `fallback()` by `delegatecall`, so they run in the token proxy's storage and answer for it;
///         callers see one contract (`IReceivableToken`).
/// @dev Holds no state of its own: it shares the token's ERC-7201 namespace through `ReceivableTokenBase`, and its
///      immutables (registry, value decimals, its own address) are code. Every function but `participants()`
///      refuses a call that does not come through the token (`NotDelegated`), so the extension's own address
///      never holds tokens or answers for them. The re-entrancy guard is the token's (transient storage of the
///      proxy), so the token and the extension hold one guard.
contract ReceivableTokenExtension is ReceivableTokenBase, IReceivableTokenExtension {
    using Strings for uint256;

    /// @notice The most tokens one `recoverTokens` call moves (a bounded batch).
    uint256 public constant MAX_RECOVERY_BATCH = 100;

    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    address private immutable _self = address(this);

    /// @notice The extension of tokens wired to `registry`.
    /// @param registry Participant registry (proxy): must be the token's.
    /// @param valueDecimals_ Decimals of values for display, as the token's.
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(IParticipantRegistry registry, uint8 valueDecimals_) ReceivableTokenBase(registry, valueDecimals_) {}

    /// @dev Refuses a direct call: the extension only runs in the token's context (like UUPS `notDelegated`,
    ///      inverted).
    modifier onlyDelegated() {
        _checkDelegated();
        _;
    }

    // ------------------------------------------------------------------ bill mode (签收, 拒收, 撤回)

    /// @inheritdoc IReceivableTokenExtension
    /// @dev Refused while frozen, after expiry (which is never after maturity), while moves are paused or the
    ///      receiver is not an active holder. The piece's approvals are void (epoch bump); a split piece's
    ///      receiver callback runs last.
    function acceptMove(uint256 tokenId) external onlyDelegated nonReentrant {
        ReceivableTokenStorage storage $ = _s();
        PendingMove memory p = _requirePending(tokenId);
        if (msg.sender != p.to) revert NotMoveParty(msg.sender, tokenId);
        TokenCore memory c = $.cores[tokenId];
        if (c.frozen) _checkFrozen(tokenId, c, 0);
        if (block.timestamp >= p.expiry) revert MoveExpired(tokenId, p.expiry);
        participants.checkNotPaused(Roles.OP_MOVES);
        delete $.pendingMoves[tokenId];
        c.epoch &= ~LOCKED;
        _moveToken(tokenId, c, p.to, 0);
        uint256 value = $.values[tokenId].value;
        emit MoveAccepted(tokenId, p.from, p.to, value);
        if (p.source != 0) _checkOnERC3525Received(p.source, tokenId, p.to, value);
    }

    /// @inheritdoc IReceivableTokenExtension
    /// @dev Never paused: a return must always be possible.
    function refuseMove(uint256 tokenId) external onlyDelegated nonReentrant {
        _endMove(tokenId, ReturnReason.Refused);
    }

    /// @inheritdoc IReceivableTokenExtension
    /// @dev Never paused: a return must always be possible.
    function withdrawMove(uint256 tokenId) external onlyDelegated nonReentrant {
        _endMove(tokenId, ReturnReason.Withdrawn);
    }

    /// @inheritdoc IReceivableTokenExtension
    /// @dev The reason is `Matured` once the obligation matured, otherwise `Expired`.
    function expireMove(uint256 tokenId) external onlyDelegated nonReentrant {
        _endMove(tokenId, ReturnReason.Expired);
    }

    /// @inheritdoc IReceivableTokenExtension
    function pendingMove(uint256 tokenId) external view onlyDelegated returns (PendingMove memory p) {
        PendingRecord memory r = _s().pendingMoves[tokenId];
        if (r.to != address(0)) p = PendingMove(_s().cores[tokenId].owner, r.source, r.expiry, r.to);
    }

    /// @inheritdoc IReceivableTokenExtension
    function billWindowOf(uint256 slot) external view onlyDelegated returns (uint256) {
        return _s().billWindows[slot];
    }

    // ------------------------------------------------------------------ regulator and enforcement

    /// @inheritdoc IReceivableTokenExtension
    function freeze(uint256 tokenId, uint32 reasonCode) external onlyDelegated nonReentrant {
        ReceivableTokenStorage storage $ = _s();
        participants.checkActiveRole(msg.sender, Roles.REGULATOR);
        TokenCore storage c = $.cores[tokenId];
        if (c.owner == address(0)) revert NonexistentToken(tokenId);
        // Frozen whole already, or under a value freeze (which the regulator clears first: setFrozenTokens 0).
        if (c.frozen) revert TokenFrozen(tokenId);
        c.frozen = true;
        emit Frozen(tokenId, msg.sender, reasonCode);
    }

    /// @inheritdoc IReceivableTokenExtension
    function unfreeze(uint256 tokenId, uint32 reasonCode) external onlyDelegated nonReentrant {
        ReceivableTokenStorage storage $ = _s();
        participants.checkActiveRole(msg.sender, Roles.REGULATOR);
        TokenCore storage c = $.cores[tokenId];
        if (c.owner == address(0)) revert NonexistentToken(tokenId);
        if (!c.frozen || $.frozenValues[tokenId] != 0) revert TokenNotFrozen(tokenId);
        c.frozen = false;
        emit Unfrozen(tokenId, msg.sender, reasonCode);
    }

    /// @inheritdoc IReceivableTokenExtension
    /// @dev A court order overrides the freeze, maturity and the source's status (often why a court acts);
    ///      the receiver must still be an active holder and the value a multiple of the minimum unit.
    ///      Moving the whole token keeps its frozen flag; a split-off piece starts unfrozen. A pending move of
    ///      `tokenId` is cancelled first (`MoveReturned`, Enforced; the piece stays apart), and nothing pends.
    function forceTransfer(uint256 tokenId, address to, uint256 value, bytes32 orderRef)
        external
        onlyDelegated
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

    // ------------------------------------------------------------------ ERC-7943 (uRWA)

    /// @inheritdoc IERC7943MultiToken
    /// @dev An active REGULATOR. `account` must own `tokenId` (`IncorrectOwner`). The amount may exceed the piece's
    ///      value (then nothing of it can move); 0 lifts the value freeze. A piece frozen whole (`freeze`) is
    ///      refused (`TokenFrozen`): the regulator unfreezes it first. Encoding: a nonzero frozen value raises the
    ///      piece's `frozen` flag, so the move paths read the frozen value only for flagged pieces; `isFrozen`
    ///      reports the whole freeze only.
    function setFrozenTokens(address account, uint256 tokenId, uint256 amount)
        external
        onlyDelegated
        nonReentrant
        returns (bool result)
    {
        ReceivableTokenStorage storage $ = _s();
        participants.checkActiveRole(msg.sender, Roles.REGULATOR);
        TokenCore memory c = _requireCore(tokenId);
        if (account != c.owner) revert IncorrectOwner(account, tokenId, c.owner);
        if (c.frozen && $.frozenValues[tokenId] == 0) revert TokenFrozen(tokenId);
        $.cores[tokenId].frozen = amount != 0;
        $.frozenValues[tokenId] = amount;
        emit IERC7943MultiToken.Frozen(account, tokenId, amount);
        return true;
    }

    /// @inheritdoc IERC7943MultiToken
    /// @dev The owner's frozen value of the piece: its whole value while frozen whole, its frozen value under a
    ///      value freeze, 0 otherwise and for any other account.
    function getFrozenTokens(address account, uint256 tokenId) external view onlyDelegated returns (uint256) {
        TokenCore memory c = _s().cores[tokenId];
        if (!c.frozen || c.owner != account) return 0;
        uint256 frozenValue = _s().frozenValues[tokenId];
        return frozenValue == 0 ? _s().values[tokenId].value : frozenValue;
    }

    /// @inheritdoc IERC7943MultiToken
    /// @dev An active holder (CORE_ENTERPRISE, SUPPLIER or BANK) in the registry.
    function canSend(address account) external view onlyDelegated returns (bool) {
        return _isHolder(account);
    }

    /// @inheritdoc IERC7943MultiToken
    /// @dev An active holder (CORE_ENTERPRISE, SUPPLIER or BANK) in the registry.
    function canReceive(address account) external view onlyDelegated returns (bool) {
        return _isHolder(account);
    }

    /// @inheritdoc IReceivableTokenExtension
    function canTransact(address account) external view onlyDelegated returns (bool) {
        return _isHolder(account);
    }

    /// @inheritdoc IERC7943MultiToken
    /// @dev Every rule a holder's move of `amount` out of `tokenId` applies: `from` owns it, it is not pending,
    ///      `amount` is positive and within its value, the frozen value stays (a whole move needs no freeze at all),
    ///      the obligation has not matured, a split is a multiple of the minimum unit, and the registry's
    ///      `checkMove` (pause, both holders, trade background, depth) passes. An approval is not a rule here.
    function canTransfer(address from, address to, uint256 tokenId, uint256 amount)
        external
        view
        onlyDelegated
        returns (bool)
    {
        ReceivableTokenStorage storage $ = _s();
        TokenCore memory c = $.cores[tokenId];
        if (c.owner == address(0) || c.owner != from || to == address(0) || c.epoch & LOCKED != 0) return false;
        TokenValue memory v = $.values[tokenId];
        if (amount == 0 || amount > v.value) return false;
        bool whole = amount == v.value;
        if (c.frozen) {
            uint256 frozenValue = $.frozenValues[tokenId];
            if (frozenValue == 0 || v.value - amount < frozenValue) return false;
        }
        SlotHead memory h = $.heads[c.slot];
        if (block.timestamp >= h.maturity) return false;
        if (!whole && amount % h.minUnit != 0) return false;
        try participants.checkMove(from, to, h.obligor, whole ? 0 : uint256(v.depth) + 1) {
            return true;
        } catch {
            return false;
        }
    }

    /// @inheritdoc IERC7943MultiToken
    /// @dev ENFORCEMENT. Refuses `from == to` (`ERC7943CannotTransfer`: a self-transfer must not lift a freeze)
    ///      and a `from` that does not own `tokenId` (`IncorrectOwner`). Otherwise `forceTransferOrder` with no
    ///      order reference and the frozen value kept: the moved part's frozen share goes with it.
    function forcedTransfer(address from, address to, uint256 tokenId, uint256 amount)
        external
        onlyDelegated
        nonReentrant
        onlyRole(Roles.ENFORCEMENT)
        returns (bool result)
    {
        if (from == to) revert ERC7943CannotTransfer(from, to, tokenId, amount);
        TokenCore memory c = _requireCore(tokenId);
        if (c.owner != from) revert IncorrectOwner(from, tokenId, c.owner);
        _forceMove(tokenId, c, to, amount, bytes32(0), false);
        return true;
    }

    /// @inheritdoc IReceivableTokenExtension
    /// @dev As `forceTransfer` (freezes, maturity and the source's status overridden; the receiver an active
    ///      holder; a pending move cancelled first), and frozen value follows the rule: the piece's frozen value
    ///      F (its whole value while frozen whole) splits as share = min(F, value) to the moved part and F − share
    ///      to what stays. A whole move keeps the piece's freeze; a split-off piece is frozen by value at its
    ///      share; `releaseFrozen` lifts the moved share instead. Emits ERC-7943's `Frozen` for every piece whose
    ///      holder's frozen value changed (the sender's before the transfer events) and `ForcedTransfer`, then
    ///      Tierchain's `ForcedTransfer` with `orderRef`.
    function forceTransferOrder(uint256 tokenId, address to, uint256 value, bytes32 orderRef, bool releaseFrozen)
        external
        onlyDelegated
        nonReentrant
        onlyRole(Roles.ENFORCEMENT)
        returns (uint256 toTokenId)
    {
        TokenCore memory c = _requireCore(tokenId);
        if (to == c.owner) revert ERC7943CannotTransfer(c.owner, to, tokenId, value);
        return _forceMove(tokenId, c, to, value, orderRef, releaseFrozen);
    }

    /// @inheritdoc IReceivableTokenExtension
    /// @dev For each id: held by `lost`, its owner becomes the replacement (balances, `Transfer`, an epoch bump that
    ///      voids every approval); its frozen flag, value, lineage, bill and locked flags stay, and so does a move it
    ///      has pending (whose sender is its owner, now the replacement). Otherwise, pending to `lost`, the pending
    ///      move's receiver becomes the replacement. Nothing else is touched: no receiver callback runs, no rule
    ///      of a holder move applies (the registry decided the recovery), and the operator approvals `lost` gave
    ///      cover none of the replacement's tokens.
    function recoverTokens(address lost, uint256[] calldata tokenIds, bytes32 caseRef)
        external
        onlyDelegated
        nonReentrant
        onlyRole(Roles.ENFORCEMENT)
    {
        ReceivableTokenStorage storage $ = _s();
        address replacement = participants.recoveredTo(lost);
        if (replacement == address(0)) revert NotRecovered(lost);
        uint256 n = tokenIds.length;
        if (n == 0) revert EmptyBatch();
        if (n > MAX_RECOVERY_BATCH) revert RecoveryBatchTooLarge(n, MAX_RECOVERY_BATCH);
        for (uint256 i = 0; i < n; ++i) {
            uint256 tokenId = tokenIds[i];
            TokenCore memory c = $.cores[tokenId];
            if (c.owner == lost) {
                // lost holds this token, so its count is >= 1; no count nears 2^256.
                unchecked {
                    $.balances[lost] -= 1;
                    $.balances[replacement] += 1;
                }
                $.cores[tokenId] = TokenCore(replacement, c.slot, c.frozen, c.epoch + 1);
                emit IERC721.Transfer(lost, replacement, tokenId);
            } else if (c.owner != address(0) && $.pendingMoves[tokenId].to == lost) {
                $.pendingMoves[tokenId].to = replacement;
            } else {
                revert NotRecoverable(tokenId, lost);
            }
            emit TokenRecovered(tokenId, lost, replacement, caseRef);
        }
    }

    // ------------------------------------------------------------------ metadata and lineage

    /// @notice The token's URI: `<baseURI>token/<id>`, or empty while no base URI is set (ERC-721 metadata).
    /// @param tokenId A live token.
    function tokenURI(uint256 tokenId) external view onlyDelegated returns (string memory) {
        ReceivableTokenStorage storage $ = _s();
        _requireCore(tokenId);
        return bytes($.baseURI).length == 0 ? "" : string.concat($.baseURI, "token/", tokenId.toString());
    }

    /// @notice The contract's URI: `<baseURI>contract`, or empty while no base URI is set (ERC-3525 metadata).
    function contractURI() external view onlyDelegated returns (string memory) {
        ReceivableTokenStorage storage $ = _s();
        return bytes($.baseURI).length == 0 ? "" : string.concat($.baseURI, "contract");
    }

    /// @notice A slot's URI: `<baseURI>slot/<slot>`, or empty while no base URI is set (ERC-3525 metadata).
    /// @param slot A slot (obligation) id.
    function slotURI(uint256 slot) external view onlyDelegated returns (string memory) {
        ReceivableTokenStorage storage $ = _s();
        return bytes($.baseURI).length == 0 ? "" : string.concat($.baseURI, "slot/", slot.toString());
    }

    /// @inheritdoc IReceivableTokenExtension
    function setBaseURI(string calldata baseURI_) external onlyDelegated nonReentrant onlyRole(Roles.POLICY) {
        ReceivableTokenStorage storage $ = _s();
        $.baseURI = baseURI_;
        emit BaseURIChanged(baseURI_);
    }

    /// @inheritdoc IReceivableTokenExtension
    /// @dev `chain[0]` is `tokenId`, the last element the slot's root; burned ancestors are included.
    function lineage(uint256 tokenId) external view onlyDelegated returns (uint256[] memory chain) {
        ReceivableTokenStorage storage $ = _s();
        TokenValue memory v = _requireMinted(tokenId);
        chain = new uint256[](uint256(v.depth) + 1);
        chain[0] = tokenId;
        for (uint256 i = 1; i < chain.length; ++i) {
            chain[i] = v.parent;
            v = $.values[v.parent];
        }
    }

    // ------------------------------------------------------------------ internals

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

    /// @dev The court order of `forceTransferOrder` / `forcedTransfer`; `c` is `tokenId`'s core, `to` not its owner.
    function _forceMove(
        uint256 tokenId,
        TokenCore memory c,
        address to,
        uint256 value,
        bytes32 orderRef,
        bool releaseFrozen
    ) private returns (uint256 toTokenId) {
        address from = c.owner;
        if (c.epoch & LOCKED != 0) {
            _returnMove(tokenId, _requirePending(tokenId), ReturnReason.Enforced, false);
            c.epoch = (c.epoch & ~LOCKED) + 1;
        }
        bool whole = value == _s().values[tokenId].value;
        toTokenId =
            whole ? _forceWhole(tokenId, c, to, releaseFrozen) : _forceSplit(tokenId, c, to, value, releaseFrozen);
        emit IERC7943MultiToken.ForcedTransfer(from, to, tokenId, value);
        emit ForcedTransfer(tokenId, toTokenId, to, value, orderRef, msg.sender);
        if (!whole) _checkOnERC3525Received(tokenId, toTokenId, to, value);
    }

    /// @dev The whole piece moves with its freeze (its frozen value F: all of it while frozen whole), or without
    ///      it when `releaseFrozen`.
    function _forceWhole(uint256 tokenId, TokenCore memory c, address to, bool releaseFrozen)
        private
        returns (uint256)
    {
        ReceivableTokenStorage storage $ = _s();
        uint256 frozenValue = c.frozen ? $.frozenValues[tokenId] : 0;
        uint256 frozen = c.frozen ? (frozenValue == 0 ? $.values[tokenId].value : frozenValue) : 0;
        if (frozen != 0) {
            // The sender's frozen value of the piece ends before the transfer event, as ERC-7943 asks.
            emit IERC7943MultiToken.Frozen(c.owner, tokenId, 0);
            if (releaseFrozen) {
                c.frozen = false;
                delete $.frozenValues[tokenId];
                if (frozenValue == 0) emit Unfrozen(tokenId, msg.sender, 0);
            }
        }
        _moveToken(tokenId, c, to, 0);
        if (frozen != 0 && !releaseFrozen) emit IERC7943MultiToken.Frozen(to, tokenId, frozen);
        return tokenId;
    }

    /// @dev `value` splits off to `to` with its frozen share min(F, value), unless `releaseFrozen`; the source
    ///      keeps F − share (a piece frozen whole stays frozen whole: F is its whole remaining value).
    function _forceSplit(uint256 tokenId, TokenCore memory c, address to, uint256 value, bool releaseFrozen)
        private
        returns (uint256 toTokenId)
    {
        ReceivableTokenStorage storage $ = _s();
        uint256 frozenValue = c.frozen ? $.frozenValues[tokenId] : 0;
        uint256 frozen = c.frozen ? (frozenValue == 0 ? $.values[tokenId].value : frozenValue) : 0;
        uint256 share = frozen < value ? frozen : value;
        if (share != 0) {
            if (frozenValue != 0) {
                $.frozenValues[tokenId] = frozenValue - share;
                if (frozenValue == share) $.cores[tokenId].frozen = false;
            }
            emit IERC7943MultiToken.Frozen(c.owner, tokenId, frozen - share);
        }
        toTokenId = _split(tokenId, c, to, value, CHECK_UNIT);
        if (share != 0 && !releaseFrozen) {
            $.cores[toTokenId].frozen = true;
            $.frozenValues[toTokenId] = share;
            emit IERC7943MultiToken.Frozen(to, toTokenId, share);
        }
    }

    /// @dev True when the registry accepts `account` as an active holder; never reverts.
    function _isHolder(address account) private view returns (bool) {
        try participants.checkHolders(account, account) {
            return true;
        } catch {
            return false;
        }
    }

    function _checkDelegated() private view {
        if (address(this) == _self) revert NotDelegated(_self);
    }
}
