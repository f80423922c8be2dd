"""Deploy governance and hand the system over to it: the last part of `ledger.deploy`'s steps.

Order (each step resumable; a step whose effect the chain already shows is skipped):

1. `TierchainTimelock(minDelay = policy delay, defaultDelay = admin delay, the selector table of the
   design's classes, proposers = [], executors = [address(0)], admin = deployer)`;
2. `OperatorSeats(owner = the timelock, operators)`: every operator seated (and self-delegated) at
   construction, the seats owned by the timelock from the start;
3. `TierchainGovernor(seats, timelock, voting period, approvals, proposal guardian = guardian)`;
4. timelock roles: PROPOSER and CANCELLER to the governor, CANCELLER to the guardian;
5. registry roles: DEFAULT_ADMIN_ROLE and POLICY to the timelock, ONBOARDING and GUARDIAN to their keys;
6. `hand_over` (after every configuration call of the deployment): the deployer renounces the
   timelock's admin role, then POLICY (unless configured to keep it) and the registry's
   DEFAULT_ADMIN_ROLE, last.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from eth_utils.crypto import keccak
from web3 import Web3

from ledger.compile import Artifact
from ledger.config import GovernanceConfig
from ledger.errors import DeploymentError

DEFAULT_ADMIN = b"\x00" * 32
PROPOSER = keccak(text="PROPOSER_ROLE")
CANCELLER = keccak(text="CANCELLER_ROLE")
POLICY = keccak(text="POLICY")
ONBOARDING = keccak(text="ONBOARDING")
GUARDIAN = keccak(text="GUARDIAN")
ZERO_ADDRESS = "0x" + "00" * 20

# The design's delay classes: (contract artifact, function name) → class. Any selector not listed
# takes the timelock's default delay, which is the admin delay.
POLICY_FUNCTIONS = (
    ("TradeRegistry", "setThreshold(uint8)"),
    ("IssuanceDesk", "setCurrency(bytes3,address)"),
    ("ReceivableToken", "setBaseURI(string)"),
    ("ParticipantRegistry", "unpause(uint8,string)"),
)
ADMIN_FUNCTIONS = (
    ("ParticipantRegistry", "grantRole(bytes32,address)"),
    ("ParticipantRegistry", "revokeRole(bytes32,address)"),
    ("ParticipantRegistry", "upgradeToAndCall(address,bytes)"),
    ("ParticipantRegistry", "bindDesks(address[])"),
    ("OperatorSeats", "seat(address)"),
    ("OperatorSeats", "unseat(address)"),
    ("TierchainGovernor", "setApprovalsRequired(uint256)"),
    ("TierchainTimelock", "setFunctionDelay(bytes4,uint256)"),
    ("TierchainTimelock", "setDefaultDelay(uint256)"),
    ("TierchainTimelock", "updateDelay(uint256)"),
    ("TierchainGovernor", "setVotingPeriod(uint32)"),
    ("TierchainGovernor", "setProposalGuardian(address)"),
)


class Steps(Protocol):
    """What a deployment run offers this module (`ledger.deploy._Deployer`)."""

    w3: Web3
    artifacts: Mapping[str, Artifact]

    @property
    def deployer(self) -> str: ...

    def address(self, name: str) -> str: ...

    def deploy(self, name: str, *args: Any) -> str: ...

    def contract(self, name: str) -> Any: ...

    def wire(self, step: str, done: bool, contract: Any, fn: str, *args: Any) -> None: ...


def _selector(artifacts: Mapping[str, Artifact], contract: str, signature: str) -> bytes:
    """The selector of `signature`, which the compiled `contract` must declare (so the table cannot
    drift from the contracts unnoticed)."""
    artifact = artifacts.get(contract)
    if artifact is None:
        raise DeploymentError(f"no artifact for {contract}; run `tierchain compile`")
    if signature not in artifact.methodIdentifiers:
        raise DeploymentError(f"{contract} declares no {signature}; the timelock's delay table names it")
    return bytes.fromhex(artifact.methodIdentifiers[signature])


def delay_table(artifacts: Mapping[str, Artifact], config: GovernanceConfig) -> tuple[list[bytes], list[int]]:
    """Selectors and delays the timelock is built with: the policy class and the admin class, listed."""
    table: dict[bytes, int] = {}
    for contract, function in ADMIN_FUNCTIONS:
        table[_selector(artifacts, contract, function)] = config.admin_delay_seconds
    for contract, function in POLICY_FUNCTIONS:
        selector = _selector(artifacts, contract, function)
        if selector in table:
            raise DeploymentError(f"{contract}.{function} shares its selector with an admin function")
        table[selector] = config.policy_delay_seconds
    return list(table), list(table.values())


def governance_steps(config: GovernanceConfig) -> list[str]:
    """Every idempotency step name this module may use (so a fresh deployment can retire them)."""
    keys = {config.guardian, config.onboarding}
    return [
        "TierchainTimelock",
        "OperatorSeats",
        "TierchainGovernor",
        "timelock:proposer:governor",
        "timelock:canceller:governor",
        *(f"timelock:canceller:{k}" for k in keys),
        "registry:admin:timelock",
        "registry:policy:timelock",
        *(f"registry:onboarding:{config.onboarding}", f"registry:guardian:{config.guardian}"),
        "registry:policy:deployer",
        "hand-over:timelock-admin",
        "hand-over:policy",
        "hand-over:admin",
    ]


def _checksum(address: str) -> str:
    return str(Web3.to_checksum_address(address))


def deploy_governance(steps: Steps, config: GovernanceConfig) -> None:
    """Steps 1 to 5 of the module docstring; `config` must be resolved (no "deployer" placeholders)."""
    deployer = steps.deployer
    selectors, delays = delay_table(steps.artifacts, config)
    operators = [_checksum(o) for o in config.operators]
    guardian, onboarding = _checksum(config.guardian), _checksum(config.onboarding)
    timelock_address = steps.deploy(
        "TierchainTimelock",
        config.policy_delay_seconds,
        config.admin_delay_seconds,
        selectors,
        delays,
        [],
        [ZERO_ADDRESS],
        deployer,
    )
    seats_address = steps.deploy("OperatorSeats", timelock_address, operators)
    governor_address = steps.deploy(
        "TierchainGovernor",
        seats_address,
        timelock_address,
        config.voting_period_blocks,
        config.approvals,
        guardian,
    )

    timelock = steps.contract("TierchainTimelock")
    for step, role, account in (
        ("timelock:proposer:governor", PROPOSER, governor_address),
        ("timelock:canceller:governor", CANCELLER, governor_address),
        (f"timelock:canceller:{guardian}", CANCELLER, guardian),
    ):
        steps.wire(step, _has(timelock, role, account), timelock, "grantRole", role, account)

    registry = steps.contract("ParticipantRegistry")
    for step, role, account in (
        ("registry:admin:timelock", DEFAULT_ADMIN, timelock_address),
        ("registry:policy:timelock", POLICY, timelock_address),
        (f"registry:onboarding:{onboarding}", ONBOARDING, onboarding),
        (f"registry:guardian:{guardian}", GUARDIAN, guardian),
    ):
        steps.wire(step, _has(registry, role, account), registry, "grantRole", role, account)


def hold_policy(steps: Steps) -> None:
    """Give the deployer POLICY for the deployment's own configuration calls (setCurrency...);
    `hand_over` takes it back. Skipped when the registry's admin was handed over already."""
    registry = steps.contract("ParticipantRegistry")
    deployer = steps.deployer
    done = _has(registry, POLICY, deployer) or not _has(registry, DEFAULT_ADMIN, deployer)
    steps.wire("registry:policy:deployer", done, registry, "grantRole", POLICY, deployer)


def hand_over(steps: Steps, config: GovernanceConfig) -> None:
    """Step 6: the deployer gives up its powers; call it after every configuration call."""
    deployer = steps.deployer
    timelock = steps.contract("TierchainTimelock")
    registry = steps.contract("ParticipantRegistry")
    timelock_address = steps.address("TierchainTimelock")
    if not _has(registry, DEFAULT_ADMIN, timelock_address) or not _has(registry, POLICY, timelock_address):
        raise DeploymentError(
            "the timelock does not hold the registry's admin and POLICY roles; not handing over"
        )
    steps.wire(
        "hand-over:timelock-admin",
        not _has(timelock, DEFAULT_ADMIN, deployer),
        timelock,
        "renounceRole",
        DEFAULT_ADMIN,
        deployer,
    )
    steps.wire(
        "hand-over:policy", not _has(registry, POLICY, deployer), registry, "renounceRole", POLICY, deployer
    )
    steps.wire(
        "hand-over:admin",
        not _has(registry, DEFAULT_ADMIN, deployer),
        registry,
        "renounceRole",
        DEFAULT_ADMIN,
        deployer,
    )


def _has(contract: Any, role: bytes, account: str) -> bool:
    return bool(contract.functions.hasRole(role, _checksum(account)).call())
