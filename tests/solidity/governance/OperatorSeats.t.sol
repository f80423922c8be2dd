// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {OperatorSeats} from "../../../contracts/governance/OperatorSeats.sol";

contract OperatorSeatsTest is Test {
    event OperatorSeated(address indexed operator);
    event OperatorUnseated(address indexed operator);
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    event DelegateChanged(address indexed delegator, address indexed fromDelegate, address indexed toDelegate);

    OperatorSeats internal seats;
    address internal owner = makeAddr("timelock");
    address internal op1 = makeAddr("op1");
    address internal op2 = makeAddr("op2");
    address internal op3 = makeAddr("op3");
    address internal stranger = makeAddr("stranger");

    function setUp() public {
        vm.roll(10);
        address[] memory ops = new address[](2);
        (ops[0], ops[1]) = (op1, op2);
        seats = new OperatorSeats(owner, ops);
    }

    function test_constructorSeatsOperatorsWithTheirOwnVote() public {
        assertEq(seats.owner(), owner);
        assertEq(seats.seatCount(), 2);
        assertTrue(seats.isSeated(op1));
        assertTrue(seats.isSeated(op2));
        assertFalse(seats.isSeated(op3));
        assertEq(seats.ownerOf(uint256(uint160(op1))), op1);
        assertEq(seats.seatId(op1), uint256(uint160(op1)));
        assertEq(seats.delegates(op1), op1);
        assertEq(seats.getVotes(op1), 1);
        assertEq(seats.getVotes(op2), 1);
        assertEq(seats.name(), "Tierchain Operator Seat");
        assertEq(seats.symbol(), "TSEAT");
        assertEq(seats.clock(), block.number);
        assertEq(seats.CLOCK_MODE(), "mode=blocknumber&from=default");
        vm.roll(11);
        assertEq(seats.getPastVotes(op1, 10), 1);
        assertEq(seats.getPastTotalSupply(10), 2);
    }

    function test_constructorRefusesARepeatedOrZeroOperator() public {
        address[] memory ops = new address[](2);
        (ops[0], ops[1]) = (op1, op1);
        vm.expectRevert(abi.encodeWithSelector(OperatorSeats.AlreadySeated.selector, op1));
        new OperatorSeats(owner, ops);
        ops[1] = address(0);
        vm.expectRevert(OperatorSeats.ZeroOperator.selector);
        new OperatorSeats(owner, ops);
    }

    function test_seatMintsDelegatesAndEmits() public {
        vm.expectEmit(address(seats));
        emit Transfer(address(0), op3, uint256(uint160(op3)));
        vm.expectEmit(address(seats));
        emit DelegateChanged(op3, address(0), op3);
        vm.expectEmit(address(seats));
        emit OperatorSeated(op3);
        vm.prank(owner);
        seats.seat(op3);
        assertEq(seats.seatCount(), 3);
        assertEq(seats.getVotes(op3), 1);
        // usable from the next block (the governor reads the past)
        vm.roll(11);
        assertEq(seats.getPastVotes(op3, 10), 1);
    }

    function test_onlyOwnerSeatsAndUnseats() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        seats.seat(op3);
        vm.prank(op1);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, op1));
        seats.unseat(op2);
    }

    function test_seatRefusesSeatedAndZero() public {
        vm.startPrank(owner);
        vm.expectRevert(abi.encodeWithSelector(OperatorSeats.AlreadySeated.selector, op1));
        seats.seat(op1);
        vm.expectRevert(OperatorSeats.ZeroOperator.selector);
        seats.seat(address(0));
        vm.stopPrank();
    }

    function test_unseatBurnsAndRemovesTheVote() public {
        vm.roll(11);
        vm.expectEmit(address(seats));
        emit Transfer(op2, address(0), uint256(uint160(op2)));
        vm.expectEmit(address(seats));
        emit OperatorUnseated(op2);
        vm.prank(owner);
        seats.unseat(op2);
        assertFalse(seats.isSeated(op2));
        assertEq(seats.seatCount(), 1);
        assertEq(seats.getVotes(op2), 0);
        assertEq(seats.balanceOf(op2), 0);
        vm.roll(12);
        assertEq(seats.getPastVotes(op2, 10), 1, "history is kept");
        assertEq(seats.getPastVotes(op2, 11), 0);
    }

    function test_unseatRefusesAnUnseatedOperator() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(OperatorSeats.NotSeated.selector, op3));
        seats.unseat(op3);
    }

    function test_reseatAfterUnseatRestoresOneVote() public {
        vm.startPrank(owner);
        seats.unseat(op1);
        seats.seat(op1);
        vm.stopPrank();
        assertEq(seats.getVotes(op1), 1);
        assertEq(seats.seatCount(), 2);
    }

    function test_seatsAreNotTransferable() public {
        uint256 id = seats.seatId(op1);
        vm.startPrank(op1);
        vm.expectRevert(OperatorSeats.SeatsAreNotTransferable.selector);
        seats.transferFrom(op1, op3, id);
        vm.expectRevert(OperatorSeats.SeatsAreNotTransferable.selector);
        seats.safeTransferFrom(op1, op3, id);
        vm.expectRevert(OperatorSeats.SeatsAreNotTransferable.selector);
        seats.safeTransferFrom(op1, op3, id, "");
        vm.expectRevert(OperatorSeats.SeatsAreNotTransferable.selector);
        seats.approve(op3, id);
        vm.expectRevert(OperatorSeats.SeatsAreNotTransferable.selector);
        seats.setApprovalForAll(op3, true);
        vm.stopPrank();
        assertEq(seats.ownerOf(id), op1);
        assertEq(seats.getVotes(op1), 1);
    }

    function test_theOwnerCannotMoveASeatEither() public {
        uint256 id = seats.seatId(op1);
        vm.prank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(bytes4(keccak256("ERC721InsufficientApproval(address,uint256)")), owner, id)
        );
        seats.transferFrom(op1, owner, id);
    }

    function test_votesCannotBeDelegatedAway() public {
        vm.startPrank(op1);
        vm.expectRevert(abi.encodeWithSelector(OperatorSeats.SeatVotesAreNotDelegable.selector, op2));
        seats.delegate(op2);
        vm.expectRevert(abi.encodeWithSelector(OperatorSeats.SeatVotesAreNotDelegable.selector, address(0)));
        seats.delegate(address(0));
        seats.delegate(op1); // to itself: a no-op
        vm.stopPrank();
        assertEq(seats.getVotes(op1), 1);
        assertEq(seats.getVotes(op2), 1);
    }

    function test_delegateBySigCannotMoveAVoteEither() public {
        (address signer, uint256 pk) = makeAddrAndKey("signer");
        vm.prank(owner);
        seats.seat(signer);
        bytes32 typehash = keccak256("Delegation(address delegatee,uint256 nonce,uint256 expiry)");
        bytes32 structHash = keccak256(abi.encode(typehash, op1, 0, block.timestamp + 1));
        (, string memory name, string memory version, uint256 chainId, address verifying,,) = seats.eip712Domain();
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes(name)),
                keccak256(bytes(version)),
                chainId,
                verifying
            )
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, keccak256(abi.encodePacked("\x19\x01", domain, structHash)));
        vm.expectRevert(abi.encodeWithSelector(OperatorSeats.SeatVotesAreNotDelegable.selector, op1));
        seats.delegateBySig(op1, 0, block.timestamp + 1, v, r, s);
    }

    function testFuzz_seatIdIsTheOperatorAddress(address operator) public {
        vm.assume(operator != address(0) && operator != op1 && operator != op2);
        vm.prank(owner);
        seats.seat(operator);
        assertEq(seats.ownerOf(uint256(uint160(operator))), operator);
        assertEq(seats.getVotes(operator), 1);
    }
}
