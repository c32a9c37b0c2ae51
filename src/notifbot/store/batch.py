"""Group commit: concurrent ingest requests share one SQLite transaction, each awaiting its own result."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from notifbot.model import Notification
from notifbot.store.events import Accepted, Target, insert_notifications
from notifbot.store.runner import Database

Item = tuple[Notification, Sequence[Target]]


class IngestBatcher:
    """Collects submissions while a commit is running and writes them all in the next one."""

    def __init__(self, db: Database, *, max_batch: int = 500) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: list[tuple[list[Item], asyncio.Future[list[Accepted]]]] = []
        self._muted: dict[str, int] = {}
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, items: list[Item], muted: dict[str, int] | None = None) -> list[Accepted]:
        """Stores `items` (durably, once committed) and returns one Accepted per item, in order."""
        if muted:
            self._muted.update(muted)
        future: asyncio.Future[list[Accepted]] = asyncio.get_running_loop().create_future()
        self._queue.append((items, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all())
        return await future

    async def _flush_all(self) -> None:
        while self._queue:
            batch: list[tuple[list[Item], asyncio.Future[list[Accepted]]]] = []
            size = 0
            while self._queue and (not batch or size + len(self._queue[0][0]) <= self._max_batch):
                entry = self._queue.pop(0)
                batch.append(entry)
                size += len(entry[0])
            flat = [item for items, _ in batch for item in items]
            muted = {n.key: self._muted.pop(n.key) for n, _ in flat if n.key in self._muted}
            try:
                results = await self._db.call(insert_notifications, flat, muted)
            except Exception as exc:  # every waiter learns the commit failed; nothing was stored
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            start = 0
            for items, fut in batch:
                if not fut.done():
                    fut.set_result(results[start : start + len(items)])
                start += len(items)
