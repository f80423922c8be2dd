"""The transaction journal in the API's database: what was signed for each idempotency key.

`ledger.journal.TxJournal` is a SQLite file under one host's data dir; with several API hosts a keyed
write whose first attempt failed after signing (a receipt timeout, a cut connection) may be retried on
another host, which must find the transaction already signed instead of signing a second one. Same
rules as `TxJournal`: an entry is written before broadcasting, and replaced only once dropped.
Entries are recorded under the signer's nonce lock (`api.nonces`), so two workers never race on a key.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from api.tables import tx_journal
from ledger.journal import JournalEntry, TxStatus

_FIELDS = ("key", "sender", "nonce", "tx_hash", "raw_tx", "status")


class DbTxJournal:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, key: str) -> JournalEntry | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(*(tx_journal.c[name] for name in _FIELDS)).where(tx_journal.c.key == key)
            ).first()
        return None if row is None else JournalEntry.model_validate(dict(row._mapping))

    def record(self, entry: JournalEntry) -> None:
        """Store a freshly signed transaction; replaces the entry only if the old one was dropped."""
        now = datetime.now(UTC)
        values = entry.model_dump()
        with self.engine.begin() as conn:
            old = conn.execute(select(tx_journal.c.status).where(tx_journal.c.key == entry.key)).scalar()
            if old is None:
                try:
                    conn.execute(insert(tx_journal).values(**values, created_at=now, updated_at=now))
                except IntegrityError as exc:
                    raise ValueError(f"idempotency key {entry.key!r} journaled meanwhile") from exc
                return
            if old != "dropped":
                raise ValueError(f"idempotency key {entry.key!r} already journaled with status {old}")
            conn.execute(
                update(tx_journal).where(tx_journal.c.key == entry.key).values(**values, updated_at=now)
            )

    def under(self, key: str) -> list[tuple[str, TxStatus]]:
        """(tx hash, status) of the entries journaled under `key` or keys derived from it (`key:…`,
        one per transaction of a multi-transaction write), oldest first, dropped and failed left out."""
        pattern = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ":%"
        c = tx_journal.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.tx_hash, c.status)
                .where(or_(c.key == key, c.key.like(pattern, escape="\\")))
                .where(c.status.not_in(("dropped", "failed")))
                .order_by(c.created_at)
            ).all()
        return [(str(row.tx_hash), row.status) for row in rows]

    def set_status(self, key: str, status: TxStatus) -> None:
        """Move `key` to `status`; an unknown key is ignored."""
        with self.engine.begin() as conn:
            conn.execute(
                update(tx_journal)
                .where(tx_journal.c.key == key)
                .values(status=status, updated_at=datetime.now(UTC))
            )
