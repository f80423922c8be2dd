// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Handler} from "./Handler.sol";
import {Deploy} from "../utils/Deploy.sol";
import {IParticipantRegistry} from "../../../contracts/interfaces/IParticipantRegistry.sol";
import {ITradeRegistry} from "../../../contracts/interfaces/ITradeRegistry.sol";

/// @title RulesHandler
/// @notice The ledger's random sequences under the law's default policy (docs/compliance.md): every
///         obligation checked for tenor and the SME term (core1 is large, the suppliers small or medium),
///         plain moves to non-banks refused for want of a trade background, and a `payWithTrade` action
///         that pays a supplier with a piece citing an invoice — a fresh one, or one paid with before, so
///         documents are spent to their amount and beyond.
contract RulesHandler is Handler {
    bytes32[] internal _moveDocuments;
    mapping(bytes32 fingerprint => uint256) public ghostMoved;
    mapping(bytes32 fingerprint => uint256) public documentAmount;

    constructor() {
        Deploy.setPolicy(registry, admin, Deploy.lawPolicy());
        vm.startPrank(admin);
        registry.setSizeClass(core1, IParticipantRegistry.SizeClass.Large);
        registry.setSizeClass(supplier1, IParticipantRegistry.SizeClass.Medium);
        registry.setSizeClass(supplier2, IParticipantRegistry.SizeClass.Small);
        registry.setSizeClass(supplier3, IParticipantRegistry.SizeClass.Micro);
        vm.stopPrank();
    }

    /// @notice The holder of a live piece pays a supplier `value` of it, citing one invoice the supplier
    ///         sold it: new and covering the value (or more), or one cited before (cover may run out).
    function payWithTrade(uint256 tokenSeed, uint256 toSeed, uint256 unitsSeed, uint256 docSeed) external atGhostTime {
        uint256 id = _pickMovable(tokenSeed);
        if (id == 0) return;
        address owner = token.ownerOf(id);
        address receiver = suppliers[toSeed % 3];
        if (receiver == owner) receiver = suppliers[(toSeed + 1) % 3];
        uint256 units = token.balanceOf(id) / MIN_UNIT;
        if (units == 0) return;
        uint256 value = _bound(unitsSeed, 1, units) * MIN_UNIT;
        bytes32 fp = _document(receiver, owner, value, docSeed);
        uint256 slot = token.slotOf(id);
        bool whole = value == token.balanceOf(id);
        uint256 room = documentAmount[fp] - ghostMoved[fp];

        address[] memory to = new address[](1);
        uint256[] memory values = new uint256[](1);
        bytes32[][] memory docs = new bytes32[][](1);
        (to[0], values[0], docs[0]) = (receiver, value, new bytes32[](1));
        docs[0][0] = fp;
        vm.prank(owner);
        try issuance.moveWithTrade(id, to, values, docs) returns (uint256[] memory pieces) {
            if (value > room) unexpected.push("paid beyond the document's cover");
            ghostMoved[fp] += value;
            if (!whole) _addLive(pieces[0], slot);
            done["payWithTrade"]++;
        } catch (bytes memory err) {
            // The only refusal this action can meet: the cited document's cover ran out. A revert of the
            // handler itself would be ignored by the fuzzer, so surprises are booked for an invariant.
            if (value <= room || bytes4(err) != ITradeRegistry.InsufficientTradeCover.selector) {
                unexpected.push(err);
            }
            done["payWithTradeRefused"]++;
        }
    }

    /// @notice What went against expectation (a refused covered payment, a payment beyond cover).
    bytes[] public unexpected;

    function unexpectedCount() external view returns (uint256) {
        return unexpected.length;
    }

    function moveDocuments() external view returns (bytes32[] memory) {
        return _moveDocuments;
    }

    /// @dev One in three calls reuses a document of the same parties (if any); the others attest a new
    ///      invoice of the value, or of up to twice it.
    function _document(address seller, address buyer, uint256 value, uint256 seed) internal returns (bytes32 fp) {
        if (seed % 3 == 0) {
            for (uint256 i = _moveDocuments.length; i > 0; --i) {
                fp = _moveDocuments[i - 1];
                ITradeRegistry.Document memory d = trades.document(fp);
                if (d.seller == seller && d.buyer == buyer) return fp;
            }
        }
        uint256 amount = value + (seed % 3 == 1 ? 0 : _bound(seed >> 8, 0, value));
        fp = attestInvoice(seller, buyer, amount);
        documentAmount[fp] = amount;
        _moveDocuments.push(fp);
    }
}
