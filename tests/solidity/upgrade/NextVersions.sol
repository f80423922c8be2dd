// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ParticipantRegistry} from "../../../contracts/ParticipantRegistry.sol";
import {TradeRegistry} from "../../../contracts/TradeRegistry.sol";
import {ReceivableToken} from "../../../contracts/ReceivableToken.sol";
import {IssuanceDesk} from "../../../contracts/IssuanceDesk.sol";
import {FinancingDesk} from "../../../contracts/FinancingDesk.sol";
import {RepaymentDesk} from "../../../contracts/RepaymentDesk.sol";
import {IParticipantRegistry} from "../../../contracts/interfaces/IParticipantRegistry.sol";
import {IReceivableToken} from "../../../contracts/interfaces/IReceivableToken.sol";
import {IRepaymentAccounts} from "../../../contracts/interfaces/IRepaymentAccounts.sol";
import {ITradeRegistry} from "../../../contracts/interfaces/ITradeRegistry.sol";

/// @dev The version every next implementation of this release answers.
string constant NEXT_VERSION = "1.1.0";

/// @title ReceivableTokenV2
/// @notice The next version of the receivable token, as a later release would ship it: the 1.0.0 code
///         unchanged, plus state in a NEW ERC-7201 namespace (a release note set by the upgrade's own call,
///         and a memo per token that its holder may set) and the functions that use it.
/// @dev Answers `version()` "1.1.0"; the release note is set by `initializeV2` in the upgrade's own call. The
///      1.0.0 namespace (`tierchain.storage.ReceivableToken`) is only ever reached through the inherited code.
contract ReceivableTokenV2 is ReceivableToken {
    /// @custom:storage-location erc7201:tierchain.storage.ReceivableTokenV2
    struct ReceivableTokenV2Storage {
        string releaseNote;
        mapping(uint256 tokenId => bytes32 memo) memos;
    }

    // keccak256(abi.encode(uint256(keccak256("tierchain.storage.ReceivableTokenV2")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant V2_STORAGE_SLOT = 0xdee31e2891f7f745f001fd3eca6c49d341a66c465745630f84ad120e2c91d400;

    /// @notice The upgrade to this version recorded its release note.
    event ReleaseNoteSet(string note);
    /// @notice The holder of `tokenId` attached `memo` to it (for example its own ledger reference).
    event MemoSet(uint256 indexed tokenId, address indexed holder, bytes32 memo);

    /// @notice `account` does not hold `tokenId`.
    error NotHolder(address account, uint256 tokenId);

    /// @notice The implementation, wired like 1.0.0.
    /// @param registry Participant registry (proxy).
    /// @param valueDecimals_ Decimals of values for display.
    /// @param extension_ The extension (1.0.0's serves this release unchanged).
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(IParticipantRegistry registry, uint8 valueDecimals_, address extension_)
        ReceivableToken(registry, valueDecimals_, extension_)
    {}

    /// @notice This release's version.
    function version() external pure override returns (string memory) {
        return NEXT_VERSION;
    }

    /// @notice Runs once, in the upgrade's `upgradeToAndCall`: records the release note.
    /// @param note The release note.
    function initializeV2(string calldata note) external reinitializer(2) {
        _v2().releaseNote = note;
        emit ReleaseNoteSet(note);
    }

    /// @notice The release note recorded by the upgrade to this version.
    function releaseNote() external view returns (string memory) {
        return _v2().releaseNote;
    }

    /// @notice The holder of `tokenId` attaches `memo` to it.
    /// @param tokenId A live token the caller holds.
    /// @param memo The memo (0 clears it).
    function setMemo(uint256 tokenId, bytes32 memo) external {
        if (this.ownerOf(tokenId) != msg.sender) revert NotHolder(msg.sender, tokenId);
        _v2().memos[tokenId] = memo;
        emit MemoSet(tokenId, msg.sender, memo);
    }

    /// @notice The memo of `tokenId` (0 when none).
    function memoOf(uint256 tokenId) external view returns (bytes32) {
        return _v2().memos[tokenId];
    }

    function _v2() private pure returns (ReceivableTokenV2Storage storage $) {
        assembly {
            $.slot := V2_STORAGE_SLOT
        }
    }
}

