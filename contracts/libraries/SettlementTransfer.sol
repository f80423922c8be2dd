// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title SettlementTransfer
/// @notice Moves settlement money so that the receiver gets exactly the amount, or nothing moves.
/// @dev Settlement currencies are meant to be plain tokenized deposits. A currency that keeps a fee, rebases
///      or otherwise delivers less than it was asked to would leave a desk's books (paid, price) above the
///      money actually held or received; measuring the receiver's balance around each pull refuses it.
library SettlementTransfer {
    using SafeERC20 for IERC20;

    /// @notice `currency` delivered `received` to the receiver where `expected` was sent.
    error TransferShortfall(address currency, uint256 expected, uint256 received);

    /// @notice Pulls `amount` of `currency` from `from` to `to` (by allowance) and checks `to` got all of it.
    function pullExact(IERC20 currency, address from, address to, uint256 amount) internal {
        uint256 before = currency.balanceOf(to);
        // `from` is chosen by the calling desk, never by its caller: the bank that made the accepted offer, or
        // the depositor itself (see docs/slither-triage.md).
        // slither-disable-next-line arbitrary-send-erc20
        currency.safeTransferFrom(from, to, amount);
        uint256 afterwards = currency.balanceOf(to);
        uint256 received = afterwards > before ? afterwards - before : 0;
        if (received != amount) revert TransferShortfall(address(currency), amount, received);
    }
}
