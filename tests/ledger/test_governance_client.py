"""The governance client on a real chain: 2-of-3 seats, 24 h policy and 48 h admin delays, a guardian.

Also the local network's one-seat, zero-delay governance (`enact`), and the catalogue of actions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_utils.crypto import keccak
from governance_world import (
    ADMIN_DELAY,
    GUARDIAN,
    KEYS,
    MNEMONIC,
    ONBOARDING,
    OPERATORS,
    OUTSIDER,
    POLICY_DELAY,
    deploy_governed,
    deployer_manager,
)

from ledger.client import ParticipantStatus, TierchainClient
from ledger.compile import CompileResult
from ledger.config import AnvilConfig, NetworkConfig
from ledger.deploy import Deployment
from ledger.errors import ErrorDecoder
from ledger.governance.actions import ActionError, decode_call, encode, parse_action
from ledger.governance.client import Governance
from ledger.governance.errors import (
    AlreadyApproved,
    GovernanceRequired,
    NotASeat,
    NotAuthorized,
    ProposalNotReady,
    ProposalStateError,
    UnknownProposal,
)
from ledger.journal import TxJournal
from ledger.keys import Signer
from ledger.localchain import LocalChain
from ledger.rpc import make_web3
from ledger.tx import TransactionManager

ORACLES = KEYS[1:3]
A, B, C = OPERATORS


def _walk(gov: Governance, chain: LocalChain, actions: list[Any], description: str) -> int:
    """Propose, approve by two seats, queue, wait the class delay and execute."""
    ref = gov.propose(A, actions, description)
    gov.approve(A, ref.proposal_id)
    gov.approve(B, ref.proposal_id)
    queued = gov.execute(C, ref.proposal_id)
    assert queued.step == "queued" and queued.eta is not None
    chain.increase_time(queued.eta - gov._now())
    chain.mine()
    assert gov.execute(OUTSIDER, ref.proposal_id).step == "executed"  # anyone executes a ready operation
    return ref.proposal_id


@pytest.fixture(scope="module")
def own_chain(project_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalChain]:
    """This module's own anvil: its tests travel days in time, which must not reach other modules."""
    folder = tmp_path_factory.mktemp("governance-chain")
    config = AnvilConfig(mnemonic=MNEMONIC, state_file=folder / "anvil-state.json")
    with LocalChain(config, project_root, folder / "data") as chain:
        yield chain


@pytest.fixture(scope="module")
def own_network(own_chain: LocalChain, local_network: NetworkConfig) -> NetworkConfig:
    return local_network.model_copy(update={"rpc_urls": [own_chain.url]})


