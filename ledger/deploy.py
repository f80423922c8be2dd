"""Deploy and wire Tierchain's contracts, and keep a manifest that says what runs where.

A deployment is a fixed list of steps: the six system contracts, each an implementation behind an
OpenZeppelin `ERC1967Proxy` (UUPS) initialized in the proxy's constructor, registry first because
every implementation takes the proxies it calls as constructor arguments; the settlement tokens a
local chain needs; one `bindDesks` that gives the three desks DESK and seals the role; one
`setCurrency` per currency; then governance (`ledger.governance.deploy`: timelock, operator seats,
governor, their roles) and the hand-over, where the deployer renounces its admin powers, last. Each
step is sent under the idempotency key
`deploy:<network>:<chain_id>:<step>`, so a run killed half-way resumes where it stopped instead of
deploying twice. Progress goes to `<data_dir>/deployments/<network>.partial.json` after every step;
the manifest `<network>.json` is written once, when everything is wired.

The manifest names each system contract by its proxy address (what the indexer, the API and the
clients use), records each implementation under `implementations`, the governance contracts beside
the system's, and the governance settings the deployment applied under `governance`.

Running again is safe: a manifest whose contracts still have the recorded runtime code, built from
the artifacts compiled now, is *verified* without sending a transaction. A chain that lost the code
(anvil restarted without its state) gets a new deployment. Changed artifacts are refused with
`DeploymentMismatch` until the operator asks for `--fresh`: silently redeploying would orphan every
token on the old contracts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, ValidationError
from web3 import Web3

from ledger.compile import Artifact, compile_contracts
from ledger.config import DeployConfig, GovernanceConfig, NetworkConfig, Settings, load_network
from ledger.errors import (
    ChainUnavailable,
    ConfigError,
    DeploymentError,
    DeploymentMismatch,
    DeploymentNotFound,
    ErrorDecoder,
    SignerError,
)
from ledger.governance.deploy import deploy_governance, governance_steps, hand_over, hold_policy
from ledger.journal import Journal, TxJournal
from ledger.keys import Signer, load_signer, local_accounts
from ledger.localchain import read_run_info
from ledger.rpc import make_web3
from ledger.tx import TransactionManager

log = logging.getLogger(__name__)

DESK_ROLE = keccak(text="DESK")
SYSTEM_CONTRACTS = (
    "ParticipantRegistry",
    "TradeRegistry",
    "ReceivableToken",
    "IssuanceDesk",
    "FinancingDesk",
    "RepaymentDesk",
)
DESKS = ("IssuanceDesk", "FinancingDesk", "RepaymentDesk")
# Code an implementation runs by `delegatecall` (deployed before it, recorded among the implementations,
# never behind a proxy of its own), by the system contract whose implementation names it.
IMPLEMENTATION_PARTS = {"ReceivableTokenExtension": "ReceivableToken"}
GOVERNANCE_CONTRACTS = ("TierchainTimelock", "OperatorSeats", "TierchainGovernor")
SETTLEMENT_PREFIX = "SettlementToken."
PROXY_ARTIFACT = "ERC1967Proxy"
# ERC-1967: bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1)
IMPLEMENTATION_SLOT = int.from_bytes(keccak(text="eip1967.proxy.implementation")) - 1

DeployStatus = Literal["deployed", "resumed", "verified"]


class DeployedContract(BaseModel):
    model_config = ConfigDict(frozen=True)

    address: str
    tx_hash: str
    block_number: int
    artifact_hash: str
    code_hash: str


class Deployment(BaseModel):
    """The manifest: everything another process (indexer, API, client) needs to find the system."""

    model_config = ConfigDict(frozen=True)

    network: str
    chain_id: int
    deployer: str
    deploy_block: int
    contracts: dict[str, DeployedContract]  # system contracts by their proxy, governance, tokens
    currencies: dict[str, str]
    oracle_threshold: int
    grace_period_seconds: int
    implementations: dict[str, DeployedContract] = {}  # behind each system contract's proxy
    governance: GovernanceConfig | None = None  # as applied: addresses resolved, no "deployer"

    def address(self, name: str) -> str:
        try:
            return self.contracts[name].address
        except KeyError as exc:
            raise DeploymentError(f"deployment {self.network!r} has no contract {name!r}") from exc

    @property
    def settlement_tokens(self) -> dict[str, str]:
        """Settlement tokens this deployment created itself, by currency code."""
        return {
            n.removeprefix(SETTLEMENT_PREFIX): c.address
            for n, c in self.contracts.items()
            if n.startswith(SETTLEMENT_PREFIX)
        }


@dataclass(frozen=True)
class DeployOutcome:
    deployment: Deployment
    status: DeployStatus
    transactions: int
    manifest: Path


def artifact_hash(artifact: Artifact) -> str:
    """sha256 over bytecode and canonical ABI: changes exactly when what we would deploy changes."""
    abi = json.dumps(artifact.abi, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((artifact.bytecode + "\n" + abi).encode()).hexdigest()


def manifest_path(data_dir: Path, network: str) -> Path:
    return data_dir / "deployments" / f"{network}.json"


def _partial_path(manifest: Path) -> Path:
    return manifest.with_suffix(".partial.json")


def read_manifest(path: Path) -> Deployment | None:
    try:
        return Deployment.model_validate_json(path.read_text())
    except FileNotFoundError:
        return None
    except ValidationError as exc:
        raise DeploymentError(f"{path}: unreadable deployment manifest: {exc}") from exc


def load_deployment(settings: Settings, network: str | None = None) -> Deployment:
    """The manifest of `network` (default: the settings' network); raises `DeploymentNotFound`."""
    name = network or settings.network
    path = manifest_path(settings.data_dir, name)
    deployment = read_manifest(path)
    if deployment is None:
        raise DeploymentNotFound(f"{path}: no deployment for network {name!r}; run `tierchain deploy`")
    return deployment


def _write_json_atomically(path: Path, deployment: Deployment) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(deployment.model_dump_json(indent=2))
    os.replace(tmp, path)


def _code_hash(w3: Web3, address: str) -> str | None:
    code = bytes(w3.eth.get_code(Web3.to_checksum_address(address)))
    return "0x" + keccak(code).hex() if code else None


def _settlement_specs(config: DeployConfig) -> dict[str, tuple[str, str, int]]:
    return {s.currency: (s.name, s.symbol, s.decimals) for s in config.settlement_tokens}


def _expected_contracts(config: DeployConfig) -> list[str]:
    return [
        *(f"impl:{c}" for c in IMPLEMENTATION_PARTS),
        *(f"impl:{c}" for c in SYSTEM_CONTRACTS),
        *SYSTEM_CONTRACTS,
        *(SETTLEMENT_PREFIX + c for c in _settlement_specs(config)),
    ]


def _artifact_name(contract: str) -> str:
    """The artifact a manifest entry was built from: a system contract's entry is its proxy."""
    if contract.startswith(SETTLEMENT_PREFIX):
        return "SettlementToken"
    return PROXY_ARTIFACT if contract in SYSTEM_CONTRACTS else contract


def _implementation_of(w3: Web3, proxy: str) -> str:
    """The implementation an ERC-1967 proxy points at (its storage slot)."""
    raw = bytes(w3.eth.get_storage_at(Web3.to_checksum_address(proxy), IMPLEMENTATION_SLOT))
    return str(Web3.to_checksum_address(raw[-20:]))


def check_deployment(w3: Web3, deployment: Deployment, artifacts: Mapping[str, Artifact]) -> str:
    """'ok', 'missing' (no code anywhere: a fresh chain), or raise `DeploymentMismatch` saying why."""
    chain_id = int(w3.eth.chain_id)
    if chain_id != deployment.chain_id:
        raise DeploymentMismatch(
            f"manifest for {deployment.network!r} is for chain {deployment.chain_id}, the node is chain "
            f"{chain_id}; pass --fresh to deploy anew"
        )
    entries = [(name, c, _artifact_name(name)) for name, c in deployment.contracts.items()]
    entries += [(f"{name} implementation", c, name) for name, c in deployment.implementations.items()]
    hashes = {label: _code_hash(w3, c.address) for label, c, _ in entries}
    if all(h is None for h in hashes.values()):
        return "missing"
    # A proxy governance has upgraded runs another implementation than the one deployed: the system's
    # addresses are still right, and the deployed implementation's artifact no longer matters.
    # A part of an implementation (the token's extension) counts as upgraded with the proxy it serves.
    proxied = {
        name
        for name, implementation in deployment.implementations.items()
        if name in deployment.contracts
        and hashes.get(name) is not None
        and _implementation_of(w3, deployment.contracts[name].address) != implementation.address
    }
    upgraded = {
        f"{name} implementation"
        for name in deployment.implementations
        if IMPLEMENTATION_PARTS.get(name, name) in proxied
    }
    for label in sorted(upgraded):
        log.info("deployment check: %s was upgraded since deployment; its artifact is not compared", label)
    problems = []
    for label, recorded, artifact_name in entries:
        if hashes[label] is None:
            problems.append(f"{label}: no code at {recorded.address}")
        elif hashes[label] != recorded.code_hash:
            problems.append(f"{label}: on-chain code at {recorded.address} differs from the manifest")
        if label in upgraded:
            continue
        artifact = artifacts.get(artifact_name)
        if artifact is None:
            problems.append(f"{label}: no compiled artifact")
        elif artifact_hash(artifact) != recorded.artifact_hash:
            problems.append(f"{label}: the compiled artifact changed since it was deployed")
    if problems:
        raise DeploymentMismatch(
            f"deployment {deployment.network!r} does not match: {'; '.join(problems)}. "
            "Pass --fresh to deploy a new system (tokens on the old contracts stay there)."
        )
    return "ok"


class _Deployer:
    """One run of the deployment steps; state lives in the partial manifest, so a re-run resumes."""

    def __init__(
        self,
        manager: TransactionManager,
        artifacts: Mapping[str, Artifact],
        config: DeployConfig,
        governance: GovernanceConfig,
        partial: Deployment,
        partial_file: Path,
    ) -> None:
        self.manager = manager
        self.w3 = manager.w3
        self.artifacts = artifacts
        self.config = config
        self.governance = governance
        self.state = partial
        self.partial_file = partial_file
        self.sent = 0

    @property
    def deployer(self) -> str:
        return self.state.deployer

    def address(self, name: str) -> str:
        return self.state.address(name)

    def key(self, step: str) -> str:
        return f"deploy:{self.state.network}:{self.state.chain_id}:{step}"

    def contract(self, name: str) -> Any:
        """A handle on a deployed contract; a system contract's proxy speaks its implementation's ABI."""
        abi_name = name if name in SYSTEM_CONTRACTS else _artifact_name(name)
        return self.w3.eth.contract(
            address=Web3.to_checksum_address(self.state.address(name)), abi=self.artifacts[abi_name].abi
        )

    def _artifact(self, name: str) -> Artifact:
        artifact = self.artifacts.get(name)
        if artifact is None:
            raise DeploymentError(f"no artifact for {name}; run `tierchain compile`")
        return artifact

    def _create(self, step: str, artifact: Artifact, *args: Any) -> DeployedContract:
        receipt = self.manager.deploy(artifact, *args, idempotency_key=self.key(step))
        self.sent += 1
        address = Web3.to_checksum_address(str(receipt["contractAddress"]))
        code_hash = _code_hash(self.w3, address)
        if code_hash is None:
            raise DeploymentError(f"{step}: deployed at {address} but the node reports no code")
        return DeployedContract(
            address=address,
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
            block_number=int(receipt["blockNumber"]),
            artifact_hash=artifact_hash(artifact),
            code_hash=code_hash,
        )

    def _record(self, update: dict[str, Any], block: int) -> None:
        deploy_block = self.state.deploy_block or block
        self.state = self.state.model_copy(update={**update, "deploy_block": deploy_block})
        _write_json_atomically(self.partial_file, self.state)

    def deploy(self, name: str, *args: Any) -> str:
        """Deploy a plain contract (settlement token, governance) once."""
        done = self.state.contracts.get(name)
        if done is not None:
            return done.address
        record = self._create(name, self._artifact(_artifact_name(name)), *args)
        self._record({"contracts": {**self.state.contracts, name: record}}, record.block_number)
        log.info("contract deployed name=%s address=%s block=%d", name, record.address, record.block_number)
        return record.address

    def deploy_part(self, name: str, *args: Any) -> str:
        """Deploy once code an implementation delegates to (`IMPLEMENTATION_PARTS`); it is recorded among
        the implementations, for it has no proxy of its own."""
        done = self.state.implementations.get(name)
        if done is not None:
            return done.address
        record = self._create(f"impl:{name}", self._artifact(name), *args)
        self._record({"implementations": {**self.state.implementations, name: record}}, record.block_number)
        log.info("contract deployed name=%s part=%s block=%d", name, record.address, record.block_number)
        return record.address

    def deploy_upgradeable(self, name: str, constructor: Sequence[Any], initializer: Sequence[Any]) -> str:
        """Deploy `name`'s implementation (constructor arguments: its immutables) and an ERC1967Proxy
        in front of it whose constructor calls `initialize(*initializer)`; returns the proxy."""
        done = self.state.contracts.get(name)
        if done is not None:
            return done.address
        artifact = self._artifact(name)
        implementation = self.state.implementations.get(name)
        if implementation is None:
            implementation = self._create(f"impl:{name}", artifact, *constructor)
            implementations = {**self.state.implementations, name: implementation}
            self._record({"implementations": implementations}, implementation.block_number)
            log.info(
                "contract deployed name=%s implementation=%s block=%d",
                name,
                implementation.address,
                implementation.block_number,
            )
        init = self.w3.eth.contract(abi=artifact.abi).encode_abi("initialize", args=list(initializer))
        proxy = self._create(name, self._artifact(PROXY_ARTIFACT), implementation.address, init)
        self._record({"contracts": {**self.state.contracts, name: proxy}}, proxy.block_number)
        log.info("contract deployed name=%s proxy=%s block=%d", name, proxy.address, proxy.block_number)
        return proxy.address

    def wire(self, step: str, done: bool, contract: Any, fn: str, *args: Any) -> None:
        """Send one wiring call unless the chain already shows its effect (`done`)."""
        if done:
            return
        data = contract.encode_abi(fn, args=list(args))
        self.manager.send({"to": contract.address, "data": data}, idempotency_key=self.key(step))
        self.sent += 1
        log.info("wired step=%s", step)

    def bind_desks(self) -> None:
        """Give DESK to the three desk contracts in the registry's one-time `bindDesks`.

        The registry refuses DESK through `grantRole` and binds only once, so a registry already bound
        must hold exactly these desks; anything else is a deployment we did not make.
        """
        reg = self.contract("ParticipantRegistry")
        desks = [Web3.to_checksum_address(self.state.address(d)) for d in DESKS]
        bound = bool(reg.functions.desksBound().call())
        if bound:
            missing = [
                d for d, a in zip(DESKS, desks, strict=True) if not reg.functions.hasRole(DESK_ROLE, a).call()
            ]
            if missing:
                raise DeploymentError(
                    f"the registry at {reg.address} has its desks bound, but not to {', '.join(missing)}; "
                    "pass --fresh to deploy a new system"
                )
        self.wire("bind-desks", bound, reg, "bindDesks", desks)

    def run(self) -> Deployment:
        cfg = self.config
        deployer = self.state.deployer
        # Registry first: every other implementation takes the proxies it calls as immutables.
        registry = self.deploy_upgradeable("ParticipantRegistry", [], [deployer])
        trades = self.deploy_upgradeable("TradeRegistry", [registry], [cfg.oracle_threshold])
        # The token delegates its rarely used functions to its extension, wired to the same registry.
        extension = self.deploy_part("ReceivableTokenExtension", registry, cfg.value_decimals)
        token = self.deploy_upgradeable(
            "ReceivableToken", [registry, cfg.value_decimals, extension], [cfg.token_name, cfg.token_symbol]
        )
        self.deploy_upgradeable("IssuanceDesk", [registry, trades, token], [])
        # The repayment desk before the financing desk, which reads its accounts (recourse claims).
        repayments = self.deploy_upgradeable("RepaymentDesk", [registry, token, cfg.grace_period_seconds], [])
        self.deploy_upgradeable("FinancingDesk", [registry, token, repayments], [])
        currencies = dict(cfg.currencies)
        for code, (name, symbol, decimals) in _settlement_specs(cfg).items():
            currencies[code] = self.deploy(SETTLEMENT_PREFIX + code, name, symbol, decimals, deployer)
        currencies = {c: Web3.to_checksum_address(a) for c, a in currencies.items()}

        deploy_governance(self, self.governance)
        # Every configuration call of the deployment, while the deployer still holds the registry.
        self.bind_desks()
        issuance = self.contract("IssuanceDesk")
        pending = {
            code: address
            for code, address in sorted(currencies.items())
            if issuance.functions.currencyToken(code.encode("ascii")).call() != address
        }
        registry_contract = self.contract("ParticipantRegistry")
        policy = cfg.policy.as_abi()
        policy_done = tuple(registry_contract.functions.defaultPolicy().call()) == policy
        bill = cfg.bill.as_abi()
        bill_done = tuple(registry_contract.functions.billPolicy().call()) == bill
        if pending or not policy_done or not bill_done:
            hold_policy(self)
        for code, address in pending.items():
            self.wire(f"set-currency:{code}", False, issuance, "setCurrency", code.encode("ascii"), address)
        self.wire("set-policy", policy_done, registry_contract, "setPolicy", policy, "policy at deployment")
        self.wire(
            "set-bill-policy", bill_done, registry_contract, "setBillPolicy", *bill, "bill mode at deployment"
        )
        hand_over(self, self.governance)
        return self.state.model_copy(update={"currencies": currencies, "governance": self.governance})


def _steps(config: DeployConfig, governance: GovernanceConfig) -> list[str]:
    currencies = sorted({*config.currencies, *_settlement_specs(config)})
    return [
        *_expected_contracts(config),
        "bind-desks",
        *(f"set-currency:{c}" for c in currencies),
        "set-policy",
        "set-bill-policy",
        *governance_steps(governance),
    ]


def step_count(network: NetworkConfig, deployer: str = "0x" + "00" * 19 + "01") -> int:
    """About how many steps a full deployment of `network` logs (for a progress bar)."""
    config = network.deploy
    return len(_steps(config, network.governance_config().resolved(deployer)))


def _retire_journal(
    journal: Journal, network: str, chain_id: int, config: DeployConfig, governance: GovernanceConfig
) -> None:
    """Drop journal entries of an earlier deployment so the same keys can sign a new one."""
    for step in _steps(config, governance):
        key = f"deploy:{network}:{chain_id}:{step}"
        if journal.get(key) is not None:
            journal.set_status(key, "dropped")


def deploy_system(
    manager: TransactionManager,
    network: NetworkConfig,
    artifacts: Mapping[str, Artifact],
    manifest: Path,
    *,
    config: DeployConfig | None = None,
    governance: GovernanceConfig | None = None,
    fresh: bool = False,
) -> DeployOutcome:
    """Deploy (or resume, or verify) the whole system on `manager`'s chain; see the module docstring.

    `governance` defaults to the network's `[governance]` table (a local network without one: the
    deployer alone); "deployer" in it stands for `manager`'s signer.
    """
    config = config or network.deploy
    governance = (governance or network.governance_config()).resolved(manager.signer.address)
    if not config.currencies and not config.settlement_tokens:
        raise ConfigError(
            f"network {network.name!r}: [deploy] names no settlement currency; set deploy.currencies "
            "(existing ERC-20 addresses) or deploy.settlement_tokens"
        )
    w3 = manager.w3
    chain_id = int(w3.eth.chain_id)
    if chain_id != network.chain_id:
        raise ConfigError(f"network {network.name!r} expects chain {network.chain_id}, node is {chain_id}")
    partial_file = _partial_path(manifest)

    existing = None if fresh else read_manifest(manifest)
    if existing is not None:
        state = check_deployment(w3, existing, artifacts)
        if state == "ok":
            log.info("deployment verified network=%s contracts=%d", network.name, len(existing.contracts))
            return DeployOutcome(existing, "verified", 0, manifest)
        log.warning("deployment has no code on this chain, deploying anew network=%s", network.name)

    partial = None if fresh else read_manifest(partial_file)
    status: DeployStatus = "deployed"
    if partial is not None:
        try:
            resumable = partial.chain_id == chain_id and (
                (not partial.contracts and not partial.implementations)
                or check_deployment(w3, partial, artifacts) == "ok"
            )
        except DeploymentMismatch:
            resumable = False
        if resumable and partial.governance not in (None, governance):
            raise DeploymentMismatch(
                f"the interrupted deployment of {network.name!r} was started with another [governance] "
                "table; restore it to resume, or pass --fresh to deploy anew"
            )
        if resumable:
            status = "resumed"
            log.info("deployment resuming network=%s done=%d", network.name, len(partial.contracts))
        else:
            partial = None
    if partial is None:
        _retire_journal(manager.journal, network.name, chain_id, config, governance)
        partial = Deployment(
            network=network.name,
            chain_id=chain_id,
            deployer=manager.signer.address,
            deploy_block=0,
            contracts={},
            currencies={},
            oracle_threshold=config.oracle_threshold,
            grace_period_seconds=config.grace_period_seconds,
            governance=governance,
        )
        _write_json_atomically(partial_file, partial)

    runner = _Deployer(manager, artifacts, config, governance, partial, partial_file)
    deployment = runner.run()
    _write_json_atomically(manifest, deployment)
    partial_file.unlink(missing_ok=True)
    log.info(
        "deployment %s network=%s chain_id=%d block=%d txs=%d",
        status,
        network.name,
        chain_id,
        deployment.deploy_block,
        runner.sent,
    )
    return DeployOutcome(deployment, status, runner.sent, manifest)


def _deployer_signer(network: NetworkConfig) -> Signer:
    """The configured signer; on a local chain without a key in the environment, anvil's account 0."""
    try:
        return load_signer(network)
    except SignerError:
        if network.anvil is None:
            raise
        return local_accounts(network.anvil.mnemonic, 1)[0]


def connect(settings: Settings, network: NetworkConfig) -> Web3:
    """A Web3 for `network`; a local network is reached where `tierchain chain up` recorded it."""
    urls = local_urls(settings, network) if network.is_local else list(network.rpc_urls)
    w3 = make_web3(urls)  # fails over across every URL of the network
    if not w3.is_connected():
        raise ChainUnavailable(f"{', '.join(urls)}: no node answers")
    return w3


def local_urls(settings: Settings, network: NetworkConfig) -> list[str]:
    """Where `tierchain chain up` recorded the local network `network` (the fault proxies in front of the
    node for a profile that has them, else the node itself)."""
    info = read_run_info(settings.data_dir, network.name)
    if info is None:
        profile = "" if network.name == "local" else f" --profile {network.name}"
        raise ChainUnavailable(
            f"no {network.name} chain running; start it with `tierchain chain up{profile}`"
        )
    return info.rpc_urls


def deploy_from_settings(
    settings: Settings, network_name: str | None = None, *, fresh: bool = False, signer: Signer | None = None
) -> DeployOutcome:
    """What `tierchain deploy` does: compile if needed, connect, deploy or verify."""
    network = load_network(settings, network_name)
    build = compile_contracts(settings.project_root, settings.build_dir)
    w3 = connect(settings, network)
    if network.is_local:
        network = network.model_copy(update={"rpc_urls": local_urls(settings, network)})
    decoder = ErrorDecoder.from_artifacts({n: a.abi for n, a in build.artifacts.items()})
    journal = TxJournal(settings.data_dir / "journal.sqlite")
    manager = TransactionManager(w3, network, signer or _deployer_signer(network), journal, decoder)
    return deploy_system(
        manager, network, build.artifacts, manifest_path(settings.data_dir, network.name), fresh=fresh
    )
