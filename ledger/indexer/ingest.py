"""Ingestion: logs of the deployed contracts, range by range, into the database, safely across reorgs.

Each range [cursor + 1, cursor + chunk] is read with one eth_getLogs over every contract address,
decoded, written (raw events, projections, block hashes) and the cursor advanced in ONE database
transaction: a crash at any point leaves either the whole range or none of it. Events are identified
by (chain_id, block_hash, tx_hash, log_index) and an event already stored is skipped, so applying a
block twice changes nothing.

Reorgs. Headers of the last `keep_blocks` blocks are stored. Before a range is written, the stored hash
of the cursor block is compared with the chain, the logs' block hashes with the headers fetched after
them, and the parent-hash chain across the recent blocks is checked. On a mismatch the indexer walks the
stored headers down to the highest one the chain still has (the common ancestor), and in one
transaction deletes the events above it and rebuilds every projection by replaying the stored raw
events from the start. Replaying is O(history) but reorgs are rare, it needs no undo log, and it is
obviously right: projections are a pure function of the canonical events (the tests compare a
reorged database with a fresh replay table by table). A reorg deeper than `max_reorg_depth`
(the network's confirmations) raises `DeepReorgError` instead: those blocks were reported final.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, delete, insert, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from ledger.indexer.decode import DecodedLog, EventDecoder, RawLog
from ledger.indexer.errors import DeepReorgError, IndexerError
from ledger.indexer.manifest import IndexedDeployment
from ledger.indexer.models import PROJECTION_TABLES, Block, Cursor, Event
from ledger.indexer.project import EventRecord, Projector
from ledger.indexer.source import ChainSource, Header

log = logging.getLogger(__name__)


@dataclass
class SyncStats:
    ranges: int = 0
    events: int = 0
    reorgs: int = 0
    retries: int = 0
    head: int = -1
    cursor: int = -1
    seconds: float = 0.0
    reorg_depths: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class StepResult:
    """What one step did: `advanced` is False when nothing was written (caught up, or retry)."""

    advanced: bool
    events: int = 0
    reorg_depth: int | None = None


class Indexer:
    """Indexes one deployment into one database."""

    def __init__(
        self,
        engine: Engine,
        source: ChainSource,
        deployment: IndexedDeployment,
        abis: Mapping[str, Sequence[Mapping[str, Any]]],
        *,
        max_reorg_depth: int,
        chunk_size: int = 2000,
        keep_blocks: int | None = None,
        flush_every: int = 5000,
    ) -> None:
        self.engine = engine
        self.source = source
        self.deployment = deployment
        self.chain_id = deployment.chain_id
        self.key = deployment.key
        self.decoder = EventDecoder(deployment.indexed(), abis)
        self.addresses = self.decoder.addresses
        self.max_reorg_depth = max_reorg_depth
        self.chunk_size = chunk_size
        # Enough headers to find the ancestor of any reorg we are prepared to repair, and then some.
        self.keep_blocks = keep_blocks or max_reorg_depth + 64
        self.flush_every = flush_every

    # ---------------------------------------------------------------- cursor

    def cursor(self) -> Cursor:
        """The cursor row, created on first use just below the deployment block."""
        with Session(self.engine) as session:
            row = session.get(Cursor, (self.chain_id, self.key))
            if row is not None:
                session.expunge(row)
                return row
            other = session.exec(select(Cursor)).first()
            if other is not None:
                raise IndexerError(
                    f"this database indexes chain {other.chain_id} deployment {other.deployment!r}, not "
                    f"chain {self.chain_id} deployment {self.key!r}; use another database or reset it"
                )
        start = self.deployment.start_block
        row = Cursor(chain_id=self.chain_id, deployment=self.key, start_block=start, block_number=start - 1)
        anchor = self.source.headers([start - 1]).get(start - 1) if start > 0 else None
        with Session(self.engine) as session, session.begin():
            if anchor is not None:
                row.block_hash = anchor.hash
                session.add(self._block_row(anchor))
            row.updated_at = int(time.time())
            session.add(row)
        log.info("cursor created chain_id=%d deployment=%s start_block=%d", self.chain_id, self.key, start)
        return self.cursor()

    def _block_row(self, header: Header) -> Block:
        return Block(
            chain_id=self.chain_id,
            number=header.number,
            hash=header.hash,
            parent_hash=header.parent_hash,
            timestamp=header.timestamp,
        )

    # ---------------------------------------------------------------- sync

    def sync(self, target: int | None = None, *, max_ranges: int | None = None) -> SyncStats:
        """Index up to `target` (default: the head as it is now); returns what was done.

        A reorg deeper than the confirmations raises `DeepReorgError` and records why on the cursor
        (`Cursor.halted`), for every process reading this database; the next sync that succeeds
        clears it."""
        try:
            return self._sync(target, max_ranges)
        except DeepReorgError as exc:
            self._record_halt(f"the indexer stopped: {exc}"[:1000])
            raise

    def _record_halt(self, reason: str | None) -> None:
        with Session(self.engine) as session, session.begin():
            row = session.get(Cursor, (self.chain_id, self.key))
            if row is not None:
                row.halted = reason
        if reason is not None:
            log.error("indexer halted reason=%s", reason)

    def _sync(self, target: int | None, max_ranges: int | None) -> SyncStats:
        started = time.monotonic()
        stats = SyncStats()
        head = self.source.head()
        stats.head = head
        goal = head if target is None else min(target, head)
        idle_checks = 0
        while max_ranges is None or stats.ranges < max_ranges:
            cursor = self.cursor()
            if cursor.block_number >= goal:
                if idle_checks == 0:
                    # Caught up: still make sure the tip we hold is the chain's (a same-height reorg).
                    idle_checks += 1
                    result = self.step(goal)
                    if result.reorg_depth is not None:
                        stats.reorgs += 1
                        stats.reorg_depths.append(result.reorg_depth)
                        continue
                break
            result = self.step(goal)  # a target below the head is a hard stop
            if result.reorg_depth is not None:
                stats.reorgs += 1
                stats.reorg_depths.append(result.reorg_depth)
            elif result.advanced:
                stats.ranges += 1
                stats.events += result.events
            else:
                stats.retries += 1
                if stats.retries > 10:
                    raise IndexerError(f"range after block {cursor.block_number} stays inconsistent")
                head = self.source.head()
                goal = head if target is None else min(target, head)
        final = self.cursor()
        stats.cursor = final.block_number
        if final.halted is not None:
            self._record_halt(None)  # indexing goes on: the stop is over
        stats.seconds = time.monotonic() - started
        return stats

    def step(self, head: int) -> StepResult:
        """Index the next range up to `head`, or repair a reorg found on the way; one transaction."""
        cursor = self.cursor()
        start = cursor.block_number + 1
        end = min(start + self.chunk_size - 1, head)
        raws = self.source.logs(start, end, self.addresses) if start <= end else []
        wanted = {r.block_number for r in raws}
        if start <= end:
            wanted |= {end, *range(max(start, head - self.keep_blocks + 1), end + 1)}
        if cursor.block_hash is not None:
            wanted.add(cursor.block_number)
        headers = self.source.headers(sorted(wanted))

        if cursor.block_hash is not None:
            held = headers.get(cursor.block_number)
            if held is None or held.hash != cursor.block_hash:
                return StepResult(advanced=False, reorg_depth=self.recover(cursor))
        if start > end:
            return StepResult(advanced=False)
        problem = self._inconsistency(raws, headers, sorted(wanted), end)
        if problem is not None:
            log.warning("range inconsistent, retrying from=%d to=%d problem=%s", start, end, problem)
            return StepResult(advanced=False)
        decoded = [d for d in (self.decoder.decode(r) for r in raws) if d is not None]
        applied = self._commit(cursor, start, end, decoded, headers)
        log.info("range indexed from=%d to=%d logs=%d applied=%d", start, end, len(decoded), applied)
        return StepResult(advanced=True, events=applied)

    @staticmethod
    def _inconsistency(
        raws: Sequence[RawLog], headers: Mapping[int, Header], numbers: Sequence[int], end: int
    ) -> str | None:
        """Why the logs and headers read for a range do not describe one chain, or None if they do."""
        if end not in headers:
            return f"block {end} is gone"
        for raw in raws:
            header = headers.get(raw.block_number)
            if header is None or header.hash != raw.block_hash:
                return f"log of block {raw.block_number} is from block {raw.block_hash}"
        for number in numbers:
            previous = headers.get(number - 1)
            header = headers.get(number)
            if previous is not None and header is not None and header.parent_hash != previous.hash:
                return f"block {number} does not follow block {number - 1}"
        return None

    def _locked_cursor(self, session: Session, expected: Cursor) -> Cursor:
        """The cursor row, locked for this transaction; refuses to go on if another writer moved it."""
        row = session.exec(
            select(Cursor)
            .where(Cursor.chain_id == self.chain_id, Cursor.deployment == self.key)
            .with_for_update()
        ).one()
        if (row.block_number, row.block_hash) != (expected.block_number, expected.block_hash):
            raise IndexerError(f"cursor moved under us (another indexer?): {row.block_number} != expected")
        return row

    def _commit(
        self,
        cursor: Cursor,
        start: int,
        end: int,
        decoded: Sequence[DecodedLog],
        headers: Mapping[int, Header],
    ) -> int:
        with Session(self.engine) as session, session.begin():
            row = self._locked_cursor(session, cursor)
            present = set(
                session.exec(
                    select(Event.block_hash, Event.tx_hash, Event.log_index).where(
                        Event.chain_id == self.chain_id,
                        col(Event.block_number) >= start,
                        col(Event.block_number) <= end,
                    )
                ).all()
            )
            fresh = [d for d in decoded if (d.raw.block_hash, d.raw.tx_hash, d.raw.log_index) not in present]
            for number in sorted(n for n in headers if n >= start):
                session.merge(self._block_row(headers[number]))
            projector = Projector(session)
            for chunk in _chunks(fresh, self.flush_every):
                rows = [self._event_row(d, headers) for d in chunk]
                ids = session.execute(
                    insert(Event).returning(col(Event.id), sort_by_parameter_order=True), rows
                )
                for event_id, values in zip(ids.scalars(), rows, strict=True):
                    projector.apply(_record(event_id, values))
                projector.flush()
            row.block_number = end
            row.block_hash = headers[end].hash
            row.updated_at = int(time.time())
            session.add(row)
            session.exec(
                delete(Block).where(
                    col(Block.chain_id) == self.chain_id, col(Block.number) < end - self.keep_blocks
                )
            )
        return len(fresh)

    def _event_row(self, d: DecodedLog, headers: Mapping[int, Header]) -> dict[str, Any]:
        raw = d.raw
        return {
            "chain_id": self.chain_id,
            "block_number": raw.block_number,
            "block_hash": raw.block_hash,
            "block_timestamp": headers[raw.block_number].timestamp,
            "tx_hash": raw.tx_hash,
            "log_index": raw.log_index,
            "address": raw.address,
            "contract": d.contract,
            "name": d.name,
            "args": d.args,
        }

    # ---------------------------------------------------------------- reorgs

    def recover(self, cursor: Cursor) -> int:
        """Roll back to the common ancestor with the chain and rebuild; returns the reorg depth."""
        with Session(self.engine) as session:
            stored = session.exec(
                select(Block).where(Block.chain_id == self.chain_id).order_by(col(Block.number).desc())
            ).all()
        chain = self.source.headers([b.number for b in stored])
        ancestor = next(
            (b for b in stored if (h := chain.get(b.number)) is not None and h.hash == b.hash), None
        )
        if ancestor is None:
            raise DeepReorgError(
                f"chain {self.chain_id}: none of the {len(stored)} stored blocks up to {cursor.block_number} "
                "is on the chain any more; re-index from scratch",
                max_depth=self.max_reorg_depth,
            )
        depth = cursor.block_number - ancestor.number
        if depth > self.max_reorg_depth:
            raise DeepReorgError(
                f"chain {self.chain_id}: reorg of depth {depth} (common ancestor {ancestor.number}, cursor "
                f"{cursor.block_number}) exceeds the confirmation depth {self.max_reorg_depth}",
                depth=depth,
                max_depth=self.max_reorg_depth,
            )
        log.warning(
            "reorg detected chain_id=%d depth=%d ancestor=%d ancestor_hash=%s cursor=%d",
            self.chain_id,
            depth,
            ancestor.number,
            ancestor.hash,
            cursor.block_number,
        )
        with Session(self.engine) as session, session.begin():
            row = self._locked_cursor(session, cursor)
            clear_projections(session)  # first: their rows point at the events about to go
            dropped = session.exec(
                delete(Event).where(
                    col(Event.chain_id) == self.chain_id, col(Event.block_number) > ancestor.number
                )
            ).rowcount
            session.exec(
                delete(Block).where(col(Block.chain_id) == self.chain_id, col(Block.number) > ancestor.number)
            )
            row.block_number, row.block_hash = ancestor.number, ancestor.hash
            row.updated_at = int(time.time())
            session.add(row)
            session.flush()
            replayed = self.rebuild_projections(session)
        log.warning("reorg repaired dropped_events=%d replayed_events=%d", dropped, replayed)
        return depth

    def rebuild_projections(self, session: Session) -> int:
        """Empty every projection table and replay the stored events into it; inside the caller's tx."""
        return rebuild_projections(session, self.chain_id, self.flush_every)


