// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {console2} from "forge-std/console2.sol";
import {Handler} from "./Handler.sol";
import {FinancingDesk} from "../../../contracts/FinancingDesk.sol";
import {RepaymentDesk} from "../../../contracts/RepaymentDesk.sol";
import {SettlementToken} from "../../../contracts/SettlementToken.sol";
import {TradeRegistry} from "../../../contracts/TradeRegistry.sol";
import {IReceivableToken, IReceivableTokenBase} from "../../../contracts/interfaces/IReceivableToken.sol";

/// @notice The ledger's conservation laws, checked after every call of random sequences driven by `Handler`.
contract LedgerInvariantTest is Test {
    Handler internal handler;
    IReceivableToken internal token;
    RepaymentDesk internal repayment;
    SettlementToken internal cash;
    TradeRegistry internal trades;
    address internal financingDesk;

    function setUp() public virtual {
        handler = _newHandler();
        token = handler.token();
        repayment = handler.repayment();
        cash = handler.cash();
        trades = handler.trades();
        financingDesk = address(handler.financing());

        bytes4[] memory selectors = new bytes4[](18);
        selectors[0] = Handler.issueObligation.selector;
        selectors[1] = Handler.splitPiece.selector;
        selectors[2] = Handler.batchSplit.selector;
        selectors[3] = Handler.mergePieces.selector;
        selectors[4] = Handler.transferWhole.selector;
        selectors[5] = Handler.financePiece.selector;
        selectors[6] = Handler.depositRepayment.selector;
        selectors[7] = Handler.warp.selector;
        selectors[8] = Handler.markOverdue.selector;
        selectors[9] = Handler.declareDefault.selector;
        selectors[10] = Handler.redeemPiece.selector;
        selectors[11] = Handler.freezePiece.selector;
        selectors[12] = Handler.unfreezePiece.selector;
        selectors[13] = Handler.forceTransferPiece.selector;
        selectors[14] = Handler.sweepDust.selector;
        selectors[15] = Handler.releaseExposure.selector;
        selectors[16] = Handler.recourse.selector;
        selectors[17] = Handler.valueFreezePiece.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: _withExtra(selectors)}));
        targetContract(address(handler));
    }

    /// @dev The handler this suite drives (the rules suite drives one under the law's policy).
    function _newHandler() internal virtual returns (Handler) {
        return new Handler();
    }

    /// @dev The selectors a derived suite adds to the common fifteen.
    function _withExtra(bytes4[] memory selectors) internal virtual returns (bytes4[] memory) {
        return selectors;
    }

    /// @notice For every slot: Σ live values + redeemed value == face, and the slot's supply == Σ live values.
    function invariant_valueConservedPerSlot() public view {
        uint256[] memory slots = handler.slots();
        for (uint256 s = 0; s < slots.length; ++s) {
            uint256 slot = slots[s];
            uint256[] memory ids = handler.liveOfSlot(slot);
            uint256 sum;
            for (uint256 i = 0; i < ids.length; ++i) {
                assertEq(token.slotOf(ids[i]), slot, "token in the wrong slot");
                sum += token.balanceOf(ids[i]);
            }
            IReceivableTokenBase.SlotTerms memory t = token.slotTerms(slot);
            assertEq(t.face, handler.slotFace(slot), "face changed");
            assertEq(t.supply, sum, "supply != sum of live values");
            assertEq(sum + repayment.account(slot).redeemedValue, t.face, "value not conserved");
            assertEq(repayment.account(slot).redeemedValue, handler.ghostRedeemedValue(slot));
        }
        // Every token ever created is tracked by the handler: none appears from nowhere.
        assertEq(token.lastTokenId(), handler.ghostTokensCreated(), "untracked token");
        assertEq(token.lastSlot(), slots.length, "untracked slot");
    }

    /// @notice Cash is neither created nor destroyed by the desks, and the repayment desk holds exactly
    ///         what was paid in and not yet paid out.
    function invariant_settlementConserved() public view {
        address[] memory accounts = handler.cashAccounts();
        uint256 sum = cash.balanceOf(financingDesk) + cash.balanceOf(address(repayment));
        for (uint256 i = 0; i < accounts.length; ++i) {
            sum += cash.balanceOf(accounts[i]);
        }
        assertEq(sum, handler.ghostMinted(), "cash leaked");
        assertEq(cash.totalSupply(), handler.ghostMinted(), "cash minted or burned");
        assertEq(cash.balanceOf(financingDesk), 0, "financing desk holds cash");

        uint256[] memory slots = handler.slots();
        uint256 held;
        for (uint256 s = 0; s < slots.length; ++s) {
            RepaymentDesk.Account memory a = repayment.account(slots[s]);
            held += uint256(a.paid) - a.paidOut;
        }
        assertEq(cash.balanceOf(address(repayment)), held, "repayment desk balance != paid - paidOut");
    }

    /// @notice Every consumed document backs exactly the one slot it was consumed for, and each slot one document.
    function invariant_documentBacksOneSlot() public view {
        bytes32[] memory docs = handler.consumedDocuments();
        for (uint256 i = 0; i < docs.length; ++i) {
            uint256 slot = handler.ghostSlotOfDocument(docs[i]);
            assertTrue(slot != 0, "consumed document without slot");
            assertEq(trades.document(docs[i]).usedBySlot, slot, "document backs another slot");
            assertEq(handler.documentsBackingSlot(slot), 1, "slot backed twice");
        }
        assertEq(docs.length, handler.slots().length);
    }

    /// @notice A frozen token's owner and value never change, except by a court's forced transfer (which the
    ///         handler books into its record).
    function invariant_frozenNeverMoves() public view {
        uint256[] memory ids = handler.frozen();
        for (uint256 i = 0; i < ids.length; ++i) {
            Handler.FrozenRecord memory r = handler.frozenRecord(ids[i]);
            assertTrue(token.isFrozen(ids[i]), "frozen token thawed");
            assertEq(token.ownerOf(ids[i]), r.owner, "frozen token changed owner");
            assertEq(token.balanceOf(ids[i]), r.value, "frozen token changed value");
        }
    }

    /// @notice ERC-7943: no holder move takes a piece's value below its frozen value (only a court order, which
    ///         overrides freezes, may).
    function invariant_valueNeverBelowFrozenValue() public view {
        uint256[] memory ids = handler.valueFrozen();
        for (uint256 i = 0; i < ids.length; ++i) {
            uint256 id = ids[i];
            if (!token.exists(id) || handler.courtSplit(id) || token.isFrozen(id)) continue;
            assertGe(token.balanceOf(id), token.getFrozenTokens(token.ownerOf(id), id), "value below frozen value");
        }
    }

    /// @notice Every live token's root is its slot's root token, and its lineage ends there.
    function invariant_rootIsSlotRoot() public view {
        uint256[] memory ids = handler.live();
        for (uint256 i = 0; i < ids.length; ++i) {
            uint256 id = ids[i];
            uint256 root = token.slotTerms(token.slotOf(id)).rootTokenId;
            assertEq(token.rootOf(id), root, "rootOf != slot root");
            uint256[] memory chain = token.lineage(id);
            assertEq(chain[0], id);
            assertEq(chain[chain.length - 1], root, "lineage does not end at the root");
            assertEq(chain.length, token.depthOf(id) + 1);
            if (chain.length > 1) assertEq(chain[1], token.parentOf(id));
        }
    }

    /// @notice Per slot, paid out ≤ paid; in total, holder payouts ≤ deposits; the desk's books match the ghosts.
    function invariant_payoutsNeverExceedDeposits() public view {
        uint256[] memory slots = handler.slots();
        uint256 paidOut;
        for (uint256 s = 0; s < slots.length; ++s) {
            RepaymentDesk.Account memory a = repayment.account(slots[s]);
            assertLe(a.paidOut, a.paid, "paid out more than paid in");
            assertLe(a.paid, a.face == 0 ? 0 : a.face);
            assertEq(a.paid, handler.ghostPaid(slots[s]), "paid != ghost");
            assertEq(a.paidOut, handler.ghostPaidOut(slots[s]), "paidOut != ghost");
            paidOut += a.paidOut;
        }
        assertLe(handler.ghostPayouts(), handler.ghostDeposits());
        assertLe(paidOut, handler.ghostDeposits());
    }

    /// @notice Each bank's use of its limits on an obligor and on a seller is exactly the value of its
    ///         financings on them not yet released; nothing is released twice or while the bank holds.
    function invariant_limitUseMatchesUnreleasedFinancings() public view {
        uint256[] memory offers = handler.financedOffers();
        address[2] memory banks = [handler.bank1(), handler.bank2()];
        address[2] memory cores = [handler.core1(), handler.core2()];
        for (uint256 b = 0; b < 2; ++b) {
            for (uint256 c = 0; c < 2; ++c) {
                uint256 expected;
                for (uint256 i = 0; i < offers.length; ++i) {
                    FinancingDesk.Exposure memory e = handler.financing().exposureOf(offers[i]);
                    bool mine = handler.financing().offer(offers[i]).bank == banks[b];
                    if (!e.released && e.obligorCounted && e.obligor == cores[c] && mine) expected += e.value;
                }
                assertEq(handler.financing().creditLimit(banks[b], cores[c], true).used, expected, "limit use");
            }
        }
    }

    /// @notice Every recourse claim (追索) stays within its shortfall, and what sellers paid on claims is
    ///         exactly what the claims record as settled (the bank received it: cash is conserved above).
    function invariant_recourseSettledWithinShortfall() public view {
        uint256[] memory offers = handler.financedOffers();
        uint256 settled;
        for (uint256 i = 0; i < offers.length; ++i) {
            FinancingDesk.RecourseClaim memory c = handler.financing().recourseClaim(offers[i]);
            assertLe(c.settled, c.shortfall, "settled above the shortfall");
            assertLe(c.shortfall, handler.financing().offer(offers[i]).value, "shortfall above the value");
            if (c.state == FinancingDesk.RecourseState.Settled) assertEq(c.settled, c.shortfall, "settled short");
            settled += c.settled;
        }
        assertEq(settled, handler.ghostRecoursePaid(), "recourse settled != paid");
    }

    /// @notice The handler's recourse action is reachable and runs a claim through: a financing with recourse,
    ///         time past maturity and grace, then default and opening, a part settled, the rest waived.
    function test_recourseActionRunsAClaimThrough() public {
        handler.issueObligation(0, 0, 10_000, 30);
        handler.financePiece(0, 0, 0, 500); // the whole root to bank 1, with recourse
        for (uint256 i = 0; i < 5; ++i) {
            handler.warp(type(uint256).max); // 20 days each
        }
        handler.recourse(0, 1);
        assertEq(handler.done("recourseOpen"), 1, "opened");
        handler.recourse(0, 3);
        assertEq(handler.done("recourseSettle"), 1, "settled in part");
        handler.recourse(0, 4);
        assertEq(handler.done("recourseWaive"), 1, "waived");
        invariant_recourseSettledWithinShortfall();
        invariant_settlementConserved();
    }

    /// @notice A one-line summary per run of what the handler actually did (shown with -vv).
    function afterInvariant() public view virtual {
        string[19] memory names = [
            "issue",
            "split",
            "batchSplit",
            "merge",
            "transferWhole",
            "finance",
            "deposit",
            "warp",
            "markOverdue",
            "declareDefault",
            "redeem",
            "sweepDust",
            "freeze",
            "unfreeze",
            "forceTransfer",
            "releaseExposure",
            "recourseOpen",
            "recourseSettle",
            "recourseWaive"
        ];
        string memory line = "";
        for (uint256 i = 0; i < names.length; ++i) {
            line = string.concat(line, names[i], "=", vm.toString(handler.done(bytes32(bytes(names[i])))), " ");
        }
        console2.log(line);
    }
}
