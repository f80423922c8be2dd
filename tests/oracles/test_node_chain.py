"""Oracle nodes against a real TradeRegistry: verify, sign, answer repeats from the store, serve HTTP."""

from datetime import timedelta
from typing import Any

import httpx
import pytest

from ledger.localchain import free_port
from oracles.aggregator import NodeClient
from oracles.attestation import recover_attestation_signer
from oracles.canonical import fingerprint
from oracles.reasons import ReasonCode
from oracles.signatures import SignedDocument
from oracles.store import NodeStore
from oracles.testing_pki import issuing_crl
from oracles.trust import TrustStore

pytestmark = pytest.mark.chain


def test_node_signs_what_it_verified_and_persists_it(world: Any, start_node: Any, invoices: Any) -> None:
    server = start_node(0)
    signed = invoices(1)[0]
    answer = server.node.handle(signed.model_dump(mode="json"), deadline=2**40)
    assert answer.ok and answer.message is not None and answer.signature is not None
    assert answer.message.seller == world.seller and answer.message.buyer == world.buyer
    assert (
        recover_attestation_signer(answer.message, world.domain(), answer.signature)
        == world.oracles[0].address
    )
    stored = NodeStore(server.node.store.path).get(fingerprint(signed.document))
    assert stored is not None and stored.status == "signed" and stored.signature == answer.signature


def test_repeat_gets_the_same_answer(start_node: Any, invoices: Any) -> None:
    node = start_node(1).node
    payload = invoices(1)[0].model_dump(mode="json")
    first = node.handle(payload, deadline=2**40)
    assert node.handle(payload, deadline=2**40) == first
    assert node.store.count() == 1


def test_a_refused_document_is_verified_again_once_the_cause_is_fixed(
    start_node: Any, invoices: Any, pki: Any, now: Any
) -> None:
    node = start_node(0).node
    node.clock = lambda: now + timedelta(days=40)  # the trust store's CRL was due ten days before
    payload = invoices(1)[0].model_dump(mode="json")
    first = node.handle(payload, deadline=2**40)
    assert not first.ok and {r.code for r in first.refusals} == {ReasonCode.CRL_STALE}

    current = issuing_crl(pki.intermediate, pki.intermediate_key, {}, now + timedelta(days=39),
                          now + timedelta(days=69))  # fmt: skip
    node.trust = TrustStore([pki.root], [current])  # the operator published the CA's current CRL
    again = node.handle(payload, deadline=2**40)
    assert again.ok and again.signature is not None, again.refusals
    stored = node.store.get(fingerprint(SignedDocument.model_validate(payload).document))
    assert stored is not None and stored.status == "signed"


def test_http_sign_and_health(world: Any, start_node: Any, invoices: Any) -> None:
    server = start_node(2)
    health = httpx.get(f"{server.url}/health").json()
    assert health["address"] == world.oracles[2].address and health["status"] == "ok"
    docs = [d.model_dump(mode="json") for d in invoices(2)] + [{"document": {"kind": "invoice"}}]
    answers = NodeClient(server.url).sign(docs, deadline=2**40)
    assert [a.ok for a in answers] == [True, True, False]
    assert answers[2].refusals[0].code is ReasonCode.MALFORMED
    assert httpx.post(f"{server.url}/sign", content=b"{not json").status_code == 400
    assert httpx.get(f"{server.url}/nope").status_code == 404


def test_unregistered_seller_is_refused(start_node: Any, make_invoice: Any, sign: Any) -> None:
    node = start_node(0).node
    stranger = sign(make_invoice(seller_tax_id="914403007261824992"))
    answer = node.handle(stranger.model_dump(mode="json"), deadline=2**40)
    assert not answer.ok and answer.signature is None
    assert {r.code for r in answer.refusals} == {ReasonCode.UNKNOWN_SELLER}


def test_reused_invoice_in_new_format_is_refused_once_attested(
    world: Any,
    start_node: Any,
    make_aggregator: Any,
    invoices: Any,
    invoice_fields: Any,
    sign: Any,
    tmp_path: Any,
) -> None:
    servers = [start_node(i) for i in range(3)]
    original = invoices(1)[0]
    report = make_aggregator([s.url for s in servers]).submit([original])
    assert report.counts == {"attested": 1}
    # The same invoice printed differently: spaced tax id, text amounts, dotted date.
    reprinted_fields = invoice_fields(
        invoice_number=original.document.invoice_number,
        seller_tax_id="9131 0000 MA1F L0XX 1X",
        amount_without_tax="100,000.00",
        tax_amount="13,000.00",
        total_with_tax="113,000.00",
        issue_date="2026.03.01",
    )
    from oracles.documents import Invoice

    reprinted = sign(Invoice.model_validate(reprinted_fields))
    assert fingerprint(reprinted.document) == fingerprint(original.document)
    for server in servers:
        answer = server.node.handle(reprinted.model_dump(mode="json"), deadline=2**40)
        assert not answer.ok and {r.code for r in answer.refusals} == {ReasonCode.ALREADY_ATTESTED}
    # A fresh aggregator (another submitter) gets the nodes' refusals and submits nothing.
    again = make_aggregator([s.url for s in servers], db=tmp_path / "other.sqlite").submit([reprinted])
    assert again.counts == {"refused": 1}
    assert ReasonCode.ALREADY_ATTESTED.value in again.refused[fingerprint(original.document)]
    assert len(world.attested_events()) == 1


def test_node_down_is_a_request_error() -> None:
    from oracles.errors import NodeRequestError

    with pytest.raises(NodeRequestError):
        NodeClient(f"http://127.0.0.1:{free_port()}", timeout=1.0).sign([{}], deadline=1)


def test_batch_request_reads_the_chain_in_one_go_and_still_catches_reuse(
    start_node: Any, make_aggregator: Any, invoices: Any
) -> None:
    servers = [start_node(i) for i in range(3)]
    used, fresh = invoices(2)
    assert make_aggregator([s.url for s in servers]).submit([used]).counts == {"attested": 1}
    payloads = [d.model_dump(mode="json") for d in (used, fresh)]
    first, second = servers[0].node.handle_many(payloads, deadline=2**41)
    assert not first.ok and {r.code for r in first.refusals} == {ReasonCode.ALREADY_ATTESTED}
    assert second.ok
    # Nothing prefetched outlives the request.
    assert servers[0].node.ledger._prefetched_unused == set()
