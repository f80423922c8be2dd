// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC3525} from "@solvprotocol/erc-3525/IERC3525.sol";
import {IERC3525Metadata} from "@solvprotocol/erc-3525/extensions/IERC3525Metadata.sol";
import {IERC7943MultiToken} from "./IERC7943.sol";
import {IParticipantRegistry} from "./IParticipantRegistry.sol";

/// @title IReceivableTokenBase
/// @notice The types, events and errors of Tierchain's receivable token, shared by the token and its extension
///         (declared once, so that both contracts and every ABI built from them see each exactly once).
interface IReceivableTokenBase {
    /// @notice The terms of one obligation (one slot). Amounts are minor units of `currency`.
    /// @notice What a financing needs of a piece's obligation (`pieceTerms`): the obligor, the maturity and the
    ///         settlement currency.
    struct PieceTerms {
        address obligor;
        uint256 maturity;
        address currency;
    }

    struct SlotTerms {
        address obligor;
        uint48 maturity;
        uint48 rootTokenId;
        address currency;
        uint96 minUnit;
        uint128 face;
        uint128 supply;
    }

    /// @notice A move waiting for the receiver's acceptance (签收) in bill mode. The piece stays the sender's
    ///         (`from`) and locked until `to` accepts, refuses, `from` withdraws, or it expires at `expiry`.
    /// @param source The piece it was split from, 0 when a whole token is pending.
    struct PendingMove {
        address from;
        uint48 source;
        uint40 expiry;
        address to;
    }

    /// @notice Why a pending move ended without acceptance and its value went back to the sender.
    enum ReturnReason {
        Refused,
        Withdrawn,
        Expired,
        Matured,
        Enforced
    }

    /// @notice A new obligation (slot) exists and its whole face was minted as token `rootTokenId`.
    event SlotCreated(
        uint256 indexed slot,
        address indexed obligor,
        address indexed currency,
        uint256 face,
        uint256 maturity,
        uint256 minUnit,
        uint256 rootTokenId
    );
    event Frozen(uint256 indexed tokenId, address indexed regulator, uint32 reasonCode);
    event Unfrozen(uint256 indexed tokenId, address indexed regulator, uint32 reasonCode);
    event ForcedTransfer(
        uint256 indexed fromTokenId,
        uint256 indexed toTokenId,
        address indexed to,
        uint256 value,
        bytes32 orderRef,
        address enforcer
    );
    event BaseURIChanged(string baseURI);
    /// @notice Desk contract `desk` moved `value` of `fromTokenId`, held by `holder`, to `to`: `toTokenId` is
    ///         `fromTokenId` itself when the whole token moved, otherwise the new piece.
    event DeskMoved(
        uint256 indexed fromTokenId,
        uint256 indexed toTokenId,
        address indexed desk,
        address holder,
        address to,
        uint256 value
    );
    /// @notice Desk contract `desk` redeemed (burned) `tokenId` of `slot`, worth `value`, held by `holder`.
    event DeskRedeemed(
        uint256 indexed tokenId, uint256 indexed slot, address indexed desk, address holder, uint256 value
    );

    /// @notice `tokenId` (`value`, split from `sourceTokenId`, 0 for a whole token) waits for `to` to accept
    ///         (待签收) until `expiry`; until then it is `from`'s, locked.
    event MovePending(
        uint256 indexed tokenId,
        uint256 indexed sourceTokenId,
        address indexed from,
        address to,
        uint256 value,
        uint256 expiry
    );
    /// @notice `to` accepted (签收) the pending move of `tokenId` from `from`: it is `to`'s now.
    event MoveAccepted(uint256 indexed tokenId, address indexed from, address indexed to, uint256 value);
    /// @notice The pending move of `tokenId` ended without acceptance (拒收, 撤回, expiry, maturity or a court
    ///         order): its value is the sender's again, merged into `mergedInto` (0 when it stays a piece).
    event MoveReturned(uint256 indexed tokenId, uint256 indexed mergedInto, address indexed from, ReturnReason reason);
    /// @notice Obligation `slot` settles in bill mode: its moves pend for at most `acceptanceWindow` seconds.
    event SlotBillMode(uint256 indexed slot, uint256 acceptanceWindow);
    /// @notice Lost-key recovery (case `caseRef`) moved `tokenId` from `lost` to `replacement`, the account the
    ///         registry recovered `lost` to: the piece itself when `lost` held it, otherwise the receiving end of
    ///         its pending move.
    event TokenRecovered(uint256 indexed tokenId, address indexed lost, address indexed replacement, bytes32 caseRef);

