// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721Votes} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721Votes.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title OperatorSeats
/// @notice The operators' governance seats: one non-transferable ERC-721 seat per named operator key, each
///         worth one vote in the TierchainGovernor. Seats are given and taken only by the owner (the timelock,
///         so only through a governance proposal).
/// @dev The seat of `operator` is token `uint256(uint160(operator))`. A seat's vote is delegated to its holder
///      when the seat is given, and cannot be delegated elsewhere: each seat votes with its own key, so M
///      approvals always come from M distinct operators. Votes are checkpointed by block number (OZ default).
contract OperatorSeats is ERC721Votes, Ownable {
    /// @notice A seat was given to `operator`.
    /// @param operator The operator key now holding a seat.
    event OperatorSeated(address indexed operator);

    /// @notice The seat of `operator` was taken back.
    /// @param operator The operator key that no longer holds a seat.
    event OperatorUnseated(address indexed operator);

    /// @notice Seats cannot be transferred (nor approved for transfer).
    error SeatsAreNotTransferable();

    /// @notice A seat votes with its holder's key only; its vote cannot be delegated to another account.
    /// @param delegatee The account the vote was to be delegated to.
    error SeatVotesAreNotDelegable(address delegatee);

    /// @notice `operator` already holds a seat.
    /// @param operator The operator key named.
    error AlreadySeated(address operator);

    /// @notice `operator` holds no seat.
    /// @param operator The operator key named.
    error NotSeated(address operator);

    /// @notice The zero address cannot hold a seat.
    error ZeroOperator();

    /// @param initialOwner The account that seats and unseats operators: the timelock.
    /// @param operators The operator keys seated at deployment (none may repeat or be the zero address).
    constructor(address initialOwner, address[] memory operators)
        ERC721("Tierchain Operator Seat", "TSEAT")
        EIP712("Tierchain Operator Seat", "1")
        Ownable(initialOwner)
    {
        for (uint256 i = 0; i < operators.length; ++i) {
            _seat(operators[i]);
        }
    }

    /// @notice Gives `operator` a seat (one vote, usable from the next block). Only the owner (the timelock).
    /// @param operator The operator key to seat.
    function seat(address operator) external onlyOwner {
        _seat(operator);
    }

    /// @notice Takes back the seat of `operator`. Only the owner (the timelock).
    /// @dev Votes already cast stay counted; proposals created later no longer count this seat. Lower the
    ///      governor's approvalsRequired in the same proposal if the seats would fall below it.
    /// @param operator The operator key to unseat.
    function unseat(address operator) external onlyOwner {
        uint256 tokenId = seatId(operator);
        if (_ownerOf(tokenId) == address(0)) revert NotSeated(operator);
        _burn(tokenId);
        emit OperatorUnseated(operator);
    }

    /// @notice The token id of `operator`'s seat (whether or not it is held).
    /// @param operator The operator key.
    /// @return The token id, `uint256(uint160(operator))`.
    function seatId(address operator) public pure returns (uint256) {
        return uint256(uint160(operator));
    }

    /// @notice Whether `operator` holds a seat now.
    /// @param operator The operator key.
    /// @return True if the seat exists.
    function isSeated(address operator) external view returns (bool) {
        return _ownerOf(seatId(operator)) != address(0);
    }

    /// @notice The number of seats held now (the N of M-of-N).
    /// @return The seat count.
    function seatCount() external view returns (uint256) {
        return _getTotalSupply();
    }

    /// @dev Mints the seat and delegates its vote to its holder (once; the delegation survives an unseat).
    function _seat(address operator) private {
        if (operator == address(0)) revert ZeroOperator();
        uint256 tokenId = seatId(operator);
        if (_ownerOf(tokenId) != address(0)) revert AlreadySeated(operator);
        _mint(operator, tokenId);
        if (delegates(operator) != operator) _delegate(operator, operator);
        emit OperatorSeated(operator);
    }

    /// @dev Only mints and burns move a seat; any transfer between two accounts reverts.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        address from = super._update(to, tokenId, auth);
        if (from != address(0) && to != address(0)) revert SeatsAreNotTransferable();
        return from;
    }

    /// @dev Refuses single-token approvals (clearing one, as a burn does, stays allowed).
    function _approve(address to, uint256 tokenId, address auth, bool emitEvent) internal override {
        if (to != address(0)) revert SeatsAreNotTransferable();
        super._approve(to, tokenId, auth, emitEvent);
    }

    /// @dev Refuses operator approvals: there is nothing an operator could do with a seat.
    function _setApprovalForAll(address, address, bool) internal pure override {
        revert SeatsAreNotTransferable();
    }

    /// @dev A seat's vote stays with its holder: delegating to anyone else (or to no one) reverts.
    function _delegate(address account, address delegatee) internal override {
        if (delegatee != account) revert SeatVotesAreNotDelegable(delegatee);
        super._delegate(account, delegatee);
    }
}
