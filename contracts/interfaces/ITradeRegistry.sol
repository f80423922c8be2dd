// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IParticipantRegistry} from "./IParticipantRegistry.sol";

/// @title ITradeRegistry
/// @notice Trade documents attested by M of N oracles, each usable to back exactly one obligation, ever.
interface ITradeRegistry {
    /// @notice Document kinds as numbered on-chain (0 is invalid).
    enum DocumentKind {
        Invalid,
        Invoice,
        PurchaseOrder,
        DeliveryNote,
        WarehouseReceipt
    }

    /// @notice What the oracles sign (EIP-712 struct `Attestation`). Dates are unix seconds (UTC);
    ///         `amount` is in minor units of `currency` (ISO 4217 code, ASCII); `dueDate` is 0 when none.
    struct Attestation {
        bytes32 fingerprint;
        uint8 kind;
        address seller;
        address buyer;
        uint256 amount;
        bytes3 currency;
        uint64 issueDate;
        uint64 dueDate;
        uint256 nonce;
        uint64 deadline;
    }

    /// @notice An attested document as stored; `usedBySlot` is the obligation it backs (0 while unused).
    struct Document {
        address seller;
        DocumentKind kind;
        uint40 issueDate;
        uint40 dueDate;
        address buyer;
        bytes3 currency;
        uint40 attestedAt;
        uint128 amount;
        uint64 usedBySlot;
    }

    event DocumentAttested(
        bytes32 indexed fingerprint,
        address indexed seller,
        address indexed buyer,
        DocumentKind kind,
        uint256 amount,
        bytes3 currency,
        uint64 issueDate,
        uint64 dueDate,
        uint256 nonce,
        address[] signers
    );
    event DocumentUsed(bytes32 indexed fingerprint, uint256 indexed slot);
    event ThresholdChanged(uint8 previous, uint8 current);
    /// @notice `fingerprint` backs `value` of a move of a piece of `slot` from `payer` to `receiver`.
    event DocumentBackedMove(
        bytes32 indexed fingerprint, uint256 indexed slot, address indexed payer, address receiver, uint256 value
    );

    error NotAdmin(address account);
    error NotDesk(address account);
    error InvalidThreshold(uint8 threshold, uint256 oracles);
    error AttestationExpired(uint64 deadline, uint256 nowTimestamp);
    error InvalidDocumentKind(uint8 kind);
    error InvalidAttestation(bytes32 fingerprint);
    error NonceAlreadyUsed(uint256 nonce);
    error DocumentAlreadyAttested(bytes32 fingerprint);
    error InvalidSignature(uint256 index);
    error SignersNotAscending(uint256 index, address signer);
    error InsufficientSignatures(uint256 valid, uint256 required);
    error DocumentNotAttested(bytes32 fingerprint);
    error DocumentAlreadyUsed(bytes32 fingerprint, uint256 slot);
    error DocumentPartyMismatch(bytes32 fingerprint, address seller, address buyer);
    error DocumentCurrencyMismatch(bytes32 fingerprint, bytes3 currency);
    error NoInvoice();
    /// @notice A move citing no trade document.
    error NoDocuments();
    /// @notice The cited documents cover `covered` of the move's `value`: each backs moves up to its amount,
    ///         in total, ever; a purchase order counts only beside a delivery note.
    error InsufficientTradeCover(uint256 covered, uint256 value);
    /// @notice `fingerprint` already backed `moved` of onward moves, so it cannot back an obligation.
    error DocumentBacksMoves(bytes32 fingerprint, uint256 moved);
    error InvalidSlot(uint256 slot);
    /// @notice An upgrade to `newImplementation`, which is not wired to this contract's registry.
    error UpgradeMiswired(address newImplementation);

    /// @notice The participant registry (a proxy) holding the ORACLE, DESK and POLICY roles.
    function participants() external view returns (IParticipantRegistry);

    /// @notice The version of this implementation ("1.0.0").
    function version() external pure returns (string memory);

    /// @notice Records `attestation` when at least `threshold()` distinct active oracles signed it.
    function attest(Attestation calldata attestation, bytes[] calldata signatures) external;

    /// @notice Marks `fingerprints` as backing `slot`; only Tierchain desks call this.
    /// @return invoiceTotal Sum of the amounts of the invoices among `fingerprints`.
    /// @return earliestDue The earliest day an invoice among `fingerprints` falls due: its attested due date,
    ///         or its issue date when it has none (payable on receipt). Unix seconds.
    /// @return deliveredAt When the goods were delivered: the earliest delivery note's issue date, or the
    ///         earliest invoice's when no delivery note is cited. Unix seconds.
    function consume(bytes32[] calldata fingerprints, address seller, address buyer, bytes3 currency, uint256 slot)
        external
        returns (uint256 invoiceTotal, uint256 earliestDue, uint256 deliveredAt);
    /// @notice Lets `fingerprints` back a move of `value` of a piece of `slot` from `payer` (the buyer of the
    ///         goods) to `receiver` (their seller); only Tierchain desks call this. Each document backs moves
    ///         up to its amount in total, ever, and never an obligation; anything less than `value`
    ///         covered reverts `InsufficientTradeCover`.
    function consumeForMove(
        bytes32[] calldata fingerprints,
        address payer,
        address receiver,
        uint256 slot,
        uint256 value
    ) external;
    /// @notice How much of onward moves `fingerprint` has backed so far.
    function movedValue(bytes32 fingerprint) external view returns (uint256);
    /// @notice The ISO 4217 code of obligation `slot`, recorded when its documents were consumed.
    function slotCurrency(uint256 slot) external view returns (bytes3);

    /// @notice Reverts unless `fingerprints` could back an obligation of `seller` on `buyer` in `currency`.
    /// @return invoiceTotal Sum of the amounts of the invoices among `fingerprints`.
    /// @return earliestDue As `consume` returns it.
    function checkUsable(bytes32[] calldata fingerprints, address seller, address buyer, bytes3 currency)
        external
        view
        returns (uint256 invoiceTotal, uint256 earliestDue, uint256 deliveredAt);

    /// @notice The attested document `fingerprint` (all zero when never attested).
    function document(bytes32 fingerprint) external view returns (Document memory);
    /// @notice M: the number of distinct oracle signatures an attestation needs.
    function threshold() external view returns (uint8);
    /// @notice True once an attestation with `nonce` was recorded.
    function nonceUsed(uint256 nonce) external view returns (bool);
    /// @notice The EIP-712 digest oracles sign for `attestation` on this chain and contract.
    function attestationDigest(Attestation calldata attestation) external view returns (bytes32);
}
