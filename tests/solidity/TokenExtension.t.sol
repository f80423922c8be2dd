// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {World} from "./utils/World.sol";
import {Deploy} from "./utils/Deploy.sol";
import {ReceivableToken} from "../../contracts/ReceivableToken.sol";
import {ReceivableTokenExtension} from "../../contracts/token/ReceivableTokenExtension.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {
    IReceivableTokenBase,
    IReceivableTokenCore,
    IReceivableTokenExtension
} from "../../contracts/interfaces/IReceivableToken.sol";

/// @dev An implementation that names the right registry but an extension wired to another one.
contract MiswiredTokenImplementation {
    address public immutable participants;
    address public immutable extension;

    constructor(address registry, address extension_) {
        participants = registry;
        extension = extension_;
    }

    function proxiableUUID() external pure returns (bytes32) {
        return 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;
    }
}

/// @notice The token's extension: reached only through the token's fallback, in the token's storage; wired to the
///         token's registry at construction and at every upgrade; never callable directly.
contract TokenExtensionTest is World {
    uint256 internal slot;
    uint256 internal root;
    ReceivableTokenExtension internal ext;

    function setUp() public {
        _deployWorld();
        (slot, root) = issueDefault();
        ext = ReceivableTokenExtension(token.extension());
    }

    function test_extension_isWiredToTheTokensRegistry() public view {
        assertTrue(address(ext) != address(0));
        assertTrue(address(ext).code.length > 0);
        assertEq(address(ext.participants()), address(registry));
    }

    /// @notice A moved function answers through the token, from the token's storage.
    function test_extension_answersForTheToken() public {
        assertEq(token.lineage(root).length, 1);
        assertFalse(token.isFrozen(root));
        vm.prank(regulator);
        token.freeze(root, 7);
        assertTrue(token.isFrozen(root));
        vm.prank(admin);
        token.setBaseURI("https://x.example/");
        assertEq(token.tokenURI(root), string.concat("https://x.example/token/", vm.toString(root)));
        assertEq(token.contractURI(), "https://x.example/contract");
        assertEq(token.slotURI(slot), string.concat("https://x.example/slot/", vm.toString(slot)));
    }

    /// @notice Every function of the extension but `participants()` refuses a direct call.
    function test_RevertWhen_extensionCalledDirectly() public {
        bytes memory refusal = abi.encodeWithSelector(IReceivableTokenBase.NotDelegated.selector, address(ext));
        vm.expectRevert(refusal);
        ext.lineage(root);
        vm.expectRevert(refusal);
        ext.pendingMove(root);
        vm.expectRevert(refusal);
        ext.billWindowOf(slot);
        vm.expectRevert(refusal);
        ext.contractURI();
        vm.expectRevert(refusal);
        vm.prank(regulator);
        ext.freeze(root, 1);
        vm.expectRevert(refusal);
        vm.prank(court);
        ext.forceTransfer(root, supplier2, 100, "order");
        vm.expectRevert(refusal);
        vm.prank(supplier2);
        ext.acceptMove(root);
    }

    function test_RevertWhen_etherSentToTheToken() public {
        vm.deal(stranger, 1 ether);
        vm.prank(stranger);
        (bool ok,) = address(token).call{value: 1}("");
        assertFalse(ok);
        vm.prank(stranger);
        (ok,) = address(token).call{value: 1}(abi.encodeCall(IReceivableTokenExtension.lineage, (root)));
        assertFalse(ok);
    }

    function test_RevertWhen_unknownSelector() public {
        (bool ok,) = address(token).call(abi.encodeWithSignature("noSuchFunction()"));
        assertFalse(ok);
    }

    function test_RevertWhen_constructedWithAMiswiredExtension() public {
        IParticipantRegistry other = IParticipantRegistry(makeAddr("other registry"));
        address wrong = address(new ReceivableTokenExtension(other, 2));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.ExtensionMiswired.selector, wrong));
        new ReceivableToken(registry, 2, wrong);
        address none = makeAddr("no code");
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.ExtensionMiswired.selector, none));
        new ReceivableToken(registry, 2, none);
    }

    function test_RevertWhen_upgradeToAnImplementationWithAMiswiredExtension() public {
        address wrong = address(new ReceivableTokenExtension(IParticipantRegistry(makeAddr("other registry")), 2));
        address impl = address(new MiswiredTokenImplementation(address(registry), wrong));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.ExtensionMiswired.selector, wrong));
        vm.prank(admin);
        ReceivableToken(address(token)).upgradeToAndCall(impl, "");
    }

    /// @notice A new implementation may bring a new extension: the moved functions then run the new code.
    function test_upgrade_toANewExtension() public {
        address impl = Deploy.tokenImplementation(registry, 2);
        vm.prank(admin);
        ReceivableToken(address(token)).upgradeToAndCall(impl, "");
        assertEq(token.extension(), ReceivableToken(impl).extension());
        assertTrue(token.extension() != address(ext));
        assertEq(token.lineage(root).length, 1);
    }

    /// @notice The full interface is the token's part plus the extension's (the ABI callers use).
    function test_interfaceIsTheUnionOfBothParts() public view {
        assertEq(IReceivableTokenCore.extension.selector, ReceivableToken.extension.selector);
        assertEq(IReceivableTokenExtension.acceptMove.selector, ReceivableTokenExtension.acceptMove.selector);
        assertTrue(token.supportsInterface(0x80ac58cd)); // ERC-721
        assertTrue(token.supportsInterface(0xd5358140)); // ERC-3525
        assertEq(token.valueDecimals(), 2);
    }
}