    error NoEtherAccepted();
    /// @notice `tokenId` is pending (to `to`, until `expiry`): it cannot move, merge or be financed.
    error AwaitingAcceptance(uint256 tokenId, address to, uint256 expiry);
    /// @notice `tokenId` has no pending move.
    error NoPendingMove(uint256 tokenId);
    /// @notice `account` is not the party that may do this to the pending move of `tokenId`.
    error NotMoveParty(address account, uint256 tokenId);
    /// @notice The pending move of `tokenId` expired at `expiry` (or its obligation matured): it can only return.
    error MoveExpired(uint256 tokenId, uint256 expiry);
    /// @notice The pending move of `tokenId` is still open until `expiry`: it cannot be expired yet.
    error MoveNotExpired(uint256 tokenId, uint256 expiry);
    error NotAuthorized(address account);
    error NonexistentToken(uint256 tokenId);
    error InvalidTokenId(uint256 tokenId);
    error NonexistentSlot(uint256 slot);
    error InvalidReceiver(address receiver);
    error InvalidOwner(address owner);
    error IncorrectOwner(address claimed, uint256 tokenId, address owner);
    error InsufficientApproval(address operator, uint256 tokenId);
    error InsufficientAllowance(address operator, uint256 tokenId, uint256 allowance, uint256 needed);
    error InsufficientBalance(uint256 tokenId, uint256 balance, uint256 needed);
    error SlotMismatch(uint256 fromTokenId, uint256 toTokenId);
    error TokenFrozen(uint256 tokenId);
    error TokenNotFrozen(uint256 tokenId);
    error ObligationMatured(uint256 slot, uint256 maturity);
    error ObligationNotMatured(uint256 slot, uint256 maturity);
    error NotMultipleOfMinUnit(uint256 value, uint256 minUnit);
    /// @notice A required address of new terms is zero; `field` names it ("obligor", "currency", ...).
    error ZeroAddress(string field);
    /// @notice New terms with a face of zero.
    error ZeroFace();
    /// @notice New terms with a minimum unit of zero.
    error ZeroMinUnit();
    /// @notice The face of new terms is not a whole number of minimum units.
    error FaceNotMultipleOfMinUnit(uint256 face, uint256 minUnit);
    /// @notice The maturity of new terms is not after the current block's time.
    error MaturityNotInFuture(uint256 maturity, uint256 currentTime);
    error SelfApproval(address operator);
    error RejectedByReceiver(address receiver);
    error SameToken(uint256 tokenId);
    error EmptyBatch();
    error LengthMismatch(uint256 recipients, uint256 values);
    /// @notice An upgrade to `newImplementation`, which is not wired to this contract's registry.
    error UpgradeMiswired(address newImplementation);
    /// @notice `extension` is not a contract wired to this token's registry (a token or an upgrade refuses it).
    error ExtensionMiswired(address extension);
    /// @notice The extension at `extension` was called directly: it only runs through the token's `delegatecall`.
    error NotDelegated(address extension);
    /// @notice The registry has not recovered `lost` to another account (`recoveredTo(lost)` is zero).
    error NotRecovered(address lost);
    /// @notice A recovery batch of `count` tokens, above the most one transaction takes (`max`).
    error RecoveryBatchTooLarge(uint256 count, uint256 max);
    /// @notice `tokenId` is neither held by `lost` nor pending to it: recovery has nothing to move.
    error NotRecoverable(uint256 tokenId, address lost);

