// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC1967} from "@openzeppelin/contracts/interfaces/IERC1967.sol";
import {ERC1967Utils} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Utils.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";
import {World} from "./utils/World.sol";
import {Deploy} from "./utils/Deploy.sol";
import {ParticipantRegistry} from "../../contracts/ParticipantRegistry.sol";
import {TradeRegistry} from "../../contracts/TradeRegistry.sol";
import {ReceivableToken} from "../../contracts/ReceivableToken.sol";
import {IssuanceDesk} from "../../contracts/IssuanceDesk.sol";
import {FinancingDesk} from "../../contracts/FinancingDesk.sol";
import {RepaymentDesk} from "../../contracts/RepaymentDesk.sol";
import {IRepaymentAccounts} from "../../contracts/interfaces/IRepaymentAccounts.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IReceivableToken, IReceivableTokenBase} from "../../contracts/interfaces/IReceivableToken.sol";
import {ITradeRegistry} from "../../contracts/interfaces/ITradeRegistry.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";

/// @notice Upgrades of the six proxies: only a holder of the registry's DEFAULT_ADMIN_ROLE upgrades; an
///         implementation wired to other contracts is refused; implementations cannot be initialized and
///         proxies cannot be initialized twice; each contract's state sits at its ERC-7201 slot.
contract UpgradeTest is World {
    /// @dev Holds every operator and policy role, but not DEFAULT_ADMIN_ROLE.
    address internal operator = makeAddr("operator");

    uint256 internal slot;
    uint256 internal root;

    function setUp() public {
        _deployWorld();
        vm.startPrank(admin);
        registry.grantRole(Roles.ONBOARDING, operator);
        registry.grantRole(Roles.POLICY, operator);
        registry.grantRole(Roles.GUARDIAN, operator);
        vm.stopPrank();
        (slot, root) = issueDefault();
    }

    // ------------------------------------------------------------------ helpers

    function _implementation(address proxy) internal view returns (address) {
        return address(uint160(uint256(vm.load(proxy, ERC1967Utils.IMPLEMENTATION_SLOT))));
    }

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

    /// @dev A fresh implementation of each proxy, wired like the current one.
    function _freshImplementations() internal returns (address[6] memory) {
        return [
            address(new ParticipantRegistry()),
            address(new TradeRegistry(registry)),
            Deploy.tokenImplementation(registry, 2),
            address(new IssuanceDesk(registry, trades, token)),
            address(new FinancingDesk(registry, token, _repayments())),
            address(new RepaymentDesk(registry, token, GRACE))
        ];
    }

    /// @dev The repayment desk proxy, as the financing desk reads it.
    function _repayments() internal view returns (IRepaymentAccounts) {
        return IRepaymentAccounts(address(repayment));
    }

    /// @dev The ERC-7201 formula.
    function _erc7201(string memory namespace) internal pure returns (bytes32) {
        return keccak256(abi.encode(uint256(keccak256(bytes(namespace))) - 1)) & ~bytes32(uint256(0xff));
    }

    // ------------------------------------------------------------------ who upgrades

    function test_upgrade_byDefaultAdminKeepsState() public {
        address[6] memory proxies = _proxies();
        address[6] memory impls = _freshImplementations();
        uint256 lastTokenId = token.lastTokenId();
        for (uint256 i = 0; i < 6; ++i) {
            vm.expectEmit(proxies[i]);
            emit IERC1967.Upgraded(impls[i]);
            vm.prank(admin);
            UUPSUpgradeable(proxies[i]).upgradeToAndCall(impls[i], "");
            assertEq(_implementation(proxies[i]), impls[i]);
        }
        assertTrue(registry.hasRole(Roles.SUPPLIER, supplier1));
        assertTrue(registry.desksBound());
        assertEq(trades.threshold(), ORACLE_THRESHOLD);
        assertEq(token.lastTokenId(), lastTokenId);
        assertEq(token.ownerOf(root), supplier1);
        assertEq(token.name(), "Tierchain Receivable");
        assertEq(issuance.currencyToken(CNY), address(cash));
        assertEq(issuance.lastProposalId(), 1);
        assertEq(repayment.gracePeriod(), GRACE);
        // The system still works end to end after the upgrade.
        uint256 piece = split(supplier1, root, supplier2, 1_000_000);
        fund(bank1, 1_000_000_000);
        (, uint256 financed) = finance(bank1, piece, 1_000_000, 450, 0);
        assertEq(token.ownerOf(financed), bank1);
    }

    function test_RevertWhen_upgradeByAnyoneButDefaultAdmin() public {
        address[6] memory proxies = _proxies();
        address[6] memory impls = _freshImplementations();
        address[4] memory callers = [operator, stranger, supplier1, address(issuance)];
        for (uint256 i = 0; i < 6; ++i) {
            for (uint256 j = 0; j < callers.length; ++j) {
                vm.expectRevert(
                    abi.encodeWithSelector(
                        IAccessControl.AccessControlUnauthorizedAccount.selector, callers[j], bytes32(0)
                    )
                );
                vm.prank(callers[j]);
                UUPSUpgradeable(proxies[i]).upgradeToAndCall(impls[i], "");
            }
        }
    }

    /// @notice Once governance hands DEFAULT_ADMIN_ROLE over, the old admin can no longer upgrade.
    function test_upgrade_followsTheDefaultAdminRole() public {
        address timelock = makeAddr("timelock");
        vm.startPrank(admin);
        registry.grantRole(bytes32(0), timelock);
        registry.renounceRole(bytes32(0), admin);
        vm.stopPrank();
        address impl = Deploy.tokenImplementation(registry, 2);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, bytes32(0))
        );
        vm.prank(admin);
        ReceivableToken(address(token)).upgradeToAndCall(impl, "");
        vm.prank(timelock);
        ReceivableToken(address(token)).upgradeToAndCall(impl, "");
        assertEq(_implementation(address(token)), impl);
    }

    // ------------------------------------------------------------------ wiring

    function test_RevertWhen_tokenImplementationMiswired() public {
        IParticipantRegistry other = IParticipantRegistry(makeAddr("other registry"));
        address impl = Deploy.tokenImplementation(other, 2);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.UpgradeMiswired.selector, impl));
        vm.prank(admin);
        ReceivableToken(address(token)).upgradeToAndCall(impl, "");
    }

    function test_RevertWhen_tradeRegistryImplementationMiswired() public {
        address impl = address(new TradeRegistry(IParticipantRegistry(makeAddr("other registry"))));
        vm.expectRevert(abi.encodeWithSelector(ITradeRegistry.UpgradeMiswired.selector, impl));
        vm.prank(admin);
        trades.upgradeToAndCall(impl, "");
    }

    function test_RevertWhen_issuanceImplementationMiswired() public {
        IParticipantRegistry otherRegistry = IParticipantRegistry(makeAddr("other registry"));
        ITradeRegistry otherTrades = ITradeRegistry(makeAddr("other trades"));
        IReceivableToken otherToken = IReceivableToken(makeAddr("other token"));
        address[3] memory impls = [
            address(new IssuanceDesk(otherRegistry, trades, token)),
            address(new IssuanceDesk(registry, otherTrades, token)),
            address(new IssuanceDesk(registry, trades, otherToken))
        ];
        for (uint256 i = 0; i < impls.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IssuanceDesk.UpgradeMiswired.selector, impls[i]));
            vm.prank(admin);
            issuance.upgradeToAndCall(impls[i], "");
        }
    }

    function test_RevertWhen_financingImplementationMiswired() public {
        address[3] memory impls = [
            address(new FinancingDesk(IParticipantRegistry(makeAddr("other registry")), token, _repayments())),
            address(new FinancingDesk(registry, IReceivableToken(makeAddr("other token")), _repayments())),
            address(new FinancingDesk(registry, token, IRepaymentAccounts(makeAddr("other repayment desk"))))
        ];
        for (uint256 i = 0; i < impls.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(FinancingDesk.UpgradeMiswired.selector, impls[i]));
            vm.prank(admin);
            financing.upgradeToAndCall(impls[i], "");
        }
    }

    function test_RevertWhen_repaymentImplementationMiswired() public {
        address[2] memory impls = [
            address(new RepaymentDesk(IParticipantRegistry(makeAddr("other registry")), token, GRACE)),
            address(new RepaymentDesk(registry, IReceivableToken(makeAddr("other token")), GRACE))
        ];
        for (uint256 i = 0; i < impls.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(RepaymentDesk.UpgradeMiswired.selector, impls[i]));
            vm.prank(admin);
            repayment.upgradeToAndCall(impls[i], "");
        }
    }

    /// @notice A contract that names no registry at all (or an account without code) is refused as miswired.
    function test_RevertWhen_implementationIsNoTierchainContract() public {
        address[2] memory impls = [address(cash), makeAddr("no code")];
        for (uint256 i = 0; i < impls.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.UpgradeMiswired.selector, impls[i]));
            vm.prank(admin);
            ReceivableToken(address(token)).upgradeToAndCall(impls[i], "");
            vm.expectRevert(abi.encodeWithSelector(FinancingDesk.UpgradeMiswired.selector, impls[i]));
            vm.prank(admin);
            financing.upgradeToAndCall(impls[i], "");
        }
    }

    /// @notice The registry has no wiring to check, but still refuses an implementation that is not UUPS.
    function test_RevertWhen_registryImplementationNotUups() public {
        vm.expectRevert(abi.encodeWithSelector(ERC1967Utils.ERC1967InvalidImplementation.selector, address(cash)));
        vm.prank(admin);
        registry.upgradeToAndCall(address(cash), "");
    }

    // ------------------------------------------------------------------ initialization

    function test_RevertWhen_implementationInitialized() public {
        address[6] memory proxies = _proxies();
        address[6] memory impls;
        for (uint256 i = 0; i < 6; ++i) {
            impls[i] = _implementation(proxies[i]);
            assertTrue(impls[i] != address(0) && impls[i] != proxies[i]);
        }
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        ParticipantRegistry(impls[0]).initialize(stranger);
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        TradeRegistry(impls[1]).initialize(1);
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        ReceivableToken(impls[2]).initialize("Rogue", "RGE");
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        IssuanceDesk(impls[3]).initialize();
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        FinancingDesk(impls[4]).initialize();
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        RepaymentDesk(impls[5]).initialize();
    }

    function test_RevertWhen_proxyReinitialized() public {
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        registry.initialize(stranger);
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        trades.initialize(1);
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        ReceivableToken(address(token)).initialize("Rogue", "RGE");
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        issuance.initialize();
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        financing.initialize();
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        repayment.initialize();
    }

    /// @notice An implementation refuses to upgrade itself: only the proxy's call is the upgrade.
    function test_RevertWhen_upgradeCalledOnImplementation() public {
        address impl = _implementation(address(token));
        address next = Deploy.tokenImplementation(registry, 2);
        vm.expectRevert(UUPSUpgradeable.UUPSUnauthorizedCallContext.selector);
        vm.prank(admin);
        ReceivableToken(impl).upgradeToAndCall(next, "");
    }

    function test_version() public view {
        assertEq(registry.version(), "1.0.0");
        assertEq(trades.version(), "1.0.0");
        assertEq(token.version(), "1.0.0");
        assertEq(issuance.version(), "1.0.0");
        assertEq(financing.version(), "1.0.0");
        assertEq(repayment.version(), "1.0.0");
    }

    function test_implementationsKeepTheirWiring() public view {
        assertEq(address(ReceivableToken(_implementation(address(token))).participants()), address(registry));
        assertEq(address(TradeRegistry(_implementation(address(trades))).participants()), address(registry));
        IssuanceDesk issuanceImpl = IssuanceDesk(_implementation(address(issuance)));
        assertEq(address(issuanceImpl.participants()), address(registry));
        assertEq(address(issuanceImpl.trades()), address(trades));
        assertEq(address(issuanceImpl.token()), address(token));
        assertEq(address(FinancingDesk(_implementation(address(financing))).token()), address(token));
        assertEq(RepaymentDesk(_implementation(address(repayment))).gracePeriod(), GRACE);
    }

    // ------------------------------------------------------------------ ERC-7201 storage

    /// @notice Each contract's state sits where the ERC-7201 formula puts it, so the literal slot constant
    ///         in its source equals `keccak256(abi.encode(uint256(keccak256(ns)) - 1)) & ~bytes32(uint256(0xff))`.
    function test_storageSlots_followErc7201() public {
        // Registry: (participants, accountByLegalId, desksBound | pausedOperations << 8).
        bytes32 base = _erc7201("tierchain.storage.ParticipantRegistry");
        assertEq(base, 0x89352bd20ca9e9ea8faa5cb3d3a294f3ffa7fb0b3d312f09c92ff3568d913a00);
        vm.prank(admin);
        registry.pause(Roles.OP_ISSUANCE, "slot check");
        assertEq(uint256(vm.load(address(registry), bytes32(uint256(base) + 2))), 1 | (uint256(Roles.OP_ISSUANCE) << 8));
        bytes32 legalId = keccak256(abi.encode("legal id", supplier1));
        assertEq(
            uint256(vm.load(address(registry), keccak256(abi.encode(legalId, uint256(base) + 1)))),
            uint256(uint160(supplier1))
        );

        // Trade registry: threshold first.
        base = _erc7201("tierchain.storage.TradeRegistry");
        assertEq(base, 0x8e4b0e9ed9647d7515a21e1dfe341d86c86b0338b07a53bdba0baf17dcf0bd00);
        assertEq(uint256(vm.load(address(trades), base)), ORACLE_THRESHOLD);

        // Token: lastTokenId | lastSlot << 48 first.
        base = _erc7201("tierchain.storage.ReceivableToken");
        assertEq(base, 0x0dfd51ff811f30f31e2be76ec4335e38faa8280a580898e835c78bee5ce95400);
        assertEq(uint256(vm.load(address(token), base)), token.lastTokenId() | (token.lastSlot() << 48));

        // Issuance desk: lastProposalId first.
        base = _erc7201("tierchain.storage.IssuanceDesk");
        assertEq(base, 0xb3fa462e385c3870e72614ce26753605fce6ee9ab285d03e3f5ada6162177000);
        assertEq(uint256(vm.load(address(issuance), base)), issuance.lastProposalId());
        assertEq(issuance.lastProposalId(), 1);

        // Financing desk: lastOfferId first.
        base = _erc7201("tierchain.storage.FinancingDesk");
        assertEq(base, 0x98825a89019844ab466177a562e937ba556d94e95c77dec322e7e9117e7fa600);
        fund(bank1, 1_000_000_000);
        makeOffer(bank1, root, 1_000_000, 450, 0);
        assertEq(uint256(vm.load(address(financing), base)), 1);

        // Repayment desk: the accounts mapping first; an account's first word is paid | face << 128.
        base = _erc7201("tierchain.storage.RepaymentDesk");
        assertEq(base, 0x7d9312913d928048e56651ff12b6d17383c3ee1a4d766195601d8557b8ee1600);
        fund(core1, 5_000_000);
        vm.prank(core1);
        repayment.deposit(slot, 5_000_000);
        uint256 word = uint256(vm.load(address(repayment), keccak256(abi.encode(slot, base))));
        assertEq(word, 5_000_000 | (uint256(100_000_000) << 128));
    }

    /// @notice Nothing is stored at the proxies' first slots: no plain state variables anywhere.
    function test_noPlainStateVariables() public view {
        address[6] memory proxies = _proxies();
        for (uint256 i = 0; i < 6; ++i) {
            for (uint256 s = 0; s < 8; ++s) {
                assertEq(vm.load(proxies[i], bytes32(s)), bytes32(0));
            }
        }
    }
}
