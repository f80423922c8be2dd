// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {console2} from "forge-std/console2.sol";
import {World} from "./utils/World.sol";
import {IssuanceDesk} from "../../contracts/IssuanceDesk.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {ITradeRegistry} from "../../contracts/interfaces/ITradeRegistry.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";

/// @notice One test per hot operation; `forge test --match-path tests/solidity/Gas.t.sol` writes the figures
///         to snapshots/GasTest.json (`vm.startSnapshotGas`) and prints them.
/// @dev Every precondition is built in `setUp`, which forge commits before each test, so storage the
///      operation writes has its real original value (a same-transaction setup would make rewrites look
///      cheap), and contracts are cooled before measuring. A figure is thus the execution gas of the
///      operation as a transaction of its own, without the 21,000 base cost and calldata.
contract GasTest is World {
    uint256 internal slot;
    uint256 internal root;
    uint256 internal ownPiece; // supplier1's second token, to merge back into root
    address[] internal batchRecipients;
    IssuanceDesk.Terms internal toPropose;
    IssuanceDesk.Terms internal toConfirm;
    uint256 internal pendingId;
    uint256 internal offerId;
    uint256 internal repaidSlotPiece; // supplier2's piece of a repaid, matured slot
    uint256 internal repaidMaturity;
    uint256 internal billRoot; // supplier1's root of a bill-mode obligation
    uint256 internal billPending; // a piece of it pending supplier2's acceptance

    function setUp() public {
        _deployWorld();
        uint256 maturity = block.timestamp + 180 days;

        // A short obligation, repaid in full, whose root was already redeemed once.
        repaidMaturity = block.timestamp + 1 days;
        (uint256 repaidSlot, uint256 repaidRoot) = issue(supplier1, core2, 2_000_000, repaidMaturity, MIN_UNIT);
        repaidSlotPiece = split(supplier1, repaidRoot, supplier2, 1_000_000);
        repayInFull(repaidSlot);
        vm.warp(repaidMaturity);
        vm.prank(supplier1);
        repayment.redeem(repaidRoot);

        (slot, root) = issue(supplier1, core1, 100_000_000, maturity, MIN_UNIT);
        split(supplier1, root, supplier2, 1_000_000); // supplier2 is now an existing holder
        ownPiece = split(supplier1, root, supplier1, 1_000_000);

        for (uint256 i = 0; i < 10; ++i) {
            batchRecipients.push(address(uint160(0x7000 + i)));
            _register(batchRecipients[i], Roles.SUPPLIER);
        }

        toPropose =
            _terms(supplier1, core1, 50_000_000, maturity, MIN_UNIT, attestInvoice(supplier1, core1, 50_000_000));
        toConfirm =
            _terms(supplier1, core1, 40_000_000, maturity, MIN_UNIT, attestInvoice(supplier1, core1, 40_000_000));
        pendingId = _propose(toConfirm);

        fund(bank1, 1_000_000_000);
        offerId = makeOffer(bank1, root, token.balanceOf(root), 450, 0);

        // Bill mode: an obligor whose obligations settle on acceptance (签收).
        address core3 = makeAddr("core3");
        _register(core3, Roles.CORE_ENTERPRISE);
        vm.prank(core3);
        registry.setObligorSettlementMode(IParticipantRegistry.SettlementMode.Bill);
        (, billRoot) = issue(supplier1, core3, 100_000_000, maturity, MIN_UNIT);
        billPending = split(supplier1, billRoot, supplier2, 1_000_000);
    }

    function _start(string memory name) internal {
        vm.cool(address(registry));
        vm.cool(address(trades));
        vm.cool(address(token));
        vm.cool(address(issuance));
        vm.cool(address(financing));
        vm.cool(address(repayment));
        vm.cool(address(cash));
        vm.startSnapshotGas(name);
    }

    function _stop(string memory name) internal {
        uint256 used = vm.stopSnapshotGas();
        console2.log(name, used);
    }

    function test_gas_splitToNewHolder() public {
        vm.prank(supplier1);
        _start("splitToNewHolder");
        token.transferFrom(root, supplier3, 1_000_000);
        _stop("splitToNewHolder");
    }

    function test_gas_splitToExistingHolder() public {
        vm.prank(supplier1);
        _start("splitToExistingHolder");
        token.transferFrom(root, supplier2, 1_000_000);
        _stop("splitToExistingHolder");
    }

    function test_gas_batchSplit10() public {
        uint256[] memory values = new uint256[](10);
        for (uint256 i = 0; i < 10; ++i) {
            values[i] = 1_000_000;
        }
        address[] memory to = batchRecipients;
        vm.prank(supplier1);
        _start("batchSplit10");
        token.splitBatch(root, to, values);
        _stop("batchSplit10");
    }

    function test_gas_transferWhole() public {
        vm.prank(supplier1);
        _start("transferWhole");
        token.transferFrom(supplier1, supplier3, root);
        _stop("transferWhole");
    }

    function test_gas_merge() public {
        vm.prank(supplier1);
        _start("merge");
        token.transferFrom(ownPiece, root, 1_000_000);
        _stop("merge");
    }

    /// @dev Bill mode: the split pends (the piece stays supplier1's, locked), then supplier2 accepts it.
    function test_gas_pendingSplit() public {
        vm.prank(supplier1);
        _start("pendingSplit");
        token.transferFrom(billRoot, supplier2, 1_000_000);
        _stop("pendingSplit");
    }

    function test_gas_acceptMove() public {
        vm.prank(supplier2);
        _start("acceptMove");
        token.acceptMove(billPending);
        _stop("acceptMove");
    }

    function test_gas_refuseMove() public {
        vm.prank(supplier2);
        _start("refuseMove");
        token.refuseMove(billPending);
        _stop("refuseMove");
    }

    function test_gas_propose() public {
        IssuanceDesk.Terms memory t = toPropose;
        vm.prank(supplier1);
        _start("propose");
        issuance.propose(t);
        _stop("propose");
    }

    function test_gas_confirm() public {
        IssuanceDesk.Terms memory t = toConfirm;
        vm.prank(core1);
        _start("confirm");
        issuance.confirm(pendingId, t);
        _stop("confirm");
    }

    function test_gas_financeWhole() public {
        vm.prank(supplier1);
        _start("financeWhole");
        financing.accept(offerId);
        _stop("financeWhole");
    }

    function test_gas_redeem() public {
        vm.prank(supplier2);
        _start("redeem");
        repayment.redeem(repaidSlotPiece);
        _stop("redeem");
    }

    function test_gas_attest2of3() public {
        ITradeRegistry.Attestation memory a =
            _attestation(ITradeRegistry.DocumentKind.Invoice, supplier1, core1, 50_000_000);
        bytes[] memory sigs = _oracleSignatures(a, 2);
        _start("attest2of3");
        trades.attest(a, sigs);
        _stop("attest2of3");
    }
}
