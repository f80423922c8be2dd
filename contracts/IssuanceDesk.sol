// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {EIP712Upgradeable} from "@openzeppelin/contracts-upgradeable/utils/cryptography/EIP712Upgradeable.sol";
import {NoncesUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/NoncesUpgradeable.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {IReceivableToken, IReceivableTokenBase} from "./interfaces/IReceivableToken.sol";
import {ITradeRegistry} from "./interfaces/ITradeRegistry.sol";
import {Roles} from "./libraries/Roles.sol";
import {IWiring, UpgradeGuard} from "./libraries/UpgradeGuard.sol";

/// @title IssuanceDesk
/// @notice Turns a confirmed payable into a receivable: a supplier proposes an obligation backed by
///         attested trade documents, the core enterprise (the obligor) confirms it — by transaction or by an
///         EIP-712 signature anyone may submit — and the whole face is minted to the supplier as one token.
///         In one step, the obligor may issue on terms the supplier signed (`issueDirect`).
/// @dev A proposal is stored as the hash of its terms only; the terms travel in the `ObligationProposed`
///      event and are passed back in calldata on confirmation. The documents are consumed at confirmation,
///      atomically with the mint, so of two proposals citing one invoice only the first confirmed issues.
///      Both parties agree to every obligation: the supplier by proposing or signing its terms, the obligor by
///      confirming, signing a confirmation or issuing. Documents are never consumed on one party's word.
///      The maturity may fall at most `MAX_MATURITY_DEFERRAL` after the earliest cited invoice falls due.
///      Upgradeable (UUPS behind an ERC-1967 proxy): all state lives in one ERC-7201 namespace
///      (`IssuanceDeskStorage`); the registry, trade registry and token are immutables of the implementation.
///      Pause: propose, confirm, confirmWithSignature and issueDirect stop while `OP_ISSUANCE` is paused
///      (checked in the same registry call as the supplier's role); reject and cancel never stop.
contract IssuanceDesk is
    Initializable,
    EIP712Upgradeable,
    NoncesUpgradeable,
    ReentrancyGuardTransient,
    UUPSUpgradeable
{
    /// @notice The terms of an obligation. `face` and `minUnit` are minor units of `currency`
    ///         (ISO 4217, ASCII); `maturity` is a unix timestamp. `tenorJustification` is the code of the
    ///         reason a term runs beyond the policy's `longTenor` (0: none); `agreedTermRef` identifies the
    ///         contract clause agreeing a payment term beyond the SME term (0: none). Both are recorded.
    struct Terms {
        address supplier;
        address obligor;
        bytes3 currency;
        uint256 face;
        uint256 maturity;
        uint256 minUnit;
        bytes32[] documents;
        uint16 tenorJustification;
        bytes32 agreedTermRef;
    }

    /// @notice What `_checkRules` works from: the documents' cover and dates and the obligor's policy.
    struct Facts {
        uint256 cover;
        uint256 earliestDue;
        uint256 deliveredAt;
    }

    bytes32 public constant CONFIRMATION_TYPEHASH =
        keccak256("Confirmation(uint256 proposalId,bytes32 termsHash,uint256 nonce,uint256 deadline)");
    bytes32 public constant SUPPLIER_CONSENT_TYPEHASH =
        keccak256("SupplierConsent(bytes32 termsHash,uint256 nonce,uint256 deadline)");

    /// @notice How long after the earliest cited invoice falls due (its due date, or its issue date when it
    ///         has none) the obligation may mature. An earlier maturity is allowed: the obligor pays sooner.
    uint256 public constant MAX_MATURITY_DEFERRAL = 180 days;

    string private constant EIP712_NAME = "Tierchain IssuanceDesk";
    string private constant EIP712_VERSION = "1";

    /// @notice The participant registry (a proxy): roles, status and the pause bits.
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    IParticipantRegistry public immutable participants;
    /// @notice The trade registry (a proxy) whose attested documents back obligations.
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    ITradeRegistry public immutable trades;
    /// @notice The receivable token (a proxy) this desk mints.
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    IReceivableToken public immutable token;

    /// @custom:storage-location erc7201:tierchain.storage.IssuanceDesk
    struct IssuanceDeskStorage {
        uint256 lastProposalId;
        mapping(uint256 proposalId => bytes32 termsHash) pending;
        mapping(bytes3 currency => address settlementToken) currencies;
    }

    // keccak256(abi.encode(uint256(keccak256("tierchain.storage.IssuanceDesk")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_SLOT = 0xb3fa462e385c3870e72614ce26753605fce6ee9ab285d03e3f5ada6162177000;

    event CurrencySet(bytes3 indexed currency, address indexed settlementToken);
    event ObligationProposed(
        uint256 indexed proposalId,
        address indexed supplier,
        address indexed obligor,
        bytes3 currency,
        uint256 face,
        uint256 maturity,
        uint256 minUnit,
        bytes32[] documents
    );
    /// @notice The obligation of `proposalId` (0 for a direct issue) is slot `slot`, minted as `rootTokenId`.
    event ObligationIssued(
        uint256 indexed proposalId, uint256 indexed slot, uint256 indexed rootTokenId, address confirmedBy
    );
    event ProposalRejected(uint256 indexed proposalId, address indexed obligor, uint32 reasonCode);
    event ProposalCancelled(uint256 indexed proposalId, address indexed supplier);
    /// @notice The terms of proposal `proposalId` (slot 0 at proposal; the slot once issued) carry a long-tenor
    ///         justification code and/or an agreed contract term reference. Emitted only when one is set.
    event TermsJustified(
        uint256 indexed proposalId, uint256 indexed slot, uint16 tenorJustification, bytes32 agreedTermRef
    );
    /// @notice `payer` paid `receiver` with `value` of token `tokenId` (as `pieceId`), backed by `documents`.
    event TradeBackedMove(
        uint256 indexed tokenId, uint256 indexed pieceId, address indexed payer, address receiver, uint256 value
    );

    error NotAdmin(address account);
    error UnknownCurrency(bytes3 currency);
    error CurrencyAlreadySet(bytes3 currency, address settlementToken);
    /// @notice A currency mapping with an empty ISO 4217 code.
    error EmptyCurrencyCode();
    /// @notice The minimum unit does not fit the token's storage (at most `maxMinUnit`).
    error MinUnitTooLarge(uint256 minUnit, uint256 maxMinUnit);
    /// @notice Terms citing no trade document.
    error NoDocuments();
    /// @notice Terms whose supplier is also their obligor: a participant may not owe itself.
    error SupplierIsObligor(address account);
    error NotSupplier(address account);
    error NotObligor(address account);
    error UnknownProposal(uint256 proposalId);
    error TermsMismatch(uint256 proposalId);
    error SignatureExpired(uint256 deadline);
    error InvalidConfirmationSignature(address obligor);
    error InvalidSupplierSignature(address supplier);
    error InsufficientDocumentCover(uint256 invoiceTotal, uint256 face);
    error MaturityTooLate(uint256 maturity, uint256 latestMaturity);
    /// @notice The term from now to maturity, `tenor` seconds, exceeds the policy's `maxTenor`.
    error TenorTooLong(uint256 tenor, uint256 maxTenor);
    /// @notice A term of `tenor` seconds, above the policy's `longTenor`, without a justification code.
    error LongTenorNeedsJustification(uint256 tenor, uint256 longTenor);
    /// @notice A large obligor makes a small, medium or micro supplier wait `term` seconds after delivery,
    ///         beyond the policy's `smePaymentTerm`, and the terms cite no agreed contract term.
    error SmePaymentTermExceeded(uint256 term, uint256 smePaymentTerm);
    /// @notice The obligation's minimum unit is below the policy's.
    error MinUnitBelowPolicy(uint256 minUnit, uint256 policyMinUnit);
    /// @notice The obligor is suspended from issuing until `until` (three obligations overdue within the window).
    error ObligorSuspended(address obligor, uint256 until);
    /// @notice A trade-backed move whose recipients, values and document lists differ in length (or are empty).
    error MoveBatchMismatch(uint256 recipients, uint256 values, uint256 documentLists);
    /// @notice Only the holder of token `tokenId` (`owner`) pays with it through this desk.
    error NotHolder(address account, uint256 tokenId, address owner);
    /// @notice An upgrade to `newImplementation`, which is not wired to this desk's registry, trades and token.
    error UpgradeMiswired(address newImplementation);

    /// @notice The implementation: its immutables name the proxies it works with; only a proxy is initialized.
    /// @param registry The participant registry (proxy).
    /// @param tradeRegistry The trade registry (proxy).
    /// @param receivables The receivable token (proxy).
    /// @custom:oz-upgrades-unsafe-allow constructor state-variable-immutable
    constructor(IParticipantRegistry registry, ITradeRegistry tradeRegistry, IReceivableToken receivables) {
        participants = registry;
        trades = tradeRegistry;
        token = receivables;
        _disableInitializers();
    }

    /// @notice Initializes the proxy (its EIP-712 domain and nonces); the desk has no other settings.
    function initialize() external initializer {
        __EIP712_init(EIP712_NAME, EIP712_VERSION);
        __Nonces_init();
    }

    /// @notice The version of this implementation ("1.0.0").
    function version() external pure virtual returns (string memory) {
        return "1.0.0";
    }

    /// @notice The last proposal id handed out (ids start at 1).
    function lastProposalId() external view returns (uint256) {
        return _s().lastProposalId;
    }

    /// @notice Maps an ISO 4217 code to the ERC-20 that settles it. POLICY (governance) only.
    /// @dev Write-once: proposals and confirmation signatures name the code, not the token, so remapping a
    ///      code between proposal and confirmation would settle an obligation in a token nobody agreed to.
    ///      A new settlement token for a code means a new desk.
    function setCurrency(bytes3 currency, address settlementToken) external {
        IssuanceDeskStorage storage $ = _s();
        if (!participants.hasRole(Roles.POLICY, msg.sender)) revert NotAdmin(msg.sender);
        if (currency == bytes3(0)) revert EmptyCurrencyCode();
        if (settlementToken == address(0)) revert IReceivableTokenBase.ZeroAddress("settlementToken");
        address current = $.currencies[currency];
        if (current != address(0)) revert CurrencyAlreadySet(currency, current);
        $.currencies[currency] = settlementToken;
        emit CurrencySet(currency, settlementToken);
    }

    /// @notice The ERC-20 settling `currency`, or the zero address.
    function currencyToken(bytes3 currency) external view returns (address) {
        IssuanceDeskStorage storage $ = _s();
        return $.currencies[currency];
    }

    /// @notice Proposes an obligation; the caller must be `terms.supplier`.
    /// @dev Checks everything confirmation will check, so a doomed proposal fails now, not later.
    function propose(Terms calldata terms) external nonReentrant returns (uint256 proposalId) {
        IssuanceDeskStorage storage $ = _s();
        if (msg.sender != terms.supplier) revert NotSupplier(msg.sender);
        (, IParticipantRegistry.IssuanceRules memory rules) = _checkTerms(terms);
        (uint256 cover, uint256 earliestDue, uint256 deliveredAt) =
            trades.checkUsable(terms.documents, terms.supplier, terms.obligor, terms.currency);
        _checkRules(terms, Facts(cover, earliestDue, deliveredAt), rules);
        proposalId = ++$.lastProposalId;
        $.pending[proposalId] = hashTerms(terms);
        emit ObligationProposed(
            proposalId,
            terms.supplier,
            terms.obligor,
            terms.currency,
            terms.face,
            terms.maturity,
            terms.minUnit,
            terms.documents
        );
        _emitJustified(proposalId, 0, terms);
    }

    /// @notice The obligor confirms proposal `proposalId`; `terms` must be the proposed terms.
    function confirm(uint256 proposalId, Terms calldata terms)
        external
        nonReentrant
        returns (uint256 slot, uint256 tokenId)
    {
        if (msg.sender != terms.obligor) revert NotObligor(msg.sender);
        _takePending(proposalId, terms);
        return _issue(proposalId, terms);
    }

    /// @notice Confirms with the obligor's EIP-712 `Confirmation` signature (EOA or ERC-1271 wallet).
    /// @dev The signature binds the proposal id, the terms hash, the obligor's next nonce and a deadline.
    function confirmWithSignature(uint256 proposalId, Terms calldata terms, uint256 deadline, bytes calldata signature)
        external
        nonReentrant
        returns (uint256 slot, uint256 tokenId)
    {
        if (deadline < block.timestamp) revert SignatureExpired(deadline);
        bytes32 termsHash = _takePending(proposalId, terms);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(CONFIRMATION_TYPEHASH, proposalId, termsHash, _useNonce(terms.obligor), deadline))
        );
        if (!SignatureChecker.isValidSignatureNow(terms.obligor, digest, signature)) {
            revert InvalidConfirmationSignature(terms.obligor);
        }
        return _issue(proposalId, terms);
    }

    /// @notice The obligor refuses proposal `proposalId` with a reason code.
    function reject(uint256 proposalId, Terms calldata terms, uint32 reasonCode) external nonReentrant {
        if (msg.sender != terms.obligor) revert NotObligor(msg.sender);
        _takePending(proposalId, terms);
        emit ProposalRejected(proposalId, msg.sender, reasonCode);
    }

    /// @notice The supplier withdraws proposal `proposalId`.
    function cancel(uint256 proposalId, Terms calldata terms) external nonReentrant {
        if (msg.sender != terms.supplier) revert NotSupplier(msg.sender);
        _takePending(proposalId, terms);
        emit ProposalCancelled(proposalId, msg.sender);
    }

    /// @notice The obligor issues an obligation on itself in one step, on terms the supplier signed: the
    ///         supplier's EIP-712 `SupplierConsent` (EOA or ERC-1271 wallet) over exactly these terms.
    /// @dev The signature binds the terms hash, the supplier's next nonce and a deadline, so it issues once;
    ///      nonces are one sequence per account, shared with obligor confirmations. An unused consent
    ///      lapses at its deadline. Without the signature the obligor could consume the
    ///      supplier's documents on terms the supplier never agreed to, and its own proposal could never issue.
    function issueDirect(Terms calldata terms, uint256 deadline, bytes calldata supplierSignature)
        external
        nonReentrant
        returns (uint256 slot, uint256 tokenId)
    {
        if (msg.sender != terms.obligor) revert NotObligor(msg.sender);
        if (deadline < block.timestamp) revert SignatureExpired(deadline);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(SUPPLIER_CONSENT_TYPEHASH, hashTerms(terms), _useNonce(terms.supplier), deadline))
        );
        if (!SignatureChecker.isValidSignatureNow(terms.supplier, digest, supplierSignature)) {
            revert InvalidSupplierSignature(terms.supplier);
        }
        return _issue(0, terms);
    }

    /// @notice True while proposal `proposalId` waits for the obligor.
    function isPending(uint256 proposalId) external view returns (bool) {
        IssuanceDeskStorage storage $ = _s();
        return $.pending[proposalId] != bytes32(0);
    }

    /// @notice The EIP-712 digest the obligor signs to confirm `proposalId` with `nonce` until `deadline`.
    function confirmationDigest(uint256 proposalId, Terms calldata terms, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(CONFIRMATION_TYPEHASH, proposalId, hashTerms(terms), nonce, deadline))
        );
    }

    /// @notice The EIP-712 digest the supplier signs to let the obligor issue `terms` with `nonce` until `deadline`.
    function supplierConsentDigest(Terms calldata terms, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(SUPPLIER_CONSENT_TYPEHASH, hashTerms(terms), nonce, deadline)));
    }

    /// @notice The hash a proposal stores: keccak256 of the ABI-encoded terms.
    function hashTerms(Terms calldata terms) public pure returns (bytes32) {
        return keccak256(abi.encode(terms));
    }

    function _takePending(uint256 proposalId, Terms calldata terms) private returns (bytes32 termsHash) {
        IssuanceDeskStorage storage $ = _s();
        bytes32 stored = $.pending[proposalId];
        if (stored == bytes32(0)) revert UnknownProposal(proposalId);
        termsHash = hashTerms(terms);
        if (stored != termsHash) revert TermsMismatch(proposalId);
        delete $.pending[proposalId];
    }

    function _issue(uint256 proposalId, Terms calldata terms) private returns (uint256 slot, uint256 tokenId) {
        (address currency, IParticipantRegistry.IssuanceRules memory rules) = _checkTerms(terms);
        (slot, tokenId) =
            token.createSlot(terms.obligor, currency, terms.face, terms.maturity, terms.minUnit, terms.supplier);
        (uint256 cover, uint256 earliestDue, uint256 deliveredAt) =
            trades.consume(terms.documents, terms.supplier, terms.obligor, terms.currency, slot);
        _checkRules(terms, Facts(cover, earliestDue, deliveredAt), rules);
        emit ObligationIssued(proposalId, slot, tokenId, msg.sender);
        _emitJustified(proposalId, slot, terms);
    }

    /// @notice The holder of `tokenId` pays its own suppliers with it: `values[i]` to `recipients[i]`, each
    ///         backed by the trade documents `documents[i]` (an invoice, or an order with its delivery note,
    ///         sold by the recipient to the holder in the obligation's currency). A value equal to what is
    ///         left of the token moves the token itself. This is the path for moves the obligor's policy
    ///         requires a trade background for (银发〔2025〕77号); a plain token transfer to a non-bank is refused.
    /// @dev Stops while `OP_MOVES` is paused, as a holder's own transfer does. Each recipient's documents are
    ///      consumed for its value before the piece is made; the token checks parties, freeze, maturity, unit
    ///      and depth. A receiving contract is called by the token, under its guard. In bill mode each piece
    ///      pends until its recipient accepts it on the token (`acceptMove`, 签收); no receiver is called then.
    function moveWithTrade(
        uint256 tokenId,
        address[] calldata recipients,
        uint256[] calldata values,
        bytes32[][] calldata documents
    ) external nonReentrant returns (uint256[] memory pieceIds) {
        uint256 n = recipients.length;
        if (n == 0 || values.length != n || documents.length != n) {
            revert MoveBatchMismatch(n, values.length, documents.length);
        }
        participants.checkNotPaused(Roles.OP_MOVES);
        address owner = token.ownerOf(tokenId);
        if (owner != msg.sender) revert NotHolder(msg.sender, tokenId, owner);
        uint256 slot = token.slotOf(tokenId);
        pieceIds = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            trades.consumeForMove(documents[i], msg.sender, recipients[i], slot, values[i]);
            pieceIds[i] = token.deskPay(msg.sender, tokenId, recipients[i], values[i]);
            emit TradeBackedMove(tokenId, pieceIds[i], msg.sender, recipients[i], values[i]);
        }
    }

    /// @dev The invoices must cover the face, and the obligation may not defer payment more than
    ///      `MAX_MATURITY_DEFERRAL` past the day the earliest of them falls due. Then the compliance policy
    ///      of the obligor (registry): not suspended; term from now to maturity within `maxTenor`, and above
    ///      `longTenor` only with a justification code; minimum unit at least the policy's; and when a large
    ///      obligor pays a small, medium or micro supplier, maturity within `smePaymentTerm` of delivery
    ///      unless an agreed contract term is cited. Run at proposal and again at issue (the term is shorter
    ///      then; a suspension or a policy change may have come in between). `r` is the registry's answer
    ///      (`checkIssuance`) asked by `_checkTerms` in the same transaction.
    function _checkRules(Terms calldata terms, Facts memory f, IParticipantRegistry.IssuanceRules memory r)
        private
        view
    {
        if (f.cover < terms.face) revert InsufficientDocumentCover(f.cover, terms.face);
        uint256 latestMaturity = f.earliestDue + MAX_MATURITY_DEFERRAL;
        if (terms.maturity > latestMaturity) revert MaturityTooLate(terms.maturity, latestMaturity);
        IParticipantRegistry.Policy memory p = r.policy;
        if (block.timestamp < r.suspendedUntil) revert ObligorSuspended(terms.obligor, r.suspendedUntil);
        // _checkTerms ensured maturity > now.
        uint256 tenor = terms.maturity - block.timestamp;
        if (tenor > p.maxTenor) revert TenorTooLong(tenor, p.maxTenor);
        if (tenor > p.longTenor && terms.tenorJustification == 0) {
            revert LongTenorNeedsJustification(tenor, p.longTenor);
        }
        if (terms.minUnit < p.minUnit) revert MinUnitBelowPolicy(terms.minUnit, p.minUnit);
        if (
            r.obligorClass == IParticipantRegistry.SizeClass.Large
                && r.supplierClass > IParticipantRegistry.SizeClass.Large && terms.agreedTermRef == bytes32(0)
                && terms.maturity > f.deliveredAt
        ) {
            uint256 term = terms.maturity - f.deliveredAt;
            if (term > p.smePaymentTerm) revert SmePaymentTermExceeded(term, p.smePaymentTerm);
        }
    }

    function _emitJustified(uint256 proposalId, uint256 slot, Terms calldata terms) private {
        if (terms.tenorJustification != 0 || terms.agreedTermRef != bytes32(0)) {
            emit TermsJustified(proposalId, slot, terms.tenorJustification, terms.agreedTermRef);
        }
    }

    /// @dev Roles and status are checked at proposal and again at confirmation: either may have changed. The
    ///      first check also refuses while issuance is paused (`OP_ISSUANCE`): every issuing path runs here.
    ///      One registry call (`checkIssuance`) checks both and answers the rules `_checkRules` applies.
    function _checkTerms(Terms calldata terms)
        private
        view
        returns (address currency, IParticipantRegistry.IssuanceRules memory rules)
    {
        IssuanceDeskStorage storage $ = _s();
        rules = participants.checkIssuance(terms.supplier, terms.obligor);
        currency = $.currencies[terms.currency];
        if (currency == address(0)) revert UnknownCurrency(terms.currency);
        if (terms.face == 0) revert IReceivableTokenBase.ZeroFace();
        if (terms.minUnit == 0) revert IReceivableTokenBase.ZeroMinUnit();
        if (terms.minUnit > type(uint48).max) revert MinUnitTooLarge(terms.minUnit, type(uint48).max);
        if (terms.face % terms.minUnit != 0) {
            revert IReceivableTokenBase.FaceNotMultipleOfMinUnit(terms.face, terms.minUnit);
        }
        if (terms.maturity <= block.timestamp) {
            revert IReceivableTokenBase.MaturityNotInFuture(terms.maturity, block.timestamp);
        }
        if (terms.documents.length == 0) revert NoDocuments();
        if (terms.supplier == terms.obligor) revert SupplierIsObligor(terms.supplier);
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
    ///      implementation wired to the same registry, trade registry and token.
    function _authorizeUpgrade(address newImplementation) internal view override {
        UpgradeGuard.checkAdmin(participants, msg.sender);
        if (
            UpgradeGuard.wiredTo(newImplementation, IWiring.participants.selector) != address(participants)
                || UpgradeGuard.wiredTo(newImplementation, IWiring.trades.selector) != address(trades)
                || UpgradeGuard.wiredTo(newImplementation, IWiring.token.selector) != address(token)
        ) revert UpgradeMiswired(newImplementation);
    }

    /// @dev The contract's ERC-7201 namespace (`tierchain.storage.IssuanceDesk`), at `STORAGE_SLOT`.
    function _s() private pure returns (IssuanceDeskStorage storage $) {
        assembly {
            $.slot := STORAGE_SLOT
        }
    }
}