def rebuild_projections(session: Session, chain_id: int, batch: int = 5000) -> int:
    """Replay every stored event of `chain_id`, in chain order, into emptied projection tables."""
    clear_projections(session)
    projector = Projector(session)
    count = 0
    for events in _stored_events(session, chain_id, batch):
        for event in events:
            projector.apply(event)
        projector.flush()
        count += len(events)
    return count


def clear_projections(session: Session) -> None:
    for model in PROJECTION_TABLES:
        session.exec(delete(model))


def _record(event_id: int, values: Mapping[str, Any]) -> EventRecord:
    return EventRecord(
        id=event_id,
        block_number=values["block_number"],
        block_timestamp=values["block_timestamp"],
        tx_hash=values["tx_hash"],
        log_index=values["log_index"],
        contract=values["contract"],
        name=values["name"],
        args=values["args"],
    )


def _stored_events(session: Session, chain_id: int, batch: int) -> Iterator[list[EventRecord]]:
    """Stored events in (block, log index) order, a page at a time (keyset pagination)."""
    last: tuple[int, int] | None = None
    table = Event.__table__  # type: ignore[attr-defined]
    while True:
        query = sa_select(table).where(table.c.chain_id == chain_id)
        if last is not None:
            query = query.where(
                or_(
                    table.c.block_number > last[0],
                    and_(table.c.block_number == last[0], table.c.log_index > last[1]),
                )
            )
        result = session.execute(query.order_by(table.c.block_number, table.c.log_index).limit(batch))
        page = [_record(row.id, dict(row._mapping)) for row in result]
        if not page:
            return
        yield page
        last = (page[-1].block_number, page[-1].log_index)


def _chunks(items: Sequence[DecodedLog], size: int) -> Iterator[Sequence[DecodedLog]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


__all__ = ["Indexer", "StepResult", "SyncStats", "rebuild_projections"]
