// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {ParticipantRegistry} from "../../../contracts/ParticipantRegistry.sol";
import {IReceivableToken, IReceivableTokenBase} from "../../../contracts/interfaces/IReceivableToken.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";
import {Deploy} from "../utils/Deploy.sol";

/// @notice Drives one bill-mode obligation through random payments (pending splits and whole transfers),
///         acceptances, refusals, withdrawals, expiries, merges, freezes and court orders.
/// @dev Calls whose preconditions do not hold return early; every call made is expected to succeed.
contract BillHandler is Test {
    uint256 public constant FACE = 1_000_000;
    uint256 public constant UNIT = 100;

    ParticipantRegistry public registry;
    IReceivableToken public token;
    address public desk = makeAddr("billDesk");
    address public court = makeAddr("court");
    address public regulator = makeAddr("billRegulator");
    address[3] public holders;
    uint256 public slot;
    uint256 public maturity;
    uint256 public startedAt;

    /// @notice Every token id minted (live or burned), for the invariants to walk.
    uint256 public lastId;
    mapping(bytes32 action => uint256) public done;

    constructor() {
        address admin = makeAddr("billAdmin");
        registry = Deploy.registryWithOperator(admin);
        Deploy.setPolicy(registry, admin, Deploy.mechanicsPolicy());
        token = Deploy.token(registry, "Tierchain Receivable", "TCR", 2);
        address core = makeAddr("billCore");
        holders = [makeAddr("holderA"), makeAddr("holderB"), makeAddr("holderC")];
        vm.startPrank(admin);
        registry.register(core, keccak256("core"), _one(Roles.CORE_ENTERPRISE));
        registry.register(regulator, keccak256("regulator"), _one(Roles.REGULATOR));
        for (uint256 i = 0; i < 3; ++i) {
            registry.register(holders[i], keccak256(abi.encode("holder", i)), _one(Roles.SUPPLIER));
        }
        registry.grantRole(Roles.ENFORCEMENT, court);
        registry.setBillPolicy(true, 3 days, "bill mode");
        vm.etch(desk, hex"00");
        address[] memory desks = new address[](1);
        desks[0] = desk;
        registry.bindDesks(desks);
        vm.stopPrank();
        startedAt = block.timestamp;
        maturity = block.timestamp + 30 days;
        vm.prank(desk);
        (slot, lastId) = token.createSlot(core, address(0xC47), FACE, maturity, UNIT, holders[0]);
    }

    function _one(bytes32 role) private pure returns (bytes32[] memory r) {
        r = new bytes32[](1);
        r[0] = role;
    }

    function _pick(uint256 seed) private view returns (uint256 id, bool ok) {
        id = bound(seed, 1, lastId);
        ok = token.exists(id);
    }

    function _pending(uint256 id) private view returns (IReceivableTokenBase.PendingMove memory) {
        return token.pendingMove(id);
    }

    function _movable(uint256 id) private view returns (bool) {
        return _pending(id).to == address(0) && !token.isFrozen(id) && block.timestamp < maturity;
    }

    // ------------------------------------------------------------------ actions

    function pay(uint256 seed, uint256 toSeed, uint256 units) external {
        (uint256 id, bool ok) = _pick(seed);
        if (!ok || !_movable(id)) return;
        address owner = token.ownerOf(id);
        address to = holders[toSeed % 3];
        uint256 balance = token.balanceOf(id);
        uint256 value = bound(units, 1, FACE / UNIT) * UNIT;
        vm.prank(owner);
        if (value >= balance) {
            if (to == owner) return;
            token.transferFrom(owner, to, id);
        } else {
            lastId = token.transferFrom(id, to, value);
        }
        ++done["pay"];
    }

    function merge(uint256 seed, uint256 intoSeed) external {
        (uint256 id, bool ok) = _pick(seed);
        (uint256 into, bool ok2) = _pick(intoSeed);
        if (!ok || !ok2 || id == into || !_movable(id) || !_movable(into)) return;
        address owner = token.ownerOf(id);
        if (token.ownerOf(into) != owner) return;
        uint256 value = token.balanceOf(id);
        if (value == 0) return; // a piece emptied by a merge stays, worth nothing
        vm.prank(owner);
        token.transferFrom(id, into, value);
        ++done["merge"];
    }

    function accept(uint256 seed) external {
        (uint256 id, bool ok) = _pick(seed);
        IReceivableTokenBase.PendingMove memory p = _pending(id);
        if (!ok || p.to == address(0) || token.isFrozen(id) || block.timestamp >= p.expiry) return;
        vm.prank(p.to);
        token.acceptMove(id);
        ++done["accept"];
    }

    function giveBack(uint256 seed, uint8 how) external {
        (uint256 id, bool ok) = _pick(seed);
        IReceivableTokenBase.PendingMove memory p = _pending(id);
        if (!ok || p.to == address(0)) return;
        how %= 3;
        if (how == 0) {
            vm.prank(p.to);
            token.refuseMove(id);
        } else if (how == 1) {
            vm.prank(p.from);
            token.withdrawMove(id);
        } else {
            if (block.timestamp < p.expiry) return;
            token.expireMove(id);
        }
        ++done["giveBack"];
    }

    function toggleFreeze(uint256 seed) external {
        (uint256 id, bool ok) = _pick(seed);
        if (!ok) return;
        bool frozen = token.isFrozen(id);
        vm.prank(regulator);
        if (frozen) token.unfreeze(id, 1);
        else token.freeze(id, 1);
        ++done["freeze"];
    }

    function courtOrder(uint256 seed, uint256 toSeed) external {
        (uint256 id, bool ok) = _pick(seed);
        if (!ok) return;
        uint256 value = token.balanceOf(id);
        vm.prank(court);
        token.forceTransfer(id, holders[toSeed % 3], value, bytes32("order"));
        ++done["court"];
    }

    function wait(uint256 secondsAhead) external {
        vm.warp(block.timestamp + bound(secondsAhead, 1, 2 days));
        ++done["wait"];
    }
}

/// @notice Bill mode keeps the ledger whole: pending pieces are ordinary pieces, so the live values of the
///         obligation always sum to its supply (= face: nothing is redeemed here), and a pending piece is
///         always its sender's, with a record naming someone else and an expiry no later than maturity.
contract BillModeInvariantTest is Test {
    BillHandler internal handler;

    function setUp() public {
        handler = new BillHandler();
        targetContract(address(handler));
    }

    function invariant_liveValuesSumToSupply() public view {
        IReceivableToken token = handler.token();
        uint256 sum = 0;
        for (uint256 id = 1; id <= handler.lastId(); ++id) {
            if (token.exists(id)) sum += token.balanceOf(id);
        }
        assertEq(sum, token.slotTerms(handler.slot()).supply, "live values != supply");
        assertEq(sum, handler.FACE(), "supply != face");
    }

    function invariant_pendingPiecesAreTheSendersAndLocked() public view {
        IReceivableToken token = handler.token();
        for (uint256 id = 1; id <= handler.lastId(); ++id) {
            IReceivableTokenBase.PendingMove memory p = token.pendingMove(id);
            if (p.to == address(0)) continue;
            assertTrue(token.exists(id), "a record of a burned piece");
            assertEq(p.from, token.ownerOf(id), "a pending piece changed hands");
            assertTrue(p.to != p.from, "pending to its own sender");
            assertLe(p.expiry, handler.maturity(), "expiry after maturity");
        }
    }
}
