// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Vm} from "forge-std/Vm.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {ParticipantRegistry} from "../../../contracts/ParticipantRegistry.sol";
import {TradeRegistry} from "../../../contracts/TradeRegistry.sol";
import {ReceivableToken} from "../../../contracts/ReceivableToken.sol";
import {ReceivableTokenExtension} from "../../../contracts/token/ReceivableTokenExtension.sol";
import {IssuanceDesk} from "../../../contracts/IssuanceDesk.sol";
import {FinancingDesk} from "../../../contracts/FinancingDesk.sol";
import {RepaymentDesk} from "../../../contracts/RepaymentDesk.sol";
import {IParticipantRegistry} from "../../../contracts/interfaces/IParticipantRegistry.sol";
import {IReceivableToken} from "../../../contracts/interfaces/IReceivableToken.sol";
import {ITradeRegistry} from "../../../contracts/interfaces/ITradeRegistry.sol";
import {IRepaymentAccounts} from "../../../contracts/interfaces/IRepaymentAccounts.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";

/// @title Deploy
/// @notice How the tests deploy Tierchain's upgradeable contracts, as the deployer does: an implementation
///         (its constructor sets the immutables: the proxies it talks to) and an `ERC1967Proxy` initialized
///         in the same transaction. Each function returns the proxy, typed as the contract.
library Deploy {
    Vm private constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @notice An `ERC1967Proxy` of `implementation`, initialized with `initData`.
    function proxy(address implementation, bytes memory initData) internal returns (address) {
        return address(new ERC1967Proxy(implementation, initData));
    }

    /// @notice The participant registry; `admin` holds DEFAULT_ADMIN_ROLE.
    function registry(address admin) internal returns (ParticipantRegistry) {
        address impl = address(new ParticipantRegistry());
        return ParticipantRegistry(proxy(impl, abi.encodeCall(ParticipantRegistry.initialize, (admin))));
    }

    /// @notice Grants the operator and policy roles (ONBOARDING, POLICY, GUARDIAN) to `admin`, which holds
    ///         DEFAULT_ADMIN_ROLE: in the tests one admin account acts for governance and the operators.
    function grantOperatorRoles(ParticipantRegistry r, address admin) internal {
        vm.startPrank(admin);
        r.grantRole(Roles.ONBOARDING, admin);
        r.grantRole(Roles.POLICY, admin);
        r.grantRole(Roles.GUARDIAN, admin);
        vm.stopPrank();
    }

    /// @notice The participant registry with `admin` holding DEFAULT_ADMIN_ROLE, ONBOARDING, POLICY, GUARDIAN.
    function registryWithOperator(address admin) internal returns (ParticipantRegistry r) {
        r = registry(admin);
        grantOperatorRoles(r, admin);
    }

    /// @notice The mechanics-only policy the pre-compliance suites run under: terms up to the law's year with
    ///         no justification, any depth, no trade document for onward moves, no SME test (the fixture's
    ///         participants carry no size class). The compliance suites set `Deploy.lawPolicy()` instead.
    function mechanicsPolicy() internal pure returns (IParticipantRegistry.Policy memory) {
        return IParticipantRegistry.Policy({
            maxTenor: 365 days,
            longTenor: 365 days,
            smePaymentTerm: 60 days,
            maxDepth: type(uint16).max,
            minUnit: 1,
            tradeBackground: false,
            isSet: true
        });
    }

    /// @notice The policy a new deployment starts with (the registry's `initialize`).
    function lawPolicy() internal pure returns (IParticipantRegistry.Policy memory) {
        return IParticipantRegistry.Policy({
            maxTenor: 365 days,
            longTenor: 180 days,
            smePaymentTerm: 60 days,
            maxDepth: 32,
            minUnit: 1,
            tradeBackground: true,
            isSet: true
        });
    }

    /// @notice `admin` (POLICY) sets `policy` as the deployment's.
    function setPolicy(ParticipantRegistry r, address admin, IParticipantRegistry.Policy memory policy) internal {
        vm.prank(admin);
        r.setPolicy(policy, "test fixture");
    }

    /// @notice The trade registry requiring `threshold` oracle signatures.
    function trades(IParticipantRegistry r, uint8 threshold) internal returns (TradeRegistry) {
        address impl = address(new TradeRegistry(r));
        return TradeRegistry(proxy(impl, abi.encodeCall(TradeRegistry.initialize, (threshold))));
    }

    /// @notice The receivable token, typed as its whole interface (its own functions and its extension's).
    function token(IParticipantRegistry r, string memory name, string memory symbol, uint8 decimals)
        internal
        returns (IReceivableToken)
    {
        address impl = tokenImplementation(r, decimals);
        return IReceivableToken(proxy(impl, abi.encodeCall(ReceivableToken.initialize, (name, symbol))));
    }

    /// @notice A receivable token implementation with its own extension, both wired to `r`.
    function tokenImplementation(IParticipantRegistry r, uint8 decimals) internal returns (address) {
        return address(new ReceivableToken(r, decimals, address(new ReceivableTokenExtension(r, decimals))));
    }

    /// @notice The issuance desk.
    function issuance(IParticipantRegistry r, ITradeRegistry t, IReceivableToken tok) internal returns (IssuanceDesk) {
        address impl = address(new IssuanceDesk(r, t, tok));
        return IssuanceDesk(proxy(impl, abi.encodeCall(IssuanceDesk.initialize, ())));
    }

    /// @notice The financing desk, reading repayment accounts from `repayments` (deploy it first).
    function financing(IParticipantRegistry r, IReceivableToken tok, RepaymentDesk repayments)
        internal
        returns (FinancingDesk)
    {
        address impl = address(new FinancingDesk(r, tok, IRepaymentAccounts(address(repayments))));
        return FinancingDesk(proxy(impl, abi.encodeCall(FinancingDesk.initialize, ())));
    }

    /// @notice The repayment desk with `grace` seconds of grace after maturity.
    function repayment(IParticipantRegistry r, IReceivableToken tok, uint256 grace) internal returns (RepaymentDesk) {
        address impl = address(new RepaymentDesk(r, tok, grace));
        return RepaymentDesk(proxy(impl, abi.encodeCall(RepaymentDesk.initialize, ())));
    }
}