    /// @notice The participant registry (a proxy) this token checks holders, pauses and roles against.
    function participants() external view returns (IParticipantRegistry);
}

/// @title IReceivableTokenCore
/// @notice The part of the receivable token its own code implements: ERC-721 and ERC-3525 (with `name`, `symbol`
///         but without the metadata URIs of `IERC3525Metadata`), splits, merges, desk moves, issuance, redemption and the views desks call.
interface IReceivableTokenCore is IReceivableTokenBase, IERC3525 {
    /// @notice The contract the token delegates its rarely used functions to (`IReceivableTokenExtension`).
    function extension() external view returns (address);

    /// @notice The version of this implementation ("1.0.0").
    function version() external pure returns (string memory);

    /// @notice Mints the whole face of a new obligation to `to` (the tier-1 supplier). Desks only.
    function createSlot(address obligor, address currency, uint256 face, uint256 maturity, uint256 minUnit, address to)
        external
        returns (uint256 slot, uint256 tokenId);

    /// @notice Splits `tokenId` into new pieces for `recipients`, one per value, in one transaction.
    function splitBatch(uint256 tokenId, address[] calldata recipients, uint256[] calldata values)
        external
        returns (uint256[] memory newTokenIds);

    /// @notice Moves `value` of `tokenId`, owned by `holder` who called the desk, to `to`. Desks only.
    /// @return toTokenId `tokenId` itself when the whole token moved, otherwise the new piece.
    function deskTransfer(address holder, uint256 tokenId, address to, uint256 value)
        external
        returns (uint256 toTokenId);

    /// @notice As `deskTransfer`, for a payment (a trade-backed move): in bill mode it pends until the receiver
    ///         accepts. Desks only.
    function deskPay(address holder, uint256 tokenId, address to, uint256 value) external returns (uint256 toTokenId);

    /// @notice Burns `tokenId`, owned by `holder`, after maturity; returns its slot and value. Desks only.
    function redeem(address holder, uint256 tokenId) external returns (uint256 slot, uint256 value);

    /// @notice The terms of obligation `slot`, with its live supply (Σ values of unredeemed pieces).
    function slotTerms(uint256 slot) external view returns (SlotTerms memory);
    /// @notice The obligor, maturity and currency of the obligation of live token `tokenId`, in one call (as
    ///         `slotTerms(slotOf(tokenId))` without the amounts); reverts `NonexistentToken` for a token not live.
    function pieceTerms(uint256 tokenId) external view returns (PieceTerms memory);
    /// @notice The token `tokenId` was split off (0 for the issued token).
    function parentOf(uint256 tokenId) external view returns (uint256);
    /// @notice The issued token of `tokenId`'s obligation, the root of its lineage.
    function rootOf(uint256 tokenId) external view returns (uint256);
    /// @notice Generations of splits between `tokenId` and its root (the root is 0).
    function depthOf(uint256 tokenId) external view returns (uint256);
    /// @notice True while `tokenId` is frozen whole by the regulator (`freeze`); a value freeze
    ///         (`setFrozenTokens`) is read with `getFrozenTokens`.
    function isFrozen(uint256 tokenId) external view returns (bool);
    /// @notice True while `tokenId` has an owner (minted and not redeemed).
    function exists(uint256 tokenId) external view returns (bool);
    /// @notice The highest token id minted so far (ids start at 1).
    function lastTokenId() external view returns (uint256);
    /// @notice The highest slot (obligation) id created so far (ids start at 1).
    function lastSlot() external view returns (uint256);
}

