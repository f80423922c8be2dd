// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC721} from "@solvprotocol/erc-3525/IERC721.sol";
import {IERC3525} from "@solvprotocol/erc-3525/IERC3525.sol";
import {IERC3525Receiver} from "@solvprotocol/erc-3525/IERC3525Receiver.sol";
import {Vm} from "forge-std/Vm.sol";
import {Base} from "./Base.t.sol";
import {IParticipantRegistry} from "../../contracts/interfaces/IParticipantRegistry.sol";
import {IReceivableToken, IReceivableTokenBase} from "../../contracts/interfaces/IReceivableToken.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";
import {Deploy} from "./utils/Deploy.sol";

/// @dev An ERC-3525 receiving contract whose answer is chosen at construction.
contract Receiver3525 is IERC3525Receiver {
    enum Mode {
        Accept,
        WrongAnswer,
        Revert,
        Undeclared
    }

    Mode public immutable mode;
    uint256 public calls;
    address public lastOperator;
    uint256 public lastFrom;
    uint256 public lastTo;
    uint256 public lastValue;

    constructor(Mode mode_) {
        mode = mode_;
    }

    function supportsInterface(bytes4 id) external view returns (bool) {
        if (mode == Mode.Undeclared) return id == 0x01ffc9a7;
        return id == type(IERC3525Receiver).interfaceId || id == 0x01ffc9a7;
    }

    function onERC3525Received(address operator, uint256 fromTokenId, uint256 toTokenId, uint256 value, bytes calldata)
        external
        returns (bytes4)
    {
        ++calls;
        lastOperator = operator;
        lastFrom = fromTokenId;
        lastTo = toTokenId;
        lastValue = value;
        if (mode == Mode.Revert) revert("no thanks");
        if (mode == Mode.WrongAnswer) return 0xdeadbeef;
        return IERC3525Receiver.onERC3525Received.selector;
    }
}

/// @dev A contract with no ERC-165 and no receiver hooks at all.
contract Bare {}

/// @dev An ERC-721 receiving contract whose answer is chosen at construction.
contract Receiver721 is IERC721Receiver {
    enum Mode {
        Accept,
        WrongAnswer,
        Revert
    }

    Mode public immutable mode;
    address public lastOperator;
    address public lastFrom;
    uint256 public lastTokenId;
    bytes public lastData;

    constructor(Mode mode_) {
        mode = mode_;
    }

    function onERC721Received(address operator, address from, uint256 tokenId, bytes calldata data)
        external
        returns (bytes4)
    {
        if (mode == Mode.Revert) revert("no thanks");
        lastOperator = operator;
        lastFrom = from;
        lastTokenId = tokenId;
        lastData = data;
        if (mode == Mode.WrongAnswer) return 0xdeadbeef;
        return IERC721Receiver.onERC721Received.selector;
    }
}

