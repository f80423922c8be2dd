"""A journal or a work store that cannot write (SQLITE_FULL, from `PRAGMA max_page_count`) refuses with
an error naming the file and the cause, keeps nothing half-written, and works again once space returns."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.errors import NotPersisted
from ledger.journal import JournalEntry, TxJournal
from oracles.errors import StoreError, StoreWriteFailed
from oracles.store import NodeRecord, NodeStore


def _entry(key: str) -> JournalEntry:
    return JournalEntry(
        key=key,
        sender="0x" + "11" * 20,
        nonce=7,
        tx_hash="0x" + "22" * 32,
        raw_tx="0x" + "ab" * 2000,
        status="signed",
    )


def _fill(db: object) -> None:
    pages = db.execute("PRAGMA page_count").fetchone()[0]  # type: ignore[attr-defined]
    db.execute(f"PRAGMA max_page_count = {pages}")  # type: ignore[attr-defined]


def test_a_journal_that_cannot_grow_refuses_to_record_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with TxJournal(path) as journal:
        journal.record(_entry("first"))
        _fill(journal._db)
        with pytest.raises(NotPersisted) as caught:
            journal.record_many([_entry(f"k{i}") for i in range(50)])
        assert str(path) in str(caught.value) and "disk is full" in str(caught.value)
        assert caught.value.full and caught.value.path == str(path)
        assert journal.get_many([f"k{i}" for i in range(50)]) == {}  # all or nothing
        assert not journal._db.in_transaction
        journal._db.execute("PRAGMA max_page_count = 1073741823")
        journal.record(_entry("k0"))
        journal.set_status("k0", "sent")
        assert journal.get("k0").status == "sent"  # type: ignore[union-attr]
    with TxJournal(path) as reopened:
        assert reopened.get("first") is not None and reopened.get("k1") is None


def test_a_key_already_journaled_is_still_a_value_error_not_a_storage_error(tmp_path: Path) -> None:
    with TxJournal(tmp_path / "journal.sqlite") as journal:
        journal.record(_entry("k"))
        with pytest.raises(ValueError, match="already journaled"):
            journal.record(_entry("k"))


def test_a_node_store_that_cannot_grow_refuses_the_answer(tmp_path: Path) -> None:
    path = tmp_path / "node.sqlite"
    store = NodeStore(path)
    record = NodeRecord(
        fingerprint="0x" + "33" * 32,
        content_hash="0x" + "44" * 32,
        deadline=1,
        status="refused",
        verdict={"note": "x" * 5000},
        refusals=[],
    )
    _fill(store._db)
    with pytest.raises(StoreWriteFailed) as caught:
        store.put_many([record])
    assert isinstance(caught.value, StoreError) and isinstance(caught.value, NotPersisted)
    assert str(path) in str(caught.value) and "disk is full" in str(caught.value)
    assert store.count() == 0
    store._db.execute("PRAGMA max_page_count = 1073741823")
    store.put_many([record])
    assert store.count() == 1
    store.close()
