// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IssuanceDesk} from "../../contracts/IssuanceDesk.sol";
import {ParticipantRegistry} from "../../contracts/ParticipantRegistry.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IReceivableToken, IReceivableTokenBase} from "../../contracts/interfaces/IReceivableToken.sol";
import {ITradeRegistry} from "../../contracts/interfaces/ITradeRegistry.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";
import {Deploy} from "./utils/Deploy.sol";
import {World} from "./utils/World.sol";

/// @title ComplianceTest
/// @notice The 2025 e-voucher rules as the contracts enforce them (docs/compliance.md): the policy and its
///         overrides, tenor and its justification, the SME payment term, the minimum unit, split depth, the
///         trade background of onward moves and the obligor's overdue record. Each rule is refused just past
///         its edge and allowed at it.
contract ComplianceTest is World {
    using ComplianceModel for ComplianceModel.Case;

    uint256 internal constant FACE = 1_000_000; // 10,000.00 CNY
    uint16 internal constant JUSTIFIED = 3; // a justification code (meaning is off-chain: docs/compliance.md)
    bytes32 internal constant AGREED = keccak256("contract HT-2025-001 clause 4.2");

    function setUp() public {
        _deployWorld();
        Deploy.setPolicy(registry, admin, Deploy.lawPolicy());
        vm.startPrank(admin);
        registry.setSizeClass(core1, IParticipantRegistry.SizeClass.Large);
        registry.setSizeClass(supplier1, IParticipantRegistry.SizeClass.Small);
        registry.setSizeClass(supplier2, IParticipantRegistry.SizeClass.Micro);
        vm.stopPrank();
    }

    // ================================================================== helpers

    /// @dev Attests a document of `kind` with chosen issue and due dates.
    function _attestDated(
        ITradeRegistry.DocumentKind kind,
        address seller,
        address buyer,
        uint256 amount,
        uint256 issueDate,
        uint256 dueDate
    ) internal returns (bytes32) {
        ITradeRegistry.Attestation memory a = _attestation(kind, seller, buyer, amount);
        a.issueDate = uint64(issueDate);
        a.dueDate = uint64(dueDate);
        trades.attest(a, _oracleSignatures(a, ORACLE_THRESHOLD));
        return a.fingerprint;
    }

    /// @dev Terms for `supplier` on `obligor` backed by one invoice issued (delivered) now and due in 200 days,
    ///      so the desk's 180-day deferral never binds below 380 days.
    function _termsAt(address supplier, address obligor, uint256 maturity)
        internal
        returns (IssuanceDesk.Terms memory)
    {
        bytes32 inv = _attestDated(
            ITradeRegistry.DocumentKind.Invoice, supplier, obligor, FACE, block.timestamp, block.timestamp + 200 days
        );
        return _terms(supplier, obligor, FACE, maturity, MIN_UNIT, inv);
    }

    function _proposeExpect(IssuanceDesk.Terms memory t, bytes memory err) internal {
        vm.expectRevert(err);
        vm.prank(t.supplier);
        issuance.propose(t);
    }

    function _docs(bytes32 a) internal pure returns (bytes32[][] memory d) {
        d = new bytes32[][](1);
        d[0] = new bytes32[](1);
        d[0][0] = a;
    }

    function _one(address a) internal pure returns (address[] memory r) {
        r = new address[](1);
        r[0] = a;
    }

    function _one(uint256 v) internal pure returns (uint256[] memory r) {
        r = new uint256[](1);
        r[0] = v;
    }

    /// @dev `payer` pays `receiver` `value` of `tokenId`, backed by `doc`.
    function _pay(address payer, uint256 tokenId, address receiver, uint256 value, bytes32 doc)
        internal
        returns (uint256)
    {
        vm.prank(payer);
        uint256[] memory ids = issuance.moveWithTrade(tokenId, _one(receiver), _one(value), _docs(doc));
        return ids.length == 0 ? 0 : ids[0]; // empty when the call was expected to revert
    }

    function _invoice(address seller, address buyer, uint256 amount) internal returns (bytes32) {
        return attestInvoice(seller, buyer, amount);
    }

    function _policy(uint32 maxTenor, uint32 longTenor, uint16 maxDepth, bool tradeBackground)
        internal
        pure
        returns (IParticipantRegistry.Policy memory p)
    {
        p = Deploy.lawPolicy();
        p.maxTenor = maxTenor;
        p.longTenor = longTenor;
        p.maxDepth = maxDepth;
        p.tradeBackground = tradeBackground;
    }

    // ================================================================== the policy

    function test_initialize_setsTheLawsDefaults() public {
        ParticipantRegistry fresh = Deploy.registry(admin);
        IParticipantRegistry.Policy memory p = fresh.defaultPolicy();
        assertEq(p.maxTenor, 365 days);
        assertEq(p.longTenor, 180 days);
        assertEq(p.smePaymentTerm, 60 days);
        assertEq(p.maxDepth, 32);
        assertEq(p.minUnit, 1);
        assertTrue(p.tradeBackground);
        assertTrue(p.isSet);
    }

    function test_setPolicy_emitsWithReason() public {
        IParticipantRegistry.Policy memory p = _policy(300 days, 120 days, 8, true);
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.PolicySet(p, admin, "tighter terms");
        vm.prank(admin);
        registry.setPolicy(p, "tighter terms");
        assertEq(registry.defaultPolicy().maxTenor, 300 days);
        assertEq(registry.policyOf(core1).maxDepth, 8);
    }

    function test_RevertWhen_setPolicyByNonPolicy() public {
        IParticipantRegistry.Policy memory p = Deploy.lawPolicy();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, Roles.POLICY)
        );
        vm.prank(stranger);
        registry.setPolicy(p, "no");
    }

    function test_RevertWhen_setPolicyOutOfRange() public {
        vm.startPrank(admin);
        vm.expectRevert(IParticipantRegistry.PolicyReasonRequired.selector);
        registry.setPolicy(Deploy.lawPolicy(), "");
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.InvalidPolicy.selector, "maxTenor"));
        registry.setPolicy(_policy(365 days + 1, 180 days, 32, true), "beyond a year");
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.InvalidPolicy.selector, "longTenor"));
        registry.setPolicy(_policy(200 days, 201 days, 32, true), "threshold above max");
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.InvalidPolicy.selector, "maxDepth"));
        registry.setPolicy(_policy(200 days, 100 days, 0, true), "no depth");
        IParticipantRegistry.Policy memory p = Deploy.lawPolicy();
        p.minUnit = 0;
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.InvalidPolicy.selector, "minUnit"));
        registry.setPolicy(p, "no unit");
        p = Deploy.lawPolicy();
        p.smePaymentTerm = 0;
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.InvalidPolicy.selector, "smePaymentTerm"));
        registry.setPolicy(p, "no sme term");
        vm.stopPrank();
        // The edge itself is allowed.
        vm.prank(admin);
        registry.setPolicy(_policy(365 days, 365 days, 1, false), "edges");
    }

    function test_obligorOverride_appliesToThatObligorOnly_andClears() public {
        IParticipantRegistry.Policy memory p = _policy(90 days, 60 days, 3, false);
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.ObligorPolicySet(core1, p, admin, "group treasury rule");
        vm.prank(admin);
        registry.setObligorPolicy(core1, p, "group treasury rule");
        assertEq(registry.policyOf(core1).maxTenor, 90 days);
        assertEq(registry.policyOf(core2).maxTenor, 365 days);
        // Core1's own tenor limit binds its obligations.
        IssuanceDesk.Terms memory t = _termsAt(supplier1, core1, block.timestamp + 91 days);
        _proposeExpect(t, abi.encodeWithSelector(IssuanceDesk.TenorTooLong.selector, 91 days, 90 days));
        vm.prank(admin);
        registry.clearObligorPolicy(core1, "rule withdrawn");
        assertEq(registry.policyOf(core1).maxTenor, 365 days);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NoObligorPolicy.selector, core1));
        vm.prank(admin);
        registry.clearObligorPolicy(core1, "again");
    }

    // ================================================================== rule 1: tenor

    function test_tenor_atMaxWithJustification_isIssued_oneSecondMoreIsRefused() public {
        IssuanceDesk.Terms memory t = _termsAt(supplier3, core1, block.timestamp + 365 days + 1);
        t.tenorJustification = JUSTIFIED;
        _proposeExpect(t, abi.encodeWithSelector(IssuanceDesk.TenorTooLong.selector, 365 days + 1, 365 days));
        t = _termsAt(supplier3, core1, block.timestamp + 365 days);
        t.tenorJustification = JUSTIFIED;
        uint256 id = _propose(t);
        vm.expectEmit(address(issuance));
        emit IssuanceDesk.TermsJustified(id, 1, JUSTIFIED, bytes32(0));
        (uint256 slot,) = _confirm(id, t);
        assertEq(slot, 1);
    }

    function test_longTenor_needsJustification_aboveTheThresholdOnly() public {
        IssuanceDesk.Terms memory t = _termsAt(supplier3, core1, block.timestamp + 180 days + 1);
        _proposeExpect(
            t, abi.encodeWithSelector(IssuanceDesk.LongTenorNeedsJustification.selector, 180 days + 1, 180 days)
        );
        t = _termsAt(supplier3, core1, block.timestamp + 180 days);
        _confirm(_propose(t), t); // at the threshold: no code needed
    }

    function test_confirm_rechecksThePolicy() public {
        IssuanceDesk.Terms memory t = _termsAt(supplier3, core1, block.timestamp + 150 days);
        uint256 id = _propose(t);
        vm.prank(admin);
        registry.setPolicy(_policy(120 days, 90 days, 32, true), "tightened");
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.TenorTooLong.selector, 150 days, 120 days));
        vm.prank(core1);
        issuance.confirm(id, t);
    }

    function test_RevertWhen_minUnitBelowPolicy() public {
        IParticipantRegistry.Policy memory p = Deploy.lawPolicy();
        p.minUnit = 1_000;
        vm.prank(admin);
        registry.setPolicy(p, "whole ten-yuan units");
        IssuanceDesk.Terms memory t = _termsAt(supplier3, core1, block.timestamp + 90 days);
        _proposeExpect(t, abi.encodeWithSelector(IssuanceDesk.MinUnitBelowPolicy.selector, MIN_UNIT, 1_000));
        t.minUnit = 1_000;
        _confirm(_propose(t), t);
    }

    // ================================================================== rule 2: SME payment term

    function test_sme_maturityWithin60DaysOfDelivery_oneSecondMoreIsRefused() public {
        uint256 delivered = block.timestamp - 10 days;
        bytes32 dn = _attestDated(ITradeRegistry.DocumentKind.DeliveryNote, supplier1, core1, 1, delivered, 0);
        bytes32 inv = _attestDated(
            ITradeRegistry.DocumentKind.Invoice, supplier1, core1, FACE, block.timestamp, block.timestamp + 30 days
        );
        bytes32[] memory docs = new bytes32[](2);
        (docs[0], docs[1]) = (inv, dn);
        IssuanceDesk.Terms memory t =
            IssuanceDesk.Terms(supplier1, core1, CNY, FACE, delivered + 60 days + 1, MIN_UNIT, docs, 0, bytes32(0));
        _proposeExpect(t, abi.encodeWithSelector(IssuanceDesk.SmePaymentTermExceeded.selector, 60 days + 1, 60 days));
        t.maturity = delivered + 60 days;
        _confirm(_propose(t), t);
    }

    function test_sme_withoutDeliveryNote_countsFromTheInvoice() public {
        uint256 invoiced = block.timestamp - 5 days;
        bytes32 inv = _attestDated(
            ITradeRegistry.DocumentKind.Invoice, supplier2, core1, FACE, invoiced, block.timestamp + 30 days
        );
        IssuanceDesk.Terms memory t = _terms(supplier2, core1, FACE, invoiced + 61 days, MIN_UNIT, inv);
        _proposeExpect(t, abi.encodeWithSelector(IssuanceDesk.SmePaymentTermExceeded.selector, 61 days, 60 days));
    }

    function test_sme_agreedContractTerm_allowsALongerTerm_andIsRecorded() public {
        IssuanceDesk.Terms memory t = _termsAt(supplier1, core1, block.timestamp + 120 days);
        _proposeExpect(t, abi.encodeWithSelector(IssuanceDesk.SmePaymentTermExceeded.selector, 120 days, 60 days));
        t.agreedTermRef = AGREED;
        vm.expectEmit(address(issuance));
        emit IssuanceDesk.TermsJustified(1, 0, 0, AGREED);
        uint256 id = _propose(t);
        _confirm(id, t);
    }

    function test_sme_notAppliedToLargeSuppliersOrUnclassifiedObligors() public {
        vm.prank(admin);
        registry.setSizeClass(supplier3, IParticipantRegistry.SizeClass.Large);
        IssuanceDesk.Terms memory t = _termsAt(supplier3, core1, block.timestamp + 120 days);
        _confirm(_propose(t), t);
        // core2 has no size class recorded: the SME test cannot apply.
        t = _termsAt(supplier1, core2, block.timestamp + 120 days);
        _confirm(_propose(t), t);
    }

    // ================================================================== size classes

    function test_setSizeClass_recordsAndEmits() public {
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.SizeClassSet(
            supplier3, IParticipantRegistry.SizeClass.Unclassified, IParticipantRegistry.SizeClass.Medium
        );
        vm.prank(admin);
        registry.setSizeClass(supplier3, IParticipantRegistry.SizeClass.Medium);
        assertEq(uint8(registry.sizeClassOf(supplier3)), uint8(IParticipantRegistry.SizeClass.Medium));
    }

    function test_RevertWhen_setSizeClassInvalid() public {
        vm.startPrank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(
                IParticipantRegistry.InvalidSizeClass.selector, IParticipantRegistry.SizeClass.Unclassified
            )
        );
        registry.setSizeClass(supplier3, IParticipantRegistry.SizeClass.Unclassified);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotRegistered.selector, stranger));
        registry.setSizeClass(stranger, IParticipantRegistry.SizeClass.Small);
        vm.stopPrank();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, Roles.ONBOARDING)
        );
        vm.prank(stranger);
        registry.setSizeClass(supplier3, IParticipantRegistry.SizeClass.Small);
    }

    // ================================================================== rule 3: trade background

    function _issued() internal returns (uint256 slot, uint256 tokenId) {
        // supplier3 is unclassified: no SME test in the way.
        return issue(supplier3, core1, FACE, block.timestamp + 90 days, MIN_UNIT);
    }

    function test_plainMovesToSuppliers_areRefused_toBanksAllowed() public {
        (, uint256 root) = _issued();
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.TradeBackgroundRequired.selector, supplier3, supplier1)
        );
        vm.prank(supplier3);
        token.transferFrom(root, supplier1, 1_000);
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.TradeBackgroundRequired.selector, supplier3, supplier1)
        );
        vm.prank(supplier3);
        token.transferFrom(supplier3, supplier1, root);
        // A bank needs no trade document: buying a receivable is financing.
        uint256 piece = split(supplier3, root, bank1, 1_000);
        assertEq(token.ownerOf(piece), bank1);
        // Nor does a holder moving value between its own pieces.
        uint256 own = split(supplier3, root, supplier3, 1_000);
        vm.prank(supplier3);
        token.transferFrom(own, root, 1_000);
    }

    function test_RevertWhen_mergeIntoAnotherSuppliersPieceWithoutTrade() public {
        (, uint256 root) = _issued();
        uint256 theirs = _pay(supplier3, root, supplier1, 1_000, _invoice(supplier1, supplier3, 1_000));
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantRegistry.TradeBackgroundRequired.selector, supplier3, supplier1)
        );
        vm.prank(supplier3);
        token.transferFrom(root, theirs, 100);
    }

    function test_moveWithTrade_paysTheSeller_andCountsTheDocument() public {
        (uint256 slot, uint256 root) = _issued();
        bytes32 inv = _invoice(supplier1, supplier3, 60_000);
        vm.expectEmit(address(trades));
        emit ITradeRegistry.DocumentBackedMove(inv, slot, supplier3, supplier1, 40_000);
        uint256 piece = _pay(supplier3, root, supplier1, 40_000, inv);
        assertEq(token.ownerOf(piece), supplier1);
        assertEq(token.balanceOf(piece), 40_000);
        assertEq(token.parentOf(piece), root);
        assertEq(trades.movedValue(inv), 40_000);
        // The rest of the invoice backs a second payment; nothing beyond it.
        _pay(supplier3, root, supplier1, 20_000, inv);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InsufficientTradeCover.selector, 0, 100));
        _pay(supplier3, root, supplier1, 100, inv);
    }

    function test_moveWithTrade_documentsCombine_andOnlyWhatIsNeededIsTaken() public {
        (, uint256 root) = _issued();
        bytes32 a = _invoice(supplier1, supplier3, 30_000);
        bytes32 b = _invoice(supplier1, supplier3, 30_000);
        bytes32[][] memory d = new bytes32[][](1);
        d[0] = new bytes32[](2);
        (d[0][0], d[0][1]) = (a, b);
        vm.prank(supplier3);
        issuance.moveWithTrade(root, _one(supplier1), _one(50_000), d);
        assertEq(trades.movedValue(a), 30_000);
        assertEq(trades.movedValue(b), 20_000);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InsufficientTradeCover.selector, 10_000, 10_100));
        vm.prank(supplier3);
        issuance.moveWithTrade(root, _one(supplier1), _one(10_100), d);
    }

    function test_moveWithTrade_orderCountsOnlyWithItsDeliveryNote() public {
        (, uint256 root) = _issued();
        bytes32 po = attestDocument(ITradeRegistry.DocumentKind.PurchaseOrder, supplier1, supplier3, 50_000);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InsufficientTradeCover.selector, 0, 10_000));
        _pay(supplier3, root, supplier1, 10_000, po);
        bytes32 dn = attestDocument(ITradeRegistry.DocumentKind.DeliveryNote, supplier1, supplier3, 1);
        bytes32[][] memory d = new bytes32[][](1);
        d[0] = new bytes32[](2);
        (d[0][0], d[0][1]) = (po, dn);
        vm.prank(supplier3);
        issuance.moveWithTrade(root, _one(supplier1), _one(10_000), d);
        assertEq(trades.movedValue(po), 10_000);
    }

    function test_RevertWhen_moveDocumentOfOtherParties() public {
        (, uint256 root) = _issued();
        // Sold by supplier2, not the receiver.
        bytes32 other = _invoice(supplier2, supplier3, 10_000);
        vm.expectRevert(
            abi.encodeWithSelector(ITradeRegistry.DocumentPartyMismatch.selector, other, supplier2, supplier3)
        );
        _pay(supplier3, root, supplier1, 10_000, other);
        // The wrong way round: the payer sold to the receiver.
        bytes32 reversed = _invoice(supplier3, supplier1, 10_000);
        vm.expectRevert(
            abi.encodeWithSelector(ITradeRegistry.DocumentPartyMismatch.selector, reversed, supplier3, supplier1)
        );
        _pay(supplier3, root, supplier1, 10_000, reversed);
    }

    function test_RevertWhen_moveDocumentInAnotherCurrency() public {
        (, uint256 root) = _issued();
        ITradeRegistry.Attestation memory a =
            _attestation(ITradeRegistry.DocumentKind.Invoice, supplier1, supplier3, 10_000);
        a.currency = "USD";
        trades.attest(a, _oracleSignatures(a, ORACLE_THRESHOLD));
        vm.expectRevert(
            abi.encodeWithSelector(ITradeRegistry.DocumentCurrencyMismatch.selector, a.fingerprint, bytes3("USD"))
        );
        _pay(supplier3, root, supplier1, 10_000, a.fingerprint);
    }

    function test_documentsBackObligationsOrMoves_neverBoth() public {
        (, uint256 root) = _issued();
        // An invoice that backed a move cannot back an obligation.
        bytes32 inv = _invoice(supplier1, supplier3, FACE);
        _pay(supplier3, root, supplier1, 1_000, inv);
        vm.prank(admin);
        registry.grantRole(Roles.CORE_ENTERPRISE, supplier3);
        IssuanceDesk.Terms memory t = _terms(supplier1, supplier3, FACE, block.timestamp + 30 days, MIN_UNIT, inv);
        _proposeExpect(t, abi.encodeWithSelector(ITradeRegistry.DocumentBacksMoves.selector, inv, 1_000));
        // An invoice that backed an obligation cannot back a move.
        bytes32 used = _invoice(supplier1, supplier3, FACE);
        t = _terms(supplier1, supplier3, FACE, block.timestamp + 30 days, MIN_UNIT, used);
        (uint256 slot2,) = _confirm(_propose(t), t);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.DocumentAlreadyUsed.selector, used, slot2));
        _pay(supplier3, root, supplier1, 1_000, used);
    }

    function test_moveWithTrade_wholeValueMovesTheTokenItself() public {
        (, uint256 root) = _issued();
        uint256 moved = _pay(supplier3, root, supplier1, FACE, _invoice(supplier1, supplier3, FACE));
        assertEq(moved, root);
        assertEq(token.ownerOf(root), supplier1);
    }

    function test_RevertWhen_moveWithTradeByNonHolder_orMismatched_orPaused_orFrozen() public {
        (, uint256 root) = _issued();
        bytes32 inv = _invoice(supplier1, supplier3, FACE);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.NotHolder.selector, supplier1, root, supplier3));
        _pay(supplier1, root, supplier1, 1_000, inv);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.MoveBatchMismatch.selector, 1, 1, 0));
        vm.prank(supplier3);
        issuance.moveWithTrade(root, _one(supplier1), _one(uint256(1_000)), new bytes32[][](0));
        vm.prank(admin);
        registry.pause(Roles.OP_MOVES, "incident");
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.OperationPaused.selector, Roles.OP_MOVES));
        _pay(supplier3, root, supplier1, 1_000, inv);
        vm.prank(admin);
        registry.unpause(Roles.OP_MOVES, "resolved");
        vm.prank(regulator);
        token.freeze(root, 1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenFrozen.selector, root));
        _pay(supplier3, root, supplier1, 1_000, inv);
    }

    function test_courtOrderedTransfer_needsNoTradeDocument() public {
        (, uint256 root) = _issued();
        vm.prank(admin);
        registry.grantRole(Roles.ENFORCEMENT, court);
        vm.prank(court);
        uint256 piece = token.forceTransfer(root, supplier1, 1_000, keccak256(unicode"(2025)沪0115执1234号"));
        assertEq(token.ownerOf(piece), supplier1);
    }

    function test_tradeBackgroundOff_forAnObligorOverride() public {
        (, uint256 root) = _issued();
        vm.prank(admin);
        registry.setObligorPolicy(core1, _policy(365 days, 180 days, 32, false), "closed-loop programme");
        uint256 piece = split(supplier3, root, supplier1, 1_000);
        assertEq(token.ownerOf(piece), supplier1);
    }

    // ================================================================== rule 4: depth

    function test_depth_atMaxIsAllowed_oneDeeperIsRefused_byHolderAndDesk() public {
        vm.prank(admin);
        registry.setPolicy(_policy(365 days, 180 days, 2, false), "two tiers of pieces");
        (, uint256 root) = _issued();
        uint256 d1 = split(supplier3, root, supplier1, 10_000);
        uint256 d2 = split(supplier1, d1, supplier2, 5_000);
        assertEq(token.depthOf(d2), 2);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.SplitTooDeep.selector, 3, 2));
        vm.prank(supplier2);
        token.transferFrom(d2, supplier1, 1_000);
        // Financing a part of the deepest piece would also make a piece too deep; the whole piece may go.
        fund(bank1, FACE);
        uint256 offerId = makeOffer(bank1, d2, 1_000, 500, 0);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.SplitTooDeep.selector, 3, 2));
        vm.prank(supplier2);
        financing.accept(offerId);
        // A whole transfer makes no new piece.
        vm.prank(supplier2);
        token.transferFrom(supplier2, supplier1, d2);
    }

    // ================================================================== rule 5: obligor discipline

    /// @dev Issues an obligation of core1 maturing after `maturityIn` (justified where long).
    function _overdue(uint256 maturityIn) internal returns (uint256 slot) {
        IssuanceDesk.Terms memory t = _termsAt(supplier3, core1, block.timestamp + maturityIn);
        t.tenorJustification = JUSTIFIED;
        (slot,) = _confirm(_propose(t), t);
    }

    function test_threeOverdueWithin182Days_suspendIssuanceForTwoYears() public {
        uint256 s1 = _overdue(10 days);
        uint256 s2 = _overdue(40 days);
        uint256 s3 = _overdue(180 days); // marked at the window's last second
        vm.warp(block.timestamp + 10 days);
        repayment.markOverdue(s1);
        uint256 first = block.timestamp;
        vm.warp(block.timestamp + 30 days);
        repayment.markOverdue(s2);
        vm.warp(first + 182 days);
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.ObligorSuspended(core1, block.timestamp + 730 days, first, block.timestamp);
        repayment.markOverdue(s3);
        IParticipantRegistry.ObligorRecord memory r = registry.obligorRecord(core1);
        assertEq(r.overdueCount, 3);
        assertEq(r.suspendedUntil, block.timestamp + 730 days);
        uint256 until = r.suspendedUntil;
        IssuanceDesk.Terms memory t = _termsAt(supplier3, core1, block.timestamp + 30 days);
        _proposeExpect(t, abi.encodeWithSelector(IssuanceDesk.ObligorSuspended.selector, core1, until));
        // Other obligors still issue.
        t = _termsAt(supplier3, core2, block.timestamp + 30 days);
        _confirm(_propose(t), t);
        // Two years on, core1 issues again.
        vm.warp(until);
        t = _termsAt(supplier3, core1, block.timestamp + 30 days);
        _confirm(_propose(t), t);
    }

    function test_overdueSpreadBeyondTheWindow_doesNotSuspend() public {
        uint256 s1 = _overdue(10 days);
        uint256 s3 = _overdue(10 days + 182 days + 1);
        uint256 s2 = _overdue(100 days);
        vm.warp(block.timestamp + 10 days);
        repayment.markOverdue(s1);
        vm.warp(block.timestamp + 90 days);
        repayment.markOverdue(s2);
        vm.warp(block.timestamp + 92 days + 1);
        repayment.markOverdue(s3);
        assertEq(registry.obligorRecord(core1).suspendedUntil, 0);
        assertEq(registry.obligorRecord(core1).overdueCount, 3);
    }

    function test_declareDefaultOfAnOutstandingObligation_countsAsOverdue() public {
        uint256 s1 = _overdue(10 days);
        vm.warp(block.timestamp + 10 days + GRACE);
        repayment.declareDefault(s1);
        assertEq(registry.obligorRecord(core1).overdueCount, 1);
    }

    function test_liftSuspension_withReason_clearsTheStrikes() public {
        uint256[3] memory s = [_overdue(10 days), _overdue(10 days), _overdue(10 days)];
        vm.warp(block.timestamp + 10 days);
        for (uint256 i = 0; i < 3; ++i) {
            repayment.markOverdue(s[i]);
        }
        assertGt(registry.obligorRecord(core1).suspendedUntil, block.timestamp);
        vm.expectRevert(IParticipantRegistry.PolicyReasonRequired.selector);
        vm.prank(admin);
        registry.liftSuspension(core1, "");
        vm.expectEmit(address(registry));
        emit IParticipantRegistry.ObligorSuspensionLifted(core1, admin, "overdue caused by the bank's outage");
        vm.prank(admin);
        registry.liftSuspension(core1, "overdue caused by the bank's outage");
        IParticipantRegistry.ObligorRecord memory r = registry.obligorRecord(core1);
        assertEq(r.suspendedUntil, 0);
        assertEq(r.strike2, 0);
        assertEq(r.overdueCount, 3); // the history stays
        IssuanceDesk.Terms memory t = _termsAt(supplier3, core1, block.timestamp + 30 days);
        _confirm(_propose(t), t);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ObligorNotSuspended.selector, core1));
        vm.prank(admin);
        registry.liftSuspension(core1, "again");
    }

    function test_RevertWhen_recordOverdueByNonDesk() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, Roles.DESK)
        );
        vm.prank(stranger);
        registry.recordOverdue(core1, 1);
    }

    // ================================================================== fuzz: tenor and SME against a model

    /// @notice Random maturity, delivery day, size classes and codes: the desk accepts exactly what an
    ///         independent model of rules 1 and 2 accepts, and refuses with the model's error otherwise.
    function testFuzz_tenorAndSmeTerm_matchTheModel(
        uint32 maturityIn,
        uint32 deliveredAgo,
        uint8 supplierClass,
        bool justified,
        bool agreed
    ) public {
        ComplianceModel.Case memory c;
        c.now_ = block.timestamp;
        c.maturity = block.timestamp + bound(maturityIn, 1, 400 days);
        c.delivered = block.timestamp - bound(deliveredAgo, 0, 100 days);
        c.supplierClass = uint8(bound(supplierClass, 1, 4));
        c.justified = justified;
        c.agreed = agreed;
        c.policy = Deploy.lawPolicy();
        vm.prank(admin);
        registry.setSizeClass(supplier3, IParticipantRegistry.SizeClass(c.supplierClass));

        bytes32 dn = _attestDated(ITradeRegistry.DocumentKind.DeliveryNote, supplier3, core1, 1, c.delivered, 0);
        // The invoice falls due late enough that the desk's deferral limit never decides.
        bytes32 inv = _attestDated(
            ITradeRegistry.DocumentKind.Invoice, supplier3, core1, FACE, block.timestamp, block.timestamp + 300 days
        );
        bytes32[] memory docs = new bytes32[](2);
        (docs[0], docs[1]) = (inv, dn);
        IssuanceDesk.Terms memory t = IssuanceDesk.Terms(
            supplier3,
            core1,
            CNY,
            FACE,
            c.maturity,
            MIN_UNIT,
            docs,
            justified ? JUSTIFIED : 0,
            agreed ? AGREED : bytes32(0)
        );
        bytes memory expected = c.expectedError();
        vm.prank(supplier3);
        try issuance.propose(t) returns (uint256) {
            assertEq(expected.length, 0, "the model refuses what the desk accepted");
        } catch (bytes memory err) {
            assertEq(err, expected, "the desk's refusal differs from the model's");
        }
    }
}

