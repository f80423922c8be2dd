"""The aggregator against anvil and three HTTP oracle nodes, 2-of-3: quorum, faults and restarts."""

from pathlib import Path
from typing import Any

import pytest

from ledger.journal import TxJournal
from ledger.localchain import free_port
from oracles.attestation import AttestationMessage
from oracles.canonical import fingerprint
from oracles.node import OracleNode

pytestmark = pytest.mark.chain


class TamperingNode(OracleNode):
    """Signs a message with the amount raised by one: a valid signature over the wrong data."""

    def sign(self, message: AttestationMessage) -> str:
        return super().sign(message.model_copy(update={"amount": message.amount + 1}))


def _down() -> str:
    return f"http://127.0.0.1:{free_port()}"


def _attested_fingerprints(world: Any) -> list[str]:
    return ["0x" + bytes(e["args"]["fingerprint"]).hex() for e in world.attested_events()]


def test_all_nodes_up_attests_on_chain(
    world: Any, start_node: Any, make_aggregator: Any, invoices: Any
) -> None:
    docs = invoices(5)
    aggregator = make_aggregator([start_node(i).url for i in range(3)])
    report = aggregator.submit(docs)
    assert report.counts == {"attested": 5}
    assert sorted(_attested_fingerprints(world)) == sorted(fingerprint(d.document) for d in docs)
    record = world.ledger().document(fingerprint(docs[0].document))
    item = aggregator.status(fingerprint(docs[0].document))
    assert item is not None and item.message is not None and record is not None
    assert record.matches(item.message) and len(item.signatures) == 3 and item.tx_hash is not None


def test_one_node_down_still_reaches_quorum(
    world: Any, start_node: Any, make_aggregator: Any, invoices: Any
) -> None:
    report = make_aggregator([start_node(0).url, _down(), start_node(2).url]).submit(invoices(3))
    assert report.counts == {"attested": 3}
    assert len(world.attested_events()) == 3


def test_signature_over_tampered_data_is_not_counted(
    world: Any, start_node: Any, make_aggregator: Any, invoices: Any
) -> None:
    urls = [start_node(0).url, start_node(1, TamperingNode).url, start_node(2).url]
    aggregator = make_aggregator(urls)
    docs = invoices(2)
    assert aggregator.submit(docs).counts == {"attested": 2}
    item = aggregator.status(fingerprint(docs[0].document))
    assert item is not None and set(item.signatures) == {world.oracles[0].address, world.oracles[2].address}
    (event,) = [
        e for e in world.attested_events() if "0x" + bytes(e["args"]["fingerprint"]).hex() == item.fingerprint
    ]
    assert world.oracles[1].address not in event["args"]["signers"]


def test_one_honest_node_is_not_a_quorum(
    world: Any, start_node: Any, make_aggregator: Any, invoices: Any
) -> None:
    aggregator = make_aggregator([start_node(0).url, start_node(1, TamperingNode).url, _down()])
    doc = invoices(1)[0]
    report = aggregator.submit([doc])
    assert report.counts == {"no_quorum": 1}
    assert "1 of 2 valid signatures" in report.no_quorum[fingerprint(doc.document)]
    assert world.attested_events() == []
    item = aggregator.status(fingerprint(doc.document))
    assert item is not None and item.tx_hash is None


def test_refused_documents_carry_the_nodes_reasons(
    world: Any, start_node: Any, make_aggregator: Any, make_invoice: Any, sign: Any, invoices: Any
) -> None:
    bad = sign(make_invoice(invoice_number="80000001", total_with_tax=1))
    good = invoices(1)[0]
    report = make_aggregator([start_node(i).url for i in range(3)]).submit([bad, good])
    assert report.counts == {"attested": 1, "refused": 1}
    assert report.refused[fingerprint(bad.document)] == "AMOUNT_MISMATCH"
    assert _attested_fingerprints(world) == [fingerprint(good.document)]


class Crash(Exception):
    pass


def test_restart_after_crash_attests_each_document_exactly_once(
    world: Any, start_node: Any, make_aggregator: Any, invoices: Any, tmp_path: Path
) -> None:
    urls = [start_node(i).url for i in range(3)]
    docs = invoices(7)
    chunks_sent: list[list[str]] = []

    def die_after_second_chunk(fingerprints: list[str]) -> None:
        chunks_sent.append(fingerprints)
        if len(chunks_sent) == 2:
            raise Crash

    first = make_aggregator(urls, submit_chunk=3, on_submitted=die_after_second_chunk)
    with pytest.raises(Crash):
        first.submit(docs)
    assert first.store.counts() == {"signed": 4, "submitted": 3}  # the crash lost the 2nd chunk's hashes
    # Both chunks were broadcast before the crash: wait for their receipts (the journal knows the hashes).
    journal = TxJournal(world.journal_path)
    for fp in chunks_sent[0] + chunks_sent[1]:
        entry = journal.get(f"attest:{fp}")
        assert entry is not None
        world.tx.wait_for_receipt(entry.tx_hash)
    journal.close()
    assert len(world.attested_events()) == 6
    first.store.close()

    restarted = make_aggregator(urls, submit_chunk=3)  # same store and journal files, new process state
    report = restarted.run()
    assert report.counts == {"attested": 7}
    fps = _attested_fingerprints(world)
    assert len(fps) == 7 and sorted(fps) == sorted(fingerprint(d.document) for d in docs)
    # Submitting the whole batch again changes nothing.
    assert restarted.submit(docs).counts == {"attested": 7}
    assert len(world.attested_events()) == 7


def test_a_hung_node_is_asked_no_more_once_it_timed_out(
    world: Any, start_node: Any, make_aggregator: Any, invoices: Any
) -> None:
    """A node that takes the connection and never answers costs the chunks in flight one timeout, not
    one timeout per chunk: after its first failure it is not asked again in the run; the two others
    make the quorum for every document."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []

    def hold() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)  # read nothing, answer nothing

    threading.Thread(target=hold, daemon=True).start()
    hung = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        aggregator = make_aggregator([start_node(0).url, hung, start_node(2).url], request_chunk=1)
        report = aggregator.submit(invoices(6))
        assert report.counts == {"attested": 6}
        # six chunks of one; the collecting window holds 2 chunks, so at most those were sent to it
        assert 1 <= len(accepted) <= 2, len(accepted)
    finally:
        listener.close()
        for conn in accepted:
            conn.close()
