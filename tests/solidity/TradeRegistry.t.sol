// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Base} from "./Base.t.sol";
import {TradeRegistry} from "../../contracts/TradeRegistry.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {ITradeRegistry} from "../../contracts/interfaces/ITradeRegistry.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";
import {Deploy} from "./utils/Deploy.sol";

contract TradeRegistryTest is Base {
    /// @dev The order of secp256k1; a signature (r, s) is malleable into (r, N - s).
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    /// @dev Written out again here, independently of the contract's constant.
    bytes32 internal constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(bytes32 fingerprint,uint8 kind,address seller,address buyer,uint256 amount,bytes3 currency,uint64 issueDate,uint64 dueDate,uint256 nonce,uint64 deadline)"
    );
    bytes3 internal constant CNY = "CNY";
    uint8 internal constant INVOICE = 1;
    uint8 internal constant PURCHASE_ORDER = 2;
    uint8 internal constant DELIVERY_NOTE = 3;
    uint8 internal constant WAREHOUSE_RECEIPT = 4;
    uint256 internal constant SLOT = 7;

    TradeRegistry internal trade;
    address internal desk = makeAddr("desk");

    address internal oracle1;
    address internal oracle2;
    address internal oracle3;
    uint256 internal oracle1Pk;
    uint256 internal oracle2Pk;
    uint256 internal oracle3Pk;
    address internal rogue;
    uint256 internal roguePk;

    uint256 private _nextNonce = 1;

    function setUp() public override {
        super.setUp();
        (oracle1, oracle1Pk) = makeAddrAndKey("oracle1");
        (oracle2, oracle2Pk) = makeAddrAndKey("oracle2");
        (oracle3, oracle3Pk) = makeAddrAndKey("oracle3");
        (rogue, roguePk) = makeAddrAndKey("rogue");
        _register(oracle1, Roles.ORACLE);
        _register(oracle2, Roles.ORACLE);
        _register(oracle3, Roles.ORACLE);
        _grant(Roles.DESK, desk);

        address impl = address(new TradeRegistry(registry));
        vm.expectEmit();
        emit ITradeRegistry.ThresholdChanged(0, 2);
        trade = TradeRegistry(Deploy.proxy(impl, abi.encodeCall(TradeRegistry.initialize, (2))));
    }

    // ------------------------------------------------------------------ helpers

    function _attestation(bytes32 fp, uint8 kind, uint256 amount)
        internal
        returns (ITradeRegistry.Attestation memory a)
    {
        a = ITradeRegistry.Attestation({
            fingerprint: fp,
            kind: kind,
            seller: supplier1,
            buyer: coreEnterprise,
            amount: amount,
            currency: CNY,
            issueDate: uint64(block.timestamp - 1 days),
            dueDate: uint64(block.timestamp + 90 days),
            nonce: _nextNonce++,
            deadline: uint64(block.timestamp + 1 hours)
        });
    }

    function _domainSeparator(address verifyingContract) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                DOMAIN_TYPEHASH, keccak256("Tierchain TradeRegistry"), keccak256("1"), block.chainid, verifyingContract
            )
        );
    }

    function _structHash(ITradeRegistry.Attestation memory a) internal pure returns (bytes32) {
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

    function _digest(ITradeRegistry.Attestation memory a, address verifyingContract) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", _domainSeparator(verifyingContract), _structHash(a)));
    }

    function _sign(uint256 pk, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev Signs `digest` with every key and orders the signatures by signer address, ascending.
    function _sortedSigs(bytes32 digest, uint256[] memory pks) internal pure returns (bytes[] memory sigs) {
        uint256 n = pks.length;
        for (uint256 i = 1; i < n; ++i) {
            for (uint256 j = i; j > 0 && vm.addr(pks[j - 1]) > vm.addr(pks[j]); --j) {
                (pks[j - 1], pks[j]) = (pks[j], pks[j - 1]);
            }
        }
        sigs = new bytes[](n);
        for (uint256 i = 0; i < n; ++i) {
            sigs[i] = _sign(pks[i], digest);
        }
    }

    function _pks(uint256 a) internal pure returns (uint256[] memory r) {
        r = new uint256[](1);
        r[0] = a;
    }

    function _pks(uint256 a, uint256 b) internal pure returns (uint256[] memory r) {
        r = new uint256[](2);
        r[0] = a;
        r[1] = b;
    }

    function _pks(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory r) {
        r = new uint256[](3);
        r[0] = a;
        r[1] = b;
        r[2] = c;
    }

    function _sigs2(ITradeRegistry.Attestation memory a) internal view returns (bytes[] memory) {
        return _sortedSigs(_digest(a, address(trade)), _pks(oracle1Pk, oracle2Pk));
    }

    /// @dev Attests a document of `kind` for supplier1 → coreEnterprise in CNY with two oracle signatures.
    function _attest(bytes32 fp, uint8 kind, uint256 amount) internal returns (ITradeRegistry.Attestation memory a) {
        a = _attestation(fp, kind, amount);
        trade.attest(a, _sigs2(a));
    }

    function _fps(bytes32 a) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](1);
        r[0] = a;
    }

    function _fps(bytes32 a, bytes32 b) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](2);
        r[0] = a;
        r[1] = b;
    }

    function _fps(bytes32 a, bytes32 b, bytes32 c) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](3);
        r[0] = a;
        r[1] = b;
        r[2] = c;
    }

    function _sorted(address a, address b) internal pure returns (address[] memory r) {
        r = new address[](2);
        (r[0], r[1]) = a < b ? (a, b) : (b, a);
    }

    // ------------------------------------------------------------------ constructor and digest

    function test_constructor_setsRegistryAndThreshold() public view {
        assertEq(address(trade.participants()), address(registry));
        assertEq(trade.threshold(), 2);
        assertEq(trade.ATTESTATION_TYPEHASH(), ATTESTATION_TYPEHASH);
    }

    function test_RevertWhen_constructorThresholdZero() public {
        address impl = address(new TradeRegistry(registry));
        bytes memory init = abi.encodeCall(TradeRegistry.initialize, (0));
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidThreshold.selector, uint8(0), uint256(0)));
        new ERC1967Proxy(impl, init);
    }

    function test_attestationDigest_matchesIndependentEip712() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        assertEq(trade.attestationDigest(a), _digest(a, address(trade)));
    }

    function test_attestationDigest_followsChainId() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes32 before = trade.attestationDigest(a);
        vm.chainId(4242);
        bytes32 afterChange = trade.attestationDigest(a);
        assertTrue(before != afterChange);
        assertEq(afterChange, _digest(a, address(trade)));
    }

    // ------------------------------------------------------------------ attest: success

    function test_attest_twoOfThreeStoresDocumentAndEmits() public {
        bytes32 fp = keccak256("invoice-001");
        ITradeRegistry.Attestation memory a = _attestation(fp, INVOICE, 1_000_000);
        bytes[] memory sigs = _sigs2(a);

        vm.expectEmit(address(trade));
        emit ITradeRegistry.DocumentAttested(
            fp,
            supplier1,
            coreEnterprise,
            ITradeRegistry.DocumentKind.Invoice,
            1_000_000,
            CNY,
            a.issueDate,
            a.dueDate,
            a.nonce,
            _sorted(oracle1, oracle2)
        );
        vm.prank(outsider); // anyone may submit; the signatures carry the authority
        trade.attest(a, sigs);

        ITradeRegistry.Document memory d = trade.document(fp);
        assertEq(d.seller, supplier1);
        assertEq(d.buyer, coreEnterprise);
        assertEq(uint8(d.kind), INVOICE);
        assertEq(d.issueDate, a.issueDate);
        assertEq(d.dueDate, a.dueDate);
        assertEq(d.currency, CNY);
        assertEq(d.attestedAt, block.timestamp);
        assertEq(d.amount, 1_000_000);
        assertEq(d.usedBySlot, 0);
        assertTrue(trade.nonceUsed(a.nonce));
    }

    function test_attest_allThreeOraclesEmitsAllSigners() public {
        bytes32 fp = keccak256("po-001");
        ITradeRegistry.Attestation memory a = _attestation(fp, PURCHASE_ORDER, 5_000);
        uint256[] memory pks = _pks(oracle1Pk, oracle2Pk, oracle3Pk);
        bytes[] memory sigs = _sortedSigs(_digest(a, address(trade)), pks);
        address[] memory signers = new address[](3);
        for (uint256 i = 0; i < 3; ++i) {
            signers[i] = vm.addr(pks[i]); // pks were sorted in place by signer address
        }
        vm.expectEmit(address(trade));
        emit ITradeRegistry.DocumentAttested(
            fp,
            supplier1,
            coreEnterprise,
            ITradeRegistry.DocumentKind.PurchaseOrder,
            5_000,
            CNY,
            a.issueDate,
            a.dueDate,
            a.nonce,
            signers
        );
        trade.attest(a, sigs);
        assertEq(uint8(trade.document(fp).kind), PURCHASE_ORDER);
    }

    function test_attest_everyValidKind() public {
        for (uint8 kind = 1; kind <= 4; ++kind) {
            bytes32 fp = keccak256(abi.encode("doc", kind));
            _attest(fp, kind, 100);
            assertEq(uint8(trade.document(fp).kind), kind);
        }
    }

    function test_attest_deadlineEqualToNowAccepted() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1);
        a.deadline = uint64(block.timestamp);
        trade.attest(a, _sigs2(a));
        assertTrue(trade.nonceUsed(a.nonce));
    }

    function test_attest_zeroDueDateAccepted() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1);
        a.dueDate = 0;
        trade.attest(a, _sigs2(a));
        assertEq(trade.document(a.fingerprint).dueDate, 0);
    }

    // ------------------------------------------------------------------ attest: signature failures

    function test_RevertWhen_thresholdNotMet() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes[] memory sigs = _sortedSigs(_digest(a, address(trade)), _pks(oracle1Pk));
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InsufficientSignatures.selector, 1, 2));
        trade.attest(a, sigs);

        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InsufficientSignatures.selector, 0, 2));
        trade.attest(a, new bytes[](0));
    }

    function test_RevertWhen_signersDescending() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes[] memory sigs = _sigs2(a);
        (sigs[0], sigs[1]) = (sigs[1], sigs[0]);
        address lower = _sorted(oracle1, oracle2)[0];
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.SignersNotAscending.selector, 1, lower));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_sameSignerTwice() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes memory sig = _sign(oracle1Pk, _digest(a, address(trade)));
        bytes[] memory sigs = new bytes[](2);
        sigs[0] = sig;
        sigs[1] = sig;
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.SignersNotAscending.selector, 1, oracle1));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_signerIsRegisteredNonOracle() public {
        (address clerk, uint256 clerkPk) = makeAddrAndKey("clerk");
        _register(clerk, Roles.SUPPLIER);
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes[] memory sigs = _sortedSigs(_digest(a, address(trade)), _pks(oracle1Pk, clerkPk));
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.MissingRole.selector, clerk, Roles.ORACLE));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_signerIsUnregistered() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes[] memory sigs = _sortedSigs(_digest(a, address(trade)), _pks(oracle1Pk, roguePk));
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, rogue));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_signerIsSuspendedOracle() public {
        _suspend(oracle2);
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes[] memory sigs = _sigs2(a);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, oracle2));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_signerOracleRoleRevoked() public {
        _revoke(Roles.ORACLE, oracle1);
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes[] memory sigs = _sigs2(a);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.MissingRole.selector, oracle1, Roles.ORACLE));
        trade.attest(a, sigs);
    }

    function test_attest_suspendedOracleReplacedByThirdSucceeds() public {
        _suspend(oracle2);
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        trade.attest(a, _sortedSigs(_digest(a, address(trade)), _pks(oracle1Pk, oracle3Pk)));
        assertTrue(trade.nonceUsed(a.nonce));
    }

    function test_RevertWhen_deadlineExpired() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes[] memory sigs = _sigs2(a);
        vm.warp(uint256(a.deadline) + 1);
        vm.expectRevert(
            abi.encodeWithSelector(ITradeRegistry.AttestationExpired.selector, a.deadline, uint256(a.deadline) + 1)
        );
        trade.attest(a, sigs);
    }

    function test_RevertWhen_signedForAnotherChain() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes[] memory sigs = _sigs2(a);
        vm.chainId(999);
        // On chain 999 the digest differs, so the first signature recovers to a stranger.
        bytes32 digestHere = _digest(a, address(trade));
        assertEq(trade.attestationDigest(a), digestHere);
        (bytes32 r, bytes32 s, uint8 v) = _split(sigs[0]);
        address stranger = ecrecover(digestHere, v, r, s);
        assertTrue(stranger != oracle1 && stranger != oracle2 && stranger != address(0));
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, stranger));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_signedForAnotherDeployment() public {
        TradeRegistry other = Deploy.trades(registry, 2);
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes32 otherDigest = _digest(a, address(other));
        assertEq(other.attestationDigest(a), otherDigest);
        bytes[] memory sigs = _sortedSigs(otherDigest, _pks(oracle1Pk, oracle2Pk));

        (bytes32 r, bytes32 s, uint8 v) = _split(sigs[0]);
        address stranger = ecrecover(_digest(a, address(trade)), v, r, s);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, stranger));
        trade.attest(a, sigs);

        // The very same signatures are good where they were meant to go.
        other.attest(a, sigs);
        assertTrue(other.nonceUsed(a.nonce));
        assertFalse(trade.nonceUsed(a.nonce));
    }

    function test_RevertWhen_highSMalleableSignature() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes32 digest = _digest(a, address(trade));
        bytes[] memory sigs = _sigs2(a);
        (bytes32 r, bytes32 s, uint8 v) = _split(sigs[0]);
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        uint8 flippedV = v == 27 ? 28 : 27;
        // The twin is a valid secp256k1 signature by the same key...
        address signer0 = ecrecover(digest, v, r, s);
        assertEq(ecrecover(digest, flippedV, r, highS), signer0);
        // ...but it is refused.
        sigs[0] = abi.encodePacked(r, highS, flippedV);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidSignature.selector, 0));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_signature64Bytes() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes[] memory sigs = _sigs2(a);
        (bytes32 r, bytes32 s,) = _split(sigs[0]);
        sigs[0] = abi.encodePacked(r, s);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidSignature.selector, 0));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_signatureGarbage65BytesInvalidV() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes[] memory sigs = _sigs2(a);
        (bytes32 r, bytes32 s,) = _split(sigs[1]);
        sigs[1] = abi.encodePacked(r, s, uint8(29));
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidSignature.selector, 1));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_signatureAllZero() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes[] memory sigs = _sigs2(a);
        sigs[0] = new bytes(65);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidSignature.selector, 0));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_signatureWrongLengths() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes[] memory sigs = _sigs2(a);
        sigs[0] = abi.encodePacked(sigs[0], uint8(0)); // 66 bytes
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidSignature.selector, 0));
        trade.attest(a, sigs);
        sigs[0] = "";
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidSignature.selector, 0));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_signatureOverDifferentFields() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes[] memory sigs = _sigs2(a);
        a.amount = 2_000_000; // tampered after signing
        bytes32 tampered = _digest(a, address(trade));
        (bytes32 r, bytes32 s, uint8 v) = _split(sigs[0]);
        address stranger = ecrecover(tampered, v, r, s);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, stranger));
        trade.attest(a, sigs);
    }

    // ------------------------------------------------------------------ attest: field and replay failures

    function test_RevertWhen_nonceReplayed() public {
        ITradeRegistry.Attestation memory a = _attest(keccak256("invoice-001"), INVOICE, 1_000_000);
        ITradeRegistry.Attestation memory b = _attestation(keccak256("invoice-002"), INVOICE, 500);
        b.nonce = a.nonce;
        bytes[] memory sigs = _sigs2(b);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.NonceAlreadyUsed.selector, a.nonce));
        trade.attest(b, sigs);
    }

    function test_RevertWhen_sameAttestationSubmittedTwice() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1_000_000);
        bytes[] memory sigs = _sigs2(a);
        trade.attest(a, sigs);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.NonceAlreadyUsed.selector, a.nonce));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_fingerprintAttestedAgain() public {
        bytes32 fp = keccak256("invoice-001");
        _attest(fp, INVOICE, 1_000_000);
        ITradeRegistry.Attestation memory again = _attestation(fp, INVOICE, 1_000_000);
        bytes[] memory sigs = _sigs2(again);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.DocumentAlreadyAttested.selector, fp));
        trade.attest(again, sigs);
    }

    function test_RevertWhen_kindZero() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), 0, 1_000_000);
        bytes[] memory sigs = _sigs2(a);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidDocumentKind.selector, 0));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_kindFive() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), 5, 1_000_000);
        bytes[] memory sigs = _sigs2(a);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidDocumentKind.selector, 5));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_zeroFingerprint() public {
        ITradeRegistry.Attestation memory a = _attestation(bytes32(0), INVOICE, 1_000_000);
        bytes[] memory sigs = _sigs2(a);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidAttestation.selector, bytes32(0)));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_zeroSeller() public {
        bytes32 fp = keccak256("invoice-001");
        ITradeRegistry.Attestation memory a = _attestation(fp, INVOICE, 1_000_000);
        a.seller = address(0);
        bytes[] memory sigs = _sigs2(a);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidAttestation.selector, fp));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_zeroBuyer() public {
        bytes32 fp = keccak256("invoice-001");
        ITradeRegistry.Attestation memory a = _attestation(fp, INVOICE, 1_000_000);
        a.buyer = address(0);
        bytes[] memory sigs = _sigs2(a);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidAttestation.selector, fp));
        trade.attest(a, sigs);
    }

    function test_attest_warehouseReceiptWithoutBuyerSupportsItsDepositor() public {
        bytes32 wr = keccak256("warehouse-receipt-001");
        ITradeRegistry.Attestation memory a = _attestation(wr, WAREHOUSE_RECEIPT, 5_000);
        a.buyer = address(0);
        trade.attest(a, _sigs2(a));
        assertEq(trade.document(wr).buyer, address(0));

        bytes32 inv = keccak256("invoice-001");
        _attest(inv, INVOICE, 1_000);
        // The buyerless receipt backs the depositor's obligation on any buyer, and only once.
        (uint256 cover,,) = trade.checkUsable(_fps(inv, wr), supplier1, coreEnterprise, CNY);
        assertEq(cover, 1_000);
        vm.prank(desk);
        trade.consume(_fps(inv, wr), supplier1, coreEnterprise, CNY, SLOT);
        assertEq(trade.document(wr).usedBySlot, SLOT);
    }

    function test_RevertWhen_warehouseReceiptOfAnotherDepositor() public {
        bytes32 wr = keccak256("warehouse-receipt-001");
        ITradeRegistry.Attestation memory a = _attestation(wr, WAREHOUSE_RECEIPT, 5_000);
        a.buyer = address(0);
        trade.attest(a, _sigs2(a));
        vm.expectRevert(
            abi.encodeWithSelector(ITradeRegistry.DocumentPartyMismatch.selector, wr, supplier1, address(0))
        );
        trade.checkUsable(_fps(wr), supplier2, coreEnterprise, CNY);
    }

    function test_RevertWhen_zeroAmount() public {
        bytes32 fp = keccak256("invoice-001");
        ITradeRegistry.Attestation memory a = _attestation(fp, INVOICE, 0);
        bytes[] memory sigs = _sigs2(a);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidAttestation.selector, fp));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_zeroCurrency() public {
        bytes32 fp = keccak256("invoice-001");
        ITradeRegistry.Attestation memory a = _attestation(fp, INVOICE, 1_000_000);
        a.currency = bytes3(0);
        bytes[] memory sigs = _sigs2(a);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidAttestation.selector, fp));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_amountOverflowsUint128() public {
        uint256 amount = uint256(type(uint128).max) + 1;
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, amount);
        bytes[] memory sigs = _sigs2(a);
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 128, amount));
        trade.attest(a, sigs);
    }

    function test_RevertWhen_dateOverflowsUint40() public {
        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1);
        a.dueDate = uint64(type(uint40).max) + 1;
        bytes[] memory sigs = _sigs2(a);
        vm.expectRevert(
            abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 40, uint256(a.dueDate))
        );
        trade.attest(a, sigs);
    }

    // ------------------------------------------------------------------ setThreshold

    function test_setThreshold_adminRaisesAndLowers() public {
        vm.expectEmit(address(trade));
        emit ITradeRegistry.ThresholdChanged(2, 3);
        vm.prank(admin);
        trade.setThreshold(3);
        assertEq(trade.threshold(), 3);

        ITradeRegistry.Attestation memory a = _attestation(keccak256("invoice-001"), INVOICE, 1);
        bytes[] memory two = _sigs2(a);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InsufficientSignatures.selector, 2, 3));
        trade.attest(a, two);

        vm.prank(admin);
        trade.setThreshold(1);
        trade.attest(a, _sortedSigs(_digest(a, address(trade)), _pks(oracle3Pk)));
        assertTrue(trade.nonceUsed(a.nonce));
    }

    function test_RevertWhen_setThresholdByNonAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.NotAdmin.selector, oracle1));
        vm.prank(oracle1);
        trade.setThreshold(1);
    }

    function test_RevertWhen_setThresholdZero() public {
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidThreshold.selector, uint8(0), uint256(3)));
        vm.prank(admin);
        trade.setThreshold(0);
    }

    function test_RevertWhen_setThresholdAboveOracleCount() public {
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidThreshold.selector, uint8(4), uint256(3)));
        vm.prank(admin);
        trade.setThreshold(4);

        address oracle4 = makeAddr("oracle4");
        _register(oracle4, Roles.ORACLE);
        vm.prank(admin);
        trade.setThreshold(4);
        assertEq(trade.threshold(), 4);
    }

    /// @dev Documents current behaviour: N counts ORACLE members, suspended ones included, so M can be set
    ///      to a value no set of active oracles can reach (see report).
    function test_RevertWhen_setThresholdAboveActiveOracles() public {
        _suspend(oracle3);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidThreshold.selector, uint8(3), uint256(2)));
        trade.setThreshold(3);
        vm.prank(admin);
        trade.setThreshold(2);
        assertEq(trade.threshold(), 2);
    }

    // ------------------------------------------------------------------ consume

    function test_consume_marksDocumentsAndSumsInvoicesOnly() public {
        bytes32 inv1 = keccak256("invoice-001");
        bytes32 inv2 = keccak256("invoice-002");
        bytes32 po = keccak256("po-001");
        _attest(inv1, INVOICE, 600_000);
        _attest(inv2, INVOICE, 400_000);
        _attest(po, PURCHASE_ORDER, 9_999_999);

        vm.expectEmit(address(trade));
        emit ITradeRegistry.DocumentUsed(inv1, SLOT);
        vm.expectEmit(address(trade));
        emit ITradeRegistry.DocumentUsed(po, SLOT);
        vm.expectEmit(address(trade));
        emit ITradeRegistry.DocumentUsed(inv2, SLOT);
        vm.prank(desk);
        (uint256 total, uint256 earliestDue,) =
            trade.consume(_fps(inv1, po, inv2), supplier1, coreEnterprise, CNY, SLOT);

        assertEq(total, 1_000_000);
        assertEq(earliestDue, block.timestamp + 90 days);
        assertEq(trade.document(inv1).usedBySlot, SLOT);
        assertEq(trade.document(inv2).usedBySlot, SLOT);
        assertEq(trade.document(po).usedBySlot, SLOT);
    }

    function test_checkUsable_earliestDueIsTheEarliestInvoiceDueOrIssueDate() public {
        bytes32 dated = keccak256("invoice-dated");
        bytes32 undated = keccak256("invoice-undated");
        bytes32 po = keccak256("po-001");
        _attest(dated, INVOICE, 600_000);
        ITradeRegistry.Attestation memory a = _attestation(undated, INVOICE, 400_000);
        a.dueDate = 0;
        trade.attest(a, _sigs2(a));
        ITradeRegistry.Attestation memory p = _attestation(po, PURCHASE_ORDER, 1);
        p.dueDate = 1; // a supporting document's dates never count
        trade.attest(p, _sigs2(p));

        (, uint256 due,) = trade.checkUsable(_fps(dated, po), supplier1, coreEnterprise, CNY);
        assertEq(due, block.timestamp + 90 days);
        // An invoice without a due date is due on its issue date.
        (, due,) = trade.checkUsable(_fps(dated, undated), supplier1, coreEnterprise, CNY);
        assertEq(due, block.timestamp - 1 days);
    }

    function test_RevertWhen_consumeByNonDesk() public {
        bytes32 inv = keccak256("invoice-001");
        _attest(inv, INVOICE, 1);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.NotDesk.selector, supplier1));
        vm.prank(supplier1);
        trade.consume(_fps(inv), supplier1, coreEnterprise, CNY, SLOT);
    }

    function test_RevertWhen_consumeNotAttested() public {
        bytes32 ghost = keccak256("ghost");
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.DocumentNotAttested.selector, ghost));
        vm.prank(desk);
        trade.consume(_fps(ghost), supplier1, coreEnterprise, CNY, SLOT);
    }

    function test_RevertWhen_consumeAlreadyUsed() public {
        bytes32 inv = keccak256("invoice-001");
        _attest(inv, INVOICE, 1);
        vm.prank(desk);
        trade.consume(_fps(inv), supplier1, coreEnterprise, CNY, SLOT);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.DocumentAlreadyUsed.selector, inv, SLOT));
        vm.prank(desk);
        trade.consume(_fps(inv), supplier1, coreEnterprise, CNY, SLOT + 1);
    }

    function test_RevertWhen_consumeListsFingerprintTwice() public {
        bytes32 inv = keccak256("invoice-001");
        _attest(inv, INVOICE, 1);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.DocumentAlreadyUsed.selector, inv, SLOT));
        vm.prank(desk);
        trade.consume(_fps(inv, inv), supplier1, coreEnterprise, CNY, SLOT);
        assertEq(trade.document(inv).usedBySlot, 0); // rolled back
    }

    function test_RevertWhen_consumeSellerMismatch() public {
        bytes32 inv = keccak256("invoice-001");
        _attest(inv, INVOICE, 1);
        vm.expectRevert(
            abi.encodeWithSelector(ITradeRegistry.DocumentPartyMismatch.selector, inv, supplier1, coreEnterprise)
        );
        vm.prank(desk);
        trade.consume(_fps(inv), supplier2, coreEnterprise, CNY, SLOT);
    }

    function test_RevertWhen_consumeBuyerMismatch() public {
        bytes32 inv = keccak256("invoice-001");
        _attest(inv, INVOICE, 1);
        vm.expectRevert(
            abi.encodeWithSelector(ITradeRegistry.DocumentPartyMismatch.selector, inv, supplier1, coreEnterprise)
        );
        vm.prank(desk);
        trade.consume(_fps(inv), supplier1, bank, CNY, SLOT);
    }

    function test_RevertWhen_consumeCurrencyMismatch() public {
        bytes32 inv = keccak256("invoice-001");
        _attest(inv, INVOICE, 1);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.DocumentCurrencyMismatch.selector, inv, CNY));
        vm.prank(desk);
        trade.consume(_fps(inv), supplier1, coreEnterprise, bytes3("USD"), SLOT);
    }

    function test_RevertWhen_consumeOnlySupportingDocuments() public {
        bytes32 po = keccak256("po-001");
        bytes32 dn = keccak256("dn-001");
        bytes32 wr = keccak256("wr-001");
        _attest(po, PURCHASE_ORDER, 100);
        _attest(dn, DELIVERY_NOTE, 100);
        _attest(wr, WAREHOUSE_RECEIPT, 100);
        vm.expectRevert(ITradeRegistry.NoInvoice.selector);
        vm.prank(desk);
        trade.consume(_fps(po, dn, wr), supplier1, coreEnterprise, CNY, SLOT);
    }

    function test_RevertWhen_consumeEmptyList() public {
        vm.expectRevert(ITradeRegistry.NoInvoice.selector);
        vm.prank(desk);
        trade.consume(new bytes32[](0), supplier1, coreEnterprise, CNY, SLOT);
    }

    function test_RevertWhen_consumeSlotOverflowsUint64() public {
        bytes32 inv = keccak256("invoice-001");
        _attest(inv, INVOICE, 1);
        uint256 slot = uint256(type(uint64).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 64, slot));
        vm.prank(desk);
        trade.consume(_fps(inv), supplier1, coreEnterprise, CNY, slot);
    }

    /// @dev BUG (see report): `usedBySlot == 0` means "unused", so consuming with slot 0 emits DocumentUsed
    ///      yet leaves the document free to back another obligation. Either consume must refuse slot 0, or
    ///      the document must be unusable afterwards. This test fails against the current contract.
    function test_RevertWhen_consumeForSlotZero() public {
        bytes32 inv = keccak256("invoice-001");
        _attest(inv, INVOICE, 1_000);
        vm.prank(desk);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.InvalidSlot.selector, uint256(0)));
        trade.consume(_fps(inv), supplier1, coreEnterprise, CNY, 0);
        // Still usable for a real slot.
        (uint256 cover,,) = trade.checkUsable(_fps(inv), supplier1, coreEnterprise, CNY);
        assertEq(cover, 1_000);
    }

    // ------------------------------------------------------------------ checkUsable

    function test_checkUsable_returnsInvoiceTotalWithoutWriting() public {
        bytes32 inv1 = keccak256("invoice-001");
        bytes32 inv2 = keccak256("invoice-002");
        bytes32 dn = keccak256("dn-001");
        _attest(inv1, INVOICE, 250);
        _attest(inv2, INVOICE, 750);
        _attest(dn, DELIVERY_NOTE, 1_000_000);
        (uint256 total, uint256 due, uint256 delivered) =
            trade.checkUsable(_fps(inv1, dn, inv2), supplier1, coreEnterprise, CNY);
        assertEq(total, 1_000);
        assertEq(trade.document(inv1).usedBySlot, 0);
        // Still consumable afterwards, with the same answer.
        vm.prank(desk);
        (uint256 consumedTotal, uint256 consumedDue, uint256 consumedDelivered) =
            trade.consume(_fps(inv1, dn, inv2), supplier1, coreEnterprise, CNY, SLOT);
        assertEq(consumedTotal, total);
        assertEq(consumedDue, due);
        assertEq(consumedDelivered, delivered);
    }

    function test_RevertWhen_checkUsableNotAttested() public {
        bytes32 ghost = keccak256("ghost");
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.DocumentNotAttested.selector, ghost));
        trade.checkUsable(_fps(ghost), supplier1, coreEnterprise, CNY);
    }

    function test_RevertWhen_checkUsableAlreadyUsed() public {
        bytes32 inv = keccak256("invoice-001");
        _attest(inv, INVOICE, 1);
        vm.prank(desk);
        trade.consume(_fps(inv), supplier1, coreEnterprise, CNY, SLOT);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.DocumentAlreadyUsed.selector, inv, SLOT));
        trade.checkUsable(_fps(inv), supplier1, coreEnterprise, CNY);
    }

    function test_RevertWhen_checkUsableListsFingerprintTwice() public {
        bytes32 inv = keccak256("invoice-001");
        bytes32 po = keccak256("po-001");
        _attest(inv, INVOICE, 1);
        _attest(po, PURCHASE_ORDER, 1);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.DocumentAlreadyUsed.selector, inv, 0));
        trade.checkUsable(_fps(inv, po, inv), supplier1, coreEnterprise, CNY);
    }

    function test_RevertWhen_checkUsablePartyMismatch() public {
        bytes32 inv = keccak256("invoice-001");
        _attest(inv, INVOICE, 1);
        vm.expectRevert(
            abi.encodeWithSelector(ITradeRegistry.DocumentPartyMismatch.selector, inv, supplier1, coreEnterprise)
        );
        trade.checkUsable(_fps(inv), coreEnterprise, supplier1, CNY);
    }

    function test_RevertWhen_checkUsableCurrencyMismatch() public {
        bytes32 inv = keccak256("invoice-001");
        _attest(inv, INVOICE, 1);
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.DocumentCurrencyMismatch.selector, inv, CNY));
        trade.checkUsable(_fps(inv), supplier1, coreEnterprise, bytes3("EUR"));
    }

    function test_RevertWhen_checkUsableNoInvoice() public {
        bytes32 po = keccak256("po-001");
        _attest(po, PURCHASE_ORDER, 1);
        vm.expectRevert(ITradeRegistry.NoInvoice.selector);
        trade.checkUsable(_fps(po), supplier1, coreEnterprise, CNY);
        vm.expectRevert(ITradeRegistry.NoInvoice.selector);
        trade.checkUsable(new bytes32[](0), supplier1, coreEnterprise, CNY);
    }

    // ------------------------------------------------------------------ fuzz

    function testFuzz_attest_roundTripsAnyValidDocument(
        bytes32 fp,
        uint8 kind,
        uint128 amount,
        uint256 nonce,
        uint40 issueDate,
        uint40 dueDate
    ) public {
        vm.assume(fp != bytes32(0));
        kind = uint8(_bound(kind, 1, 4));
        amount = uint128(_bound(amount, 1, type(uint128).max));
        ITradeRegistry.Attestation memory a = _attestation(fp, kind, amount);
        a.nonce = nonce;
        a.issueDate = issueDate;
        a.dueDate = dueDate;
        assertEq(trade.attestationDigest(a), _digest(a, address(trade)));
        trade.attest(a, _sigs2(a));
        ITradeRegistry.Document memory d = trade.document(fp);
        assertEq(uint8(d.kind), kind);
        assertEq(d.amount, amount);
        assertEq(d.issueDate, issueDate);
        assertEq(d.dueDate, dueDate);
        assertTrue(trade.nonceUsed(nonce));
    }

    function testFuzz_consume_invoiceTotalSumsInvoices(uint96 a1, uint96 a2, uint96 a3, uint8 kinds) public {
        uint96[3] memory amounts = [a1, a2, a3];
        bytes32[] memory fps = new bytes32[](3);
        uint256 expected;
        for (uint256 i = 0; i < 3; ++i) {
            uint256 amount = _bound(amounts[i], 1, type(uint96).max);
            uint8 kind = uint8(1 + ((kinds >> (2 * i)) & 3)); // 1..4
            fps[i] = keccak256(abi.encode("doc", i));
            _attest(fps[i], kind, amount);
            if (kind == INVOICE) expected += amount;
        }
        if (expected == 0) {
            vm.expectRevert(ITradeRegistry.NoInvoice.selector);
            trade.checkUsable(fps, supplier1, coreEnterprise, CNY);
            vm.expectRevert(ITradeRegistry.NoInvoice.selector);
            vm.prank(desk);
            trade.consume(fps, supplier1, coreEnterprise, CNY, SLOT);
        } else {
            (uint256 cover, uint256 due,) = trade.checkUsable(fps, supplier1, coreEnterprise, CNY);
            assertEq(cover, expected);
            assertEq(due, block.timestamp + 90 days); // every invoice here falls due on the same day
            vm.prank(desk);
            (cover,,) = trade.consume(fps, supplier1, coreEnterprise, CNY, SLOT);
            assertEq(cover, expected);
        }
    }

    // ------------------------------------------------------------------ internals

    function _split(bytes memory sig) internal pure returns (bytes32 r, bytes32 s, uint8 v) {
        assembly {
            r := mload(add(sig, 0x20))
            s := mload(add(sig, 0x40))
            v := byte(0, mload(add(sig, 0x60)))
        }
    }
}
