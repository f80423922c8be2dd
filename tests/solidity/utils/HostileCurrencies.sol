// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {World} from "./World.sol";
import {IssuanceDesk} from "../../../contracts/IssuanceDesk.sol";
import {ITradeRegistry} from "../../../contracts/interfaces/ITradeRegistry.sol";

/// @title CallbackCurrency
/// @notice An ERC-20 with a transfer hook (as ERC-777 or ERC-1363 tokens have): when armed, the next
///         `transferFrom` first calls `target` with `data`, as a token contract or its hook receiver could.
/// @dev The hook never reverts: its outcome is recorded (`hookSucceeded`, `hookReturnData`) so a test can
///      tell "refused by the desk" from "went through".
contract CallbackCurrency is ERC20 {
    address public target;
    bytes public data;
    bool public armed;
    bool public hookRan;
    bool public hookSucceeded;
    bytes public hookReturnData;

    constructor() ERC20("Callback deposit", "CBK") {}

    function decimals() public pure override returns (uint8) {
        return 2;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice The next `transferFrom` calls `target_` with `data_` before moving the money.
    function arm(address target_, bytes calldata data_) external {
        (target, data, armed) = (target_, data_, true);
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (armed) {
            armed = false;
            hookRan = true;
            (hookSucceeded, hookReturnData) = target.call(data);
        }
        return super.transferFrom(from, to, value);
    }
}

/// @title FeeOnTransferCurrency
/// @notice An ERC-20 that keeps `feeBps` of every transfer: the receiver gets less than the amount sent.
contract FeeOnTransferCurrency is ERC20 {
    uint256 public immutable feeBps;

    constructor(uint256 feeBps_) ERC20("Fee deposit", "FEE") {
        feeBps = feeBps_;
    }

    function decimals() public pure override returns (uint8) {
        return 2;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) return super._update(from, to, value);
        uint256 fee = value * feeBps / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}

/// @title HostileCurrencyWorld
/// @notice The World plus obligations settled in a currency of the test's choosing.
abstract contract HostileCurrencyWorld is World {
    /// @notice Maps `code` to `currency`, attests an invoice in it and issues `face` from `obligor` to
    ///         `supplier`, maturing at `maturity`.
    function issueIn(bytes3 code, address currency, address supplier, address obligor, uint256 face, uint256 maturity)
        internal
        returns (uint256 slot, uint256 tokenId)
    {
        if (issuance.currencyToken(code) == address(0)) {
            vm.prank(admin);
            issuance.setCurrency(code, currency);
        }
        ITradeRegistry.Attestation memory a = _attestation(ITradeRegistry.DocumentKind.Invoice, supplier, obligor, face);
        a.currency = code;
        trades.attest(a, _oracleSignatures(a, ORACLE_THRESHOLD));
        IssuanceDesk.Terms memory t = _terms(supplier, obligor, face, maturity, MIN_UNIT, a.fingerprint);
        t.currency = code;
        (slot, tokenId) = _confirm(_propose(t), t);
    }
}