contract ReceivableTokenTest is Base {
    uint256 internal constant FACE = 100_000_000; // 1,000,000.00 CNY in fen
    uint256 internal constant UNIT = 100; // 1.00 CNY
    uint256 internal constant MATURITY = T0 + 90 days;
    address internal constant CURRENCY = address(0xC47);

    IReceivableToken internal token;
    address internal desk = makeAddr("desk");
    address internal enforcer = makeAddr("enforcer");
    address internal operator = makeAddr("operator");
    address internal spender = makeAddr("spender");

    uint256 internal slot;
    uint256 internal root;

    function setUp() public override {
        super.setUp();
        token = Deploy.token(registry, "Tierchain Receivable", "TCR", 2);
        _grant(Roles.DESK, desk);
        _grant(Roles.ENFORCEMENT, enforcer);
        (slot, root) = _createSlot(supplier1, FACE);
    }

    // ------------------------------------------------------------------ helpers

    function _createSlot(address to, uint256 face) internal returns (uint256 s, uint256 id) {
        vm.prank(desk);
        (s, id) = token.createSlot(coreEnterprise, CURRENCY, face, MATURITY, UNIT, to);
    }

    function _splitAs(address caller, uint256 fromId, address to, uint256 value) internal returns (uint256 id) {
        vm.prank(caller);
        id = token.transferFrom(fromId, to, value);
    }

    function _freeze(uint256 id) internal {
        vm.prank(regulator);
        token.freeze(id, 7);
    }

    function _holderContract(address c) internal {
        _register(c, Roles.SUPPLIER);
    }

    function _addrs(address a, address b, address c) internal pure returns (address[] memory r) {
        r = new address[](3);
        (r[0], r[1], r[2]) = (a, b, c);
    }

    function _vals(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory r) {
        r = new uint256[](3);
        (r[0], r[1], r[2]) = (a, b, c);
    }

    function _vals(uint256 a, uint256 b) internal pure returns (uint256[] memory r) {
        r = new uint256[](2);
        (r[0], r[1]) = (a, b);
    }

    function _addrs(address a, address b) internal pure returns (address[] memory r) {
        r = new address[](2);
        (r[0], r[1]) = (a, b);
    }

    // ------------------------------------------------------------------ ERC-165 and metadata

    function test_supportsInterface_standardIds() public view {
        assertTrue(token.supportsInterface(0x01ffc9a7)); // ERC-165
        assertTrue(token.supportsInterface(0x80ac58cd)); // ERC-721
        assertTrue(token.supportsInterface(0xd5358140)); // ERC-3525
        assertTrue(token.supportsInterface(0x5b5e139f)); // ERC-721 metadata
        assertTrue(token.supportsInterface(0xe1600902)); // ERC-3525 metadata
        assertFalse(token.supportsInterface(0xffffffff));
        assertFalse(token.supportsInterface(0x780e9d63)); // ERC-721 enumerable: not implemented
        assertFalse(token.supportsInterface(type(IERC3525Receiver).interfaceId));
    }

    function test_metadata_nameSymbolDecimalsRegistry() public view {
        assertEq(token.name(), "Tierchain Receivable");
        assertEq(token.symbol(), "TCR");
        assertEq(token.valueDecimals(), 2);
        assertEq(address(token.participants()), address(registry));
    }

    function test_uris_emptyUntilBaseURISet() public view {
        assertEq(token.tokenURI(root), "");
        assertEq(token.contractURI(), "");
        assertEq(token.slotURI(slot), "");
    }

    function test_setBaseURI_adminSetsUris() public {
        string memory base = "https://api.tierchain.example/v1/metadata/";
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.BaseURIChanged(base);
        vm.prank(admin);
        token.setBaseURI(base);
        assertEq(token.tokenURI(root), "https://api.tierchain.example/v1/metadata/token/1");
        assertEq(token.contractURI(), "https://api.tierchain.example/v1/metadata/contract");
        assertEq(token.slotURI(slot), "https://api.tierchain.example/v1/metadata/slot/1");
        assertEq(token.slotURI(12345), "https://api.tierchain.example/v1/metadata/slot/12345");

        vm.prank(admin);
        token.setBaseURI("");
        assertEq(token.tokenURI(root), "");
    }

    function test_RevertWhen_setBaseURINotAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotAuthorized.selector, desk));
        vm.prank(desk);
        token.setBaseURI("https://evil.example/");
    }

    function test_RevertWhen_tokenURINonexistent() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, 99));
        token.tokenURI(99);
    }

    // ------------------------------------------------------------------ createSlot

    function test_createSlot_mintsWholeFaceAndEmits() public {
        vm.expectEmit(address(token));
        emit IERC721.Transfer(address(0), supplier2, 2);
        vm.expectEmit(address(token));
        emit IERC3525.SlotChanged(2, 0, 2);
        vm.expectEmit(address(token));
        emit IERC3525.TransferValue(0, 2, 5_000_000);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.SlotCreated(2, coreEnterprise, CURRENCY, 5_000_000, MATURITY, UNIT, 2);
        vm.prank(desk);
        (uint256 s, uint256 id) = token.createSlot(coreEnterprise, CURRENCY, 5_000_000, MATURITY, UNIT, supplier2);
        assertEq(s, 2);
        assertEq(id, 2);
        assertEq(token.lastSlot(), 2);
        assertEq(token.lastTokenId(), 2);
    }

    function test_createSlot_rootState() public view {
        assertEq(slot, 1);
        assertEq(root, 1);
        assertEq(token.ownerOf(root), supplier1);
        assertEq(token.balanceOf(supplier1), 1);
        assertEq(token.balanceOf(root), FACE);
        assertEq(token.slotOf(root), slot);
        assertEq(token.parentOf(root), 0);
        assertEq(token.depthOf(root), 0);
        assertEq(token.rootOf(root), root);
        uint256[] memory chain = token.lineage(root);
        assertEq(chain.length, 1);
        assertEq(chain[0], root);
        assertTrue(token.exists(root));
        assertFalse(token.isFrozen(root));

        IReceivableTokenBase.SlotTerms memory t = token.slotTerms(slot);
        assertEq(t.obligor, coreEnterprise);
        assertEq(t.maturity, MATURITY);
        assertEq(t.rootTokenId, root);
        assertEq(t.currency, CURRENCY);
        assertEq(t.minUnit, UNIT);
        assertEq(t.face, FACE);
        assertEq(t.supply, FACE);
    }

    function test_RevertWhen_createSlotNotDesk() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotAuthorized.selector, supplier1));
        vm.prank(supplier1);
        token.createSlot(coreEnterprise, CURRENCY, FACE, MATURITY, UNIT, supplier1);
    }

    function _expectCreateSlotRevert(
        address obligor,
        address currency,
        uint256 face,
        uint256 maturity,
        uint256 unit,
        bytes memory reason
    ) internal {
        vm.expectRevert(reason);
        vm.prank(desk);
        token.createSlot(obligor, currency, face, maturity, unit, supplier1);
    }

    function test_RevertWhen_createSlotTermsInvalid_namesTheConditionAndItsNumbers() public {
        address core = coreEnterprise;
        bytes4 zeroAddress = IReceivableTokenBase.ZeroAddress.selector;
        _expectCreateSlotRevert(
            address(0), CURRENCY, FACE, MATURITY, UNIT, abi.encodeWithSelector(zeroAddress, "obligor")
        );
        _expectCreateSlotRevert(core, address(0), FACE, MATURITY, UNIT, abi.encodeWithSelector(zeroAddress, "currency"));
        _expectCreateSlotRevert(
            core, CURRENCY, 0, MATURITY, UNIT, abi.encodeWithSelector(IReceivableTokenBase.ZeroFace.selector)
        );
        _expectCreateSlotRevert(
            core, CURRENCY, FACE, MATURITY, 0, abi.encodeWithSelector(IReceivableTokenBase.ZeroMinUnit.selector)
        );
        bytes4 notMultiple = IReceivableTokenBase.FaceNotMultipleOfMinUnit.selector;
        _expectCreateSlotRevert(
            core, CURRENCY, FACE + 1, MATURITY, UNIT, abi.encodeWithSelector(notMultiple, FACE + 1, UNIT)
        );
        bytes4 past = IReceivableTokenBase.MaturityNotInFuture.selector;
        uint256 t = block.timestamp;
        _expectCreateSlotRevert(core, CURRENCY, FACE, t, UNIT, abi.encodeWithSelector(past, t, t));
        _expectCreateSlotRevert(core, CURRENCY, FACE, t - 1, UNIT, abi.encodeWithSelector(past, t - 1, t));
        assertEq(token.lastSlot(), 1);
    }

    function test_RevertWhen_createSlotTermsOverflowStorage() public {
        uint256 m = uint256(type(uint48).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 48, m));
        vm.prank(desk);
        token.createSlot(coreEnterprise, CURRENCY, FACE, m, UNIT, supplier1);

        uint256 bigUnit = uint256(type(uint48).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 48, bigUnit));
        vm.prank(desk);
        token.createSlot(coreEnterprise, CURRENCY, bigUnit, MATURITY, bigUnit, supplier1);

        uint256 bigFace = uint256(type(uint128).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 128, bigFace));
        vm.prank(desk);
        token.createSlot(coreEnterprise, CURRENCY, bigFace, MATURITY, 1, supplier1);
    }

    function test_RevertWhen_createSlotRecipientNotHolder() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotAHolder.selector, regulator));
        vm.prank(desk);
        token.createSlot(coreEnterprise, CURRENCY, FACE, MATURITY, UNIT, regulator);

        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, outsider));
        vm.prank(desk);
        token.createSlot(coreEnterprise, CURRENCY, FACE, MATURITY, UNIT, outsider);

        _suspend(supplier2);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, supplier2));
        vm.prank(desk);
        token.createSlot(coreEnterprise, CURRENCY, FACE, MATURITY, UNIT, supplier2);
    }

    function test_RevertWhen_slotTermsNonexistent() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentSlot.selector, 2));
        token.slotTerms(2);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentSlot.selector, 0));
        token.slotTerms(0);
    }

    // ------------------------------------------------------------------ views on missing tokens

    function test_RevertWhen_viewsOnNonexistentToken() public {
        bytes memory err = abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, 42);
        vm.expectRevert(err);
        token.ownerOf(42);
        vm.expectRevert(err);
        token.balanceOf(uint256(42));
        vm.expectRevert(err);
        token.slotOf(42);
        vm.expectRevert(err);
        token.getApproved(42);
        vm.expectRevert(err);
        token.allowance(42, spender);
        vm.expectRevert(err);
        token.isFrozen(42);
        vm.expectRevert(err);
        token.parentOf(42);
        vm.expectRevert(err);
        token.rootOf(42);
        vm.expectRevert(err);
        token.depthOf(42);
        vm.expectRevert(err);
        token.lineage(42);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, 0));
        token.lineage(0);
        assertFalse(token.exists(42));
        assertFalse(token.exists(0));
    }

    function test_RevertWhen_balanceOfZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InvalidOwner.selector, address(0)));
        token.balanceOf(address(0));
    }

    // ------------------------------------------------------------------ split

    function test_split_keepsSlotAndConservesValue() public {
        uint256 value = 30_000_000;
        vm.expectEmit(address(token));
        emit IERC721.Transfer(address(0), supplier2, 2);
        vm.expectEmit(address(token));
        emit IERC3525.SlotChanged(2, 0, slot);
        vm.expectEmit(address(token));
        emit IERC3525.TransferValue(root, 2, value);
        uint256 piece = _splitAs(supplier1, root, supplier2, value);

        assertEq(piece, 2);
        assertEq(token.ownerOf(piece), supplier2);
        assertEq(token.slotOf(piece), slot);
        assertEq(token.balanceOf(piece), value);
        assertEq(token.balanceOf(root), FACE - value);
        assertEq(token.balanceOf(root) + token.balanceOf(piece), FACE);
        assertEq(token.balanceOf(supplier1), 1);
        assertEq(token.balanceOf(supplier2), 1);
        assertEq(token.parentOf(piece), root);
        assertEq(token.depthOf(piece), 1);
        assertEq(token.rootOf(piece), root);
        assertEq(token.slotTerms(slot).supply, FACE);
        assertEq(token.lastTokenId(), 2);
    }

    function test_split_tenTiersDeepLineage() public {
        uint256[] memory ids = new uint256[](11);
        address[] memory tiers = new address[](11);
        ids[0] = root;
        tiers[0] = supplier1;
        for (uint256 i = 1; i <= 10; ++i) {
            tiers[i] = makeAddr(string.concat("tier", vm.toString(i)));
            _register(tiers[i], Roles.SUPPLIER);
            ids[i] = _splitAs(tiers[i - 1], ids[i - 1], tiers[i], FACE - i * 1_000_000);
        }
        uint256 sum;
        for (uint256 i = 0; i <= 10; ++i) {
            assertEq(token.depthOf(ids[i]), i);
            assertEq(token.rootOf(ids[i]), root);
            assertEq(token.slotOf(ids[i]), slot);
            assertEq(token.ownerOf(ids[i]), tiers[i]);
            if (i > 0) assertEq(token.parentOf(ids[i]), ids[i - 1]);
            sum += token.balanceOf(ids[i]);
        }
        assertEq(sum, FACE);
        uint256[] memory chain = token.lineage(ids[10]);
        assertEq(chain.length, 11);
        for (uint256 i = 0; i <= 10; ++i) {
            assertEq(chain[i], ids[10 - i]);
        }
    }

    function test_split_wholeValueLeavesEmptySourceToken() public {
        uint256 piece = _splitAs(supplier1, root, supplier2, FACE);
        assertEq(token.balanceOf(root), 0);
        assertEq(token.ownerOf(root), supplier1);
        assertEq(token.balanceOf(piece), FACE);
    }

    function test_split_byValueSpenderDecreasesAllowance() public {
        vm.prank(supplier1);
        token.approve(root, spender, 5_000);
        uint256 piece = _splitAs(spender, root, supplier3, 3_000);
        assertEq(token.ownerOf(piece), supplier3);
        assertEq(token.allowance(root, spender), 2_000);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.InsufficientAllowance.selector, spender, root, 2_000, 3_000)
        );
        vm.prank(spender);
        token.transferFrom(root, supplier3, 3_000);
    }

    function test_split_byApprovedOrOperatorNeedsNoAllowance() public {
        vm.prank(supplier1);
        token.approve(spender, root);
        _splitAs(spender, root, supplier2, 1_000);
        vm.prank(supplier1);
        token.setApprovalForAll(operator, true);
        _splitAs(operator, root, supplier2, 1_000);
        assertEq(token.allowance(root, spender), 0);
        assertEq(token.balanceOf(root), FACE - 2_000);
    }

    function test_RevertWhen_splitWithoutAllowance() public {
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.InsufficientAllowance.selector, outsider, root, 0, UNIT)
        );
        vm.prank(outsider);
        token.transferFrom(root, outsider, UNIT);
    }

    function test_RevertWhen_splitToZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InvalidReceiver.selector, address(0)));
        vm.prank(supplier1);
        token.transferFrom(root, address(0), UNIT);
    }

    function test_RevertWhen_splitOverBalance() public {
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.InsufficientBalance.selector, root, FACE, FACE + UNIT)
        );
        vm.prank(supplier1);
        token.transferFrom(root, supplier2, FACE + UNIT);
    }

    function test_RevertWhen_splitNotMultipleOfMinUnit() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotMultipleOfMinUnit.selector, 150, UNIT));
        vm.prank(supplier1);
        token.transferFrom(root, supplier2, 150);
    }

    function test_RevertWhen_splitZeroValue() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotMultipleOfMinUnit.selector, 0, UNIT));
        vm.prank(supplier1);
        token.transferFrom(root, supplier2, 0);
    }

    function test_RevertWhen_tokenFrozen() public {
        _freeze(root);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenFrozen.selector, root));
        vm.prank(supplier1);
        token.transferFrom(root, supplier2, UNIT);
    }

    function test_split_worksAgainAfterUnfreeze() public {
        _freeze(root);
        vm.prank(regulator);
        token.unfreeze(root, 8);
        uint256 piece = _splitAs(supplier1, root, supplier2, UNIT);
        assertEq(token.balanceOf(piece), UNIT);
    }

    function test_RevertWhen_splitAtMaturity() public {
        vm.warp(MATURITY);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.ObligationMatured.selector, slot, MATURITY));
        vm.prank(supplier1);
        token.transferFrom(root, supplier2, UNIT);
    }

    function test_split_oneSecondBeforeMaturityAllowed() public {
        vm.warp(MATURITY - 1);
        _splitAs(supplier1, root, supplier2, UNIT);
    }

    function test_RevertWhen_splitAfterMaturity() public {
        vm.warp(MATURITY + 30 days);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.ObligationMatured.selector, slot, MATURITY));
        vm.prank(supplier1);
        token.transferFrom(root, supplier2, UNIT);
    }

    function test_RevertWhen_splitSenderSuspended() public {
        _suspend(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, supplier1));
        vm.prank(supplier1);
        token.transferFrom(root, supplier2, UNIT);
    }

    function test_RevertWhen_splitByOperatorOfSuspendedOwner() public {
        vm.prank(supplier1);
        token.setApprovalForAll(operator, true);
        _suspend(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, supplier1));
        vm.prank(operator);
        token.transferFrom(root, supplier2, UNIT);
    }

    function test_RevertWhen_splitReceiverSuspended() public {
        _suspend(supplier2);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, supplier2));
        vm.prank(supplier1);
        token.transferFrom(root, supplier2, UNIT);
    }

    function test_RevertWhen_splitReceiverUnregistered() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, outsider));
        vm.prank(supplier1);
        token.transferFrom(root, outsider, UNIT);
    }

    function test_RevertWhen_splitReceiverNotAHolder() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotAHolder.selector, regulator));
        vm.prank(supplier1);
        token.transferFrom(root, regulator, UNIT);
    }

    function test_RevertWhen_splitNonexistentToken() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, 9));
        vm.prank(supplier1);
        token.transferFrom(uint256(9), supplier2, UNIT);
    }

    function test_split_toBankAndCoreEnterprise() public {
        uint256 a = _splitAs(supplier1, root, bank, 10_000);
        uint256 b = _splitAs(supplier1, root, coreEnterprise, 10_000);
        assertEq(token.ownerOf(a), bank);
        assertEq(token.ownerOf(b), coreEnterprise);
    }

    // ------------------------------------------------------------------ splitBatch

    function test_splitBatch_piecesShareParentAndConserveValue() public {
        vm.expectEmit(address(token));
        emit IERC3525.TransferValue(root, 2, 1_000);
        vm.expectEmit(address(token));
        emit IERC3525.TransferValue(root, 3, 2_000);
        vm.expectEmit(address(token));
        emit IERC3525.TransferValue(root, 4, 3_000);
        vm.prank(supplier1);
        uint256[] memory ids = token.splitBatch(root, _addrs(supplier2, supplier3, bank), _vals(1_000, 2_000, 3_000));
        assertEq(ids.length, 3);
        address[3] memory who = [supplier2, supplier3, bank];
        uint256 sum = token.balanceOf(root);
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(ids[i], 2 + i);
            assertEq(token.ownerOf(ids[i]), who[i]);
            assertEq(token.balanceOf(ids[i]), 1_000 * (i + 1));
            assertEq(token.parentOf(ids[i]), root);
            assertEq(token.depthOf(ids[i]), 1);
            assertEq(token.slotOf(ids[i]), slot);
            sum += token.balanceOf(ids[i]);
        }
        assertEq(sum, FACE);
        assertEq(token.balanceOf(root), FACE - 6_000);
    }

    function test_splitBatch_sameRecipientTwice() public {
        vm.prank(supplier1);
        uint256[] memory ids = token.splitBatch(root, _addrs(supplier2, supplier2), _vals(UNIT, UNIT));
        assertEq(token.balanceOf(supplier2), 2);
        assertTrue(ids[0] != ids[1]);
    }

    function test_splitBatch_bySpenderSpendsTotal() public {
        vm.prank(supplier1);
        token.approve(root, spender, 10_000);
        vm.prank(spender);
        token.splitBatch(root, _addrs(supplier2, supplier3), _vals(3_000, 4_000));
        assertEq(token.allowance(root, spender), 3_000);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.InsufficientAllowance.selector, spender, root, 3_000, 4_000)
        );
        vm.prank(spender);
        token.splitBatch(root, _addrs(supplier2, supplier3), _vals(2_000, 2_000));
    }

    function test_RevertWhen_splitBatchLengthMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.LengthMismatch.selector, 3, 2));
        vm.prank(supplier1);
        token.splitBatch(root, _addrs(supplier2, supplier3, bank), _vals(UNIT, UNIT));
    }

    function test_RevertWhen_splitBatchEmpty() public {
        vm.expectRevert(IReceivableTokenBase.EmptyBatch.selector);
        vm.prank(supplier1);
        token.splitBatch(root, new address[](0), new uint256[](0));
    }

    function test_RevertWhen_splitBatchTotalOverBalance() public {
        uint256 first = 60_000_000;
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.InsufficientBalance.selector, root, FACE - first, 50_000_000)
        );
        vm.prank(supplier1);
        token.splitBatch(root, _addrs(supplier2, supplier3), _vals(first, 50_000_000));
        assertEq(token.balanceOf(root), FACE); // nothing moved
        assertEq(token.lastTokenId(), 1);
    }

    function test_RevertWhen_splitBatchPieceNotMinUnit() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotMultipleOfMinUnit.selector, 250, UNIT));
        vm.prank(supplier1);
        token.splitBatch(root, _addrs(supplier2, supplier3), _vals(UNIT, 250));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotMultipleOfMinUnit.selector, 0, UNIT));
        vm.prank(supplier1);
        token.splitBatch(root, _addrs(supplier2, supplier3), _vals(UNIT, 0));
    }

    function test_RevertWhen_splitBatchReceiverInvalid() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InvalidReceiver.selector, address(0)));
        vm.prank(supplier1);
        token.splitBatch(root, _addrs(supplier2, address(0)), _vals(UNIT, UNIT));
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotAHolder.selector, regulator));
        vm.prank(supplier1);
        token.splitBatch(root, _addrs(supplier2, regulator), _vals(UNIT, UNIT));
    }

    function test_RevertWhen_splitBatchFrozenOrMatured() public {
        _freeze(root);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenFrozen.selector, root));
        vm.prank(supplier1);
        token.splitBatch(root, _addrs(supplier2, supplier3), _vals(UNIT, UNIT));
        vm.prank(regulator);
        token.unfreeze(root, 0);
        vm.warp(MATURITY);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.ObligationMatured.selector, slot, MATURITY));
        vm.prank(supplier1);
        token.splitBatch(root, _addrs(supplier2, supplier3), _vals(UNIT, UNIT));
    }

    function test_RevertWhen_splitBatchNonexistent() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, 77));
        vm.prank(supplier1);
        token.splitBatch(77, _addrs(supplier2, supplier3), _vals(UNIT, UNIT));
    }

    // ------------------------------------------------------------------ merge

    function test_merge_movesValueWithinSlotAndKeepsLineage() public {
        uint256 a = _splitAs(supplier1, root, supplier2, 10_000);
        uint256 b = _splitAs(supplier2, a, supplier3, 4_000);
        uint256 lastId = token.lastTokenId();
        vm.expectEmit(address(token));
        emit IERC3525.TransferValue(b, a, 1_000);
        vm.prank(supplier3);
        token.transferFrom(b, a, 1_000);
        assertEq(token.balanceOf(a), 7_000);
        assertEq(token.balanceOf(b), 3_000);
        assertEq(token.lastTokenId(), lastId);
        assertEq(token.parentOf(b), a);
        assertEq(token.depthOf(b), 2);
        assertEq(token.parentOf(a), root);
        assertEq(token.ownerOf(a), supplier2);
        assertEq(token.ownerOf(b), supplier3);
        assertEq(token.balanceOf(root) + token.balanceOf(a) + token.balanceOf(b), FACE);
    }

    function test_merge_bySpenderSpendsAllowance() public {
        uint256 a = _splitAs(supplier1, root, supplier2, 10_000);
        vm.prank(supplier1);
        token.approve(root, spender, 500);
        vm.prank(spender);
        token.transferFrom(root, a, 300);
        assertEq(token.allowance(root, spender), 200);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.InsufficientAllowance.selector, spender, root, 200, 300)
        );
        vm.prank(spender);
        token.transferFrom(root, a, 300);
    }

    /// Deliberate (docs/api.md, "Deliberate behaviours"): a full merge leaves the source token owned with
    /// value 0, as a whole-value split does; only redemption burns.
    function test_merge_wholeValueKeepsSourceTokenLiveWithValueZero() public {
        uint256 a = _splitAs(supplier1, root, supplier2, 10_000);
        uint256 b = _splitAs(supplier2, a, supplier2, 4_000);
        vm.prank(supplier2);
        token.transferFrom(b, a, 4_000);
        assertEq(token.balanceOf(b), 0);
        assertEq(token.ownerOf(b), supplier2);
        assertEq(token.slotOf(b), token.slotOf(a));
        vm.prank(supplier2);
        token.transferFrom(a, b, 1_000);
        assertEq(token.balanceOf(b), 1_000);
    }

    function test_RevertWhen_mergeAcrossSlots() public {
        (, uint256 other) = _createSlot(supplier2, FACE);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.SlotMismatch.selector, root, other));
        vm.prank(supplier1);
        token.transferFrom(root, other, UNIT);
    }

    function test_RevertWhen_mergeSameToken() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.SameToken.selector, root));
        vm.prank(supplier1);
        token.transferFrom(root, root, UNIT);
    }

    function test_RevertWhen_mergeIntoFrozenToken() public {
        uint256 a = _splitAs(supplier1, root, supplier2, 10_000);
        _freeze(a);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenFrozen.selector, a));
        vm.prank(supplier1);
        token.transferFrom(root, a, UNIT);
    }

    function test_RevertWhen_mergeFromFrozenToken() public {
        uint256 a = _splitAs(supplier1, root, supplier2, 10_000);
        _freeze(root);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenFrozen.selector, root));
        vm.prank(supplier1);
        token.transferFrom(root, a, UNIT);
    }

    function test_RevertWhen_mergeNonexistent() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, 50));
        vm.prank(supplier1);
        token.transferFrom(uint256(50), root, UNIT);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, 50));
        vm.prank(supplier1);
        token.transferFrom(root, uint256(50), UNIT);
    }

    function test_RevertWhen_mergeRules() public {
        uint256 a = _splitAs(supplier1, root, supplier2, 10_000);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotMultipleOfMinUnit.selector, 0, UNIT));
        vm.prank(supplier1);
        token.transferFrom(root, a, 0);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotMultipleOfMinUnit.selector, 101, UNIT));
        vm.prank(supplier1);
        token.transferFrom(root, a, 101);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InsufficientBalance.selector, a, 10_000, 10_100));
        vm.prank(supplier2);
        token.transferFrom(a, root, 10_100);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.InsufficientAllowance.selector, outsider, a, 0, UNIT)
        );
        vm.prank(outsider);
        token.transferFrom(a, root, UNIT);

        _suspend(supplier2);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, supplier2));
        vm.prank(supplier1);
        token.transferFrom(root, a, UNIT);
        _reactivate(supplier2);

        vm.warp(MATURITY);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.ObligationMatured.selector, slot, MATURITY));
        vm.prank(supplier1);
        token.transferFrom(root, a, UNIT);
    }

    // ------------------------------------------------------------------ whole-token transfer

    function test_transferFrom_movesWholeToken() public {
        uint256 piece = _splitAs(supplier1, root, supplier2, 10_000);
        vm.expectEmit(address(token));
        emit IERC721.Transfer(supplier1, supplier3, root);
        vm.prank(supplier1);
        token.transferFrom(supplier1, supplier3, root);
        assertEq(token.ownerOf(root), supplier3);
        assertEq(token.balanceOf(supplier1), 0);
        assertEq(token.balanceOf(supplier3), 1);
        assertEq(token.balanceOf(root), FACE - 10_000);
        assertEq(token.parentOf(piece), root);
        assertEq(token.lastTokenId(), 2);
    }

    function test_transferFrom_byApprovedAndOperator() public {
        vm.prank(supplier1);
        token.approve(spender, root);
        vm.prank(spender);
        token.transferFrom(supplier1, supplier2, root);
        assertEq(token.ownerOf(root), supplier2);

        vm.prank(supplier2);
        token.setApprovalForAll(operator, true);
        vm.prank(operator);
        token.transferFrom(supplier2, supplier3, root);
        assertEq(token.ownerOf(root), supplier3);
    }

    function test_RevertWhen_transferFromIncorrectOwner() public {
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.IncorrectOwner.selector, supplier2, root, supplier1)
        );
        vm.prank(supplier1);
        token.transferFrom(supplier2, supplier3, root);
    }

    function test_RevertWhen_transferFromNotApproved() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InsufficientApproval.selector, outsider, root));
        vm.prank(outsider);
        token.transferFrom(supplier1, supplier2, root);
    }

    function test_RevertWhen_transferFromByValueSpenderOnly() public {
        vm.prank(supplier1);
        token.approve(root, spender, type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InsufficientApproval.selector, spender, root));
        vm.prank(spender);
        token.transferFrom(supplier1, supplier2, root);
    }

    function test_RevertWhen_transferFromToZero() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InvalidReceiver.selector, address(0)));
        vm.prank(supplier1);
        token.transferFrom(supplier1, address(0), root);
    }

    function test_RevertWhen_transferFromRules() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotAHolder.selector, regulator));
        vm.prank(supplier1);
        token.transferFrom(supplier1, regulator, root);

        _suspend(supplier2);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, supplier2));
        vm.prank(supplier1);
        token.transferFrom(supplier1, supplier2, root);

        _suspend(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, supplier1));
        vm.prank(supplier1);
        token.transferFrom(supplier1, supplier3, root);
        _reactivate(supplier1);

        _freeze(root);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenFrozen.selector, root));
        vm.prank(supplier1);
        token.transferFrom(supplier1, supplier3, root);
        vm.prank(regulator);
        token.unfreeze(root, 0);

        vm.warp(MATURITY);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.ObligationMatured.selector, slot, MATURITY));
        vm.prank(supplier1);
        token.transferFrom(supplier1, supplier3, root);
    }

    function test_RevertWhen_transferFromNonexistent() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, 5));
        vm.prank(supplier1);
        token.transferFrom(supplier1, supplier2, 5);
    }

    function test_safeTransferFrom_toEoa() public {
        vm.prank(supplier1);
        token.safeTransferFrom(supplier1, supplier2, root);
        assertEq(token.ownerOf(root), supplier2);
        vm.prank(supplier2);
        token.safeTransferFrom(supplier2, supplier3, root, "hello");
        assertEq(token.ownerOf(root), supplier3);
    }

    function test_safeTransferFrom_acceptingReceiverGetsCallback() public {
        uint256 piece = _splitAs(supplier1, root, supplier2, UNIT);
        Receiver721 r = new Receiver721(Receiver721.Mode.Accept);
        _holderContract(address(r));
        vm.prank(supplier1);
        token.setApprovalForAll(operator, true);
        vm.prank(operator);
        token.safeTransferFrom(supplier1, address(r), root, "order-42");
        assertEq(token.ownerOf(root), address(r));
        assertEq(r.lastOperator(), operator);
        assertEq(r.lastFrom(), supplier1);
        assertEq(r.lastTokenId(), root);
        assertEq(r.lastData(), bytes("order-42"));

        Receiver721 r2 = new Receiver721(Receiver721.Mode.Accept);
        _holderContract(address(r2));
        vm.prank(supplier2);
        token.safeTransferFrom(supplier2, address(r2), piece);
        assertEq(token.ownerOf(piece), address(r2));
        assertEq(r2.lastData(), bytes(""));
    }

    function test_RevertWhen_safeTransferFromReceiverReturnsWrongValue() public {
        Receiver721 r = new Receiver721(Receiver721.Mode.WrongAnswer);
        _holderContract(address(r));
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(r)));
        vm.prank(supplier1);
        token.safeTransferFrom(supplier1, address(r), root);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(r)));
        vm.prank(supplier1);
        token.safeTransferFrom(supplier1, address(r), root, "x");
        assertEq(token.ownerOf(root), supplier1);
    }

    function test_RevertWhen_safeTransferFromReceiverReverts() public {
        Receiver721 r = new Receiver721(Receiver721.Mode.Revert);
        _holderContract(address(r));
        vm.expectRevert(bytes("no thanks"));
        vm.prank(supplier1);
        token.safeTransferFrom(supplier1, address(r), root);
    }

    function test_RevertWhen_safeTransferFromToContractWithoutHook() public {
        Bare b = new Bare();
        _holderContract(address(b));
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(b)));
        vm.prank(supplier1);
        token.safeTransferFrom(supplier1, address(b), root);
        // The unsafe variant does not ask.
        vm.prank(supplier1);
        token.transferFrom(supplier1, address(b), root);
        assertEq(token.ownerOf(root), address(b));
    }

    // ------------------------------------------------------------------ ERC-721 approvals

    function test_approve_setsAndEmits() public {
        vm.expectEmit(address(token));
        emit IERC721.Approval(supplier1, spender, root);
        vm.prank(supplier1);
        token.approve(spender, root);
        assertEq(token.getApproved(root), spender);
        assertEq(token.getApproved(root), spender);
        vm.prank(supplier1);
        token.approve(address(0), root);
        assertEq(token.getApproved(root), address(0));
    }

    function test_approve_byOperatorForAll() public {
        vm.prank(supplier1);
        token.setApprovalForAll(operator, true);
        vm.expectEmit(address(token));
        emit IERC721.Approval(supplier1, spender, root);
        vm.prank(operator);
        token.approve(spender, root);
        assertEq(token.getApproved(root), spender);
    }

    function test_RevertWhen_approveByStrangerOrApprovedAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InsufficientApproval.selector, outsider, root));
        vm.prank(outsider);
        token.approve(outsider, root);
        vm.prank(supplier1);
        token.approve(spender, root);
        // A single-token approval does not let its holder re-approve.
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InsufficientApproval.selector, spender, root));
        vm.prank(spender);
        token.approve(outsider, root);
    }

    function test_RevertWhen_approveNonexistent() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, 3));
        vm.prank(supplier1);
        token.approve(spender, 3);
    }

    function test_setApprovalForAll_setsAndRevokes() public {
        vm.expectEmit(address(token));
        emit IERC721.ApprovalForAll(supplier1, operator, true);
        vm.prank(supplier1);
        token.setApprovalForAll(operator, true);
        assertTrue(token.isApprovedForAll(supplier1, operator));
        vm.expectEmit(address(token));
        emit IERC721.ApprovalForAll(supplier1, operator, false);
        vm.prank(supplier1);
        token.setApprovalForAll(operator, false);
        assertFalse(token.isApprovedForAll(supplier1, operator));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InsufficientApproval.selector, operator, root));
        vm.prank(operator);
        token.transferFrom(supplier1, supplier2, root);
    }

    function test_RevertWhen_setApprovalForAllSelfOrZero() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.SelfApproval.selector, supplier1));
        vm.prank(supplier1);
        token.setApprovalForAll(supplier1, true);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.SelfApproval.selector, address(0)));
        vm.prank(supplier1);
        token.setApprovalForAll(address(0), true);
    }

    // ------------------------------------------------------------------ value approvals

    function test_approveValue_setsAndEmits() public {
        vm.expectEmit(address(token));
        emit IERC3525.ApprovalValue(root, spender, 12_300);
        vm.prank(supplier1);
        token.approve(root, spender, 12_300);
        assertEq(token.allowance(root, spender), 12_300);
        assertEq(token.allowance(root, operator), 0);
        vm.prank(supplier1);
        token.approve(root, spender, 0);
        assertEq(token.allowance(root, spender), 0);
    }

    function test_approveValue_byOperatorAndApprovedAddress() public {
        vm.prank(supplier1);
        token.setApprovalForAll(operator, true);
        vm.prank(operator);
        token.approve(root, spender, 100);
        assertEq(token.allowance(root, spender), 100);

        vm.prank(supplier1);
        token.approve(operator, root); // ERC-721 approval of the same token
        vm.prank(supplier1);
        token.setApprovalForAll(operator, false);
        vm.prank(operator);
        token.approve(root, outsider, 200);
        assertEq(token.allowance(root, outsider), 200);
    }

    /// @notice An allowance at or above 2^216 − 1 is unlimited: `allowance()` and the event both say
    ///         2^256 − 1, and spending never lowers it (nor emits).
    function test_approveValue_atOrAboveCapIsUnlimitedReportedAsMax() public {
        uint256[3] memory asks = [type(uint256).max, uint256(type(uint216).max), uint256(1) << 220];
        for (uint256 i = 0; i < asks.length; ++i) {
            vm.expectEmit(address(token));
            emit IERC3525.ApprovalValue(root, spender, type(uint256).max);
            vm.prank(supplier1);
            token.approve(root, spender, asks[i]);
            assertEq(token.allowance(root, spender), type(uint256).max);
            vm.recordLogs();
            _splitAs(spender, root, supplier2, 10_000);
            assertEq(token.allowance(root, spender), type(uint256).max);
            Vm.Log[] memory logs = vm.getRecordedLogs();
            for (uint256 j = 0; j < logs.length; ++j) {
                assertTrue(logs[j].topics[0] != IERC3525.ApprovalValue.selector, "unlimited allowance changed");
            }
        }
    }

    /// @notice Just below the cap, an allowance is an ordinary one: stored, reported and spent exactly.
    function test_approveValue_justBelowCapIsExact() public {
        uint256 ask = uint256(type(uint216).max) - 1;
        vm.expectEmit(address(token));
        emit IERC3525.ApprovalValue(root, spender, ask);
        vm.prank(supplier1);
        token.approve(root, spender, ask);
        assertEq(token.allowance(root, spender), ask);
        _splitAs(spender, root, supplier2, UNIT);
        assertEq(token.allowance(root, spender), ask - UNIT);
    }

    /// @notice EIP-3525: `ApprovalValue` MUST be emitted whenever an allowance changes, spending included.
    function test_spendAllowance_emitsApprovalValueWithWhatRemains() public {
        uint256 piece = _splitAs(supplier1, root, supplier2, UNIT);
        vm.prank(supplier1);
        token.approve(root, spender, 5_000);

        vm.expectEmit(address(token));
        emit IERC3525.ApprovalValue(root, spender, 2_000);
        _splitAs(spender, root, supplier3, 3_000);

        vm.expectEmit(address(token));
        emit IERC3525.ApprovalValue(root, spender, 1_000);
        vm.prank(spender);
        token.transferFrom(root, piece, 1_000);

        vm.expectEmit(address(token));
        emit IERC3525.ApprovalValue(root, spender, 0);
        vm.prank(spender);
        token.splitBatch(root, _addrs(supplier2, supplier3, supplier2), _vals(300, 300, 400));
        assertEq(token.allowance(root, spender), 0);
    }

    function test_RevertWhen_approveValueToOwnerOrZero() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.SelfApproval.selector, supplier1));
        vm.prank(supplier1);
        token.approve(root, supplier1, 1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.SelfApproval.selector, address(0)));
        vm.prank(supplier1);
        token.approve(root, address(0), 1);
    }

    function test_RevertWhen_approveValueByStrangerOrSpender() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InsufficientApproval.selector, outsider, root));
        vm.prank(outsider);
        token.approve(root, outsider, 1);
        vm.prank(supplier1);
        token.approve(root, spender, 1_000);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InsufficientApproval.selector, spender, root));
        vm.prank(spender);
        token.approve(root, outsider, 1);
    }

    function test_RevertWhen_approveValueNonexistent() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, 8));
        vm.prank(supplier1);
        token.approve(8, spender, 1);
    }

    function test_approvals_voidAfterWholeTokenMoves() public {
        vm.startPrank(supplier1);
        token.approve(spender, root);
        token.approve(root, operator, 50_000);
        vm.stopPrank();

        vm.prank(supplier1);
        token.transferFrom(supplier1, supplier2, root);
        assertEq(token.getApproved(root), address(0));
        assertEq(token.allowance(root, operator), 0);

        // Back to the first owner: the old approvals stay void.
        vm.prank(supplier2);
        token.transferFrom(supplier2, supplier1, root);
        assertEq(token.getApproved(root), address(0));
        assertEq(token.allowance(root, operator), 0);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InsufficientApproval.selector, spender, root));
        vm.prank(spender);
        token.transferFrom(supplier1, supplier2, root);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.InsufficientAllowance.selector, operator, root, 0, UNIT)
        );
        vm.prank(operator);
        token.transferFrom(root, supplier2, UNIT);

        // Fresh approvals after the move work.
        vm.prank(supplier1);
        token.approve(root, operator, UNIT);
        _splitAs(operator, root, supplier2, UNIT);
    }

    function test_approvals_voidAfterApprovedAddressMovesToken() public {
        vm.prank(supplier1);
        token.approve(spender, root);
        vm.prank(spender);
        token.transferFrom(supplier1, supplier2, root);
        assertEq(token.getApproved(root), address(0));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InsufficientApproval.selector, spender, root));
        vm.prank(spender);
        token.transferFrom(supplier2, supplier3, root);
    }

    function test_approvals_surviveSplit() public {
        vm.startPrank(supplier1);
        token.approve(spender, root);
        token.approve(root, operator, 5_000);
        token.transferFrom(root, supplier2, 10_000);
        vm.stopPrank();
        assertEq(token.getApproved(root), spender);
        assertEq(token.allowance(root, operator), 5_000);
    }

    function test_operatorApprovalIsPerOwner() public {
        vm.prank(supplier1);
        token.setApprovalForAll(operator, true);
        vm.prank(supplier1);
        token.transferFrom(supplier1, supplier2, root);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InsufficientApproval.selector, operator, root));
        vm.prank(operator);
        token.transferFrom(supplier2, supplier1, root);
    }

    // ------------------------------------------------------------------ no ether

    function test_RevertWhen_payableFunctionsReceiveEther() public {
        vm.deal(supplier1, 10 ether);
        uint256 piece = _splitAs(supplier1, root, supplier1, UNIT);
        vm.startPrank(supplier1);
        vm.expectRevert(IReceivableTokenBase.NoEtherAccepted.selector);
        token.approve{value: 1}(spender, root);
        vm.expectRevert(IReceivableTokenBase.NoEtherAccepted.selector);
        token.approve{value: 1}(root, spender, 1);
        vm.expectRevert(IReceivableTokenBase.NoEtherAccepted.selector);
        token.transferFrom{value: 1}(root, supplier2, UNIT);
        vm.expectRevert(IReceivableTokenBase.NoEtherAccepted.selector);
        token.transferFrom{value: 1}(root, piece, UNIT);
        vm.expectRevert(IReceivableTokenBase.NoEtherAccepted.selector);
        token.transferFrom{value: 1}(supplier1, supplier2, root);
        vm.expectRevert(IReceivableTokenBase.NoEtherAccepted.selector);
        token.safeTransferFrom{value: 1}(supplier1, supplier2, root);
        vm.expectRevert(IReceivableTokenBase.NoEtherAccepted.selector);
        token.safeTransferFrom{value: 1}(supplier1, supplier2, root, "");
        vm.stopPrank();
        assertEq(address(token).balance, 0);
    }

    function test_RevertWhen_plainEtherSent() public {
        vm.deal(supplier1, 1 ether);
        vm.prank(supplier1);
        (bool ok,) = address(token).call{value: 1}("");
        assertFalse(ok);
    }

    // ------------------------------------------------------------------ freeze / unfreeze

    function test_freeze_byRegulatorEmitsAndBlocks() public {
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.Frozen(root, regulator, 1001);
        vm.prank(regulator);
        token.freeze(root, 1001);
        assertTrue(token.isFrozen(root));

        vm.expectEmit(address(token));
        emit IReceivableTokenBase.Unfrozen(root, regulator, 2002);
        vm.prank(regulator);
        token.unfreeze(root, 2002);
        assertFalse(token.isFrozen(root));
        vm.prank(supplier1);
        token.transferFrom(supplier1, supplier2, root);
    }

    function test_freeze_approvalsStillSettable() public {
        _freeze(root);
        vm.prank(supplier1);
        token.approve(root, spender, 100);
        assertEq(token.allowance(root, spender), 100);
    }

    function test_freeze_matureTokenAllowed() public {
        vm.warp(MATURITY + 1);
        _freeze(root);
        assertTrue(token.isFrozen(root));
    }

    function test_RevertWhen_freezeByNonRegulator() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.MissingRole.selector, supplier1, Roles.REGULATOR));
        vm.prank(supplier1);
        token.freeze(root, 1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, enforcer));
        vm.prank(enforcer);
        token.freeze(root, 1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, admin));
        vm.prank(admin);
        token.freeze(root, 1);
    }

    function test_RevertWhen_freezeBySuspendedRegulator() public {
        _suspend(regulator);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, regulator));
        vm.prank(regulator);
        token.freeze(root, 1);
    }

    function test_RevertWhen_unfreezeByNonRegulator() public {
        _freeze(root);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.MissingRole.selector, supplier1, Roles.REGULATOR));
        vm.prank(supplier1);
        token.unfreeze(root, 1);
    }

    function test_RevertWhen_freezeTwice() public {
        _freeze(root);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenFrozen.selector, root));
        vm.prank(regulator);
        token.freeze(root, 1);
    }

    function test_RevertWhen_unfreezeNotFrozen() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenNotFrozen.selector, root));
        vm.prank(regulator);
        token.unfreeze(root, 1);
    }

    function test_RevertWhen_freezeOrUnfreezeNonexistent() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, 66));
        vm.prank(regulator);
        token.freeze(66, 1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, 66));
        vm.prank(regulator);
        token.unfreeze(66, 1);
    }

    // ------------------------------------------------------------------ forceTransfer

    function test_forceTransfer_wholeKeepsFreezeAndVoidsApprovals() public {
        vm.prank(supplier1);
        token.approve(spender, root);
        _freeze(root);
        bytes32 order = keccak256("(2025) Hu 0101 Zhi 1234");
        vm.expectEmit(address(token));
        emit IERC721.Transfer(supplier1, bank, root);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.ForcedTransfer(root, root, bank, FACE, order, enforcer);
        vm.prank(enforcer);
        uint256 to = token.forceTransfer(root, bank, FACE, order);
        assertEq(to, root);
        assertEq(token.ownerOf(root), bank);
        assertTrue(token.isFrozen(root));
        assertEq(token.getApproved(root), address(0));
        assertEq(token.balanceOf(root), FACE);
        assertEq(token.balanceOf(supplier1), 0);
        assertEq(token.balanceOf(bank), 1);
    }

    function test_forceTransfer_partialFromFrozenMaturedSuspended() public {
        _freeze(root);
        _suspend(supplier1);
        vm.warp(MATURITY + 1 days);
        bytes32 order = keccak256("order");
        vm.expectEmit(address(token));
        emit IERC3525.TransferValue(root, 2, 40_000);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.ForcedTransfer(root, 2, bank, 40_000, order, enforcer);
        vm.prank(enforcer);
        uint256 piece = token.forceTransfer(root, bank, 40_000, order);
        assertEq(piece, 2);
        assertEq(token.ownerOf(piece), bank);
        assertEq(token.balanceOf(piece), 40_000);
        assertEq(token.balanceOf(root), FACE - 40_000);
        assertFalse(token.isFrozen(piece));
        assertTrue(token.isFrozen(root));
        assertEq(token.parentOf(piece), root);
        assertEq(token.depthOf(piece), 1);
    }

    function test_forceTransfer_wholeFromSuspendedAfterMaturity() public {
        _suspend(supplier1);
        vm.warp(MATURITY + 1);
        vm.prank(enforcer);
        token.forceTransfer(root, supplier2, FACE, bytes32("order"));
        assertEq(token.ownerOf(root), supplier2);
    }

    function test_RevertWhen_forceTransferNotEnforcement() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotAuthorized.selector, regulator));
        vm.prank(regulator);
        token.forceTransfer(root, bank, FACE, bytes32("order"));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotAuthorized.selector, desk));
        vm.prank(desk);
        token.forceTransfer(root, bank, FACE, bytes32("order"));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotAuthorized.selector, admin));
        vm.prank(admin);
        token.forceTransfer(root, bank, FACE, bytes32("order"));
    }

    function test_RevertWhen_forceTransferReceiverInvalid() public {
        vm.startPrank(enforcer);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InvalidReceiver.selector, address(0)));
        token.forceTransfer(root, address(0), FACE, bytes32("o"));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.InvalidReceiver.selector, address(0)));
        token.forceTransfer(root, address(0), UNIT, bytes32("o"));
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.NotAHolder.selector, regulator));
        token.forceTransfer(root, regulator, FACE, bytes32("o"));
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, outsider));
        token.forceTransfer(root, outsider, UNIT, bytes32("o"));
        vm.stopPrank();
        _suspend(bank);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, bank));
        vm.prank(enforcer);
        token.forceTransfer(root, bank, UNIT, bytes32("o"));
    }

    function test_RevertWhen_forceTransferBadValue() public {
        vm.startPrank(enforcer);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotMultipleOfMinUnit.selector, 50, UNIT));
        token.forceTransfer(root, bank, 50, bytes32("o"));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotMultipleOfMinUnit.selector, 0, UNIT));
        token.forceTransfer(root, bank, 0, bytes32("o"));
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.InsufficientBalance.selector, root, FACE, FACE + UNIT)
        );
        token.forceTransfer(root, bank, FACE + UNIT, bytes32("o"));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, 99));
        token.forceTransfer(99, bank, UNIT, bytes32("o"));
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ deskTransfer

    function test_deskTransfer_wholeMovesToken() public {
        vm.expectEmit(address(token));
        emit IERC721.Transfer(supplier1, bank, root);
        vm.prank(desk);
        uint256 to = token.deskTransfer(supplier1, root, bank, FACE);
        assertEq(to, root);
        assertEq(token.ownerOf(root), bank);
        assertEq(token.lastTokenId(), 1);
    }

    function test_deskTransfer_partialSplits() public {
        vm.prank(desk);
        uint256 to = token.deskTransfer(supplier1, root, bank, 25_000);
        assertEq(to, 2);
        assertEq(token.ownerOf(to), bank);
        assertEq(token.balanceOf(to), 25_000);
        assertEq(token.parentOf(to), root);
        assertEq(token.balanceOf(root), FACE - 25_000);
    }

    function test_RevertWhen_deskTransferIncorrectOwner() public {
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.IncorrectOwner.selector, supplier2, root, supplier1)
        );
        vm.prank(desk);
        token.deskTransfer(supplier2, root, bank, FACE);
    }

    function test_RevertWhen_deskTransferNotDesk() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotAuthorized.selector, supplier1));
        vm.prank(supplier1);
        token.deskTransfer(supplier1, root, bank, FACE);
    }

    function test_RevertWhen_deskTransferRules() public {
        _freeze(root);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenFrozen.selector, root));
        vm.prank(desk);
        token.deskTransfer(supplier1, root, bank, FACE);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenFrozen.selector, root));
        vm.prank(desk);
        token.deskTransfer(supplier1, root, bank, UNIT);
        vm.prank(regulator);
        token.unfreeze(root, 0);

        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotMultipleOfMinUnit.selector, 1, UNIT));
        vm.prank(desk);
        token.deskTransfer(supplier1, root, bank, 1);

        _suspend(supplier1);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, supplier1));
        vm.prank(desk);
        token.deskTransfer(supplier1, root, bank, UNIT);
        _reactivate(supplier1);

        vm.warp(MATURITY);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.ObligationMatured.selector, slot, MATURITY));
        vm.prank(desk);
        token.deskTransfer(supplier1, root, bank, FACE);
    }

    function test_RevertWhen_deskTransferNonexistent() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, 4));
        vm.prank(desk);
        token.deskTransfer(supplier1, 4, bank, UNIT);
    }

    // ------------------------------------------------------------------ redeem

    function test_RevertWhen_redeemBeforeMaturity() public {
        vm.warp(MATURITY - 1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.ObligationNotMatured.selector, slot, MATURITY));
        vm.prank(desk);
        token.redeem(supplier1, root);
    }

    function test_redeem_afterMaturityBurnsAndKeepsLineage() public {
        uint256 a = _splitAs(supplier1, root, supplier2, 30_000);
        uint256 b = _splitAs(supplier2, a, supplier3, 10_000);
        vm.warp(MATURITY);

        vm.expectEmit(address(token));
        emit IERC3525.TransferValue(a, 0, 20_000);
        vm.expectEmit(address(token));
        emit IERC721.Transfer(supplier2, address(0), a);
        vm.prank(desk);
        (uint256 s, uint256 value) = token.redeem(supplier2, a);
        assertEq(s, slot);
        assertEq(value, 20_000);

        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, a));
        token.ownerOf(a);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, a));
        token.balanceOf(a);
        assertFalse(token.exists(a));
        assertEq(token.balanceOf(supplier2), 0);
        IReceivableTokenBase.SlotTerms memory t = token.slotTerms(slot);
        assertEq(t.supply, FACE - 20_000);
        assertEq(t.face, FACE);

        // The burned piece still answers lineage questions, and so do its children.
        assertEq(token.parentOf(a), root);
        assertEq(token.depthOf(a), 1);
        assertEq(token.rootOf(a), root);
        uint256[] memory chain = token.lineage(b);
        assertEq(chain.length, 3);
        assertEq(chain[0], b);
        assertEq(chain[1], a);
        assertEq(chain[2], root);
        assertEq(token.lineage(a).length, 2);
    }

    function test_redeem_allPiecesEmptiesSupply() public {
        uint256 a = _splitAs(supplier1, root, supplier2, 30_000);
        vm.warp(MATURITY + 365 days);
        vm.startPrank(desk);
        token.redeem(supplier1, root);
        token.redeem(supplier2, a);
        vm.stopPrank();
        assertEq(token.slotTerms(slot).supply, 0);
        assertEq(token.slotTerms(slot).rootTokenId, root);
        uint256[] memory chain = token.lineage(root);
        assertEq(chain.length, 1);
    }

    function test_RevertWhen_redeemFrozen() public {
        _freeze(root);
        vm.warp(MATURITY);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.TokenFrozen.selector, root));
        vm.prank(desk);
        token.redeem(supplier1, root);
    }

    function test_RevertWhen_redeemIncorrectOwnerOrNotDesk() public {
        vm.warp(MATURITY);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableTokenBase.IncorrectOwner.selector, supplier2, root, supplier1)
        );
        vm.prank(desk);
        token.redeem(supplier2, root);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotAuthorized.selector, supplier1));
        vm.prank(supplier1);
        token.redeem(supplier1, root);
    }

    function test_RevertWhen_redeemSuspendedHolder() public {
        _suspend(supplier1);
        vm.warp(MATURITY);
        vm.expectRevert(abi.encodeWithSelector(IParticipantRegistry.ParticipantNotActive.selector, supplier1));
        vm.prank(desk);
        token.redeem(supplier1, root);
    }

    function test_RevertWhen_redeemTwice() public {
        vm.warp(MATURITY);
        vm.prank(desk);
        token.redeem(supplier1, root);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, root));
        vm.prank(desk);
        token.redeem(supplier1, root);
    }

    function test_RevertWhen_actOnBurnedToken() public {
        vm.warp(MATURITY);
        vm.prank(desk);
        token.redeem(supplier1, root);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, root));
        vm.prank(regulator);
        token.freeze(root, 1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, root));
        vm.prank(enforcer);
        token.forceTransfer(root, bank, UNIT, bytes32("o"));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NonexistentToken.selector, root));
        token.tokenURI(root);
    }

    // ------------------------------------------------------------------ ERC-3525 receivers

    function test_receiver_declaringAndAcceptingIsNotified() public {
        Receiver3525 r = new Receiver3525(Receiver3525.Mode.Accept);
        _holderContract(address(r));
        vm.prank(supplier1);
        token.setApprovalForAll(operator, true);
        vm.prank(operator);
        uint256 piece = token.transferFrom(root, address(r), 5_000);
        assertEq(token.ownerOf(piece), address(r));
        assertEq(r.calls(), 1);
        assertEq(r.lastOperator(), operator);
        assertEq(r.lastFrom(), root);
        assertEq(r.lastTo(), piece);
        assertEq(r.lastValue(), 5_000);

        // A merge into the receiver's token notifies it too.
        vm.prank(supplier1);
        token.transferFrom(root, piece, 1_000);
        assertEq(r.calls(), 2);
        assertEq(r.lastOperator(), supplier1);
        assertEq(r.lastTo(), piece);
        assertEq(r.lastValue(), 1_000);
        assertEq(token.balanceOf(piece), 6_000);
    }

    function test_RevertWhen_receiverReturnsWrongValue() public {
        Receiver3525 r = new Receiver3525(Receiver3525.Mode.WrongAnswer);
        _holderContract(address(r));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.RejectedByReceiver.selector, address(r)));
        vm.prank(supplier1);
        token.transferFrom(root, address(r), UNIT);
    }

    function test_RevertWhen_receiverReverts() public {
        Receiver3525 r = new Receiver3525(Receiver3525.Mode.Revert);
        _holderContract(address(r));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.RejectedByReceiver.selector, address(r)));
        vm.prank(supplier1);
        token.transferFrom(root, address(r), UNIT);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.RejectedByReceiver.selector, address(r)));
        vm.prank(supplier1);
        token.splitBatch(root, _addrs(supplier2, address(r)), _vals(UNIT, UNIT));
    }

    function test_RevertWhen_mergeIntoRejectingReceiver() public {
        Receiver3525 r = new Receiver3525(Receiver3525.Mode.WrongAnswer);
        _holderContract(address(r));
        (uint256 s2, uint256 rTok) = _createSlot(address(r), FACE); // minting does not ask
        uint256 mine = _splitAs(address(r), rTok, supplier1, UNIT); // receiver pays an EOA: fine
        assertEq(token.slotOf(mine), s2);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.RejectedByReceiver.selector, address(r)));
        vm.prank(supplier1);
        token.transferFrom(mine, rTok, UNIT);
    }

    function test_receiver_undeclaredIsAccepted() public {
        Receiver3525 r = new Receiver3525(Receiver3525.Mode.Undeclared);
        _holderContract(address(r));
        uint256 piece = _splitAs(supplier1, root, address(r), UNIT);
        assertEq(token.ownerOf(piece), address(r));
        assertEq(r.calls(), 0);
    }

    function test_receiver_withoutErc165IsAccepted() public {
        Bare b = new Bare();
        _holderContract(address(b));
        uint256 piece = _splitAs(supplier1, root, address(b), UNIT);
        assertEq(token.ownerOf(piece), address(b));
        vm.prank(supplier1);
        token.transferFrom(root, piece, UNIT);
        assertEq(token.balanceOf(piece), 2 * UNIT);
    }

    function test_receiver_forcedAndDeskSplitsNotifyToo() public {
        Receiver3525 r = new Receiver3525(Receiver3525.Mode.Revert);
        _holderContract(address(r));
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.RejectedByReceiver.selector, address(r)));
        vm.prank(desk);
        token.deskTransfer(supplier1, root, address(r), UNIT);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.RejectedByReceiver.selector, address(r)));
        vm.prank(enforcer);
        token.forceTransfer(root, address(r), UNIT, bytes32("o"));
    }

    // ------------------------------------------------------------------ fuzz

    function testFuzz_split_conservesValue(uint96 face, uint96 piece) public {
        uint256 faceUnits = _bound(face, 1, type(uint96).max / UNIT);
        uint256 pieceUnits = _bound(piece, 1, faceUnits);
        (uint256 s, uint256 id) = _createSlot(supplier2, faceUnits * UNIT);
        uint256 newId = _splitAs(supplier2, id, supplier3, pieceUnits * UNIT);
        assertEq(token.balanceOf(newId), pieceUnits * UNIT);
        assertEq(token.balanceOf(id) + token.balanceOf(newId), faceUnits * UNIT);
        assertEq(token.slotOf(newId), s);
        assertEq(token.slotTerms(s).supply, faceUnits * UNIT);
    }

    function testFuzz_split_rejectsNonMultiples(uint256 value) public {
        vm.assume(value % UNIT != 0 || value == 0);
        vm.expectRevert(abi.encodeWithSelector(IReceivableTokenBase.NotMultipleOfMinUnit.selector, value, UNIT));
        vm.prank(supplier1);
        token.transferFrom(root, supplier2, value);
    }

    function testFuzz_batchSplit_conserves(uint8 n, uint256 seed) public {
        n = uint8(_bound(n, 1, 12));
        address[] memory to = new address[](n);
        uint256[] memory values = new uint256[](n);
        uint256 total;
        for (uint256 i = 0; i < n; ++i) {
            to[i] = i % 2 == 0 ? supplier2 : bank;
            values[i] = (1 + uint256(keccak256(abi.encode(seed, i))) % (FACE / UNIT / n)) * UNIT;
            total += values[i];
        }
        vm.prank(supplier1);
        uint256[] memory ids = token.splitBatch(root, to, values);
        uint256 sum = token.balanceOf(root);
        for (uint256 i = 0; i < n; ++i) {
            assertEq(token.balanceOf(ids[i]), values[i]);
            assertEq(token.parentOf(ids[i]), root);
            sum += values[i];
        }
        assertEq(sum, FACE);
        assertEq(token.balanceOf(root), FACE - total);
    }

    function testFuzz_merge_conserves(uint96 splitUnits, uint96 mergeUnits) public {
        uint256 s = _bound(splitUnits, 1, FACE / UNIT) * UNIT;
        uint256 m = _bound(mergeUnits, 1, s / UNIT) * UNIT;
        uint256 piece = _splitAs(supplier1, root, supplier2, s);
        vm.prank(supplier2);
        token.transferFrom(piece, root, m);
        assertEq(token.balanceOf(piece), s - m);
        assertEq(token.balanceOf(root), FACE - s + m);
        assertEq(token.parentOf(piece), root);
    }

    function testFuzz_allowance_spendsExactly(uint96 allowed, uint96 spend) public {
        uint256 a = _bound(allowed, 0, FACE);
        uint256 v = _bound(spend, 1, FACE / UNIT) * UNIT;
        vm.prank(supplier1);
        token.approve(root, spender, a);
        if (v > a) {
            vm.expectRevert(
                abi.encodeWithSelector(IReceivableTokenBase.InsufficientAllowance.selector, spender, root, a, v)
            );
            vm.prank(spender);
            token.transferFrom(root, supplier2, v);
        } else {
            _splitAs(spender, root, supplier2, v);
            assertEq(token.allowance(root, spender), a - v);
        }
    }

    function testFuzz_redeem_supplyTracksBurns(uint96 pieceUnits, uint32 lateBy) public {
        uint256 v = _bound(pieceUnits, 1, FACE / UNIT) * UNIT;
        uint256 piece = _splitAs(supplier1, root, supplier2, v);
        vm.warp(MATURITY + lateBy);
        vm.prank(desk);
        (, uint256 burned) = token.redeem(supplier2, piece);
        assertEq(burned, v);
        assertEq(token.slotTerms(slot).supply, FACE - v);
        assertEq(token.balanceOf(root), FACE - v);
    }

    // ------------------------------------------------------------------ burn and desk events

    /// @notice EIP-3525: a burn announces the token leaving its slot, `SlotChanged(id, slot, 0)`.
    function test_redeem_emitsSlotChangedToZero() public {
        uint256 a = _splitAs(supplier1, root, supplier2, 30_000);
        vm.warp(MATURITY);
        vm.expectEmit(address(token));
        emit IERC3525.SlotChanged(a, slot, 0);
        vm.prank(desk);
        token.redeem(supplier2, a);
    }

    /// @notice A desk's move names the desk, the holder and both tokens.
    function test_deskTransfer_emitsDeskMovedNamingTheDesk() public {
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.DeskMoved(root, 2, desk, supplier1, bank, 25_000);
        vm.prank(desk);
        token.deskTransfer(supplier1, root, bank, 25_000);

        vm.expectEmit(address(token));
        emit IReceivableTokenBase.DeskMoved(root, root, desk, supplier1, bank, FACE - 25_000);
        vm.prank(desk);
        token.deskTransfer(supplier1, root, bank, FACE - 25_000);
    }

    /// @notice A redemption names the desk that burned the token.
    function test_redeem_emitsDeskRedeemedNamingTheDesk() public {
        vm.warp(MATURITY);
        vm.expectEmit(address(token));
        emit IReceivableTokenBase.DeskRedeemed(root, slot, desk, supplier1, FACE);
        vm.prank(desk);
        token.redeem(supplier1, root);
    }
}
