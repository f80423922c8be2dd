"""The aggregator's pipeline: each request chunk is broadcast as soon as it is collected, while the
later chunks are still waiting for the nodes, and a crash in the middle resumes without
submitting any document twice."""

from pathlib import Path
from typing import Any

import pytest

from ledger.journal import TxJournal
from oracles.canonical import fingerprint

pytestmark = pytest.mark.chain


def _attested_fingerprints(world: Any) -> list[str]:
    return ["0x" + bytes(e["args"]["fingerprint"]).hex() for e in world.attested_events()]


def test_a_chunk_is_broadcast_before_the_next_ones_are_collected(
    world: Any, start_node: Any, make_aggregator: Any, invoices: Any
) -> None:
    urls = [start_node(i).url for i in range(3)]
    docs = invoices(7)
    counts_at_broadcast: list[dict[str, int]] = []
    aggregator: Any = None

    def record(fingerprints: list[str]) -> None:
        counts_at_broadcast.append(aggregator.store.counts())

    aggregator = make_aggregator(urls, request_chunk=3, submit_chunk=3, on_submitted=record)
    report = aggregator.submit(docs)
    assert report.counts == {"attested": 7}
    # The first chunk went out while the four other documents were still pending.
    assert counts_at_broadcast[0] == {"signed": 3, "pending": 4}
    assert len(counts_at_broadcast) == 3
    fps = _attested_fingerprints(world)
    assert sorted(fps) == sorted(fingerprint(d.document) for d in docs)


class Crash(Exception):
    pass


def test_a_crash_mid_pipeline_resumes_without_double_submission(
    world: Any, start_node: Any, make_aggregator: Any, invoices: Any, tmp_path: Path
) -> None:
    urls = [start_node(i).url for i in range(3)]
    docs = invoices(7)
    chunks_sent: list[list[str]] = []

    def die_after_second_chunk(fingerprints: list[str]) -> None:
        chunks_sent.append(fingerprints)
        if len(chunks_sent) == 2:
            raise Crash

    first = make_aggregator(urls, request_chunk=3, submit_chunk=3, on_submitted=die_after_second_chunk)
    with pytest.raises(Crash):
        first.submit(docs)
    # The first chunk is recorded as submitted; the crash lost the second chunk's hashes (its
    # documents are still signed in the store); the third chunk was never decided.
    assert first.store.counts() == {"submitted": 3, "signed": 3, "pending": 1}
    journal = TxJournal(world.journal_path)
    for fp in chunks_sent[0] + chunks_sent[1]:
        entry = journal.get(f"attest:{fp}")
        assert entry is not None
        world.tx.wait_for_receipt(entry.tx_hash)
    journal.close()
    assert len(world.attested_events()) == 6
    first.store.close()

    restarted = make_aggregator(urls, request_chunk=3, submit_chunk=3)  # same store and journal
    assert restarted.run().counts == {"attested": 7}
    fps = _attested_fingerprints(world)
    assert len(fps) == 7 and sorted(fps) == sorted(fingerprint(d.document) for d in docs)
    assert restarted.submit(docs).counts == {"attested": 7}
    assert len(world.attested_events()) == 7
