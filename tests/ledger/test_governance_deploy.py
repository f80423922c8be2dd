"""Deployment hands the system to governance: proxies, timelock, seats, governor, roles, hand-over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_utils.crypto import keccak
from governance_world import (
    ADMIN_DELAY,
    DEPLOYER,
    GOVERNANCE,
    GUARDIAN,
    ONBOARDING,
    OPERATORS,
    POLICY_DELAY,
    deploy_governed,
    deployer_manager,
)
from web3 import Web3

from ledger.compile import Artifact, CompileResult
from ledger.config import NetworkConfig, parse_network
from ledger.deploy import (
    IMPLEMENTATION_PARTS,
    IMPLEMENTATION_SLOT,
    SYSTEM_CONTRACTS,
    manifest_path,
    read_manifest,
)
from ledger.errors import ConfigError, TierchainError
from ledger.localchain import LocalChain
from ledger.tx import TransactionManager

pytestmark = pytest.mark.chain

ADMIN = b"\x00" * 32
ROLE = {n: keccak(text=n) for n in ("POLICY", "ONBOARDING", "GUARDIAN", "PROPOSER_ROLE", "CANCELLER_ROLE")}


@pytest.fixture
def manager(
    clean_chain: LocalChain, local_network: NetworkConfig, tierchain_build: CompileResult, tmp_path: Path
) -> TransactionManager:
    return deployer_manager(clean_chain, local_network, tierchain_build, tmp_path)


def _at(w3: Web3, artifacts: dict[str, Artifact], name: str, address: str) -> Any:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifacts[name].abi)


def test_deployment_hands_every_power_to_governance(
    manager: TransactionManager, local_network: NetworkConfig, tierchain_build: CompileResult, tmp_path: Path
) -> None:
    artifacts = tierchain_build.artifacts
    outcome = deploy_governed(manager, local_network, tierchain_build, tmp_path)
    d = outcome.deployment
    w3 = manager.w3
    assert outcome.status == "deployed"
    assert d.governance == GOVERNANCE
    assert set(d.implementations) == {*SYSTEM_CONTRACTS, *IMPLEMENTATION_PARTS}
    assert {"TierchainTimelock", "OperatorSeats", "TierchainGovernor"} <= set(d.contracts)
    for name in SYSTEM_CONTRACTS:  # each name is the proxy; the proxy points at the recorded implementation
        slot = bytes(w3.eth.get_storage_at(d.address(name), IMPLEMENTATION_SLOT))
        assert Web3.to_checksum_address(slot[-20:]) == d.implementations[name].address
        assert _at(w3, artifacts, name, d.address(name)).functions.version().call() == "1.0.0"

    registry = _at(w3, artifacts, "ParticipantRegistry", d.address("ParticipantRegistry"))
    timelock = _at(w3, artifacts, "TierchainTimelock", d.address("TierchainTimelock"))
    governor = _at(w3, artifacts, "TierchainGovernor", d.address("TierchainGovernor"))
    seats = _at(w3, artifacts, "OperatorSeats", d.address("OperatorSeats"))
    has = registry.functions.hasRole
    lock = timelock.functions
    gov = governor.functions

    # The deployer keeps nothing; the timelock governs; the operator keys act at once.
    for role in (ADMIN, ROLE["POLICY"], ROLE["ONBOARDING"], ROLE["GUARDIAN"]):
        assert not has(role, DEPLOYER.address).call()
    assert not lock.hasRole(ADMIN, DEPLOYER.address).call()
    assert has(ADMIN, timelock.address).call() and has(ROLE["POLICY"], timelock.address).call()
    assert registry.functions.getRoleMemberCount(ADMIN).call() == 1
    assert (
        has(ROLE["ONBOARDING"], ONBOARDING.address).call() and has(ROLE["GUARDIAN"], GUARDIAN.address).call()
    )
    assert lock.hasRole(ROLE["PROPOSER_ROLE"], governor.address).call()
    assert lock.hasRole(ROLE["CANCELLER_ROLE"], governor.address).call()
    assert lock.hasRole(ROLE["CANCELLER_ROLE"], GUARDIAN.address).call()
    assert lock.hasRole(keccak(text="EXECUTOR_ROLE"), "0x" + "00" * 20).call()
    assert gov.proposalGuardian().call() == GUARDIAN.address

    # Seats, approvals, voting period, the class delays.
    assert seats.functions.owner().call() == timelock.address
    assert seats.functions.seatCount().call() == 3
    assert all(seats.functions.isSeated(o.address).call() for o in OPERATORS)
    assert (gov.approvalsRequired().call(), gov.votingPeriod().call()) == (2, 200)
    assert (lock.getMinDelay().call(), lock.defaultDelay().call()) == (POLICY_DELAY, ADMIN_DELAY)
    policy = artifacts["TradeRegistry"].methodIdentifiers["setThreshold(uint8)"]
    admin = artifacts["ParticipantRegistry"].methodIdentifiers["grantRole(bytes32,address)"]
    assert lock.functionDelay(bytes.fromhex(policy)).call() == POLICY_DELAY
    assert lock.functionDelay(bytes.fromhex(admin)).call() == ADMIN_DELAY

    # The configuration calls ran before the hand-over.
    issuance = _at(w3, artifacts, "IssuanceDesk", d.address("IssuanceDesk"))
    assert issuance.functions.currencyToken(b"CNY").call() == d.currencies["CNY"]
    assert registry.functions.desksBound().call()

    nonce = w3.eth.get_transaction_count(DEPLOYER.address)
    again = deploy_governed(manager, local_network, tierchain_build, tmp_path)
    assert (again.status, again.transactions, again.deployment) == ("verified", 0, d)
    assert w3.eth.get_transaction_count(DEPLOYER.address) == nonce


def test_a_failed_deployment_resumes_without_repeating_a_step(
    manager: TransactionManager, local_network: NetworkConfig, tierchain_build: CompileResult, tmp_path: Path
) -> None:
    # The governor's creation code reverts (PUSH0 PUSH0 REVERT): the run stops after timelock and seats.
    governor = tierchain_build.artifacts["TierchainGovernor"].model_copy(update={"bytecode": "0x5f5ffd"})
    broken = {**tierchain_build.artifacts, "TierchainGovernor": governor}
    with pytest.raises(TierchainError):
        deploy_governed(manager, local_network, tierchain_build, tmp_path, artifacts=broken)
    partial = read_manifest(manifest_path(tmp_path, "local").with_suffix(".partial.json"))
    assert partial is not None and {"TierchainTimelock", "OperatorSeats"} <= set(partial.contracts)
    assert not manifest_path(tmp_path, "local").exists()
    done = len(partial.contracts) + len(partial.implementations)

    resumed = deploy_governed(manager, local_network, tierchain_build, tmp_path)
    full = deploy_governed(manager, local_network, tierchain_build, tmp_path / "other", fresh=True)
    assert resumed.status == "resumed" and full.status == "deployed"
    assert resumed.transactions == full.transactions - done
    d = resumed.deployment
    for name in ("TierchainTimelock", "OperatorSeats", *SYSTEM_CONTRACTS):
        assert d.contracts[name] == partial.contracts[name]  # deployed once, kept
    assert deploy_governed(manager, local_network, tierchain_build, tmp_path).status == "verified"


def test_local_defaults_make_the_deployer_the_only_seat(
    manager: TransactionManager, local_network: NetworkConfig, tierchain_build: CompileResult, tmp_path: Path
) -> None:
    bare = local_network.model_copy(update={"governance": None})
    from ledger.deploy import deploy_system

    d = deploy_system(manager, bare, tierchain_build.artifacts, manifest_path(tmp_path, "local")).deployment
    assert d.governance is not None
    assert d.governance.operators == [DEPLOYER.address] and d.governance.approvals == 1
    assert (d.governance.guardian, d.governance.onboarding) == (DEPLOYER.address, DEPLOYER.address)
    assert (d.governance.admin_delay_seconds, d.governance.policy_delay_seconds) == (0, 0)
    registry = _at(
        manager.w3, tierchain_build.artifacts, "ParticipantRegistry", d.address("ParticipantRegistry")
    )
    has = registry.functions.hasRole
    assert has(ROLE["ONBOARDING"], DEPLOYER.address).call() and has(ROLE["GUARDIAN"], DEPLOYER.address).call()
    assert not has(ADMIN, DEPLOYER.address).call() and not has(ROLE["POLICY"], DEPLOYER.address).call()


# --- the [governance] table --------------------------------------------------------------------------

BESU_LIKE = """
name = "{name}"
rpc_urls = ["https://node.example:8545"]
chain_id = 1337
[gas]
type = "legacy"
[keys]
source = "keystore"
dir = "keys"
password_env = "PW"
"""

TABLE = """
[governance]
operators = {operators}
approvals = {approvals}
voting_period_blocks = 100
admin_delay_seconds = {admin}
policy_delay_seconds = 86400
guardian = "{guardian}"
onboarding = "0x000000000000000000000000000000000000E005"
"""
OPS = '["0x00000000000000000000000000000000000A0001", "0x00000000000000000000000000000000000B0002"]'


def _network(tmp_path: Path, table: str = "", **values: object) -> NetworkConfig:
    path = tmp_path / "net.toml"
    fields = {"operators": OPS, "approvals": 2, "admin": 172800, "guardian": "0x" + "0d" * 20, **values}
    path.write_text(BESU_LIKE.format(name="net") + (table.format(**fields) if table else ""))
    return parse_network(path)


def test_a_network_other_than_local_must_declare_its_governance(tmp_path: Path, project_root: Path) -> None:
    with pytest.raises(ConfigError, match=r"network 'net' has no \[governance\] table; declare operators"):
        _network(tmp_path).governance_config()
    besu = parse_network(project_root / "chain_config" / "besu-qbft.toml").governance_config()
    assert (len(besu.operators), besu.approvals) == (3, 2)
    assert (besu.admin_delay_seconds, besu.policy_delay_seconds) == (172_800, 86_400)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"approvals": 3}, r"governance: Value error, approvals: 3 exceeds the 2 operator seat"),
        ({"approvals": 0}, r"governance.approvals: Input should be greater than or equal to 1"),
        ({"operators": '["0x12"]'}, r"governance.operators: .*operators\[0\]: '0x12' is not an address"),
        ({"operators": "[]"}, r"governance.operators: List should have at least 1 item"),
        ({"operators": '["deployer", "deployer"]', "approvals": 1}, "listed twice"),
        ({"guardian": "0x" + "00" * 20}, r"governance.guardian: .*zero address"),
        ({"admin": 60}, r"policy_delay_seconds \(86400\) exceeds admin_delay_seconds \(60\)"),
    ],
)
def test_a_bad_governance_table_names_the_field(
    tmp_path: Path, values: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        _network(tmp_path, TABLE, **values)


def test_cli_deploy_refuses_a_network_without_governance(
    project_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from tierchain.cli import app

    monkeypatch.setenv("TIERCHAIN_PROJECT_ROOT", str(project_root))
    monkeypatch.setenv("TIERCHAIN_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["deploy", "--network", "sepolia"])
    assert result.exit_code != 0
    assert "network 'sepolia' has no [governance] table" in " ".join(result.output.split())
