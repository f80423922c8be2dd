// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {World} from "../utils/World.sol";
import {IssuanceDesk} from "../../../contracts/IssuanceDesk.sol";
import {RepaymentDesk} from "../../../contracts/RepaymentDesk.sol";
import {FinancingDesk} from "../../../contracts/FinancingDesk.sol";

/// @title Handler
/// @notice Drives random but meaningful sequences through the whole system — issue, split, batch split,
///         merge, whole transfer, finance, deposit, time, overdue, default, redeem, freeze, unfreeze,
///         value freeze (ERC-7943), forced transfer, dust sweep — and keeps the ghost books the invariants compare the chain with.
/// @dev Inputs are bounded to calls that should succeed; a call whose preconditions do not hold returns
///      early instead of reverting, so the fuzzer's depth is spent on state changes. A call that reverts
///      anyway is a finding (the invariant suite can be run with fail_on_revert = true to surface it).
///      The handler is a World: it deploys the system in its constructor and acts through `vm.prank`.
contract Handler is World {
    uint256 internal constant MAX_SLOTS = 10;
    uint256 internal constant ACTORS = 7;

    address[ACTORS] internal actors; // every holder and every cash account outside the desks
    address[3] internal suppliers;
    address[2] internal banks;
    address[2] internal cores;

    // ------------------------------------------------------------------ ghost books
    uint256 public ghostTime;
    uint256 public ghostMinted;
    uint256 public ghostDeposits;
    uint256 public ghostPayouts; // redemption payouts to holders (dust sweeps excluded)
    uint256 public ghostTokensCreated;

    uint256[] internal _slots;
    mapping(uint256 slot => uint256) public slotFace;
    mapping(uint256 slot => uint256) public slotMaturity;
    mapping(uint256 slot => address) public slotObligor;
    mapping(uint256 slot => uint256) public ghostPaid;
    mapping(uint256 slot => uint256) public ghostPaidOut; // payouts and swept dust
    mapping(uint256 slot => uint256) public ghostRedeemedValue;
    mapping(uint256 slot => uint256) public slotIssuedAt;

    uint256[] internal _live;
    mapping(uint256 tokenId => uint256) internal _liveIndex; // index + 1
    mapping(uint256 slot => uint256[]) internal _liveBySlot;
    mapping(uint256 tokenId => uint256) internal _liveBySlotIndex; // index + 1

    uint256[] internal _financedOffers;
    uint256 public ghostRecoursePaid; // what sellers paid banks on recourse claims
    bytes32[] internal _consumed;
    mapping(bytes32 fingerprint => uint256 slot) public ghostSlotOfDocument;
    mapping(uint256 slot => uint256) public documentsBackingSlot;

    struct FrozenRecord {
        address owner;
        uint256 value;
    }

    uint256[] internal _frozen;
    mapping(uint256 tokenId => uint256) internal _frozenIndex; // index + 1
    mapping(uint256 tokenId => FrozenRecord) internal _frozenRecord;

    /// @dev Pieces the regulator gave an ERC-7943 value freeze, and those a court order split afterwards (a
    ///      court overrides freezes, so only holder moves are held to the frozen value).
    uint256[] internal _valueFrozen;
    mapping(uint256 tokenId => bool) internal _valueFrozenSeen;
    mapping(uint256 tokenId => bool) public courtSplit;

    /// @notice How many calls of each action changed state (for the run summary).
    mapping(bytes32 action => uint256) public done;

    constructor() {
        _deployWorld();
        ghostTime = block.timestamp;
        suppliers = [supplier1, supplier2, supplier3];
        banks = [bank1, bank2];
        cores = [core1, core2];
        actors = [supplier1, supplier2, supplier3, bank1, bank2, core1, core2];
        // Bank 1 keeps a limit on each core enterprise, bank 2 one on a supplier, none reached: acceptances
        // count against them and releases free them (invariant_limitUseMatchesUnreleasedFinancings).
        vm.startPrank(bank1);
        financing.setCreditLimit(core1, true, 1e30);
        financing.setCreditLimit(core2, true, 1e30);
        vm.stopPrank();
        vm.prank(bank2);
        financing.setCreditLimit(supplier1, false, 1e30);
        uint256 bankroll = 1e18;
        for (uint256 i = 0; i < 2; ++i) {
            fund(banks[i], bankroll);
            fund(cores[i], bankroll);
            ghostMinted += 2 * bankroll;
        }
    }

    /// @dev Half a day passes between any two calls, on top of explicit warps, so obligations mature,
    ///      fall overdue and default within one sequence.
    modifier atGhostTime() {
        ghostTime += 12 hours;
        vm.warp(ghostTime);
        _;
    }

    // ================================================================== actions

    function issueObligation(uint256 supplierSeed, uint256 coreSeed, uint256 units, uint256 daysSeed)
        external
        atGhostTime
    {
        _issue(supplierSeed, coreSeed, units, daysSeed);
    }

    function splitPiece(uint256 tokenSeed, uint256 toSeed, uint256 unitsSeed) external atGhostTime {
        uint256 id = _pickMovable(tokenSeed);
        if (id == 0) return;
        uint256 units = token.balanceOf(id) / MIN_UNIT;
        if (units == 0) return;
        uint256 value = _bound(unitsSeed, 1, units) * MIN_UNIT;
        vm.prank(token.ownerOf(id));
        uint256 newId = token.transferFrom(id, _actor(toSeed), value);
        _addLive(newId, token.slotOf(id));
        done["split"]++;
    }

    function batchSplit(uint256 tokenSeed, uint256 toSeed, uint256 unitsSeed) external atGhostTime {
        uint256 id = _pickMovable(tokenSeed);
        if (id == 0) return;
        uint256 n = 2 + toSeed % 2;
        uint256 unitsEach = token.balanceOf(id) / MIN_UNIT / n;
        if (unitsEach == 0) return;
        address[] memory to = new address[](n);
        uint256[] memory values = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            to[i] = _actor(toSeed >> (8 * i));
            values[i] = _bound(uint256(keccak256(abi.encode(unitsSeed, i))), 1, unitsEach) * MIN_UNIT;
        }
        vm.prank(token.ownerOf(id));
        uint256[] memory ids = token.splitBatch(id, to, values);
        uint256 slot = token.slotOf(id);
        for (uint256 i = 0; i < n; ++i) {
            _addLive(ids[i], slot);
        }
        done["batchSplit"]++;
    }

    function mergePieces(uint256 fromSeed, uint256 toSeed, uint256 unitsSeed) external atGhostTime {
        uint256 from = _pickMovable(fromSeed);
        if (from == 0) return;
        uint256[] storage siblings = _liveBySlot[token.slotOf(from)];
        uint256 n = siblings.length;
        uint256 to;
        for (uint256 k = 0; k < n && k < 32; ++k) {
            uint256 candidate = siblings[(toSeed % n + k) % n];
            if (candidate != from && !token.isFrozen(candidate)) {
                to = candidate;
                break;
            }
        }
        if (to == 0) return;
        uint256 units = token.balanceOf(from) / MIN_UNIT;
        if (units == 0) return;
        vm.prank(token.ownerOf(from));
        token.transferFrom(from, to, _bound(unitsSeed, 1, units) * MIN_UNIT);
        done["merge"]++;
    }

    function transferWhole(uint256 tokenSeed, uint256 toSeed) external atGhostTime {
        uint256 id = _pickMovable(tokenSeed);
        if (id == 0) return;
        address owner = token.ownerOf(id);
        vm.prank(owner);
        token.transferFrom(owner, _actor(toSeed), id);
        done["transferWhole"]++;
    }

    function financePiece(uint256 tokenSeed, uint256 bankSeed, uint256 unitsSeed, uint256 rateSeed)
        external
        atGhostTime
    {
        uint256 id = _pickMovable(tokenSeed);
        if (id == 0) return;
        address bank = banks[bankSeed % 2];
        address holder = token.ownerOf(id);
        if (holder == bank) return;
        uint256 units = token.balanceOf(id) / MIN_UNIT;
        if (units == 0) return;
        // Half the time the whole token, otherwise a part.
        uint256 value = unitsSeed % 2 == 0 ? units * MIN_UNIT : _bound(unitsSeed, 1, units) * MIN_UNIT;
        // Half the financings with recourse (追索), chosen by another part of the seed.
        vm.prank(bank);
        uint256 offerId = financing.makeOffer(
            id,
            value,
            _bound(rateSeed, 1, 2_000),
            uint8(rateSeed >> 128) % 2,
            (rateSeed >> 64) % 2 == 0,
            block.timestamp + 1 days
        );
        vm.prank(holder);
        uint256 financed = financing.accept(offerId);
        if (financed != id) _addLive(financed, token.slotOf(id));
        _financedOffers.push(offerId);
        done["finance"]++;
    }

    /// @notice Anyone frees a financing from its bank's limits once the bank no longer holds the piece
    ///         (redeemed, or moved on); a financing still held is refused.
    function releaseExposure(uint256 seed) external atGhostTime {
        uint256 n = _financedOffers.length;
        if (n == 0) return;
        uint256 offerId = _financedOffers[seed % n];
        if (financing.exposureOf(offerId).released) return;
        uint256 piece = financing.offer(offerId).financedTokenId;
        if (token.exists(piece) && token.ownerOf(piece) == financing.offer(offerId).bank) return;
        financing.releaseExposure(offerId);
        done["releaseExposure"]++;
    }

    /// @notice Recourse (追索) on a defaulted financing made with recourse: its bank opens the claim while it
    ///         still holds the piece whole; then the seller settles a part (as far as its cash goes) or, one
    ///         time in four, the bank waives the rest.
    function recourse(uint256 seed, uint256 amountSeed) external atGhostTime {
        uint256 n = _financedOffers.length;
        if (n == 0) return;
        uint256 offerId = _financedOffers[seed % n];
        FinancingDesk.Offer memory o = financing.offer(offerId);
        if (!o.recourse) return;
        FinancingDesk.RecourseClaim memory c = financing.recourseClaim(offerId);
        if (c.state == FinancingDesk.RecourseState.None) {
            uint256 piece = o.financedTokenId;
            if (!token.exists(piece) || token.ownerOf(piece) != o.bank || token.balanceOf(piece) < o.value) return;
            uint256 slot = token.slotOf(piece);
            if (repayment.account(slot).state != RepaymentDesk.State.Defaulted) {
                // Defaults are rare in short sequences: declare one here when the facts allow.
                if (block.timestamp < slotMaturity[slot] + GRACE || _isClosed(slot)) return;
                repayment.declareDefault(slot);
                done["declareDefault"]++;
            }
            vm.prank(o.bank);
            financing.openRecourse(offerId);
            done["recourseOpen"]++;
            return;
        }
        if (c.state != FinancingDesk.RecourseState.Open && c.state != FinancingDesk.RecourseState.PartlySettled) {
            return;
        }
        if (amountSeed % 4 == 0) {
            vm.prank(o.bank);
            financing.waiveRecourse(offerId);
            done["recourseWaive"]++;
            return;
        }
        uint256 cashLeft = cash.balanceOf(c.seller);
        uint256 most = c.remaining < cashLeft ? c.remaining : cashLeft;
        if (most == 0) return;
        uint256 amount = amountSeed % 2 == 0 ? most : _bound(amountSeed, 1, most);
        vm.startPrank(c.seller);
        cash.approve(address(financing), type(uint256).max);
        financing.settleRecourse(offerId, amount);
        vm.stopPrank();
        ghostRecoursePaid += amount;
        done["recourseSettle"]++;
    }

    function financedOffers() external view returns (uint256[] memory) {
        return _financedOffers;
    }

    function depositRepayment(uint256 slotSeed, uint256 amountSeed) external atGhostTime {
        uint256 slot = _pickOpenSlot(slotSeed);
        if (slot == 0) return;
        uint256 remaining = slotFace[slot] - ghostPaid[slot];
        // Half of deposits settle the whole rest, so repaid slots are common.
        uint256 amount = amountSeed % 2 == 0 ? remaining : _bound(amountSeed, 1, remaining);
        vm.prank(slotObligor[slot]);
        repayment.deposit(slot, amount);
        ghostPaid[slot] += amount;
        ghostDeposits += amount;
        done["deposit"]++;
    }

    function warp(uint256 secondsSeed) external atGhostTime {
        ghostTime += _bound(secondsSeed, 1 hours, 20 days);
        vm.warp(ghostTime);
        done["warp"]++;
    }

    function markOverdue(uint256 slotSeed) external atGhostTime {
        uint256 n = _slots.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 slot = _slots[(slotSeed % n + k) % n];
            if (block.timestamp < slotMaturity[slot]) continue;
            if (repayment.account(slot).state != RepaymentDesk.State.Outstanding) continue;
            if (ghostPaid[slot] == slotFace[slot]) continue;
            repayment.markOverdue(slot);
            done["markOverdue"]++;
            return;
        }
    }

    function declareDefault(uint256 slotSeed) external atGhostTime {
        uint256 n = _slots.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 slot = _slots[(slotSeed % n + k) % n];
            if (block.timestamp < slotMaturity[slot] + GRACE || _isClosed(slot)) continue;
            repayment.declareDefault(slot);
            done["declareDefault"]++;
            return;
        }
    }

    /// @dev Scans from a random start for a token that can be redeemed now.
    function redeemPiece(uint256 tokenSeed) external atGhostTime {
        uint256 n = _live.length;
        for (uint256 k = 0; k < n && k < 32; ++k) {
            uint256 id = _live[(tokenSeed % n + k) % n];
            uint256 slot = token.slotOf(id);
            if (block.timestamp < slotMaturity[slot] || !_isClosed(slot) || token.isFrozen(id) || _hasValueFreeze(id)) {
                continue;
            }
            uint256 value = token.balanceOf(id);
            vm.prank(token.ownerOf(id));
            uint256 payout = repayment.redeem(id);
            _removeLive(id, slot);
            ghostPaidOut[slot] += payout;
            ghostPayouts += payout;
            ghostRedeemedValue[slot] += value;
            done["redeem"]++;
            return;
        }
    }

    function sweepDust(uint256 slotSeed) external atGhostTime {
        uint256 n = _slots.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 slot = _slots[(slotSeed % n + k) % n];
            if (ghostRedeemedValue[slot] != slotFace[slot]) continue;
            uint256 dust = ghostPaid[slot] - ghostPaidOut[slot];
            if (dust == 0) continue;
            repayment.sweepDust(slot);
            ghostPaidOut[slot] += dust;
            done["sweepDust"]++;
            return;
        }
    }

    function freezePiece(uint256 tokenSeed, uint32 reason) external atGhostTime {
        uint256 id = _pickLive(tokenSeed);
        if (id == 0 || _frozenIndex[id] != 0 || _hasValueFreeze(id)) return;
        vm.prank(regulator);
        token.freeze(id, reason);
        _frozen.push(id);
        _frozenIndex[id] = _frozen.length;
        _frozenRecord[id] = FrozenRecord(token.ownerOf(id), token.balanceOf(id));
        done["freeze"]++;
    }

    /// @dev ERC-7943 value freeze of a live piece not frozen whole: up to its value, 0 lifting it.
    function valueFreezePiece(uint256 tokenSeed, uint256 amountSeed) external atGhostTime {
        uint256 id = _pickLive(tokenSeed);
        if (id == 0 || token.isFrozen(id)) return;
        address owner = token.ownerOf(id);
        uint256 amount = _bound(amountSeed, 0, token.balanceOf(id));
        vm.prank(regulator);
        token.setFrozenTokens(owner, id, amount);
        if (!_valueFrozenSeen[id]) {
            _valueFrozenSeen[id] = true;
            _valueFrozen.push(id);
        }
        done["valueFreeze"]++;
    }

    function unfreezePiece(uint256 seed, uint32 reason) external atGhostTime {
        if (_frozen.length == 0) return;
        uint256 id = _frozen[seed % _frozen.length];
        vm.prank(regulator);
        token.unfreeze(id, reason);
        _removeFrozen(id);
        done["unfreeze"]++;
    }

    /// @dev Half the time the court acts on a frozen token (its usual case), otherwise on any live one.
    function forceTransferPiece(uint256 tokenSeed, uint256 toSeed, uint256 unitsSeed) external atGhostTime {
        uint256 id = (_frozen.length != 0 && tokenSeed % 2 == 0)
            ? _frozen[(tokenSeed >> 1) % _frozen.length]
            : _pickLive(tokenSeed);
        if (id == 0) return;
        uint256 balance = token.balanceOf(id);
        uint256 units = balance / MIN_UNIT;
        address to = _actor(toSeed);
        // Whole when the seed says so or when nothing can be split off.
        uint256 value = (unitsSeed % 3 == 0 || units == 0) ? balance : _bound(unitsSeed, 1, units) * MIN_UNIT;
        vm.prank(court);
        uint256 toId = token.forceTransfer(id, to, value, keccak256(abi.encode("order", id, value)));
        if (toId == id) {
            if (_frozenIndex[id] != 0) _frozenRecord[id].owner = to;
        } else {
            courtSplit[id] = true;
            _addLive(toId, token.slotOf(id));
            if (_frozenIndex[id] != 0) _frozenRecord[id].value -= value;
        }
        done["forceTransfer"]++;
    }

    // ================================================================== views for the invariants

    function slots() external view returns (uint256[] memory) {
        return _slots;
    }

    function live() external view returns (uint256[] memory) {
        return _live;
    }

    function liveOfSlot(uint256 slot) external view returns (uint256[] memory) {
        return _liveBySlot[slot];
    }

    function consumedDocuments() external view returns (bytes32[] memory) {
        return _consumed;
    }

    function valueFrozen() external view returns (uint256[] memory) {
        return _valueFrozen;
    }

    function frozen() external view returns (uint256[] memory) {
        return _frozen;
    }

    function frozenRecord(uint256 tokenId) external view returns (FrozenRecord memory) {
        return _frozenRecord[tokenId];
    }

    function cashAccounts() external view returns (address[] memory accounts) {
        accounts = new address[](ACTORS);
        for (uint256 i = 0; i < ACTORS; ++i) {
            accounts[i] = actors[i];
        }
    }

    // ================================================================== internals

    function _issue(uint256 supplierSeed, uint256 coreSeed, uint256 units, uint256 daysSeed)
        internal
        returns (uint256)
    {
        if (_slots.length >= MAX_SLOTS) return 0;
        address supplier = suppliers[supplierSeed % 3];
        address obligor = cores[coreSeed % 2];
        uint256 face = _bound(units, 1, 10_000) * MIN_UNIT;
        uint256 maturity = block.timestamp + _bound(daysSeed, 2, 30) * 1 days;
        bytes32 fp = attestInvoice(supplier, obligor, face);
        IssuanceDesk.Terms memory t = _terms(supplier, obligor, face, maturity, MIN_UNIT, fp);
        (uint256 slot, uint256 root) = _confirm(_propose(t), t);

        _slots.push(slot);
        slotFace[slot] = face;
        slotMaturity[slot] = maturity;
        slotIssuedAt[slot] = block.timestamp;
        slotObligor[slot] = obligor;
        _consumed.push(fp);
        ghostSlotOfDocument[fp] = slot;
        documentsBackingSlot[slot] += 1;
        _addLive(root, slot);
        done["issue"]++;
        return root;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % ACTORS];
    }

    function _pickSlot(uint256 seed) internal view returns (uint256) {
        uint256 n = _slots.length;
        return n == 0 ? 0 : _slots[seed % n];
    }

    function _isClosed(uint256 slot) internal view returns (bool) {
        RepaymentDesk.State state = repayment.account(slot).state;
        return state == RepaymentDesk.State.Repaid || state == RepaymentDesk.State.Defaulted;
    }

    /// @dev A slot still taking deposits, scanning from a random start; 0 when none.
    function _pickOpenSlot(uint256 seed) internal view returns (uint256) {
        uint256 n = _slots.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 slot = _slots[(seed % n + k) % n];
            if (!_isClosed(slot)) return slot;
        }
        return 0;
    }

    function _hasValueFreeze(uint256 id) internal view returns (bool) {
        return !token.isFrozen(id) && token.getFrozenTokens(token.ownerOf(id), id) != 0;
    }

    function _pickLive(uint256 seed) internal view returns (uint256) {
        uint256 n = _live.length;
        return n == 0 ? 0 : _live[seed % n];
    }

    /// @dev A live token its holder may move now (not frozen, not matured), scanning from a random start.
    ///      When there is none, issues a fresh obligation (while there is room), so calls are not wasted.
    function _pickMovable(uint256 seed) internal returns (uint256) {
        uint256 n = _live.length;
        for (uint256 k = 0; k < n && k < 32; ++k) {
            uint256 id = _live[(seed % n + k) % n];
            if (!token.isFrozen(id) && !_hasValueFreeze(id) && block.timestamp < slotMaturity[token.slotOf(id)]) {
                return id;
            }
        }
        return _issue(seed, seed >> 8, seed >> 16, seed >> 32);
    }

    function _addLive(uint256 id, uint256 slot) internal {
        ghostTokensCreated += 1;
        _live.push(id);
        _liveIndex[id] = _live.length;
        _liveBySlot[slot].push(id);
        _liveBySlotIndex[id] = _liveBySlot[slot].length;
    }

    function _removeLive(uint256 id, uint256 slot) internal {
        _swapPop(_live, _liveIndex, id);
        _swapPop(_liveBySlot[slot], _liveBySlotIndex, id);
    }

    function _removeFrozen(uint256 id) internal {
        _swapPop(_frozen, _frozenIndex, id);
        delete _frozenRecord[id];
    }

    function _swapPop(uint256[] storage list, mapping(uint256 => uint256) storage index, uint256 id) private {
        uint256 i = index[id] - 1;
        uint256 last = list[list.length - 1];
        list[i] = last;
        index[last] = i + 1;
        list.pop();
        delete index[id];
    }
}
