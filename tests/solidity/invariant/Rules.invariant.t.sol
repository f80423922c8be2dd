// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {console2} from "forge-std/console2.sol";
import {Handler} from "./Handler.sol";
import {RulesHandler} from "./RulesHandler.sol";
import {LedgerInvariantTest} from "./Ledger.invariant.t.sol";
import {IParticipantRegistry} from "../../../contracts/interfaces/IParticipantRegistry.sol";
import {ParticipantRegistry} from "../../../contracts/ParticipantRegistry.sol";

/// @notice Every ledger invariant again, with the law's rules on (docs/compliance.md), plus the rules' own:
///         a document backs moves up to its amount and never an obligation too, and every obligation kept
///         the policy's tenor.
contract RulesInvariantTest is LedgerInvariantTest {
    RulesHandler internal rules;
    ParticipantRegistry internal registry;

    function setUp() public override {
        super.setUp();
        rules = RulesHandler(address(handler));
        registry = handler.registry();
    }

    function _newHandler() internal override returns (Handler) {
        return new RulesHandler();
    }

    /// @dev `payWithTrade` four times over: under the rules it is how suppliers pay each other, so the
    ///      sequences should be rich in it (a plain move to a supplier is refused).
    function _withExtra(bytes4[] memory selectors) internal pure override returns (bytes4[] memory all) {
        all = new bytes4[](selectors.length + 4);
        for (uint256 i = 0; i < selectors.length; ++i) {
            all[i] = selectors[i];
        }
        for (uint256 i = 0; i < 4; ++i) {
            all[selectors.length + i] = RulesHandler.payWithTrade.selector;
        }
    }

    /// @notice What a document backed on the chain is what the handler paid with it, never above its amount,
    ///         and a document that backed moves backs no obligation; one that backs an obligation, no move.
    function invariant_documentCoverNeverExceeded() public view {
        bytes32[] memory docs = rules.moveDocuments();
        for (uint256 i = 0; i < docs.length; ++i) {
            uint256 moved = trades.movedValue(docs[i]);
            assertEq(moved, rules.ghostMoved(docs[i]), "moved value != ghost");
            assertLe(moved, trades.document(docs[i]).amount, "moved beyond the document's amount");
            assertEq(trades.document(docs[i]).usedBySlot, 0, "a move's document backs an obligation");
        }
        bytes32[] memory issued = handler.consumedDocuments();
        for (uint256 i = 0; i < issued.length; ++i) {
            assertEq(trades.movedValue(issued[i]), 0, "an obligation's document backed a move");
        }
    }

    /// @notice Every trade-backed payment the handler expected to pass passed, and every refusal was for cover.
    function invariant_tradeBackedPaymentsBehave() public view {
        uint256 n = rules.unexpectedCount();
        if (n != 0) console2.logBytes(rules.unexpected(0));
        assertEq(n, 0, "a trade-backed payment behaved unexpectedly");
    }

    /// @notice No obligation matures later than the policy's maximum tenor after it was issued.
    function invariant_everyObligationWithinTheTenor() public view {
        uint256[] memory slots = handler.slots();
        IParticipantRegistry.Policy memory p = registry.defaultPolicy();
        for (uint256 s = 0; s < slots.length; ++s) {
            assertLe(handler.slotMaturity(slots[s]), handler.slotIssuedAt(slots[s]) + p.maxTenor, "tenor");
        }
    }

    function afterInvariant() public view override {
        super.afterInvariant();
        console2.log(
            "payWithTrade=", handler.done("payWithTrade"), " refused for cover=", handler.done("payWithTradeRefused")
        );
    }
}
