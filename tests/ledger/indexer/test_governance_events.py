"""Governance in the index, on SQLite and PostgreSQL: the governor's, timelock's and seats' events, the
registry's pause events and every proxy's `Upgraded(implementation)` land in `events`; the
`governance_proposals` projection follows proposals to executed, cancelled on the governor and
vetoed on the timelock; a replay of the stored events rebuilds it exactly."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlmodel import Session, select

from ledger.client import TierchainClient
from ledger.deploy import Deployment
from ledger.governance.actions import parse_action
from ledger.indexer.ingest import Indexer, rebuild_projections
from ledger.indexer.manifest import SYSTEM_CONTRACTS, IndexedDeployment
from ledger.indexer.models import Event, GovernanceProposal, Participant
from ledger.indexer.source import RpcSource
from ledger.keys import Signer
from ledger.localchain import LocalChain
from tests.ledger.indexer.helpers import dump
from tests.ledger.indexer.world import DbFactory

pytestmark = pytest.mark.chain


def _uri(uri: str) -> Any:
    return parse_action("set-base-uri", {"uri": uri})


def test_governance_pause_and_upgrade_events_are_indexed(
    make_db: DbFactory,
    tierchain_client: TierchainClient,
    tierchain_deployment: Deployment,
    tierchain_abis: dict[str, list[dict[str, Any]]],
    actors: dict[str, Signer],
    clean_chain: LocalChain,
) -> None:
    gov, admin = tierchain_client.governance, actors["admin"]
    executed = gov.enact(admin, [_uri("https://a.example/")], "Indexed: executed").proposal_id
    vetoed = gov.propose(admin, [_uri("https://b.example/")], "Indexed: vetoed").proposal_id
    gov.approve(admin, vetoed)
    assert gov.execute(admin, vetoed).step == "queued"
    assert gov.cancel(admin, vetoed).via == "timelock"
    withdrawn = gov.propose(admin, [_uri("https://c.example/")], "Indexed: cancelled").proposal_id
    assert gov.cancel(admin, withdrawn).via == "governor"
    assert (vetoed, withdrawn) == (executed + 1, executed + 2)  # the governor numbers its proposals
    gov.pause(admin, ["moves", "financing"], "incident 7")

    engine = make_db()
    deployment = IndexedDeployment.model_validate(tierchain_deployment.model_dump())
    indexer = Indexer(engine, RpcSource(clean_chain.url), deployment, tierchain_abis, max_reorg_depth=0)
    indexer.sync()

    with Session(engine) as session:
        events = session.exec(select(Event)).all()
        names = Counter((e.contract, e.name) for e in events)
        for name in ("ProposalCreated", "ProposalQueued", "ProposalExecuted", "ProposalCanceled"):
            assert names[("TierchainGovernor", name)] >= 1, name
        assert names[("TierchainGovernor", "VoteCast")] >= 2
        assert names[("TierchainTimelock", "CallScheduled")] >= 2
        assert names[("TierchainTimelock", "Cancelled")] == 1
        assert names[("OperatorSeats", "OperatorSeated")] == 1
        [paused] = [e for e in events if e.name == "OperationsPaused"]
        assert paused.args == {"operations": 6, "by": admin.address.lower(), "reason": "incident 7"}
        upgraded = {e.contract: e.args["implementation"] for e in events if e.name == "Upgraded"}
        assert set(upgraded) == set(SYSTEM_CONTRACTS)
        for name, implementation in upgraded.items():
            assert implementation == tierchain_deployment.implementations[name].address.lower()

        rows = {p.proposal_id: p for p in session.exec(select(GovernanceProposal)).all()}
        assert sorted(rows) == list(range(1, withdrawn + 1))
        done = rows[executed]
        assert (done.state, done.approvals, done.against) == ("executed", 1, 0)
        assert done.description == "Indexed: executed" and done.proposer == admin.address.lower()
        assert done.eta is not None and done.operation_id is not None
        assert done.created_block <= (done.queued_block or 0) <= (done.executed_block or 0)
        assert done.targets == [tierchain_deployment.address("ReceivableToken").lower()]
        veto = rows[vetoed]
        assert (veto.state, veto.executed_block) == ("cancelled", None)
        assert veto.queued_block is not None and veto.cancelled_block is not None
        gone = rows[withdrawn]
        assert (gone.state, gone.queued_block, gone.approvals) == ("cancelled", None, 0)
        deployer = session.get(Participant, admin.address.lower())
        assert deployer is not None and {"GUARDIAN", "ONBOARDING"} <= set(deployer.roles)
        timelock = session.get(Participant, tierchain_deployment.address("TierchainTimelock").lower())
        assert timelock is not None and {"DEFAULT_ADMIN", "POLICY"} <= set(timelock.roles)

    before = dump(engine)
    with Session(engine) as session, session.begin():
        rebuild_projections(session, deployment.chain_id)
    assert dump(engine) == before
