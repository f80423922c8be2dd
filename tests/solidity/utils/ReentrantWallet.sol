// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {IERC3525Receiver} from "@solvprotocol/erc-3525/IERC3525Receiver.sol";
import {FinancingDesk} from "../../../contracts/FinancingDesk.sol";
import {IReceivableToken} from "../../../contracts/interfaces/IReceivableToken.sol";

/// @title ReentrantWallet
/// @notice A contract wallet that holds receivables and, when it receives value or a token, runs one armed
///         action from inside the receiver callback: sell a token to a bank (`FinancingDesk.accept`), move a
///         token whole, merge, or split. It is how the tests attack the token's mutators by re-entrancy.
/// @dev The callback never reverts: the outcome of the armed action is recorded (`lastSucceeded`,
///      `lastError`) so a test can tell "refused by the guard" from "went through".
contract ReentrantWallet is IERC3525Receiver, IERC721Receiver {
    enum Action {
        None,
        Sell,
        TransferWhole,
        Merge,
        Split
    }

    struct Plan {
        Action action;
        uint256 tokenId;
        uint256 otherTokenId; // merge target
        uint256 offerId; // sell
        address to; // transfer or split receiver
        uint256 value; // merge or split value
    }

    IReceivableToken public immutable token;
    FinancingDesk public immutable financing;

    Plan internal _plan;
    bool public armed;
    uint256 public callbacks;
    bool public attempted;
    bool public lastSucceeded;
    bytes public lastError;
    uint256 public lastNewTokenId;
    /// @notice `token.lastTokenId()` as the first callback saw it (0 before any callback).
    uint256 public lastTokenIdAtFirstCallback;

    constructor(IReceivableToken token_, FinancingDesk financing_) {
        token = token_;
        financing = financing_;
    }

    /// @notice Arms one action for the next receiver callback (it runs once, then disarms).
    function arm(Plan calldata plan) external {
        _plan = plan;
        armed = true;
        attempted = false;
        lastSucceeded = false;
        delete lastError;
    }

    /// @notice Clears the armed action and its outcome.
    function disarm() external {
        armed = false;
        attempted = false;
        lastSucceeded = false;
        delete lastError;
    }

    // ------------------------------------------------------------------ acting as the holder

    function splitBatch(uint256 tokenId, address[] calldata to, uint256[] calldata values)
        external
        returns (uint256[] memory)
    {
        return token.splitBatch(tokenId, to, values);
    }

    function split(uint256 tokenId, address to, uint256 value) external returns (uint256) {
        return token.transferFrom(tokenId, to, value);
    }

    function merge(uint256 fromTokenId, uint256 toTokenId, uint256 value) external {
        token.transferFrom(fromTokenId, toTokenId, value);
    }

    function transferWhole(address to, uint256 tokenId) external {
        token.transferFrom(address(this), to, tokenId);
    }

    function accept(uint256 offerId) external returns (uint256) {
        return financing.accept(offerId);
    }

    /// @notice Any other call as this wallet (a bank wallet making offers and approving cash, for example).
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return ret;
    }

    // ------------------------------------------------------------------ callbacks

    function supportsInterface(bytes4 id) external pure returns (bool) {
        return id == type(IERC3525Receiver).interfaceId || id == type(IERC721Receiver).interfaceId
            || id == type(IERC165).interfaceId;
    }

    function onERC3525Received(address, uint256, uint256, uint256, bytes calldata) external returns (bytes4) {
        _onReceived();
        return IERC3525Receiver.onERC3525Received.selector;
    }

    function onERC721Received(address, address, uint256, bytes calldata) external returns (bytes4) {
        _onReceived();
        return IERC721Receiver.onERC721Received.selector;
    }

    function _onReceived() private {
        if (++callbacks == 1) lastTokenIdAtFirstCallback = token.lastTokenId();
        if (!armed) return;
        armed = false;
        attempted = true;
        Plan memory p = _plan;
        bytes memory call;
        if (p.action == Action.Sell) {
            call = abi.encodeCall(FinancingDesk.accept, (p.offerId));
        } else if (p.action == Action.TransferWhole) {
            call = abi.encodeWithSignature("transferFrom(address,address,uint256)", address(this), p.to, p.tokenId);
        } else if (p.action == Action.Merge) {
            call = abi.encodeWithSignature("transferFrom(uint256,uint256,uint256)", p.tokenId, p.otherTokenId, p.value);
        } else if (p.action == Action.Split) {
            call = abi.encodeWithSignature("transferFrom(uint256,address,uint256)", p.tokenId, p.to, p.value);
        } else {
            return;
        }
        address target = p.action == Action.Sell ? address(financing) : address(token);
        (bool ok, bytes memory ret) = target.call(call);
        lastSucceeded = ok;
        if (!ok) {
            lastError = ret;
        } else if (p.action == Action.Sell || p.action == Action.Split) {
            lastNewTokenId = abi.decode(ret, (uint256));
        }
    }
}
