// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {World} from "../utils/World.sol";
import {ReentrantWallet} from "../utils/ReentrantWallet.sol";
import {FinancingDesk} from "../../../contracts/FinancingDesk.sol";
import {Roles} from "../../../contracts/libraries/Roles.sol";

/// @title ReentrancyHandler
/// @notice Drives token moves in which contract wallets hold and receive receivables and, from inside
///         their receiver callbacks, try to sell (`FinancingDesk.accept`), transfer, merge or split. It
///         keeps each holder's entitlement — value per slot and cash — as the outer calls alone would
///         change it, so any effect of a re-entrant action shows up as a difference.
/// @dev Every action's preconditions are chosen so the outer call succeeds; the armed inner action must
///      be refused. Whatever a wallet's callback tried is read back after each call and counted.
contract ReentrancyHandler is World {
    uint256 internal constant MAX_SLOTS = 6;
    uint256 internal constant WALLETS = 3;

    ReentrantWallet[WALLETS] internal wallets;
    ReentrantWallet public bankWallet;
    address[] internal _holders; // every account that may hold value or cash
    address[3] internal _banks;

    // ------------------------------------------------------------------ ghost books
    uint256 public ghostTime;
    uint256 public ghostTokensCreated;
    uint256[] internal _slots;
    mapping(uint256 slot => uint256) public slotFace;
    mapping(address holder => mapping(uint256 slot => uint256)) public ghostValue;
    mapping(address holder => uint256) public ghostCash;

    /// @notice Re-entrant actions a callback attempted, how many the guard refused, how many went through.
    uint256 public reentryAttempts;
    uint256 public reentryRefusedByGuard;
    uint256 public reentrySucceeded;

    mapping(bytes32 action => uint256) public done;

    constructor() {
        _deployWorld();
        ghostTime = block.timestamp;
        for (uint256 i = 0; i < WALLETS; ++i) {
            wallets[i] = new ReentrantWallet(token, financing);
            _register(address(wallets[i]), Roles.SUPPLIER);
            _holders.push(address(wallets[i]));
        }
        bankWallet = new ReentrantWallet(token, financing);
        _register(address(bankWallet), Roles.BANK);
        _banks = [bank1, bank2, address(bankWallet)];
        _holders.push(supplier1);
        _holders.push(supplier2);
        for (uint256 i = 0; i < 3; ++i) {
            _holders.push(_banks[i]);
            fund(_banks[i], 1e15);
            ghostCash[_banks[i]] = 1e15;
        }
    }

    modifier step() {
        ghostTime += 1 hours;
        vm.warp(ghostTime);
        _;
        _collect();
    }

    // ================================================================== actions

    function issueObligation(uint256 holderSeed, uint256 units) external step {
        _issue(holderSeed, units);
    }

    /// @notice Arms a wallet with one re-entrant action for its next callback.
    function arm(uint256 walletSeed, uint256 actionSeed, uint256 tokenSeed, uint256 toSeed) external step {
        ReentrantWallet w = _pickWallet(walletSeed);
        uint256 id = _pickOwnedBy(address(w), tokenSeed);
        if (id == 0) return;
        uint256 action = actionSeed % 4;
        ReentrantWallet.Plan memory p;
        p.tokenId = id;
        p.to = _holder(toSeed);
        if (p.to == address(w)) p.to = supplier1;
        if (action == 0) {
            p.action = ReentrantWallet.Action.Sell;
            p.offerId = _offer(_banks[toSeed % 2], id, token.balanceOf(id));
            if (p.offerId == 0) return;
        } else if (action == 1) {
            p.action = ReentrantWallet.Action.TransferWhole;
        } else if (action == 2) {
            p.action = ReentrantWallet.Action.Merge;
            p.otherTokenId = _pickSibling(id, toSeed);
            p.value = MIN_UNIT;
            if (p.otherTokenId == 0) return;
        } else {
            p.action = ReentrantWallet.Action.Split;
            p.value = MIN_UNIT;
        }
        w.arm(p);
        done["arm"]++;
    }

    function splitPiece(uint256 tokenSeed, uint256 toSeed, uint256 unitsSeed) external step {
        uint256 id = _pickMovable(tokenSeed);
        if (id == 0) return;
        uint256 value = _units(id, unitsSeed);
        if (value == 0) return;
        address owner = token.ownerOf(id);
        address to = _holder(toSeed);
        vm.prank(owner);
        token.transferFrom(id, to, value);
        _moved(owner, to, id, value);
        ghostTokensCreated += 1;
        done["split"]++;
    }

    function batchSplit(uint256 tokenSeed, uint256 toSeed, uint256 unitsSeed) external step {
        uint256 id = _pickMovable(tokenSeed);
        if (id == 0) return;
        uint256 each = token.balanceOf(id) / MIN_UNIT / 3;
        if (each == 0) return;
        address owner = token.ownerOf(id);
        address[] memory to = new address[](3);
        uint256[] memory values = new uint256[](3);
        for (uint256 i = 0; i < 3; ++i) {
            to[i] = _holder(toSeed >> (8 * i));
            values[i] = _bound(uint256(keccak256(abi.encode(unitsSeed, i))), 1, each) * MIN_UNIT;
        }
        vm.prank(owner);
        token.splitBatch(id, to, values);
        for (uint256 i = 0; i < 3; ++i) {
            _moved(owner, to[i], id, values[i]);
        }
        ghostTokensCreated += 3;
        done["batchSplit"]++;
    }

    /// @notice The reviewed attack as an action: a wallet batch-splits its token, and the first piece's
    ///         callback tries to sell the rest of that token whole to a bank.
    function batchSplitSellingSource(uint256 walletSeed, uint256 tokenSeed, uint256 bankSeed) external step {
        ReentrantWallet w = _pickWallet(walletSeed);
        uint256 id = _pickOwnedBy(address(w), tokenSeed);
        if (id == 0) return;
        uint256 balance = token.balanceOf(id);
        if (balance < 2 * MIN_UNIT) return;
        uint256 rest = balance - MIN_UNIT;
        uint256 offerId = _offer(_banks[bankSeed % 3], id, rest);
        if (offerId == 0) return;
        w.arm(ReentrantWallet.Plan(ReentrantWallet.Action.Sell, id, 0, offerId, address(0), 0));
        address[] memory to = new address[](2);
        uint256[] memory values = new uint256[](2);
        (to[0], to[1]) = (address(w), address(w));
        (values[0], values[1]) = (MIN_UNIT, rest);
        vm.prank(address(w));
        token.splitBatch(id, to, values);
        _moved(address(w), address(w), id, balance);
        ghostTokensCreated += 2;
        done["batchSplitSellingSource"]++;
    }

    function mergePieces(uint256 fromSeed, uint256 toSeed, uint256 unitsSeed) external step {
        uint256 from = _pickMovable(fromSeed);
        if (from == 0) return;
        uint256 to = _pickSibling(from, toSeed);
        if (to == 0) return;
        uint256 value = _units(from, unitsSeed);
        if (value == 0) return;
        address owner = token.ownerOf(from);
        address receiver = token.ownerOf(to);
        vm.prank(owner);
        token.transferFrom(from, to, value);
        _moved(owner, receiver, from, value);
        done["merge"]++;
    }

    function transferWhole(uint256 tokenSeed, uint256 toSeed, bool safe) external step {
        uint256 id = _pickMovable(tokenSeed);
        if (id == 0) return;
        address owner = token.ownerOf(id);
        address to = _holder(toSeed);
        vm.prank(owner);
        if (safe) token.safeTransferFrom(owner, to, id);
        else token.transferFrom(owner, to, id);
        _moved(owner, to, id, token.balanceOf(id));
        done[safe ? bytes32("safeTransferWhole") : bytes32("transferWhole")]++;
    }

    function financePiece(uint256 tokenSeed, uint256 bankSeed, uint256 unitsSeed) external step {
        uint256 id = _pickMovable(tokenSeed);
        if (id == 0) return;
        address bank = _banks[bankSeed % 3];
        address holder = token.ownerOf(id);
        if (holder == bank) return;
        uint256 value = unitsSeed % 2 == 0 ? token.balanceOf(id) : _units(id, unitsSeed);
        if (value == 0) return;
        uint256 offerId = _offer(bank, id, value);
        if (offerId == 0) return;
        FinancingDesk.Quote memory q = financing.quote(value, 500, 0, token.slotTerms(token.slotOf(id)).maturity);
        bool newPiece = value != token.balanceOf(id);
        vm.prank(holder);
        financing.accept(offerId);
        _moved(holder, bank, id, value);
        ghostCash[bank] -= q.price;
        ghostCash[holder] += q.price;
        if (newPiece) ghostTokensCreated += 1;
        done["finance"]++;
    }

    function forceSplit(uint256 tokenSeed, uint256 toSeed, uint256 unitsSeed) external step {
        uint256 id = _pickMovable(tokenSeed);
        if (id == 0) return;
        uint256 value = _units(id, unitsSeed);
        if (value == 0 || value == token.balanceOf(id)) return;
        address owner = token.ownerOf(id);
        address to = _holder(toSeed);
        vm.prank(court);
        token.forceTransfer(id, to, value, keccak256(abi.encode("order", id)));
        _moved(owner, to, id, value);
        ghostTokensCreated += 1;
        done["forceSplit"]++;
    }

    // ================================================================== views for the invariants

    function slots() external view returns (uint256[] memory) {
        return _slots;
    }

    function holders() external view returns (address[] memory) {
        return _holders;
    }

    // ================================================================== internals

    /// @dev Reads back what each wallet's callback tried during the call. A wallet stays armed until one
    ///      of its callbacks runs the plan.
    function _collect() internal {
        bytes32 guardError =
            keccak256(abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector));
        for (uint256 i = 0; i <= WALLETS; ++i) {
            ReentrantWallet w = i == WALLETS ? bankWallet : wallets[i];
            if (!w.attempted()) continue;
            reentryAttempts += 1;
            if (w.lastSucceeded()) reentrySucceeded += 1;
            else if (keccak256(w.lastError()) == guardError) reentryRefusedByGuard += 1;
            w.disarm();
        }
    }

    function _issue(uint256 holderSeed, uint256 units) internal returns (uint256) {
        if (_slots.length >= MAX_SLOTS) return 0;
        // Obligations are issued to a wallet half of the time, otherwise to supplier1 or supplier2.
        address supplier = _holders[holderSeed % (WALLETS + 2)];
        uint256 face = _bound(units, 10, 100_000) * MIN_UNIT;
        (uint256 slot, uint256 root) = issue(supplier, core1, face, block.timestamp + 60 days, MIN_UNIT);
        _slots.push(slot);
        slotFace[slot] = face;
        ghostValue[supplier][slot] += face;
        ghostTokensCreated += 1;
        done["issue"]++;
        return root;
    }

    function _moved(address from, address to, uint256 tokenId, uint256 value) internal {
        uint256 slot = token.slotOf(tokenId);
        ghostValue[from][slot] -= value;
        ghostValue[to][slot] += value;
    }

    function _offer(address bank, uint256 id, uint256 value) internal returns (uint256) {
        if (value == 0 || bank == token.ownerOf(id)) return 0;
        vm.prank(bank);
        return financing.makeOffer(id, value, 500, 0, false, block.timestamp + 1 days);
    }

    function _holder(uint256 seed) internal view returns (address) {
        return _holders[seed % _holders.length];
    }

    function _pickWallet(uint256 seed) internal view returns (ReentrantWallet) {
        uint256 i = seed % (WALLETS + 1);
        return i == WALLETS ? bankWallet : wallets[i];
    }

    /// @dev A whole number of minimum units of `id`, between one and all of them (0 when it holds none).
    function _units(uint256 id, uint256 seed) internal view returns (uint256) {
        uint256 units = token.balanceOf(id) / MIN_UNIT;
        return units == 0 ? 0 : _bound(seed, 1, units) * MIN_UNIT;
    }

    /// @dev A live token with value, scanning from a random start; issues a new obligation when none.
    function _pickMovable(uint256 seed) internal returns (uint256) {
        uint256 n = token.lastTokenId();
        for (uint256 k = 0; k < n && k < 32; ++k) {
            uint256 id = 1 + (seed + k) % n;
            if (token.exists(id) && token.balanceOf(id) != 0) return id;
        }
        return _issue(seed, seed >> 8);
    }

    function _pickOwnedBy(address owner, uint256 seed) internal view returns (uint256) {
        uint256 n = token.lastTokenId();
        for (uint256 k = 0; k < n && k < 64; ++k) {
            uint256 id = 1 + (seed + k) % n;
            if (token.exists(id) && token.ownerOf(id) == owner && token.balanceOf(id) != 0) return id;
        }
        return 0;
    }

    function _pickSibling(uint256 id, uint256 seed) internal view returns (uint256) {
        uint256 n = token.lastTokenId();
        uint256 slot = token.slotOf(id);
        for (uint256 k = 0; k < n && k < 64; ++k) {
            uint256 other = 1 + (seed + k) % n;
            if (other != id && token.exists(other) && token.slotOf(other) == slot) return other;
        }
        return 0;
    }
}
