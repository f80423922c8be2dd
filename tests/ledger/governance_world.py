"""A Tierchain governed by three operator seats, two approvals, 48 h admin and 24 h policy delays.

Anvil's accounts: 0 deploys; 5, 6, 7 hold the seats; 8 is the guardian; 9 the onboarding key.
"""

from __future__ import annotations

from pathlib import Path

from ledger.compile import Artifact, CompileResult
from ledger.config import GovernanceConfig, NetworkConfig
from ledger.deploy import DeployOutcome, deploy_system, manifest_path
from ledger.errors import ErrorDecoder
from ledger.journal import TxJournal
from ledger.keys import Signer, local_accounts
from ledger.localchain import LocalChain
from ledger.rpc import make_web3
from ledger.tx import TransactionManager

HOUR = 3_600
ADMIN_DELAY = 48 * HOUR
POLICY_DELAY = 24 * HOUR
MNEMONIC = "test test test test test test test test test test test junk"
KEYS = local_accounts(MNEMONIC, 10)
DEPLOYER = KEYS[0]
OPERATORS = KEYS[5:8]
GUARDIAN = KEYS[8]
ONBOARDING = KEYS[9]
OUTSIDER = KEYS[4]

GOVERNANCE = GovernanceConfig(
    operators=[o.address for o in OPERATORS],
    approvals=2,
    voting_period_blocks=200,
    admin_delay_seconds=ADMIN_DELAY,
    policy_delay_seconds=POLICY_DELAY,
    guardian=GUARDIAN.address,
    onboarding=ONBOARDING.address,
)


def deployer_manager(
    chain: LocalChain, network: NetworkConfig, build: CompileResult, folder: Path
) -> TransactionManager:
    decoder = ErrorDecoder.from_artifacts({n: a.abi for n, a in build.artifacts.items()})
    journal = TxJournal(folder / "journal.sqlite")
    return TransactionManager(make_web3(chain.url), network, DEPLOYER, journal, decoder)


def deploy_governed(
    manager: TransactionManager,
    network: NetworkConfig,
    build: CompileResult,
    folder: Path,
    *,
    artifacts: dict[str, Artifact] | None = None,
    fresh: bool = False,
) -> DeployOutcome:
    return deploy_system(
        manager,
        network,
        artifacts or build.artifacts,
        manifest_path(folder, network.name),
        governance=GOVERNANCE,
        fresh=fresh,
    )


def signer(address: str) -> Signer:
    return next(k for k in KEYS if k.address == address)
