// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {ITradeRegistry} from "./interfaces/ITradeRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title TradeRegistry
/// @notice Stores trade documents (invoices, purchase orders, delivery notes, warehouse receipts) once
///         M of N registered oracles have signed an EIP-712 attestation of them, and lets each document
///         back exactly one obligation, ever. That single-use rule is what stops double financing.
/// @dev Signatures must come sorted by signer address, strictly ascending: duplicates are refused in one
///      comparison per signature. ECDSA.tryRecover refuses high-s (malleable) signatures; the EIP-712
///      domain binds chain id and this contract's address, so a signature for another chain or another
///      deployment recovers to a stranger and is not counted.
contract TradeRegistry is EIP712, ITradeRegistry {
    using SafeCast for uint256;

    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(bytes32 fingerprint,uint8 kind,address seller,address buyer,uint256 amount,bytes3 currency,"
        "uint64 issueDate,uint64 dueDate,uint256 nonce,uint64 deadline)"
    );

    IParticipantRegistry public immutable participants;

    uint8 private _threshold;
    mapping(bytes32 fingerprint => Document) private _documents;
    mapping(uint256 nonce => bool) private _nonceUsed;

    /// @param registry The participant registry holding the ORACLE, DESK and admin roles.
    /// @param threshold_ M: how many distinct oracle signatures an attestation needs (at least 1).
    constructor(IParticipantRegistry registry, uint8 threshold_) EIP712("Tierchain TradeRegistry", "1") {
        participants = registry;
        if (threshold_ == 0) revert InvalidThreshold(threshold_, 0);
        _threshold = threshold_;
        emit ThresholdChanged(0, threshold_);
    }

    /// @notice Sets M, the number of oracle signatures an attestation needs. Only the registry admin.
    /// @dev M may not exceed the oracles that are active now, so setting it cannot lock attestation.
    ///      Suspending or revoking oracles later can leave fewer than M active; the admin then lowers M.
    function setThreshold(uint8 threshold_) external {
        if (!participants.hasRole(bytes32(0), msg.sender)) revert NotAdmin(msg.sender);
        uint256 n = _activeOracles();
        if (threshold_ == 0 || threshold_ > n) revert InvalidThreshold(threshold_, n);
        emit ThresholdChanged(_threshold, threshold_);
        _threshold = threshold_;
    }

    /// @inheritdoc ITradeRegistry
    /// @dev Anyone may submit (typically the oracle aggregator); the signatures carry the authority.
    function attest(Attestation calldata a, bytes[] calldata signatures) external {
        if (a.deadline < block.timestamp) revert AttestationExpired(a.deadline, block.timestamp);
        if (a.kind == 0 || a.kind > uint8(DocumentKind.WarehouseReceipt)) revert InvalidDocumentKind(a.kind);
        // A warehouse receipt names its depositor (the seller) and no buyer; every other kind names both.
        bool buyerless = a.kind == uint8(DocumentKind.WarehouseReceipt);
        if (
            a.fingerprint == bytes32(0) || a.seller == address(0) || (a.buyer == address(0) && !buyerless)
                || a.amount == 0 || a.currency == bytes3(0)
        ) revert InvalidAttestation(a.fingerprint);
        if (_nonceUsed[a.nonce]) revert NonceAlreadyUsed(a.nonce);
        Document storage doc = _documents[a.fingerprint];
        if (doc.attestedAt != 0) revert DocumentAlreadyAttested(a.fingerprint);

        address[] memory signers = _recoverSigners(_hashTypedDataV4(_structHash(a)), signatures);

        _nonceUsed[a.nonce] = true;
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
        returns (uint256 invoiceTotal, uint256 earliestDue)
    {
        if (!participants.hasRole(Roles.DESK, msg.sender)) revert NotDesk(msg.sender);
        // Slot 0 means "unused" in storage, so it can never be the slot a document backs.
        if (slot == 0) revert InvalidSlot(slot);
        uint64 slot64 = uint256(slot).toUint64();
        earliestDue = type(uint256).max;
        for (uint256 i = 0; i < fingerprints.length; ++i) {
            bytes32 fp = fingerprints[i];
            Document storage doc = _documents[fp];
            (uint256 amount, uint256 due) = _checkDocument(fp, doc, seller, buyer, currency);
            invoiceTotal += amount;
            if (due < earliestDue) earliestDue = due;
            // Marking before the next iteration also refuses a fingerprint listed twice.
            doc.usedBySlot = slot64;
            emit DocumentUsed(fp, slot);
        }
        if (invoiceTotal == 0) revert NoInvoice();
    }

    /// @inheritdoc ITradeRegistry
    function checkUsable(bytes32[] calldata fingerprints, address seller, address buyer, bytes3 currency)
        external
        view
        returns (uint256 invoiceTotal, uint256 earliestDue)
    {
        earliestDue = type(uint256).max;
        for (uint256 i = 0; i < fingerprints.length; ++i) {
            bytes32 fp = fingerprints[i];
            for (uint256 j = 0; j < i; ++j) {
                if (fingerprints[j] == fp) revert DocumentAlreadyUsed(fp, 0);
            }
            (uint256 amount, uint256 due) = _checkDocument(fp, _documents[fp], seller, buyer, currency);
            invoiceTotal += amount;
            if (due < earliestDue) earliestDue = due;
        }
        if (invoiceTotal == 0) revert NoInvoice();
    }

    /// @inheritdoc ITradeRegistry
    function document(bytes32 fingerprint) external view returns (Document memory) {
        return _documents[fingerprint];
    }

    /// @inheritdoc ITradeRegistry
    function threshold() external view returns (uint8) {
        return _threshold;
    }

    /// @inheritdoc ITradeRegistry
    function nonceUsed(uint256 nonce) external view returns (bool) {
        return _nonceUsed[nonce];
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

    /// @dev Returns the invoice amount the document contributes and the day it falls due (its due date, or
    ///      its issue date when it has none); a supporting document contributes 0 and no due day (max).
    function _checkDocument(bytes32 fp, Document storage doc, address seller, address buyer, bytes3 currency)
        private
        view
        returns (uint256 amount, uint256 due)
    {
        if (doc.attestedAt == 0) revert DocumentNotAttested(fp);
        if (doc.usedBySlot != 0) revert DocumentAlreadyUsed(fp, doc.usedBySlot);
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
        uint256 required = _threshold;
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
}