@pytest.fixture(scope="module")
def governed(
    own_chain: LocalChain,
    own_network: NetworkConfig,
    tierchain_build: CompileResult,
    tierchain_abis: dict[str, list[dict[str, Any]]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Deployment:
    """The 2-of-3 system, with two oracles onboarded and granted ORACLE through governance."""
    folder = tmp_path_factory.mktemp("governed")
    manager = deployer_manager(own_chain, own_network, tierchain_build, folder)
    deployment = deploy_governed(manager, own_network, tierchain_build, folder).deployment
    client = TierchainClient(manager, deployment, tierchain_abis)
    for i, oracle in enumerate(ORACLES):
        client.register_participant(ONBOARDING, oracle.address, keccak(text=f"oracle-{i}"), [])
    grants = [parse_action("grant-role", {"role": "ORACLE", "account": o.address}) for o in ORACLES]
    _walk(client.governance, own_chain, grants, "Seat two oracles")
    return deployment


@pytest.fixture
def chain(own_chain: LocalChain, governed: Deployment) -> Iterator[LocalChain]:
    """This module's chain, rolled back after the test."""
    snapshot = own_chain.snapshot()
    yield own_chain
    assert own_chain.revert(snapshot)


@pytest.fixture
def gov(
    chain: LocalChain,
    own_network: NetworkConfig,
    governed: Deployment,
    tierchain_abis: dict[str, list[dict[str, Any]]],
    tmp_path: Path,
) -> Governance:
    manager = TransactionManager(
        make_web3(chain.url),
        own_network,
        OUTSIDER,
        TxJournal(tmp_path / "journal.sqlite"),
        ErrorDecoder.from_artifacts(tierchain_abis),
    )
    return Governance(manager, governed, tierchain_abis)


pytestmark = pytest.mark.chain


def test_a_policy_change_waits_for_two_approvals_and_the_policy_delay(
    gov: Governance, chain: LocalChain
) -> None:
    assert int(gov._view(gov.trades, "threshold")) == 2
    action = parse_action("set-threshold", {"threshold": 1})
    ref = gov.propose(A, [action], "Lower the oracle threshold to 1")
    assert ref.description_hash == keccak(text="Lower the oracle threshold to 1")
    first = gov.approve(A, ref.proposal_id)
    assert (first.approvals, first.needed, first.state) == (1, 2, "active")
    with pytest.raises(ProposalStateError, match=r"is active: it has 1 of 2 approvals"):
        gov.execute(A, ref.proposal_id)
    with pytest.raises(AlreadyApproved):
        gov.approve(A, ref.proposal_id)
    assert gov.approve(B, ref.proposal_id).state == "succeeded"
    with pytest.raises(ProposalStateError, match="has its approvals already"):
        gov.approve(C, ref.proposal_id)

    queued = gov.execute(C, ref.proposal_id)
    assert queued.eta == gov._now() + POLICY_DELAY
    status = gov.status(ref.proposal_id)
    assert (status.state, status.action_class, status.delay_seconds, status.eta) == (
        "queued",
        "policy",
        POLICY_DELAY,
        queued.eta,
    )
    assert not status.ready and status.description == "Lower the oracle threshold to 1"
    assert [(v.action, v.arguments) for v in status.actions] == [("set-threshold", {"threshold": 1})]
    with pytest.raises(ProposalNotReady, match=rf"executable at {queued.eta} .*in \d+ s") as not_ready:
        gov.execute(A, ref.proposal_id)
    assert not_ready.value.eta == queued.eta

    chain.increase_time(POLICY_DELAY)
    chain.mine()
    assert gov.status(ref.proposal_id).ready
    assert gov.execute(A, ref.proposal_id).step == "executed"
    assert int(gov._view(gov.trades, "threshold")) == 1
    with pytest.raises(ProposalStateError, match="is executed: it was executed already"):
        gov.execute(A, ref.proposal_id)
    listed = {p.proposal_id: p for p in gov.proposals()}
    assert listed[ref.proposal_id].state == "executed" and listed[ref.proposal_id].approvals == 2


def test_an_admin_change_waits_the_admin_delay(gov: Governance, chain: LocalChain) -> None:
    regulator = KEYS[3]
    client = TierchainClient(gov.manager, gov.deployment, gov._abis)
    client.register_participant(ONBOARDING, regulator.address, keccak(text="regulator"), [])
    action = parse_action("grant-role", {"role": "REGULATOR", "account": regulator.address})
    ref = gov.propose(B, [action], "Grant REGULATOR to the supervisor")
    gov.approve(B, ref.proposal_id)
    gov.approve(C, ref.proposal_id)
    queued = gov.execute(A, ref.proposal_id)
    assert queued.eta == gov._now() + ADMIN_DELAY
    assert gov.status(ref.proposal_id).action_class == "admin"
    chain.increase_time(POLICY_DELAY)  # the policy delay is not enough for an admin change
    chain.mine()
    with pytest.raises(ProposalNotReady):
        gov.execute(A, ref.proposal_id)
    chain.increase_time(ADMIN_DELAY - POLICY_DELAY)
    chain.mine()
    gov.execute(A, ref.proposal_id)
    assert client.has_role(regulator.address, "REGULATOR")
    # Elsewhere than a one-seat, zero-delay network, the client refuses to grant it at once.
    with pytest.raises(GovernanceRequired, match=r"2 of 3 seats must approve.*tierchain gov propose"):
        client.grant_role(A, KEYS[4].address, "ENFORCEMENT")


def test_the_guardian_cancels_and_vetoes(gov: Governance) -> None:
    open_ref = gov.propose(A, [parse_action("set-base-uri", {"uri": "https://a.example/"})], "Base URI")
    with pytest.raises(NotAuthorized, match=r"only its proposer .* or the guardian"):
        gov.cancel(OUTSIDER, open_ref.proposal_id)
    gov.approve(A, open_ref.proposal_id)
    with pytest.raises(NotAuthorized, match="could cancel it only before voting opened; the guardian"):
        gov.cancel(A, open_ref.proposal_id)
    assert gov.cancel(GUARDIAN, open_ref.proposal_id).via == "governor"
    assert gov.state(open_ref.proposal_id) == "canceled"

    queued_ref = gov.propose(A, [parse_action("set-base-uri", {"uri": "https://b.example/"})], "Other URI")
    gov.approve(A, queued_ref.proposal_id)
    gov.approve(C, queued_ref.proposal_id)
    gov.execute(A, queued_ref.proposal_id)
    vetoed = gov.cancel(GUARDIAN, queued_ref.proposal_id)
    assert vetoed.via == "timelock" and gov.state(queued_ref.proposal_id) == "canceled"
    with pytest.raises(ProposalStateError, match="is canceled: only an open or queued proposal"):
        gov.cancel(GUARDIAN, queued_ref.proposal_id)
    with pytest.raises(ProposalStateError, match="is canceled: it was cancelled"):
        gov.execute(A, queued_ref.proposal_id)


def test_proposal_ids_are_sequential_and_a_retry_keeps_its_id(gov: Governance) -> None:
    """Ids are the governor's numbers, 1, 2, 3...: known once proposed (from the receipt), resolved from
    the calls and description by the chain, and the same for a retry with the same key."""
    latest = gov.latest_proposal_id()
    assert latest >= 1  # the fixture's "Seat two oracles"
    action = parse_action("set-threshold", {"threshold": 1})
    assert gov.find_proposal([action], "Numbered") is None
    first = gov.propose(A, [action], "Numbered", key="gov-numbered")
    assert first.proposal_id == latest + 1 == gov.latest_proposal_id()
    again = gov.propose(A, [action], "Numbered", key="gov-numbered")  # the journaled transaction's receipt
    assert (again.proposal_id, again.tx_hash) == (first.proposal_id, first.tx_hash)
    assert gov.latest_proposal_id() == first.proposal_id
    assert gov.find_proposal([action], "Numbered") == first.proposal_id
    assert gov.find_proposal([action], "Numbered, never") is None
    second = gov.propose(B, [action], "Numbered, again")
    assert second.proposal_id == first.proposal_id + 1
    assert [p.proposal_id for p in gov.proposals()] == list(range(1, second.proposal_id + 1))
    assert gov.status(second.proposal_id).proposer == B.address
    numbered = f"its proposals are numbered 1 to {second.proposal_id}"
    with pytest.raises(UnknownProposal, match=f"^proposal 0 does not exist on the governor; {numbered}$"):
        gov.status(0)
    with pytest.raises(UnknownProposal, match=numbered):
        gov.approve(A, second.proposal_id + 1)


def test_refusals_name_the_seat_the_proposal_and_the_state(gov: Governance) -> None:
    action = parse_action("set-threshold", {"threshold": 1})
    with pytest.raises(NotASeat, match=f"{OUTSIDER.address} holds no operator seat; only seated operators"):
        gov.propose(OUTSIDER, [action], "From outside")
    ref = gov.propose(A, [action], "Threshold once")
    with pytest.raises(
        NotASeat, match=rf"only seats held at block {gov.status(ref.proposal_id).snapshot_block}"
    ):
        gov.approve(OUTSIDER, ref.proposal_id)
    with pytest.raises(
        ProposalStateError, match=rf"proposal {ref.proposal_id} is pending: .*already proposed"
    ):
        gov.propose(B, [action], "Threshold once")
    with pytest.raises(UnknownProposal, match="proposal 12345 does not exist"):
        gov.status(12345)
    with pytest.raises(GovernanceRequired, match=r"set-threshold threshold=1: .*2 of 3 seats must approve"):
        gov.enact(A, [action], "At once")
    with pytest.raises(GovernanceRequired, match="holds no operator seat"):
        gov.enact(OUTSIDER, [action], "At once")


def test_nothing_doomed_is_proposed(gov: Governance) -> None:
    nowhere = "0x" + "de" * 20
    doomed = [
        ("seat", {"operator": A.address}, "seat: operator: .* holds a seat already"),
        ("unseat", {"operator": OUTSIDER.address}, "unseat: operator: .* holds no seat"),
        ("upgrade", {"contract": "TradeRegistry", "implementation": nowhere}, "has no code on this chain"),
        ("set-currency", {"currency": "CNY", "token": nowhere}, "CNY is settled by 0x.* already"),
    ]
    for name, arguments, message in doomed:
        with pytest.raises(ActionError, match=message):
            gov.propose(A, [parse_action(name, arguments)], f"Doomed {name}")


def test_no_proposal_may_leave_fewer_seats_than_approvals(gov: Governance) -> None:
    unseat_a, unseat_b = (parse_action("unseat", {"operator": s.address}) for s in (A, B))
    with pytest.raises(ActionError, match=r"leaves 1 seat\(s\) but 2 approvals needed"):
        gov.propose(A, [unseat_a, unseat_b], "Two operators leave")
    with pytest.raises(ActionError, match="set-approvals: approvals: 3 is more than the 2 seats"):
        gov.propose(A, [unseat_a, parse_action("set-approvals", {"approvals": 3})], "More than the seats")
    # Lowering the approvals in the same proposal keeps governance alive: nothing refused before sending.
    gov.preflight([unseat_a, unseat_b, parse_action("set-approvals", {"approvals": 1})])
    gov.preflight([unseat_a])


def test_an_upgrade_goes_through_governance(
    gov: Governance, chain: LocalChain, tierchain_build: CompileResult
) -> None:
    from ledger.deploy import IMPLEMENTATION_SLOT, check_deployment

    trades = gov.deployment.address("TradeRegistry")
    registry = gov.deployment.address("ParticipantRegistry")
    receipt = gov.manager.deploy(tierchain_build.artifacts["TradeRegistry"], registry)
    new = gov.w3.to_checksum_address(receipt["contractAddress"])
    upgrade = parse_action("upgrade", {"contract": "TradeRegistry", "implementation": new})
    proposal = _walk(gov, chain, [upgrade], "TradeRegistry 1.0.1")
    slot = bytes(gov.w3.eth.get_storage_at(trades, IMPLEMENTATION_SLOT))
    assert gov.w3.to_checksum_address(slot[-20:]) == new
    status = gov.status(proposal)
    assert status.action_class == "admin" and status.delay_seconds == ADMIN_DELAY
    assert [(v.action, v.contract, v.arguments) for v in status.actions] == [
        ("upgrade", "TradeRegistry", {"contract": "TradeRegistry", "implementation": new})
    ]
    assert int(gov._view(gov.trades, "threshold")) == 2  # the state behind the proxy stayed
    # `tierchain deploy` still verifies the system: the upgraded proxy's old artifact is not compared.
    art = tierchain_build.artifacts["TradeRegistry"]
    changed = {**tierchain_build.artifacts, "TradeRegistry": art.model_copy(update={"abi": [*art.abi, {}]})}
    assert check_deployment(gov.w3, gov.deployment, changed) == "ok"


def test_config_pause_and_unpause_through_governance(gov: Governance, chain: LocalChain) -> None:
    config = gov.config()
    assert config.seats == [o.address for o in OPERATORS] and config.approvals_required == 2
    assert (config.min_delay_seconds, config.default_delay_seconds) == (POLICY_DELAY, ADMIN_DELAY)
    assert config.class_delays["set-threshold"] == POLICY_DELAY
    assert config.class_delays["upgrade"] == config.class_delays["seat"] == ADMIN_DELAY
    assert (config.guardian, config.onboarding, config.paused_operations) == (
        GUARDIAN.address,
        [ONBOARDING.address],
        [],
    )
    with pytest.raises(NotAuthorized, match="only the GUARDIAN key pauses"):
        gov.pause(A, "moves", "incident 7")
    paused = gov.pause(GUARDIAN, ["moves", "financing"], "incident 7")
    assert paused.paused == gov.paused() == ["moves", "financing"]
    _walk(
        gov,
        chain,
        [parse_action("unpause", {"operations": "moves", "reason": "fixed"})],
        "Resume moves",
    )
    assert gov.paused() == ["financing"]


def test_the_local_network_enacts_at_once(
    tierchain_client: TierchainClient, actors: dict[str, Signer]
) -> None:
    gov = tierchain_client.governance
    admin = actors["admin"]
    uri = parse_action("set-base-uri", {"uri": "https://api.example/v1/metadata/"})
    enacted = gov.enact(admin, [uri], "Point metadata at the API")
    assert len(enacted.transactions) == 4  # propose, approve, queue, execute
    assert gov.status(enacted.proposal_id).state == "executed"
    assert enacted.proposal_id == gov.latest_proposal_id()
    done = gov.enact(admin, [uri], "Point metadata at the API")
    assert (done.proposal_id, done.transactions) == (enacted.proposal_id, [])  # done already
    # The client routes roles only governance grants through `enact`: callers see no difference.
    court = actors["court"].address
    assert tierchain_client.grant_role(admin, court, "ENFORCEMENT").granted
    assert tierchain_client.has_role(court, "ENFORCEMENT")
    registered = tierchain_client.register_participant(
        admin, actors["regulator"].address, b"\1" * 32, ["REGULATOR"]
    )
    assert registered.roles == (keccak(text="REGULATOR"),)
    assert tierchain_client.has_role(actors["regulator"].address, "REGULATOR")
    # Its status is then governance's: the client suspends it through `enact`, not the onboarding key.
    suspended = tierchain_client.set_status(admin, actors["regulator"].address, ParticipantStatus.SUSPENDED)
    assert suspended.current == ParticipantStatus.SUSPENDED
    proposals = [p for p in gov.proposals() if p.actions and p.actions[0].action == "set-status"]
    assert proposals and proposals[-1].state == "executed"


# --- the catalogue (no chain) ------------------------------------------------------------------------

ADDRESSES = {
    "ParticipantRegistry": "0x" + "11" * 20,
    "TradeRegistry": "0x" + "22" * 20,
    "ReceivableToken": "0x" + "33" * 20,
    "IssuanceDesk": "0x" + "44" * 20,
    "OperatorSeats": "0x" + "55" * 20,
    "TierchainGovernor": "0x" + "66" * 20,
    "TierchainTimelock": "0x" + "77" * 20,
}
WHO = "0x" + "ab" * 20
POLICY_ARGS = {
    "max_tenor_days": 300,
    "long_tenor_days": 150,
    "sme_payment_term_days": 60,
    "max_depth": 8,
    "min_unit": 100,
    "trade_background": True,
}


@pytest.mark.parametrize(
    ("name", "arguments", "contract"),
    [
        ("grant-role", {"role": "oracle", "account": WHO}, "ParticipantRegistry"),
        ("revoke-role", {"role": "DEFAULT_ADMIN", "account": WHO}, "ParticipantRegistry"),
        ("set-status", {"account": WHO, "status": "suspended"}, "ParticipantRegistry"),
        ("set-threshold", {"threshold": 3}, "TradeRegistry"),
        ("set-currency", {"currency": "EUR", "token": WHO}, "IssuanceDesk"),
        ("set-base-uri", {"uri": "https://x.example/"}, "ReceivableToken"),
        ("unpause", {"operations": "all", "reason": "over"}, "ParticipantRegistry"),
        ("upgrade", {"contract": "TradeRegistry", "implementation": WHO}, "TradeRegistry"),
        ("seat", {"operator": WHO}, "OperatorSeats"),
        ("unseat", {"operator": WHO}, "OperatorSeats"),
        ("set-approvals", {"approvals": 2}, "TierchainGovernor"),
        ("set-function-delay", {"function": "setThreshold(uint8)", "delay_seconds": 60}, "TierchainTimelock"),
        ("set-policy", {**POLICY_ARGS, "reason": "tighter"}, "ParticipantRegistry"),
        ("set-obligor-policy", {**POLICY_ARGS, "obligor": WHO, "reason": "group"}, "ParticipantRegistry"),
        ("clear-obligor-policy", {"obligor": WHO, "reason": "withdrawn"}, "ParticipantRegistry"),
        ("lift-suspension", {"obligor": WHO, "reason": "bank outage"}, "ParticipantRegistry"),
        (
            "set-bill-policy",
            {"bill_mode": True, "acceptance_window_seconds": 3 * 86_400, "reason": "签收"},
            "ParticipantRegistry",
        ),
    ],
)
def test_every_action_encodes_and_decodes_back(name: str, arguments: dict[str, Any], contract: str) -> None:
    action = parse_action(name, arguments)
    call = encode(action, ADDRESSES)
    assert call.contract == contract and call.target.lower() == ADDRESSES[contract]
    assert decode_call(call.target, call.data, ADDRESSES).action == action


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("make-coffee", {}, "unknown action 'make-coffee'; known: grant-role"),
        (
            "grant-role",
            {"role": "SUPPLIER", "account": WHO},
            "role: SUPPLIER is granted .* by the onboarding key",
        ),
        ("grant-role", {"role": "DESK", "account": WHO}, "role: DESK is bound .* once, at deployment"),
        ("grant-role", {"role": "ORACLE", "account": "0x12"}, "account: '0x12' is not an address"),
        (
            "set-threshold",
            {"threshold": 0},
            "set-threshold: threshold: Input should be greater than or equal to 1",
        ),
        ("set-currency", {"currency": "eur", "token": WHO}, "set-currency: currency: String should match"),
        ("unpause", {"operations": "moves, tea", "reason": "x"}, "operations: unknown operation 'tea'"),
        ("unpause", {"operations": "moves"}, "unpause: reason: Field required"),
        (
            "upgrade",
            {"contract": "SettlementToken", "implementation": WHO},
            "upgrade: contract: Input should be",
        ),
        ("seat", {"operator": WHO, "votes": 2}, "seat: votes: not an argument of this action"),
        (
            "set-policy",
            {**POLICY_ARGS, "max_tenor_days": 366, "reason": "x"},
            "set-policy: max_tenor_days: Input should be less than or equal to 365",
        ),
        ("lift-suspension", {"obligor": WHO}, "lift-suspension: reason: Field required"),
        (
            "set-function-delay",
            {"function": "nope", "delay_seconds": 1},
            "function: 'nope' is not a selector",
        ),
    ],
)
def test_a_bad_argument_is_named(name: str, arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ActionError, match=message):
        parse_action(name, arguments)


