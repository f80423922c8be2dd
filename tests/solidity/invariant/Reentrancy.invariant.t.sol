// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {console2} from "forge-std/console2.sol";
import {ReentrancyHandler} from "./ReentrancyHandler.sol";
import {SettlementToken} from "../../../contracts/SettlementToken.sol";
import {IReceivableToken, IReceivableTokenBase} from "../../../contracts/interfaces/IReceivableToken.sol";

/// @notice Contract wallets hold and receive receivables and try to sell, transfer, merge and split from
///         inside their receiver callbacks; after every call, every holder has exactly what the outer calls
///         sent it and took from it, in value per obligation and in cash, and value is conserved.
/// @dev Each call drives receiver callbacks and each check walks every token, so a campaign costs about
///      runs × depth²: the ci profile runs these two at 128 × 50 (the other invariants: 256 × 100).
contract ReentrancyInvariantTest is Test {
    ReentrancyHandler internal handler;
    IReceivableToken internal token;
    SettlementToken internal cash;

    function setUp() public {
        handler = new ReentrancyHandler();
        token = handler.token();
        cash = handler.cash();

        bytes4[] memory selectors = new bytes4[](9);
        selectors[0] = ReentrancyHandler.issueObligation.selector;
        selectors[1] = ReentrancyHandler.arm.selector;
        selectors[2] = ReentrancyHandler.splitPiece.selector;
        selectors[3] = ReentrancyHandler.batchSplit.selector;
        selectors[4] = ReentrancyHandler.batchSplitSellingSource.selector;
        selectors[5] = ReentrancyHandler.mergePieces.selector;
        selectors[6] = ReentrancyHandler.transferWhole.selector;
        selectors[7] = ReentrancyHandler.financePiece.selector;
        selectors[8] = ReentrancyHandler.forceSplit.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// forge-config: ci.invariant.runs = 128
    /// forge-config: ci.invariant.depth = 50
    /// @notice No action attempted from inside a receiver callback ever takes effect: each holder's value in
    ///         each obligation, and its cash, is exactly what the outer calls sent it minus what they took.
    /// @dev One invariant rather than three: each invariant is a fuzzing campaign of its own, and these
    ///      checks share the same sequences.
    function invariant_holdersKeepExactlyTheirEntitlement() public view {
        assertEq(handler.reentrySucceeded(), 0, "a re-entrant action went through");
        address[] memory holders = handler.holders();
        for (uint256 h = 0; h < holders.length; ++h) {
            assertEq(cash.balanceOf(holders[h]), handler.ghostCash(holders[h]), "holder's cash != its entitlement");
        }
        assertEq(cash.balanceOf(address(handler.financing())), 0, "financing desk holds cash");
        uint256[] memory slots = handler.slots();
        // One pass over the tokens: held[h][s] is holder h's value in the s-th slot (slot ids start at 1
        // and the handler creates them in order, so slot k sits at index k - 1).
        uint256[][] memory held = new uint256[][](holders.length);
        for (uint256 h = 0; h < holders.length; ++h) {
            held[h] = new uint256[](slots.length);
        }
        uint256 last = token.lastTokenId();
        for (uint256 id = 1; id <= last; ++id) {
            if (!token.exists(id)) continue;
            address owner = token.ownerOf(id);
            uint256 s = token.slotOf(id) - 1;
            for (uint256 h = 0; h < holders.length; ++h) {
                if (holders[h] == owner) {
                    held[h][s] += token.balanceOf(id);
                    break;
                }
            }
        }
        for (uint256 h = 0; h < holders.length; ++h) {
            for (uint256 s = 0; s < slots.length; ++s) {
                assertEq(held[h][s], handler.ghostValue(holders[h], slots[s]), "holder's value != its entitlement");
            }
        }
    }

    /// forge-config: ci.invariant.runs = 128
    /// forge-config: ci.invariant.depth = 50
    /// @notice Per slot, Σ live values == supply == face; every token was made by an outer call.
    function invariant_valueConservedPerSlotAndToken() public view {
        uint256[] memory slots = handler.slots();
        uint256[] memory sums = new uint256[](slots.length);
        uint256 last = token.lastTokenId();
        for (uint256 id = 1; id <= last; ++id) {
            if (token.exists(id)) sums[token.slotOf(id) - 1] += token.balanceOf(id);
        }
        for (uint256 s = 0; s < slots.length; ++s) {
            assertEq(slots[s], s + 1, "slots are not numbered in order");
            IReceivableTokenBase.SlotTerms memory t = token.slotTerms(slots[s]);
            assertEq(t.supply, sums[s], "supply != sum of live values");
            assertEq(sums[s], handler.slotFace(slots[s]), "value created or destroyed");
        }
        assertEq(last, handler.ghostTokensCreated(), "a token appeared from a callback");
    }

    /// @notice What the run did, and how many re-entries the guard refused (shown with -vv).
    function afterInvariant() public view {
        string[10] memory names = [
            "issue",
            "arm",
            "split",
            "batchSplit",
            "batchSplitSellingSource",
            "merge",
            "transferWhole",
            "safeTransferWhole",
            "finance",
            "forceSplit"
        ];
        string memory line = "";
        for (uint256 i = 0; i < names.length; ++i) {
            line = string.concat(line, names[i], "=", vm.toString(handler.done(bytes32(bytes(names[i])))), " ");
        }
        console2.log(line);
        console2.log(
            "re-entries attempted / refused by guard / succeeded:",
            handler.reentryAttempts(),
            handler.reentryRefusedByGuard(),
            handler.reentrySucceeded()
        );
    }
}
