// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IERC7943MultiToken
/// @notice ERC-7943 (uRWA), the interface for multi-token based implementations: compliance views, value-level
///         freezes and forced transfers. ERC-165 id `0x41c4fbad` (the XOR of the six selectors below).
/// @dev The standard declares it `is IERC165`; that part is left out here because the implementing token
///      answers `supportsInterface` itself (an interface id counts only the interface's own functions, so the id
///      is the same). For a receivable token, `account` is a piece's owner, `tokenId` the piece and `amount` a
///      value in minor units.
interface IERC7943MultiToken {
    /// @notice `amount` of `tokenId` was taken from `from` and transferred to `to`.
    event ForcedTransfer(address indexed from, address indexed to, uint256 indexed tokenId, uint256 amount);

    /// @notice The frozen amount of `tokenId` held by `account` is `amount` after the change.
    event Frozen(address indexed account, uint256 indexed tokenId, uint256 amount);

    /// @notice `account` is not allowed to send.
    error ERC7943CannotSend(address account);

    /// @notice `account` is not allowed to receive.
    error ERC7943CannotReceive(address account);

    /// @notice A transfer of `amount` of `tokenId` from `from` to `to` is not allowed by the token's rules.
    error ERC7943CannotTransfer(address from, address to, uint256 tokenId, uint256 amount);

    /// @notice `account` tried to move `amount` of `tokenId`, within its balance but above its unfrozen part
    ///         (`unfrozen`).
    error ERC7943InsufficientUnfrozenBalance(address account, uint256 tokenId, uint256 amount, uint256 unfrozen);

    /// @notice Takes `amount` of `tokenId` from `from` and transfers it to `to` (restricted).
    /// @return result True when executed; reverts on failure.
    function forcedTransfer(address from, address to, uint256 tokenId, uint256 amount) external returns (bool result);

    /// @notice Sets (overwrites) the frozen `amount` of `tokenId` held by `account` (restricted); it may exceed
    ///         the balance.
    /// @return result True when executed; reverts on failure.
    function setFrozenTokens(address account, uint256 tokenId, uint256 amount) external returns (bool result);

    /// @notice Whether `account` may send, by account-level rules only; never reverts.
    function canSend(address account) external view returns (bool allowed);

    /// @notice Whether `account` may receive, by account-level rules only; never reverts.
    function canReceive(address account) external view returns (bool allowed);

    /// @notice The frozen amount of `tokenId` held by `account` (it may exceed the balance).
    function getFrozenTokens(address account, uint256 tokenId) external view returns (uint256 amount);

    /// @notice Whether a transfer of `amount` of `tokenId` from `from` to `to` is allowed now, frozen amounts
    ///         included; never reverts.
    function canTransfer(address from, address to, uint256 tokenId, uint256 amount) external view returns (bool allowed);
}
