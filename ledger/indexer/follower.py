"""The follower: keep the database at the chain's head, forever, and stop loudly when that fails.

Each round syncs to the head, then sleeps the network's poll interval (or until asked to stop). RPC
failures are retried with backoff inside `ledger.rpc.with_retries`; if the node stays unreachable
the round fails, the error is logged and the next round tries again. A watchdog raises `StallError`
when the loop makes no progress for `stall_seconds`: the cursor stuck behind a known head, or the
head itself frozen on a chain that is supposed to produce blocks. `DeepReorgError` is never retried.
Restarting resumes from the cursor stored in the database.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from ledger.compile import load_abis
from ledger.config import NetworkConfig, Settings, load_network
from ledger.errors import ChainUnavailable
from ledger.indexer.db import make_engine, upgrade
from ledger.indexer.errors import DeepReorgError, IndexerError, StallError
from ledger.indexer.ingest import Indexer, SyncStats
from ledger.indexer.manifest import load_manifest
from ledger.indexer.source import RpcSource
from ledger.localchain import rpc_urls

log = logging.getLogger(__name__)


@dataclass
class Watchdog:
    """Remembers when rounds last succeeded and when head and cursor last moved; `check` raises once
    the loop is stuck for `stall_seconds`: rounds failing, the cursor stuck behind the head, or (on
    chains that must produce blocks) the head frozen."""

    stall_seconds: float | None
    head_must_advance: bool
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        now = self.clock()
        self._head, self._cursor = -1, -1
        self._ok = self._head_moved = self._cursor_moved = now

    def observe(self, head: int, cursor: int) -> None:
        """Record a successful round."""
        now = self.clock()
        self._ok = now
        if head != self._head:
            self._head, self._head_moved = head, now
        if cursor != self._cursor or cursor >= head:
            self._cursor, self._cursor_moved = cursor, now

    def check(self) -> None:
        if self.stall_seconds is None:
            return
        now = self.clock()
        if now - self._ok > self.stall_seconds:
            raise StallError(f"no successful sync round for {now - self._ok:.0f}s")
        if now - self._cursor_moved > self.stall_seconds:
            raise StallError(
                f"no indexing progress for {now - self._cursor_moved:.0f}s (cursor {self._cursor}, "
                f"head {self._head})"
            )
        if self.head_must_advance and now - self._head_moved > self.stall_seconds:
            raise StallError(f"chain head stuck at {self._head} for {now - self._head_moved:.0f}s")


def follow(
    indexer: Indexer,
    *,
    poll_interval: float,
    stop: threading.Event,
    watchdog: Watchdog,
    once: bool = False,
) -> SyncStats:
    """Sync until `stop` is set (or once); returns the totals. Raises StallError and DeepReorgError."""
    total = SyncStats()
    while not stop.is_set():
        try:
            stats = indexer.sync()
        except DeepReorgError:
            log.error("deep reorg: the indexer stops; re-index from scratch once the chain is settled")
            raise
        except ChainUnavailable as exc:
            log.error("sync round failed error=%s", exc)
            if once:
                raise
        else:
            total.ranges += stats.ranges
            total.events += stats.events
            total.reorgs += stats.reorgs
            total.reorg_depths += stats.reorg_depths
            total.head, total.cursor = stats.head, stats.cursor
            watchdog.observe(stats.head, stats.cursor)
            if stats.ranges or stats.reorgs:
                log.info(
                    "synced head=%d cursor=%d events=%d reorgs=%d seconds=%.2f",
                    stats.head,
                    stats.cursor,
                    stats.events,
                    stats.reorgs,
                    stats.seconds,
                )
        if once:
            break
        try:
            watchdog.check()
        except StallError as exc:
            log.error("indexer stalled: %s", exc)
            raise
        stop.wait(poll_interval)
    return total


def default_stall_seconds(network: NetworkConfig) -> float | None:
    """A chain that mines on a timer must move; an automine anvil sits still while idle, legitimately."""
    if network.anvil is not None and network.anvil.block_time_seconds is None:
        return None
    return max(120.0, 60 * network.poll_interval_seconds)


def run_indexer(
    settings: Settings,
    network: str | NetworkConfig | None = None,
    once: bool = False,
    *,
    chunk_size: int = 2000,
    stall_seconds: float | None = -1.0,
    max_reorg_depth: int | None = None,
    stop: threading.Event | None = None,
) -> SyncStats:
    """Migrate the database, then index the network's deployment: one pass (`once`) or follow the head.

    `stall_seconds=-1` picks `default_stall_seconds(network)`; None disables the watchdog. SIGINT and
    SIGTERM stop the loop after the current range (when called from the main thread).
    """
    config = network if isinstance(network, NetworkConfig) else load_network(settings, network)
    deployment = load_manifest(settings, config.name)
    if deployment.chain_id != config.chain_id:
        raise IndexerError(
            f"deployment manifest is for chain {deployment.chain_id}; "
            f"network {config.name} is chain {config.chain_id}"
        )

    abis = load_abis(settings.build_dir)
    assert settings.database_url is not None
    engine = make_engine(settings.database_url)
    upgrade(engine)
    source = RpcSource(rpc_urls(config, settings.data_dir))
    indexer = Indexer(
        engine,
        source,
        deployment,
        abis,
        max_reorg_depth=config.confirmations if max_reorg_depth is None else max_reorg_depth,
        chunk_size=chunk_size,
    )
    stop = stop or threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread() and not once:

        def request_stop(signum: int, _frame: FrameType | None) -> None:
            log.info("stop requested signal=%d", signum)
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, request_stop)
    watchdog = Watchdog(
        default_stall_seconds(config) if stall_seconds == -1.0 else stall_seconds,
        head_must_advance=not (config.anvil is not None and config.anvil.block_time_seconds is None),
    )
    log.info(
        "indexer starting network=%s chain_id=%d deployment=%s once=%s",
        config.name,
        config.chain_id,
        deployment.key,
        once,
    )
    try:
        return follow(
            indexer, poll_interval=config.poll_interval_seconds, stop=stop, watchdog=watchdog, once=once
        )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        source.close()
        engine.dispose()
