// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {SettlementToken} from "../../contracts/SettlementToken.sol";

contract SettlementTokenTest is Test {
    address internal issuer = makeAddr("issuer");
    address internal alice = makeAddr("alice");
    SettlementToken internal cash;

    function setUp() public {
        cash = new SettlementToken("Digital CNY deposit", "dCNY", 2, issuer);
    }

    function test_metadata_nameSymbolDecimalsOwner() public view {
        assertEq(cash.name(), "Digital CNY deposit");
        assertEq(cash.symbol(), "dCNY");
        assertEq(cash.decimals(), 2);
        assertEq(cash.owner(), issuer);
        assertEq(cash.totalSupply(), 0);
    }

    function test_decimals_followConstructor() public {
        SettlementToken usd = new SettlementToken("Digital USD deposit", "dUSD", 6, issuer);
        assertEq(usd.decimals(), 6);
    }

    function test_mint_issuerCreditsAndEmits() public {
        vm.expectEmit(address(cash));
        emit IERC20.Transfer(address(0), alice, 12_345);
        vm.expectEmit(address(cash));
        emit SettlementToken.Issued(alice, 12_345);
        vm.prank(issuer);
        cash.mint(alice, 12_345);
        assertEq(cash.balanceOf(alice), 12_345);
        assertEq(cash.totalSupply(), 12_345);
    }

    function test_burn_issuerDebitsAndEmits() public {
        vm.prank(issuer);
        cash.mint(alice, 12_345);
        vm.expectEmit(address(cash));
        emit IERC20.Transfer(alice, address(0), 345);
        vm.expectEmit(address(cash));
        emit SettlementToken.Redeemed(alice, 345);
        vm.prank(issuer);
        cash.burn(alice, 345);
        assertEq(cash.balanceOf(alice), 12_000);
        assertEq(cash.totalSupply(), 12_000);
    }

    function test_RevertWhen_mintByNonIssuer() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        cash.mint(alice, 1);
    }

    function test_RevertWhen_burnByNonIssuer() public {
        vm.prank(issuer);
        cash.mint(alice, 10);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        cash.burn(alice, 1);
    }

    function test_RevertWhen_burnExceedsBalance() public {
        vm.prank(issuer);
        cash.mint(alice, 10);
        vm.prank(issuer);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, 10, 11));
        cash.burn(alice, 11);
    }

    function test_transferOwnership_movesIssuance() public {
        vm.prank(issuer);
        cash.transferOwnership(alice);
        vm.prank(alice);
        cash.mint(alice, 5);
        vm.prank(issuer);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, issuer));
        cash.mint(alice, 5);
    }
}
