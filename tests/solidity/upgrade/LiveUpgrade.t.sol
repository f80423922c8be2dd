// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {console2} from "forge-std/console2.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IERC1967} from "@openzeppelin/contracts/interfaces/IERC1967.sol";
import {ERC1967Utils} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Utils.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {World} from "../utils/World.sol";
import {ParticipantRegistry} from "../../../contracts/ParticipantRegistry.sol";
import {TradeRegistry} from "../../../contracts/TradeRegistry.sol";
import {IssuanceDesk} from "../../../contracts/IssuanceDesk.sol";
import {FinancingDesk} from "../../../contracts/FinancingDesk.sol";
import {RepaymentDesk} from "../../../contracts/RepaymentDesk.sol";
import {OperatorSeats} from "../../../contracts/governance/OperatorSeats.sol";
import {TierchainTimelock} from "../../../contracts/governance/TierchainTimelock.sol";
import {TierchainGovernor} from "../../../contracts/governance/TierchainGovernor.sol";
import {IParticipantRegistry} from "../../../contracts/interfaces/IParticipantRegistry.sol";
import {IReceivableToken, IReceivableTokenBase} from "../../../contracts/interfaces/IReceivableToken.sol";
import {IRepaymentAccounts} from "../../../contracts/interfaces/IRepaymentAccounts.sol";
import {ITradeRegistry} from "../../../contracts/interfaces/ITradeRegistry.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {
    NEXT_VERSION,
    ParticipantRegistryV2,
    TradeRegistryV2,
    ReceivableTokenV2,
    IssuanceDeskV2,
    FinancingDeskV2,
    RepaymentDeskV2
} from "./NextVersions.sol";