def test_a_call_outside_the_catalogue_shows_its_selector() -> None:
    call = decode_call(ADDRESSES["TradeRegistry"], bytes.fromhex("deadbeef"), ADDRESSES)
    assert call.action is None and call.name == "0xdeadbeef" and call.contract == "TradeRegistry"


def test_the_catalogue_matches_the_compiled_contracts(tierchain_build: CompileResult) -> None:
    from ledger.governance.actions import ACTIONS

    for name, cls in ACTIONS.items():
        target = "TradeRegistry" if cls.target == "<proxy>" else cls.target
        assert cls.signature in tierchain_build.artifacts[target].methodIdentifiers, name


def test_a_policy_change_names_only_what_changes(
    tierchain_client: TierchainClient, actors: dict[str, Signer]
) -> None:
    """`set-policy` with one field keeps the others as they are on-chain; `set-obligor-policy` starts
    from the policy that applies to that obligor; an action left incomplete is never encoded as is."""
    gov, admin = tierchain_client.governance, actors["admin"]
    before = tierchain_client.default_policy()
    depth = parse_action("set-policy", {"max_depth": 7, "reason": "seven tiers of pieces at most"})
    with pytest.raises(ActionError, match=r"max_tenor_days, long_tenor_days.* not given"):
        encode(depth, ADDRESSES)
    gov.enact(admin, [depth], "Depth seven")
    after = tierchain_client.default_policy()
    assert after.max_depth == 7
    assert dataclasses.replace(after, max_depth=before.max_depth) == before

    core = actors["core"].address
    own = parse_action(
        "set-obligor-policy", {"obligor": core, "trade_background": False, "reason": "closed-loop programme"}
    )
    gov.enact(admin, [own], "Core's own policy")
    mine = tierchain_client.policy_of(core)
    assert (mine.trade_background, mine.max_depth) == (False, 7)
    assert tierchain_client.policy_of(actors["tier1"].address) == after
