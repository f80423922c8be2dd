"""The transaction journal: one persistent connection, batched writes, and the same guarantees."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ledger.journal import JournalEntry, TxJournal


def _entry(key: str, nonce: int = 0, status: str = "signed") -> JournalEntry:
    return JournalEntry.model_validate(
        {"key": key, "sender": "0x01", "nonce": nonce, "tx_hash": f"0x{nonce:064x}", "raw_tx": "0xf8",
         "status": status}
    )  # fmt: skip


def test_record_get_and_status(tmp_path: Path) -> None:
    with TxJournal(tmp_path / "j.sqlite") as journal:
        journal.record(_entry("a", 1))
        assert journal.get("a") == _entry("a", 1)
        assert journal.get("missing") is None
        journal.set_status("a", "sent")
        entry = journal.get("a")
        assert entry is not None and entry.status == "sent"


def test_a_taken_key_is_refused_unless_dropped(tmp_path: Path) -> None:
    journal = TxJournal(tmp_path / "j.sqlite")
    journal.record(_entry("a", 1))
    with pytest.raises(ValueError, match="already journaled with status signed"):
        journal.record(_entry("a", 2))
    journal.set_status("a", "dropped")
    journal.record(_entry("a", 3))
    entry = journal.get("a")
    assert entry is not None and entry.nonce == 3


def test_record_many_is_all_or_nothing(tmp_path: Path) -> None:
    journal = TxJournal(tmp_path / "j.sqlite")
    journal.record(_entry("taken"))
    with pytest.raises(ValueError, match="taken"):
        journal.record_many([_entry("x", 1), _entry("taken", 2), _entry("y", 3)])
    assert journal.get_many(["x", "y", "taken"]).keys() == {"taken"}
    journal.record_many([_entry(f"k{i}", i) for i in range(1200)])
    journal.set_status_many([f"k{i}" for i in range(1200)] + ["unknown"], "sent")
    found = journal.get_many([f"k{i}" for i in range(1200)])
    assert len(found) == 1200 and {e.status for e in found.values()} == {"sent"}
    journal.record_many([])
    journal.set_status_many([], "mined")


def test_another_process_sees_committed_rows(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    writer, reader = TxJournal(path), TxJournal(path)
    writer.record(_entry("a", 1))
    assert reader.get("a") == _entry("a", 1)
    writer.close()
    reopened = TxJournal(path)
    assert reopened.get("a") == _entry("a", 1)


def test_threads_share_one_journal(tmp_path: Path) -> None:
    journal = TxJournal(tmp_path / "j.sqlite")

    def work(i: int) -> None:
        journal.record(_entry(f"t{i}", i))
        journal.set_status(f"t{i}", "sent")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, range(400)))
    assert len(journal.get_many([f"t{i}" for i in range(400)])) == 400


def test_a_write_costs_well_under_a_millisecond(tmp_path: Path) -> None:
    """The reason the connection is kept: per-call connect + fsync made each write ~13 ms."""
    journal = TxJournal(tmp_path / "j.sqlite")
    start = time.perf_counter()
    for i in range(500):
        journal.record(_entry(f"p{i}", i))
        journal.set_status(f"p{i}", "sent")
    per_call = (time.perf_counter() - start) / 1000
    assert per_call < 0.002, f"{per_call * 1000:.2f} ms per journal write"
