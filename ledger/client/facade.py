"""`TierchainClient`: every contract operation behind one typed object."""

from __future__ import annotations

from ledger.client.bill import BillOps
from ledger.client.compliance import ComplianceOps
from ledger.client.documents import DocumentOps
from ledger.client.financing import FinancingOps
from ledger.client.issuance import IssuanceOps
from ledger.client.participants import ParticipantOps
from ledger.client.receivables import ReceivableOps
from ledger.client.recovery import RecoveryOps
from ledger.client.repayment import RepaymentOps
from ledger.client.urwa import Erc7943Ops
from ledger.compile import load_abis
from ledger.config import Settings, load_network
from ledger.deploy import connect, load_deployment, local_urls
from ledger.errors import ErrorDecoder
from ledger.journal import TxJournal
from ledger.keys import Signer
from ledger.tx import TransactionManager


class TierchainClient(
    ParticipantOps,
    ComplianceOps,
    DocumentOps,
    IssuanceOps,
    ReceivableOps,
    RecoveryOps,
    BillOps,
    FinancingOps,
    RepaymentOps,
    Erc7943Ops,
):
    """Typed facade over the deployed system.

    Build it from a `TransactionManager` (any signer may be passed per call: the manager keeps one
    nonce sequence per address), the deployment manifest and the ABIs by contract name. Each write
    returns a frozen result with the tx hash, block, gas used and the outcome parsed from its events;
    each contract refusal raises the decoded `ContractRevert` subclass (`TokenFrozen`, ...).
    """

    @classmethod
    def connect(cls, settings: Settings, signer: Signer, network_name: str | None = None) -> TierchainClient:
        """A client for the deployed network in `settings`, journaling under its data dir."""
        network = load_network(settings, network_name)
        deployment = load_deployment(settings, network.name)
        w3 = connect(settings, network)
        if network.is_local:
            network = network.model_copy(update={"rpc_urls": local_urls(settings, network)})
        abis = load_abis(settings.build_dir)
        manager = TransactionManager(
            w3,
            network,
            signer,
            TxJournal(settings.data_dir / "journal.sqlite"),
            ErrorDecoder.from_artifacts(abis),
        )
        return cls(manager, deployment, abis)
