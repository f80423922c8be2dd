// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {ParticipantRegistry} from "../../../contracts/ParticipantRegistry.sol";
import {TradeRegistry} from "../../../contracts/TradeRegistry.sol";
import {IReceivableToken} from "../../../contracts/interfaces/IReceivableToken.sol";
import {IssuanceDesk} from "../../../contracts/IssuanceDesk.sol";
import {FinancingDesk} from "../../../contracts/FinancingDesk.sol";
import {RepaymentDesk} from "../../../contracts/RepaymentDesk.sol";
import {SettlementToken} from "../../../contracts/SettlementToken.sol";
import {ITradeRegistry} from "../../../contracts/interfaces/ITradeRegistry.sol";
import {IParticipantRegistry} from "../../../contracts/interfaces/IParticipantRegistry.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {Deploy} from "./Deploy.sol";

/// @title World
/// @notice Deploys and wires the whole Tierchain system the way the deploy script does (implementations behind
///         ERC-1967 proxies, registry first; `admin` holds DEFAULT_ADMIN_ROLE, ONBOARDING, POLICY and
///         GUARDIAN), registers a cast of participants, and offers the multi-step helpers tests need (attest,
///         issue, fund, finance).
/// @dev Abstract: a test calls `_deployWorld()` from `setUp()`; the invariant Handler calls it from its
///      constructor. Every helper acts through `vm.prank`, so the contracts see the real caller.
abstract contract World is Test {
    // ------------------------------------------------------------------ configuration
    uint8 internal constant ORACLE_THRESHOLD = 2;
    uint256 internal constant GRACE = 30 days;
    bytes3 internal constant CNY = "CNY";
    uint256 internal constant MIN_UNIT = 100; // 1.00 CNY
    uint256 internal constant START = 1_750_000_000; // 2025-06-15, a fixed clock for every test

    // ------------------------------------------------------------------ system
    ParticipantRegistry public registry;
    TradeRegistry public trades;
    IReceivableToken public token;
    IssuanceDesk public issuance;
    FinancingDesk public financing;
    RepaymentDesk public repayment;
    SettlementToken public cash;

    // ------------------------------------------------------------------ cast
    address public admin = makeAddr("admin");
    address public court = makeAddr("court");
    address public regulator = makeAddr("regulator");
    address public supplier1 = makeAddr("supplier1");
    address public supplier2 = makeAddr("supplier2");
    address public supplier3 = makeAddr("supplier3");
    address public bank1 = makeAddr("bank1");
    address public bank2 = makeAddr("bank2");
    address public core1;
    uint256 internal core1Key;
    address public core2 = makeAddr("core2");
    address public stranger = makeAddr("stranger");

    /// @dev Oracle keys sorted by address ascending, as `TradeRegistry.attest` requires.
    uint256[3] internal oracleKeys;
    address[3] internal oracles;

    uint256 internal docCounter;

    function _deployWorld() internal {
        vm.warp(START);
        (core1, core1Key) = makeAddrAndKey("core1");

        registry = Deploy.registryWithOperator(admin);
        Deploy.setPolicy(registry, admin, Deploy.mechanicsPolicy());
        trades = Deploy.trades(registry, ORACLE_THRESHOLD);
        token = Deploy.token(registry, "Tierchain Receivable", "TCR", 2);
        issuance = Deploy.issuance(registry, trades, token);
        repayment = Deploy.repayment(registry, token, GRACE);
        financing = Deploy.financing(registry, token, repayment);
        cash = new SettlementToken("Digital CNY deposit", "dCNY", 2, admin);

        address[] memory desks = new address[](3);
        (desks[0], desks[1], desks[2]) = (address(issuance), address(financing), address(repayment));
        vm.startPrank(admin);
        registry.bindDesks(desks);
        registry.grantRole(Roles.ENFORCEMENT, court);
        issuance.setCurrency(CNY, address(cash));
        vm.stopPrank();

        _setUpOracles();
        _register(supplier1, Roles.SUPPLIER);
        _register(supplier2, Roles.SUPPLIER);
        _register(supplier3, Roles.SUPPLIER);
        _register(bank1, Roles.BANK);
        _register(bank2, Roles.BANK);
        _register(core1, Roles.CORE_ENTERPRISE);
        _register(core2, Roles.CORE_ENTERPRISE);
        _register(regulator, Roles.REGULATOR);
    }

    function _setUpOracles() private {
        (address a, uint256 ka) = makeAddrAndKey("oracle-a");
        (address b, uint256 kb) = makeAddrAndKey("oracle-b");
        (address c, uint256 kc) = makeAddrAndKey("oracle-c");
        oracles = [a, b, c];
        oracleKeys = [ka, kb, kc];
        // Three elements: a plain insertion sort by address.
        for (uint256 i = 1; i < 3; ++i) {
            for (uint256 j = i; j > 0 && oracles[j] < oracles[j - 1]; --j) {
                (oracles[j], oracles[j - 1]) = (oracles[j - 1], oracles[j]);
                (oracleKeys[j], oracleKeys[j - 1]) = (oracleKeys[j - 1], oracleKeys[j]);
            }
        }
        for (uint256 i = 0; i < 3; ++i) {
            _register(oracles[i], Roles.ORACLE);
        }
    }

    // ------------------------------------------------------------------ participants

    /// @notice Registers `account` with one participant role; the legal id is derived from the address.
    function _register(address account, bytes32 role) internal {
        bytes32[] memory roles = new bytes32[](1);
        roles[0] = role;
        vm.prank(admin);
        registry.register(account, keccak256(abi.encode("legal id", account)), roles);
    }

    function _suspend(address account) internal {
        vm.prank(admin);
        registry.setStatus(account, IParticipantRegistry.Status.Suspended);
    }

    // ------------------------------------------------------------------ documents

    /// @notice The attestation the oracles would sign for a new document (fresh fingerprint and nonce).
    function _attestation(ITradeRegistry.DocumentKind kind, address seller, address buyer, uint256 amount)
        internal
        returns (ITradeRegistry.Attestation memory a)
    {
        uint256 n = ++docCounter;
        a = ITradeRegistry.Attestation({
            fingerprint: keccak256(abi.encode("document", n)),
            kind: uint8(kind),
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

    /// @notice Signatures of the first `m` oracles (ascending by address) over `a`.
    function _oracleSignatures(ITradeRegistry.Attestation memory a, uint256 m)
        internal
        view
        returns (bytes[] memory sigs)
    {
        bytes32 digest = trades.attestationDigest(a);
        sigs = new bytes[](m);
        for (uint256 i = 0; i < m; ++i) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(oracleKeys[i], digest);
            sigs[i] = abi.encodePacked(r, s, v);
        }
    }

    /// @notice Attests a document of `kind` with M oracle signatures; returns its fingerprint.
    function attestDocument(ITradeRegistry.DocumentKind kind, address seller, address buyer, uint256 amount)
        public
        returns (bytes32)
    {
        ITradeRegistry.Attestation memory a = _attestation(kind, seller, buyer, amount);
        trades.attest(a, _oracleSignatures(a, ORACLE_THRESHOLD));
        return a.fingerprint;
    }

    /// @notice Attests an invoice of `amount` CNY minor units from `seller` to `buyer`.
    function attestInvoice(address seller, address buyer, uint256 amount) public returns (bytes32) {
        return attestDocument(ITradeRegistry.DocumentKind.Invoice, seller, buyer, amount);
    }

    // ------------------------------------------------------------------ issuance

    function _terms(address supplier, address obligor, uint256 face, uint256 maturity, uint256 minUnit, bytes32 fp)
        internal
        pure
        returns (IssuanceDesk.Terms memory t)
    {
        bytes32[] memory docs = new bytes32[](1);
        docs[0] = fp;
        t = IssuanceDesk.Terms(supplier, obligor, CNY, face, maturity, minUnit, docs, 0, bytes32(0));
    }

    function _propose(IssuanceDesk.Terms memory t) internal returns (uint256 proposalId) {
        vm.prank(t.supplier);
        proposalId = issuance.propose(t);
    }

    function _confirm(uint256 proposalId, IssuanceDesk.Terms memory t) internal returns (uint256 slot, uint256 id) {
        vm.prank(t.obligor);
        (slot, id) = issuance.confirm(proposalId, t);
    }

    /// @notice Attests an invoice of `face`, proposes and confirms: a new slot whose root token `supplier` holds.
    function issue(address supplier, address obligor, uint256 face, uint256 maturity, uint256 minUnit)
        public
        returns (uint256 slot, uint256 tokenId)
    {
        bytes32 fp = attestInvoice(supplier, obligor, face);
        IssuanceDesk.Terms memory t = _terms(supplier, obligor, face, maturity, minUnit, fp);
        (slot, tokenId) = _confirm(_propose(t), t);
    }

    /// @notice The common case: 1,000,000.00 CNY from core1 to supplier1, maturing in 180 days.
    function issueDefault() internal returns (uint256 slot, uint256 tokenId) {
        return issue(supplier1, core1, 100_000_000, block.timestamp + 180 days, MIN_UNIT);
    }

    // ------------------------------------------------------------------ money

    /// @notice Mints `amount` of settlement cash to `who` and lets the financing and repayment desks pull it.
    function fund(address who, uint256 amount) public {
        vm.prank(admin);
        cash.mint(who, amount);
        vm.startPrank(who);
        cash.approve(address(financing), type(uint256).max);
        cash.approve(address(repayment), type(uint256).max);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ token moves

    function split(address holder, uint256 tokenId, address to, uint256 value) internal returns (uint256 newId) {
        vm.prank(holder);
        newId = token.transferFrom(tokenId, to, value);
    }

    function makeOffer(address bank, uint256 tokenId, uint256 value, uint256 rateBps, uint8 dayCount)
        internal
        returns (uint256 offerId)
    {
        vm.prank(bank);
        offerId = financing.makeOffer(tokenId, value, rateBps, dayCount, false, block.timestamp + 1 days);
    }

    /// @notice `bank` offers for `value` of `tokenId` and its holder accepts at once.
    function finance(address bank, uint256 tokenId, uint256 value, uint256 rateBps, uint8 dayCount)
        internal
        returns (uint256 offerId, uint256 financedTokenId)
    {
        offerId = makeOffer(bank, tokenId, value, rateBps, dayCount);
        vm.prank(token.ownerOf(tokenId));
        financedTokenId = financing.accept(offerId);
    }

    /// @notice The obligor of `slot` pays its whole outstanding amount (funding itself first).
    function repayInFull(uint256 slot) internal {
        address obligor = token.slotTerms(slot).obligor;
        uint256 due = token.slotTerms(slot).face - repayment.account(slot).paid;
        fund(obligor, due);
        vm.prank(obligor);
        repayment.deposit(slot, due);
    }
}
