"""The background pruner: a retention run every `every`, batch by batch on the writer thread, space returned after."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from notifbot.logs import OncePer
from notifbot.metrics import Metrics
from notifbot.store.retention import Counts, Pruning, Windows, reclaim_space, space, utc_now
from notifbot.store.runner import Database
from notifbot.tasks import stop_task

log = logging.getLogger("notifbot.store")
PAUSE_SECONDS = 0.01  # between two batches: whatever else waits for the writer goes first
FIRST_RUN_SECONDS = 60.0  # after start, at most this long before the first run
NOT_INCREMENTAL_LOG_SECONDS = 7 * 86400.0
LEASE = "retention"  # several replicas: the one holding this poller lease prunes


class Pruner:
    """Deletes what `windows` says is old, in short transactions the rest of the bot's writes interleave with.

    Each batch is its own call on the database's writer thread, followed by a short pause, so ingest and delivery
    wait at most one batch (milliseconds) for the writer. Freed pages go back to the filesystem a few MiB at a time
    when SQLite's auto_vacuum is incremental; PostgreSQL's autovacuum makes the space reusable on its own, and
    `reclaim_space` returns nothing there (store/space.py).
    """

    def __init__(
        self,
        db: Database,
        windows: Windows,
        every: float,
        metrics: Metrics | None = None,
        *,
        pause: float = PAUSE_SECONDS,
        first: float | None = None,
        gate: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        self._db = db
        self.windows = windows
        self._every = every
        self._metrics = metrics
        self._pause = pause
        self._first = min(every, FIRST_RUN_SECONDS) if first is None else first
        self._gate = gate  # says whether this replica runs retention now (None: always)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._not_incremental = OncePer(NOT_INCREMENTAL_LOG_SECONDS)
        self.runs = 0
        self.last: Counts = {}

    async def run_once(self) -> Counts:
        """One complete run: every batch, then the freed space; returns the rows deleted per table."""
        started = time.perf_counter()
        pruning = Pruning(self.windows, utc_now())
        batches = 0
        while not self._stopping:
            done = await self._db.call(pruning.step)
            if done is None:
                break
            batches += 1
            if self._metrics is not None:
                for table, n in done.items():
                    self._metrics.pruned.labels(table).inc(n)
            await asyncio.sleep(self._pause)
        returned = await self._reclaim()
        self.runs += 1
        self.last = dict(pruning.total)
        log.info(
            "retention: pruned %d rows in %d batches",
            sum(pruning.total.values()),
            batches,
            extra={
                "pruned": pruning.total,
                "seconds": round(time.perf_counter() - started, 3),
                "bytes_returned": returned,
            },
        )
        return self.last

    async def _reclaim(self) -> int:
        """Returns the free pages to the filesystem a slice at a time; bytes returned."""
        before = await self._db.call(space)
        if not before.incremental:
            if before.free and self._not_incremental.due():
                log.info(
                    "retention: freed pages are reused but not returned to the filesystem; run "
                    "`notifbot prune --vacuum` once with the bot stopped to make the database shrink after pruning",
                    extra={"free_bytes": before.free * before.page_size},
                )
            return 0
        total = 0
        while not self._stopping:
            n = await self._db.call(reclaim_space)
            if n <= 0:
                break
            total += n
            await asyncio.sleep(self._pause)
        return total * before.page_size

    async def _forever(self) -> None:
        await asyncio.sleep(self._first)
        while not self._stopping:
            try:
                if self._gate is None or await self._gate(LEASE):
                    await self.run_once()
            except Exception:
                log.exception("retention run failed; the next one tries again")
            await asyncio.sleep(self._every)

    async def __aenter__(self) -> Pruner:
        """Starts the runs in the background."""
        self._task = asyncio.create_task(self._forever(), name="retention")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stopping = True  # a batch under way finishes (its transaction commits); no new one starts
        await stop_task(self._task)
