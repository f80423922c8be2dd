"""Deployment: deploy and wire, verify without sending, refuse changed artifacts, resume, redeploy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner
from web3 import Web3
from web3.exceptions import ContractLogicError

from ledger.compile import Artifact, CompileResult
from ledger.config import NetworkConfig, PolicySpec, Settings
from ledger.deploy import (
    DESK_ROLE,
    IMPLEMENTATION_PARTS,
    SYSTEM_CONTRACTS,
    DeployOutcome,
    artifact_hash,
    deploy_system,
    load_deployment,
    manifest_path,
)
from ledger.errors import DeploymentError, DeploymentMismatch, DeploymentNotFound, ErrorDecoder
from ledger.journal import TxJournal
from ledger.keys import Signer
from ledger.localchain import LocalChain
from ledger.rpc import make_web3
from ledger.tx import TransactionManager
from tierchain.cli import app

pytestmark = pytest.mark.chain

# Local defaults (the deployer is the one seat, guardian and onboarding key): 6 implementations, the
# token's extension and 6 proxies, 1 settlement token, timelock, seats and governor; 3 timelock and 4
# registry grants; bindDesks, POLICY for the deployer, 1 setCurrency, 1 setPolicy (the suites' mechanics
# policy is not the registry's initial one: a network keeping the default policy skips it); 3
# renouncements (timelock admin, POLICY, registry admin).
TOTAL_TXS = 12 + 1 + 1 + 3 + 3 + 4 + 1 + 1 + 1 + 1 + 3


@pytest.fixture
def manager(
    clean_chain: LocalChain, local_network: NetworkConfig, accounts: list[Signer], tmp_path: Path,
    tierchain_build: CompileResult,
) -> TransactionManager:  # fmt: skip
    decoder = ErrorDecoder.from_artifacts({n: a.abi for n, a in tierchain_build.artifacts.items()})
    journal = TxJournal(tmp_path / "journal.sqlite")
    return TransactionManager(make_web3(clean_chain.url), local_network, accounts[0], journal, decoder)


def _deploy(
    manager: TransactionManager,
    network: NetworkConfig,
    artifacts: dict[str, Artifact],
    tmp_path: Path,
    *,
    fresh: bool = False,
) -> DeployOutcome:
    return deploy_system(manager, network, artifacts, manifest_path(tmp_path, network.name), fresh=fresh)


def _changed(artifacts: dict[str, Artifact], name: str) -> dict[str, Artifact]:
    """A copy of `artifacts` where `name` looks recompiled from different source."""
    art = artifacts[name]
    extra = {"type": "event", "name": "Changed", "inputs": [], "anonymous": False}
    return {**artifacts, name: art.model_copy(update={"abi": [*art.abi, extra]})}


def test_deploy_wires_then_verifies_without_a_transaction(
    manager: TransactionManager, local_network: NetworkConfig, tierchain_build: CompileResult, tmp_path: Path
) -> None:
    artifacts = tierchain_build.artifacts
    first = _deploy(manager, local_network, artifacts, tmp_path)
    d = first.deployment
    assert first.status == "deployed" and first.transactions == TOTAL_TXS
    governance = {"TierchainTimelock", "OperatorSeats", "TierchainGovernor"}
    assert set(d.contracts) == {*SYSTEM_CONTRACTS, "SettlementToken.CNY", *governance}
    assert set(d.implementations) == {*SYSTEM_CONTRACTS, *IMPLEMENTATION_PARTS}
    assert d.currencies == {"CNY": d.address("SettlementToken.CNY")}
    assert d.deployer == manager.signer.address
    assert d.deploy_block == d.implementations["ParticipantRegistry"].block_number  # the first transaction
    # The token delegates to the recorded extension; the merged ABI speaks the extension's functions.
    token = manager.w3.eth.contract(
        address=Web3.to_checksum_address(d.address("ReceivableToken")), abi=artifacts["ReceivableToken"].abi
    )
    extension = Web3.to_checksum_address(d.implementations["ReceivableTokenExtension"].address)
    assert token.functions.extension().call() == extension
    assert token.functions.contractURI().call() == ""
    assert (d.oracle_threshold, d.grace_period_seconds) == (2, 30 * 86_400)
    w3 = manager.w3
    for name, record in [*d.contracts.items(), *((f"impl:{n}", r) for n, r in d.implementations.items())]:
        code = bytes(w3.eth.get_code(Web3.to_checksum_address(record.address)))
        assert record.code_hash == "0x" + Web3.keccak(code).hex().removeprefix("0x")
        built_from = "ERC1967Proxy" if name in SYSTEM_CONTRACTS else name.removeprefix("impl:").split(".")[0]
        assert record.artifact_hash == artifact_hash(artifacts[built_from])

    abi = artifacts["ParticipantRegistry"].abi
    registry = w3.eth.contract(address=Web3.to_checksum_address(d.address("ParticipantRegistry")), abi=abi)
    for desk in ("IssuanceDesk", "FinancingDesk", "RepaymentDesk"):
        assert registry.functions.hasRole(DESK_ROLE, d.address(desk)).call()
    # The desks were bound in one step and DESK is sealed: even the deployer cannot grant it again.
    assert registry.functions.desksBound().call()
    assert registry.functions.getRoleMemberCount(DESK_ROLE).call() == 3
    with pytest.raises(ContractLogicError):
        registry.functions.grantRole(DESK_ROLE, manager.signer.address).call({"from": manager.signer.address})
    issuance = w3.eth.contract(address=d.address("IssuanceDesk"), abi=artifacts["IssuanceDesk"].abi)
    assert issuance.functions.currencyToken(b"CNY").call() == d.currencies["CNY"]
    manifest = json.loads(first.manifest.read_text())
    assert manifest["contracts"]["ReceivableToken"]["address"] == d.address("ReceivableToken")

    nonce = w3.eth.get_transaction_count(manager.signer.address)
    block = w3.eth.block_number
    again = _deploy(manager, local_network, artifacts, tmp_path)
    assert (again.status, again.transactions, again.deployment) == ("verified", 0, d)
    assert w3.eth.get_transaction_count(manager.signer.address) == nonce and w3.eth.block_number == block


def test_changed_artifacts_are_refused_until_fresh(
    manager: TransactionManager, local_network: NetworkConfig, tierchain_build: CompileResult, tmp_path: Path
) -> None:
    old = _deploy(manager, local_network, tierchain_build.artifacts, tmp_path).deployment
    changed = _changed(tierchain_build.artifacts, "FinancingDesk")
    with pytest.raises(
        DeploymentMismatch, match=r"FinancingDesk implementation: the compiled artifact changed.*--fresh"
    ):
        _deploy(manager, local_network, changed, tmp_path)
    new = _deploy(manager, local_network, changed, tmp_path, fresh=True)
    assert new.status == "deployed" and new.transactions == TOTAL_TXS
    assert new.deployment.address("ReceivableToken") != old.address("ReceivableToken")
    assert _deploy(manager, local_network, changed, tmp_path).status == "verified"


def test_fresh_chain_gets_a_new_deployment(
    clean_chain: LocalChain,
    manager: TransactionManager,
    local_network: NetworkConfig,
    tierchain_build: CompileResult,
    tmp_path: Path,
) -> None:
    before = clean_chain.snapshot()
    first = _deploy(manager, local_network, tierchain_build.artifacts, tmp_path)
    assert clean_chain.revert(before)  # the chain forgets the contracts; manifest and journal remain
    manager.nonces.resync(manager.signer.address)
    second = _deploy(manager, local_network, tierchain_build.artifacts, tmp_path)
    assert second.status == "deployed" and second.transactions == TOTAL_TXS
    assert second.deployment.address("ParticipantRegistry") == first.deployment.address("ParticipantRegistry")
    assert manager.w3.eth.get_code(second.deployment.address("RepaymentDesk"))


def test_interrupted_deployment_resumes(
    manager: TransactionManager, local_network: NetworkConfig, tierchain_build: CompileResult, tmp_path: Path
) -> None:
    # The financing desk is the last system contract deployed (it reads the repayment desk).
    broken = {n: a for n, a in tierchain_build.artifacts.items() if n != "FinancingDesk"}
    with pytest.raises(DeploymentError, match="no artifact for FinancingDesk"):
        _deploy(manager, local_network, broken, tmp_path)
    assert not manifest_path(tmp_path, "local").exists()
    resumed = _deploy(manager, local_network, tierchain_build.artifacts, tmp_path)
    # 5 proxies and their implementations done, and the token's extension.
    assert resumed.status == "resumed" and resumed.transactions == TOTAL_TXS - 2 * 5 - 1
    assert resumed.deployment.address("ParticipantRegistry") == manager.w3.to_checksum_address(
        manager.w3.eth.get_transaction_receipt(resumed.deployment.contracts["ParticipantRegistry"].tx_hash)[
            "contractAddress"
        ]
    )


def test_chain_id_mismatch_is_refused(
    manager: TransactionManager, local_network: NetworkConfig, tierchain_build: CompileResult, tmp_path: Path
) -> None:
    outcome = _deploy(manager, local_network, tierchain_build.artifacts, tmp_path)
    data = json.loads(outcome.manifest.read_text())
    data["chain_id"] = 1
    outcome.manifest.write_text(json.dumps(data))
    with pytest.raises(DeploymentMismatch, match="chain 1"):
        _deploy(manager, local_network, tierchain_build.artifacts, tmp_path)


def test_load_deployment(tmp_path: Path, project_root: Path) -> None:
    settings = Settings(project_root=project_root, data_dir=tmp_path)
    with pytest.raises(DeploymentNotFound, match="tierchain deploy"):
        load_deployment(settings, "local")


def test_cli_deploy_uses_the_recorded_chain(
    clean_chain: LocalChain, project_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_file = clean_chain.run_file
    (tmp_path / "local").mkdir()
    shutil.copy(run_file, tmp_path / "local" / "anvil.json")
    monkeypatch.setenv("TIERCHAIN_PROJECT_ROOT", str(project_root))
    monkeypatch.setenv("TIERCHAIN_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TIERCHAIN_PRIVATE_KEY", raising=False)
    runner = CliRunner()
    first = runner.invoke(app, ["deploy", "--network", "local"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("deployed: local (chain 31337)")
    second = runner.invoke(app, ["deploy"])
    assert second.exit_code == 0 and second.output.startswith("verified"), second.output
    deployment = load_deployment(Settings(project_root=project_root, data_dir=tmp_path), "local")
    assert deployment.address("ReceivableToken") in first.output


def test_the_policy_at_deployment_is_set_once_and_the_default_needs_no_transaction(
    manager: TransactionManager, local_network: NetworkConfig, tierchain_build: CompileResult, tmp_path: Path
) -> None:
    """`[deploy.policy]` lands in the registry before the hand-over; the law's default is the registry's
    own, so a network keeping it sends no `setPolicy`."""
    artifacts = tierchain_build.artifacts
    law = local_network.model_copy(
        update={"deploy": local_network.deploy.model_copy(update={"policy": PolicySpec()})}
    )
    kept = _deploy(manager, law, artifacts, tmp_path / "law")
    assert kept.transactions == TOTAL_TXS - 1
    registry = manager.w3.eth.contract(
        address=kept.deployment.address("ParticipantRegistry"), abi=artifacts["ParticipantRegistry"].abi
    )
    assert tuple(registry.functions.defaultPolicy().call()) == PolicySpec().as_abi()

    strict = PolicySpec(max_tenor_days=270, long_tenor_days=120, max_depth=6, min_unit=100)
    network = law.model_copy(update={"deploy": law.deploy.model_copy(update={"policy": strict})})
    tightened = _deploy(manager, network, artifacts, tmp_path / "strict", fresh=True)
    assert tightened.transactions == TOTAL_TXS
    registry = manager.w3.eth.contract(
        address=tightened.deployment.address("ParticipantRegistry"), abi=artifacts["ParticipantRegistry"].abi
    )
    assert tuple(registry.functions.defaultPolicy().call()) == strict.as_abi()
    assert registry.functions.defaultPolicy().call()[0] == 270 * 86_400


def test_deploy_finds_a_profiles_chain_by_its_own_run_file(tmp_path: Path) -> None:
    """`tierchain deploy --network local-consortium` looks for the chain `chain up --profile
    local-consortium` recorded, and says how to start it when there is none."""
    from ledger.config import load_network
    from ledger.deploy import connect
    from ledger.errors import ChainUnavailable

    root = Path(__file__).resolve().parents[2]
    settings = Settings(project_root=root, data_dir=tmp_path, build_dir=root / "build")
    network = load_network(settings, "local-consortium")
    with pytest.raises(ChainUnavailable, match="chain up --profile local-consortium"):
        connect(settings, network)
    local = load_network(settings, "local")
    with pytest.raises(ChainUnavailable, match=r"start it with `tierchain chain up`"):
        connect(settings, local)