/// @title FinancingDeskV2
/// @notice The next version of the financing desk: the 1.0.0 code unchanged, plus state in a NEW ERC-7201
///         namespace (a bank's own reference per offer, and how many offers carry one) and the function that
///         uses it. Answers `version()` "1.1.0".
contract FinancingDeskV2 is FinancingDesk {
    /// @custom:storage-location erc7201:tierchain.storage.FinancingDeskV2
    struct FinancingDeskV2Storage {
        uint256 taggedOffers;
        mapping(uint256 offerId => bytes32 tag) tags;
    }

    // keccak256(abi.encode(uint256(keccak256("tierchain.storage.FinancingDeskV2")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant V2_STORAGE_SLOT = 0x0da5b47cfe2b84490b43686f71d64cdecabd9a4fbacb27720a93bfbc750edd00;

    /// @notice The bank of `offerId` tagged it with its own reference `tag`.
    event OfferTagged(uint256 indexed offerId, address indexed bank, bytes32 tag);

    /// @notice A tag of zero.
    error EmptyTag();

    /// @notice The implementation, wired like 1.0.0.
    /// @param registry The participant registry (proxy).
    /// @param receivables The receivable token (proxy).
    /// @param repaymentDesk The repayment desk (proxy).
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(IParticipantRegistry registry, IReceivableToken receivables, IRepaymentAccounts repaymentDesk)
        FinancingDesk(registry, receivables, repaymentDesk)
    {}

    /// @notice This release's version.
    function version() external pure override returns (string memory) {
        return NEXT_VERSION;
    }

    /// @notice The bank of offer `offerId` (in any status) tags it with its own reference.
    /// @param offerId An existing offer made by the caller.
    /// @param tag The bank's reference (non-zero).
    function tagOffer(uint256 offerId, bytes32 tag) external {
        if (tag == bytes32(0)) revert EmptyTag();
        Offer memory o = this.offer(offerId);
        if (o.status == OfferStatus.None) revert UnknownOffer(offerId);
        if (o.bank != msg.sender) revert NotOfferBank(offerId, msg.sender);
        FinancingDeskV2Storage storage $ = _v2();
        if ($.tags[offerId] == bytes32(0)) ++$.taggedOffers;
        $.tags[offerId] = tag;
        emit OfferTagged(offerId, msg.sender, tag);
    }

    /// @notice The bank's tag of `offerId` (0 when none).
    function offerTag(uint256 offerId) external view returns (bytes32) {
        return _v2().tags[offerId];
    }

    /// @notice How many offers carry a tag.
    function taggedOffers() external view returns (uint256) {
        return _v2().taggedOffers;
    }

    function _v2() private pure returns (FinancingDeskV2Storage storage $) {
        assembly {
            $.slot := V2_STORAGE_SLOT
        }
    }
}

/// @title ParticipantRegistryV2
/// @notice The next registry: the 1.0.0 code unchanged (a patch release), answering `version()` "1.1.0".
contract ParticipantRegistryV2 is ParticipantRegistry {
    /// @notice This release's version.
    function version() external pure override returns (string memory) {
        return NEXT_VERSION;
    }
}

/// @title TradeRegistryV2
/// @notice The next trade registry: the 1.0.0 code unchanged (a patch release), answering "1.1.0".
contract TradeRegistryV2 is TradeRegistry {
    /// @param registry The participant registry (proxy).
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(IParticipantRegistry registry) TradeRegistry(registry) {}

    /// @notice This release's version.
    function version() external pure override returns (string memory) {
        return NEXT_VERSION;
    }
}

/// @title IssuanceDeskV2
/// @notice The next issuance desk: the 1.0.0 code unchanged (a patch release), answering "1.1.0".
contract IssuanceDeskV2 is IssuanceDesk {
    /// @param registry The participant registry (proxy).
    /// @param trades The trade registry (proxy).
    /// @param receivables The receivable token (proxy).
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(IParticipantRegistry registry, ITradeRegistry trades, IReceivableToken receivables)
        IssuanceDesk(registry, trades, receivables)
    {}

    /// @notice This release's version.
    function version() external pure override returns (string memory) {
        return NEXT_VERSION;
    }
}

/// @title RepaymentDeskV2
/// @notice The next repayment desk: the 1.0.0 code unchanged (a patch release), answering "1.1.0".
contract RepaymentDeskV2 is RepaymentDesk {
    /// @param registry The participant registry (proxy).
    /// @param receivables The receivable token (proxy).
    /// @param gracePeriod_ Grace after maturity before a default may be declared (unchanged).
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(IParticipantRegistry registry, IReceivableToken receivables, uint256 gracePeriod_)
        RepaymentDesk(registry, receivables, gracePeriod_)
    {}

    /// @notice This release's version.
    function version() external pure override returns (string memory) {
        return NEXT_VERSION;
    }
}
