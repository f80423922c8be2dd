"""The part of the deployment manifest the indexer needs, read leniently.

`ledger.deploy` writes `<data_dir>/deployments/<network>.json`; the indexer only needs the chain id,
the deployment block and the contract addresses, so it reads just those and ignores the rest (the
manifest may grow without breaking the indexer).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from ledger.config import Settings
from ledger.indexer.errors import IndexerError

# The system contracts (their proxies: each proxy's `Upgraded(implementation)` is in its ABI) and,
# where the deployment has them, the governance contracts. A deployment made before governance has
# none of the latter and is indexed all the same.
SYSTEM_CONTRACTS = (
    "ParticipantRegistry",
    "TradeRegistry",
    "ReceivableToken",
    "IssuanceDesk",
    "FinancingDesk",
    "RepaymentDesk",
)
GOVERNANCE_CONTRACTS = ("OperatorSeats", "TierchainTimelock", "TierchainGovernor")
INDEXED_CONTRACTS = (*SYSTEM_CONTRACTS, *GOVERNANCE_CONTRACTS)


class ContractRef(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    address: str
    block_number: int | None = None


class IndexedDeployment(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    network: str
    chain_id: int
    deploy_block: int = 0
    contracts: dict[str, ContractRef]
    currencies: dict[str, str] = {}

    @property
    def key(self) -> str:
        """What the cursor is keyed by besides the chain id: network and token address."""
        return f"{self.network}@{self.address('ReceivableToken')}"

    def address(self, name: str) -> str:
        try:
            return self.contracts[name].address.lower()
        except KeyError as exc:
            raise IndexerError(f"deployment {self.network!r} has no contract {name!r}") from exc

    def indexed(self) -> dict[str, str]:
        """Address (lower case) → contract name, for every contract the indexer follows: the system
        contracts (all required) and the governance contracts the deployment has."""
        present = [n for n in GOVERNANCE_CONTRACTS if n in self.contracts]
        return {self.address(name): name for name in (*SYSTEM_CONTRACTS, *present)}

    @property
    def start_block(self) -> int:
        blocks = [c.block_number for n, c in self.contracts.items() if n in INDEXED_CONTRACTS]
        known = [b for b in blocks if b is not None]
        return min([self.deploy_block, *known]) if known else self.deploy_block


def manifest_file(settings: Settings, network: str) -> Path:
    return settings.data_dir / "deployments" / f"{network}.json"


def load_manifest(settings: Settings, network: str) -> IndexedDeployment:
    path = manifest_file(settings, network)
    try:
        return IndexedDeployment.model_validate_json(path.read_text())
    except FileNotFoundError as exc:
        raise IndexerError(f"{path}: no deployment for network {network!r}; run `tierchain deploy`") from exc
    except ValidationError as exc:
        raise IndexerError(f"{path}: unreadable deployment manifest: {exc}") from exc
