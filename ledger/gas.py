"""Gas pricing from a network's gas policy: pure functions, so the policy is testable without a node.

Legacy chains (Besu QBFT, often at zero price) get `gasPrice`; EIP-1559 chains get a max fee of
twice the current base fee plus the tip, which stays valid through about six full blocks of
base-fee rise, then capped by the policy so a fee spike cannot drain the signer.
"""

from __future__ import annotations

import math

from ledger.config import Eip1559Gas, LegacyGas


def needs_node_price(policy: LegacyGas | Eip1559Gas) -> bool:
    """True when the policy leaves the legacy gas price to the node (`eth_gasPrice`)."""
    return isinstance(policy, LegacyGas) and policy.gas_price_wei is None


def fee_fields(
    policy: LegacyGas | Eip1559Gas, *, base_fee_wei: int = 0, node_gas_price_wei: int = 0
) -> dict[str, int]:
    if isinstance(policy, LegacyGas):
        price = policy.gas_price_wei if policy.gas_price_wei is not None else node_gas_price_wei
        return {"gasPrice": price}
    priority = policy.max_priority_fee_per_gas_wei
    max_fee = 2 * base_fee_wei + priority
    if policy.max_fee_per_gas_wei is not None:
        max_fee = min(max_fee, policy.max_fee_per_gas_wei)
        priority = min(priority, max_fee)
    return {"maxFeePerGas": max_fee, "maxPriorityFeePerGas": priority}


def gas_limit(estimate: int, policy: LegacyGas | Eip1559Gas) -> int:
    """The estimate with the policy's head-room, rounded up (never below the estimate)."""
    return math.ceil(estimate * policy.gas_limit_multiplier)
