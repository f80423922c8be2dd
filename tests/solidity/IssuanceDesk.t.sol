// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {World} from "./utils/World.sol";
import {IssuanceDesk} from "../../contracts/IssuanceDesk.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IReceivableToken, IReceivableTokenBase} from "../../contracts/interfaces/IReceivableToken.sol";
import {ITradeRegistry} from "../../contracts/interfaces/ITradeRegistry.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";

/// @dev A minimal ERC-1271 contract wallet: valid when its owner key signed the digest.
contract ContractWallet {
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 digest, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        return err == ECDSA.RecoverError.NoError && signer == owner ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }
}

contract IssuanceDeskTest is World {
    uint256 internal constant FACE = 100_000_000;
    uint256 internal maturity;
    bytes32 internal fp;
    IssuanceDesk.Terms internal terms;

    function setUp() public {
        _deployWorld();
        maturity = block.timestamp + 180 days;
        fp = attestInvoice(supplier1, core1, FACE);
        terms = _terms(supplier1, core1, FACE, maturity, MIN_UNIT, fp);
    }

    function _t() internal view returns (IssuanceDesk.Terms memory) {
        return terms;
    }

    function _sign(uint256 key, uint256 proposalId, IssuanceDesk.Terms memory t, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes memory)
    {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, issuance.confirmationDigest(proposalId, t, nonce, deadline));
        return abi.encodePacked(r, s, v);
    }

    // ------------------------------------------------------------------ propose

    function test_propose_emitsFullTermsAndStoresPending() public {
        bytes32[] memory docs = new bytes32[](1);
        docs[0] = fp;
        vm.expectEmit(address(issuance));
        emit IssuanceDesk.ObligationProposed(1, supplier1, core1, CNY, FACE, maturity, MIN_UNIT, docs);
        uint256 id = _propose(_t());
        assertEq(id, 1);
        assertEq(issuance.lastProposalId(), 1);
        assertTrue(issuance.isPending(1));
        assertFalse(issuance.isPending(2));
    }

    function test_RevertWhen_proposeCallerNotSupplier() public {
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.NotSupplier.selector, core1));
        issuance.propose(_t());
    }

    function test_RevertWhen_proposeSupplierLacksRole() public {
        _register(stranger, Roles.BANK);
        IssuanceDesk.Terms memory t = _t();
        t.supplier = stranger;
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.MissingRole.selector, stranger, Roles.SUPPLIER));
        issuance.propose(t);
    }

    function test_RevertWhen_proposeSupplierSuspended() public {
        _suspend(supplier1);
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, supplier1));
        issuance.propose(_t());
    }

    function test_RevertWhen_proposeObligorNotCoreEnterprise() public {
        IssuanceDesk.Terms memory t = _t();
        t.obligor = bank1;
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.MissingRole.selector, bank1, Roles.CORE_ENTERPRISE));
        issuance.propose(t);
    }

    function test_RevertWhen_proposeObligorSuspended() public {
        _suspend(core1);
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, core1));
        issuance.propose(_t());
    }

    function test_RevertWhen_proposeUnknownCurrency() public {
        IssuanceDesk.Terms memory t = _t();
        t.currency = "USD";
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.UnknownCurrency.selector, bytes3("USD")));
        issuance.propose(t);
    }

    function _expectProposeRevert(IssuanceDesk.Terms memory t, bytes memory reason) internal {
        vm.prank(t.supplier);
        vm.expectRevert(reason);
        issuance.propose(t);
    }

    function test_RevertWhen_proposeFaceZero() public {
        IssuanceDesk.Terms memory t = _t();
        t.face = 0;
        _expectProposeRevert(t, abi.encodeWithSelector(IReceivableTokenBase.ZeroFace.selector));
    }

    function test_RevertWhen_proposeMinUnitZero() public {
        IssuanceDesk.Terms memory t = _t();
        t.minUnit = 0;
        _expectProposeRevert(t, abi.encodeWithSelector(IReceivableTokenBase.ZeroMinUnit.selector));
    }

    function test_RevertWhen_proposeFaceNotMultipleOfMinUnit() public {
        IssuanceDesk.Terms memory t = _t();
        t.face = FACE - 1;
        _expectProposeRevert(
            t, abi.encodeWithSelector(IReceivableTokenBase.FaceNotMultipleOfMinUnit.selector, t.face, t.minUnit)
        );
    }

    function test_RevertWhen_proposeMaturityNotInFuture() public {
        IssuanceDesk.Terms memory t = _t();
        t.maturity = block.timestamp;
        _expectProposeRevert(
            t, abi.encodeWithSelector(IReceivableTokenBase.MaturityNotInFuture.selector, t.maturity, block.timestamp)
        );
    }

    function test_RevertWhen_proposeNoDocuments() public {
        IssuanceDesk.Terms memory t = _t();
        t.documents = new bytes32[](0);
        _expectProposeRevert(t, abi.encodeWithSelector(IssuanceDesk.NoDocuments.selector));
    }

    function test_RevertWhen_proposeSupplierIsObligor() public {
        // One participant holding both roles still may not owe itself.
        bytes32[] memory roles = new bytes32[](2);
        roles[0] = Roles.SUPPLIER;
        roles[1] = Roles.CORE_ENTERPRISE;
        vm.prank(admin);
        registry.register(stranger, keccak256("both"), roles);
        IssuanceDesk.Terms memory t = _t();
        t.supplier = stranger;
        t.obligor = stranger;
        _expectProposeRevert(t, abi.encodeWithSelector(IssuanceDesk.SupplierIsObligor.selector, stranger));
    }

    function test_RevertWhen_proposeInsufficientDocumentCover() public {
        IssuanceDesk.Terms memory t = _t();
        t.face = FACE + MIN_UNIT;
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.InsufficientDocumentCover.selector, FACE, FACE + MIN_UNIT));
        issuance.propose(t);
    }

    function test_propose_supportingDocumentsAddNoCover() public {
        bytes32 po = attestDocument(ITradeRegistry.DocumentKind.PurchaseOrder, supplier1, core1, FACE);
        IssuanceDesk.Terms memory t = _terms(supplier1, core1, FACE, maturity, MIN_UNIT, po);
        vm.prank(supplier1);
        vm.expectRevert(ITradeRegistry.NoInvoice.selector);
        issuance.propose(t);

        bytes32[] memory docs = new bytes32[](2);
        (docs[0], docs[1]) = (fp, po);
        t.documents = docs;
        assertEq(_propose(t), 1);
    }

    function test_RevertWhen_proposeDocumentUnattested() public {
        IssuanceDesk.Terms memory t = _terms(supplier1, core1, FACE, maturity, MIN_UNIT, keccak256("forged"));
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.DocumentNotAttested.selector, keccak256("forged")));
        issuance.propose(t);
    }

    function test_RevertWhen_proposeDocumentAlreadyUsed() public {
        (uint256 slot,) = _confirm(_propose(_t()), _t());
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.DocumentAlreadyUsed.selector, fp, slot));
        issuance.propose(_t());
    }

    function test_RevertWhen_proposeDocumentOfOtherParties() public {
        IssuanceDesk.Terms memory t = _t();
        t.supplier = supplier2;
        vm.prank(supplier2);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.DocumentPartyMismatch.selector, fp, supplier1, core1));
        issuance.propose(t);
    }

    function test_RevertWhen_proposeSameDocumentTwiceInList() public {
        IssuanceDesk.Terms memory t = _t();
        bytes32[] memory docs = new bytes32[](2);
        (docs[0], docs[1]) = (fp, fp);
        t.documents = docs;
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.DocumentAlreadyUsed.selector, fp, 0));
        issuance.propose(t);
    }

    // ------------------------------------------------------------------ confirm

    function test_confirm_issuesSlotAndRootTokenToSupplier() public {
        uint256 id = _propose(_t());
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.SlotCreated(1, core1, address(cash), FACE, maturity, MIN_UNIT, 1);
        vm.expectEmit(address(trades));
        emit ITradeRegistry.DocumentUsed(fp, 1);
        vm.expectEmit(address(issuance));
        emit IssuanceDesk.ObligationIssued(id, 1, 1, core1);
        (uint256 slot, uint256 tokenId) = _confirm(id, _t());

        assertEq(slot, 1);
        assertEq(tokenId, 1);
        assertEq(token.ownerOf(tokenId), supplier1);
        assertEq(token.balanceOf(tokenId), FACE);
        assertEq(token.slotOf(tokenId), slot);
        IReceivableTokenBase.SlotTerms memory st = token.slotTerms(slot);
        assertEq(st.obligor, core1);
        assertEq(st.currency, address(cash));
        assertEq(st.face, FACE);
        assertEq(st.supply, FACE);
        assertEq(st.maturity, maturity);
        assertEq(st.minUnit, MIN_UNIT);
        assertEq(st.rootTokenId, tokenId);
        assertFalse(issuance.isPending(id));
        assertEq(trades.document(fp).usedBySlot, slot);
    }

    function test_RevertWhen_confirmCallerNotObligor() public {
        uint256 id = _propose(_t());
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.NotObligor.selector, supplier1));
        issuance.confirm(id, _t());
    }

    function test_RevertWhen_confirmTermsMismatch() public {
        uint256 id = _propose(_t());
        IssuanceDesk.Terms memory t = _t();
        t.maturity += 1 days;
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.TermsMismatch.selector, id));
        issuance.confirm(id, t);
    }

    function test_RevertWhen_confirmUnknownProposal() public {
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.UnknownProposal.selector, 7));
        issuance.confirm(7, _t());
    }

    function test_RevertWhen_confirmTwice() public {
        uint256 id = _propose(_t());
        _confirm(id, _t());
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.UnknownProposal.selector, id));
        issuance.confirm(id, _t());
    }

    function test_RevertWhen_secondProposalOnSameInvoiceConfirmed() public {
        // Both proposals pass checkUsable while the invoice is unused; only the first confirmation issues.
        uint256 first = _propose(_t());
        IssuanceDesk.Terms memory other = _t();
        other.maturity = maturity + 30 days;
        uint256 second = _propose(other);
        (uint256 slot,) = _confirm(first, _t());

        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.DocumentAlreadyUsed.selector, fp, slot));
        issuance.confirm(second, other);
        assertEq(token.lastSlot(), 1);
        assertTrue(issuance.isPending(second));
    }

    function test_RevertWhen_supplierSuspendedBeforeConfirm() public {
        uint256 id = _propose(_t());
        _suspend(supplier1);
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, supplier1));
        issuance.confirm(id, _t());
        assertTrue(issuance.isPending(id));
    }

    function test_RevertWhen_confirmAfterMaturityPassed() public {
        uint256 id = _propose(_t());
        vm.warp(maturity);
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.MaturityNotInFuture.selector, maturity, maturity));
        issuance.confirm(id, _t());
    }

    // ------------------------------------------------------------------ confirmWithSignature

    function test_confirmWithSignature_thirdPartySubmitsValidEoaSignature() public {
        uint256 id = _propose(_t());
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(core1Key, id, _t(), 0, deadline);
        vm.expectEmit(address(issuance));
        emit IssuanceDesk.ObligationIssued(id, 1, 1, stranger);
        vm.prank(stranger);
        (uint256 slot, uint256 tokenId) = issuance.confirmWithSignature(id, _t(), deadline, sig);
        assertEq(slot, 1);
        assertEq(token.ownerOf(tokenId), supplier1);
        assertEq(issuance.nonces(core1), 1);
    }

    function test_RevertWhen_confirmationSignatureExpired() public {
        uint256 id = _propose(_t());
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(core1Key, id, _t(), 0, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.SignatureExpired.selector, deadline));
        issuance.confirmWithSignature(id, _t(), deadline, sig);
    }

    function test_RevertWhen_confirmationSignedByWrongKey() public {
        uint256 id = _propose(_t());
        (, uint256 otherKey) = makeAddrAndKey("impostor");
        bytes memory sig = _sign(otherKey, id, _t(), 0, block.timestamp + 1 hours);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.InvalidConfirmationSignature.selector, core1));
        issuance.confirmWithSignature(id, _t(), block.timestamp + 1 hours, sig);
    }

    function test_RevertWhen_confirmationSignatureReplayed() public {
        // Two proposals, both signed against nonce 0: the first use advances the nonce, so the second
        // signature no longer matches; replaying the first finds no pending proposal.
        uint256 a = _propose(_t());
        IssuanceDesk.Terms memory other =
            _terms(supplier1, core1, FACE, maturity, MIN_UNIT, attestInvoice(supplier1, core1, FACE));
        uint256 b = _propose(other);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sigA = _sign(core1Key, a, _t(), 0, deadline);
        bytes memory sigB = _sign(core1Key, b, other, 0, deadline);

        issuance.confirmWithSignature(a, _t(), deadline, sigA);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.UnknownProposal.selector, a));
        issuance.confirmWithSignature(a, _t(), deadline, sigA);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.InvalidConfirmationSignature.selector, core1));
        issuance.confirmWithSignature(b, other, deadline, sigB);

        issuance.confirmWithSignature(b, other, deadline, _sign(core1Key, b, other, 1, deadline));
        assertEq(issuance.nonces(core1), 2);
    }

    function test_confirmWithSignature_acceptsErc1271ContractWallet() public {
        (address walletOwner, uint256 walletKey) = makeAddrAndKey("treasurer");
        ContractWallet wallet = new ContractWallet(walletOwner);
        _register(address(wallet), Roles.CORE_ENTERPRISE);
        IssuanceDesk.Terms memory t = _terms(
            supplier1, address(wallet), FACE, maturity, MIN_UNIT, attestInvoice(supplier1, address(wallet), FACE)
        );
        uint256 id = _propose(t);
        uint256 deadline = block.timestamp + 1 hours;

        bytes memory byStranger = _sign(core1Key, id, t, 0, deadline);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.InvalidConfirmationSignature.selector, address(wallet)));
        issuance.confirmWithSignature(id, t, deadline, byStranger);

        (uint256 slot,) = issuance.confirmWithSignature(id, t, deadline, _sign(walletKey, id, t, 0, deadline));
        assertEq(token.slotTerms(slot).obligor, address(wallet));
    }

    /// @dev The desk's EIP-712 domain separator built by hand, to check its digests against.
    function _issuanceDomainSeparator() internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Tierchain IssuanceDesk"),
                keccak256("1"),
                block.chainid,
                address(issuance)
            )
        );
    }

    function test_confirmationDigest_matchesHandBuiltEip712() public view {
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 domain = _issuanceDomainSeparator();
        bytes32 termsHash = keccak256(abi.encode(_t()));
        assertEq(issuance.hashTerms(_t()), termsHash);
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Confirmation(uint256 proposalId,bytes32 termsHash,uint256 nonce,uint256 deadline)"),
                uint256(3),
                termsHash,
                uint256(5),
                deadline
            )
        );
        bytes32 expected = keccak256(abi.encodePacked("\x19\x01", domain, structHash));
        assertEq(issuance.confirmationDigest(3, _t(), 5, deadline), expected);
    }

    // ------------------------------------------------------------------ reject and cancel

    function test_reject_emitsAndClearsProposal() public {
        uint256 id = _propose(_t());
        vm.expectEmit(address(issuance));
        emit IssuanceDesk.ProposalRejected(id, core1, 42);
        vm.prank(core1);
        issuance.reject(id, _t(), 42);
        assertFalse(issuance.isPending(id));
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.UnknownProposal.selector, id));
        issuance.confirm(id, _t());
        // The invoice stays unused and may back a fresh proposal.
        assertEq(trades.document(fp).usedBySlot, 0);
        assertEq(_propose(_t()), id + 1);
    }

    function test_RevertWhen_rejectCallerNotObligor() public {
        uint256 id = _propose(_t());
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.NotObligor.selector, supplier1));
        issuance.reject(id, _t(), 1);
    }

    function test_cancel_emitsAndClearsProposal() public {
        uint256 id = _propose(_t());
        vm.expectEmit(address(issuance));
        emit IssuanceDesk.ProposalCancelled(id, supplier1);
        vm.prank(supplier1);
        issuance.cancel(id, _t());
        assertFalse(issuance.isPending(id));
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.UnknownProposal.selector, id));
        issuance.confirm(id, _t());
    }

    function test_RevertWhen_cancelCallerNotSupplier() public {
        uint256 id = _propose(_t());
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.NotSupplier.selector, core1));
        issuance.cancel(id, _t());
    }

    // ------------------------------------------------------------------ the supplier's consent

    function test_RevertWhen_obligorConsumesSupplierInvoiceOnTermsItNeverProposed() public {
        // The supplier proposes; the obligor tries to issue alone on its own terms instead: 1.00 of a
        // 1,000,000.00 invoice, maturing in 50 years. The old one-argument `issueDirect` did exactly that.
        uint256 id = _propose(_t());
        IssuanceDesk.Terms memory own = _t();
        own.face = MIN_UNIT;
        own.maturity = block.timestamp + 50 * 365 days;
        vm.prank(core1);
        (bool issued,) = address(issuance)
            .call(
                abi.encodeWithSignature("issueDirect((address,address,bytes3,uint256,uint256,uint256,bytes32[]))", own)
            );
        assertFalse(issued, "the obligor issued on the supplier's invoice alone");
        assertEq(trades.document(fp).usedBySlot, 0);
        assertEq(token.lastSlot(), 0);

        // The supplier's own proposal still confirms.
        (uint256 slot,) = _confirm(id, _t());
        assertEq(trades.document(fp).usedBySlot, slot);
    }

    // ------------------------------------------------------------------ issueDirect: the supplier signs

    /// @dev A supplier with a key, its invoice on core1, and terms for it.
    function _signingSupplier() internal returns (address who, uint256 key, IssuanceDesk.Terms memory t) {
        (who, key) = makeAddrAndKey("signing supplier");
        _register(who, Roles.SUPPLIER);
        t = _terms(who, core1, FACE, maturity, MIN_UNIT, attestInvoice(who, core1, FACE));
    }

    function _consent(uint256 key, IssuanceDesk.Terms memory t, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes memory)
    {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, issuance.supplierConsentDigest(t, nonce, deadline));
        return abi.encodePacked(r, s, v);
    }

    function test_issueDirect_obligorIssuesOnTermsTheSupplierSigned() public {
        (address who, uint256 key, IssuanceDesk.Terms memory t) = _signingSupplier();
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _consent(key, t, 0, deadline);
        vm.expectEmit(address(issuance));
        emit IssuanceDesk.ObligationIssued(0, 1, 1, core1);
        vm.prank(core1);
        (uint256 slot, uint256 tokenId) = issuance.issueDirect(t, deadline, sig);
        assertEq(token.ownerOf(tokenId), who);
        assertEq(trades.document(t.documents[0]).usedBySlot, slot);
        assertEq(issuance.nonces(who), 1);
        assertEq(issuance.lastProposalId(), 0);
    }

    function test_RevertWhen_issueDirectOnTermsOtherThanTheSupplierSigned() public {
        (address who, uint256 key, IssuanceDesk.Terms memory t) = _signingSupplier();
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _consent(key, t, 0, deadline);
        t.face = MIN_UNIT;
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.InvalidSupplierSignature.selector, who));
        issuance.issueDirect(t, deadline, sig);
        assertEq(trades.document(t.documents[0]).usedBySlot, 0);
    }

    function test_RevertWhen_issueDirectSignedByTheObligorInsteadOfTheSupplier() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _consent(core1Key, _t(), 0, deadline);
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.InvalidSupplierSignature.selector, supplier1));
        issuance.issueDirect(_t(), deadline, sig);
        assertEq(trades.document(fp).usedBySlot, 0);
    }

    function test_RevertWhen_issueDirectConsentReplayed() public {
        (address who, uint256 key, IssuanceDesk.Terms memory t) = _signingSupplier();
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _consent(key, t, 0, deadline);
        vm.prank(core1);
        issuance.issueDirect(t, deadline, sig);
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.InvalidSupplierSignature.selector, who));
        issuance.issueDirect(t, deadline, sig);
    }

    function test_RevertWhen_issueDirectConsentExpired() public {
        (, uint256 key, IssuanceDesk.Terms memory t) = _signingSupplier();
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _consent(key, t, 0, deadline);
        vm.warp(deadline + 1);
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.SignatureExpired.selector, deadline));
        issuance.issueDirect(t, deadline, sig);
    }

    function test_RevertWhen_issueDirectCallerNotObligor() public {
        (address who, uint256 key, IssuanceDesk.Terms memory t) = _signingSupplier();
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _consent(key, t, 0, deadline);
        vm.prank(who);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.NotObligor.selector, who));
        issuance.issueDirect(t, deadline, sig);
    }

    function test_RevertWhen_issueDirectInsufficientCover() public {
        (, uint256 key, IssuanceDesk.Terms memory t) = _signingSupplier();
        t.face = 2 * FACE;
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _consent(key, t, 0, deadline);
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.InsufficientDocumentCover.selector, FACE, 2 * FACE));
        issuance.issueDirect(t, deadline, sig);
        assertEq(token.lastSlot(), 0);
    }

    function test_RevertWhen_issueDirectMaturityDefersInvoiceBeyondLimit() public {
        (, uint256 key, IssuanceDesk.Terms memory t) = _signingSupplier();
        uint256 latest = block.timestamp + 90 days + issuance.MAX_MATURITY_DEFERRAL();
        t.maturity = block.timestamp + 50 * 365 days; // the supplier signed it; the rule still holds
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _consent(key, t, 0, deadline);
        vm.prank(core1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.MaturityTooLate.selector, t.maturity, latest));
        issuance.issueDirect(t, deadline, sig);
    }

    function test_issueDirect_acceptsErc1271SupplierWallet() public {
        (address owner, uint256 ownerKey) = makeAddrAndKey("wallet owner");
        ContractWallet wallet = new ContractWallet(owner);
        _register(address(wallet), Roles.SUPPLIER);
        IssuanceDesk.Terms memory t =
            _terms(address(wallet), core1, FACE, maturity, MIN_UNIT, attestInvoice(address(wallet), core1, FACE));
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _consent(ownerKey, t, 0, deadline);
        vm.prank(core1);
        (, uint256 tokenId) = issuance.issueDirect(t, deadline, sig);
        assertEq(token.ownerOf(tokenId), address(wallet));
    }

    function test_supplierConsentDigest_matchesEip712() public view {
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 domain = _issuanceDomainSeparator();
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("SupplierConsent(bytes32 termsHash,uint256 nonce,uint256 deadline)"),
                keccak256(abi.encode(_t())),
                uint256(4),
                deadline
            )
        );
        assertEq(
            issuance.supplierConsentDigest(_t(), 4, deadline),
            keccak256(abi.encodePacked("\x19\x01", domain, structHash))
        );
    }

    // ------------------------------------------------------------------ maturity against the invoice

    function _attestInvoiceDue(uint256 amount, uint64 dueDate) internal returns (bytes32) {
        ITradeRegistry.Attestation memory a =
            _attestation(ITradeRegistry.DocumentKind.Invoice, supplier1, core1, amount);
        a.dueDate = dueDate;
        trades.attest(a, _oracleSignatures(a, ORACLE_THRESHOLD));
        return a.fingerprint;
    }

    function test_propose_maturityUpToDeferralAfterInvoiceDueDate() public {
        uint256 due = block.timestamp + 90 days; // as World attests it
        IssuanceDesk.Terms memory t = _t();
        t.maturity = due + issuance.MAX_MATURITY_DEFERRAL();
        _propose(t);
        t.maturity = block.timestamp + 1 days; // earlier than due: the obligor pays sooner, allowed
        _propose(t);
    }

    function test_RevertWhen_proposeMaturityDefersInvoiceBeyondLimit() public {
        uint256 latest = block.timestamp + 90 days + issuance.MAX_MATURITY_DEFERRAL();
        IssuanceDesk.Terms memory t = _t();
        t.maturity = latest + 1;
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.MaturityTooLate.selector, latest + 1, latest));
        issuance.propose(t);
    }

    function test_RevertWhen_proposeMaturityDefersUndatedInvoiceBeyondLimitFromIssueDate() public {
        // An invoice without a due date is due on its issue date (payable on receipt).
        bytes32 undated = _attestInvoiceDue(FACE, 0);
        uint256 latest = block.timestamp + issuance.MAX_MATURITY_DEFERRAL();
        IssuanceDesk.Terms memory t = _terms(supplier1, core1, FACE, latest + 1, MIN_UNIT, undated);
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.MaturityTooLate.selector, latest + 1, latest));
        issuance.propose(t);
        t.maturity = latest;
        _propose(t);
    }

    function test_RevertWhen_proposeMaturityDefersEarliestOfSeveralInvoicesBeyondLimit() public {
        bytes32 soon = _attestInvoiceDue(FACE / 2, uint64(block.timestamp + 10 days));
        bytes32 late = _attestInvoiceDue(FACE / 2, uint64(block.timestamp + 100 days));
        uint256 latest = block.timestamp + 10 days + issuance.MAX_MATURITY_DEFERRAL();
        IssuanceDesk.Terms memory t = _terms(supplier1, core1, FACE, latest + 1, MIN_UNIT, soon);
        t.documents = new bytes32[](2);
        (t.documents[0], t.documents[1]) = (late, soon);
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.MaturityTooLate.selector, latest + 1, latest));
        issuance.propose(t);
    }

    // ------------------------------------------------------------------ currencies

    function test_RevertWhen_proposeMinUnitBeyondStorage() public {
        IssuanceDesk.Terms memory t = _t();
        t.minUnit = uint256(type(uint48).max) + 1;
        t.face = t.minUnit * 2;
        vm.prank(supplier1);
        vm.expectRevert(
            abi.encodeWithSelector(IssuanceDesk.MinUnitTooLarge.selector, t.minUnit, uint256(type(uint48).max))
        );
        issuance.propose(t);
    }

    function test_setCurrency_adminMapsOnce() public {
        vm.expectEmit(address(issuance));
        emit IssuanceDesk.CurrencySet("USD", address(0xBEEF));
        vm.prank(admin);
        issuance.setCurrency("USD", address(0xBEEF));
        assertEq(issuance.currencyToken("USD"), address(0xBEEF));
        assertEq(issuance.currencyToken(CNY), address(cash));
    }

    function test_RevertWhen_setCurrencyRemapsACode() public {
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.CurrencyAlreadySet.selector, CNY, address(cash)));
        issuance.setCurrency(CNY, address(0xBEEF));
        assertEq(issuance.currencyToken(CNY), address(cash));
    }

    function test_RevertWhen_setCurrencyZero() public {
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.ZeroAddress.selector, "settlementToken"));
        issuance.setCurrency("USD", address(0));
    }

    function test_RevertWhen_setCurrencyCodeEmpty() public {
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.EmptyCurrencyCode.selector));
        issuance.setCurrency(bytes3(0), address(0xBEEF));
    }

    function test_RevertWhen_setCurrencyCallerNotAdmin() public {
        vm.prank(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.NotAdmin.selector, supplier1));
        issuance.setCurrency("USD", address(0xBEEF));
    }
}
