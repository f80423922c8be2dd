// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title SettlementToken
/// @notice A plain ERC-20 standing for a tokenized bank deposit, in minor units (2 decimals for CNY).
/// @dev For tests and the demo. A production deployment points the desks at the settlement token its
///      banks actually issue; nothing in Tierchain depends on this contract beyond IERC20.
contract SettlementToken is ERC20, Ownable {
    uint8 private immutable _decimals;

    /// @notice Emitted when the issuer credits `to` with `amount` (a deposit tokenized).
    event Issued(address indexed to, uint256 amount);
    /// @notice Emitted when the issuer debits `from` by `amount` (a deposit redeemed for cash).
    event Redeemed(address indexed from, uint256 amount);

    constructor(string memory name_, string memory symbol_, uint8 decimals_, address issuer)
        ERC20(name_, symbol_)
        Ownable(issuer)
    {
        _decimals = decimals_;
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @notice Credits `to` with `amount` minor units. Issuer only.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
        emit Issued(to, amount);
    }

    /// @notice Debits `from` by `amount` minor units. Issuer only.
    function burn(address from, uint256 amount) external onlyOwner {
        _burn(from, amount);
        emit Redeemed(from, amount);
    }
}