/// @title ComplianceModel
/// @notice Rules 1 and 2 written again, plainly, from docs/compliance.md, for the fuzz test to compare with.
library ComplianceModel {
    struct Case {
        uint256 now_;
        uint256 maturity;
        uint256 delivered;
        uint8 supplierClass; // 1 Large, 2 Medium, 3 Small, 4 Micro; the obligor is Large
        bool justified;
        bool agreed;
        IParticipantRegistry.Policy policy;
    }

    /// @return The ABI-encoded error the desk must raise, or empty when the terms comply.
    function expectedError(Case memory c) internal pure returns (bytes memory) {
        uint256 tenorDays = c.maturity - c.now_;
        if (tenorDays > c.policy.maxTenor) {
            return abi.encodeWithSelector(IssuanceDesk.TenorTooLong.selector, tenorDays, c.policy.maxTenor);
        }
        if (tenorDays > c.policy.longTenor && !c.justified) {
            return
                abi.encodeWithSelector(IssuanceDesk.LongTenorNeedsJustification.selector, tenorDays, c.policy.longTenor);
        }
        bool sme = c.supplierClass >= 2;
        uint256 sinceDelivery = c.maturity - c.delivered;
        if (sme && !c.agreed && sinceDelivery > c.policy.smePaymentTerm) {
            return abi.encodeWithSelector(
                IssuanceDesk.SmePaymentTermExceeded.selector, sinceDelivery, c.policy.smePaymentTerm
            );
        }
        return "";
    }
}
