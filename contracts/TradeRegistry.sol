// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {EIP712Upgradeable} from "@openzeppelin/contracts-upgradeable/utils/cryptography/EIP712Upgradeable.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {ITradeRegistry} from "./interfaces/ITradeRegistry.sol";
import {Roles} from "./libraries/Roles.sol";
import {IWiring, UpgradeGuard} from "./libraries/UpgradeGuard.sol";

/// @title TradeRegistry
/// @notice Stores trade documents (invoices, purchase orders, delivery notes, warehouse receipts) once
///         M of N registered oracles have signed an EIP-712 attestation of them, and lets each document
///         back exactly one obligation, ever. That single-use rule is what stops double financing.
/// @dev Signatures must come sorted by signer address, strictly ascending: duplicates are refused in one
///      comparison per signature. ECDSA.tryRecover refuses high-s (malleable) signatures; the EIP-712
///      domain binds chain id and this contract's address, so a signature for another chain or another
///      deployment recovers to a stranger and is not counted.
///      Upgradeable (UUPS behind an ERC-1967 proxy): all state lives in one ERC-7201 namespace
///      (`TradeRegistryStorage`); the registry is an immutable of the implementation. The EIP-712 domain
///      ("Tierchain TradeRegistry", "1", the proxy's address) is a constant of the code, not read from storage.
contract TradeRegistry is Initializable, EIP712Upgradeable, UUPSUpgradeable, ITradeRegistry {
    using SafeCast for uint256;

    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(bytes32 fingerprint,uint8 kind,address seller,address buyer,uint256 amount,bytes3 currency,"
        "uint64 issueDate,uint64 dueDate,uint256 nonce,uint64 deadline)"
    );

    string private constant EIP712_NAME = "Tierchain TradeRegistry";
    string private constant EIP712_VERSION = "1";

    /// @inheritdoc ITradeRegistry
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    IParticipantRegistry public immutable participants;

    /// @custom:storage-location erc7201:tierchain.storage.TradeRegistry
    struct TradeRegistryStorage {
        uint8 threshold;
        mapping(bytes32 fingerprint => Document) documents;
        mapping(uint256 nonce => bool) nonceUsed;
        // 1.0.0 ends here; trade background of onward moves (appended).
        mapping(bytes32 fingerprint => uint256) movedValue;
        mapping(uint256 slot => bytes3) slotCurrency;
    }

    // keccak256(abi.encode(uint256(keccak256("tierchain.storage.TradeRegistry")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_SLOT = 0x8e4b0e9ed9647d7515a21e1dfe341d86c86b0338b07a53bdba0baf17dcf0bd00;

    /// @notice The implementation: its immutable names the registry proxy; only a proxy is initialized.
    /// @param registry The participant registry (proxy) holding the ORACLE, DESK, POLICY and admin roles.
    /// @custom:oz-upgrades-unsafe-allow constructor state-variable-immutable
    constructor(IParticipantRegistry registry) {
        participants = registry;
        _disableInitializers();
    }

    /// @notice Initializes the proxy with M, the number of oracle signatures an attestation needs.
    /// @param threshold_ M: how many distinct oracle signatures an attestation needs (at least 1).
    function initialize(uint8 threshold_) external initializer {
        __EIP712_init(EIP712_NAME, EIP712_VERSION);
        if (threshold_ == 0) revert InvalidThreshold(threshold_, 0);
        _s().threshold = threshold_;
        emit ThresholdChanged(0, threshold_);
    }

    /// @inheritdoc ITradeRegistry
    function version() external pure virtual returns (string memory) {
        return "1.0.0";
    }

    /// @notice Sets M, the number of oracle signatures an attestation needs. POLICY (governance) only.
    /// @dev M may not exceed the oracles that are active now, so setting it cannot lock attestation.
    ///      Suspending or revoking oracles later can leave fewer than M active; governance then lowers M.
    function setThreshold(uint8 threshold_) external {
        if (!participants.hasRole(Roles.POLICY, msg.sender)) revert NotAdmin(msg.sender);
        uint256 n = _activeOracles();
        if (threshold_ == 0 || threshold_ > n) revert InvalidThreshold(threshold_, n);
        TradeRegistryStorage storage $ = _s();
        emit ThresholdChanged($.threshold, threshold_);
        $.threshold = threshold_;
    }

    /// @inheritdoc ITradeRegistry
    /// @dev Anyone may submit (typically the oracle aggregator); the signatures carry the authority.
    function attest(Attestation calldata a, bytes[] calldata signatures) external {
        TradeRegistryStorage storage $ = _s();
        if (a.deadline < block.timestamp) revert AttestationExpired(a.deadline, block.timestamp);
        if (a.kind == 0 || a.kind > uint8(DocumentKind.WarehouseReceipt)) revert InvalidDocumentKind(a.kind);
        // A warehouse receipt names its depositor (the seller) and no buyer; every other kind names both.
        bool buyerless = a.kind == uint8(DocumentKind.WarehouseReceipt);
        if (
            a.fingerprint == bytes32(0) || a.seller == address(0) || (a.buyer == address(0) && !buyerless)
                || a.amount == 0 || a.currency == bytes3(0)
        ) revert InvalidAttestation(a.fingerprint);
        if ($.nonceUsed[a.nonce]) revert NonceAlreadyUsed(a.nonce);
        Document storage doc = $.documents[a.fingerprint];
        if (doc.attestedAt != 0) revert DocumentAlreadyAttested(a.fingerprint);

        address[] memory signers = _recoverSigners(_hashTypedDataV4(_structHash(a)), signatures);

        $.nonceUsed[a.nonce] = true;
        doc.seller = a.seller;
        doc.kind = DocumentKind(a.kind);
        doc.issueDate = uint256(a.issueDate).toUint40();
        doc.dueDate = uint256(a.dueDate).toUint40();
        doc.buyer = a.buyer;
        doc.currency = a.currency;
        doc.attestedAt = uint40(block.timestamp);
        doc.amount = a.amount.toUint128();
        emit DocumentAttested(
            a.fingerprint,
            a.seller,
            a.buyer,
            DocumentKind(a.kind),
            a.amount,
            a.currency,
            a.issueDate,
            a.dueDate,
            a.nonce,
            signers
        );
    }

    /// @inheritdoc ITradeRegistry
    function consume(bytes32[] calldata fingerprints, address seller, address buyer, bytes3 currency, uint256 slot)
        external
        returns (uint256, uint256, uint256)
    {
        if (!participants.hasRole(Roles.DESK, msg.sender)) revert NotDesk(msg.sender);
        // Slot 0 means "unused" in storage, so it can never be the slot a document backs.
        if (slot == 0) revert InvalidSlot(slot);
        uint64 slot64 = uint256(slot).toUint64();
        Tally memory t = _newTally();
        for (uint256 i = 0; i < fingerprints.length; ++i) {
            Document storage doc = _s().documents[fingerprints[i]];
            _count(t, fingerprints[i], doc, seller, buyer, currency);
            // Marking before the next iteration also refuses a fingerprint listed twice.
            doc.usedBySlot = slot64;
            emit DocumentUsed(fingerprints[i], slot);
        }
        _s().slotCurrency[slot] = currency;
        return _result(t);
    }

    /// @inheritdoc ITradeRegistry
    /// @dev Invoices back the move with what is left of their amount; a purchase order counts only beside a
    ///      delivery note of the same parties in the same call (goods ordered and delivered). Cover is taken
    ///      from the documents in the order cited, each up to its amount, until `value` is covered.
    function consumeForMove(
        bytes32[] calldata fingerprints,
        address payer,
        address receiver,
        uint256 slot,
        uint256 value
    ) external {
        if (!participants.hasRole(Roles.DESK, msg.sender)) revert NotDesk(msg.sender);
        if (fingerprints.length == 0) revert NoDocuments();
        Move memory m = Move(payer, receiver, slot, _s().slotCurrency[slot], false);
        if (m.currency == bytes3(0)) revert InvalidSlot(slot);
        for (uint256 i = 0; i < fingerprints.length; ++i) {
            if (_checkMoveDocument(fingerprints[i], m) == DocumentKind.DeliveryNote) m.delivered = true;
        }
        uint256 left = value;
        for (uint256 i = 0; i < fingerprints.length && left != 0; ++i) {
            left = _takeCover(fingerprints[i], m, left);
        }
        if (left != 0) revert InsufficientTradeCover(value - left, value);
    }

    /// @inheritdoc ITradeRegistry
    function movedValue(bytes32 fingerprint) external view returns (uint256) {
        return _s().movedValue[fingerprint];
    }

    /// @inheritdoc ITradeRegistry
    function slotCurrency(uint256 slot) external view returns (bytes3) {
        return _s().slotCurrency[slot];
    }

    /// @inheritdoc ITradeRegistry
    function checkUsable(bytes32[] calldata fingerprints, address seller, address buyer, bytes3 currency)
        external
        view
        returns (uint256 invoiceTotal, uint256 earliestDue, uint256 deliveredAt)
    {
        TradeRegistryStorage storage $ = _s();
        Tally memory t = _newTally();
        for (uint256 i = 0; i < fingerprints.length; ++i) {
            bytes32 fp = fingerprints[i];
            for (uint256 j = 0; j < i; ++j) {
                if (fingerprints[j] == fp) revert DocumentAlreadyUsed(fp, 0);
            }
            _count(t, fp, $.documents[fp], seller, buyer, currency);
        }
        return _result(t);
    }

    /// @inheritdoc ITradeRegistry
    function document(bytes32 fingerprint) external view returns (Document memory) {
        TradeRegistryStorage storage $ = _s();
        return $.documents[fingerprint];
    }

    /// @inheritdoc ITradeRegistry
    function threshold() external view returns (uint8) {
        TradeRegistryStorage storage $ = _s();
        return $.threshold;
    }

    /// @inheritdoc ITradeRegistry
    function nonceUsed(uint256 nonce) external view returns (bool) {
        TradeRegistryStorage storage $ = _s();
        return $.nonceUsed[nonce];
    }

    /// @inheritdoc ITradeRegistry
    function attestationDigest(Attestation calldata a) external view returns (bytes32) {
        return _hashTypedDataV4(_structHash(a));
    }

    function _activeOracles() private view returns (uint256 active) {
        uint256 n = participants.getRoleMemberCount(Roles.ORACLE);
        for (uint256 i = 0; i < n; ++i) {
            if (participants.isActive(participants.getRoleMember(Roles.ORACLE, i))) ++active;
        }
    }

    /// @dev What the documents of an obligation add up to: invoice total, earliest due day, earliest invoice
    ///      and earliest delivery note issue dates.
    struct Tally {
        uint256 total;
        uint256 earliestDue;
        uint256 invoicedAt;
        uint256 deliveredAt;
    }

    function _newTally() private pure returns (Tally memory) {
        return Tally(0, type(uint256).max, type(uint256).max, type(uint256).max);
    }

    function _count(Tally memory t, bytes32 fp, Document storage doc, address seller, address buyer, bytes3 currency)
        private
        view
    {
        (uint256 amount, uint256 due) = _checkDocument(fp, doc, seller, buyer, currency);
        t.total += amount;
        if (due < t.earliestDue) t.earliestDue = due;
        DocumentKind kind = doc.kind;
        uint256 issued = doc.issueDate;
        if (kind == DocumentKind.DeliveryNote && issued < t.deliveredAt) t.deliveredAt = issued;
        if (kind == DocumentKind.Invoice && issued < t.invoicedAt) t.invoicedAt = issued;
    }

    /// @dev Delivery is the earliest delivery note's issue date; without one, the earliest invoice's.
    function _result(Tally memory t) private pure returns (uint256, uint256, uint256) {
        if (t.total == 0) revert NoInvoice();
        return (t.total, t.earliestDue, t.deliveredAt != type(uint256).max ? t.deliveredAt : t.invoicedAt);
    }

    /// @dev The parties, obligation and currency of a trade-backed move, and whether a delivery note is cited.
    struct Move {
        address payer;
        address receiver;
        uint256 slot;
        bytes3 currency;
        bool delivered;
    }

    /// @dev A document backing a move: attested, never used for an obligation, sold by the receiver to the
    ///      payer (the one paying with the piece bought the goods), in the obligation's currency.
    function _checkMoveDocument(bytes32 fp, Move memory m) private view returns (DocumentKind) {
        Document storage doc = _s().documents[fp];
        if (doc.attestedAt == 0) revert DocumentNotAttested(fp);
        if (doc.usedBySlot != 0) revert DocumentAlreadyUsed(fp, doc.usedBySlot);
        if (doc.seller != m.receiver || doc.buyer != m.payer) revert DocumentPartyMismatch(fp, doc.seller, doc.buyer);
        if (doc.currency != m.currency) revert DocumentCurrencyMismatch(fp, doc.currency);
        return doc.kind;
    }

    /// @dev Takes what is left of `fp`'s amount, up to `left`, for the move; returns what is still uncovered.
    ///      Invoices count; a purchase order counts only beside a delivery note.
    function _takeCover(bytes32 fp, Move memory m, uint256 left) private returns (uint256) {
        TradeRegistryStorage storage $ = _s();
        Document storage doc = $.documents[fp];
        DocumentKind kind = doc.kind;
        if (kind != DocumentKind.Invoice && !(kind == DocumentKind.PurchaseOrder && m.delivered)) return left;
        uint256 moved = $.movedValue[fp];
        uint256 room = doc.amount - moved;
        uint256 take = room < left ? room : left;
        if (take == 0) return left;
        $.movedValue[fp] = moved + take;
        emit DocumentBackedMove(fp, m.slot, m.payer, m.receiver, take);
        return left - take;
    }

    /// @dev Returns the invoice amount the document contributes and the day it falls due (its due date, or
    ///      its issue date when it has none); a supporting document contributes 0 and no due day (max).
    function _checkDocument(bytes32 fp, Document storage doc, address seller, address buyer, bytes3 currency)
        private
        view
        returns (uint256 amount, uint256 due)
    {
        if (doc.attestedAt == 0) revert DocumentNotAttested(fp);
        if (doc.usedBySlot != 0) revert DocumentAlreadyUsed(fp, doc.usedBySlot);
        uint256 moved = _s().movedValue[fp];
        if (moved != 0) revert DocumentBacksMoves(fp, moved);
        // A buyerless warehouse receipt may support any obligation of its depositor.
        if (doc.seller != seller || (doc.buyer != buyer && doc.buyer != address(0))) {
            revert DocumentPartyMismatch(fp, doc.seller, doc.buyer);
        }
        if (doc.currency != currency) revert DocumentCurrencyMismatch(fp, doc.currency);
        if (doc.kind != DocumentKind.Invoice) return (0, type(uint256).max);
        uint256 dueDate = doc.dueDate;
        return (doc.amount, dueDate != 0 ? dueDate : doc.issueDate);
    }

    /// @dev Every signature must recover, come from an active ORACLE, and be strictly ascending by signer.
    function _recoverSigners(bytes32 digest, bytes[] calldata signatures) private view returns (address[] memory) {
        TradeRegistryStorage storage $ = _s();
        uint256 required = $.threshold;
        if (signatures.length < required) revert InsufficientSignatures(signatures.length, required);
        address[] memory signers = new address[](signatures.length);
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; ++i) {
            // The third value only details `err`, which is enough to refuse. See docs/slither-triage.md.
            // slither-disable-next-line unused-return
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError) revert InvalidSignature(i);
            if (signer <= previous) revert SignersNotAscending(i, signer);
            participants.checkActiveRole(signer, Roles.ORACLE);
            signers[i] = signer;
            previous = signer;
        }
        return signers;
    }

    function _structHash(Attestation calldata a) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                ATTESTATION_TYPEHASH,
                a.fingerprint,
                a.kind,
                a.seller,
                a.buyer,
                a.amount,
                a.currency,
                a.issueDate,
                a.dueDate,
                a.nonce,
                a.deadline
            )
        );
    }

    /// @dev The domain name is a constant of the code: no storage read per signature check.
    function _EIP712Name() internal pure override returns (string memory) {
        return EIP712_NAME;
    }

    /// @dev The domain version is a constant of the code.
    function _EIP712Version() internal pure override returns (string memory) {
        return EIP712_VERSION;
    }

    /// @dev Only a holder of the registry's DEFAULT_ADMIN_ROLE (governance) upgrades, and only to an
    ///      implementation wired to the same registry.
    function _authorizeUpgrade(address newImplementation) internal view override {
        UpgradeGuard.checkAdmin(participants, msg.sender);
        if (UpgradeGuard.wiredTo(newImplementation, IWiring.participants.selector) != address(participants)) {
            revert UpgradeMiswired(newImplementation);
        }
    }

    /// @dev The contract's ERC-7201 namespace (`tierchain.storage.TradeRegistry`), at `STORAGE_SLOT`.
    function _s() private pure returns (TradeRegistryStorage storage $) {
        assembly {
            $.slot := STORAGE_SLOT
        }
    }
}