/// @title IReceivableTokenExtension
/// @notice The part of the receivable token its extension implements, reached through the token's fallback
///         (a `delegatecall` in the token's storage): bill-mode acceptance, regulator and enforcement actions,
///         metadata URIs (`IERC3525Metadata`) and lineage.
interface IReceivableTokenExtension is IReceivableTokenBase, IERC7943MultiToken {
    /// @notice The receiver accepts (签收) the pending move of `tokenId`: the piece becomes its own.
    function acceptMove(uint256 tokenId) external;
    /// @notice The receiver refuses (拒收) the pending move of `tokenId`: the value returns to the sender.
    function refuseMove(uint256 tokenId) external;
    /// @notice The sender withdraws (撤回) its pending move of `tokenId` before acceptance: the value returns.
    function withdrawMove(uint256 tokenId) external;
    /// @notice Anyone returns the pending move of `tokenId` to its sender once it expired or its obligation matured.
    function expireMove(uint256 tokenId) external;
    /// @notice The pending move of `tokenId` (all zero when none).
    function pendingMove(uint256 tokenId) external view returns (PendingMove memory);
    /// @notice The acceptance window of obligation `slot`: 0 in voucher mode, otherwise it is in bill mode.
    function billWindowOf(uint256 slot) external view returns (uint256);

    /// @notice The regulator freezes `tokenId`: it cannot be split, merged, transferred, financed or redeemed.
    /// @param reasonCode The regulator's own reason code, recorded in the `Frozen` event.
    function freeze(uint256 tokenId, uint32 reasonCode) external;
    /// @notice The regulator releases a frozen token, with a reason code.
    function unfreeze(uint256 tokenId, uint32 reasonCode) external;
    /// @notice Executes a court order: moves `value` of `tokenId` to `to` (the whole token when `value` is its
    ///         balance). Holders of the ENFORCEMENT role only.
    /// @param orderRef A reference to the court order, recorded in the `ForcedTransfer` event.
    /// @return toTokenId `tokenId` when moved whole, otherwise the new piece.
    function forceTransfer(uint256 tokenId, address to, uint256 value, bytes32 orderRef)
        external
        returns (uint256 toTokenId);

    /// @notice Lost-key recovery: moves the tokens of `lost` (held, or pending to it) to the account the registry
    ///         recovered it to (`recoveredTo(lost)`), at most `MAX_RECOVERY_BATCH` per call. Active holders of the
    ///         ENFORCEMENT role only; never paused.
    /// @param lost The recovered (lost) address.
    /// @param tokenIds Live tokens held by `lost`, or pending to it.
    /// @param caseRef The recovery case's reference, recorded in each `TokenRecovered` event.
    function recoverTokens(address lost, uint256[] calldata tokenIds, bytes32 caseRef) external;

    /// @notice A court order with a Tierchain reference: moves `value` of `tokenId` to `to` (the whole token when
    ///         `value` is its balance) like `forceTransfer`, and carries the moved part's frozen value along (the
    ///         share `min(frozen, value)`), or releases it when `releaseFrozen`. ENFORCEMENT only; `to` must not be
    ///         the owner.
    /// @param orderRef A reference to the court order, recorded in the `ForcedTransfer` event.
    /// @return toTokenId `tokenId` when moved whole, otherwise the new piece.
    function forceTransferOrder(uint256 tokenId, address to, uint256 value, bytes32 orderRef, bool releaseFrozen)
        external
        returns (uint256 toTokenId);

    /// @notice Whether `account` may hold, send and receive pieces (an active holder in the registry): both
    ///         `canSend` and `canReceive` in one call. Never reverts.
    function canTransact(address account) external view returns (bool);

    /// @notice Sets the metadata base URI (for example the API's `/v1/metadata/`). POLICY (governance) only.
    /// @param baseURI_ The new base URI; empty turns the URIs off.
    function setBaseURI(string calldata baseURI_) external;

    /// @notice The chain of splits from `tokenId` back to its root, both included; readable after burns.
    function lineage(uint256 tokenId) external view returns (uint256[] memory chain);
}

/// @title IReceivableToken
/// @notice Tierchain's ERC-3525 receivable: a slot is one confirmed obligation, a token is a piece of it. The whole
///         interface callers use: the token's own functions and those it delegates to its extension.
interface IReceivableToken is IReceivableTokenCore, IReceivableTokenExtension, IERC3525Metadata {}
