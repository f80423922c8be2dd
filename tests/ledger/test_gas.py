"""Gas policy maths: legacy prices, EIP-1559 caps, and the limit head-room."""

from __future__ import annotations

from ledger.config import Eip1559Gas, LegacyGas
from ledger.gas import fee_fields, gas_limit, needs_node_price


def test_legacy_fixed_and_node_price() -> None:
    assert fee_fields(LegacyGas(type="legacy", gas_price_wei=0)) == {"gasPrice": 0}
    from_node = LegacyGas(type="legacy")
    assert needs_node_price(from_node)
    assert fee_fields(from_node, node_gas_price_wei=7) == {"gasPrice": 7}


def test_eip1559_doubles_base_fee_and_respects_cap() -> None:
    policy = Eip1559Gas(type="eip1559", max_priority_fee_per_gas_wei=2)
    assert fee_fields(policy, base_fee_wei=10) == {"maxFeePerGas": 22, "maxPriorityFeePerGas": 2}
    capped = Eip1559Gas(type="eip1559", max_fee_per_gas_wei=15, max_priority_fee_per_gas_wei=20)
    assert fee_fields(capped, base_fee_wei=10) == {"maxFeePerGas": 15, "maxPriorityFeePerGas": 15}


def test_gas_limit_rounds_up() -> None:
    assert gas_limit(21000, LegacyGas(type="legacy", gas_limit_multiplier=1.25)) == 26250
    assert gas_limit(3, Eip1559Gas(type="eip1559", gas_limit_multiplier=1.2)) == 4
