// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {console2} from "forge-std/console2.sol";
import {ParticipantRegistry} from "../../../contracts/ParticipantRegistry.sol";
import {TradeRegistry} from "../../../contracts/TradeRegistry.sol";
import {ReceivableToken} from "../../../contracts/ReceivableToken.sol";
import {IReceivableToken} from "../../../contracts/interfaces/IReceivableToken.sol";
import {IssuanceDesk} from "../../../contracts/IssuanceDesk.sol";
import {FinancingDesk} from "../../../contracts/FinancingDesk.sol";
import {RepaymentDesk} from "../../../contracts/RepaymentDesk.sol";
import {IRepaymentAccounts} from "../../../contracts/interfaces/IRepaymentAccounts.sol";
import {SettlementToken} from "../../../contracts/SettlementToken.sol";
import {ITradeRegistry} from "../../../contracts/interfaces/ITradeRegistry.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {Deploy} from "../utils/Deploy.sol";

/// @notice What the ERC-1967 proxies cost per operation: the same operations, on the same state, run once on
///         a system of implementations called directly and once on the system behind proxies (as deployed).
///         `forge test -vv --match-path tests/solidity/upgrade/ProxyOverhead.t.sol` logs, per operation, the
///         gas of the call (`vm.lastCallGas`, execution only: no 21,000 base, no calldata) for both and the
///         difference.
/// @dev The direct system uses the very implementation bytecode the proxies run: an implementation's
///      constructor locks initialization (`_disableInitializers`), so the test clears the Initializable
///      slot with `vm.store` and initializes the implementation itself (no test-only subclass is needed, and
///      none would measure exactly the same code).
///      Cold and warm access: forge runs each test as a transaction of its own after `setUp`, so every account
///      and slot starts cold. The two systems share nothing — each has its own contracts, settlement token
///      and cast of participants (only the oracle keys are shared, and they are only signatures) — and the
///      test touches neither system before measuring it, so the second measurement starts as cold as the
///      first. (`vm.cool` is not used: `vm.load` warms what it reads, and in this forge `vm.cool` re-cools
///      storage slots but not accounts.)
contract ProxyOverheadTest is Test {
    bytes32 private constant INITIALIZABLE_SLOT = 0xf0c57e16840df040f15088dc2f81fe391c3923bec73e23a9662efc9c229c6a00;
    uint256 internal constant START = 1_750_000_000;
    uint256 internal constant MIN_UNIT = 100;
    bytes3 internal constant CNY = "CNY";

    /// @dev The participants of one system; the two systems have different accounts.
    struct Cast {
        address supplier1;
        address supplier2;
        address supplier3;
        address bank1;
        address core1;
        address core2;
    }

    struct System {
        Cast cast;
        ParticipantRegistry registry;
        TradeRegistry trades;
        IReceivableToken token;
        IssuanceDesk issuance;
        FinancingDesk financing;
        RepaymentDesk repayment;
        SettlementToken cash;
    }

    /// @dev The state each operation starts from, built identically in both systems.
    struct Fixture {
        uint256 documents;
        uint256 slot;
        uint256 root; // supplier1's issued token
        uint256 ownPiece; // supplier1's second token, to merge back into root
        uint256 otherPiece; // supplier2's token of the same slot
        uint256 repaidRoot; // supplier1's piece of the repaid slot, redeemed once it matures
        uint256 repaidPiece; // supplier2's piece of a repaid, matured slot
        uint256 pendingId;
        uint256 offerId;
        IssuanceDesk.Terms toPropose;
        IssuanceDesk.Terms toConfirm;
        ITradeRegistry.Attestation toAttest;
        bytes[] toAttestSignatures;
    }

    System internal direct;
    System internal proxied;
    Fixture internal fd;
    Fixture internal fp;

    address internal admin = makeAddr("admin");
    uint256[3] internal oracleKeys;
    address[3] internal oracles;

    function setUp() public {
        vm.warp(START);
        _oracles();
        direct.cast = _cast("direct ");
        proxied.cast = _cast("proxied ");
        _deployDirect(direct);
        _deployProxied(proxied);
        _wire(direct);
        _wire(proxied);
        uint256 shortMaturity = block.timestamp + 1 days;
        _repaidSlot(direct, fd, shortMaturity);
        _repaidSlot(proxied, fp, shortMaturity);
        vm.warp(shortMaturity);
        _mainSlot(direct, fd);
        _mainSlot(proxied, fp);
    }

    // ================================================================== the operations

    function test_overhead_splitToNewHolder() public {
        vm.prank(direct.cast.supplier1);
        direct.token.transferFrom(fd.root, direct.cast.supplier3, 1_000_000);
        uint256 d = _lastGas();
        vm.prank(proxied.cast.supplier1);
        proxied.token.transferFrom(fp.root, proxied.cast.supplier3, 1_000_000);
        _report("split to a new holder", d, _lastGas());
    }

    function test_overhead_splitToExistingHolder() public {
        vm.prank(direct.cast.supplier1);
        direct.token.transferFrom(fd.root, direct.cast.supplier2, 1_000_000);
        uint256 d = _lastGas();
        vm.prank(proxied.cast.supplier1);
        proxied.token.transferFrom(fp.root, proxied.cast.supplier2, 1_000_000);
        _report("split to an existing holder", d, _lastGas());
    }

    function test_overhead_valueToExistingToken() public {
        vm.prank(direct.cast.supplier1);
        direct.token.transferFrom(fd.root, fd.otherPiece, 1_000_000);
        uint256 d = _lastGas();
        vm.prank(proxied.cast.supplier1);
        proxied.token.transferFrom(fp.root, fp.otherPiece, 1_000_000);
        _report("value into another holder's token", d, _lastGas());
    }

    function test_overhead_transferWhole() public {
        vm.prank(direct.cast.supplier1);
        direct.token.transferFrom(direct.cast.supplier1, direct.cast.supplier3, fd.root);
        uint256 d = _lastGas();
        vm.prank(proxied.cast.supplier1);
        proxied.token.transferFrom(proxied.cast.supplier1, proxied.cast.supplier3, fp.root);
        _report("whole-token transfer", d, _lastGas());
    }

    function test_overhead_merge() public {
        vm.prank(direct.cast.supplier1);
        direct.token.transferFrom(fd.ownPiece, fd.root, 1_000_000);
        uint256 d = _lastGas();
        vm.prank(proxied.cast.supplier1);
        proxied.token.transferFrom(fp.ownPiece, fp.root, 1_000_000);
        _report("merge", d, _lastGas());
    }

    function test_overhead_propose() public {
        IssuanceDesk.Terms memory td = fd.toPropose;
        IssuanceDesk.Terms memory tp = fp.toPropose;
        vm.prank(direct.cast.supplier1);
        direct.issuance.propose(td);
        uint256 d = _lastGas();
        vm.prank(proxied.cast.supplier1);
        proxied.issuance.propose(tp);
        _report("propose issuance", d, _lastGas());
    }

    function test_overhead_confirm() public {
        IssuanceDesk.Terms memory td = fd.toConfirm;
        IssuanceDesk.Terms memory tp = fp.toConfirm;
        vm.prank(direct.cast.core1);
        direct.issuance.confirm(fd.pendingId, td);
        uint256 d = _lastGas();
        vm.prank(proxied.cast.core1);
        proxied.issuance.confirm(fp.pendingId, tp);
        _report("confirm issuance (mint)", d, _lastGas());
    }

    function test_overhead_makeOffer() public {
        uint256 expiry = block.timestamp + 1 days;
        vm.prank(direct.cast.bank1);
        direct.financing.makeOffer(fd.root, 10_000_000, 450, 0, false, expiry);
        uint256 d = _lastGas();
        vm.prank(proxied.cast.bank1);
        proxied.financing.makeOffer(fp.root, 10_000_000, 450, 0, false, expiry);
        _report("make financing offer", d, _lastGas());
    }

    function test_overhead_acceptOffer() public {
        vm.prank(direct.cast.supplier1);
        direct.financing.accept(fd.offerId);
        uint256 d = _lastGas();
        vm.prank(proxied.cast.supplier1);
        proxied.financing.accept(fp.offerId);
        _report("accept financing offer (part)", d, _lastGas());
    }

    function test_overhead_deposit() public {
        vm.prank(direct.cast.core1);
        direct.repayment.deposit(fd.slot, 10_000_000);
        uint256 d = _lastGas();
        vm.prank(proxied.cast.core1);
        proxied.repayment.deposit(fp.slot, 10_000_000);
        _report("deposit repayment", d, _lastGas());
    }

    function test_overhead_redeem() public {
        vm.prank(direct.cast.supplier2);
        direct.repayment.redeem(fd.repaidPiece);
        uint256 d = _lastGas();
        vm.prank(proxied.cast.supplier2);
        proxied.repayment.redeem(fp.repaidPiece);
        _report("redeem", d, _lastGas());
    }

    function test_overhead_attest2of3() public {
        ITradeRegistry.Attestation memory ad = fd.toAttest;
        bytes[] memory sd = fd.toAttestSignatures;
        ITradeRegistry.Attestation memory ap = fp.toAttest;
        bytes[] memory sp = fp.toAttestSignatures;
        direct.trades.attest(ad, sd);
        uint256 d = _lastGas();
        proxied.trades.attest(ap, sp);
        _report("attest (2 of 3 oracles)", d, _lastGas());
    }

    // ================================================================== measuring

    /// @dev Execution gas of the last call, inside the callee (what a transaction to it pays beyond the
    ///      21,000 base and calldata; the call's own account access is the transaction's `to`, always warm).
    function _lastGas() internal view returns (uint256) {
        return vm.lastCallGas().gasTotalUsed;
    }

    function _report(string memory operation, uint256 directGas, uint256 proxiedGas) internal pure {
        assertGt(proxiedGas, directGas, "a proxy never makes an operation cheaper");
        console2.log(
            string.concat(
                operation,
                ": direct ",
                vm.toString(directGas),
                ", proxied ",
                vm.toString(proxiedGas),
                ", overhead ",
                vm.toString(proxiedGas - directGas)
            )
        );
    }

    // ================================================================== the two systems

    /// @dev Implementations only, wired to each other and initialized in place.
    function _deployDirect(System storage s) internal {
        s.registry = ParticipantRegistry(_unlocked(address(new ParticipantRegistry())));
        s.registry.initialize(admin);
        s.trades = TradeRegistry(_unlocked(address(new TradeRegistry(s.registry))));
        s.trades.initialize(2);
        s.token = IReceivableToken(_unlocked(Deploy.tokenImplementation(s.registry, 2)));
        ReceivableToken(address(s.token)).initialize("Tierchain Receivable", "TCR");
        s.issuance = IssuanceDesk(_unlocked(address(new IssuanceDesk(s.registry, s.trades, s.token))));
        s.issuance.initialize();
        s.repayment = RepaymentDesk(_unlocked(address(new RepaymentDesk(s.registry, s.token, 30 days))));
        s.repayment.initialize();
        s.financing = FinancingDesk(
            _unlocked(address(new FinancingDesk(s.registry, s.token, IRepaymentAccounts(address(s.repayment)))))
        );
        s.financing.initialize();
    }

    /// @dev As deployed: each implementation behind an ERC1967Proxy (tests/solidity/utils/Deploy.sol).
    function _deployProxied(System storage s) internal {
        s.registry = Deploy.registry(admin);
        s.trades = Deploy.trades(s.registry, 2);
        s.token = Deploy.token(s.registry, "Tierchain Receivable", "TCR", 2);
        s.issuance = Deploy.issuance(s.registry, s.trades, s.token);
        s.repayment = Deploy.repayment(s.registry, s.token, 30 days);
        s.financing = Deploy.financing(s.registry, s.token, s.repayment);
    }

    /// @dev Lets an implementation be initialized in place: clears the lock its constructor set.
    function _unlocked(address implementation) internal returns (address) {
        vm.store(implementation, INITIALIZABLE_SLOT, bytes32(0));
        return implementation;
    }

    function _wire(System storage s) internal {
        Cast memory c = s.cast;
        s.cash = new SettlementToken("Digital CNY deposit", "dCNY", 2, admin);
        Deploy.grantOperatorRoles(s.registry, admin);
        Deploy.setPolicy(s.registry, admin, Deploy.mechanicsPolicy());
        address[] memory desks = new address[](3);
        (desks[0], desks[1], desks[2]) = (address(s.issuance), address(s.financing), address(s.repayment));
        vm.startPrank(admin);
        s.registry.bindDesks(desks);
        s.issuance.setCurrency(CNY, address(s.cash));
        vm.stopPrank();
        for (uint256 i = 0; i < 3; ++i) {
            _register(s, oracles[i], Roles.ORACLE);
        }
        _register(s, c.supplier1, Roles.SUPPLIER);
        _register(s, c.supplier2, Roles.SUPPLIER);
        _register(s, c.supplier3, Roles.SUPPLIER);
        _register(s, c.bank1, Roles.BANK);
        _register(s, c.core1, Roles.CORE_ENTERPRISE);
        _register(s, c.core2, Roles.CORE_ENTERPRISE);
        _fund(s, c.bank1, 1_000_000_000);
        _fund(s, c.core1, 1_000_000_000);
        _fund(s, c.core2, 1_000_000_000);
    }

    /// @dev A short obligation, repaid in full, whose root was redeemed once: supplier2's piece waits.
    function _repaidSlot(System storage s, Fixture storage f, uint256 maturity) internal {
        Cast memory c = s.cast;
        uint256 slot;
        (slot, f.repaidRoot) = _issue(s, f, c.supplier1, c.core2, 2_000_000, maturity);
        f.repaidPiece = _split(s, c.supplier1, f.repaidRoot, c.supplier2, 1_000_000);
        vm.prank(c.core2);
        s.repayment.deposit(slot, 2_000_000);
    }

    /// @dev The obligation the moves, financing and repayment act on, a pending proposal, fresh terms to
    ///      propose, and an open offer for part of the root.
    function _mainSlot(System storage s, Fixture storage f) internal {
        Cast memory c = s.cast;
        vm.prank(c.supplier1);
        s.repayment.redeem(f.repaidRoot);
        uint256 maturity = block.timestamp + 180 days;
        (f.slot, f.root) = _issue(s, f, c.supplier1, c.core1, 100_000_000, maturity);
        f.otherPiece = _split(s, c.supplier1, f.root, c.supplier2, 1_000_000);
        f.ownPiece = _split(s, c.supplier1, f.root, c.supplier1, 1_000_000);
        _setTerms(
            f.toPropose, c.supplier1, c.core1, 50_000_000, maturity, _attest(s, f, c.supplier1, c.core1, 50_000_000)
        );
        _setTerms(
            f.toConfirm, c.supplier1, c.core1, 40_000_000, maturity, _attest(s, f, c.supplier1, c.core1, 40_000_000)
        );
        IssuanceDesk.Terms memory t = f.toConfirm;
        vm.prank(c.supplier1);
        f.pendingId = s.issuance.propose(t);
        vm.prank(c.bank1);
        f.offerId = s.financing.makeOffer(f.root, 10_000_000, 450, 0, false, block.timestamp + 1 days);
        ITradeRegistry.Attestation memory a = _attestation(f, c.supplier1, c.core1, 50_000_000);
        f.toAttest = a;
        bytes[] memory sigs = _signatures(s, a);
        for (uint256 i = 0; i < sigs.length; ++i) {
            f.toAttestSignatures.push(sigs[i]);
        }
    }

    // ================================================================== helpers

    function _oracles() internal {
        (address a, uint256 ka) = makeAddrAndKey("oracle-a");
        (address b, uint256 kb) = makeAddrAndKey("oracle-b");
        (address c, uint256 kc) = makeAddrAndKey("oracle-c");
        oracles = [a, b, c];
        oracleKeys = [ka, kb, kc];
        for (uint256 i = 1; i < 3; ++i) {
            for (uint256 j = i; j > 0 && oracles[j] < oracles[j - 1]; --j) {
                (oracles[j], oracles[j - 1]) = (oracles[j - 1], oracles[j]);
                (oracleKeys[j], oracleKeys[j - 1]) = (oracleKeys[j - 1], oracleKeys[j]);
            }
        }
    }

    function _cast(string memory prefix) internal returns (Cast memory c) {
        c.supplier1 = makeAddr(string.concat(prefix, "supplier1"));
        c.supplier2 = makeAddr(string.concat(prefix, "supplier2"));
        c.supplier3 = makeAddr(string.concat(prefix, "supplier3"));
        c.bank1 = makeAddr(string.concat(prefix, "bank1"));
        c.core1 = makeAddr(string.concat(prefix, "core1"));
        c.core2 = makeAddr(string.concat(prefix, "core2"));
    }

    function _register(System storage s, address account, bytes32 role) internal {
        bytes32[] memory roles = new bytes32[](1);
        roles[0] = role;
        vm.prank(admin);
        s.registry.register(account, keccak256(abi.encode("legal id", account)), roles);
    }

    function _fund(System storage s, address who, uint256 amount) internal {
        vm.prank(admin);
        s.cash.mint(who, amount);
        vm.startPrank(who);
        s.cash.approve(address(s.financing), type(uint256).max);
        s.cash.approve(address(s.repayment), type(uint256).max);
        vm.stopPrank();
    }

    function _attestation(Fixture storage f, address seller, address buyer, uint256 amount)
        internal
        returns (ITradeRegistry.Attestation memory)
    {
        uint256 n = ++f.documents;
        return ITradeRegistry.Attestation({
            fingerprint: keccak256(abi.encode("document", n)),
            kind: uint8(ITradeRegistry.DocumentKind.Invoice),
            seller: seller,
            buyer: buyer,
            amount: amount,
            currency: CNY,
            issueDate: uint64(block.timestamp),
            dueDate: uint64(block.timestamp + 90 days),
            nonce: n,
            deadline: uint64(block.timestamp + 1 days)
        });
    }

    function _signatures(System storage s, ITradeRegistry.Attestation memory a)
        internal
        view
        returns (bytes[] memory sigs)
    {
        bytes32 digest = s.trades.attestationDigest(a);
        sigs = new bytes[](2);
        for (uint256 i = 0; i < 2; ++i) {
            (uint8 v, bytes32 r, bytes32 sig) = vm.sign(oracleKeys[i], digest);
            sigs[i] = abi.encodePacked(r, sig, v);
        }
    }

    function _attest(System storage s, Fixture storage f, address seller, address buyer, uint256 amount)
        internal
        returns (bytes32)
    {
        ITradeRegistry.Attestation memory a = _attestation(f, seller, buyer, amount);
        s.trades.attest(a, _signatures(s, a));
        return a.fingerprint;
    }

    function _setTerms(
        IssuanceDesk.Terms storage t,
        address supplier,
        address obligor,
        uint256 face,
        uint256 maturity,
        bytes32 document
    ) internal {
        t.supplier = supplier;
        t.obligor = obligor;
        t.currency = CNY;
        t.face = face;
        t.maturity = maturity;
        t.minUnit = MIN_UNIT;
        t.documents.push(document);
    }

    function _issue(
        System storage s,
        Fixture storage f,
        address supplier,
        address obligor,
        uint256 face,
        uint256 maturity
    ) internal returns (uint256 slot, uint256 tokenId) {
        bytes32[] memory docs = new bytes32[](1);
        docs[0] = _attest(s, f, supplier, obligor, face);
        IssuanceDesk.Terms memory t =
            IssuanceDesk.Terms(supplier, obligor, CNY, face, maturity, MIN_UNIT, docs, 0, bytes32(0));
        vm.prank(supplier);
        uint256 proposalId = s.issuance.propose(t);
        vm.prank(obligor);
        (slot, tokenId) = s.issuance.confirm(proposalId, t);
    }

    function _split(System storage s, address holder, uint256 tokenId, address to, uint256 value)
        internal
        returns (uint256)
    {
        vm.prank(holder);
        return s.token.transferFrom(tokenId, to, value);
    }
}