/// @notice A live upgrade of all six proxies in the middle of a multi-tier lifecycle, through governance
///         as deployed on a permissioned network: 3 operator seats, 2 approvals, policy 24 h / admin 48 h,
///         the timelock holding DEFAULT_ADMIN_ROLE and POLICY, the deployer's registry roles renounced.
///         Every observable of every holder, piece, slot, offer, account, participant, role, document and
///         proposal is snapshotted before and after, and compared field by field; then the lifecycle runs
///         to its end on the new code and every minor unit is accounted for.
/// @dev The release (NextVersions.sol) answers `version()` "1.1.0" everywhere: ReceivableToken and
///      FinancingDesk V2s add state in new ERC-7201 namespaces, the four others keep the 1.0.0 code (what a
///      patch release is).
contract LiveUpgradeTest is World {
    // ------------------------------------------------------------------ governance as deployed
    uint256 internal constant POLICY_DELAY = 24 hours;
    uint256 internal constant ADMIN_DELAY = 48 hours;
    uint32 internal constant VOTING_PERIOD = 50_400;
    uint256 internal constant APPROVALS = 2;
    uint8 internal constant FOR = 1;
    string internal constant RELEASE_NOTE = "Tierchain 1.1.0: token memos, offer tags";

    OperatorSeats internal seats;
    TierchainTimelock internal timelock;
    TierchainGovernor internal governor;
    address internal op1 = makeAddr("op1"); // seat, and the ONBOARDING operator key
    address internal op2 = makeAddr("op2");
    address internal op3 = makeAddr("op3");
    address internal guardian = makeAddr("guardian"); // GUARDIAN key, proposal guardian, timelock canceller

    // ------------------------------------------------------------------ the lifecycle
    uint256 internal constant FACE_A = 100_000_000; // 1,000,000.00 CNY, core1 → supplier1
    uint256 internal constant FACE_B = 30_000_000; // 300,000.00 CNY, core2 → supplier2
    uint256 internal maturityA;
    uint256 internal maturityB;
    uint256 internal slotA;
    uint256 internal slotB;
    uint256 internal a1;
    uint256 internal a2;
    uint256 internal a3;
    uint256 internal a4;
    uint256 internal a5;
    uint256 internal a8;
    uint256 internal f1;
    uint256 internal b1;
    uint256 internal b2;
    uint256 internal b3;
    uint256 internal offerAccepted;
    uint256 internal offerCancelled;
    uint256 internal offerOpen;
    uint256 internal pendingProposal;
    IssuanceDesk.Terms internal pendingTerms;

    /// @dev What every account's settlement balance must be, to the minor unit.
    mapping(address account => uint256) internal expectedCash;
    /// @dev Redemption payouts per slot.
    mapping(uint256 slot => uint256) internal paidOutBySlot;

    struct Proposal {
        address[] targets;
        uint256[] values;
        bytes[] calldatas;
        string description;
    }

    /// @dev A snapshot: one labelled, ABI-encoded value per observable, in a fixed order.
    struct Snap {
        string[] labels;
        bytes[] values;
        uint256 n;
    }

    function setUp() public {
        _deployWorld();
        vm.roll(100);
        _deployGovernance();
        _handOver();
        _label();
        _lifecycleToTheMiddle();
    }

    // ================================================================== tests

    /// @notice The upgrade as the issue asks: one proposal upgrading all six proxies; one approval is not
    ///         enough; the 48 h admin delay holds; each proxy emits `Upgraded`; nothing observable changes;
    ///         the new namespaces work without touching the old; the lifecycle ends with every unit paid.
    function test_liveUpgrade_keepsEveryObservableAndFinishesTheLifecycle() public {
        Snap memory before = _snapshot();
        assertGt(before.n, 1000, "the snapshot covers the system");
        console2.log("observables snapshotted", before.n);
        address[6] memory old = _implementations();
        (address[6] memory next, bytes[6] memory init) = _nextVersions();
        Proposal memory p = _upgradeProposal(next, init, "Release 1.1.0");

        uint256 id = _propose(p, op1);
        assertEq(id, 1, "the governor's first proposal is number 1");
        assertEq(governor.getProposalId(p.targets, p.values, p.calldatas, keccak256(bytes(p.description))), id);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Pending));
        vm.roll(block.number + 1);
        _approve(id, op1);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Active), "one approval is not enough");
        _approve(id, op2);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Succeeded), "two approvals pass");

        uint256 queuedAt = block.timestamp;
        _queue(p);
        bytes32 op = _opId(p);
        assertEq(governor.proposalEta(id), queuedAt + ADMIN_DELAY, "upgrades are of the 48 h class");
        assertEq(timelock.getTimestamp(op), queuedAt + ADMIN_DELAY);

        vm.warp(queuedAt + ADMIN_DELAY - 1);
        vm.expectRevert(
            abi.encodeWithSelector(TimelockController.TimelockUnexpectedOperationState.selector, op, _readyBitmap())
        );
        _execute(p);
        assertEq(_implementations(), old, "nothing upgraded before the delay");

        vm.warp(queuedAt + ADMIN_DELAY);
        address[6] memory proxies = _proxies();
        for (uint256 i = 0; i < 6; ++i) {
            vm.expectEmit(proxies[i]);
            emit IERC1967.Upgraded(next[i]);
        }
        vm.prank(stranger); // anyone executes once ready
        _execute(p);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Executed));
        assertTrue(timelock.isOperationDone(op));
        assertEq(_implementations(), next, "every proxy runs the new implementation");
        _checkVersions();

        // New state, in new namespaces, written before the re-snapshot: the old state must not notice.
        _useTheNewNamespaces();

        _assertSame(before, _snapshot());
        _finishLifecycle();
    }

    /// @notice No operator key — a seat holding ONBOARDING, the guardian, the deployer that renounced — nor the
    ///         governor itself can upgrade a proxy or schedule in the timelock: only the timelock upgrades.
    function test_RevertWhen_anOperatorKeyUpgradesDirectly() public {
        address[6] memory proxies = _proxies();
        address[6] memory old = _implementations();
        (address[6] memory next, bytes[6] memory init) = _nextVersions();
        address[5] memory callers = [op1, op2, guardian, admin, address(governor)];
        for (uint256 i = 0; i < 6; ++i) {
            for (uint256 j = 0; j < callers.length; ++j) {
                vm.expectRevert(
                    abi.encodeWithSelector(
                        IAccessControl.AccessControlUnauthorizedAccount.selector, callers[j], bytes32(0)
                    )
                );
                vm.prank(callers[j]);
                UUPSUpgradeable(proxies[i]).upgradeToAndCall(next[i], init[i]);
            }
        }
        Proposal memory p = _upgradeProposal(next, init, "Release 1.1.0");
        bytes32 proposerRole = timelock.PROPOSER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, op1, proposerRole)
        );
        vm.prank(op1);
        timelock.scheduleBatch(p.targets, p.values, p.calldatas, 0, 0, ADMIN_DELAY);
        assertEq(_implementations(), old);
        assertTrue(registry.hasRole(bytes32(0), address(timelock)));
        assertEq(registry.getRoleMemberCount(bytes32(0)), 1, "the timelock is the only admin");
    }

    /// @notice A release whose financing desk is wired to another token passes governance but reverts at
    ///         execution; the whole batch is refused, every proxy keeps its implementation and its state, the
    ///         timelock operation stays ready and not done, and the lifecycle still ends on 1.0.0.
    function test_RevertWhen_aMiswiredImplementationIsExecuted() public {
        Snap memory before = _snapshot();
        address[6] memory old = _implementations();
        (address[6] memory next, bytes[6] memory init) = _nextVersions();
        address miswired = address(
            new FinancingDeskV2(
                registry, IReceivableToken(makeAddr("another token")), IRepaymentAccounts(address(repayment))
            )
        );
        next[4] = miswired;
        Proposal memory p = _upgradeProposal(next, init, "Release 1.1.0 (miswired)");
        uint256 id = _pass(p);
        _queue(p);
        bytes32 op = _opId(p);
        vm.warp(governor.proposalEta(id));
        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.UpgradeMiswired.selector, miswired));
        _execute(p);

        assertEq(_implementations(), old, "no proxy was upgraded");
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Queued));
        assertTrue(timelock.isOperationReady(op), "the operation stays ready");
        assertFalse(timelock.isOperationDone(op), "and not done");
        assertEq(token.version(), "1.0.0");
        _assertSame(before, _snapshot());

        // The guardian clears the doomed operation; the system carries on untouched.
        vm.prank(guardian);
        timelock.cancel(op);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Canceled));
        _finishLifecycle();
    }

    /// @notice The guardian vetoes a queued upgrade in the timelock: it can never execute, nothing changes.
    function test_theGuardianCancelsAQueuedUpgradeInTheTimelock() public {
        Snap memory before = _snapshot();
        address[6] memory old = _implementations();
        (address[6] memory next, bytes[6] memory init) = _nextVersions();
        Proposal memory p = _upgradeProposal(next, init, "Release 1.1.0");
        uint256 id = _pass(p);
        _queue(p);
        bytes32 op = _opId(p);
        assertTrue(timelock.isOperationPending(op));

        vm.prank(guardian);
        timelock.cancel(op);
        assertFalse(timelock.isOperation(op), "the operation is gone");
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Canceled));

        vm.warp(block.timestamp + ADMIN_DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector,
                id,
                IGovernor.ProposalState.Canceled,
                _stateBitmap(IGovernor.ProposalState.Queued)
            )
        );
        _execute(p);
        assertEq(_implementations(), old);
        _assertSame(before, _snapshot());
    }

    /// @notice The guardian, as the proposal guardian, cancels the queued proposal in the governor, which
    ///         cancels its timelock operation too.
    function test_theGuardianCancelsAQueuedUpgradeProposal() public {
        address[6] memory old = _implementations();
        (address[6] memory next, bytes[6] memory init) = _nextVersions();
        Proposal memory p = _upgradeProposal(next, init, "Release 1.1.0");
        uint256 id = _pass(p);
        _queue(p);
        bytes32 op = _opId(p);

        vm.prank(guardian);
        governor.cancel(p.targets, p.values, p.calldatas, keccak256(bytes(p.description)));
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Canceled));
        assertFalse(timelock.isOperation(op), "the timelock operation is cancelled with it");

        vm.warp(block.timestamp + ADMIN_DELAY);
        vm.expectRevert();
        timelock.executeBatch(p.targets, p.values, p.calldatas, 0, _salt(p));
        assertEq(_implementations(), old);
    }

    /// @notice The snapshot is sharp: releasing the frozen piece changes exactly one observable, and a merge
    ///         exactly the two values it moves between.
    function test_theSnapshotSeesEveryChange() public {
        Snap memory before = _snapshot();
        vm.prank(regulator);
        token.unfreeze(b3, 7);
        (uint256 count, string memory first) = _differences(before, _snapshot());
        assertEq(count, 1);
        assertEq(first, "token 12.isFrozen");

        before = _snapshot();
        vm.prank(supplier2);
        token.transferFrom(a4, a2, 100_000);
        (count, first) = _differences(before, _snapshot());
        assertEq(count, 2);
        assertEq(first, "token 3.balanceOf");
    }

    // ================================================================== deployment and hand-over

    function _deployGovernance() internal {
        bytes4[] memory policy = new bytes4[](4);
        policy[0] = TradeRegistry.setThreshold.selector;
        policy[1] = IssuanceDesk.setCurrency.selector;
        policy[2] = bytes4(keccak256("setBaseURI(string)"));
        policy[3] = ParticipantRegistry.unpause.selector;
        uint256[] memory delays = new uint256[](4);
        for (uint256 i = 0; i < 4; ++i) {
            delays[i] = POLICY_DELAY;
        }
        address[] memory executors = new address[](1); // address(0): anyone executes
        timelock = new TierchainTimelock(
            POLICY_DELAY, ADMIN_DELAY, policy, delays, new address[](0), executors, address(this)
        );
        address[] memory operators = new address[](3);
        (operators[0], operators[1], operators[2]) = (op1, op2, op3);
        seats = new OperatorSeats(address(timelock), operators);
        governor = new TierchainGovernor(seats, timelock, VOTING_PERIOD, APPROVALS, guardian);
        timelock.grantRole(timelock.PROPOSER_ROLE(), address(governor));
        timelock.grantRole(timelock.CANCELLER_ROLE(), address(governor));
        timelock.grantRole(timelock.CANCELLER_ROLE(), guardian);
        timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), address(this));
        vm.roll(block.number + 1); // seats vote from the next block
    }

    /// @dev As in production: the timelock gets DEFAULT_ADMIN_ROLE and POLICY, operator keys get ONBOARDING
    ///      and GUARDIAN, and the deployer renounces every registry role it held.
    function _handOver() internal {
        vm.startPrank(admin);
        registry.grantRole(bytes32(0), address(timelock));
        registry.grantRole(Roles.POLICY, address(timelock));
        registry.grantRole(Roles.ONBOARDING, op1);
        registry.grantRole(Roles.GUARDIAN, guardian);
        registry.renounceRole(Roles.POLICY, admin);
        registry.renounceRole(Roles.ONBOARDING, admin);
        registry.renounceRole(Roles.GUARDIAN, admin);
        registry.renounceRole(bytes32(0), admin);
        vm.stopPrank();
        assertFalse(registry.hasRole(bytes32(0), admin), "the deployer renounced");
    }

    function _label() internal {
        vm.label(address(registry), "registry");
        vm.label(address(trades), "trades");
        vm.label(address(token), "token");
        vm.label(address(issuance), "issuance");
        vm.label(address(financing), "financing");
        vm.label(address(repayment), "repayment");
        vm.label(address(cash), "cash");
        vm.label(address(timelock), "timelock");
        vm.label(address(governor), "governor");
        vm.label(address(seats), "seats");
    }

    // ================================================================== the lifecycle

    /// @dev Two obligations issued on attested documents (one confirmed by the obligor's EIP-712 signature),
    ///      pieces split down to depth 4, a merge, a batch split, a whole-token transfer, one financing
    ///      accepted, one cancelled, one open, a value allowance, a token approval and an operator approval
    ///      outstanding, a partial repayment of A, B repaid in full with one piece redeemed, one unredeemed
    ///      and one frozen, a pending proposal, and issuance paused by the guardian.
    function _lifecycleToTheMiddle() internal {
        _fundTracked(bank1, 200_000_000);
        _fundTracked(bank2, 200_000_000);
        _fundTracked(core1, FACE_A);
        _fundTracked(core2, FACE_B);
        maturityA = block.timestamp + 180 days;
        maturityB = block.timestamp + 20 days;

        (slotA, a1) = _issueBySignature();
        (slotB, b1) = issue(supplier2, core2, FACE_B, maturityB, MIN_UNIT);

        a2 = split(supplier1, a1, supplier2, 20_000_000); // tier 2
        a3 = split(supplier2, a2, supplier3, 5_000_000); // tier 3
        a4 = split(supplier3, a3, supplier2, 1_000_000); // depth 3
        a5 = split(supplier2, a4, supplier1, 300_000); // depth 4
        vm.prank(supplier2);
        token.transferFrom(a4, a2, 200_000); // merge
        _batchSplit();
        a8 = split(supplier1, a1, supplier1, 3_000_000);
        vm.prank(supplier1);
        token.transferFrom(supplier1, supplier3, a8); // whole token

        offerAccepted = _offer(bank1, a2, 10_000_000, 450, 0, true, block.timestamp + 7 days);
        f1 = _accept(supplier2, offerAccepted);
        offerCancelled = _offer(bank1, a2, 1_000_000, 500, 1, false, block.timestamp + 7 days);
        vm.prank(bank1);
        financing.cancelOffer(offerCancelled);
        offerOpen = _offer(bank2, a3, 4_000_000, 600, 1, false, block.timestamp + 60 days);

        vm.prank(supplier1);
        token.approve(a1, supplier3, 2_000_000);
        vm.prank(supplier2);
        token.approve(bank2, a4);
        vm.prank(supplier3);
        token.setApprovalForAll(supplier1, true);

        _deposit(core1, slotA, 40_000_000);

        b2 = split(supplier2, b1, supplier3, 10_000_000);
        b3 = split(supplier3, b2, supplier1, 4_000_000);
        vm.prank(regulator);
        token.freeze(b3, 7);

        bytes32 fp = attestInvoice(supplier3, core2, 5_000_000);
        pendingTerms = _terms(supplier3, core2, 5_000_000, block.timestamp + 120 days, MIN_UNIT, fp);
        pendingProposal = _propose(pendingTerms);
        vm.prank(guardian);
        registry.pause(Roles.OP_ISSUANCE, "incident review");

        vm.warp(maturityB);
        _deposit(core2, slotB, FACE_B);
        _redeem(b2);
        _checkMiddle();
    }

    function _issueBySignature() internal returns (uint256 slot, uint256 tokenId) {
        bytes32[] memory docs = new bytes32[](2);
        docs[0] = attestInvoice(supplier1, core1, FACE_A);
        docs[1] = attestDocument(ITradeRegistry.DocumentKind.DeliveryNote, supplier1, core1, FACE_A);
        IssuanceDesk.Terms memory t =
            IssuanceDesk.Terms(supplier1, core1, CNY, FACE_A, maturityA, MIN_UNIT, docs, 0, bytes32(0));
        uint256 proposalId = _propose(t);
        uint256 deadline = block.timestamp + 1 days;
        bytes32 digest = issuance.confirmationDigest(proposalId, t, issuance.nonces(core1), deadline);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(core1Key, digest);
        vm.prank(stranger);
        (slot, tokenId) = issuance.confirmWithSignature(proposalId, t, deadline, abi.encodePacked(r, s, v));
    }

    function _batchSplit() internal {
        address[] memory to = new address[](2);
        (to[0], to[1]) = (supplier3, bank2);
        uint256[] memory values = new uint256[](2);
        (values[0], values[1]) = (2_000_000, 1_000_000);
        vm.prank(supplier1);
        token.splitBatch(a1, to, values);
    }

    /// @dev Spot checks that the middle is what the scenario says, so the snapshot compares a rich state.
    function _checkMiddle() internal view {
        assertEq(token.lastSlot(), 2);
        assertEq(token.lastTokenId(), 12);
        assertEq(token.depthOf(a5), 4, "a piece four splits below the issued token");
        assertEq(token.ownerOf(a8), supplier3);
        assertEq(token.ownerOf(f1), bank1);
        assertEq(token.balanceOf(a2), 5_200_000);
        assertEq(token.balanceOf(a4), 500_000);
        assertTrue(token.isFrozen(b3));
        assertFalse(token.exists(b2), "b2 redeemed");
        assertTrue(token.exists(b1), "b1 not redeemed");
        assertEq(token.allowance(a1, supplier3), 2_000_000);
        assertEq(token.getApproved(a4), bank2);
        assertTrue(token.isApprovedForAll(supplier3, supplier1));
        assertEq(uint8(financing.offer(offerOpen).status), uint8(FinancingDesk.OfferStatus.Open));
        assertEq(repayment.account(slotA).paid, 40_000_000);
        assertEq(uint8(repayment.account(slotB).state), uint8(RepaymentDesk.State.Repaid));
        assertTrue(issuance.isPending(pendingProposal));
        assertEq(issuance.nonces(core1), 1);
        assertEq(registry.pausedOperations(), Roles.OP_ISSUANCE);
    }

    /// @dev After the upgrade (or on 1.0.0): the allowance is still spendable, the pending proposal is
    ///      withdrawn, the open offer is accepted, A is repaid, and every piece is redeemed — the frozen one
    ///      after the regulator releases it. Then every minor unit is where it must be.
    function _finishLifecycle() internal {
        vm.prank(supplier3);
        uint256 a9 = token.transferFrom(a1, supplier3, 1_000_000);
        assertEq(token.allowance(a1, supplier3), 1_000_000, "the allowance survived and was spent");
        assertEq(token.parentOf(a9), a1);

        IssuanceDesk.Terms memory pending = pendingTerms;
        vm.prank(supplier3);
        issuance.cancel(pendingProposal, pending);
        assertFalse(issuance.isPending(pendingProposal));

        assertEq(_accept(supplier3, offerOpen), a3, "sold whole");
        assertEq(token.ownerOf(a3), bank2);

        _deposit(core1, slotA, FACE_A - repayment.account(slotA).paid);
        assertEq(uint8(repayment.account(slotA).state), uint8(RepaymentDesk.State.Repaid));

        vm.warp(maturityA);
        uint256 last = token.lastTokenId();
        for (uint256 id = 1; id <= last; ++id) {
            if (!token.exists(id)) continue;
            if (token.isFrozen(id)) {
                address holder = token.ownerOf(id);
                vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenFrozen.selector, id));
                vm.prank(holder);
                repayment.redeem(id);
                vm.prank(regulator);
                token.unfreeze(id, 7);
            }
            _redeem(id);
        }
        _checkEveryUnit();
    }

    function _checkEveryUnit() internal view {
        uint256[2] memory slots = [slotA, slotB];
        uint256[2] memory faces = [FACE_A, FACE_B];
        for (uint256 i = 0; i < 2; ++i) {
            RepaymentDesk.Account memory acc = repayment.account(slots[i]);
            assertEq(paidOutBySlot[slots[i]], faces[i], "sum of payouts == face");
            assertEq(acc.paid, faces[i]);
            assertEq(acc.paidOut, faces[i]);
            assertEq(acc.redeemedValue, faces[i]);
            assertEq(token.slotTerms(slots[i]).supply, 0, "nothing left outstanding");
        }
        for (uint256 id = 1; id <= token.lastTokenId(); ++id) {
            assertFalse(token.exists(id), "every piece redeemed");
        }
        assertEq(cash.balanceOf(address(repayment)), 0, "repayment desk holds nothing");
        assertEq(cash.balanceOf(address(financing)), 0, "financing desk holds nothing");
        address[] memory accounts = _accounts();
        uint256 total;
        for (uint256 i = 0; i < accounts.length; ++i) {
            assertEq(cash.balanceOf(accounts[i]), expectedCash[accounts[i]], vm.getLabel(accounts[i]));
            total += cash.balanceOf(accounts[i]);
        }
        assertEq(total, cash.totalSupply(), "no unit outside the accounts");
    }

    // ------------------------------------------------------------------ tracked money moves

    function _fundTracked(address who, uint256 amount) internal {
        fund(who, amount);
        expectedCash[who] += amount;
    }

    function _offer(
        address bank,
        uint256 tokenId,
        uint256 value,
        uint256 rateBps,
        uint8 dayCount,
        bool recourse,
        uint256 expiry
    ) internal returns (uint256) {
        vm.prank(bank);
        return financing.makeOffer(tokenId, value, rateBps, dayCount, recourse, expiry);
    }

    function _accept(address holder, uint256 offerId) internal returns (uint256 financed) {
        FinancingDesk.Offer memory o = financing.offer(offerId);
        uint256 maturity = token.slotTerms(token.slotOf(o.tokenId)).maturity;
        uint256 price = financing.quote(o.value, o.rateBps, uint8(o.dayCount), maturity).price;
        vm.prank(holder);
        financed = financing.accept(offerId);
        expectedCash[holder] += price;
        expectedCash[o.bank] -= price;
    }

    function _deposit(address obligor, uint256 slot, uint256 amount) internal {
        vm.prank(obligor);
        repayment.deposit(slot, amount);
        expectedCash[obligor] -= amount;
    }

    function _redeem(uint256 tokenId) internal {
        address holder = token.ownerOf(tokenId);
        uint256 slot = token.slotOf(tokenId);
        uint256 value = token.balanceOf(tokenId);
        vm.prank(holder);
        uint256 payout = repayment.redeem(tokenId);
        assertEq(payout, value, "a repaid obligation pays each piece its value");
        expectedCash[holder] += payout;
        paidOutBySlot[slot] += payout;
    }

    // ================================================================== the release

    function _nextVersions() internal returns (address[6] memory next, bytes[6] memory init) {
        next = [
            address(new ParticipantRegistryV2()),
            address(new TradeRegistryV2(registry)),
            address(new ReceivableTokenV2(registry, 2, token.extension())),
            address(new IssuanceDeskV2(registry, trades, token)),
            address(new FinancingDeskV2(registry, token, IRepaymentAccounts(address(repayment)))),
            address(new RepaymentDeskV2(registry, token, GRACE))
        ];
        init[2] = abi.encodeCall(ReceivableTokenV2.initializeV2, (RELEASE_NOTE));
    }

    function _upgradeProposal(address[6] memory next, bytes[6] memory init, string memory description)
        internal
        view
        returns (Proposal memory p)
    {
        address[6] memory proxies = _proxies();
        p.targets = new address[](6);
        p.values = new uint256[](6);
        p.calldatas = new bytes[](6);
        for (uint256 i = 0; i < 6; ++i) {
            p.targets[i] = proxies[i];
            p.calldatas[i] = abi.encodeCall(UUPSUpgradeable.upgradeToAndCall, (next[i], init[i]));
        }
        p.description = description;
    }

    /// @dev Every proxy answers the next version, and the token's upgrade call ran (initialized version 2,
    ///      release note recorded).
    function _checkVersions() internal view {
        address[6] memory proxies = _proxies();
        for (uint256 i = 0; i < 6; ++i) {
            assertEq(IReceivableToken(proxies[i]).version(), NEXT_VERSION, "version() of the next release");
            uint256 initialized = uint256(vm.load(proxies[i], _INITIALIZABLE_SLOT));
            assertEq(initialized, proxies[i] == address(token) ? 2 : 1, "initialized version");
        }
        assertEq(ReceivableTokenV2(address(token)).releaseNote(), RELEASE_NOTE);
    }

    bytes32 private constant _INITIALIZABLE_SLOT = 0xf0c57e16840df040f15088dc2f81fe391c3923bec73e23a9662efc9c229c6a00;

    /// @dev Writes the V2 namespaces and reads them back at the slots the ERC-7201 formula gives.
    function _useTheNewNamespaces() internal {
        ReceivableTokenV2 tokenV2 = ReceivableTokenV2(address(token));
        FinancingDeskV2 financingV2 = FinancingDeskV2(address(financing));

        vm.expectRevert(abi.encodeWithSelector(ReceivableTokenV2.NotHolder.selector, supplier2, a8));
        vm.prank(supplier2);
        tokenV2.setMemo(a8, "PO-2025-0042");
        vm.prank(supplier3);
        tokenV2.setMemo(a8, "PO-2025-0042");
        assertEq(tokenV2.memoOf(a8), "PO-2025-0042");

        vm.expectRevert(abi.encodeWithSelector(FinancingDesk.NotOfferBank.selector, offerOpen, bank1));
        vm.prank(bank1);
        financingV2.tagOffer(offerOpen, "CR-77");
        vm.prank(bank2);
        financingV2.tagOffer(offerOpen, "CR-77");
        vm.prank(bank1);
        financingV2.tagOffer(offerAccepted, "CR-12");
        assertEq(financingV2.offerTag(offerOpen), "CR-77");
        assertEq(financingV2.taggedOffers(), 2);

        bytes32 tokenBase = _erc7201("tierchain.storage.ReceivableTokenV2");
        assertEq(vm.load(address(token), keccak256(abi.encode(a8, uint256(tokenBase) + 1))), "PO-2025-0042");
        bytes32 financingBase = _erc7201("tierchain.storage.FinancingDeskV2");
        assertEq(uint256(vm.load(address(financing), financingBase)), 2);
        assertEq(vm.load(address(financing), keccak256(abi.encode(offerOpen, uint256(financingBase) + 1))), "CR-77");
        // The 1.0.0 namespaces are where they were.
        assertEq(
            uint256(vm.load(address(token), _erc7201("tierchain.storage.ReceivableToken"))),
            token.lastTokenId() | (token.lastSlot() << 48)
        );
        assertEq(uint256(vm.load(address(financing), _erc7201("tierchain.storage.FinancingDesk"))), 3);
    }

    function _erc7201(string memory namespace) internal pure returns (bytes32) {
        return keccak256(abi.encode(uint256(keccak256(bytes(namespace))) - 1)) & ~bytes32(uint256(0xff));
    }

    // ================================================================== governance helpers

    function _propose(Proposal memory p, address proposer) internal returns (uint256 id) {
        vm.prank(proposer);
        id = governor.propose(p.targets, p.values, p.calldatas, p.description);
    }

    function _approve(uint256 id, address seat) internal {
        vm.prank(seat);
        governor.castVote(id, FOR);
    }

    function _pass(Proposal memory p) internal returns (uint256 id) {
        id = _propose(p, op1);
        vm.roll(block.number + 1);
        _approve(id, op2);
        _approve(id, op3);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Succeeded));
    }

    function _queue(Proposal memory p) internal {
        governor.queue(p.targets, p.values, p.calldatas, keccak256(bytes(p.description)));
    }

    function _execute(Proposal memory p) internal {
        governor.execute(p.targets, p.values, p.calldatas, keccak256(bytes(p.description)));
    }

    function _salt(Proposal memory p) internal view returns (bytes32) {
        return bytes20(address(governor)) ^ keccak256(bytes(p.description));
    }

    function _opId(Proposal memory p) internal view returns (bytes32) {
        return timelock.hashOperationBatch(p.targets, p.values, p.calldatas, 0, _salt(p));
    }

    function _readyBitmap() internal pure returns (bytes32) {
        // forge-lint: disable-next-line(incorrect-shift)
        return bytes32(1 << uint8(TimelockController.OperationState.Ready));
    }

    function _stateBitmap(IGovernor.ProposalState s) internal pure returns (bytes32) {
        // forge-lint: disable-next-line(incorrect-shift)
        return bytes32(1 << uint8(s));
    }

    // ================================================================== system helpers

    function _proxies() internal view returns (address[6] memory) {
        return
            [
                address(registry),
                address(trades),
                address(token),
                address(issuance),
                address(financing),
                address(repayment)
            ];
    }

    function _implementations() internal view returns (address[6] memory impls) {
        address[6] memory proxies = _proxies();
        for (uint256 i = 0; i < 6; ++i) {
            impls[i] = address(uint160(uint256(vm.load(proxies[i], ERC1967Utils.IMPLEMENTATION_SLOT))));
        }
    }

    function assertEq(address[6] memory a, address[6] memory b) internal pure {
        assertEq(a, b, "implementations");
    }

    function assertEq(address[6] memory a, address[6] memory b, string memory what) internal pure {
        for (uint256 i = 0; i < 6; ++i) {
            assertEq(a[i], b[i], what);
        }
    }

    /// @dev Every account the snapshot looks at: the cast, the oracles, the operator keys, governance, desks.
    function _accounts() internal view returns (address[] memory a) {
        a = new address[](23);
        (a[0], a[1], a[2], a[3], a[4]) = (supplier1, supplier2, supplier3, bank1, bank2);
        (a[5], a[6], a[7], a[8], a[9]) = (core1, core2, regulator, court, stranger);
        (a[10], a[11], a[12], a[13]) = (admin, oracles[0], oracles[1], oracles[2]);
        (a[14], a[15], a[16], a[17]) = (op1, op2, op3, guardian);
        (a[18], a[19]) = (address(timelock), address(governor));
        (a[20], a[21], a[22]) = (address(issuance), address(financing), address(repayment));
    }

    function _roleIds() internal pure returns (bytes32[11] memory) {
        return [
            bytes32(0),
            Roles.CORE_ENTERPRISE,
            Roles.SUPPLIER,
            Roles.BANK,
            Roles.REGULATOR,
            Roles.ORACLE,
            Roles.ENFORCEMENT,
            Roles.DESK,
            Roles.POLICY,
            Roles.ONBOARDING,
            Roles.GUARDIAN
        ];
    }

    function _roleName(uint256 i) internal pure returns (string memory) {
        return [
            "DEFAULT_ADMIN",
            "CORE_ENTERPRISE",
            "SUPPLIER",
            "BANK",
            "REGULATOR",
            "ORACLE",
            "ENFORCEMENT",
            "DESK",
            "POLICY",
            "ONBOARDING",
            "GUARDIAN"
        ][i];
    }

    // ================================================================== the snapshot

    function _snapshot() internal view returns (Snap memory s) {
        s.labels = new string[](4000);
        s.values = new bytes[](4000);
        _snapRegistry(s);
        _snapTrades(s);
        _snapToken(s);
        _snapIssuance(s);
        _snapFinancing(s);
        _snapRepayment(s);
        _snapCash(s);
    }

    function _put(Snap memory s, string memory label, bytes memory value) internal pure {
        s.labels[s.n] = label;
        s.values[s.n] = value;
        ++s.n;
    }

    function _assertSame(Snap memory before, Snap memory afterwards) internal pure {
        assertEq(afterwards.n, before.n, "same observables");
        for (uint256 i = 0; i < before.n; ++i) {
            assertEq(afterwards.labels[i], before.labels[i]);
            assertEq(afterwards.values[i], before.values[i], before.labels[i]);
        }
    }

    /// @dev How many observables differ between two snapshots of the same shape, and the first that does.
    function _differences(Snap memory before, Snap memory afterwards)
        internal
        pure
        returns (uint256 count, string memory first)
    {
        assertEq(afterwards.n, before.n, "same observables");
        for (uint256 i = 0; i < before.n; ++i) {
            if (keccak256(afterwards.values[i]) == keccak256(before.values[i])) continue;
            if (count == 0) first = before.labels[i];
            ++count;
        }
    }

    function _snapRegistry(Snap memory s) internal view {
        _put(s, "registry.pausedOperations", abi.encode(registry.pausedOperations()));
        _put(s, "registry.desksBound", abi.encode(registry.desksBound()));
        bytes32[11] memory roles = _roleIds();
        for (uint256 r = 0; r < roles.length; ++r) {
            string memory name = _roleName(r);
            _put(s, string.concat("role ", name, ".admin"), abi.encode(registry.getRoleAdmin(roles[r])));
            _put(s, string.concat("role ", name, ".members"), abi.encode(registry.getRoleMembers(roles[r])));
        }
        address[] memory accounts = _accounts();
        for (uint256 i = 0; i < accounts.length; ++i) {
            _snapParticipant(s, accounts[i], roles);
        }
    }

    function _snapParticipant(Snap memory s, address account, bytes32[11] memory roles) internal view {
        string memory who = string.concat("participant ", vm.getLabel(account));
        IParticipantRegistry.Participant memory p = registry.participant(account);
        _put(s, string.concat(who, ".legalIdHash"), abi.encode(p.legalIdHash));
        _put(s, string.concat(who, ".status"), abi.encode(p.status));
        _put(s, string.concat(who, ".roleBits"), abi.encode(p.roleBits));
        _put(s, string.concat(who, ".isActive"), abi.encode(registry.isActive(account)));
        _put(s, string.concat(who, ".accountOf(legalId)"), abi.encode(registry.accountOf(p.legalIdHash)));
        for (uint256 r = 0; r < roles.length; ++r) {
            _put(s, string.concat(who, ".has ", _roleName(r)), abi.encode(registry.hasRole(roles[r], account)));
        }
    }

    function _snapTrades(Snap memory s) internal view {
        _put(s, "trades.threshold", abi.encode(trades.threshold()));
        _put(s, "trades.participants", abi.encode(trades.participants()));
        (, string memory name, string memory ver, uint256 chainId, address verifying,,) = trades.eip712Domain();
        _put(s, "trades.eip712Domain", abi.encode(name, ver, chainId, verifying));
        for (uint256 n = 0; n <= docCounter + 1; ++n) {
            _put(s, string.concat("trades.nonceUsed ", vm.toString(n)), abi.encode(trades.nonceUsed(n)));
            _snapDocument(s, keccak256(abi.encode("document", n)), n);
        }
    }

    function _snapDocument(Snap memory s, bytes32 fp, uint256 n) internal view {
        string memory doc = string.concat("document ", vm.toString(n));
        ITradeRegistry.Document memory d = trades.document(fp);
        _put(s, string.concat(doc, ".seller"), abi.encode(d.seller));
        _put(s, string.concat(doc, ".kind"), abi.encode(d.kind));
        _put(s, string.concat(doc, ".issueDate"), abi.encode(d.issueDate));
        _put(s, string.concat(doc, ".dueDate"), abi.encode(d.dueDate));
        _put(s, string.concat(doc, ".buyer"), abi.encode(d.buyer));
        _put(s, string.concat(doc, ".currency"), abi.encode(d.currency));
        _put(s, string.concat(doc, ".attestedAt"), abi.encode(d.attestedAt));
        _put(s, string.concat(doc, ".amount"), abi.encode(d.amount));
        _put(s, string.concat(doc, ".usedBySlot"), abi.encode(d.usedBySlot));
    }

    function _snapToken(Snap memory s) internal view {
        _put(s, "token.name", abi.encode(token.name()));
        _put(s, "token.symbol", abi.encode(token.symbol()));
        _put(s, "token.valueDecimals", abi.encode(token.valueDecimals()));
        _put(s, "token.contractURI", abi.encode(token.contractURI()));
        _put(s, "token.participants", abi.encode(token.participants()));
        _put(s, "token.lastTokenId", abi.encode(token.lastTokenId()));
        _put(s, "token.lastSlot", abi.encode(token.lastSlot()));
        for (uint256 slot = 1; slot <= token.lastSlot(); ++slot) {
            _snapSlot(s, slot);
        }
        for (uint256 id = 1; id <= token.lastTokenId(); ++id) {
            _snapPiece(s, id);
        }
        address[] memory accounts = _accounts();
        for (uint256 i = 0; i < accounts.length; ++i) {
            string memory who = vm.getLabel(accounts[i]);
            _put(s, string.concat("token.balanceOf ", who), abi.encode(token.balanceOf(accounts[i])));
            for (uint256 j = 0; j < accounts.length; ++j) {
                _put(
                    s,
                    string.concat("token.isApprovedForAll ", who, " -> ", vm.getLabel(accounts[j])),
                    abi.encode(token.isApprovedForAll(accounts[i], accounts[j]))
                );
            }
        }
    }

    function _snapSlot(Snap memory s, uint256 slot) internal view {
        string memory l = string.concat("slot ", vm.toString(slot));
        IReceivableTokenBase.SlotTerms memory t = token.slotTerms(slot);
        _put(s, string.concat(l, ".obligor"), abi.encode(t.obligor));
        _put(s, string.concat(l, ".face"), abi.encode(t.face));
        _put(s, string.concat(l, ".maturity"), abi.encode(t.maturity));
        _put(s, string.concat(l, ".currency"), abi.encode(t.currency));
        _put(s, string.concat(l, ".minUnit"), abi.encode(t.minUnit));
        _put(s, string.concat(l, ".supply"), abi.encode(t.supply));
        _put(s, string.concat(l, ".rootTokenId"), abi.encode(t.rootTokenId));
        _put(s, string.concat(l, ".slotURI"), abi.encode(token.slotURI(slot)));
    }

    function _snapPiece(Snap memory s, uint256 id) internal view {
        string memory l = string.concat("token ", vm.toString(id));
        bool live = token.exists(id);
        _put(s, string.concat(l, ".exists"), abi.encode(live));
        _put(s, string.concat(l, ".parentOf"), abi.encode(token.parentOf(id)));
        _put(s, string.concat(l, ".rootOf"), abi.encode(token.rootOf(id)));
        _put(s, string.concat(l, ".depthOf"), abi.encode(token.depthOf(id)));
        _put(s, string.concat(l, ".lineage"), abi.encode(token.lineage(id)));
        if (!live) return;
        _put(s, string.concat(l, ".ownerOf"), abi.encode(token.ownerOf(id)));
        _put(s, string.concat(l, ".balanceOf"), abi.encode(token.balanceOf(id)));
        _put(s, string.concat(l, ".slotOf"), abi.encode(token.slotOf(id)));
        _put(s, string.concat(l, ".isFrozen"), abi.encode(token.isFrozen(id)));
        _put(s, string.concat(l, ".getApproved"), abi.encode(token.getApproved(id)));
        _put(s, string.concat(l, ".tokenURI"), abi.encode(token.tokenURI(id)));
        address[] memory accounts = _accounts();
        for (uint256 i = 0; i < accounts.length; ++i) {
            _put(
                s,
                string.concat(l, ".allowance ", vm.getLabel(accounts[i])),
                abi.encode(token.allowance(id, accounts[i]))
            );
        }
    }

    function _snapIssuance(Snap memory s) internal view {
        _put(s, "issuance.lastProposalId", abi.encode(issuance.lastProposalId()));
        _put(s, "issuance.currencyToken CNY", abi.encode(issuance.currencyToken(CNY)));
        _put(s, "issuance.wiring", abi.encode(issuance.participants(), issuance.trades(), issuance.token()));
        (, string memory name, string memory ver, uint256 chainId, address verifying,,) = issuance.eip712Domain();
        _put(s, "issuance.eip712Domain", abi.encode(name, ver, chainId, verifying));
        IssuanceDesk.Terms memory pending = pendingTerms;
        _put(
            s,
            "issuance.confirmationDigest(pending)",
            abi.encode(issuance.confirmationDigest(pendingProposal, pending, 0, 1))
        );
        for (uint256 id = 0; id <= issuance.lastProposalId() + 1; ++id) {
            _put(s, string.concat("issuance.isPending ", vm.toString(id)), abi.encode(issuance.isPending(id)));
        }
        address[] memory accounts = _accounts();
        for (uint256 i = 0; i < accounts.length; ++i) {
            _put(
                s, string.concat("issuance.nonces ", vm.getLabel(accounts[i])), abi.encode(issuance.nonces(accounts[i]))
            );
        }
    }

    function _snapFinancing(Snap memory s) internal view {
        _put(s, "financing.lastOfferId", abi.encode(financing.lastOfferId()));
        _put(s, "financing.wiring", abi.encode(financing.participants(), financing.token()));
        for (uint256 id = 0; id <= financing.lastOfferId() + 1; ++id) {
            string memory l = string.concat("offer ", vm.toString(id));
            FinancingDesk.Offer memory o = financing.offer(id);
            _put(s, string.concat(l, ".bank"), abi.encode(o.bank));
            _put(s, string.concat(l, ".tokenId"), abi.encode(o.tokenId));
            _put(s, string.concat(l, ".rateBps"), abi.encode(o.rateBps));
            _put(s, string.concat(l, ".dayCount"), abi.encode(o.dayCount));
            _put(s, string.concat(l, ".recourse"), abi.encode(o.recourse));
            _put(s, string.concat(l, ".status"), abi.encode(o.status));
            _put(s, string.concat(l, ".value"), abi.encode(o.value));
            _put(s, string.concat(l, ".expiry"), abi.encode(o.expiry));
            _put(s, string.concat(l, ".financedTokenId"), abi.encode(o.financedTokenId));
        }
    }

    function _snapRepayment(Snap memory s) internal view {
        _put(s, "repayment.gracePeriod", abi.encode(repayment.gracePeriod()));
        _put(s, "repayment.wiring", abi.encode(repayment.participants(), repayment.token()));
        for (uint256 slot = 0; slot <= token.lastSlot() + 1; ++slot) {
            string memory l = string.concat("repayment account ", vm.toString(slot));
            RepaymentDesk.Account memory a = repayment.account(slot);
            _put(s, string.concat(l, ".paid"), abi.encode(a.paid));
            _put(s, string.concat(l, ".face"), abi.encode(a.face));
            _put(s, string.concat(l, ".paidOut"), abi.encode(a.paidOut));
            _put(s, string.concat(l, ".redeemedValue"), abi.encode(a.redeemedValue));
            _put(s, string.concat(l, ".currency"), abi.encode(a.currency));
            _put(s, string.concat(l, ".maturity"), abi.encode(a.maturity));
            _put(s, string.concat(l, ".state"), abi.encode(a.state));
            _put(s, string.concat(l, ".payoutFor(1,000,000)"), abi.encode(repayment.payoutFor(slot, 1_000_000)));
        }
    }

    function _snapCash(Snap memory s) internal view {
        _put(s, "cash.totalSupply", abi.encode(cash.totalSupply()));
        address[] memory accounts = _accounts();
        for (uint256 i = 0; i < accounts.length; ++i) {
            string memory who = vm.getLabel(accounts[i]);
            _put(s, string.concat("cash.balanceOf ", who), abi.encode(cash.balanceOf(accounts[i])));
            _put(
                s,
                string.concat("cash.allowance ", who, " -> financing"),
                abi.encode(cash.allowance(accounts[i], address(financing)))
            );
            _put(
                s,
                string.concat("cash.allowance ", who, " -> repayment"),
                abi.encode(cash.allowance(accounts[i], address(repayment)))
            );
        }
    }
}
